/**
 * The steps of a model-based run before they meet the state: which kinds of node calls a
 * sequence is made of, and their random plans (which rows they pick are indexes into the live
 * rows, resolved by `resolve.ts`).
 * (Internal module: not part of the public API.)
 */
import * as fc from "effect/FastCheck"
import type { ModelDefinition } from "../../model/definition.js"
import { fieldArbitrary, keyedCreateInput, patch } from "../arbitrary.js"
import { bulkSteps } from "./bulkSteps.js"

type Row = Record<string, unknown>

/** One row of a bulkUpsert: its input, a stored row whose conflict key it takes, another whose other unique key it takes. @internal */
export interface UpsertRowPlan {
  readonly input: Row
  readonly pick: number | undefined
  readonly cross: number | undefined
}

/** One item of `bulkUpdate(items)`. @internal */
export interface ItemPlan {
  readonly pick: number
  readonly missing: boolean
  readonly byKey: boolean
  readonly set: number
  readonly patch: Row
  readonly arith: ArithPlan | undefined
  readonly stale: boolean | undefined
  /** Sets a unique field to another live row's value (a UniqueViolation, usually). */
  readonly steal: number | undefined
}

/** An aggregate query: indexes into the columns each part may name; `bad` > 0 breaks it one way. @internal */
export interface AggregatePlan {
  readonly filter: FilterPlan | undefined
  readonly groupBy: ReadonlyArray<number> | undefined
  readonly countAll: boolean
  readonly count: ReadonlyArray<number>
  readonly countDistinct: ReadonlyArray<number>
  readonly sum: ReadonlyArray<number>
  readonly avg: ReadonlyArray<number>
  readonly min: ReadonlyArray<number>
  readonly max: ReadonlyArray<number>
  readonly having: number | undefined
  readonly order: number | undefined
  readonly limit: number | undefined
  readonly offset: number | undefined
  readonly includeDeleted: boolean
  readonly bad: number
}

/** @internal */
export type Step =
  | { readonly model: number; readonly kind: "create"; readonly input: Row }
  | { readonly model: number; readonly kind: "duplicate"; readonly pick: number; readonly set: number; readonly input: Row }
  | { readonly model: number; readonly kind: "bulkCreate"; readonly rows: ReadonlyArray<Row>; readonly repeat: boolean }
  | { readonly model: number; readonly kind: "read" | "find" | "delete"; readonly pick: number; readonly missing: boolean }
  | { readonly model: number; readonly kind: "update"; readonly pick: number; readonly missing: boolean; readonly patch: Row }
  | { readonly model: number; readonly kind: "list" | "count"; readonly filter: FilterPlan; readonly order: number; readonly limit: number | undefined; readonly offset: number | undefined }
  | { readonly model: number; readonly kind: "badFilter" }
  | { readonly model: number; readonly kind: "bulkUpdate"; readonly filter: FilterPlan; readonly patch: Row; readonly confirm: boolean }
  | { readonly model: number; readonly kind: "bulkDelete"; readonly filter: FilterPlan; readonly confirm: boolean }
  | { readonly model: number; readonly kind: "exists"; readonly filter: FilterPlan }
  | { readonly model: number; readonly kind: "readBy" | "findBy"; readonly pick: number; readonly set: number; readonly fresh: Row }
  | { readonly model: number; readonly kind: "versioned"; readonly pick: number; readonly stale: boolean; readonly patch: Row }
  | { readonly model: number; readonly kind: "restore"; readonly pick: number; readonly missing: boolean }
  | { readonly model: number; readonly kind: "arith"; readonly pick: number; readonly missing: boolean; readonly arith: ArithPlan }
  | { readonly model: number; readonly kind: "bulkArith"; readonly filter: FilterPlan; readonly arith: ArithPlan }
  | {
    readonly model: number
    readonly kind: "upsert" | "createIgnore"
    readonly pick: number
    readonly existing: boolean
    readonly set: number
    readonly input: Row
    readonly patch: Row
    readonly arith: ArithPlan | undefined
  }
  | { readonly model: number; readonly kind: "walk"; readonly filter: FilterPlan; readonly order: number; readonly pageSize: number }
  | {
    readonly model: number
    readonly kind: "bulkUpsert"
    readonly rows: ReadonlyArray<UpsertRowPlan>
    readonly set: number
    readonly repeat: boolean
    readonly badTarget: boolean
    readonly returnRecords: boolean
  }
  | { readonly model: number; readonly kind: "items"; readonly items: ReadonlyArray<ItemPlan>; readonly requireAll: boolean }
  | { readonly model: number; readonly kind: "aggregate"; readonly plan: AggregatePlan }

