/**
 * Request batching of `list` by one field: under request batching (see batch.ts), a `list`
 * whose `where` is one equality on one column (`Comment.list({ where: { postId } })`) is an
 * Effect `Request`; the lists that run together with the same rest of their query (order,
 * projection, `includeDeleted`, `limit` / `offset`) become one statement, `WHERE field IN (…)`
 * in the lists' order — with a page per caller (`limit` / `offset`), the rows of each value
 * numbered by `ROW_NUMBER() OVER (PARTITION BY field …)` —, and each caller gets its own page,
 * the one its plain `list` returns. Lists with a cursor, a total, or any other filter run as
 * they are; one value alone is the plain `list`.
 * (Internal module: not part of the public API.)
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Request from "effect/Request"
import type { ConfigurationError } from "../../Errors.js"
import { NotFound } from "../../Errors.js"
import { limits } from "../../Filter.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { isRecord, valueProblem } from "../model/validate.js"
import { context } from "../runtime/context.js"
import { execute } from "../runtime/executor.js"
import { CursorKey } from "../runtime/settings.js"
import * as Build from "../sql/builders.js"
import { Params } from "../sql/params.js"
import { orderBy, where } from "../sql/where.js"
import { groupBy, RequestBatching, splitResolver, withCallerServices } from "./batch.js"
import type { ListResult } from "./listPage.js"
import { listShape, pageOf } from "./listPage.js"
import * as Read from "./read.js"
import type { Row } from "./shared.js"
import { dieOn, idOf, readErrors, traced } from "./shared.js"
import type { NodeErrors } from "./types.js"

type ListError = NodeErrors["list"] | ConfigurationError

interface ListBy extends Request.Request<ListResult, ListError> {
  readonly _tag: "ListBy"
  readonly def: ModelDefinition
  /** The model's plain reading nodes: a list alone runs as it is. */
  readonly nodes: Read.ReadNodes<unknown>
  readonly query: ListQuery<Row>
  readonly field: string
  readonly value: unknown
  /** The query without its value, as text: lists of equal shapes share a statement. */
  readonly shape: string
}

const ListBy = Request.tagged<ListBy>("ListBy")

/**
 * Fields whose values come back from the database as they were asked for, so that a row is
 * routed to its caller by its value: not decimals (`"1.50"` reads back as `"1.5"`), floats or
 * JSON.
 */
const routable = new Set(["string", "enum", "integer", "bigint", "boolean", "datetime"])

/** The query options a batched list may carry (a cursor or a total runs the plain list). */
const batchedOptions = new Set(["where", "orderBy", "select", "includeDeleted", "limit", "offset"])

/** A value as text: the values a caller asked for and those of the rows meet in a Map. */
const valueKey = (v: unknown): string =>
  v instanceof Date
    ? `d:${v.getTime()}`
    : typeof v === "number" || typeof v === "bigint"
    ? `n:${String(v)}`
    : `${typeof v}:${String(v)}`

const isValue = (v: unknown) =>
  typeof v === "string" || typeof v === "number" || typeof v === "bigint" || typeof v === "boolean" ||
  (v instanceof Date && !Number.isNaN(v.getTime()))

const isFieldList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((f) => typeof f === "string"))
const isPaging = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0)

/**
 * The field and value of a list whose `where` is one equality (`{ postId: 1 }`, `{ postId: {
 * $eq: 1 } }`) on a routable column, with the shape of the rest of its query; `undefined` for
 * any other list (and for options a plain list rejects: it says why).
 * @internal
 */
export const byOneField = (
  def: ModelDefinition,
  query: unknown
): { readonly field: string; readonly value: unknown; readonly shape: string } | undefined => {
  if (!isRecord(query)) return undefined
  for (const option in query) if (query[option] !== undefined && !batchedOptions.has(option)) return undefined
  const filter = query.where
  if (!isRecord(filter)) return undefined
  const fields = Object.keys(filter)
  if (fields.length !== 1) return undefined
  const field = fields[0]!
  const column = def.byField.get(field)
  if (column === undefined || !routable.has(column.kind._tag)) return undefined
  let value = filter[field]
  if (isRecord(value) && !(value instanceof Date)) {
    const operators = Object.keys(value)
    if (operators.length !== 1 || operators[0] !== "$eq") return undefined
    value = value.$eq
  }
  if (!isValue(value)) return undefined
  const { includeDeleted, limit, offset, orderBy: order, select } = query
  if (!isFieldList(order) || !isFieldList(select) || !isPaging(limit) || !isPaging(offset)) return undefined
  if (includeDeleted !== undefined && typeof includeDeleted !== "boolean") return undefined
  const shape = JSON.stringify([field, order ?? null, select ?? null, includeDeleted === true, limit ?? null, offset ?? null])
  return { field, value, shape }
}

