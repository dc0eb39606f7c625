/**
 * `aggregate`: a seeded differential test against a TypeScript reference of the documented
 * semantics (SQL NULL handling, exact sums, averages rounded as documented, groups with NULL
 * keys as one group, having / order / paging over exact values), the same seeds on SQLite,
 * PostgreSQL and MariaDB/MySQL; then the edges one by one: sums beyond 2^63, decimals at
 * their full width, tenants, soft delete, typed errors.
 *
 * Reproduce a failure with `DATAFLOW_SEED=<seed> npx vitest run test/aggregate.test.ts`.
 */
import { expect } from "@effect/vitest"
import { BigDecimal, Effect, Exit, FastCheck as fc, Layer, Schema } from "effect"
import { describe, it as plainIt } from "vitest"
import { Column, DataFlow, Dialect, Model, Tenant } from "../src/index.js"
import { definitionOf } from "../src/internal/model/definition.js"
import { aggregate as aggregateStatement, decimalQuotient, quotient } from "../src/internal/sql/aggregate.js"
import { statementsFor } from "../src/internal/sql/statements.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { mix, rngOf } from "./support/random.js"
import type { Rng } from "./support/random.js"
import { compareCodePoints } from "./support/reference.js"
import { typedFailure } from "./support/typed.js"

const BASE_SEED = process.env.DATAFLOW_SEED === undefined ? 0xa66_2026 : Number(process.env.DATAFLOW_SEED)
const DATA_SETS = 10
const CASES = 8

// ---------------------------------------------------------------------------
// the model and its data
// ---------------------------------------------------------------------------

const Fields = {
  id: Schema.Int,
  g: Schema.NullOr(Schema.Literal("red", "green", "blue")),
  flag: Schema.NullOr(Schema.Boolean),
  s: Schema.NullOr(Schema.String),
  n: Schema.NullOr(Schema.Int),
  x: Schema.NullOr(Schema.Number),
  big: Schema.NullOr(Schema.BigIntFromSelf),
  dec: Schema.NullOr(Schema.BigDecimalFromSelf),
  price: Schema.NullOr(Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 12, scale: 2 }))),
  d: Schema.NullOr(Schema.DateFromSelf)
}
type Rec = Schema.Struct.Type<typeof Fields>
type Kind = "int" | "float" | "bigint" | "decimal" | "date" | "string" | "bool"
type Field = Exclude<keyof Rec & string, "id">

const kinds: Record<Field, Kind> = {
  g: "string",
  flag: "bool",
  s: "string",
  n: "int",
  x: "float",
  big: "bigint",
  dec: "decimal",
  price: "decimal",
  d: "date"
}
const groupable: ReadonlyArray<Field> = ["g", "flag", "s", "n", "big", "price", "d"]
const numeric: ReadonlyArray<Field> = ["n", "x", "big", "dec", "price"]
const orderable: ReadonlyArray<Field> = ["g", "s", "n", "x", "big", "dec", "price", "d"]

const makeModel = () => Model.make("Agg", Schema.Struct(Fields), { table: uniqueTable("agg"), timestamps: false })

const decimal = (rng: Rng, maxDigits: number, maxScale: number) => {
  let unscaled = 0n
  for (let i = rng.int(1, maxDigits); i > 0; i--) unscaled = unscaled * 10n + BigInt(rng.int(0, 9))
  return BigDecimal.make(rng.chance(0.5) ? -unscaled : unscaled, rng.int(0, maxScale))
}

const values: { readonly [K in Field]: (rng: Rng) => NonNullable<Rec[K]> } = {
  g: (rng) => rng.pick(["red", "green", "blue"] as const),
  flag: (rng) => rng.chance(0.5),
  s: (rng) => rng.pick(["", "a", "A", "a ", "b", "中", "😀", "￥", "ab"]),
  n: (rng) => (rng.chance(0.2) ? rng.pick([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) : rng.int(-50, 50)),
  // multiples of 1/4: every order of addition gives the exact sum
  x: (rng) => rng.int(-4000, 4000) / 4,
  big: (rng) =>
    rng.chance(0.3)
      ? rng.pick([2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n) - 3n])
      : BigInt(rng.int(-1e6, 1e6)) * BigInt(rng.int(1, 1e6)),
  dec: (rng) =>
    rng.chance(0.2)
      ? BigDecimal.unsafeFromString(rng.pick(["99999999999999999999.999999999999999999999999999999", "-0.000000000000000000000000000001", "0"]))
      : decimal(rng, 20, 12),
  price: (rng) => decimal(rng, 8, 2),
  d: (rng) => new Date(Date.UTC(2020, 0, 1) + rng.int(0, 3) * 86_400_000 + rng.int(0, 2) * 1)
}

