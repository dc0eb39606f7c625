/**
 * An in-memory reference implementation of the nodes' documented semantics, written apart
 * from the SQL path: filters, ordering and cursors (`query.ts`), limit/offset, soft delete and
 * restore, versions and optimistic locking, timestamps, arithmetic updates, upserts, unique
 * constraints (NULLs never collide, soft-deleted rows keep their keys) and atomic bulk writes.
 * Inputs, patches, ids, keys and filters are validated by the library's own validation, so the
 * reference fails with the same typed errors.
 * (Internal module: not part of the public API.)
 */
import { Either } from "effect"
import {
  ConflictTargetError,
  InvalidCursor,
  InvalidFilter,
  NotFound,
  OptimisticLockError,
  UniqueViolation,
  UnsafeOperation,
  ValidationError
} from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import { checkId, isRecord, prepareCreate, preparePatch, validation, valueProblem } from "../model/validate.js"
import { conflictTarget, idOf, keyFieldsOf } from "../nodes/shared.js"
import { applyArith } from "../nodes/update.js"
import { sqlite } from "../dialect/sqlite.js"
import * as Cursor from "../sql/cursor.js"
import { compileFilter } from "../sql/filter.js"
import { Params } from "../sql/params.js"
import { statementsFor } from "../sql/statements.js"
import { uniqueKey } from "./equivalence.js"
import type { Term } from "./query.js"
import { afterCursor, matches, orderTerms, sortRows } from "./query.js"

export { matches, sortRows }

type Row = Record<string, unknown>

/** A `list` call's query. @internal */
export interface ListCall {
  readonly where?: unknown
  readonly orderBy?: ReadonlyArray<string>
  readonly limit?: number
  readonly offset?: number
  readonly cursor?: string
  readonly includeDeleted?: boolean
  readonly select?: ReadonlyArray<string>
  readonly total?: boolean
}

/** A call of a node, as data (what a command sequence is made of). @internal */
export type Call =
  | { readonly node: "create"; readonly input: unknown }
  | { readonly node: "bulkCreate"; readonly rows: ReadonlyArray<unknown>; readonly returnRecords?: boolean }
  | { readonly node: "read" | "find"; readonly id: unknown; readonly includeDeleted?: boolean }
  | { readonly node: "readBy" | "findBy"; readonly key: unknown; readonly includeDeleted?: boolean }
  | { readonly node: "update"; readonly id: unknown; readonly patch: unknown; readonly expectedVersion?: unknown }
  | { readonly node: "delete" | "restore"; readonly id: unknown }
  | { readonly node: "bulkUpdate"; readonly where: unknown; readonly patch: unknown; readonly confirm?: boolean }
  | { readonly node: "bulkDelete"; readonly where: unknown; readonly confirm?: boolean }
  | { readonly node: "list"; readonly query: ListCall }
  | { readonly node: "count" | "exists"; readonly where?: unknown; readonly includeDeleted?: boolean }
  | {
    readonly node: "upsert"
    readonly args: { readonly where?: unknown; readonly create?: unknown; readonly update?: unknown; readonly conflictOn?: unknown }
  }
  | { readonly node: "createIgnore"; readonly input: unknown; readonly conflictOn?: unknown }

/** The errors a reference call can fail with. @internal */
export type ReferenceError =
  | ValidationError
  | NotFound
  | UniqueViolation
  | InvalidFilter
  | InvalidCursor
  | UnsafeOperation
  | OptimisticLockError
  | ConflictTargetError

/** What a call gave: its value, or the error it failed with. @internal */
export type Outcome =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly error: ReferenceError }

const success = (value: unknown): Outcome => ({ _tag: "Success", value })
const failure = (error: ReferenceError): Outcome => ({ _tag: "Failure", error })

/** Where a call runs: the time it stamps, the tenant it runs as, the key that signs cursors. @internal */
export interface Env {
  readonly now: Date
  readonly tenant?: string | undefined
  readonly cursorKey?: string | undefined
}

/** A table's rows at one moment. @internal */
export interface Snapshot {
  readonly stored: ReadonlyMap<string, Row>
  readonly nextId: number
}

