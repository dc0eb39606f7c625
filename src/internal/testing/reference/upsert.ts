/**
 * The reference's upserts: upsert and createIgnore of one record (a soft-deleted match revived
 * as a new record), and bulkUpsert (last row wins per key, rows written in key order, every
 * column but the keys and `createdAt` replaced, `version` + 1, a soft-deleted row revived; on
 * MySQL the first unique key the row collides with, the primary key's first, picks the row).
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import type { ConflictTargetError } from "../../../Errors.js"
import { UniqueViolation, ValidationError } from "../../../Errors.js"
import { isRecord, prepareCreate, preparePatch, validation } from "../../model/validate.js"
import { compareKeys, conflictTarget, keyFieldsOf } from "../../nodes/shared.js"
import { uniqueKey } from "../equivalence.js"
import type { State } from "./state.js"
import { asRecord, collision, conflictWith, insert, keyOf, liveRows, ours, patched, stamp } from "./state.js"
import type { Call, Outcome, Row } from "./types.js"
import { failure, success } from "./types.js"

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
 * @internal
 */
export const upsertOrKeep = (s: State, args: unknown, keep: boolean): Outcome => {
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

/** One row of a bulkUpsert, checked: its record (managed fields stamped) and its conflict key's values. */
interface UpsertRow {
  readonly record: Row
  readonly key: ReadonlyArray<unknown>
}

/** The rows of a bulkUpsert, checked in input order: each record, then its conflict key. */
const prepareRows = (
  s: State,
  rows: ReadonlyArray<unknown>,
  keys: ReadonlyArray<string>
): Either.Either<ReadonlyArray<UpsertRow>, ValidationError> => {
  const out: Array<UpsertRow> = []
  for (const [i, input] of rows.entries()) {
    const prepared = prepareCreate(s.def, input, "bulkUpsert", i)
    if (Either.isLeft(prepared)) return Either.left(prepared.left)
    const record = { ...prepared.right }
    for (const m of s.def.managed) record[m.column.field] = m.initial(s.env.now, s.env.tenant)
    const missing = keys.find((k) => record[k] === null || record[k] === undefined)
    if (missing !== undefined) return Either.left(validation(s.def, "bulkUpsert", missing, "a conflict key needs a value", i))
    out.push({ record, key: keys.map((k) => record[k]) })
  }
  return Either.right(out)
}

/**
 * A stored row after a bulkUpsert row met it: every column but the conflict target, the
 * primary key and `createdAt` takes the new value (an absent optional field: NULL); a live
 * row keeps its `createdAt` and counts one more `version`, a soft-deleted one comes back as
 * the new record (its `createdAt`, version 1).
 */
const replaced = (s: State, old: Row, row: Row, target: ReadonlyArray<string>): Row => {
  const def = s.def
  const out: Row = { ...old }
  const live = !def.softDelete || old.deletedAt === null
  for (const c of def.columns) {
    const f = c.field
    if (target.includes(f) || def.key.includes(c)) continue
    if (f === "createdAt" || f === "version") out[f] = live ? (f === "version" ? (old[f] as number) + 1 : old[f]) : row[f]
    else out[f] = row[f] ?? null
  }
  return out
}

/**
 * bulkUpsert: rows checked first, a repeated key collapsed (last row wins), then written in
 * the order of their keys, all or nothing. A row whose key matches a stored row (live or
 * soft-deleted) replaces it. On MySQL (`env.dialect`), as `ON DUPLICATE KEY UPDATE` does, the
 * row updated is the first one the new row shares a unique key with — the primary key
 * checked first, then the constraints in declared order — whatever the conflict target.
 * `updated` counts the rows whose target key matched a live row.
 * @internal
 */
export const bulkUpsert = (s: State, call: Extract<Call, { node: "bulkUpsert" }>): Outcome => {
  const def = s.def
  const operation = "bulkUpsert"
  if (call.conflictOn !== undefined && !Array.isArray(call.conflictOn)) {
    return failure(validation(def, operation, "conflictOn", "expected an array of field names"))
  }
  const target = conflictTarget(def, (call.conflictOn as ReadonlyArray<unknown> | undefined) ?? keyFieldsOf(def), operation)
  if (Either.isLeft(target)) return failure(target.left)
  const keys = target.right
  const prepared = prepareRows(s, call.rows, keys)
  if (Either.isLeft(prepared)) return failure(prepared.left)
  const byKey = new Map<string, UpsertRow>()
  for (const r of prepared.right) {
    const k = uniqueKey(r.record, keys)!
    byKey.delete(k)
    byKey.set(k, r)
  }
  const ordered = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key))
  const matching = (rows: Iterable<Row>, record: Row) => {
    const wanted = uniqueKey(record, keys)
    return [...rows].find((r) => ours(s, r) && uniqueKey(r, keys) === wanted)
  }
  const existing = ordered.filter((r) => matching(liveRows(s), r.record) !== undefined).length
  // the rows as they stand after each written row: the table takes them when every row went through
  const work = new Map(s.stored)
  const t: State = { ...s, stored: work }
  const violation = (columns: ReadonlyArray<string>) => failure(new UniqueViolation({ model: def.name, operation, columns }))
  for (const { record } of ordered) {
    const row = stamp(t, record)
    // MySQL updates the row of the first unique index the new row collides with, the primary
    // key's first, whatever the conflict target; elsewhere only the target's match is updated
    const old = s.env.dialect === "mysql" ? conflictWith(t, row, work.values())?.row : matching(work.values(), row)
    if (old === undefined) {
      const columns = collision(t, row, work.values())
      if (columns !== undefined) return violation(columns)
      insert(t, row)
      continue
    }
    const next = replaced(t, old, row, keys)
    const columns = collision(t, next, work.values(), old)
    if (columns !== undefined) return violation(columns)
    work.set(keyOf(t, old), next)
  }
  s.stored.clear()
  for (const [k, row] of work) s.stored.set(k, row)
  const counts = { inserted: ordered.length - existing, updated: existing }
  if (call.returnRecords !== true) return success(counts)
  // the stored records in input order (the row that won for a repeated key), read back by key
  const records = [...byKey.values()].map((r) => {
    const stored = matching(work.values(), r.record)
    return stored === undefined ? undefined : asRecord(def, stored)
  })
  return success({ ...counts, records })
}
