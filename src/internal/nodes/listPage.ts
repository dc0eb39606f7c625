/**
 * What every `list` statement shares, whether it reads one page or the pages of many callers
 * (batched lists by one field): the checks of its paging, order and projection, the columns it
 * reads with their decoder, and the page (records, next cursor, total) made from its rows.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import type { ValidationError } from "../../Errors.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { NodeContext } from "../runtime/executor.js"
import * as Cursor from "../sql/cursor.js"
import type { DecodePlan, DialectColumn } from "../sql/rows.js"
import { decodePlan } from "../sql/rows.js"
import type { OrderTerm } from "../sql/where.js"
import type { Row } from "./shared.js"
import { invalid } from "./shared.js"

/** @internal */
export interface ListResult {
  readonly records: ReadonlyArray<Row>
  readonly nextCursor?: string
  readonly total?: number
}

/** A `limit` / `offset`: absent, or a non-negative integer. @internal */
export const checkPaging = (def: ModelDefinition, value: unknown, name: string) =>
  value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0)
    ? undefined
    : invalid(def, "list", name, "must be a non-negative integer")

/** The order of a page: the fields asked for, then the primary key's fields (so pages are stable). */
const orderTerms = (ctx: NodeContext, requested: unknown): Either.Either<ReadonlyArray<OrderTerm>, ValidationError> => {
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

/** A list query's order and projection, checked, with what its statement reads. @internal */
export interface ListShape {
  readonly terms: ReadonlyArray<OrderTerm>
  /** The order as a cursor names it (`-age,id`). */
  readonly order: string
  /** The fields asked for (`select`), if any. */
  readonly selected: ReadonlyArray<string> | undefined
  /** The columns read: the selected ones, the order's, and `also`. */
  readonly columns: ReadonlyArray<DialectColumn>
  readonly plan: DecodePlan
}

/**
 * The order and projection of a list query, checked (the order first, as a plain list reports
 * them); `also` is a column the statement reads whatever the projection (a batch routes its rows
 * by it).
 * @internal
 */
export const listShape = (
  ctx: NodeContext,
  query: Pick<ListQuery<Row>, "orderBy" | "select">,
  also?: DialectColumn
): Either.Either<ListShape, ValidationError> => {
  const s = ctx.statements
  const terms = orderTerms(ctx, query.orderBy)
  if (Either.isLeft(terms)) return Either.left(terms.left)
  const selected = query.select as ReadonlyArray<string> | undefined
  if (selected !== undefined) {
    const unknown = Array.isArray(selected) ? selected.find((f) => !s.byField.has(f)) : "select"
    if (unknown !== undefined) return Either.left(invalid(s.definition, "list", "select", `unknown field ${JSON.stringify(unknown)}`))
  }
  const columns = selected === undefined
    ? s.columns
    : s.columns.filter((c) => selected.includes(c.column.field) || c === also || terms.right.some((t) => t.column === c))
  return Either.right({
    terms: terms.right,
    order: terms.right.map((t) => `${t.direction === "desc" ? "-" : ""}${t.column.column.field}`).join(","),
    selected,
    columns,
    plan: columns === s.columns ? s.decode : decodePlan(columns)
  })
}

/**
 * A page of a list from its decoded records (read with `limit + 1` to know whether more
 * follow): the records (projected), the cursor after the last when more follow, the total when
 * counted.
 * @internal
 */
export const pageOf = (
  def: ModelDefinition,
  shape: ListShape,
  limit: number | undefined,
  cursorKey: string | undefined
) =>
(records: ReadonlyArray<Row>, total: number | undefined): ListResult => {
  const more = limit !== undefined && records.length > limit
  const page = more ? records.slice(0, limit) : records
  const last = page[page.length - 1]
  const nextCursor = more && last !== undefined
    ? Cursor.encode(def.name, shape.order, shape.terms.map((t) => last[t.column.column.field] ?? null), cursorKey)
    : undefined
  const selected = shape.selected
  return {
    records: selected === undefined ? page : page.map((r) => pick(r, selected)),
    ...(nextCursor === undefined ? {} : { nextCursor }),
    ...(total === undefined ? {} : { total })
  }
}
