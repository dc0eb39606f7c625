/**
 * DELETE statements, soft deletes and restores.
 * (Internal module: not part of the public API.)
 */
import type { Params, Plan } from "../params.js"
import { plan } from "../params.js"
import type { ModelStatements } from "../statements.js"
import { byKey, cached, type Key } from "./common.js"
import { setList } from "./update.js"

/** Deletes one row by key. @internal */
export const deleteById = (s: ModelStatements): Plan<Key> =>
  cached(s, "deleteById", () => plan<Key>(s.dialect, (bind) => `DELETE FROM ${s.table} WHERE ${byKey(s, bind)}`))

/** @internal */
export interface StampArgs extends Key {
  readonly now: Date
}

/**
 * The SET items of a soft delete (`deletedAt` stamped) or a restore (`deletedAt` cleared): an
 * update like any other, so `updatedAt` and `version` move too.
 */
export const deletionSets = (s: ModelStatements, deletedAt: string, bindNow: () => string) =>
  setList(s, ["deletedAt"], () => deletedAt, bindNow)

/** Soft-deletes one live row by key: stamps `deletedAt` (and `updatedAt`, `version`). @internal */
export const softDeleteById = (s: ModelStatements): Plan<StampArgs> =>
  cached(s, "softDeleteById", () =>
    plan<StampArgs>(s.dialect, (bind) => {
      const stamp = () => bind((a) => s.byField.get("deletedAt")!.toDb(a.now))
      const sets = deletionSets(s, stamp(), stamp)
      return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${byKey(s, bind)} AND ${s.notDeleted}`
    }))

/** Restores one soft-deleted row by key (`updatedAt` and `version` move as on any update). @internal */
export const restoreById = (s: ModelStatements): Plan<StampArgs> =>
  cached(s, "restoreById", () =>
    plan<StampArgs>(s.dialect, (bind) => {
      const sets = deletionSets(s, "NULL", () => bind((a) => s.byField.get("updatedAt")!.toDb(a.now)))
      return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${byKey(s, bind)} AND ${s.byField.get("deletedAt")!.quoted} IS NOT NULL`
    }))

/** `DELETE … WHERE …` of many rows. @internal */
export const deleteWhere = (s: ModelStatements, where: string): string => `DELETE FROM ${s.table}${where}`

/**
 * Soft-deletes many rows: stamps `deletedAt` (and `updatedAt`, `version`), `now` bound before
 * the WHERE clause's values — the caller binds the WHERE clause after this.
 * @internal
 */
export const softDeleteSets = (s: ModelStatements, params: Params, now: Date): ReadonlyArray<string> => {
  const stamp = () => params.bind(s.byField.get("deletedAt")!.toDb(now))
  return deletionSets(s, stamp(), stamp)
}