const genRows = (rng: Rng): Array<Rec> => {
  const count = rng.chance(0.15) ? rng.int(0, 2) : rng.int(3, 30)
  const nullRate = rng.pick([0, 0.2, 0.5])
  const pools = new Map((Object.keys(kinds) as Array<Field>).map((f) => [f, Array.from({ length: rng.int(1, 4) }, () => values[f](rng))]))
  return Array.from({ length: count }, (_, i) => {
    const row: Record<string, unknown> = { id: i + 1 }
    for (const f of Object.keys(kinds) as Array<Field>) {
      row[f] = rng.chance(nullRate) ? null : rng.chance(0.7) ? rng.pick(pools.get(f)!) : values[f](rng)
    }
    return row as Rec
  })
}

// ---------------------------------------------------------------------------
// the reference
// ---------------------------------------------------------------------------

const compareValues = (kind: Kind | "number", a: unknown, b: unknown): number => {
  switch (kind) {
    case "decimal":
      return BigDecimal.Order(a as BigDecimal.BigDecimal, b as BigDecimal.BigDecimal)
    case "date":
      return Math.sign((a as Date).getTime() - (b as Date).getTime())
    case "string":
      return compareCodePoints(a as string, b as string)
    case "bool":
      return Number(a) - Number(b)
    default:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  }
}

const keyOf = (v: unknown): string =>
  v === null ? "null" : v instanceof Date ? `d${v.getTime()}` : BigDecimal.isBigDecimal(v) ? `n${BigDecimal.format(BigDecimal.normalize(v))}` : `${typeof v}:${String(v)}`

const scaleOf = (f: Field) => (f === "price" ? 2 : 30)

/** The nearest double to n / d, through 60 significant decimal digits. */
const nearest = (n: bigint, d: bigint): number => {
  const digits = 60
  const scaled = (n * 10n ** BigInt(digits)) / d
  return Number(`${scaled}e-${digits}`)
}

/** sum / count at `scale`, half to even (by floor division and the remainder). */
const roundedQuotient = (sum: BigDecimal.BigDecimal, count: number, scale: number) => {
  const n = BigDecimal.scale(sum, scale).value
  const c = BigInt(count)
  const floor = n >= 0n ? n / c : -((-n + c - 1n) / c)
  const rest = n - floor * c // in [0, c)
  const up = rest * 2n > c || (rest * 2n === c && floor % 2n !== 0n)
  return BigDecimal.normalize(BigDecimal.make(up ? floor + 1n : floor, scale))
}

/** The filters the cases draw (the filter language itself is tested in differential.test.ts). */
type WhereCond =
  | { readonly _tag: "gt"; readonly field: Field; readonly value: unknown }
  | { readonly _tag: "in"; readonly values: ReadonlyArray<"red" | "green" | "blue"> }
  | { readonly _tag: "null"; readonly field: Field; readonly isNull: boolean }
  | { readonly _tag: "or"; readonly parts: ReadonlyArray<WhereCond> }

const matches = (w: WhereCond, r: Rec): boolean => {
  switch (w._tag) {
    case "gt":
      return r[w.field] !== null && compareValues(kinds[w.field], r[w.field], w.value) > 0
    case "in":
      return r.g !== null && w.values.includes(r.g)
    case "null":
      return (r[w.field] === null) === w.isNull
    case "or":
      return w.parts.some((p) => matches(p, r))
  }
}

const toWhere = (w: WhereCond): Record<string, unknown> => {
  switch (w._tag) {
    case "gt":
      return { [w.field]: { $gt: w.value } }
    case "in":
      return { g: { $in: w.values } }
    case "null":
      return { [w.field]: w.isNull ? null : { $null: false } }
    case "or":
      return { $or: w.parts.map(toWhere) }
  }
}

interface HavingCond {
  readonly path: string
  readonly op: "$gt" | "$lte" | "$eq" | "$ne" | "$in" | "$null"
  readonly value: unknown
}

interface Aggregates {
  readonly groupBy: ReadonlyArray<Field>
  readonly countAll: boolean
  readonly count: ReadonlyArray<Field>
  readonly countDistinct: ReadonlyArray<Field>
  readonly sum: ReadonlyArray<Field>
  readonly avg: ReadonlyArray<Field>
  readonly min: ReadonlyArray<Field>
  readonly max: ReadonlyArray<Field>
}

