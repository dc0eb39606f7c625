/**
 * Upserts and conflicts: the conflict target, the inserted flag, revival of soft-deleted rows,
 * the keys a bulk write finds stored, skipped conflicts.
 * (Internal module: not part of the public API.)
 */
import type { DialectColumn } from "../rows.js"
import type { Params } from "../params.js"
import type { ModelStatements } from "../statements.js"
import { byKey, cached, inKeys, type Key, keyList, type Row } from "./common.js"
import { insertRows } from "./insert.js"
import { setList } from "./update.js"

export const insertedFlag = (s: ModelStatements): string => {
  const flag = s.dialect.upsertInsertedFlag
  if (flag === undefined) throw new TypeError(`effect-dataflow: ${s.dialect.name} cannot say which rows an upsert inserted`)
  return flag
}

/** The conflict columns of an upsert on `fields`: per tenant on tenant-scoped models. @internal */
export const conflictColumns = (s: ModelStatements, fields: ReadonlyArray<string>): ReadonlyArray<DialectColumn> =>
  (s.tenantColumn === undefined ? fields : ["tenantId", ...fields]).map((f) => s.byField.get(f)!)

/**
 * One row's upsert where the database says whether it inserted (PostgreSQL): INSERT the record,
 * on conflict apply the patch (and the managed update fields), RETURNING the row and the flag
 * as `__created`.
 * @internal
 */
export const upsertReturningFlag = (
  s: ModelStatements,
  params: Params,
  input: {
    readonly columns: ReadonlyArray<DialectColumn>
    readonly record: Row
    readonly conflict: ReadonlyArray<DialectColumn>
    readonly patch: Row
    readonly now: Date
  }
): string => {
  const { dialect } = s
  const values = input.columns.map((c) => params.bind(c.toDb(input.record[c.column.field])))
  const sets = setList(
    s,
    Object.keys(input.patch),
    (k) => params.bind(s.byField.get(k)!.toDb(input.patch[k])),
    () => params.bind(s.byField.get("updatedAt")!.toDb(input.now))
  )
  const conflict = input.conflict.map((c) => c.quoted)
  // RETURNING needs a row also when there is nothing to change: a no-op assignment
  if (sets.length === 0) sets.push(`${conflict[0]} = ${dialect.inserted(conflict[0]!)}`)
  return `INSERT INTO ${s.table} (${input.columns.map((c) => c.quoted).join(", ")}) VALUES (${values.join(", ")})${
    dialect.onConflictUpdate(conflict, sets)
  } RETURNING ${s.selectList}, ${insertedFlag(s)} AS "__created"`
}

/**
 * The read that starts an upsert without the flag: the key (and deletion stamp) of the row
 * matching `where`, locked until the transaction ends.
 * @internal
 */
export const lockingLookup = (s: ModelStatements, where: string): string => {
  const deletedAt = s.byField.get("deletedAt")
  return `SELECT ${keyList(s, "id")}${deletedAt === undefined ? "" : `, ${deletedAt.quoted} AS deleted`} FROM ${s.table}${where}${
    s.dialect.limitOffset(1, undefined)
  }${s.dialect.lockingRead}`
}

/**
 * Brings the tenant's soft-deleted row back as `record`, a new record under the old key: every
 * column takes the record's value (NULL where it has none), `createdAt` and `version` start again.
 * @internal
 */