/** One model's rows in memory and its nodes over them. @internal */
export interface ReferenceTable {
  readonly definition: ModelDefinition
  /** Runs a call (tenant-scoped models: the tenant's rows only, stamped with it). */
  readonly execute: (call: Call, env: Env) => Outcome
  /** Every stored row (soft-deleted ones included) as the nodes return records, by primary key. */
  readonly rows: () => ReadonlyArray<Row>
  readonly clear: () => void
  /** The rows as they are now, for {@link ReferenceTable.restore} (a transaction's rollback). */
  readonly snapshot: () => Snapshot
  readonly restore: (snapshot: Snapshot) => void
}

/** A record as read back: optional fields stored as NULL come back absent. */
const asRecord = (def: ModelDefinition, row: Row): Row => {
  const out: Row = {}
  for (const c of def.columns) {
    const v = row[c.field]
    if (v === undefined || (v === null && c.optional && !c.nullable)) continue
    out[c.field] = v
  }
  return out
}

/** The state of one table while a call runs on it. */
interface State {
  readonly def: ModelDefinition
  readonly stored: Map<string, Row>
  readonly nextId: { value: number }
  readonly env: Env
}

/** Where a row is stored: its key's values (a checked id: a scalar, or the object of a composite key's fields). */
const idKey = (def: ModelDefinition, id: unknown): string =>
  def.compositeKey ? uniqueKey(id as Row, keyFieldsOf(def))! : uniqueKey({ [def.pk.field]: id }, [def.pk.field])!
const ours = (s: State, row: Row) => !s.def.tenantScoped || row.tenantId === s.env.tenant
const visible = (s: State, row: Row | undefined, includeDeleted = false): row is Row =>
  row !== undefined && ours(s, row) && (includeDeleted || !s.def.softDelete || row.deletedAt === null)
const liveRows = (s: State, includeDeleted = false) => [...s.stored.values()].filter((r) => visible(s, r, includeDeleted))
const keyOf = (s: State, row: Row) => uniqueKey(row, keyFieldsOf(s.def))!

/** The fields of a unique key `candidate` shares with another of the tenant's rows (as the nodes name them, fields not columns). */
const collision = (s: State, candidate: Row, others: Iterable<Row>, except?: Row): ReadonlyArray<string> | undefined => {
  const keySets = [keyFieldsOf(s.def), ...s.def.uniqueSets]
  for (const other of others) {
    if (other === except || !ours(s, other)) continue
    const set = keySets.find((fields) => {
      const key = uniqueKey(candidate, fields)
      return key !== undefined && key === uniqueKey(other, fields)
    })
    if (set !== undefined) return set
  }
  return undefined
}

const stamp = (s: State, record: Row): Row => {
  const out = { ...record }
  for (const m of s.def.managed) out[m.column.field] = m.initial(s.env.now, s.env.tenant)
  if (s.def.autoIncrement && out[s.def.pk.field] === undefined) out[s.def.pk.field] = s.nextId.value
  return out
}

/** What every update does to the managed fields: `updatedAt` stamped, `version` counted. */
const touched = (s: State, row: Row): Row => {
  const out = { ...row }
  for (const m of s.def.managed) {
    if (m.onUpdate === "now") out[m.column.field] = s.env.now
    if (m.onUpdate === "increment") out[m.column.field] = (row[m.column.field] as number) + 1
  }
  return out
}

const insert = (s: State, row: Row) => {
  s.stored.set(keyOf(s, row), row)
  if (s.def.autoIncrement) s.nextId.value = Math.max(s.nextId.value, Number(row[s.def.pk.field]) + 1)
}

const filterCheck = (s: State, filter: unknown, operation: string) =>
  compileFilter(
    { model: s.def.name, operation, dialect: sqlite, field: statementsFor(s.def, sqlite).filterField },
    filter ?? {},
    new Params(sqlite)
  )

const invalidFilter = (s: State, filter: unknown, operation: string): InvalidFilter | undefined => {
  const result = filterCheck(s, filter, operation)
  return Either.isLeft(result) ? result.left : undefined
}

/** A bulk write's filter: invalid, or one every row meets without `confirm` (UnsafeOperation). */
const bulkFilter = (s: State, filter: unknown, confirm: boolean | undefined, operation: string) => {
  const result = filterCheck(s, filter, operation)
  if (Either.isLeft(result)) return result.left
  if (result.right === undefined && confirm !== true) {
    return new UnsafeOperation({ model: s.def.name, operation, reason: "the filter matches every row; pass { confirm: true } to do that" })
  }
  return undefined
}