interface Query extends Aggregates {
  readonly where: WhereCond | undefined
  readonly having: { readonly join: "$and" | "$or"; readonly conditions: ReadonlyArray<HavingCond> } | undefined
  readonly orderBy: ReadonlyArray<string>
  readonly limit: number | undefined
  readonly offset: number | undefined
}

const aggregateOf = (q: Aggregates, rows: ReadonlyArray<Rec>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  const nonNull = (f: Field) => rows.map((r) => r[f]).filter((v) => v !== null)
  if (q.countAll) out._count = rows.length
  if (q.count.length > 0) out._count = Object.fromEntries(q.count.map((f) => [f, nonNull(f).length]))
  if (q.countDistinct.length > 0) {
    out._countDistinct = Object.fromEntries(q.countDistinct.map((f) => [f, new Set(nonNull(f).map(keyOf)).size]))
  }
  const exactSum = (f: Field): bigint | BigDecimal.BigDecimal | number | null => {
    const vs = nonNull(f)
    if (vs.length === 0) return null
    switch (kinds[f]) {
      case "decimal":
        return BigDecimal.normalize(BigDecimal.sumAll(vs as Array<BigDecimal.BigDecimal>))
      case "float":
        return (vs as Array<number>).reduce((a, b) => a + b, 0)
      default:
        return (vs as Array<number | bigint>).reduce<bigint>((a, b) => a + BigInt(b), 0n)
    }
  }
  if (q.sum.length > 0) {
    out._sum = Object.fromEntries(q.sum.map((f) => {
      const s = exactSum(f)
      return [f, typeof s === "bigint" && kinds[f] === "int" ? Number(s) : s]
    }))
  }
  if (q.avg.length > 0) {
    out._avg = Object.fromEntries(q.avg.map((f) => {
      const s = exactSum(f)
      const c = nonNull(f).length
      if (s === null) return [f, null]
      if (typeof s === "number") return [f, s / c]
      if (typeof s === "bigint") return [f, nearest(s, BigInt(c))]
      return [f, roundedQuotient(s, c, scaleOf(f) + 6)]
    }))
  }
  const extreme = (f: Field, sign: 1 | -1) => {
    const vs = nonNull(f)
    if (vs.length === 0) return null
    return vs.reduce((a, b) => (compareValues(kinds[f], b, a) * sign < 0 ? b : a))
  }
  if (q.min.length > 0) out._min = Object.fromEntries(q.min.map((f) => [f, extreme(f, 1)]))
  if (q.max.length > 0) out._max = Object.fromEntries(q.max.map((f) => [f, extreme(f, -1)]))
  return out
}

/** The value at a result path, and its kind. */
const at = (r: Record<string, unknown>, path: string): { readonly v: unknown; readonly kind: Kind | "number" } => {
  if (!path.startsWith("_")) return { v: r[path] ?? null, kind: kinds[path as Field] }
  const [key, field] = path.split(".") as [string, Field | undefined]
  if (field === undefined) return { v: r[key], kind: "number" }
  const v = (r[key] as Record<string, unknown>)[field] ?? null
  if (key === "_count" || key === "_countDistinct") return { v, kind: "number" }
  if (key === "_avg") return { v, kind: kinds[field] === "decimal" ? "decimal" : "number" }
  return { v, kind: key === "_sum" && kinds[field] === "int" ? "number" : kinds[field] }
}

