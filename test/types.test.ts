/**
 * Every supported field type, property-tested: values generated from the field's own schema
 * (`Arbitrary.make`) are written with `create` (and again with `bulkCreate`) and read back, on SQLite,
 * PostgreSQL and MariaDB/MySQL, and must come back equal to what was written.
 *
 * What "equal" means, per kind (see docs/column-types.md):
 * - floats: finite only (NaN / ±Infinity are a ValidationError); -0 is stored as 0.
 * - dates: UTC, millisecond precision, years 1000..9999.
 * - decimals: numerically equal (`BigDecimal.equals`); they come back normalised.
 * - optional fields: an absent key (or a key set to `undefined`) comes back absent; an
 *   optional *nullable* field comes back `null` (one NULL column cannot tell them apart).
 * - JSON: what the field's own schema encodes and decodes; `undefined` properties vanish
 *   and -0 becomes 0, exactly as with `JSON.stringify`.
 *
 * fast-check prints the seed and the shrunk counter-example of a failure. To replay one, run
 * with `FC_SEED=<seed>` (and raise `FC_RUNS` for a longer soak).
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Arbitrary, BigDecimal, Effect, FastCheck, Schema } from "effect"
import { Column, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

// ---------------------------------------------------------------------------
// Generators and comparison
// ---------------------------------------------------------------------------

const RUNS = Number(process.env.FC_RUNS ?? 25)
const fcOptions = {
  fastCheck: {
    numRuns: RUNS,
    ...(process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) })
  }
}

/**
 * Values of a schema: half from its default arbitrary (biased towards small and edge values),
 * half unbiased (spread over the whole range, e.g. dates across years 1000..9999 rather than
 * around 1970, 64-bit integers rather than small ones).
 */
const gen = <A, I, R>(schema: Schema.Schema<A, I, R>): FastCheck.Arbitrary<A> => {
  const arb = Arbitrary.make(schema)
  return FastCheck.oneof(arb, FastCheck.noBias(arb))
}

const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> => {
  if (typeof u !== "object" || u === null) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** A comparable form: decimals by normalised value, -0 as 0; dates stay dates. */
const canon = (u: unknown): unknown => {
  if (BigDecimal.isBigDecimal(u)) return { decimal: BigDecimal.format(BigDecimal.normalize(u)) }
  if (Object.is(u, -0)) return 0
  if (Array.isArray(u)) return u.map(canon)
  if (isPlainObject(u)) return Object.fromEntries(Object.entries(u).map(([k, v]) => [k, canon(v)]))
  return u
}

/** Keys holding `undefined` are not stored: optional fields read back absent, JSON drops them. */
const dropUndefined = (u: unknown): unknown => {
  if (Array.isArray(u)) return u.map(dropUndefined)
  if (isPlainObject(u)) {
    return Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined).map(([k, v]) => [k, dropUndefined(v)]))
  }
  return u
}

interface Sample<I, O extends { readonly id: number }> {
  readonly create: (input: I) => Effect.Effect<O, unknown, SqlClient.SqlClient>
  readonly read: (id: number) => Effect.Effect<O, unknown, SqlClient.SqlClient>
  readonly delete: (id: number) => Effect.Effect<unknown, unknown, SqlClient.SqlClient>
  readonly bulkCreate: (rows: Iterable<I>) => Effect.Effect<{ readonly inserted: number }, unknown, SqlClient.SqlClient>
  readonly list: (query: { readonly orderBy: ReadonlyArray<"-id">; readonly limit: number }) => Effect.Effect<
    { readonly records: ReadonlyArray<O> },
    unknown,
    SqlClient.SqlClient
  >
}

/**
 * create, then read: both return what was written (plus the generated id); then the same
 * through bulkCreate. Returns the record stored by bulkCreate (the one left in the table).
 */
const stored = <I extends object, O extends { readonly id: number }>(
  model: Sample<I, O>,
  input: I,
  expected: object = input
) =>
  Effect.gen(function*() {
    const created = yield* model.create(input)
    expect(created.id).toBeTypeOf("number")
    const read = yield* model.read(created.id)
    expect(canon(created)).toStrictEqual(canon({ id: created.id, ...(dropUndefined(expected) as object) }))
    expect(canon(read)).toStrictEqual(canon(created))
    // bulkCreate validates and encodes rows on a path of its own: it must store the same
    // (the first copy goes first: a field may be unique)
    yield* model.delete(created.id)
    expect(yield* model.bulkCreate([input])).toEqual({ inserted: 1 })
    const { records: [bulk] } = yield* model.list({ orderBy: ["-id"], limit: 1 })
    expect(canon({ ...bulk, id: created.id })).toStrictEqual(canon(created))
    // the stored copy (the same record under another id)
    return bulk!
  })

