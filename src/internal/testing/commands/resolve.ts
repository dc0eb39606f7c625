/**
 * A step of a model-based run as a node call, against the reference's rows as they are before
 * it: picked rows, ids that no row has, filters made of stored values, keys of unique sets.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import type { Column } from "../../../Column.js"
import type { ModelDefinition } from "../../model/definition.js"
import { keyFieldsOf } from "../../nodes/shared.js"
import type { Call } from "../reference.js"
import { toBulkCall } from "./bulkCalls.js"
import type { ArithPlan, Atom, FilterPlan, Step } from "./steps.js"
import { filterable, numericFields, textOps } from "./steps.js"

type Row = Record<string, unknown>

/** A value of a key column no stored row has: of the column's type, and short enough for its length when it can be. @internal */
export const missingValue = (def: ModelDefinition, column: Column): unknown => {
  const candidates: ReadonlyArray<unknown> = column.kind._tag === "string" ? ["~missing~", "~mis~", "~"] : [-424242]
  return candidates.find((v) => def.isValue.get(column.field)?.(v) === true) ?? candidates[0]
}

export const pickRow = (rows: ReadonlyArray<Row>, pick: number): Row | undefined => rows.length === 0 ? undefined : rows[pick % rows.length]

/** The id a call names a row by: its key's value, or the object of a composite key's fields. @internal */
export const idOfRow = (def: ModelDefinition, row: Row): unknown =>
  def.compositeKey ? Object.fromEntries(keyFieldsOf(def).map((f) => [f, row[f]])) : row[def.pk.field]

/**
 * The id of a picked row, or one no row has: for a composite key, a picked row's key with its
 * last field changed, so that every field but one matches a stored row.
 * @internal
 */
export const idFor = (def: ModelDefinition, from: ReadonlyArray<Row>, pick: number, missing: boolean): unknown => {
  const row = pickRow(from, pick)
  if (!missing && row !== undefined) return idOfRow(def, row)
  if (!def.compositeKey) return missingValue(def, def.pk)
  const last = def.key[def.key.length - 1]!
  return { ...Object.fromEntries(def.key.map((c) => [c.field, row?.[c.field] ?? missingValue(def, c)])), [last.field]: missingValue(def, last) }
}

/** Operand text for a text operator: a piece of a stored value, with LIKE wildcards kept. */
const textOperand = (op: string, value: string): string =>
  op === "$like" || op === "$ilike" ? `${value.slice(0, 2)}%` : value.slice(0, Math.max(1, Math.floor(value.length / 2)))

const resolveAtom = (def: ModelDefinition, rows: ReadonlyArray<Row>, atom: Atom): Row => {
  const column = filterable(def)[atom.field]!
  const stored = pickRow(rows, atom.pick)?.[column.field]
  const value = stored !== undefined && stored !== null && (atom.pick % 2 === 0 || atom.fresh === undefined) ? stored : atom.fresh
  if (atom.op === "null") return { [column.field]: null }
  if (atom.op === "$null") return { [column.field]: { $null: atom.pick % 2 === 0 } }
  if (value === undefined || value === null) return {}
  if (atom.op === "=") return { [column.field]: value }
  if (atom.op === "$in" || atom.op === "$nin") {
    const other = atom.fresh === undefined || atom.fresh === null ? [] : [atom.fresh]
    return { [column.field]: { [atom.op]: [value, ...other] } }
  }
  if ((textOps as ReadonlyArray<string>).includes(atom.op)) {
    return { [column.field]: { [atom.op]: textOperand(atom.op, String(value)) } }
  }
  return { [column.field]: { [atom.op]: value } }
}

export const resolveFilter = (def: ModelDefinition, rows: ReadonlyArray<Row>, plan: FilterPlan): Row | undefined => {
  if (plan.atoms.length === 0) return undefined
  const parts = plan.atoms.map((a) => resolveAtom(def, rows, a))
  if (plan.combine === "or") return { $or: parts }
  if (plan.combine === "not") return { $not: { $and: parts } }
  return { $and: parts }
}

/** Key sets a generated call may name a row by: the primary key (unless generated) and unique constraints. @internal */
export const keySets = (def: ModelDefinition): ReadonlyArray<ReadonlyArray<string>> => [
  ...(def.autoIncrement ? [] : [keyFieldsOf(def)]),
  ...def.uniqueSets.filter((s) => s.every((f) => !def.managedFields.has(f)))
]

/** The operand of an arithmetic update for a column's kind: small, storable on every database. @internal */
export const arithPatch = (def: ModelDefinition, plan: ArithPlan): Row => {
  const column = numericFields(def)[plan.field]!
  const n = plan.amount
  const operand = column.kind._tag === "bigint"
    ? BigInt(n)
    : column.kind._tag === "decimal"
    ? BigDecimal.unsafeFromString(plan.op === "$multiply" ? `${n}` : `${n}.25`)
    : column.kind._tag === "float" && plan.op !== "$multiply"
    ? n + 0.5
    : n
  return { [column.field]: { [plan.op]: operand } }
}

