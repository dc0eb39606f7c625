/**
 * A page of `list`, planned without running anything: the order and projection (`listShape`,
 * shared with batched lists), the filter, the keyset condition of a cursor and the statement text, checked and built synchronously from the
 * node's context and query, and how the statement's rows become the page. The node itself
 * only runs the statement (see read.ts).
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import type { InvalidFilter, ValidationError } from "../../Errors.js"
import { InvalidCursor } from "../../Errors.js"
import type { ListQuery } from "../../Node.js"
import { valueProblem } from "../model/validate.js"
import type { NodeContext } from "../runtime/executor.js"
import * as Build from "../sql/builders.js"
import * as Cursor from "../sql/cursor.js"
import { Params } from "../sql/params.js"
import type { Where } from "../sql/where.js"
import { and, keyset, orderBy, where } from "../sql/where.js"
import type { ListResult } from "./listPage.js"
import { listShape, pageOf } from "./listPage.js"
import type { Row } from "./shared.js"

/** A planned page. @internal */
export interface PagePlan {
  readonly text: string
  readonly params: ReadonlyArray<unknown>
  /** With an embedded total: the filter the statement counts, and the parameters of its count alone. */
  readonly counted: Where | undefined
  readonly countParams: ReadonlyArray<unknown>
  /** Where the filter applies (its scope), for a count in a statement of its own. */
  readonly scope: Parameters<typeof where>[3]
  readonly pageOf: (rows: ReadonlyArray<Row>, total: number | undefined) => ListResult
}

/** Plans a page of `list` (the paging arguments already checked). @internal */
export const planPage = (
  ctx: NodeContext,
  query: ListQuery<Row>,
  cursorKey: string | undefined
): Either.Either<PagePlan, ValidationError | InvalidFilter | InvalidCursor> => {
  const operation = "list"
  const def = ctx.statements.definition
  const s = ctx.statements
  const shape = listShape(ctx, query)
  if (Either.isLeft(shape)) return Either.left(shape.left)
  const terms = shape.right.terms
  const params = new Params(s.dialect)
  const scope = { operation, includeDeleted: query.includeDeleted === true, tenant: ctx.tenant, relationTenant: ctx.relationTenant }
  // with a total, the statement counts the filter's rows in a subquery written before the
  // page's WHERE clause: the filter is bound twice, in text order — unless binding it twice
  // would pass the database's parameter limit: then the page and a count run as two
  // statements in one snapshot (a repeatable-read transaction)
  let embedded = query.total === true
  if (embedded) {
    const probe = new Params(s.dialect)
    const once = where(s, query.where, probe, scope)
    if (Either.isLeft(once)) return Either.left(once.left)
    embedded = 2 * probe.values.length + 2 * terms.length + 2 <= s.dialect.maxParams
  }
  const counted = embedded ? where(s, query.where, params, scope) : undefined
  if (counted !== undefined && Either.isLeft(counted)) return Either.left(counted.left)
  const countParams = [...params.values]
  const filtered = where(s, query.where, params, scope)
  if (Either.isLeft(filtered)) return Either.left(filtered.left)
  let whereSql = filtered.right.sql
  if (query.cursor !== undefined) {
    const decoded = Cursor.decode(query.cursor, def.name, shape.right.order, cursorKey)
    if (Either.isLeft(decoded)) return Either.left(new InvalidCursor({ model: def.name, operation, reason: decoded.left }))
    const values = decoded.right
    // every value passes the checks a filter operand gets before it is bound
    const usable = values.length === terms.length && terms.every((t, i) =>
      values[i] === null
        ? t.nullable
        : valueProblem(def, t.column.column.field, values[i]) === undefined
    )
    if (!usable) return Either.left(new InvalidCursor({ model: def.name, operation, reason: "values do not match the ordering" }))
    whereSql = and(whereSql, keyset(terms, values, params))
  }
  const text = Build.select(s, {
    columns: shape.right.columns,
    where: whereSql,
    orderBy: orderBy(s, terms),
    limit: query.limit === undefined ? undefined : query.limit + 1,
    offset: query.offset,
    total: counted === undefined ? undefined : { where: counted.right.sql }
  })
  const page = pageOf(def, shape.right, query.limit, cursorKey)
  const decode = shape.right.plan.decode
  const pageOfRows = (rows: ReadonlyArray<Row>, total: number | undefined) => page(rows.map(decode), total)
  return Either.right({ text, params: params.values, counted: counted?.right, countParams, scope, pageOf: pageOfRows })
}
