/**
 * What every statement builder shares: the per-model text cache, a row by its key (single or
 * composite, with the tenant), key lists and RETURNING.
 * (Internal module: not part of the public API.)
 */
import type { DialectColumn } from "../rows.js"
import type { Params } from "../params.js"
import type { ModelStatements } from "../statements.js"

export type Row = Record<string, unknown>

/** Most rows in one multi-row VALUES statement, whatever the parameter limit allows. */
export const MAX_ROWS_PER_STATEMENT = 1000

/** Most cached texts per model, dialect and schema. */
export const MAX_CACHED = 256

export const cached = <A>(s: ModelStatements, key: string, make: () => A): A => {
  let value = s.cache.get(key) as A | undefined
  if (value === undefined) {
    value = make()
    if (s.cache.size < MAX_CACHED) s.cache.set(key, value)
  }
  return value
}

/**
 * A row addressed by its primary key (and the tenant, on tenant-scoped models): the key's
 * value, or on a composite key the object of its fields' values.
 * @internal
 */
export interface Key {
  readonly id: unknown
  readonly tenant: string | undefined
}

/**
 * `pk = ? [AND tenant_id = ?]`, or `a = ? AND b = ? [AND tenant_id = ?]` on a composite key:
 * the condition of every by-key statement (the branch is taken once, when the text is made).
 */
export const byKey = <A extends Key>(s: ModelStatements, bind: (get: (a: A) => unknown) => string): string => {
  const key = s.key.length === 1
    ? `${s.pk.quoted} = ${bind((a) => s.pk.toDb(a.id))}`
    : s.key.map((c) => `${c.quoted} = ${bind((a) => c.toDb((a.id as Row)[c.column.field]))}`).join(" AND ")
  const tenant = s.tenantColumn
  return tenant === undefined ? key : `${key} AND ${tenant.quoted} = ${bind((a) => a.tenant)}`
}

/** `pk IN (…)`, or `(a, b) IN ((…), …)` on a composite key: the rows with these primary keys. */
export const inPrimaryKeys = (s: ModelStatements, params: Params, ids: ReadonlyArray<unknown>): string =>
  s.key.length === 1
    ? `${s.pk.quoted} IN (${ids.map((id) => params.bind(s.pk.toDb(id))).join(", ")})`
    : inKeys(params, s.key, ids.map((id) => s.key.map((c) => (id as Row)[c.column.field])))

/**
 * The primary key in a select list: `pk AS alias`, or on a composite key each of its columns
 * as the model reads it (under its column name). {@link keyOfRow} reads it back.
 * @internal
 */
export const keyList = (s: ModelStatements, alias: string): string =>
  s.key.length === 1 ? `${s.pk.quoted} AS ${alias}` : s.key.map((c) => s.dialect.selectExpr(c.column)).join(", ")

/**
 * The primary key a row selected with {@link keyList} holds (`alias` unquoted), or the object
 * of a composite key's fields.
 * @internal
 */
export const keyOfRow = (s: ModelStatements, row: Row, alias: string): unknown => {
  if (s.key.length === 1) return s.pk.fromDb(row[alias])
  const key: Row = {}
  for (const c of s.key) key[c.column.field] = c.fromDb(row[c.column.name])
  return key
}

export const returning = (s: ModelStatements) => (s.dialect.supportsReturning ? ` RETURNING ${s.selectList}` : "")

/** The tenant's condition on tenant-scoped models (`""` elsewhere), bound where it is written. */
export const tenantScope = (s: ModelStatements, params: Params, tenant: string | undefined): string =>
  s.tenantColumn === undefined ? "" : ` AND ${s.tenantColumn.quoted} = ${params.bind(tenant)}`

/** `(a, b) IN ((?, ?), …)`, or `a IN (?, …)` for one column: rows with one of these keys. */
export const inKeys = (params: Params, conflict: ReadonlyArray<DialectColumn>, keys: ReadonlyArray<ReadonlyArray<unknown>>) => {
  const lhs = conflict.length === 1 ? conflict[0]!.quoted : `(${conflict.map((c) => c.quoted).join(", ")})`
  const tuples = keys.map((key) => {
    const marks = conflict.map((c, k) => params.bind(c.toDb(key[k])))
    return conflict.length === 1 ? marks[0]! : `(${marks.join(", ")})`
  })
  return `${lhs} IN (${tuples.join(", ")})`
}

/** `a = ? AND b = ? [AND tenant = ?]`: a row by the values of a unique key's fields. */
export const byFields = <A extends { readonly key: ReadonlyArray<unknown>; readonly tenant: string | undefined }>(
  s: ModelStatements,
  fields: ReadonlyArray<string>,
  bind: (get: (a: A) => unknown) => string
): string => {
  const conditions = fields.map((f, i) => {
    const c = s.byField.get(f)!
    return `${c.quoted} = ${bind((a) => c.toDb(a.key[i]))}`
  })
  if (s.tenantColumn !== undefined) conditions.push(`${s.tenantColumn.quoted} = ${bind((a) => a.tenant)}`)
  return conditions.join(" AND ")
}