const reference = (q: Query, rows: ReadonlyArray<Rec>): unknown => {
  const matching = q.where === undefined ? rows : rows.filter((r) => matches(q.where!, r))
  if (q.groupBy.length === 0) return aggregateOf(q, matching)
  const groups = new Map<string, Array<Rec>>()
  for (const r of matching) {
    const key = q.groupBy.map((f) => keyOf(r[f])).join("|")
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  let results = [...groups.values()].map((members) => ({
    ...Object.fromEntries(q.groupBy.map((f) => [f, members[0]![f]])),
    ...aggregateOf(q, members)
  }))
  if (q.having !== undefined) {
    const holds = (r: Record<string, unknown>, { op, path, value }: HavingCond) => {
      const { kind, v } = at(r, path)
      const eq = (w: unknown) => v !== null && compareValues(kind, v, w) === 0
      switch (op) {
        case "$null":
          return v === null
        case "$ne":
          return !eq(value)
        case "$in":
          return (value as ReadonlyArray<unknown>).some(eq)
        case "$eq":
          return eq(value)
        default: {
          if (v === null) return false
          const c = compareValues(kind, v, value)
          return op === "$gt" ? c > 0 : c <= 0
        }
      }
    }
    const { conditions, join } = q.having
    results = results.filter((r) => (join === "$and" ? conditions.every((c) => holds(r, c)) : conditions.some((c) => holds(r, c))))
  }
  const terms = [...q.orderBy, ...q.groupBy.filter((f) => !q.orderBy.includes(f) && !q.orderBy.includes(`-${f}`))]
  results.sort((a, b) => {
    for (const t of terms) {
      const desc = t.startsWith("-")
      const path = desc ? t.slice(1) : t
      const x = at(a, path)
      const y = at(b, path).v
      const c = x.v === null ? (y === null ? 0 : -1) : y === null ? 1 : compareValues(x.kind, x.v, y)
      if (c !== 0) return desc ? -c : c
    }
    return 0
  })
  const start = q.offset ?? 0
  return results.slice(start, q.limit === undefined ? undefined : start + q.limit)
}

// ---------------------------------------------------------------------------
// random queries
// ---------------------------------------------------------------------------

const some = <A>(rng: Rng, items: ReadonlyArray<A>, p: number): Array<A> => items.filter(() => rng.chance(p))

const genQuery = (rng: Rng, rows: ReadonlyArray<Rec>): Query => {
  const groupBy = rng.chance(0.25) ? [] : some(rng, groupable, 0.2).slice(0, 2)
  if (groupBy.length === 0 && rng.chance(0.6)) groupBy.push(rng.pick(["g", "flag"] as const))
  const countAll = rng.chance(0.6)
  const q = {
    groupBy,
    countAll,
    count: countAll ? [] : some(rng, Object.keys(kinds) as Array<Field>, 0.2),
    countDistinct: some(rng, groupable, 0.2),
    sum: some(rng, numeric, 0.4),
    avg: some(rng, numeric, 0.3),
    min: some(rng, orderable, 0.25),
    max: some(rng, orderable, 0.25)
  }
  const genWhere = (depth: number): WhereCond | undefined => {
    const r = rng.next()
    if (r < 0.35) {
      const field = rng.pick(["n", "big", "price", "d", "x", "s"] as const)
      const present = rows.map((row) => row[field]).filter((v) => v !== null)
      return present.length === 0 ? undefined : { _tag: "gt", field, value: rng.pick(present) }
    }
    if (r < 0.6) return { _tag: "in", values: some(rng, ["red", "green", "blue"] as const, 0.5) }
    if (r < 0.8 || depth > 0) return { _tag: "null", field: rng.pick(Object.keys(kinds) as Array<Field>), isNull: rng.chance(0.3) }
    const parts = [genWhere(depth + 1), genWhere(depth + 1)].filter((p): p is WhereCond => p !== undefined)
    return { _tag: "or", parts }
  }
  const where = rng.chance(0.5) ? genWhere(0) : undefined
  const paths = [
    ...groupBy,
    ...(countAll ? ["_count"] : q.count.map((f) => `_count.${f}`)),
    ...q.countDistinct.map((f) => `_countDistinct.${f}`),
    ...q.sum.map((f) => `_sum.${f}`),
    ...q.avg.map((f) => `_avg.${f}`),
    ...q.min.map((f) => `_min.${f}`),
    ...q.max.map((f) => `_max.${f}`)
  ]
  const grouped = groupBy.length > 0
  const genHaving = (): HavingCond => {
    const path = rng.pick(paths)
    // thresholds from some of the rows: near what the groups hold
    const sampleOf = () => {
      const sample = aggregateOf(q, rows.slice(0, rng.int(1, rows.length)))
      return { ...Object.fromEntries(groupBy.map((f) => [f, rows[rng.int(0, rows.length - 1)]![f]])), ...sample }
    }
    const op = rng.pick(["$gt", "$lte", "$eq", "$ne", "$in", "$null"] as const)
    if (op === "$null" || rows.length === 0) return { path, op: "$null", value: true }
    if (op === "$in") {
      const values = Array.from({ length: rng.int(0, 3) }, () => at(sampleOf(), path).v).filter((v) => v !== null)
      return { path, op, value: values }
    }
    const value = at(sampleOf(), path).v
    return value === null ? { path, op: "$null", value: true } : { path, op, value }
  }
  const having: Query["having"] = grouped && paths.length > 0 && rng.chance(0.5)
    ? { join: rng.pick(["$and", "$or"] as const), conditions: Array.from({ length: rng.int(1, 3) }, genHaving) }
    : undefined
  const orderBy = grouped ? some(rng, paths, 0.3).map((p) => (rng.chance(0.5) ? `-${p}` : p)) : []
  return {
    ...q,
    where,
    having,
    orderBy,
    limit: grouped && rng.chance(0.3) ? rng.int(0, 4) : undefined,
    offset: grouped && rng.chance(0.3) ? rng.int(0, 3) : undefined
  }
}

/** The query as `aggregate` takes it. */
const toQuery = (q: Query): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (q.groupBy.length > 0) out.groupBy = q.groupBy
  if (q.countAll) out.count = true
  else if (q.count.length > 0) out.count = q.count
  for (const k of ["countDistinct", "sum", "avg", "min", "max"] as const) if (q[k].length > 0) out[k] = q[k]
  if (q.where !== undefined) out.where = toWhere(q.where)
  if (q.having !== undefined) {
    const conditions = q.having.conditions.map(({ op, path, value }) => {
      const [key, field] = path.split(".")
      const cond = { [op]: value }
      return field === undefined ? { [key!]: cond } : { [key!]: { [field]: cond } }
    })
    out.having = conditions.length === 1 && q.having.join === "$and" ? conditions[0] : { [q.having.join]: conditions }
  }
  if (q.orderBy.length > 0) out.orderBy = q.orderBy
  if (q.limit !== undefined) out.limit = q.limit
  if (q.offset !== undefined) out.offset = q.offset
  return out
}

