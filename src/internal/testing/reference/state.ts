/**
 * One table's rows while a reference call runs on them, and what every write shares: records
 * as read back, visibility (tenant, soft delete), unique keys (NULLs never collide,
 * soft-deleted rows keep theirs), the managed fields a write stamps or moves, filters checked
 * by the library's own compiler, all-or-nothing writes.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { InvalidFilter, UniqueViolation, UnsafeOperation, ValidationError } from "../../../Errors.js"
import type { ModelDefinition } from "../../model/definition.js"
import { isRecord, validation, valueProblem } from "../../model/validate.js"
import { keyFieldsOf } from "../../nodes/shared.js"
import { applyArith } from "../../nodes/update.js"
import { sqlite } from "../../dialect/sqlite.js"
import { compileFilter } from "../../sql/filter.js"
import { Params } from "../../sql/params.js"
import { relationTargets } from "../../sql/relationFilter.js"
import { statementsFor } from "../../sql/statements.js"
import { uniqueKey } from "../equivalence.js"
import { matches } from "../query.js"
import { relatedRows, relatedTable } from "./related.js"
import type { Env, Outcome, Row, Tables } from "./types.js"
import { failure } from "./types.js"

/** The state of one table while a call runs on it. @internal */
export interface State {
  readonly def: ModelDefinition
  readonly stored: Map<string, Row>
  readonly nextId: { value: number }
  readonly env: Env
  /** The reference's tables, for relations (none: a table on its own). */
  readonly tables?: Tables | undefined
}

/** A record as read back: optional fields stored as NULL come back absent. @internal */
export const asRecord = (def: ModelDefinition, row: Row): Row => {
  const out: Row = {}
  for (const c of def.columns) {
    const v = row[c.field]
    if (v === undefined || (v === null && c.optional && !c.nullable)) continue
    out[c.field] = v
  }
  return out
}

/** Where a row is stored: its key's values (a checked id: a scalar, or the object of a composite key's fields). @internal */
export const idKey = (def: ModelDefinition, id: unknown): string =>
  def.compositeKey ? uniqueKey(id as Row, keyFieldsOf(def))! : uniqueKey({ [def.pk.field]: id }, [def.pk.field])!
/** @internal */
export const ours = (s: State, row: Row) => !s.def.tenantScoped || row.tenantId === s.env.tenant
/** @internal */
export const visible = (s: State, row: Row | undefined, includeDeleted = false): row is Row =>
  row !== undefined && ours(s, row) && (includeDeleted || !s.def.softDelete || row.deletedAt === null)
/** @internal */
export const liveRows = (s: State, includeDeleted = false) => [...s.stored.values()].filter((r) => visible(s, r, includeDeleted))
/** @internal */
export const keyOf = (s: State, row: Row) => uniqueKey(row, keyFieldsOf(s.def))!

/** The unique keys of a model, in the order a database checks them: the primary key, then the constraints. @internal */
export const keySetsOf = (def: ModelDefinition): ReadonlyArray<ReadonlyArray<string>> => [keyFieldsOf(def), ...def.uniqueSets]

/** The first of the tenant's other rows sharing a unique key with `candidate`, and that key's fields. @internal */
export const conflictWith = (
  s: State,
  candidate: Row,
  others: Iterable<Row>,
  except?: Row
): { readonly row: Row; readonly fields: ReadonlyArray<string> } | undefined => {
  // key by key (a database checks its indexes one after the other), then row by row
  const rows = [...others].filter((o) => o !== except && ours(s, o))
  for (const fields of keySetsOf(s.def)) {
    const key = uniqueKey(candidate, fields)
    if (key === undefined) continue
    const row = rows.find((o) => uniqueKey(o, fields) === key)
    if (row !== undefined) return { row, fields }
  }
  return undefined
}

/** The fields of a unique key `candidate` shares with another of the tenant's rows (as the nodes name them, fields not columns). @internal */
export const collision = (s: State, candidate: Row, others: Iterable<Row>, except?: Row): ReadonlyArray<string> | undefined =>
  conflictWith(s, candidate, others, except)?.fields

/** A new row: managed fields stamped, a generated key given. @internal */
export const stamp = (s: State, record: Row): Row => {
  const out = { ...record }
  for (const m of s.def.managed) out[m.column.field] = m.initial(s.env.now, s.env.tenant)
  if (s.def.autoIncrement && out[s.def.pk.field] === undefined) out[s.def.pk.field] = s.nextId.value
  return out
}

