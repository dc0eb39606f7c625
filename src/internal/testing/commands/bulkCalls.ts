/**
 * The bulk and aggregate steps of a model-based run as node calls (see `bulkSteps.ts`),
 * against the reference's rows as they are before the step.
 * (Internal module: not part of the public API.)
 */
import type { ModelDefinition } from "../../model/definition.js"
import { keyFieldsOf } from "../../nodes/shared.js"
import type { Call } from "../reference.js"
import { arithPatch, idFor, keySets, missingValue, pickRow, resolveFilter } from "./resolve.js"
import type { AggregatePlan, ItemPlan, Step, UpsertRowPlan } from "./steps.js"
import { filterable } from "./steps.js"

type Row = Record<string, unknown>

const copy = (from: Row | undefined, fields: ReadonlyArray<string>): Row =>
  from === undefined ? {} : Object.fromEntries(fields.filter((f) => from[f] !== undefined).map((f) => [f, from[f]]))

/** Unique keys of user fields a call may copy from a stored row (a generated key differs between the sides). */
const copyableSets = (def: ModelDefinition) => keySets(def)

const upsertCall = (
  def: ModelDefinition,
  all: ReadonlyArray<Row>,
  step: Extract<Step, { kind: "bulkUpsert" }>
): Call => {
  const sets = copyableSets(def)
  const nonKey = filterable(def).find((c) => !sets.some((s) => s.includes(c.field)) && !def.key.includes(c))
  const fields = step.badTarget ? [nonKey?.field ?? "~nope~"] : sets.length === 0 ? keyFieldsOf(def) : sets[step.set % sets.length]!
  const others = sets.filter((s) => s !== fields)
  const row = (plan: UpsertRowPlan): Row => ({
    ...plan.input,
    // another stored row's other unique key: a conflict outside the target (MySQL updates that row)
    ...(plan.cross === undefined || others.length === 0 ? {} : copy(pickRow(all, plan.cross >> 1), others[plan.cross % others.length]!)),
    // a stored row's conflict key (live or soft-deleted: revived)
    ...(plan.pick === undefined ? {} : copy(pickRow(all, plan.pick), fields))
  })
  const rows = step.rows.map(row)
  // a repeated key: the last row wins
  if (step.repeat && rows.length > 1) rows.push({ ...rows[rows.length - 1], ...copy(rows[0], fields) })
  return {
    node: "bulkUpsert",
    rows,
    ...(sets.length === 0 && !step.badTarget ? {} : { conflictOn: fields }),
    ...(step.returnRecords || def.autoIncrement ? { returnRecords: true } : {})
  }
}

const itemOf = (def: ModelDefinition, rows: ReadonlyArray<Row>, plan: ItemPlan): Row => {
  const row = pickRow(rows, plan.pick)
  const sets = def.uniqueSets.filter((s) => s.every((f) => !def.managedFields.has(f) && !def.key.some((c) => c.field === f)))
  let named: Row
  if (plan.byKey && sets.length > 0) {
    const set = sets[plan.set % sets.length]!
    const key: Row = Object.fromEntries(set.map((f) => [f, row?.[f] ?? null]))
    // a key no row has: every field but the last one a stored row's
    if (plan.missing || row === undefined) key[set[set.length - 1]!] = missingValue(def, def.byField.get(set[set.length - 1]!)!)
    named = { key }
  } else {
    named = { id: idFor(def, rows, plan.pick, plan.missing) }
  }
  const victim = plan.steal === undefined || sets.length === 0 ? undefined : pickRow(rows, plan.steal)
  const patch = {
    ...plan.patch,
    ...(plan.arith === undefined ? {} : arithPatch(def, plan.arith)),
    ...(victim === undefined ? {} : copy(victim, sets[plan.steal! % sets.length]!))
  }
  const version = row?.version as number | undefined
  const expected = plan.stale === undefined || version === undefined ? {} : { expectedVersion: plan.stale ? version + 1 : version }
  return { ...named, patch, ...expected }
}