/** Values per statement: inside the filter language's `$in` limit. */
const chunk = limits.list

/**
 * The pages of the lists of one shape, one per value: `None` when a value is not one the
 * field takes (each list alone then reports its own error) or a row matched no value asked
 * (the database compared otherwise than the routing: each list alone is right).
 */
const listMany = (first: ListBy, values: ReadonlyArray<unknown>) =>
  traced(first.def, "list")(Effect.gen(function*() {
    const { def, field, query } = first
    const ctx = yield* context<unknown>(def, "list")
    const s = ctx.statements
    const partition = s.byField.get(field)!
    const shape = listShape(ctx, query, partition)
    if (Either.isLeft(shape)) return yield* shape.left
    const scope = { operation: "list", includeDeleted: query.includeDeleted === true, tenant: ctx.tenant, relationTenant: ctx.relationTenant }
    const order = orderBy(s, shape.right.terms)
    const paged = query.limit !== undefined || (query.offset ?? 0) > 0
    const statements: Array<{ readonly text: string; readonly params: ReadonlyArray<unknown> }> = []
    for (let i = 0; i < values.length; i += chunk) {
      const params = new Params(s.dialect)
      const filtered = where(s, { [field]: { $in: values.slice(i, i + chunk) } }, params, scope)
      if (Either.isLeft(filtered)) return Option.none()
      const columns = shape.right.columns
      const text = paged
        ? Build.selectRanked(s, {
          columns,
          where: filtered.right.sql,
          orderBy: order,
          partition,
          // one row more than the page: whether another page follows (its cursor)
          limit: query.limit === undefined ? undefined : query.limit + 1,
          offset: query.offset
        })
        : Build.select(s, { columns, where: filtered.right.sql, orderBy: order, limit: undefined, offset: undefined })
      statements.push({ text, params: params.values })
    }
    const results = yield* readErrors(s, "list")(Effect.forEach(statements, (st) => execute(ctx, st.text, st.params)))
    const byValue = new Map<string, Array<Row>>(values.map((v) => [valueKey(v), []]))
    for (const rows of results) {
      for (const row of rows) {
        const record = shape.right.plan.decode(row)
        const records = byValue.get(valueKey(record[field]))
        if (records === undefined) return Option.none()
        records.push(record)
      }
    }
    const page = pageOf(def, shape.right, query.limit, yield* CursorKey)
    const pages = new Map<string, ListResult>()
    for (const [key, records] of byValue) pages.set(key, page(records, undefined))
    return Option.some(pages)
  }))

/** Completes requests with the outcome of one effect. */
const completeAll = <E>(requests: ReadonlyArray<ListBy>, self: Effect.Effect<ListResult, E, unknown>) =>
  Effect.flatMap(
    Effect.exit(self),
    (exit) => Effect.forEach(requests, (r) => Request.complete(r, exit as Request.Request.Result<ListBy>), { discard: true })
  )

/** The lists of one model and shape: deduplicated by value, one statement (per chunk). */
const runShape = (requests: ReadonlyArray<ListBy>): Effect.Effect<void, never, unknown> => {
  const first = requests[0]!
  const byValue = groupBy(requests, (r) => valueKey(r.value))
  const alone = () =>
    Effect.forEach(byValue.values(), (same) => completeAll(same, first.nodes.list(same[0]!.query)), { discard: true })
  if (byValue.size === 1) return alone()
  return Effect.exit(listMany(first, [...byValue.values()].map((same) => same[0]!.value))).pipe(
    Effect.flatMap((exit) => {
      if (exit._tag === "Failure") {
        return Effect.forEach(requests, (r) => Request.completeEffect(r, Effect.failCause(exit.cause)), { discard: true })
      }
      const pages = exit.value
      if (Option.isNone(pages)) return alone()
      return Effect.forEach(byValue, ([key, same]) =>
        Effect.forEach(same, (r) => Request.succeed(r, pages.value.get(key)!), { discard: true }), { discard: true })
    })
  )
}

