/**
 * The testing kit's arbitraries (effect-dataflow/testing): for every field type, generated
 * inputs are stored and read back equal on every database (`DATAFLOW_ARBITRARY_RUNS` per
 * type, default 200; the seed is printed on failure and set with `DATAFLOW_SEED`); unique rows
 * really are unique; overrides apply; shrinking reaches the smallest counterexample.
 */
import { expect } from "@effect/vitest"
import { BigDecimal, Effect, FastCheck as fc, Schema } from "effect"
import { describe, it as plainIt } from "vitest"
import { Column, Model } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const RUNS = Number(process.env.DATAFLOW_ARBITRARY_RUNS ?? 200)
const SEED = process.env.DATAFLOW_SEED === undefined ? Date.now() % 1_000_000 : Number(process.env.DATAFLOW_SEED)
const BATCH = 250

const fieldTypes = {
  text: Schema.String,
  shortText: Schema.String.pipe(Schema.maxLength(3)),
  int: Schema.Int,
  float: Schema.Number,
  finite: Schema.Finite,
  boolean: Schema.Boolean,
  date: Schema.DateFromSelf,
  bigint: Schema.BigIntFromSelf,
  decimal: Schema.BigDecimalFromSelf,
  money: Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 12, scale: 2 })),
  enum: Schema.Literal("a", "B", "中", "long value"),
  json: Schema.Unknown,
  jsonStruct: Schema.Struct({ n: Schema.Number, tags: Schema.Array(Schema.String), at: Schema.optional(Schema.Date) }),
  nullableInt: Schema.NullOr(Schema.Int),
  nullableDate: Schema.NullOr(Schema.DateFromSelf),
  optionalText: Schema.optional(Schema.String),
  pattern: Schema.String.pipe(Schema.pattern(/^[a-z]{2,8}$/)),
  between: Schema.Int.pipe(Schema.between(-5, 5))
} as const

const models = Object.entries(fieldTypes).map(([name, schema]) => ({
  name,
  model: Model.make(`Arb${name}`, { id: Schema.Int, value: schema as Schema.Schema<unknown> }, {
    table: uniqueTable(`arb_${name.toLowerCase()}`),
    timestamps: false
  })
}))

const Keyed = Model.make("ArbKeyed", {
  id: Schema.String,
  email: Schema.String.pipe(Schema.maxLength(4)),
  a: Schema.Literal("x", "y", "z"),
  b: Schema.Int.pipe(Schema.between(0, 3)),
  c: Schema.NullOr(Schema.Boolean),
  when: Schema.NullOr(Schema.DateFromSelf)
}, { table: uniqueTable("arb_keyed"), unique: ["email", ["a", "b"], ["c", "when"]] })

forEachDatabase("testing kit: arbitraries", (it) => {
  for (const { model, name } of models) {
    it.effect(`${name}: ${RUNS} generated inputs are stored and read back equal`, () =>
      Effect.gen(function*() {
        const inputs = fc.sample(Testing.createInput(model), { numRuns: RUNS, seed: SEED })
        for (let start = 0; start < inputs.length; start += BATCH) {
          const batch = inputs.slice(start, start + BATCH)
          const { records } = yield* model.bulkCreate(batch, { returnRecords: true })
          const read = yield* model.list({ where: { id: { $in: records.map((r) => r.id) } }, orderBy: ["id"], limit: BATCH })
          const byId = new Map(read.records.map((r) => [r.id, r]))
          batch.forEach((input, i) => {
            const back = byId.get(records[i]!.id)
            if (!Testing.equivalent(back?.value, input.value)) {
              expect.fail(`${name} (seed ${SEED}): stored ${JSON.stringify(Testing.canonical(input))}, read back ${JSON.stringify(Testing.canonical(back))}`)
            }
          })
        }
        // the single-row path too
        for (const input of inputs.slice(0, 20)) {
          const created = yield* model.create(input)
          const back = yield* model.read(created.id)
          expect(Testing.canonical(back.value)).toEqual(Testing.canonical(input.value))
        }
      }), 120_000)
  }

  it.effect("rows: primary keys and single and composite unique constraints are unique", () =>
    Effect.gen(function*() {
      const sets = fc.sample(Testing.rows(Keyed, { size: { min: 1, max: 12 } }), { numRuns: 25, seed: SEED })
      for (const rows of sets) {
        yield* Keyed.bulkDelete({}, { confirm: true })
        const { inserted } = yield* Keyed.bulkCreate(rows)
        expect(inserted).toBe(rows.length)
      }
    }))

  it.effect("rows: a composite primary key is unique as a whole, its fields always drawn", () =>
    Effect.gen(function*() {
      const Pair = Model.make("ArbPair", {
        side: Schema.Literal("l", "r"),
        slot: Schema.Int,
        label: Schema.String.pipe(Schema.maxLength(4))
      }, { table: uniqueTable("arb_pairs"), primaryKey: ["side", "slot"] })
      const slots = fc.integer({ min: 1, max: 4 })
      const sets = fc.sample(Testing.rows(Pair, { size: { min: 1, max: 8 }, overrides: { slot: slots } }), { numRuns: 25, seed: SEED })
      expect(sets.some((rows) => new Set(rows.map((r) => r.side)).size < rows.length)).toBe(true)
      for (const rows of sets) {
        expect(rows.every((r) => typeof r.side === "string" && typeof r.slot === "number")).toBe(true)
        yield* Pair.bulkDelete({}, { confirm: true })
        const { inserted } = yield* Pair.bulkCreate(rows)
        expect(inserted).toBe(rows.length)
      }
    }))
})