/** What every update does to the managed fields: `updatedAt` stamped, `version` counted. @internal */
export const touched = (s: State, row: Row): Row => {
  const out = { ...row }
  for (const m of s.def.managed) {
    if (m.onUpdate === "now") out[m.column.field] = s.env.now
    if (m.onUpdate === "increment") out[m.column.field] = (row[m.column.field] as number) + 1
  }
  return out
}

/** @internal */
export const insert = (s: State, row: Row) => {
  s.stored.set(keyOf(s, row), row)
  if (s.def.autoIncrement) s.nextId.value = Math.max(s.nextId.value, Number(row[s.def.pk.field]) + 1)
}

/** A filter compiled by the library's own compiler (relation filters too): its errors are the nodes'. @internal */
export const filterCheck = (s: State, filter: unknown, operation: string) => {
  const statements = statementsFor(s.def, sqlite)
  const params = new Params(sqlite)
  return compileFilter(
    {
      model: s.def.name,
      operation,
      dialect: sqlite,
      field: statements.filterField,
      relation: relationTargets(statements, statements.table, 1, s.env.tenant, operation, params)
    },
    filter ?? {},
    params
  )
}

/** A (checked) filter as a test of this table's rows; relation filters read the other tables. @internal */
export const filterOf = (s: State, filter: unknown): (row: Row) => boolean => {
  const related = relatedRows(
    (def, relation, source) => (def === s.def ? s.stored.values() : relatedTable(s.tables, source, relation, def).stored()),
    s.env.tenant
  )
  return (row) => matches(s.def, filter, row, related)
}

/** @internal */
export const invalidFilter = (s: State, filter: unknown, operation: string): InvalidFilter | undefined => {
  const result = filterCheck(s, filter, operation)
  return Either.isLeft(result) ? result.left : undefined
}

/** A bulk write's filter: invalid, or one every row meets without `confirm` (UnsafeOperation). @internal */
export const bulkFilter = (s: State, filter: unknown, confirm: boolean | undefined, operation: string) => {
  const result = filterCheck(s, filter, operation)
  if (Either.isLeft(result)) return result.left
  if (result.right === undefined && confirm !== true) {
    return new UnsafeOperation({ model: s.def.name, operation, reason: "the filter matches every row; pass { confirm: true } to do that" })
  }
  return undefined
}

/** A patch applied to a row: arithmetic computed on its values and checked, managed fields moved. @internal */
export const patched = (s: State, row: Row, patch: Row, operation: string): Either.Either<Row, ValidationError> =>
  Either.map(applyArith(s.def, patch, row, operation), (values) => touched(s, { ...row, ...values }))

/** Writes rows all or nothing: a unique key taken by another row (or by two written rows) writes none. @internal */
export const writeAll = (s: State, next: ReadonlyArray<Row>, operation: string): Outcome | undefined => {
  const after = new Map(s.stored)
  for (const row of next) after.set(keyOf(s, row), row)
  for (const row of next) {
    const columns = collision(s, row, after.values(), after.get(keyOf(s, row)))
    if (columns !== undefined) return failure(new UniqueViolation({ model: s.def.name, operation, columns }))
  }
  for (const row of next) s.stored.set(keyOf(s, row), row)
  return undefined
}

/** The key of readBy / findBy: the primary key's or a unique constraint's fields, with values. @internal */
export const uniqueLookup = (s: State, key: unknown, operation: string) => {
  const def = s.def
  if (!isRecord(key)) return Either.left(validation(def, operation, "", "expected an object of a unique key's fields"))
  const fields = Object.keys(key)
  const same = (set: ReadonlyArray<string>) => set.length === fields.length && set.every((f) => fields.includes(f))
  const by = same(keyFieldsOf(def)) ? keyFieldsOf(def) : def.uniqueSets.find(same)
  if (by === undefined) {
    return Either.left(validation(def, operation, "", "its fields are not the primary key or a unique constraint of the model"))
  }
  for (const f of by) {
    const v = key[f]
    const problem = v === null || v === undefined ? "a key needs a value" : valueProblem(def, f, v)
    if (problem !== undefined) return Either.left(validation(def, operation, f, problem))
  }
  return Either.right({ by, key })
}