/** {@link stored}, as a property: fast-check fails a property that returns anything but `undefined` or `true`. */
const roundTrip = <I extends object, O extends { readonly id: number }>(
  model: Sample<I, O>,
  input: I,
  expected: object = input
) => Effect.asVoid(stored(model, input, expected))

/**
 * The parts of a failure the tests look at, as a plain object (vitest's diff of an Effect
 * error object itself can overflow the stack when an assertion fails).
 */
const summary = (error: unknown) => {
  const e = error as Readonly<Record<string, unknown>>
  return { _tag: e._tag, model: e.model, operation: e.operation, path: e.path, reason: e.reason }
}

/** A table with a generated integer id and one field, `value`. */
const single = <S extends Schema.Schema.Any>(value: S) =>
  Model.make("Sample", { id: Schema.Int, value }, { table: uniqueTable("sample"), timestamps: false })

// ---------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------

/** Any printable Unicode (multi-unit graphemes, astral code points). The library refuses NUL. */
const UnicodeText = Schema.String.annotations({
  arbitrary: () => (fc) => fc.string({ unit: "grapheme", maxLength: 60 }).filter((s) => !s.includes("\u0000"))
})
/** Fits the VARCHAR(255) a keyed string column becomes on MySQL. */
const KeyText = Schema.String.annotations({
  arbitrary: () => (fc) =>
    fc.string({ unit: "grapheme", maxLength: 255 }).filter((s) => [...s].length <= 255 && !s.includes("\u0000"))
})
const Short = Schema.String.pipe(Schema.maxLength(20))
const ShortUnicode = Schema.String.pipe(Schema.maxLength(20)).annotations({
  arbitrary: () => (fc) => fc.string({ unit: "grapheme", maxLength: 20 }).filter((s) => s.length <= 20)
})
const SafeInt = Schema.Int.pipe(Schema.between(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
/** Every finite double, not just the float32 values `Schema.Finite`'s default arbitrary makes. */
const Double = Schema.Finite.annotations({
  arbitrary: () => (fc) => fc.double({ noNaN: true, noDefaultInfinity: true })
})

const minDate = new Date("1000-01-01T00:00:00.000Z")
const maxDate = new Date("9999-12-31T23:59:59.999Z")
const StorableDate = Schema.ValidDateFromSelf.pipe(Schema.betweenDate(minDate, maxDate))
const StorableDateFromSelf = Schema.DateFromSelf.pipe(Schema.betweenDate(minDate, maxDate))
/** `Schema.Date` decodes from a string; as a field its type side (a Date) is what is stored. */
const StorableDateFromString = Schema.Date.pipe(Schema.betweenDate(minDate, maxDate))

const minInt64 = -(2n ** 63n)
const maxInt64 = 2n ** 63n - 1n
const Int64 = Schema.BigIntFromSelf.pipe(Schema.betweenBigInt(minInt64, maxInt64))

/** What the default decimal column holds everywhere (MySQL DECIMAL(65, 30)): ≤ 35 integer and ≤ 30 fraction digits. */
const fitsDecimal = (integerDigits: number, fractionDigits: number) => (d: BigDecimal.BigDecimal) => {
  const n = BigDecimal.normalize(d)
  const digits = (n.value < 0n ? -n.value : n.value).toString().length
  return n.scale <= fractionDigits && digits - Math.max(n.scale, 0) <= integerDigits
}
/** Decimals spread over every digit count the column holds (the default arbitrary is mostly far larger). */
const decimalArbitrary = (integerDigits: number, fractionDigits: number) => (fc: typeof FastCheck) =>
  fc.integer({ min: -5, max: fractionDigits }).chain((scale) => {
    const bound = 10n ** BigInt(integerDigits + scale)
    return fc.bigInt({ min: -bound + 1n, max: bound - 1n }).map((value) => BigDecimal.make(value, scale))
  }).filter(fitsDecimal(integerDigits, fractionDigits))
const Decimal = Schema.BigDecimalFromSelf.pipe(
  Schema.filter(fitsDecimal(35, 30)),
  Schema.annotations({ arbitrary: () => decimalArbitrary(35, 30) })
)
/**
 * The default BigDecimal arbitrary, filtered down to what fits (biased only: unbiased, its
 * values are almost never small enough, and the filter would spin).
 */
const DecimalDefaultArbitrary = Schema.BigDecimalFromSelf.pipe(Schema.filter(fitsDecimal(35, 30)))
/** `DECIMAL(12, 2)` in a column named `amount_cents_x`: 10 integer digits, 2 fraction digits. */
const Money = Schema.BigDecimalFromSelf.pipe(
  Schema.filter(fitsDecimal(10, 2)),
  Schema.annotations({ arbitrary: () => decimalArbitrary(10, 2) }),
  Column.annotate({ precision: 12, scale: 2, name: "amount_cents_x" })
)

const Status = Schema.Literal("draft", "published", "archived")
enum Color {
  Red = "red",
  Green = "green",
  LongerBlue = "longer blue"
}

const Point = Schema.Struct({ x: Schema.Finite, y: Schema.Int })
const Nested = Schema.Struct({
  name: UnicodeText,
  tags: Schema.Array(Schema.String),
  point: Point,
  flag: Schema.Boolean,
  note: Schema.NullOr(Schema.String),
  extra: Schema.optional(Schema.String),
  children: Schema.Array(Schema.Struct({ id: Schema.Int, path: Schema.Array(Schema.Int) }))
})
const Shape = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("circle"), radius: Schema.Finite }),
  Schema.Struct({ kind: Schema.Literal("rect"), width: Schema.Finite, height: Schema.Finite }),
  Schema.Struct({ kind: Schema.Literal("label"), text: Schema.String, at: Schema.optional(Point) })
)
/** Fields whose JSON encoding differs from their type: the field's own codec is used. */
const Encoded = Schema.Struct({
  at: Schema.Date,
  amount: Schema.BigDecimal,
  big: Schema.BigInt,
  when: Schema.optional(Schema.DateFromNumber.pipe(Schema.betweenDate(minDate, maxDate)))
})

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