describe("testing kit: arbitraries without a database", () => {
  plainIt("overrides replace a field's values; undefined leaves an optional key out", () => {
    const User = Model.make("ArbUser", {
      id: Schema.Int,
      email: Schema.String,
      nickname: Schema.optional(Schema.String)
    }, { table: "arb_users" })
    const inputs = fc.sample(
      Testing.createInput(User, {
        overrides: { email: fc.constant("ada@example.com"), nickname: fc.constant(undefined) }
      }),
      50
    )
    for (const input of inputs) {
      expect(input.email).toBe("ada@example.com")
      expect("nickname" in input).toBe(false)
      expect("id" in input).toBe(false)
    }
    const withId = fc.sample(Testing.createInput(User, { overrides: { id: fc.integer({ min: 1, max: 9 }) } }), 20)
    expect(withId.every((i) => typeof i.id === "number" && i.id >= 1 && i.id <= 9)).toBe(true)
  })

  plainIt("records carry the managed fields; patches never the primary key", () => {
    const Doc = Model.make("ArbDoc", { id: Schema.String, title: Schema.String }, {
      table: "arb_docs",
      softDelete: true,
      versioned: true
    })
    for (const r of fc.sample(Testing.record(Doc), 30)) {
      expect(r.createdAt).toBeInstanceOf(Date)
      expect(r.deletedAt === null || r.deletedAt instanceof Date).toBe(true)
      expect(r.version).toBeGreaterThanOrEqual(1)
      expect(typeof r.id).toBe("string")
    }
    for (const p of fc.sample(Testing.patch(Doc), 30)) expect("id" in p).toBe(false)
    const Pair = Model.make("ArbPair", { a: Schema.Int, b: Schema.String, note: Schema.String }, { table: "arb_pairs", primaryKey: ["a", "b"] })
    const patches = fc.sample(Testing.patch(Pair), 30)
    expect(patches.every((p) => !("a" in p) && !("b" in p))).toBe(true)
    expect(patches.some((p) => "note" in p)).toBe(true)
  })

  plainIt("shrinking reaches the smallest counterexample", () => {
    const Account = Model.make("ArbAccount", {
      id: Schema.Int,
      balance: Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 12, scale: 2 })),
      owner: Schema.String
    }, { table: "arb_accounts" })
    const result = fc.check(
      fc.property(Testing.createInput(Account), (input) => BigDecimal.lessThan(input.balance, BigDecimal.fromNumber(100))),
      { seed: 42 }
    )
    expect(result.failed).toBe(true)
    const [input] = result.counterexample!
    expect(BigDecimal.equals(input.balance, BigDecimal.fromNumber(100))).toBe(true)
    expect(input.owner).toBe("")
  })
})