/** A patch applied to a row: arithmetic computed on its values and checked, managed fields moved. */
const patched = (s: State, row: Row, patch: Row, operation: string): Either.Either<Row, ValidationError> =>
  Either.map(applyArith(s.def, patch, row, operation), (values) => touched(s, { ...row, ...values }))

/** Writes rows all or nothing: a unique key taken by another row (or by two written rows) writes none. */
const writeAll = (s: State, next: ReadonlyArray<Row>, operation: string): Outcome | undefined => {
  const after = new Map(s.stored)
  for (const row of next) after.set(keyOf(s, row), row)
  for (const row of next) {
    const columns = collision(s, row, after.values(), after.get(keyOf(s, row)))
    if (columns !== undefined) return failure(new UniqueViolation({ model: s.def.name, operation, columns }))
  }
  for (const row of next) s.stored.set(keyOf(s, row), row)
  return undefined
}

const create = (s: State, input: unknown): Outcome => {
  const prepared = prepareCreate(s.def, input, "create")
  if (Either.isLeft(prepared)) return failure(prepared.left)
  const row = stamp(s, prepared.right)
  const columns = collision(s, row, s.stored.values())
  if (columns !== undefined) return failure(new UniqueViolation({ model: s.def.name, operation: "create", columns }))
  insert(s, row)
  return success(asRecord(s.def, row))
}

const bulkCreate = (s: State, call: Extract<Call, { node: "bulkCreate" }>): Outcome => {
  const rows: Array<Row> = []
  for (const [i, input] of call.rows.entries()) {
    const prepared = prepareCreate(s.def, input, "bulkCreate", i)
    if (Either.isLeft(prepared)) return failure(prepared.left)
    const row = stamp(s, prepared.right)
    if (s.def.autoIncrement && (input as Row)[s.def.pk.field] === undefined) row[s.def.pk.field] = s.nextId.value + i
    const columns = collision(s, row, [...s.stored.values(), ...rows])
    if (columns !== undefined) {
      return failure(new UniqueViolation({ model: s.def.name, operation: "bulkCreate", columns, rowIndex: i }))
    }
    rows.push(row)
  }
  for (const row of rows) insert(s, row)
  return success(
    call.returnRecords === true
      ? { inserted: rows.length, records: rows.map((r) => asRecord(s.def, r)) }
      : { inserted: rows.length }
  )
}

const readById = (s: State, call: Extract<Call, { node: "read" | "find" }>): Outcome => {
  const bad = checkId(s.def, call.id, call.node)
  if (bad !== undefined) return failure(bad)
  const row = s.stored.get(idKey(s.def, call.id))
  if (visible(s, row, call.includeDeleted)) return success(asRecord(s.def, row))
  return call.node === "find" ? success(undefined) : failure(new NotFound({ model: s.def.name, operation: "read", id: idOf(call.id) }))
}