/** The later kinds of steps as calls (see {@link moreSteps}); undefined for the first kinds. */
const toLaterCall = (def: ModelDefinition, rows: ReadonlyArray<Row>, all: ReadonlyArray<Row>, step: Step): Call | undefined => {
  const idOf = (pick: number, missing: boolean, from = rows) => idFor(def, from, pick, missing)
  const keyOf = (pick: number, set: number, fresh: Row): { readonly fields: ReadonlyArray<string>; readonly key: Row } => {
    const sets = keySets(def)
    const fields = sets.length === 0 ? keyFieldsOf(def) : sets[set % sets.length]!
    // soft-deleted rows too: their keys are still taken (an upsert revives them, readBy skips them)
    const source = pickRow(all, pick) ?? fresh
    return { fields, key: Object.fromEntries(fields.map((f) => [f, source[f] ?? fresh[f] ?? null])) }
  }
  switch (step.kind) {
    case "exists":
      return { node: "exists", where: resolveFilter(def, rows, step.filter) }
    case "readBy":
    case "findBy":
      return { node: step.kind, key: keyOf(step.pick, step.set, step.fresh).key }
    case "versioned": {
      const row = pickRow(rows, step.pick)
      const version = (row?.version as number | undefined) ?? 1
      return { node: "update", id: idOf(step.pick, false), patch: step.patch, expectedVersion: step.stale ? version + 1 : version }
    }
    case "restore":
      return { node: "restore", id: idOf(step.pick, step.missing, all) }
    case "arith":
      return { node: "update", id: idOf(step.pick, step.missing), patch: arithPatch(def, step.arith) }
    case "bulkArith":
      return { node: "bulkUpdate", where: resolveFilter(def, rows, step.filter) ?? {}, patch: arithPatch(def, step.arith), confirm: true }
    case "upsert":
    case "createIgnore": {
      const { fields, key } = keyOf(step.pick, step.set, step.input)
      const input = step.existing ? { ...step.input, ...key } : step.input
      const conflictOn = keySets(def).length === 0 ? {} : { conflictOn: fields }
      if (step.kind === "createIgnore") return { node: "createIgnore", input, ...conflictOn }
      const update = step.arith === undefined ? step.patch : { ...step.patch, ...arithPatch(def, step.arith) }
      return { node: "upsert", args: { create: input, update, ...conflictOn } }
    }
    case "walk": {
      const columns = filterable(def)
      const column = columns[step.order % columns.length]!
      const orderBy = step.order % 3 === 0 ? [] : [step.order % 2 === 0 ? column.field : `-${column.field}`]
      const where = resolveFilter(def, rows, step.filter)
      return { node: "list", query: { ...(where === undefined ? {} : { where }), orderBy, limit: step.pageSize } }
    }
    default:
      return undefined
  }
}

/** The step as a node call, against the reference's live rows. @internal */
export const toCall = (def: ModelDefinition, rows: ReadonlyArray<Row>, all: ReadonlyArray<Row>, step: Step): Call => {
  const later = toLaterCall(def, rows, all, step) ?? toBulkCall(def, rows, all, step)
  if (later !== undefined) return later
  const idOf = (pick: number, missing: boolean) => idFor(def, rows, pick, missing)
  switch (step.kind) {
    case "create":
      return { node: "create", input: step.input }
    case "duplicate": {
      const existing = pickRow(rows, step.pick)
      const sets = keySets(def)
      if (sets.length === 0) return { node: "create", input: step.input }
      const set = sets[step.set % sets.length]!
      const copied = existing === undefined ? {} : Object.fromEntries(set.map((f) => [f, existing[f]]))
      return { node: "create", input: { ...step.input, ...copied } }
    }
    case "bulkCreate":
      return { node: "bulkCreate", rows: step.repeat && step.rows.length > 0 ? [...step.rows, step.rows[0]] : step.rows }
    case "read":
    case "find":
    case "delete":
      return { node: step.kind, id: idOf(step.pick, step.missing) }
    case "update":
      return { node: "update", id: idOf(step.pick, step.missing), patch: step.patch }
    case "list":
    case "count": {
      const where = resolveFilter(def, rows, step.filter)
      if (step.kind === "count") return { node: "count", where }
      const columns = filterable(def)
      const column = columns[step.order % columns.length]!
      const orderBy = step.order % 3 === 0 ? [] : [step.order % 2 === 0 ? column.field : `-${column.field}`]
      return {
        node: "list",
        query: {
          ...(where === undefined ? {} : { where }),
          orderBy,
          ...(step.limit === undefined ? {} : { limit: step.limit }),
          ...(step.offset === undefined || step.limit === undefined ? {} : { offset: step.offset })
        }
      }
    }
    case "badFilter":
      return { node: "count", where: { "~no such field~": 1 } }
    case "bulkUpdate":
      return { node: "bulkUpdate", where: resolveFilter(def, rows, step.filter) ?? {}, patch: step.patch, confirm: step.confirm }
    case "bulkDelete":
      return { node: "bulkDelete", where: resolveFilter(def, rows, step.filter) ?? {}, confirm: step.confirm }
    default:
      throw new TypeError(`Testing.commands: no call for a ${step.kind} step`)
  }
}