forEachDatabase("types", (it, db) => {
  // -- string ---------------------------------------------------------------

  const PlainText = single(Schema.String)
  it.effect.prop("string: Schema.String (TEXT)", { value: gen(Schema.String) }, ({ value }) =>
    roundTrip(PlainText, { value }), fcOptions)

  const Unicode = single(UnicodeText)
  it.effect.prop("string: any printable Unicode", { value: gen(UnicodeText) }, ({ value }) =>
    roundTrip(Unicode, { value }), fcOptions)

  const ShortText = single(Short)
  it.effect.prop("string: Schema.maxLength(20) (VARCHAR(20))", { value: gen(Short) }, ({ value }) =>
    roundTrip(ShortText, { value }), fcOptions)

  const ShortUnicodeText = single(ShortUnicode)
  it.effect.prop("string: Unicode up to maxLength(20) (VARCHAR(20))", { value: gen(ShortUnicode) }, ({ value }) =>
    roundTrip(ShortUnicodeText, { value }), fcOptions)

  it.effect("string: boundaries (exactly maxLength, astral, whitespace, quotes)", () =>
    Effect.gen(function*() {
      for (const value of ["", "x".repeat(20), "é".repeat(20), "😀".repeat(10), "  padded  ", "'\"`\\%_", "\t\n\r"]) {
        yield* roundTrip(ShortText, { value })
      }
      for (const value of ["a".repeat(100_000), "line\nbreak", "\u{10FFFF}\uFFFD"]) yield* roundTrip(PlainText, { value })
    }))

  const Keyed = Model.make("Keyed", { id: Schema.Int, value: KeyText }, {
    table: uniqueTable("keyed"),
    timestamps: false,
    unique: ["value"]
  })
  it.effect.prop("string: keyed (unique) column, up to 255 characters", { value: gen(KeyText) }, ({ value }) =>
    Effect.gen(function*() {
      const read = yield* stored(Keyed, { value })
      // values repeat across runs: free the unique key again
      yield* Keyed.delete(read.id)
    }), fcOptions)

  // -- integer ----------------------------------------------------------------

  const Int = single(Schema.Int)
  it.effect.prop("integer: Schema.Int", { value: gen(Schema.Int) }, ({ value }) => roundTrip(Int, { value }), fcOptions)

  const BigNumber = single(SafeInt)
  it.effect.prop("integer: the whole safe-integer range", { value: gen(SafeInt) }, ({ value }) =>
    roundTrip(BigNumber, { value }), fcOptions)

  it.effect("integer: boundaries", () =>
    Effect.gen(function*() {
      for (const value of [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
        yield* roundTrip(BigNumber, { value })
      }
    }))

  // -- float ------------------------------------------------------------------

  const Float = single(Schema.Finite)
  it.effect.prop("float: Schema.Finite", { value: gen(Schema.Finite) }, ({ value }) =>
    roundTrip(Float, { value }), fcOptions)

  const FloatDouble = single(Double)
  it.effect.prop("float: every finite double", { value: gen(Double) }, ({ value }) =>
    roundTrip(FloatDouble, { value }), fcOptions)

  const PlainNumber = single(Schema.Number)
  it.effect.prop("float: Schema.Number field, finite values", { value: gen(Double) }, ({ value }) =>
    roundTrip(PlainNumber, { value }), fcOptions)

  it.effect("float: Schema.Number boundaries; -0 is stored as 0", () =>
    Effect.gen(function*() {
      for (
        const value of [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 5e-324, 0.1, 1 / 3, 2 ** 53 + 2, 1e300]
      ) {
        yield* roundTrip(PlainNumber, { value })
      }
      const zero = yield* PlainNumber.create({ value: -0 })
      expect(Object.is(zero.value, 0)).toBe(true)
      expect(Object.is((yield* PlainNumber.read(zero.id)).value, 0)).toBe(true)
    }))

  // -- boolean ----------------------------------------------------------------

  const Bool = single(Schema.Boolean)
  it.effect.prop("boolean", { value: gen(Schema.Boolean) }, ({ value }) => roundTrip(Bool, { value }), fcOptions)

  // -- datetime ---------------------------------------------------------------

  const ValidDate = single(StorableDate)
  it.effect.prop("datetime: ValidDateFromSelf between 1000 and 9999", { value: gen(StorableDate) }, ({ value }) =>
    roundTrip(ValidDate, { value }), fcOptions)

  const AnyDate = single(StorableDateFromSelf)
  it.effect.prop("datetime: DateFromSelf between 1000 and 9999", { value: gen(StorableDateFromSelf) }, ({ value }) =>
    roundTrip(AnyDate, { value }), fcOptions)

  const StringDate = single(StorableDateFromString)
  it.effect.prop("datetime: Schema.Date (stored as its Date type)", { value: gen(StorableDateFromString) }, ({ value }) =>
    roundTrip(StringDate, { value }), fcOptions)

  it.effect("datetime: boundaries and sub-second precision", () =>
    Effect.gen(function*() {
      for (
        const value of [
          minDate,
          maxDate,
          new Date(0),
          new Date(-1),
          new Date("1969-12-31T23:59:59.999Z"),
          new Date("2000-02-29T12:00:00.001Z"),
          new Date("2024-03-31T01:30:00.500+02:00")
        ]
      ) {
        yield* roundTrip(ValidDate, { value })
      }
    }))

  // -- bigint -----------------------------------------------------------------

  const Big = single(Int64)
  it.effect.prop("bigint: signed 64-bit", { value: gen(Int64) }, ({ value }) => roundTrip(Big, { value }), fcOptions)

  it.effect("bigint: boundaries", () =>
    Effect.gen(function*() {
      for (const value of [minInt64, maxInt64, 0n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 62n]) {
        yield* roundTrip(Big, { value })
      }
    }))

  // -- decimal ----------------------------------------------------------------

  const Dec = single(Decimal)
  it.effect.prop("decimal: up to 35 integer and 30 fraction digits", { value: gen(Decimal) }, ({ value }) =>
    Effect.gen(function*() {
      const read = yield* stored(Dec, { value })
      expect(BigDecimal.equals(read.value, value)).toBe(true)
    }), fcOptions)

  const DecDefault = single(DecimalDefaultArbitrary)
  it.effect.prop("decimal: default BigDecimal arbitrary, filtered to fit", { value: Arbitrary.make(DecimalDefaultArbitrary) }, ({ value }) =>
    Effect.gen(function*() {
      const read = yield* stored(DecDefault, { value })
      expect(BigDecimal.equals(read.value, value)).toBe(true)
    }), fcOptions)

  it.effect("decimal: boundaries", () =>
    Effect.gen(function*() {
      for (
        const text of [
          "0",
          "-0.000000000000000000000000000001",
          "99999999999999999999999999999999999.999999999999999999999999999999",
          "-99999999999999999999999999999999999.999999999999999999999999999999",
          "1e34",
          "1.50",
          "123456789012345678901234567890.5"
        ]
      ) {
        const value = BigDecimal.unsafeFromString(text)
        const read = yield* stored(Dec, { value })
        expect(BigDecimal.equals(read.value, value)).toBe(true)
      }
    }))

  const Priced = Model.make("Priced", { id: Schema.Int, amount: Money }, {
    table: uniqueTable("priced"),
    timestamps: false
  })
  it.effect.prop("decimal: Column.annotate({ precision: 12, scale: 2, name })", { amount: gen(Money) }, ({ amount }) =>
    Effect.gen(function*() {
      expect(Priced.columns.find((c) => c.field === "amount")?.name).toBe("amount_cents_x")
      const read = yield* stored(Priced, { amount })
      expect(BigDecimal.equals(read.amount, amount)).toBe(true)
    }), fcOptions)

  /** precision and scale of a column as the database reports them (SQLite: its declared type). */
  const columnType = (table: string, column: string) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = db.name === "sqlite"
        ? yield* sql.unsafe<{ readonly t: string }>("SELECT type AS t FROM pragma_table_info(?) WHERE name = ?", [table, column])
        : yield* sql.unsafe<{ readonly p: unknown; readonly s: unknown }>(
          `SELECT numeric_precision AS p, numeric_scale AS s FROM information_schema.columns WHERE table_schema = ${
            db.name === "pg" ? "current_schema()" : "DATABASE()"
          } AND table_name = ${db.name === "pg" ? "$1" : "?"} AND column_name = ${db.name === "pg" ? "$2" : "?"}`,
          [table, column]
        )
      expect(rows.length).toBe(1)
      const row = rows[0]!
      return "t" in row ? row.t : `${Number(row.p)},${Number(row.s)}`
    })

  it.effect("decimal: the DDL honours precision/scale; Column.annotate works on transforming schemas too", () =>
    Effect.gen(function*() {
      const Annotated = Model.make("Annotated", {
        id: Schema.Int,
        price: Schema.BigDecimal.pipe(Column.annotate({ precision: 12, scale: 2, name: "price_x" })),
        at: Schema.Date.pipe(Column.annotate({ name: "at_x" })),
        maybe: Schema.NullOr(Schema.BigDecimal.pipe(Column.annotate({ precision: 8, scale: 3 }))),
        self: Money
      }, { table: uniqueTable("annotated"), timestamps: false })
      const byField = (f: string) => Annotated.columns.find((c) => c.field === f)!
      expect(byField("price")).toMatchObject({ name: "price_x", kind: { _tag: "decimal", precision: 12, scale: 2 } })
      expect(byField("at")).toMatchObject({ name: "at_x", kind: { _tag: "datetime" } })
      expect(byField("maybe")).toMatchObject({ name: "maybe", nullable: true, kind: { precision: 8, scale: 3 } })
      expect(byField("self")).toMatchObject({ name: "amount_cents_x", kind: { precision: 12, scale: 2 } })
      const at = new Date("2024-05-06T07:08:09.010Z")
      for (const [price, maybe] of [["1234567890.12", "12345.678"], ["-0.01", null], ["0", "-0.001"]] as const) {
        const value = {
          price: BigDecimal.unsafeFromString(price),
          at,
          maybe: maybe === null ? null : BigDecimal.unsafeFromString(maybe),
          self: BigDecimal.unsafeFromString(price)
        }
        yield* roundTrip(Annotated, value)
      }
      const expected = (p: string) => (db.name === "sqlite" ? "TEXT" : p)
      expect(yield* columnType(Annotated.table, "price_x")).toBe(expected("12,2"))
      expect(yield* columnType(Annotated.table, "maybe")).toBe(expected("8,3"))
      expect(yield* columnType(Annotated.table, "amount_cents_x")).toBe(expected("12,2"))
    }))

  // -- enum -------------------------------------------------------------------

  const Enum = single(Status)
  it.effect.prop("enum: string literal union", { value: gen(Status) }, ({ value }) => roundTrip(Enum, { value }), fcOptions)

  const Single = single(Schema.Literal("only"))
  it.effect("enum: a single string literal", () => roundTrip(Single, { value: "only" as const }))

  const ColorEnum = single(Schema.Enums(Color))
  it.effect.prop("enum: Schema.Enums of a string enum", { value: gen(Schema.Enums(Color)) }, ({ value }) =>
    roundTrip(ColorEnum, { value }), fcOptions)

  // -- json -------------------------------------------------------------------

  const NestedJson = single(Nested)
  it.effect.prop("json: nested Struct", { value: gen(Nested) }, ({ value }) => roundTrip(NestedJson, { value }), fcOptions)

  const ArrayJson = single(Schema.Array(Point))
  it.effect.prop("json: Array of structs", { value: gen(Schema.Array(Point)) }, ({ value }) =>
    roundTrip(ArrayJson, { value }), fcOptions)

  const Dict = Schema.Record({ key: Schema.String, value: Schema.Array(Schema.Finite) })
  const RecordJson = single(Dict)
  // Effect Schema itself drops a "__proto__" key when it encodes or decodes a Record (it assigns
  // `out[key]`, which sets the prototype): not a storage matter, so such keys are not generated
  const DictValues = gen(Dict).filter((r) => !Object.hasOwn(r, "__proto__"))
  it.effect.prop("json: Record", { value: DictValues }, ({ value }) => roundTrip(RecordJson, { value }), fcOptions)

  const UnionJson = single(Shape)
  it.effect.prop("json: union of structs", { value: gen(Shape) }, ({ value }) =>
    roundTrip(UnionJson, { value }), fcOptions)

  const Scalar = Schema.Union(Schema.String, Schema.Finite, Schema.Boolean)
  const ScalarJson = single(Scalar)
  it.effect.prop("json: union of scalars (a bare JSON string, number or boolean)", { value: gen(Scalar) }, ({ value }) =>
    roundTrip(ScalarJson, { value }), fcOptions)

  it.effect("json: bare JSON strings, including ones that look like JSON text", () =>
    Effect.gen(function*() {
      for (const value of ["", "abc", "123", "true", "null", "\"quoted\"", "{}", "[1]", 0, 1.5, -2, true, false]) {
        yield* roundTrip(ScalarJson, { value })
      }
    }))

  const Pair = Schema.Tuple(Schema.String, Schema.Int, Schema.optionalElement(Schema.Boolean))
  const TupleJson = single(Pair)
  it.effect.prop("json: Tuple", { value: gen(Pair) }, ({ value }) => roundTrip(TupleJson, { value }), fcOptions)

  const EncodedJson = single(Encoded)
  it.effect.prop("json: struct with Date, BigDecimal and bigint encoded by the field's schema", { value: gen(Encoded) }, ({ value }) =>
    Effect.gen(function*() {
      const read = yield* stored(EncodedJson, { value })
      expect(read.value.at).toBeInstanceOf(Date)
      expect(BigDecimal.equals(read.value.amount, value.amount)).toBe(true)
    }), fcOptions)

  // -- nullable ---------------------------------------------------------------

  const nullableFields = {
    text: Schema.NullOr(Schema.String),
    short: Schema.NullOr(Short),
    int: Schema.NullOr(Schema.Int),
    float: Schema.NullOr(Schema.Finite),
    flag: Schema.NullOr(Schema.Boolean),
    at: Schema.NullOr(StorableDate),
    big: Schema.NullOr(Int64),
    dec: Schema.NullOr(Decimal),
    status: Schema.NullOr(Status),
    doc: Schema.NullOr(Point),
    list: Schema.NullOr(Schema.Array(Schema.String))
  }
  const Nullable = Model.make("Nullable", { id: Schema.Int, ...nullableFields }, {
    table: uniqueTable("nullable"),
    timestamps: false
  })
  const NullableRow = Schema.Struct(nullableFields)
  it.effect.prop("nullable: NullOr of every kind, null round-trips as null", { row: gen(NullableRow) }, ({ row }) =>
    roundTrip(Nullable, row), fcOptions)

  const nullAll = Object.fromEntries(Object.keys(nullableFields).map((k) => [k, null])) as Schema.Schema.Type<
    typeof NullableRow
  >
  it.effect("nullable: all null, and empty/zero/false values stay distinct from null", () =>
    Effect.gen(function*() {
      const allNull = nullAll
      const read = yield* stored(Nullable, allNull)
      for (const k of Object.keys(nullableFields)) expect(read).toHaveProperty(k, null)
      yield* roundTrip(Nullable, { ...allNull, list: [], text: "", flag: false, int: 0, float: 0 })
    }))

  // -- optional ---------------------------------------------------------------

  const optionalFields = {
    text: Schema.optional(Schema.String),
    exact: Schema.optionalWith(Schema.String, { exact: true }),
    int: Schema.optional(Schema.Int),
    float: Schema.optional(Schema.Finite),
    flag: Schema.optional(Schema.Boolean),
    at: Schema.optional(StorableDate),
    big: Schema.optional(Int64),
    dec: Schema.optional(Decimal),
    status: Schema.optional(Status),
    doc: Schema.optional(Point),
    /** optional and nullable: absent, undefined and null are all stored as NULL and read back as null */
    maybe: Schema.optional(Schema.NullOr(Schema.String))
  }
  const Optional = Model.make("Optional", { id: Schema.Int, ...optionalFields }, {
    table: uniqueTable("optional"),
    timestamps: false
  })
  const OptionalRow = Schema.Struct(optionalFields)
  it.effect.prop("optional: absent keys round-trip as absent", { row: gen(OptionalRow) }, ({ row }) =>
    Effect.gen(function*() {
      // an optional *nullable* field cannot tell absent from null: it reads back null
      const read = yield* stored(Optional, row, { ...row, maybe: row.maybe ?? null })
      for (const k of Object.keys(optionalFields)) {
        const given = (row as Record<string, unknown>)[k]
        expect(Object.hasOwn(read, k)).toBe(given !== undefined || k === "maybe")
      }
    }), fcOptions)

  it.effect("optional: nothing given; undefined given; optional(NullOr) reads back null", () =>
    Effect.gen(function*() {
      const empty = yield* stored(Optional, {}, { maybe: null })
      expect(empty).toStrictEqual({ id: empty.id, maybe: null })
      const undef = yield* stored(Optional, { text: undefined, exact: "e", maybe: undefined }, { exact: "e", maybe: null })
      expect(undef).toStrictEqual({ id: undef.id, exact: "e", maybe: null })
      const nulled = yield* stored(Optional, { maybe: null })
      expect(nulled).toStrictEqual({ id: nulled.id, maybe: null })
      const given = yield* stored(Optional, { maybe: "" })
      expect(given).toStrictEqual({ id: given.id, maybe: "" })
    }))

  // -- constructor defaults ---------------------------------------------------

  const defaultAt = new Date("2020-01-02T03:04:05.006Z")
  const defaultFields = {
    status: Schema.optionalWith(Status, { default: () => "draft" as const }),
    count: Schema.Int.pipe(Schema.propertySignature, Schema.withConstructorDefault(() => 0)),
    tags: Schema.optionalWith(Schema.Array(Schema.String), { default: () => ["new"] }),
    at: Schema.optionalWith(StorableDate, { default: () => defaultAt }),
    price: Schema.Finite.pipe(Schema.propertySignature, Schema.withConstructorDefault(() => 9.5)),
    label: Schema.String
  }
  const defaults = { status: "draft", count: 0, tags: ["new"], at: defaultAt, price: 9.5 }
  const Defaulted = Model.make("Defaulted", { id: Schema.Int, ...defaultFields }, {
    table: uniqueTable("defaulted"),
    timestamps: false
  })
  /** Each defaulted field given or left out. */
  const DefaultInput = Schema.Struct({
    status: Schema.optionalWith(Status, { exact: true }),
    count: Schema.optionalWith(Schema.Int, { exact: true }),
    tags: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
    at: Schema.optionalWith(StorableDate, { exact: true }),
    price: Schema.optionalWith(Schema.Finite, { exact: true }),
    label: Schema.String
  })
  it.effect.prop("constructor defaults: omitted in create, filled in the stored record", { input: gen(DefaultInput) }, ({ input }) =>
    Effect.gen(function*() {
      const read = yield* stored(Defaulted, input, { ...defaults, ...input })
      for (const k of Object.keys(defaults)) expect(Object.hasOwn(read, k)).toBe(true)
    }), fcOptions)

  it.effect("constructor defaults: all omitted", () =>
    Effect.gen(function*() {
      const read = yield* stored(Defaulted, { label: "x" }, { ...defaults, label: "x" })
      expect(read.at).toEqual(defaultAt)
      expect(read.tags).toEqual(["new"])
    }))

  // -------------------------------------------------------------------------
  // Rejected values
  // -------------------------------------------------------------------------

  const allFields = {
    text: Schema.String,
    short: Short,
    int: Schema.Int,
    float: Schema.Number,
    finite: Schema.Finite,
    flag: Schema.Boolean,
    at: Schema.DateFromSelf,
    valid: Schema.ValidDateFromSelf,
    big: Schema.BigIntFromSelf,
    dec: Schema.BigDecimalFromSelf,
    status: Status,
    doc: Point,
    maybe: Schema.NullOr(Schema.Int),
    opt: Schema.optional(Schema.String)
  }
  const All = Model.make("All", { id: Schema.Int, ...allFields }, { table: uniqueTable("all_kinds"), timestamps: false })
  const valid = {
    text: "t",
    short: "s",
    int: 1,
    float: 1.5,
    finite: 2.5,
    flag: true,
    at: new Date("2024-01-01T00:00:00.000Z"),
    valid: new Date("2024-01-01T00:00:00.000Z"),
    big: 1n,
    dec: BigDecimal.unsafeFromString("1.25"),
    status: "draft" as const,
    doc: { x: 1, y: 2 },
    maybe: null
  }

  /** The field itself, or (inside a JSON value) a dotted path below it: `doc.y`. */
  const fieldPath = (field: string) => expect.stringMatching(new RegExp(`^${field}(\\..+)?$`))

  /** create and update both refuse the value with a ValidationError at `field`; nothing is written. */
  const rejects = (field: string, value: unknown, reason?: RegExp) =>
    Effect.gen(function*() {
      const before = yield* All.count()
      const created = summary(yield* Effect.flip(All.create({ ...valid, [field]: value } as never)))
      expect(created).toMatchObject({ _tag: "ValidationError", model: "All", operation: "create", path: fieldPath(field) })
      if (reason !== undefined) expect(created.reason).toMatch(reason)
      expect(yield* All.count()).toBe(before)
      // bulkCreate (its own validation path) refuses it the same way, naming the row
      const bulk = summary(yield* Effect.flip(All.bulkCreate([valid, { ...valid, [field]: value } as never])))
      expect(bulk).toMatchObject({ _tag: "ValidationError", operation: "bulkCreate", path: fieldPath(field) })
      expect(bulk.reason).toBe(created.reason)
      expect(yield* All.count()).toBe(before)
      const saved = yield* All.create(valid)
      const updated = summary(yield* Effect.flip(All.update(saved.id, { [field]: value } as never)))
      expect(updated).toMatchObject({ _tag: "ValidationError", operation: "update", path: fieldPath(field) })
      expect(canon(yield* All.read(saved.id))).toStrictEqual(canon(saved))
    })

  it.effect("the valid record used by the rejection tests round-trips", () =>
    Effect.gen(function*() {
      const read = yield* stored(All, valid)
      expect(BigDecimal.equals(read.dec, valid.dec)).toBe(true)
    }))

  it.effect("float: NaN and ±Infinity are a ValidationError naming the field", () =>
    Effect.gen(function*() {
      for (const value of [NaN, Infinity, -Infinity]) {
        yield* rejects("float", value, /finite/)
        yield* rejects("finite", value)
        yield* rejects("int", value)
      }
    }))

  it.effect("float: non-finite values inside nullable/optional fields are refused too", () =>
    Effect.gen(function*() {
      for (const value of [NaN, Infinity, -Infinity]) {
        const error = summary(yield* Effect.flip(Nullable.create({ ...nullAll, float: value })))
        expect(error, String(value)).toMatchObject({ _tag: "ValidationError", path: "float" })
        const opt = summary(yield* Effect.flip(Optional.create({ float: value })))
        expect(opt, String(value)).toMatchObject({ _tag: "ValidationError", path: "float" })
      }
    }))

  it.effect("datetime: invalid dates and dates outside 1000..9999 are a ValidationError", () =>
    Effect.gen(function*() {
      const outside = [
        new Date(NaN),
        new Date(minDate.getTime() - 1),
        new Date(maxDate.getTime() + 1),
        new Date("0999-12-31T23:59:59.999Z"),
        new Date("+010000-01-01T00:00:00.000Z"),
        new Date(-8.64e15),
        new Date(8.64e15)
      ]
      for (const value of outside) {
        yield* rejects("at", value, Number.isNaN(value.getTime()) ? /invalid date/ : /between 1000/)
        yield* rejects("valid", value)
      }
    }))

  const OutsideDate = FastCheck.oneof(
    FastCheck.date({ max: new Date(minDate.getTime() - 1), noInvalidDate: true }),
    FastCheck.date({ min: new Date(maxDate.getTime() + 1), noInvalidDate: true })
  )
  it.effect.prop("datetime: any date outside the range is refused", { value: OutsideDate }, ({ value }) =>
    Effect.gen(function*() {
      const error = summary(yield* Effect.flip(AnyDate.create({ value })))
      expect(error).toMatchObject({ _tag: "ValidationError", path: "value" })
    }), fcOptions)

  it.effect("bigint: values beyond signed 64-bit are a ValidationError", () =>
    Effect.gen(function*() {
      for (const value of [maxInt64 + 1n, minInt64 - 1n, 2n ** 64n, -(2n ** 100n)]) {
        yield* rejects("big", value, /64-bit/)
      }
    }))

  const OutsideInt64 = FastCheck.oneof(FastCheck.bigInt({ min: maxInt64 + 1n }), FastCheck.bigInt({ max: minInt64 - 1n }))
  const Unbounded = single(Schema.BigIntFromSelf)
  it.effect.prop("bigint: any value beyond signed 64-bit is refused", { value: OutsideInt64 }, ({ value }) =>
    Effect.gen(function*() {
      const error = summary(yield* Effect.flip(Unbounded.create({ value })))
      expect(error).toMatchObject({ _tag: "ValidationError", path: "value" })
    }), fcOptions)

  it.effect("string: text containing NUL, or a lone surrogate, is a ValidationError", () =>
    Effect.gen(function*() {
      for (const value of ["\u0000", "a\u0000b", "trailing\u0000"]) {
        yield* rejects("text", value, /NUL/)
        yield* rejects("short", value, /NUL/)
        yield* rejects("opt", value, /NUL/)
      }
      // no database can store half a surrogate pair: each would write U+FFFD instead
      for (const value of ["\uD800", "a\uDC00b", "\uDBFF\uDBFF\uDFFF"]) {
        yield* rejects("text", value, /surrogate/)
        yield* rejects("opt", value, /surrogate/)
      }
    }))

  it.effect("a value of the wrong type is a ValidationError with path = the field", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, unknown]> = [
        ["text", 1],
        ["text", null],
        ["short", "x".repeat(21)],
        ["int", 1.5],
        ["int", "1"],
        ["int", 1n],
        ["float", "1.5"],
        ["finite", null],
        ["flag", 1],
        ["flag", "true"],
        ["at", "2024-01-01T00:00:00.000Z"],
        ["at", 1704067200000],
        ["valid", "2024-01-01"],
        ["big", 1],
        ["big", "1"],
        ["dec", "1.25"],
        ["dec", 1.25],
        ["status", "deleted"],
        ["status", 1],
        ["doc", { x: 1 }],
        ["doc", { x: 1, y: 2.5 }],
        ["doc", "{\"x\":1,\"y\":2}"],
        ["maybe", "1"],
        ["maybe", undefined],
        ["opt", 1],
        ["opt", null]
      ]
      for (const [field, value] of cases) yield* rejects(field, value)
    }))

  it.effect("a missing required field is a ValidationError naming it", () =>
    Effect.gen(function*() {
      for (const field of Object.keys(valid)) {
        const { [field as keyof typeof valid]: _, ...rest } = valid
        const error = summary(yield* Effect.flip(All.create(rest as never)))
        expect(error).toMatchObject({ _tag: "ValidationError", path: field })
      }
    }))
})