/** The key of readBy / findBy: the primary key's or a unique constraint's fields, with values. */
const uniqueLookup = (s: State, key: unknown, operation: string) => {
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

const readByKey = (s: State, call: Extract<Call, { node: "readBy" | "findBy" }>): Outcome => {
  const lookup = uniqueLookup(s, call.key, call.node)
  if (Either.isLeft(lookup)) return failure(lookup.left)
  const { by, key } = lookup.right
  const wanted = uniqueKey(key, by)
  const row = liveRows(s, call.includeDeleted).find((r) => uniqueKey(r, by) === wanted)
  if (row !== undefined) return success(asRecord(s.def, row))
  if (call.node === "findBy") return success(undefined)
  const id = by.length === 1 ? idOf(key[by[0]!]) : by.map((f) => `${f}=${String(key[f])}`).join(",")
  return failure(new NotFound({ model: s.def.name, operation: "readBy", id }))
}

const update = (s: State, call: Extract<Call, { node: "update" }>): Outcome => {
  const def = s.def
  const bad = checkId(def, call.id, "update")
  if (bad !== undefined) return failure(bad)
  const expected = call.expectedVersion
  if (expected !== undefined && (!def.versioned || !Number.isSafeInteger(expected))) {
    return failure(validation(def, "update", "expectedVersion", def.versioned ? "must be an integer" : "the model is not versioned"))
  }
  const patch = preparePatch(def, call.patch, "update")
  if (Either.isLeft(patch)) return failure(patch.left)
  const row = s.stored.get(idKey(s.def, call.id))
  if (!visible(s, row)) return failure(new NotFound({ model: def.name, operation: "update", id: idOf(call.id) }))
  if (expected !== undefined && row.version !== expected) {
    return failure(new OptimisticLockError({ model: def.name, operation: "update", id: idOf(call.id), expectedVersion: expected as number }))
  }
  const next = patched(s, row, patch.right, "update")
  if (Either.isLeft(next)) return failure(next.left)
  const columns = collision(s, next.right, s.stored.values(), row)
  if (columns !== undefined) return failure(new UniqueViolation({ model: def.name, operation: "update", columns }))
  s.stored.set(idKey(s.def, call.id), next.right)
  return success(asRecord(def, next.right))
}

const removeOrRestore = (s: State, call: Extract<Call, { node: "delete" | "restore" }>): Outcome => {
  const bad = checkId(s.def, call.id, call.node)
  if (bad !== undefined) return failure(bad)
  const key = idKey(s.def, call.id)
  const row = s.stored.get(key)
  if (call.node === "restore") {
    if (!s.def.softDelete || row === undefined || !ours(s, row) || row.deletedAt === null) return success({ restored: false })
    s.stored.set(key, touched(s, { ...row, deletedAt: null }))
    return success({ restored: true })
  }
  if (!visible(s, row)) return success({ deleted: false })
  // a soft delete is an update: updatedAt and version move too
  if (s.def.softDelete) s.stored.set(key, touched(s, { ...row, deletedAt: s.env.now }))
  else s.stored.delete(key)
  return success({ deleted: true })
}

const bulkUpdate = (s: State, call: Extract<Call, { node: "bulkUpdate" }>): Outcome => {
  const def = s.def
  const patch = preparePatch(def, call.patch, "bulkUpdate")
  if (Either.isLeft(patch)) return failure(patch.left)
  const refused = bulkFilter(s, call.where, call.confirm, "bulkUpdate")
  if (refused !== undefined) return failure(refused)
  // nothing to set (an empty patch, no updatedAt or version to move): nothing is updated
  if (Object.keys(patch.right).length === 0 && !def.managed.some((m) => m.onUpdate === "now" || m.onUpdate === "increment")) {
    return success({ updated: 0 })
  }
  const next: Array<Row> = []
  for (const row of liveRows(s).filter((r) => matches(def, call.where, r))) {
    const values = patched(s, row, patch.right, "bulkUpdate")
    if (Either.isLeft(values)) return failure(values.left)
    next.push(values.right)
  }
  return writeAll(s, next, "bulkUpdate") ?? success({ updated: next.length })
}

const bulkDelete = (s: State, call: Extract<Call, { node: "bulkDelete" }>): Outcome => {
  const refused = bulkFilter(s, call.where, call.confirm, "bulkDelete")
  if (refused !== undefined) return failure(refused)
  const matched = liveRows(s).filter((r) => matches(s.def, call.where, r))
  for (const row of matched) {
    if (s.def.softDelete) s.stored.set(keyOf(s, row), touched(s, { ...row, deletedAt: s.env.now }))
    else s.stored.delete(keyOf(s, row))
  }
  return success({ deleted: matched.length })
}

/** The checks of a list query's arguments, in the node's order; the ordering's terms. */
const checkList = (s: State, q: ListCall): Either.Either<ReadonlyArray<Term>, ReferenceError> => {
  const def = s.def
  const bad = (path: string, reason: string) => Either.left(validation(def, "list", path, reason))
  for (const name of ["limit", "offset"] as const) {
    const v = q[name]
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) return bad(name, "must be a non-negative integer")
  }
  if (q.cursor !== undefined && q.offset !== undefined) return bad("offset", "cannot be combined with a cursor")
  if (q.orderBy !== undefined && !Array.isArray(q.orderBy)) return bad("orderBy", "expected an array of field names")
  for (const entry of (q.orderBy ?? []) as ReadonlyArray<unknown>) {
    const field = typeof entry === "string" ? (entry.startsWith("-") ? entry.slice(1) : entry) : ""
    const column = def.byField.get(field)
    if (column === undefined) return bad("orderBy", `unknown field ${JSON.stringify(field)}`)
    if (column.kind._tag === "json") return bad("orderBy", `cannot sort by JSON field ${field}`)
  }
  const unknown = q.select === undefined ? undefined : Array.isArray(q.select) ? q.select.find((f) => !def.byField.has(f)) : "select"
  if (unknown !== undefined) return bad("select", `unknown field ${JSON.stringify(unknown)}`)
  const invalid = invalidFilter(s, q.where, "list")
  return invalid !== undefined ? Either.left(invalid) : Either.right(orderTerms(def, q.orderBy ?? []))
}