/** A canonical text of a result: BigDecimals by value, dates by instant, keys sorted. */
const show = (u: unknown): string => {
  if (u === null || u === undefined) return "null"
  if (typeof u === "bigint") return `${u}n`
  if (typeof u === "number") return Object.is(u, -0) ? "0" : String(u)
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "boolean") return String(u)
  if (u instanceof Date) return `Date(${u.toISOString()})`
  if (BigDecimal.isBigDecimal(u)) return `Dec(${BigDecimal.format(BigDecimal.normalize(u))})`
  if (Array.isArray(u)) return `[${u.map(show).join(", ")}]`
  return `{ ${Object.keys(u).sort().map((k) => `${k}: ${show((u as Record<string, unknown>)[k])}`).join(", ")} }`
}

// ---------------------------------------------------------------------------
// the suites
// ---------------------------------------------------------------------------

forEachDatabase("aggregate", (it, db) => {
  const M = makeModel()

  for (let set = 0; set < DATA_SETS; set++) {
    it.effect(`data set ${set}: ${CASES} random aggregates agree with the reference`, () =>
      Effect.gen(function*() {
        const rng = rngOf(mix(BASE_SEED, set))
        const rows = genRows(rng)
        yield* M.bulkDelete({}, { confirm: true })
        yield* M.bulkCreate(rows)
        const failures: Array<string> = []
        for (let c = 0; c < CASES; c++) {
          const q = genQuery(rngOf(mix(BASE_SEED, set, c)), rows)
          const query = toQuery(q)
          const exit = yield* Effect.exit(M.aggregate(query as {}))
          const want = show(reference(q, rows))
          const context = `[${db.label}] seed ${BASE_SEED}, data set ${set}, case ${c}\n  query: ${show(query)}`
          if (Exit.isFailure(exit)) failures.push(`${context}\n  failed: ${String(exit.cause)}`)
          else if (show(exit.value) !== want) failures.push(`${context}\n  database:  ${show(exit.value)}\n  reference: ${want}`)
        }
        expect(failures.join("\n\n")).toBe("")
      }))
  }

  it.effect("sums of bigints beyond 2^63, and of decimals at the full width of their column", () =>
    Effect.gen(function*() {
      yield* M.bulkDelete({}, { confirm: true })
      const max = 2n ** 63n - 1n
      const wide = BigDecimal.unsafeFromString("99999999999999999999999999999999999.999999999999999999999999999999")
      const smallest = BigDecimal.unsafeFromString("-0.000000000000000000000000000001")
      yield* M.bulkCreate([
        { id: 1, g: "red", flag: null, s: null, n: Number.MAX_SAFE_INTEGER, x: null, big: max, dec: wide, price: null, d: null },
        { id: 2, g: "red", flag: null, s: null, n: Number.MAX_SAFE_INTEGER, x: null, big: max, dec: smallest, price: null, d: null },
        { id: 3, g: "red", flag: null, s: null, n: 1, x: null, big: max, dec: smallest, price: null, d: null }
      ])
      const result = yield* M.aggregate({ sum: ["big", "n", "dec"], avg: ["big", "n", "dec"], min: ["big"], max: ["dec"] })
      expect(result._sum.big).toBe(3n * max)
      // the exact sum 2^54 - 1 as the nearest double
      expect(result._sum.n).toBe(2 ** 54 - 1)
      expect(show(result._sum.dec)).toBe(show(BigDecimal.sum(wide, BigDecimal.multiply(smallest, BigDecimal.fromBigInt(2n)))))
      expect(result._avg.big).toBe(Number(max))
      expect(result._avg.n).toBe(nearest(2n * BigInt(Number.MAX_SAFE_INTEGER) + 1n, 3n))
      expect(result._min.big).toBe(max)
      expect(show(result._max.dec)).toBe(show(wide))
    }))

  it.effect("over no rows: counts are 0, every other aggregate null; grouped: no groups", () =>
    Effect.gen(function*() {
      yield* M.bulkDelete({}, { confirm: true })
      const all = yield* M.aggregate({ count: true, countDistinct: ["g"], sum: ["big", "dec"], avg: ["n"], min: ["d"], max: ["s"] })
      expect(show(all)).toBe(show({ _count: 0, _countDistinct: { g: 0 }, _sum: { big: null, dec: null }, _avg: { n: null }, _min: { d: null }, _max: { s: null } }))
      expect(yield* M.aggregate({ groupBy: ["g"], count: true })).toEqual([])
      // groupBy: [] is one group of every record, as SQL's GROUP BY (): a list of one result
      expect(yield* M.aggregate({ groupBy: [], count: true, having: { _count: { $gte: 0 } } })).toEqual([{ _count: 0 }])
    }))

  it.effect("text groups and extremes by code point; NULL keys form one group, first ascending", () =>
    Effect.gen(function*() {
      yield* M.bulkDelete({}, { confirm: true })
      const row = { g: null, flag: null, n: null, x: null, big: null, dec: null, price: null, d: null }
      const texts = ["😀", "￥", "a", null, "😀", "A", null]
      yield* M.bulkCreate(texts.map((s, i) => ({ id: i + 1, ...row, s })))
      const groups = yield* M.aggregate({ groupBy: ["s"], count: true })
      expect(groups.map((g) => g.s)).toEqual([null, "A", "a", "￥", "😀"])
      expect(groups.map((g) => g._count)).toEqual([2, 1, 1, 1, 2])
      const descending = yield* M.aggregate({ groupBy: ["s"], count: true, orderBy: ["-s"] })
      expect(descending.map((g) => g.s)).toEqual(["😀", "￥", "a", "A", null])
      expect(yield* M.aggregate({ min: ["s"], max: ["s"], countDistinct: ["s"] })).toEqual({
        _min: { s: "A" },
        _max: { s: "😀" },
        _countDistinct: { s: 4 }
      })
    }))

  it.effect("a float sum beyond the double range fails alike on every database", () =>
    Effect.gen(function*() {
      yield* M.bulkDelete({}, { confirm: true })
      const row = { g: null, flag: null, s: null, n: null, x: 1e308, big: null, dec: null, price: null, d: null }
      yield* M.bulkCreate([{ id: 1, ...row }, { id: 2, ...row }])
      const error = typedFailure(yield* Effect.exit(M.aggregate({ groupBy: ["g"], avg: ["x"] })))
      expect(error).toMatchObject({ _tag: "DatabaseError", code: "22003", retryable: false })
      expect(yield* M.aggregate({ max: ["x"], count: ["x"] })).toEqual({ _max: { x: 1e308 }, _count: { x: 2 } })
    }))

  it.effect("bad queries are typed errors naming what is wrong", () =>
    Effect.gen(function*() {
      const fails = (query: unknown) => Effect.map(Effect.exit(M.aggregate(query as {})), typedFailure)
      const sumOfText = yield* fails({ sum: ["s"] })
      expect(sumOfText).toMatchObject({ _tag: "ValidationError", path: "sum" })
      expect(sumOfText.message).toContain("s is not a numeric field")
      expect(yield* fails({ avg: ["flag"] })).toMatchObject({ _tag: "ValidationError", path: "avg" })
      expect(yield* fails({ min: ["flag"] })).toMatchObject({ _tag: "ValidationError", path: "min" })
      expect(yield* fails({ sum: ["nope"] })).toMatchObject({ _tag: "ValidationError", path: "sum" })
      expect(yield* fails({ counts: true })).toMatchObject({ _tag: "ValidationError", path: "counts" })
      expect(yield* fails({ count: true, having: { _count: 1 } })).toMatchObject({ _tag: "ValidationError", path: "having" })
      expect(yield* fails({ groupBy: ["g"], count: true, orderBy: ["_sum.n"] })).toMatchObject({
        _tag: "ValidationError",
        path: "orderBy"
      })
      expect(yield* fails({ groupBy: ["g"], limit: -1 })).toMatchObject({ _tag: "ValidationError", path: "limit" })
      expect(yield* fails({ groupBy: ["g"], sum: ["big"], having: { _sum: { big: { $gt: 1 } } } })).toMatchObject({
        _tag: "InvalidFilter",
        path: "having._sum.big.$gt"
      })
      expect(yield* fails({ groupBy: ["g"], count: true, having: { _avg: { n: 1 } } })).toMatchObject({
        _tag: "InvalidFilter",
        path: "having._avg.n"
      })
      expect(yield* fails({ count: true, where: { n: { $like: "a" } } })).toMatchObject({ _tag: "InvalidFilter" })
      expect(yield* fails("count")).toMatchObject({ _tag: "ValidationError", path: "query" })
    }))
})

