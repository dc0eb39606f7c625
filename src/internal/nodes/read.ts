/**
 * The reading nodes: read, find, list (filters, order, offset and keyset pages, projection,
 * totals), findFirst, count. Each reads: validate → context → statement → execute → decode.
 * (Internal module: not part of the public API.)
 */
import { SqlError } from "@effect/sql/SqlError"
import type * as E from "effect/Effect"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ConfigurationError } from "../../Errors.js"
import { DatabaseError, NotFound } from "../../Errors.js"
import type { ListQuery, ReadOptions, StreamQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { isRecord, keyChecker, valueProblem } from "../model/validate.js"
import { context } from "../runtime/context.js"
import { toDatabaseError } from "../runtime/errors.js"
import type { NodeContext } from "../runtime/executor.js"
import { execute, snapshot } from "../runtime/executor.js"
import { CursorKey } from "../runtime/settings.js"
import * as Build from "../sql/builders.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import { checkPaging } from "./listPage.js"
import type { Row } from "./shared.js"
import { idOf, invalid, keyFieldsOf, traced, readErrors } from "./shared.js"
import type { NodeErrors } from "./types.js"
import type { ListResult } from "./listPage.js"
import { planPage } from "./listPlan.js"

export type { ListResult } from "./listPage.js"

/** @internal */
export interface ReadNodes<R> {
  readonly read: (id: unknown, options?: ReadOptions) => E.Effect<Row, NodeErrors["read"] | ConfigurationError, R>
  readonly find: (id: unknown, options?: ReadOptions) => E.Effect<Option.Option<Row>, NodeErrors["find"] | ConfigurationError, R>
  readonly list: (query?: ListQuery<Row>) => E.Effect<ListResult, NodeErrors["list"] | ConfigurationError, R>
  readonly findFirst: (
    where?: unknown,
    options?: Omit<ListQuery<Row>, "where" | "limit" | "cursor" | "offset" | "total">
  ) => E.Effect<Option.Option<Row>, NodeErrors["list"] | ConfigurationError, R>
  readonly count: (where?: unknown, options?: ReadOptions) => E.Effect<number, NodeErrors["count"] | ConfigurationError, R>
  readonly stream: (query?: StreamQuery<Row>) => Stream.Stream<Row, NodeErrors["list"] | ConfigurationError, R>
  readonly exists: (where?: unknown, options?: ReadOptions) => E.Effect<boolean, NodeErrors["count"] | ConfigurationError, R>
  readonly findBy: (key: unknown, options?: ReadOptions) => E.Effect<Option.Option<Row>, NodeErrors["find"] | ConfigurationError, R>
  readonly readBy: (key: unknown, options?: ReadOptions) => E.Effect<Row, NodeErrors["read"] | ConfigurationError, R>
}

/** Rows a page of `stream` reads when no `pageSize` is given. */
const defaultPageSize = 1000
/** The largest page `stream` reads in one statement. */
const maxPageSize = 100_000

const selectOne = (ctx: NodeContext, id: unknown, includeDeleted: boolean) => {
  const statement = Build.selectById(ctx.statements, includeDeleted)
  return Effect.map(
    execute(ctx, statement.text, statement.params({ id, tenant: ctx.tenant })),
    (rows) => (rows.length === 0 ? Option.none<Row>() : Option.some(ctx.statements.decode.decode(rows[0]!)))
  )
}

/** The row with this key, if any (soft-deleted rows only with `includeDeleted`). @internal */
export { selectOne }

/** `findFirst` as the first record of a `list` of one (the plain list, or a batched one). @internal */
export const firstOf = <R>(list: ReadNodes<R>["list"]): ReadNodes<R>["findFirst"] => (filter, options = {}) =>
  Effect.map(
    list({ ...options, ...(filter === undefined ? {} : { where: filter as NonNullable<ListQuery<Row>["where"]> }), limit: 1 }),
    (r) => Option.fromNullable(r.records[0])
  )

/** @internal */
export const make = <R>(def: ModelDefinition): ReadNodes<R> => {
  const checkId = keyChecker(def)
  const keyFields = keyFieldsOf(def)
  /**
   * The row with this key, as `found` makes it of the decoded record (or of none): the statement
   * and its outcome in one step — read and find are the hottest nodes, each Effect step counts.
   */
  const findRow = <A, E>(
    id: unknown,
    operation: "read" | "find",
    includeDeleted: boolean,
    found: (record: Row | undefined) => E.Effect<A, E>
  ): E.Effect<A, E | NodeErrors["find"] | ConfigurationError, R> => {
    const bad = checkId(id, operation)
    if (bad !== undefined) return Effect.fail(bad)
    return Effect.flatMap(context<R>(def, operation), (ctx) => {
      const s = ctx.statements
      const statement = Build.selectById(s, includeDeleted)
      return Effect.matchEffect(execute(ctx, statement.text, statement.params({ id, tenant: ctx.tenant })), {
        onFailure: (e) => Effect.fail(e instanceof SqlError ? toDatabaseError(s.dialect, def.name, operation, e) : e),
        onSuccess: (rows) => found(rows.length === 0 ? undefined : s.decode.decode(rows[0]!))
      })
    })
  }
  const someOrNone = (record: Row | undefined) => Effect.succeed(record === undefined ? Option.none<Row>() : Option.some(record))

  const findSpan = traced(def, "find")
  const find: ReadNodes<R>["find"] = (id, options = {}) =>
    findSpan(findRow(id, "find", options.includeDeleted === true, someOrNone))

  const readSpan = traced(def, "read")
  const read: ReadNodes<R>["read"] = (id, options = {}) =>
    readSpan(findRow(id, "read", options.includeDeleted === true, (record) =>
      record === undefined
        ? Effect.fail(new NotFound({ model: def.name, operation: "read", id: idOf(id) }))
        : Effect.succeed(record)))

  const listSpan = traced(def, "list")
  const list: ReadNodes<R>["list"] = (query = {}) =>
    listSpan(Effect.suspend(() => {
      const operation = "list"
      const badPage = checkPaging(def, query.limit, "limit") ?? checkPaging(def, query.offset, "offset")
      if (badPage !== undefined) return Effect.fail(badPage)
      if (query.cursor !== undefined && query.offset !== undefined) {
        return Effect.fail(invalid(def, operation, "offset", "cannot be combined with a cursor"))
      }
      // planned synchronously, the cursor key read from the fiber's services: the common page is
      // the context, the statement and its rows mapped, no generator per call
      return Effect.flatMap(context<R>(def, operation), (ctx) =>
        Effect.withFiberRuntime((fiber) => {
          const planned = planPage(ctx, query, Context.get(fiber.currentContext as Context.Context<never>, CursorKey))
          if (Either.isLeft(planned)) return Effect.fail(planned.left)
          const { text, params, counted, countParams, scope, pageOf } = planned.right
          const s = ctx.statements
          if (query.total !== true) return readErrors(s, operation)(Effect.map(execute(ctx, text, params), (rows) => pageOf(rows, undefined)))
          if (counted === undefined) {
            // the filter alone uses half the parameters a statement may bind: two statements, one snapshot
            const countOnly = new Params(s.dialect)
            const once = where(s, query.where, countOnly, scope)
            if (Either.isLeft(once)) return Effect.fail(once.left)
            return readErrors(s, operation)(snapshot(
              ctx,
              Effect.all([
                execute(ctx, text, params),
                Effect.map(execute(ctx, Build.count(s, once.right.sql), countOnly.values), (r) => Number(r[0]?.n ?? 0))
              ])
            )).pipe(
              // a read-only transaction whose COMMIT went unanswered changed nothing: read again
              Effect.catchTag("TransactionOutcomeUnknown", (cause) =>
                Effect.fail(new DatabaseError({ model: def.name, operation, retryable: true, cause }))),
              Effect.map(([rows, n]) => pageOf(rows, n))
            )
          }
          return readErrors(s, operation)(Effect.flatMap(execute(ctx, text, params), (rows) =>
            // the total of the page's own snapshot; a page that came back empty after an offset or
            // a cursor has no row to carry it, and counts in a statement of its own
            rows.length > 0
              ? Effect.succeed(pageOf(rows, Number(rows[0]!.__total)))
              : query.offset !== undefined && query.offset > 0 || query.cursor !== undefined
              ? Effect.map(execute(ctx, Build.count(s, counted.sql), countParams), (r) => pageOf(rows, Number(r[0]?.n ?? 0)))
              : Effect.succeed(pageOf(rows, 0))))
        }))
    }))

  const findFirst = firstOf(list)

  const countSpan = traced(def, "count")
  const count: ReadNodes<R>["count"] = (filter, options = {}) =>
    countSpan(Effect.gen(function*() {
      const ctx = yield* context<R>(def, "count")
      const s = ctx.statements
      const params = new Params(s.dialect)
      const filtered = where(s, filter, params, {
        operation: "count",
        includeDeleted: options.includeDeleted === true,
        tenant: ctx.tenant,
        relationTenant: ctx.relationTenant
      })
      if (Either.isLeft(filtered)) return yield* filtered.left
      const rows = yield* readErrors(s, "count")(execute(ctx, Build.count(s, filtered.right.sql), params.values))
      return Number(rows[0]?.n ?? 0)
    }))

  // a Stream over keyset pages: one list statement per page, pulled as the consumer asks, so
  // memory holds one page and an interrupted consumer reads no further page
  const stream: ReadNodes<R>["stream"] = (query = {}) => {
    const pageSize = query.pageSize ?? defaultPageSize
    if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize) {
      return Stream.fail(invalid(def, "stream", "pageSize", `must be an integer from 1 to ${maxPageSize}`))
    }
    const limit = query.limit
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      return Stream.fail(invalid(def, "stream", "limit", "must be a non-negative integer"))
    }
    const { limit: _limit, pageSize: _pageSize, ...rest } = query
    if (limit === 0) return Stream.empty
    return Stream.paginateChunkEffect(
      { cursor: undefined as string | undefined, left: limit ?? Number.POSITIVE_INFINITY },
      (state) =>
        Effect.map(
          list({
            ...rest,
            limit: Math.min(pageSize, state.left),
            ...(state.cursor === undefined ? {} : { cursor: state.cursor })
          }),
          (page) => {
            const left = state.left - page.records.length
            return [
              Chunk.unsafeFromArray(page.records as Array<Row>),
              page.nextCursor === undefined || left <= 0 ? Option.none() : Option.some({ cursor: page.nextCursor, left })
            ] as const
          }
        )
    )
  }

  const existsSpan = traced(def, "exists")
  const exists: ReadNodes<R>["exists"] = (filter, options = {}) =>
    existsSpan(Effect.gen(function*() {
      const ctx = yield* context<R>(def, "exists")
      const s = ctx.statements
      const params = new Params(s.dialect)
      const filtered = where(s, filter, params, {
        operation: "exists",
        includeDeleted: options.includeDeleted === true,
        tenant: ctx.tenant,
        relationTenant: ctx.relationTenant
      })
      if (Either.isLeft(filtered)) return yield* filtered.left
      const rows = yield* readErrors(s, "exists")(execute(ctx, Build.exists(s, filtered.right.sql), params.values))
      return rows.length > 0
    }))

  /** A unique key's fields and values from a key object, checked as a key. */
  const uniqueKey = (key: unknown, operation: string) => {
    if (!isRecord(key)) return Either.left(invalid(def, operation, "", "expected an object of a unique key's fields"))
    const fields = Object.keys(key)
    const same = (set: ReadonlyArray<string>) => set.length === fields.length && set.every((f) => fields.includes(f))
    const by = same(keyFields) ? keyFields : def.uniqueSets.find(same)
    if (by === undefined) {
      return Either.left(invalid(def, operation, "", "its fields are not the primary key or a unique constraint of the model"))
    }
    const values = by.map((f) => key[f])
    for (let i = 0; i < by.length; i++) {
      const problem = values[i] === null || values[i] === undefined ? "a key needs a value" : valueProblem(def, by[i]!, values[i])
      if (problem !== undefined) return Either.left(invalid(def, operation, by[i]!, problem))
    }
    return Either.right({ by, values })
  }

  const findByKey = (key: unknown, operation: "findBy" | "readBy", includeDeleted: boolean) =>
    Effect.gen(function*() {
      const checked = uniqueKey(key, operation)
      if (Either.isLeft(checked)) return yield* checked.left
      const ctx = yield* context<R>(def, operation)
      const statement = Build.selectByKey(ctx.statements, checked.right.by, includeDeleted)
      const rows = yield* readErrors(ctx.statements, operation)(
        execute(ctx, statement.text, statement.params({ key: checked.right.values, tenant: ctx.tenant }))
      )
      return { found: rows.length === 0 ? Option.none<Row>() : Option.some(ctx.statements.decode.decode(rows[0]!)), ...checked.right }
    })

  const findBySpan = traced(def, "findBy")
  const findBy: ReadNodes<R>["findBy"] = (key, options = {}) =>
    findBySpan(Effect.map(findByKey(key, "findBy", options.includeDeleted === true), (r) => r.found))

  const readBySpan = traced(def, "readBy")
  const readBy: ReadNodes<R>["readBy"] = (key, options = {}) =>
    readBySpan(Effect.flatMap(findByKey(key, "readBy", options.includeDeleted === true), (r) =>
      Option.isSome(r.found)
        ? Effect.succeed(r.found.value)
        : Effect.fail(
          new NotFound({
            model: def.name,
            operation: "readBy",
            id: r.by.length === 1 ? idOf(r.values[0]) : r.by.map((f, i) => `${f}=${String(r.values[i])}`).join(",")
          })
        )))

  return { read, find, list, findFirst, count, stream, exists, findBy, readBy }
}
