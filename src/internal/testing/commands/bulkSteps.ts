/**
 * The random plans of the bulk and aggregate steps of a model-based run: `bulkUpsert` (rows
 * taking stored rows' conflict keys, live or soft-deleted, or another unique key of theirs; a
 * repeated key; a conflict target that is not one), `bulkUpdate(items)` (by id or unique key,
 * missing records, stale versions, arithmetic, a unique value taken from another row) and
 * `aggregate` (groups, every aggregate, `having`, order, page, and broken queries).
 * (Internal module: not part of the public API.)
 */
import * as fc from "effect/FastCheck"
import type { ModelDefinition } from "../../model/definition.js"
import { patch } from "../arbitrary.js"
import type { AggregatePlan, ArithPlan, FilterPlan, ItemPlan, Step, UpsertRowPlan } from "./steps.js"
import { numericFields } from "./steps.js"

type Row = Record<string, unknown>

const indexes = (maxLength: number) => fc.array(fc.nat({ max: 31 }), { maxLength })

const aggregatePlan = (filterPlan: fc.Arbitrary<FilterPlan>): fc.Arbitrary<AggregatePlan> =>
  fc.record({
    // unfiltered mostly: groups and distinct values need several rows
    filter: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: filterPlan }),
    groupBy: fc.option(indexes(2), { nil: undefined, freq: 2 }),
    countAll: fc.boolean(),
    count: indexes(1),
    countDistinct: indexes(2),
    sum: indexes(2),
    avg: indexes(2),
    min: indexes(2),
    max: indexes(2),
    having: fc.option(fc.nat(), { nil: undefined }),
    order: fc.option(fc.nat(), { nil: undefined }),
    limit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    offset: fc.option(fc.nat({ max: 2 }), { nil: undefined }),
    includeDeleted: fc.boolean(),
    // mostly a valid query; sometimes broken one of six ways
    bad: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) })
  })

/** @internal */
export const bulkSteps = (
  def: ModelDefinition,
  model: number,
  input: fc.Arbitrary<Row>,
  filterPlan: fc.Arbitrary<FilterPlan>
): ReadonlyArray<fc.WeightedArbitrary<Step>> => {
  const m = fc.constant(model)
  const out: Array<fc.WeightedArbitrary<Step>> = [
    { weight: 3, arbitrary: fc.record({ model: m, kind: fc.constant("aggregate" as const), plan: aggregatePlan(filterPlan) }) }
  ]
  if (def.appendOnly) return out
  const numeric = numericFields(def)
  const arith: fc.Arbitrary<ArithPlan | undefined> = numeric.length === 0
    ? fc.constant(undefined)
    : fc.option(
      fc.record({
        field: fc.nat({ max: numeric.length - 1 }),
        op: fc.constantFrom("$increment" as const, "$decrement" as const, "$multiply" as const),
        amount: fc.integer({ min: -3, max: 3 })
      }),
      { nil: undefined, freq: 3 }
    )
  const upsertRow: fc.Arbitrary<UpsertRowPlan> = fc.record({
    input,
    pick: fc.option(fc.nat(), { nil: undefined, freq: 2 }),
    cross: fc.option(fc.nat(), { nil: undefined, freq: 4 })
  })
  const item: fc.Arbitrary<ItemPlan> = fc.record({
    pick: fc.nat(),
    missing: fc.boolean(),
    byKey: fc.boolean(),
    set: fc.nat(),
    patch: patch(def),
    arith,
    stale: def.versioned ? fc.option(fc.boolean(), { nil: undefined }) : fc.constant(undefined),
    steal: fc.option(fc.nat(), { nil: undefined, freq: 6 })
  })
  out.push(
    {
      weight: 3,
      arbitrary: fc.record({
        model: m,
        kind: fc.constant("bulkUpsert" as const),
        rows: fc.array(upsertRow, { maxLength: 4 }),
        set: fc.nat(),
        repeat: fc.boolean(),
        badTarget: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        returnRecords: fc.boolean()
      })
    },
    {
      weight: 3,
      arbitrary: fc.record({ model: m, kind: fc.constant("items" as const), items: fc.array(item, { maxLength: 4 }), requireAll: fc.boolean() })
    }
  )
  return out
}