const Note = Model.make("Note", Schema.Struct({ id: Schema.String, topic: Schema.String, words: Schema.Int }), {
  table: uniqueTable("agg_notes"),
  tenantScoped: true,
  softDelete: true
})

forEachDatabase("aggregate scope", (it) => {
  it.effect("sees the current tenant's live records only (includeDeleted: the deleted too)", () =>
    Effect.gen(function*() {
      yield* Note.bulkCreate([
        { id: "n1", topic: "a", words: 10 },
        { id: "n2", topic: "a", words: 20 },
        { id: "n3", topic: "b", words: 5 }
      ]).pipe(Tenant.with("acme"))
      yield* Note.bulkCreate([{ id: "n1", topic: "a", words: 1000 }]).pipe(Tenant.with("globex"))
      yield* Note.delete("n2").pipe(Tenant.with("acme"))
      const live = yield* Note.aggregate({ groupBy: ["topic"], count: true, sum: ["words"] }).pipe(Tenant.with("acme"))
      expect(live).toEqual([{ topic: "a", _count: 1, _sum: { words: 10 } }, { topic: "b", _count: 1, _sum: { words: 5 } }])
      const all = yield* Note.aggregate({ count: true, sum: ["words"], includeDeleted: true }).pipe(Tenant.with("acme"))
      expect(all).toEqual({ _count: 3, _sum: { words: 35 } })
      const other = yield* Note.aggregate({ count: true, max: ["words"] }).pipe(Tenant.with("globex"))
      expect(other).toEqual({ _count: 1, _max: { words: 1000 } })
    }))
})