const orderText = (terms: ReadonlyArray<Term>) => terms.map((t) => `${t.dir < 0 ? "-" : ""}${t.field}`).join(",")

/** The values of a cursor made for this model and ordering, checked as filter operands. */
const cursorValues = (s: State, terms: ReadonlyArray<Term>, cursor: string) => {
  const fail = (reason: string) => Either.left(new InvalidCursor({ model: s.def.name, operation: "list", reason }))
  const decoded = Cursor.decode(cursor, s.def.name, orderText(terms), s.env.cursorKey)
  if (Either.isLeft(decoded)) return fail(decoded.left)
  const values = decoded.right
  const usable = values.length === terms.length && terms.every((t, i) => {
    const column = s.def.byField.get(t.field)!
    return values[i] === null ? column.nullable || column.optional : valueProblem(s.def, t.field, values[i]) === undefined
  })
  return usable ? Either.right(values) : fail("values do not match the ordering")
}

const list = (s: State, q: ListCall): Outcome => {
  const checked = checkList(s, q)
  if (Either.isLeft(checked)) return failure(checked.left)
  const terms = checked.right
  const found = sortRows(s.def, liveRows(s, q.includeDeleted).filter((r) => matches(s.def, q.where, r)), q.orderBy ?? [])
  let rest: ReadonlyArray<Row> = found
  if (q.cursor !== undefined) {
    const values = cursorValues(s, terms, q.cursor)
    if (Either.isLeft(values)) return failure(values.left)
    rest = afterCursor(s.def, terms, found, values.right)
  }
  const offset = q.offset ?? 0
  const page = rest.slice(offset, q.limit === undefined ? undefined : offset + q.limit)
  const more = q.limit !== undefined && rest.length > offset + q.limit
  const last = page[page.length - 1]
  const nextCursor = more && last !== undefined
    ? Cursor.encode(s.def.name, orderText(terms), terms.map((t) => last[t.field] ?? null), s.env.cursorKey)
    : undefined
  const records = page.map((r) => asRecord(s.def, r))
  const select = q.select
  return success({
    records: select === undefined ? records : records.map((r) => Object.fromEntries(select.filter((f) => f in r).map((f) => [f, r[f]]))),
    ...(nextCursor === undefined ? {} : { nextCursor }),
    ...(q.total === true ? { total: found.length } : {})
  })
}

const countOrExists = (s: State, call: Extract<Call, { node: "count" | "exists" }>): Outcome => {
  const invalid = invalidFilter(s, call.where, call.node)
  if (invalid !== undefined) return failure(invalid)
  const n = liveRows(s, call.includeDeleted).filter((r) => matches(s.def, call.where, r)).length
  return success(call.node === "count" ? n : n > 0)
}

/** The conflict key and the record of an upsert, checked in the node's order. */
const prepareUpsert = (
  s: State,
  args: unknown,
  operation: string
): Either.Either<{ readonly keys: Row; readonly record: Row; readonly patch: Row }, ValidationError | ConflictTargetError> => {
  const def = s.def
  const fail = (path: string, reason: string) => Either.left(validation(def, operation, path, reason))
  if (!isRecord(args)) return fail("", "expected an object")
  const keys: Row = {}
  let created: Either.Either<Row, ValidationError>
  if (args.where !== undefined) {
    // the spelling before `conflictOn`: `where` names the target and its values
    if (!isRecord(args.where)) return fail("where", "expected an object")
    if (args.conflictOn !== undefined) return fail("conflictOn", "cannot be combined with where")
    for (const [k, v] of Object.entries(args.where)) {
      const value = isRecord(v) && Object.keys(v).length === 1 && "$eq" in v ? v.$eq : v
      if (value === null || value === undefined) return fail(`where.${k}`, "a conflict key needs a value")
      keys[k] = value
    }
    const target = conflictTarget(def, Object.keys(keys), operation)
    if (Either.isLeft(target)) return Either.left(target.left)
    created = prepareCreate(def, { ...(isRecord(args.create) ? args.create : {}), ...keys }, operation)
    if (Either.isLeft(created)) return Either.left(created.left)
  } else {
    if (args.conflictOn !== undefined && !Array.isArray(args.conflictOn)) return fail("conflictOn", "expected an array of field names")
    const target = conflictTarget(def, (args.conflictOn as ReadonlyArray<unknown> | undefined) ?? keyFieldsOf(def), operation)
    if (Either.isLeft(target)) return Either.left(target.left)
    created = prepareCreate(def, args.create, operation)
    if (Either.isLeft(created)) return Either.left(created.left)
    for (const k of target.right) {
      const value = created.right[k]
      if (value === null || value === undefined) return fail(`create.${k}`, "a conflict key needs a value")
      keys[k] = value
    }
  }
  const patch = preparePatch(def, args.update ?? {}, operation)
  if (Either.isLeft(patch)) return Either.left(patch.left)
  return Either.right({ keys, record: created.right, patch: patch.right })
}