const numericKinds = ["integer", "bigint", "decimal"]
const orderableKinds = ["integer", "float", "bigint", "decimal", "string", "enum", "datetime"]

/** An aggregate query of stored values; sums and averages of exact kinds only (a float sum depends on the order of addition). */
const aggregateQuery = (def: ModelDefinition, rows: ReadonlyArray<Row>, p: AggregatePlan): Row => {
  const base = filterable(def)
  const fieldsOf = (picks: ReadonlyArray<number>, kinds?: ReadonlyArray<string>) => {
    const columns = kinds === undefined ? base : base.filter((c) => kinds.includes(c.kind._tag))
    return columns.length === 0 ? [] : [...new Set(picks.map((i) => columns[i % columns.length]!.field))]
  }
  const query: Row = {}
  const where = p.filter === undefined ? undefined : resolveFilter(def, rows, p.filter)
  if (where !== undefined) query.where = where
  const groupBy = p.groupBy === undefined ? undefined : fieldsOf(p.groupBy)
  if (groupBy !== undefined) query.groupBy = groupBy
  const paths: Array<string> = [...(groupBy ?? [])]
  const ask = (name: string, fields: ReadonlyArray<string>) => {
    if (fields.length === 0) return
    query[name] = fields
    for (const f of fields) paths.push(`_${name}.${f}`)
  }
  if (p.countAll) {
    query.count = true
    paths.push("_count")
  } else ask("count", fieldsOf(p.count))
  ask("countDistinct", fieldsOf(p.countDistinct))
  ask("sum", fieldsOf(p.sum, numericKinds))
  ask("avg", fieldsOf(p.avg, numericKinds))
  ask("min", fieldsOf(p.min, orderableKinds))
  ask("max", fieldsOf(p.max, orderableKinds))
  if (p.includeDeleted) query.includeDeleted = true
  if (groupBy !== undefined) {
    if (p.order !== undefined && paths.length > 0) query.orderBy = [`${p.order % 2 === 0 ? "" : "-"}${paths[p.order % paths.length]}`]
    if (p.having !== undefined && p.countAll) query.having = { _count: { $gte: 1 + (p.having % 3) } }
    else if (p.having !== undefined && groupBy.length > 0) {
      const value = pickRow(rows, p.having)?.[groupBy[0]!]
      query.having = { [groupBy[0]!]: value === undefined || value === null ? { $null: false } : { $ne: value } }
    }
    if (p.limit !== undefined) query.limit = p.limit
    if (p.offset !== undefined) query.offset = p.offset
  }
  switch (p.bad) {
    case 1:
      return { ...query, sum: [base.find((c) => !numericKinds.includes(c.kind._tag) && c.kind._tag !== "float")?.field ?? "~nope~"] }
    case 2: {
      const { groupBy: _, ...ungrouped } = query
      return { ...ungrouped, having: { _count: { $gt: 0 } } }
    }
    case 3:
      return { ...query, groupBy: groupBy ?? [], orderBy: ["~nope~"] }
    case 4:
      return { ...query, groupBy: groupBy ?? [], limit: -1 }
    case 5:
      return { ...query, groupBy: groupBy ?? [], count: true, having: { _count: { $gt: "x" } } }
    case 6:
      return { ...query, where: { "~no such field~": 1 } }
    default:
      return query
  }
}

/** The bulk and aggregate steps as calls; undefined for every other kind. @internal */
export const toBulkCall = (def: ModelDefinition, rows: ReadonlyArray<Row>, all: ReadonlyArray<Row>, step: Step): Call | undefined => {
  switch (step.kind) {
    case "bulkUpsert":
      return upsertCall(def, all, step)
    case "items":
      return {
        node: "bulkUpdateItems",
        items: step.items.map((item) => itemOf(def, rows, item)),
        ...(step.requireAll ? { requireAll: true } : {})
      }
    case "aggregate":
      return { node: "aggregate", query: aggregateQuery(def, rows, step.plan) }
    default:
      return undefined
  }
}