/** The one resolver of lists by one field: a batch is split by model and shape. */
const resolver = splitResolver((r: ListBy) => r.shape, runShape)

const listResolver = withCallerServices(resolver)

/**
 * A model's `list` (and `findFirst`, a list of one; `findBy` / `readBy` of a one-field unique
 * key, a list of at most one) as a batched request when
 * `RequestBatching` is on and its query is one equality on one field (see {@link byOneField});
 * otherwise, and for the other nodes, the nodes as they are.
 * @internal
 */
export const withListBatching = <R>(def: ModelDefinition, nodes: Read.ReadNodes<R>): Read.ReadNodes<R> => {
  const plain = nodes as unknown as Read.ReadNodes<unknown>
  const list: Read.ReadNodes<R>["list"] = (query) =>
    Effect.withFiberRuntime((fiber) => {
      if (!Context.get(fiber.currentContext, RequestBatching)) return nodes.list(query)
      const one = byOneField(def, query)
      if (one === undefined) return nodes.list(query)
      // what the model's nodes require, the resolver requires: R
      return Effect.request(ListBy({ def, nodes: plain, query: query!, ...one }), listResolver) as Effect.Effect<
        ListResult,
        ListError,
        R
      >
    })
  // the first record by one field (`Comment.findFirst({ postId })`) is a batched list of one
  const batchedFirst = Read.firstOf(list)
  const findFirst: Read.ReadNodes<R>["findFirst"] = (filter, options) =>
    Effect.withFiberRuntime((fiber) =>
      Context.get(fiber.currentContext, RequestBatching) ? batchedFirst(filter, options) : nodes.findFirst(filter, options)
    )
  // `findBy` / `readBy` of a one-field unique key (`User.findBy({ email })`) are a batched list
  // by that field: a unique key matches one row at most
  const byUniqueField = (key: unknown, includeDeleted: boolean) => {
    if (!isRecord(key)) return undefined
    const fields = Object.keys(key)
    if (fields.length !== 1) return undefined
    const field = fields[0]!
    const unique = (!def.compositeKey && def.pk.field === field) || def.uniqueSets.some((set) => set.length === 1 && set[0] === field)
    const value = key[field]
    // anything the node would refuse, it refuses itself (its own operation in the error)
    if (!unique || value === null || value === undefined || valueProblem(def, field, value) !== undefined) return undefined
    const query = { where: { [field]: value }, ...(includeDeleted ? { includeDeleted } : {}) }
    return byOneField(def, query) === undefined ? undefined : { query, value }
  }
  // our own filter of a checked value: never an InvalidFilter / InvalidCursor
  const ours = dieOn("InvalidFilter", "InvalidCursor")
  const findBy: Read.ReadNodes<R>["findBy"] = (key, options = {}) =>
    Effect.withFiberRuntime((fiber) => {
      const one = Context.get(fiber.currentContext, RequestBatching) ? byUniqueField(key, options.includeDeleted === true) : undefined
      return one === undefined
        ? nodes.findBy(key, options)
        : Effect.map(ours(list(one.query as ListQuery<Row>)), (page) => Option.fromNullable(page.records[0]))
    })
  const readBy: Read.ReadNodes<R>["readBy"] = (key, options = {}) =>
    Effect.withFiberRuntime((fiber) => {
      const one = Context.get(fiber.currentContext, RequestBatching) ? byUniqueField(key, options.includeDeleted === true) : undefined
      return one === undefined
        ? nodes.readBy(key, options)
        : Effect.flatMap(ours(list(one.query as ListQuery<Row>)), (page) =>
          page.records.length > 0
            ? Effect.succeed(page.records[0]!)
            : Effect.fail(new NotFound({ model: def.name, operation: "readBy", id: idOf(one.value) })))
    })
  return { ...nodes, list, findFirst, findBy, readBy }
}