/**
 * upsert, and createIgnore (`keep`: an existing record is returned as it is). A soft-deleted
 * match is replaced by the new record under its old key (`createdAt` and `version` start
 * again), reported as created.
 */
const upsertOrKeep = (s: State, args: unknown, keep: boolean): Outcome => {
  const def = s.def
  const operation = keep ? "createIgnore" : "upsert"
  const prepared = prepareUpsert(s, args, operation)
  if (Either.isLeft(prepared)) return failure(prepared.left)
  const { keys, patch, record } = prepared.right
  const fields = Object.keys(keys)
  const wanted = uniqueKey(keys, fields)
  const existing = liveRows(s, true).find((r) => uniqueKey(r, fields) === wanted)
  const unique = (row: Row, except?: Row): Outcome | undefined => {
    const columns = collision(s, row, s.stored.values(), except)
    return columns === undefined ? undefined : failure(new UniqueViolation({ model: def.name, operation, columns }))
  }
  if (existing === undefined) {
    const row = stamp(s, record)
    const taken = unique(row)
    if (taken !== undefined) return taken
    insert(s, row)
    return success({ record: asRecord(def, row), created: true })
  }
  if (def.softDelete && existing.deletedAt !== null) {
    const row = stamp(s, { ...record, ...Object.fromEntries(keyFieldsOf(def).map((f) => [f, existing[f]])) })
    const taken = unique(row, existing)
    if (taken !== undefined) return taken
    s.stored.set(keyOf(s, existing), row)
    return success({ record: asRecord(def, row), created: true })
  }
  if (keep) return success({ record: asRecord(def, existing), created: false })
  const next = patched(s, existing, patch, operation)
  if (Either.isLeft(next)) return failure(next.left)
  const taken = unique(next.right, existing)
  if (taken !== undefined) return taken
  s.stored.set(keyOf(s, existing), next.right)
  return success({ record: asRecord(def, next.right), created: false })
}

/** @internal */
export const makeTable = (def: ModelDefinition): ReferenceTable => {
  let stored = new Map<string, Row>()
  const nextId = { value: 1 }
  const execute = (call: Call, env: Env): Outcome => {
    const s: State = { def, stored, nextId, env }
    switch (call.node) {
      case "create":
        return create(s, call.input)
      case "bulkCreate":
        return bulkCreate(s, call)
      case "read":
      case "find":
        return readById(s, call)
      case "readBy":
      case "findBy":
        return readByKey(s, call)
      case "update":
        return update(s, call)
      case "delete":
      case "restore":
        return removeOrRestore(s, call)
      case "bulkUpdate":
        return bulkUpdate(s, call)
      case "bulkDelete":
        return bulkDelete(s, call)
      case "list":
        return list(s, call.query)
      case "count":
      case "exists":
        return countOrExists(s, call)
      case "upsert":
        return upsertOrKeep(s, call.args, false)
      case "createIgnore":
        return upsertOrKeep(s, { create: call.input, ...(call.conflictOn === undefined ? {} : { conflictOn: call.conflictOn }) }, true)
    }
  }
  return {
    definition: def,
    execute,
    rows: () => sortRows(def, [...stored.values()], []).map((r) => asRecord(def, r)),
    clear: () => {
      stored.clear()
      nextId.value = 1
    },
    snapshot: () => ({ stored: new Map(stored), nextId: nextId.value }),
    restore: (snapshot) => {
      stored = new Map(snapshot.stored)
      nextId.value = snapshot.nextId
    }
  }
}
