/**
 * The reading statements: by key, by keys, count, select with where / order / page, exists.
 * (Internal module: not part of the public API.)
 */
import type { DialectColumn } from "../rows.js"
import type { Params, Plan } from "../params.js"
import { plan } from "../params.js"
import type { ModelStatements } from "../statements.js"
import { byFields, byKey, cached, inPrimaryKeys, type Key, keyList, tenantScope } from "./common.js"

/** One row by key; soft-deleted rows only with `includeDeleted`. @internal */
export const selectById = (s: ModelStatements, includeDeleted: boolean): Plan<Key> =>
  cached(s, `selectById:${includeDeleted}`, () =>
    plan<Key>(s.dialect, (bind) => {
      const scope = includeDeleted || s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
      return `SELECT ${s.selectList} FROM ${s.table} WHERE ${byKey(s, bind)}${scope}`
    }))

/** The tenant's rows with these keys (the caller chunks under the parameter limit). @internal */
export const selectByIds = (s: ModelStatements, params: Params, ids: ReadonlyArray<unknown>, tenant: string | undefined): string =>
  `SELECT ${s.selectList} FROM ${s.table} WHERE ${inPrimaryKeys(s, params, ids)}${tenantScope(s, params, tenant)}`

/** The primary key of the live row with these values of a unique key's fields, if any. @internal */
export const keyLookup = (
  s: ModelStatements,
  by: ReadonlyArray<string>
): Plan<{ readonly key: ReadonlyArray<unknown>; readonly tenant: string | undefined }> =>
  cached(s, `keyLookup:${by.join(",")}`, () =>
    plan(s.dialect, (bind) => {
      const scope = s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
      return `SELECT ${keyList(s, "id")} FROM ${s.table} WHERE ${byFields(s, by, bind)}${scope}`
    }))

/** `SELECT COUNT(*) AS n …` under a WHERE clause. @internal */
export const count = (s: ModelStatements, where: string): string => `SELECT COUNT(*) AS n FROM ${s.table}${where}`

/** A page: the columns, under a WHERE clause, in an order, limited and offset. @internal */
export const select = (
  s: ModelStatements,
  query: {
    readonly columns: ReadonlyArray<DialectColumn>
    readonly where: string
    readonly orderBy: string
    readonly limit: number | undefined
    readonly offset: number | undefined
    /**
     * Also the number of rows this WHERE clause matches (`__total`), counted by a subquery of
     * the same statement — the same snapshot as the page. Its parameters are bound where the
     * text has it, before the page's WHERE clause.
     */
    readonly total?: { readonly where: string } | undefined
  }
): string => {
  const list = query.columns === s.columns ? s.selectList : query.columns.map((c) => s.dialect.selectExpr(c.column)).join(", ")
  const total = query.total === undefined ? "" : `, (SELECT COUNT(*) FROM ${s.table}${query.total.where}) AS ${s.dialect.quote("__total")}`
  return `SELECT ${list}${total} FROM ${s.table}${query.where}${query.orderBy}${s.dialect.limitOffset(query.limit, query.offset)}`
}

/**
 * The pages of many lists in one statement, one list per value of the `partition` column: the
 * rows under a WHERE clause numbered within their value in the page's order (`ROW_NUMBER()
 * OVER (PARTITION BY …)`), those after `offset` and up to `offset + limit` of each value kept,
 * in the page's order. The window's ORDER BY and the outer one are the same terms: they name
 * the table's own columns, which the derived table keeps under their names.
 * @internal
 */
export const selectRanked = (
  s: ModelStatements,
  query: {
    readonly columns: ReadonlyArray<DialectColumn>
    readonly where: string
    readonly orderBy: string
    readonly partition: DialectColumn
    readonly limit: number | undefined
    readonly offset: number | undefined
  }
): string => {
  const list = query.columns === s.columns ? s.selectList : query.columns.map((c) => s.dialect.selectExpr(c.column)).join(", ")
  const rank = s.dialect.quote("__rank")
  const from = query.offset ?? 0
  const bounds = [
    ...(from > 0 ? [`${rank} > ${from}`] : []),
    ...(query.limit === undefined ? [] : [`${rank} <= ${from + query.limit}`])
  ]
  const ranked = `SELECT ${s.table}.*, ROW_NUMBER() OVER (PARTITION BY ${query.partition.quoted}${query.orderBy}) AS ${rank} ` +
    `FROM ${s.table}${query.where}`
  return `SELECT ${list} FROM (${ranked}) ${s.dialect.quote("ranked")}` +
    `${bounds.length === 0 ? "" : ` WHERE ${bounds.join(" AND ")}`}${query.orderBy}`
}

/** Whether a row matches a WHERE clause: `SELECT 1 … LIMIT 1`. @internal */
export const exists = (s: ModelStatements, where: string): string =>
  `SELECT 1 AS found FROM ${s.table}${where}${s.dialect.limitOffset(1, undefined)}`

/** The live row with these values of a unique key's fields (`LIMIT 1`). @internal */
export const selectByKey = (
  s: ModelStatements,
  by: ReadonlyArray<string>,
  includeDeleted: boolean
): Plan<{ readonly key: ReadonlyArray<unknown>; readonly tenant: string | undefined }> =>
  cached(s, `selectByKey:${by.join(",")}:${includeDeleted}`, () =>
    plan(s.dialect, (bind) => {
      const scope = includeDeleted || s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
      return `SELECT ${s.selectList} FROM ${s.table} WHERE ${byFields(s, by, bind)}${scope}${s.dialect.limitOffset(1, undefined)}`
    }))
