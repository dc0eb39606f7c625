/**
 * Model evolution, property-based at a small size: random sequences of model versions (add or
 * drop a field, relax nullability, widen a string, add or drop an index) planned and applied in
 * turn with rows in the table. After each step the plan for the model is empty (the
 * introspected table is the model's) and every row written before still reads the values it
 * had for the fields that remain (NULL for fields added since).
 */
import { expect } from "@effect/vitest"
import { Effect, FastCheck, Schema } from "effect"
import { Migration, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface FieldState {
  readonly present: boolean
  readonly nullable: boolean
  readonly maxLength: 20 | 40 | undefined
  readonly indexed: boolean
}
type Version = Readonly<Record<string, FieldState>>

const names = ["alpha", "beta", "gamma"] as const
// alpha is never dropped: a model of its key alone is another matter (see the report)

const start: Version = Object.fromEntries(names.map((n) => [n, { present: n === "alpha", nullable: false, maxLength: 20, indexed: false }]))

type Step = { readonly field: (typeof names)[number]; readonly change: "toggle" | "relax" | "widen" | "index" }
const step = FastCheck.record({
  field: FastCheck.constantFrom(...names),
  change: FastCheck.constantFrom("toggle" as const, "relax" as const, "widen" as const, "index" as const)
})

const next = (version: Version, { change, field }: Step): Version => {
  const f = version[field]!
  const changed: FieldState = change === "toggle"
    ? f.present
      ? field === "alpha" ? f : { ...f, present: false, indexed: false }
      : { present: true, nullable: true, maxLength: 20, indexed: false } // added to a table with rows: nullable
    : !f.present
    ? f
    : change === "relax"
    ? { ...f, nullable: true }
    : change === "widen"
    ? { ...f, maxLength: f.maxLength === 20 ? 40 : undefined }
    : { ...f, indexed: !f.indexed }
  return { ...version, [field]: changed }
}

const modelOf = (table: string, version: Version) => {
  const fields: Record<string, Schema.Schema.Any> = { id: Schema.Int }
  for (const n of names) {
    const f = version[n]!
    if (!f.present) continue
    const base = f.maxLength === undefined ? Schema.String : Schema.String.pipe(Schema.maxLength(f.maxLength))
    fields[n] = f.nullable ? Schema.NullOr(base) : base
  }
  const indexes = names.filter((n) => version[n]!.present && version[n]!.indexed)
  return Model.make("Evolving", Schema.Struct(fields), { table, timestamps: false, indexes: [...indexes] }) as unknown as Model.Any & {
    readonly create: (input: Record<string, unknown>) => Effect.Effect<{ readonly id: number }, unknown>
    readonly list: (q: object) => Effect.Effect<{ readonly records: ReadonlyArray<Record<string, unknown>> }, unknown>
  }
}

const sequences = FastCheck.sample(FastCheck.array(step, { minLength: 3, maxLength: 5 }), { numRuns: 3, seed: 11 })

forEachDatabase("model evolution", (it) => {
  sequences.forEach((steps, run) => {
    it.effect(`sequence ${run}: ${steps.map((s) => `${s.change} ${s.field}`).join(", ")}`, () =>
      Effect.gen(function*() {
        const table = uniqueTable("evolving")
        let version = start
        const expected = new Map<number, Record<string, unknown>>()
        for (const [i, s] of [{ field: "alpha", change: "index" } as Step, ...steps].entries()) {
          if (i > 0) version = next(version, s)
          const model = modelOf(table, version)
          const plan = yield* Migration.plan([model])
          yield* Migration.apply(plan, { allowDestructive: true })
          expect((yield* Migration.plan([model])).operations).toEqual([])
          // the fields that remain keep their values; a field added since reads NULL
          for (const row of expected.values()) {
            for (const n of names) {
              if (!version[n]!.present) delete row[n]
              else if (!(n in row)) row[n] = null
            }
          }
          const values: Record<string, unknown> = {}
          for (const n of names) if (version[n]!.present) values[n] = `s${i}_${n}`
          const created = yield* model.create(values)
          expected.set(created.id, { ...values })
          const stored = (yield* model.list({ orderBy: ["id"] })).records
          expect(stored.map((r) => {
            const { id, ...rest } = r
            return [id, rest]
          })).toEqual([...expected].map(([id, row]) => [id, row]))
        }
      }))
  })
})