export const revive = (s: ModelStatements, params: Params, key: Key, record: Row): string => {
  const sets = s.columns.filter((c) => !s.key.includes(c)).map((c) =>
    c.column.field in record ? `${c.quoted} = ${params.bind(c.toDb(record[c.column.field]))}` : `${c.quoted} = NULL`
  )
  return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${byKey<Key>(s, (get) => params.bind(get(key)))}`
}

/**
 * The clause that leaves out rows conflicting on `conflict` (or on any unique constraint when
 * undefined), where the dialect has one; undefined where the rows must be checked first.
 * @internal
 */
export const skipConflicts = (s: ModelStatements, conflict: ReadonlyArray<DialectColumn> | undefined): string | undefined =>
  s.dialect.onConflictSkip?.(conflict?.map((c) => c.quoted))

/**
 * The values of `conflict` of every row (live or soft-deleted: both hold their keys) among
 * `keys`, locked until the transaction ends: which rows of an insert that skips conflicts
 * would conflict, where the database cannot leave them out itself. Each column is read as the
 * model reads it (aliased to its column name).
 * @internal
 */
export const conflictingKeys = (
  s: ModelStatements,
  params: Params,
  conflict: ReadonlyArray<DialectColumn>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>
): string => {
  const keyIn = inKeys(params, conflict, keys)
  const list = conflict.map((c) => s.dialect.selectExpr(c.column)).join(", ")
  return `SELECT ${list} FROM ${s.table} WHERE ${keyIn}${s.dialect.lockingRead}`
}

/** The rows with these values of `conflict` (the caller chunks under the parameter limit). @internal */
export const selectByKeys = (
  s: ModelStatements,
  params: Params,
  conflict: ReadonlyArray<DialectColumn>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>
): string => `SELECT ${s.selectList} FROM ${s.table} WHERE ${inKeys(params, conflict, keys)}`

/**
 * The keys of the live rows among `keys` (values of `conflict`, in order), locked: how many
 * rows of a bulk upsert already exist, where the database cannot say.
 * @internal
 */
export const existingKeys = (
  s: ModelStatements,
  params: Params,
  conflict: ReadonlyArray<DialectColumn>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>
): string => {
  const keyIn = inKeys(params, conflict, keys)
  const live = s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
  return `SELECT ${s.pk.quoted} AS k FROM ${s.table} WHERE ${keyIn}${live}${s.dialect.lockingRead}`
}

/**
 * A bulk upsert of encoded rows: the bulk INSERT, and on conflict every column but the keys,
 * the primary key and `createdAt` takes the new value (a soft-deleted row comes back to life),
 * `version` + 1. With `flag`, RETURNING says which rows were inserted (`__created`).
 * @internal
 */
export const upsertRows = (
  s: ModelStatements,
  input: {
    readonly columns: ReadonlyArray<DialectColumn>
    readonly values: ReadonlyArray<unknown>
    readonly rows: number
    readonly conflict: ReadonlyArray<DialectColumn>
    readonly flag: boolean
  }
): { readonly text: string; readonly params: ReadonlyArray<unknown> } => {
  const { dialect } = s
  const insert = insertRows(s, input.columns, input.values, input.rows)
  const clause = cached(s, `onConflict:${input.conflict.map((c) => c.column.field).join(",")}:${input.flag}`, () => {
    const conflict = input.conflict.map((c) => c.quoted)
    const createdAt = s.byField.get("createdAt")
    const version = s.byField.get("version")
    const deletedAt = s.byField.get("deletedAt")
    // a live row keeps its createdAt and counts one more version; a soft-deleted one comes back
    // as a new record (as `upsert` revives it): the new createdAt, version 1. These come first:
    // MySQL evaluates the assignments in order, and deletedAt is cleared further on
    const live = deletedAt === undefined ? undefined : `${s.table}.${deletedAt.quoted} IS NULL`
    const sets: Array<string> = []
    const nextVersion = version === undefined ? undefined : `${s.table}.${version.quoted} + 1`
    if (live !== undefined) {
      if (createdAt !== undefined) {
        sets.push(`${createdAt.quoted} = CASE WHEN ${live} THEN ${s.table}.${createdAt.quoted} ELSE ${dialect.inserted(createdAt.quoted)} END`)
      }
      if (version !== undefined) {
        sets.push(`${version.quoted} = CASE WHEN ${live} THEN ${nextVersion} ELSE ${dialect.inserted(version.quoted)} END`)
      }
    }
    for (const c of s.columns) {
      if (input.conflict.includes(c) || s.key.includes(c) || c === createdAt || c === version) continue
      sets.push(`${c.quoted} = ${dialect.inserted(c.quoted)}`)
    }
    if (live === undefined && version !== undefined) sets.push(`${version.quoted} = ${nextVersion}`)
    if (sets.length === 0) sets.push(`${conflict[0]} = ${dialect.inserted(conflict[0]!)}`)
    return `${dialect.onConflictUpdate(conflict, sets)}${input.flag ? ` RETURNING ${insertedFlag(s)} AS "__created"` : ""}`
  })
  return { text: insert.text + clause, params: insert.params }
}