/** An arithmetic update of one numeric field: which field, which operator, a small operand. @internal */
export interface ArithPlan {
  readonly field: number
  readonly op: "$increment" | "$decrement" | "$multiply"
  readonly amount: number
}

/** @internal */
export interface Atom {
  readonly field: number
  readonly op: string
  readonly pick: number
  readonly fresh: unknown
}

/** @internal */
export interface FilterPlan {
  readonly atoms: ReadonlyArray<Atom>
  readonly combine: "and" | "or" | "not"
}

/** @internal */
export const comparisonOps = ["=", "null", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null"] as const
/** @internal */
export const textOps = ["$like", "$ilike", "$startsWith", "$endsWith", "$contains"] as const

/** Columns a generated filter or ordering uses: not JSON, not the clock's stamps (they differ by the time a call takes). @internal */
export const filterable = (def: ModelDefinition) =>
  def.columns.filter((c) =>
    c.kind._tag !== "json" && !(def.managedFields.has(c.field) && c.kind._tag === "datetime") &&
    !(def.autoIncrement && c === def.pk)
  )

/** @internal */
export const atomArbitrary = (def: ModelDefinition): fc.Arbitrary<Atom> => {
  const columns = filterable(def)
  return fc.nat({ max: columns.length - 1 }).chain((field) => {
    const column = columns[field]!
    const ops = column.kind._tag === "string" || column.kind._tag === "enum" ? [...comparisonOps, ...textOps] : comparisonOps
    const values = def.managedFields.has(column.field)
      ? fc.constant(undefined)
      : fieldArbitrary(def, column, undefined).filter((v) => v !== null)
    return fc.record({ field: fc.constant(field), op: fc.constantFrom(...ops), pick: fc.nat(), fresh: values })
  })
}

/** Numeric fields an arithmetic update may name (not managed, not a key field). @internal */
export const numericFields = (def: ModelDefinition) =>
  def.columns.filter((c) =>
    ["integer", "float", "bigint", "decimal"].includes(c.kind._tag) && !def.managedFields.has(c.field) && !def.key.includes(c)
  )

/** The later node kinds: by key, exists, versions, restore, arithmetic, upserts, cursor walks. */
const moreSteps = (
  def: ModelDefinition,
  model: number,
  input: fc.Arbitrary<Row>,
  filterPlan: fc.Arbitrary<FilterPlan>
): ReadonlyArray<fc.WeightedArbitrary<Step>> => {
  const m = fc.constant(model)
  const numeric = numericFields(def)
  const arith = numeric.length === 0 ? undefined : fc.record({
    field: fc.nat({ max: numeric.length - 1 }),
    op: fc.constantFrom("$increment" as const, "$decrement" as const, "$multiply" as const),
    amount: fc.integer({ min: -3, max: 3 })
  })
  const mutable = !def.appendOnly
  const out: Array<fc.WeightedArbitrary<Step>> = [
    { weight: 1, arbitrary: fc.record({ model: m, kind: fc.constant("exists" as const), filter: filterPlan }) },
    {
      weight: 2,
      arbitrary: fc.record({ model: m, kind: fc.constantFrom("readBy" as const, "findBy" as const), pick: fc.nat(), set: fc.nat(), fresh: input })
    },
    { weight: 1, arbitrary: fc.record({ model: m, kind: fc.constant("walk" as const), filter: filterPlan, order: fc.nat(), pageSize: fc.integer({ min: 1, max: 3 }) }) }
  ]
  if (!mutable) return out
  const upsert = (kind: "upsert" | "createIgnore") =>
    fc.record({
      model: m,
      kind: fc.constant(kind),
      pick: fc.nat(),
      existing: fc.boolean(),
      set: fc.nat(),
      input,
      patch: patch(def),
      arith: arith === undefined || kind === "createIgnore" ? fc.constant(undefined) : fc.option(arith, { nil: undefined })
    })
  out.push({ weight: 2, arbitrary: upsert("upsert") }, { weight: 1, arbitrary: upsert("createIgnore") })
  if (arith !== undefined) {
    out.push(
      { weight: 2, arbitrary: fc.record({ model: m, kind: fc.constant("arith" as const), pick: fc.nat(), missing: fc.boolean(), arith }) },
      { weight: 1, arbitrary: fc.record({ model: m, kind: fc.constant("bulkArith" as const), filter: filterPlan, arith }) }
    )
  }
  if (def.versioned) {
    out.push({
      weight: 1,
      arbitrary: fc.record({ model: m, kind: fc.constant("versioned" as const), pick: fc.nat(), stale: fc.boolean(), patch: patch(def) })
    })
  }
  if (def.softDelete) {
    out.push({ weight: 2, arbitrary: fc.record({ model: m, kind: fc.constant("restore" as const), pick: fc.nat(), missing: fc.boolean() }) })
  }
  return out
}

/** @internal */
export const stepArbitrary = (defs: ReadonlyArray<ModelDefinition>): fc.Arbitrary<Step> =>
  fc.nat({ max: defs.length - 1 }).chain((model) => {
    const def = defs[model]!
    const input = keyedCreateInput(def)
    const mutable = !def.appendOnly
    const filterPlan = fc.record({
      atoms: fc.array(atomArbitrary(def), { minLength: 1, maxLength: 2 }),
      combine: fc.constantFrom("and" as const, "or" as const, "not" as const)
    })
    const query = (kind: "list" | "count") =>
      fc.record({
        model: fc.constant(model),
        kind: fc.constant(kind),
        filter: filterPlan,
        order: fc.nat(),
        limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        offset: fc.option(fc.nat({ max: 3 }), { nil: undefined })
      })
    const target = (kind: "read" | "find" | "delete") =>
      fc.record({ model: fc.constant(model), kind: fc.constant(kind), pick: fc.nat(), missing: fc.boolean() })
    return fc.oneof(
      { weight: 4, arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("create" as const), input }) },
      {
        weight: 1,
        arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("duplicate" as const), pick: fc.nat(), set: fc.nat(), input })
      },
      {
        weight: 1,
        arbitrary: fc.record({
          model: fc.constant(model),
          kind: fc.constant("bulkCreate" as const),
          rows: fc.array(input, { maxLength: 3 }),
          repeat: fc.boolean()
        })
      },
      { weight: 2, arbitrary: target("read") },
      { weight: 1, arbitrary: target("find") },
      ...(mutable
        ? [
          { weight: 1, arbitrary: target("delete") },
          {
            weight: 3,
            arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("update" as const), pick: fc.nat(), missing: fc.boolean(), patch: patch(def) })
          },
          {
            weight: 1,
            arbitrary: fc.record({
              model: fc.constant(model),
              kind: fc.constant("bulkUpdate" as const),
              filter: filterPlan,
              patch: patch(def),
              confirm: fc.boolean()
            })
          },
          {
            weight: 1,
            arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("bulkDelete" as const), filter: filterPlan, confirm: fc.boolean() })
          }
        ]
        : []),
      { weight: 4, arbitrary: query("list") },
      { weight: 3, arbitrary: query("count") },
      { weight: 1, arbitrary: fc.constant({ model, kind: "badFilter" as const }) },
      ...moreSteps(def, model, input, filterPlan),
      ...bulkSteps(def, model, input, filterPlan)
    ) as fc.Arbitrary<Step>
  })