// ---------------------------------------------------------------------------
// without a database: the statement per dialect, the arithmetic of averages
// ---------------------------------------------------------------------------

describe("aggregate statement", () => {
  const Sale = Model.make(
    "Sale",
    Schema.Struct({ id: Schema.Int, region: Schema.NullOr(Schema.String), qty: Schema.Int, at: Schema.DateFromSelf }),
    { timestamps: false }
  )
  const def = definitionOf(Sale)
  const column = (f: string) => def.byField.get(f)!
  const spec = {
    groupBy: [column("region")],
    countAll: true,
    count: [],
    countDistinct: [],
    sum: [column("qty")],
    avg: [],
    min: [],
    max: [column("at")]
  }
  const textOn = (dialect: Dialect.Dialect) => aggregateStatement(statementsFor(def, dialect), spec, " WHERE 1=1", 11).text

  plainIt("SQLite: integer sums in high and low halves, read as text", () => {
    expect(textOn(Dialect.sqlite)).toBe(
      `SELECT "region", COUNT(*) AS "__agg_0", CAST(SUM("qty" >> 32) AS TEXT) AS "__agg_1", CAST(SUM("qty" & 4294967295) AS TEXT) AS "__agg_2", MAX("at") AS "__agg_3" FROM "sales" WHERE 1=1 GROUP BY "region" LIMIT 11`
    )
  })
  plainIt("SQLite: decimal sums in 9-digit chunks of a conversion made once per row, in a derived table", () => {
    const Priced = Model.make(
      "Priced",
      Schema.Struct({ id: Schema.Int, region: Schema.String, amount: Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 12, scale: 2 })) }),
      { timestamps: false }
    )
    const pricedDef = definitionOf(Priced)
    const amount = pricedDef.byField.get("amount")!
    const text = aggregateStatement(
      statementsFor(pricedDef, Dialect.sqlite),
      { ...spec, groupBy: [pricedDef.byField.get("region")!], max: [], sum: [amount] },
      " WHERE 1=1",
      undefined
    ).text
    expect(text).toMatch(/^SELECT "region", COUNT\(\*\) AS "__agg_0", CAST\(SUM\(CASE substr\("__row_0", 1, 1\) WHEN 'C' THEN CAST\(substr\("__row_0", 2, 9\) AS INTEGER\)/)
    // DECIMAL(12, 2): two chunks of 9 digits
    expect(text.match(/SUM\(CASE/g)?.length).toBe(2)
    expect(text).toMatch(/ FROM \(SELECT "region", "amount", substr\("amount", 1, 1\) \|\| CASE .* AS "__row_0" FROM "priceds" WHERE 1=1 LIMIT -1\) AS "__rows" GROUP BY "region"$/)
  })
  plainIt("PostgreSQL: NUMERIC sums as text", () => {
    expect(textOn(Dialect.pg)).toBe(
      `SELECT "region", COUNT(*) AS "__agg_0", CAST(SUM("qty") AS TEXT) AS "__agg_1", MAX("at") AS "__agg_2" FROM "sales" WHERE 1=1 GROUP BY "region" LIMIT 11`
    )
  })
  plainIt("MySQL: DECIMAL sums as text, dates through DATE_FORMAT", () => {
    expect(textOn(Dialect.mysql)).toBe(
      "SELECT `region`, COUNT(*) AS `__agg_0`, CAST(SUM(`qty`) AS CHAR) AS `__agg_1`, DATE_FORMAT(MAX(`at`), '%Y-%m-%d %H:%i:%s.%f') AS `__agg_2` FROM `sales` WHERE 1=1 GROUP BY `region` LIMIT 11"
    )
  })
  plainIt("the row reader: group fields as records read them, aggregates under their keys", () => {
    const statement = aggregateStatement(statementsFor(def, Dialect.pg), spec, "", undefined)
    expect(statement.read({ region: null, __agg_0: "3", __agg_1: "9007199254740993", __agg_2: new Date(0) })).toEqual({
      region: null,
      _count: 3,
      _sum: { qty: 9007199254740992 },
      _max: { at: new Date(0) }
    })
  })
})

