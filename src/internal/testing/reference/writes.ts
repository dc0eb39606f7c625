/**
 * The reference's writes by id and by filter: create, update (versions,
 * arithmetic), delete and restore (soft delete), bulkUpdate by filter and by items, bulkDelete.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { NotFound, OptimisticLockError, UniqueViolation } from "../../../Errors.js"
import { checkId, prepareCreate, preparePatch, validation } from "../../model/validate.js"
import { idOf } from "../../nodes/shared.js"
import { prepareItems } from "../../nodes/update.js"
import { uniqueKey } from "../equivalence.js"
import type { State } from "./state.js"
import {
  asRecord,
  bulkFilter,
  collision,
  filterOf,
  idKey,
  insert,
  keyOf,
  liveRows,
  ours,
  patched,
  stamp,
  touched,
  visible,
  writeAll
} from "./state.js"
import type { Call, Outcome, ReferenceError, Row } from "./types.js"
import { failure, success } from "./types.js"

/** @internal */
export const create = (s: State, input: unknown): Outcome => {
  const prepared = prepareCreate(s.def, input, "create")
  if (Either.isLeft(prepared)) return failure(prepared.left)
  const row = stamp(s, prepared.right)
  const columns = collision(s, row, s.stored.values())
  if (columns !== undefined) return failure(new UniqueViolation({ model: s.def.name, operation: "create", columns }))
  insert(s, row)
  return success(asRecord(s.def, row))
}

/** @internal */
export const update = (s: State, call: Extract<Call, { node: "update" }>): Outcome => {
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

/** @internal */
export const removeOrRestore = (s: State, call: Extract<Call, { node: "delete" | "restore" }>): Outcome => {
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

/** Does a patch move anything (its own fields, or `updatedAt` / `version`)? */
const movesAnything = (s: State, patch: Row) =>
  Object.keys(patch).length > 0 || s.def.managed.some((m) => m.onUpdate === "now" || m.onUpdate === "increment")

/** @internal */
export const bulkUpdate = (s: State, call: Extract<Call, { node: "bulkUpdate" }>): Outcome => {
  const def = s.def
  const patch = preparePatch(def, call.patch, "bulkUpdate")
  if (Either.isLeft(patch)) return failure(patch.left)
  const refused = bulkFilter(s, call.where, call.confirm, "bulkUpdate")
  if (refused !== undefined) return failure(refused)
  // nothing to set (an empty patch, no updatedAt or version to move): nothing is updated
  if (!movesAnything(s, patch.right)) return success({ updated: 0 })
  const next: Array<Row> = []
  for (const row of liveRows(s).filter(filterOf(s, call.where))) {
    const values = patched(s, row, patch.right, "bulkUpdate")
    if (Either.isLeft(values)) return failure(values.left)
    next.push(values.right)
  }
  return writeAll(s, next, "bulkUpdate") ?? success({ updated: next.length })
}

/** One checked item of a per-record bulkUpdate. */
interface Item {
  readonly by: ReadonlyArray<string>
  readonly key: Row
  readonly named: unknown
  readonly patch: Row
  readonly expectedVersion: number | undefined
}

/** The items of `bulkUpdate(items)`, checked by the node's own check (each names one record and carries a patch). */
const checkItems = (s: State, items: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<Item>, ReferenceError> =>
  Either.map(prepareItems(s.def, items, "bulkUpdate"), (checked) =>
    checked.map((item) => ({
      by: item.by,
      key: Object.fromEntries(item.by.map((f, k) => [f, item.key[k]])),
      named: item.named,
      patch: item.patch,
      expectedVersion: item.expectedVersion
    })))

/** The name a NotFound / OptimisticLockError gives an item's record. */
const nameOf = (item: Item): string | number =>
  item.by.length === 1 && item.named === item.key[item.by[0]!]
    ? idOf(item.named)
    : item.by.map((f) => `${f}=${String(item.key[f])}`).join(",")

/**
 * `bulkUpdate(items, { requireAll })`: the items apply in order, each to the live record its
 * id or unique key names, all or nothing (a stale version, a unique key taken, a missing
 * record with `requireAll` write none).
 * @internal
 */
export const bulkUpdateItems = (s: State, call: Extract<Call, { node: "bulkUpdateItems" }>): Outcome => {
  const def = s.def
  const operation = "bulkUpdate"
  const checked = checkItems(s, call.items)
  if (Either.isLeft(checked)) return failure(checked.left)
  // the rows as they stand after each item: written to the table only when every item went through
  const work = new Map(s.stored)
  const t: State = { ...s, stored: work }
  let updated = 0
  const missing: Array<unknown> = []
  for (const item of checked.right) {
    const wanted = uniqueKey(item.key, item.by)
    const row = liveRows(t).find((r) => uniqueKey(r, item.by) === wanted)
    if (row === undefined) {
      if (call.requireAll === true) return failure(new NotFound({ model: def.name, operation, id: nameOf(item) }))
      missing.push(item.named)
      continue
    }
    if (item.expectedVersion !== undefined && row.version !== item.expectedVersion) {
      return failure(new OptimisticLockError({ model: def.name, operation, id: nameOf(item), expectedVersion: item.expectedVersion }))
    }
    updated++
    if (!movesAnything(s, item.patch)) continue
    const next = patched(t, row, item.patch, operation)
    if (Either.isLeft(next)) return failure(next.left)
    const columns = collision(t, next.right, work.values(), row)
    if (columns !== undefined) return failure(new UniqueViolation({ model: def.name, operation, columns }))
    work.set(keyOf(t, row), next.right)
  }
  for (const [k, row] of work) s.stored.set(k, row)
  return success({ updated, missing })
}

/** @internal */
export const bulkDelete = (s: State, call: Extract<Call, { node: "bulkDelete" }>): Outcome => {
  const refused = bulkFilter(s, call.where, call.confirm, "bulkDelete")
  if (refused !== undefined) return failure(refused)
  const matched = liveRows(s).filter(filterOf(s, call.where))
  for (const row of matched) {
    if (s.def.softDelete) s.stored.set(keyOf(s, row), touched(s, { ...row, deletedAt: s.env.now }))
    else s.stored.delete(keyOf(s, row))
  }
  return success({ deleted: matched.length })
}
