/**
 * A page of `list`, planned without running anything: the order, the filter, the keyset
 * condition of a cursor and the statement text, checked and built synchronously from the
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
import type { DecodePlan } from "../sql/rows.js"
import { decodePlan } from "../sql/rows.js"
import type { OrderTerm, Where } from "../sql/where.js"
import { and, keyset, orderBy, where } from "../sql/where.js"
import type { Row } from "./shared.js"
import { invalid } from "./shared.js"

/** @internal */
export interface ListResult {
  readonly records: ReadonlyArray<Row>
  readonly nextCursor?: string
  readonly total?: number
}

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

/** The order of a page: the fields asked for, then the primary key's fields (so pages are stable). */
const orderTerms = (ctx: NodeContext, requested: unknown): Either.Either<ReadonlyArray<OrderTerm>, ReturnType<typeof invalid>> => {
  const s = ctx.statements
  const def = s.definition
  if (requested !== undefined && !Array.isArray(requested)) {
    return Either.left(invalid(def, "list", "orderBy", "expected an array of field names"))
  }
  const terms: Array<OrderTerm> = []
  for (const entry of (requested ?? []) as ReadonlyArray<unknown>) {
    const desc = typeof entry === "string" && entry.startsWith("-")
    const field = typeof entry === "string" ? (desc ? entry.slice(1) : entry) : ""
    const column = s.byField.get(field)
    if (column === undefined) return Either.left(invalid(def, "list", "orderBy", `unknown field ${JSON.stringify(field)}`))
    if (column.column.kind._tag === "json") return Either.left(invalid(def, "list", "orderBy", `cannot sort by JSON field ${field}`))
    if (terms.some((t) => t.column === column)) continue
    terms.push({ column, direction: desc ? "desc" : "asc", nullable: column.column.nullable || column.column.optional })
  }
  for (const key of s.key) {
    if (!terms.some((t) => t.column === key)) terms.push({ column: key, direction: "asc", nullable: false })
  }
  return Either.right(terms)
}

const pick = (record: Row, fields: ReadonlyArray<string>): Row => {
  const out: Row = {}
  for (const f of fields) if (f in record) out[f] = record[f]
  return out
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
  const terms = orderTerms(ctx, query.orderBy)
  if (Either.isLeft(terms)) return Either.left(terms.left)
  const selected = query.select as ReadonlyArray<string> | undefined
  if (selected !== undefined) {
    const unknown = Array.isArray(selected) ? selected.find((f) => !s.byField.has(f)) : "select"
    if (unknown !== undefined) return Either.left(invalid(def, operation, "select", `unknown field ${JSON.stringify(unknown)}`))
  }
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
    embedded = 2 * probe.values.length + 2 * terms.right.length + 2 <= s.dialect.maxParams
  }
  const counted = embedded ? where(s, query.where, params, scope) : undefined
  if (counted !== undefined && Either.isLeft(counted)) return Either.left(counted.left)
  const countParams = [...params.values]
  const filtered = where(s, query.where, params, scope)
  if (Either.isLeft(filtered)) return Either.left(filtered.left)
  const order = terms.right.map((t) => `${t.direction === "desc" ? "-" : ""}${t.column.column.field}`).join(",")
  let whereSql = filtered.right.sql
  if (query.cursor !== undefined) {
    const decoded = Cursor.decode(query.cursor, def.name, order, cursorKey)
    if (Either.isLeft(decoded)) return Either.left(new InvalidCursor({ model: def.name, operation, reason: decoded.left }))
    const values = decoded.right
    // every value passes the checks a filter operand gets before it is bound
    const usable = values.length === terms.right.length && terms.right.every((t, i) =>
      values[i] === null
        ? t.nullable
        : valueProblem(def, t.column.column.field, values[i]) === undefined
    )
    if (!usable) return Either.left(new InvalidCursor({ model: def.name, operation, reason: "values do not match the ordering" }))
    whereSql = and(whereSql, keyset(terms.right, values, params))
  }
  const columns = selected === undefined
    ? s.columns
    : s.columns.filter((c) => selected.includes(c.column.field) || terms.right.some((t) => t.column === c))
  const text = Build.select(s, {
    columns,
    where: whereSql,
    orderBy: orderBy(s, terms.right),
    limit: query.limit === undefined ? undefined : query.limit + 1,
    offset: query.offset,
    total: counted === undefined ? undefined : { where: counted.right.sql }
  })
  const plan: DecodePlan = columns === s.columns ? s.decode : decodePlan(columns)
  const pageOf = (rows: ReadonlyArray<Row>, total: number | undefined) => {
    const more = query.limit !== undefined && rows.length > query.limit
    const page = (more ? rows.slice(0, query.limit) : rows).map(plan.decode)
    const last = page[page.length - 1]
    const nextCursor = more && last !== undefined
      ? Cursor.encode(def.name, order, terms.right.map((t) => last[t.column.column.field] ?? null), cursorKey)
      : undefined
    return {
      records: selected === undefined ? page : page.map((r) => pick(r, selected)),
      ...(nextCursor === undefined ? {} : { nextCursor }),
      ...(total === undefined ? {} : { total })
    }
  }
  return Either.right({ text, params: params.values, counted: counted?.right, countParams, scope, pageOf })
}