describe("averages", () => {
  plainIt("of integers: the nearest double to the exact quotient", () => {
    fc.assert(fc.property(fc.bigInt(-(2n ** 70n), 2n ** 70n), fc.bigInt(1n, 2n ** 40n), (n, d) => {
      expect(quotient(n, d)).toBe(nearest(n, d))
    }))
    expect(quotient(2n ** 63n * 3n - 3n, 3n)).toBe(2 ** 63)
    expect(quotient(-7n, 2n)).toBe(-3.5)
  })
  plainIt("of decimals: half to even at the scale asked", () => {
    const dec = BigDecimal.unsafeFromString
    const q = (s: string, n: bigint, scale: number) => BigDecimal.format(decimalQuotient(dec(s), n, scale))
    expect(q("1", 3n, 6)).toBe("0.333333")
    expect(q("2", 3n, 6)).toBe("0.666667")
    expect(q("0.0000005", 1n, 6)).toBe("0")
    expect(q("0.0000015", 1n, 6)).toBe("0.000002")
    expect(q("-0.0000025", 1n, 6)).toBe("-0.000002")
    fc.assert(fc.property(fc.bigInt(-(10n ** 30n), 10n ** 30n), fc.integer({ min: 1, max: 1000 }), (n, c) => {
      const sum = BigDecimal.make(n, 10)
      expect(BigDecimal.equals(decimalQuotient(sum, BigInt(c), 16), roundedQuotient(sum, c, 16))).toBe(true)
    }))
  })
})

describe("aggregate group limit", () => {
  const Many = Model.make("Many", Schema.Struct({ id: Schema.Int }), { table: uniqueTable("agg_many"), timestamps: false })
  plainIt("more than 100,000 groups is a ValidationError, not a flood of rows", () =>
    Effect.runPromise(
      Effect.gen(function*() {
        yield* Many.bulkCreate(Array.from({ length: 100_001 }, (_, i) => ({ id: i + 1 })))
        const error = typedFailure(yield* Effect.exit(Many.aggregate({ groupBy: ["id"], count: true })))
        expect(error).toMatchObject({ _tag: "ValidationError", path: "groupBy" })
        const narrowed = yield* Many.aggregate({ groupBy: ["id"], count: true, where: { id: { $lte: 100_000 } }, limit: 2 })
        expect(narrowed).toEqual([{ id: 1, _count: 1 }, { id: 2, _count: 1 }])
      }).pipe(Effect.provide(Layer.orDie(DataFlow.layer({ url: "sqlite::memory:" }))))
    ), 60_000)
})
