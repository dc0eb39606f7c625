/**
 * Per-client state: the client's dialect, which tables it has ensured, facts about the
 * server. Held in a WeakMap keyed by the client, so it lives exactly as long as the client.
 * (Internal module: not part of the public API.)
 */
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import type { Scope } from "effect"
import { Context, Deferred, Effect, Exit, FiberId, Option } from "effect"
import * as Dialect from "../Dialect.js"
import { ConfigurationError, DatabaseError } from "../Errors.js"

/**
 * When tables may be created. `"auto"`: missing tables are created on first use (and by
 * `DataFlow.migrate`); `"existing"`: the database belongs to someone else, never run DDL.
 *
 * @since 0.1.0
 * @category schema
 */
export class SchemaPolicy extends Context.Reference<SchemaPolicy>()("effect-dataflow/SchemaPolicy", {
  defaultValue: (): "auto" | "existing" => "auto"
}) {}

/**
 * Whether each node call opens its own span (`dataflow.<Model>.<node>`); on by default. The
 * span is most of a node's own cost on an in-process database; switch it off where every
 * microsecond counts and the statement spans of `@effect/sql` are enough.
 *
 * @since 0.1.0
 * @category tracing
 */
export class NodeSpans extends Context.Reference<NodeSpans>()("effect-dataflow/NodeSpans", {
  defaultValue: (): boolean => true
}) {}

/**
 * The key that signs keyset cursors (`DataFlow.cursorKey`); unset by default. With a key, a
 * cursor the application did not make is an `InvalidCursor` before any of it is read.
 *
 * @since 0.1.0
 * @category cursors
 */
export class CursorKey extends Context.Reference<CursorKey>()("effect-dataflow/CursorKey", {
  defaultValue: (): string | undefined => undefined
}) {}

/** @internal */
export interface ClientState {
  readonly dialect: Dialect.Dialect
  readonly ready: Map<string, true | Deferred.Deferred<void, unknown>>
  server: Dialect.ServerInfo | undefined
}

const states = new WeakMap<SqlClient.SqlClient, ClientState>()

/** The tracer Effect runs with when none is installed: it records nothing anyone can read. @internal */
export const builtInTracer = Effect.runSync(Effect.tracer)

/**
 * How the nodes run a statement on a client the library made itself (`DataFlow.layer`'s SQLite
 * and PostgreSQL clients), instead of through `@effect/sql`'s statement pipeline.
 * @internal
 */
export interface DirectPath {
  /**
   * Runs one statement (on `transaction`, the fiber's transaction connection of this client,
   * when there is one): rows, or the driver's result for `raw`. Undefined when it cannot run
   * now (the connection is held by another fiber's transaction): the caller takes the general
   * path, which waits for it.
   */
  readonly run: (
    text: string,
    params: ReadonlyArray<unknown>,
    raw: boolean,
    safeIntegers: boolean,
    transaction: Connection | undefined
  ) => Effect.Effect<unknown, SqlError> | undefined
  /**
   * A connection of its own, outside the pool, for DDL: DDL then never waits for a pool
   * connection that the work needing the table holds (a burst of transactions on a new
   * table, as many as the pool has connections). Closed with its scope.
   */
  readonly ddlConnection?: Effect.Effect<DdlConnection, SqlError, Scope.Scope>
  /** Facts about the server, read when the client was made. */
  readonly server?: Dialect.ServerInfo
}

/** What DDL needs of a connection. @internal */
export interface DdlConnection {
  readonly executeRaw: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<unknown, SqlError>
}

const directPaths = new WeakMap<SqlClient.SqlClient, DirectPath>()

/** @internal */
export const setDirectPath = (sql: SqlClient.SqlClient, path: DirectPath): void => {
  directPaths.set(sql, path)
}

/** The direct path of a client made by the library; undefined for any other client. @internal */
export const directPathOf = (sql: SqlClient.SqlClient): DirectPath | undefined => directPaths.get(sql)

/** @internal */
export const stateOf = (sql: SqlClient.SqlClient): ClientState => {
  let state = states.get(sql)
  if (state === undefined) {
    state = { dialect: Dialect.fromClient(sql), ready: new Map(), server: undefined }
    states.set(sql, state)
  }
  return state
}

/** Runs an effect off the ambient transaction's connection. @internal */
export const outsideTransaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.mapInputContext(self, (ctx: Context.Context<R>) =>
    Context.omit(SqlClient.TransactionConnection)(ctx) as Context.Context<R>)

const serverInfo = (sql: SqlClient.SqlClient, state: ClientState): Effect.Effect<Dialect.ServerInfo, SqlError> => {
  const known = state.server ?? directPathOf(sql)?.server
  const query = state.dialect.serverInfo
  if (known !== undefined || query === undefined) return Effect.succeed(known ?? { mariadb: false })
  return sql.unsafe<Record<string, unknown>>(query.query).withoutTransform.pipe(
    Effect.map((rows) => {
      state.server = query.read(rows)
      return state.server
    })
  )
}

/** The span of one DDL statement, named and shaped as `@effect/sql`'s statement spans. */
const traced = (dialect: Dialect.Dialect, statement: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.withSpan(self, "sql.execute", {
    kind: "client",
    captureStackTrace: false,
    attributes: { "db.query.text": statement, "db.system.name": dialect.systemName }
  })

/**
 * Runs DDL statements on one connection: as one transaction behind the dialect's DDL lock
 * where there is one (PostgreSQL: an advisory lock, so that concurrent first uses — in this
 * process or another — never race `CREATE … IF NOT EXISTS` into a duplicate-key error).
 */
const ddlOn = (conn: DdlConnection, dialect: Dialect.Dialect, lock: string | undefined, statements: ReadonlyArray<string>) => {
  const run = (statement: string) => conn.executeRaw(statement, []).pipe(traced(dialect, statement))
  if (lock === undefined) return Effect.forEach(statements, run, { discard: true })
  return Effect.gen(function*() {
    yield* run("BEGIN")
    const exit = yield* Effect.exit(Effect.forEach([lock, ...statements], run, { discard: true }))
    if (Exit.isSuccess(exit)) return yield* run("COMMIT")
    yield* Effect.ignore(run("ROLLBACK"))
    return yield* exit
  })
}

/**
 * Ensures a table exists on this client, running its DDL at most once per client even when
 * many fibers need it at the same time. Under the `"existing"` policy it does nothing.
 *
 * DDL never waits for a connection that the work needing the table holds:
 * - the library's own clients run it on a connection of their own, outside the pool;
 * - inside a transaction of another client, where the database's DDL is transactional
 *   (SQLite, PostgreSQL), it runs in that transaction (after the dialect's DDL lock) and is
 *   not remembered as done, since it may be rolled back with the transaction;
 * - otherwise (another client, MySQL, where DDL would commit the caller's transaction) it runs
 *   on a connection of the pool, outside the transaction.
 * @internal
 */
export const ensure = <E>(
  sql: SqlClient.SqlClient,
  state: ClientState,
  key: string,
  ddl: (server: Dialect.ServerInfo) => ReadonlyArray<string>,
  mapError: (e: unknown) => E
): Effect.Effect<void, E> => {
  const entry = state.ready.get(key)
  if (entry === true) return Effect.void
  const { dialect } = state
  const lock = dialect.ddlLock?.(key)
  const own = directPathOf(sql)?.ddlConnection
  const oneByOne = (statements: ReadonlyArray<string>) =>
    Effect.forEach(statements, (statement) => sql.unsafe(statement).withoutTransform, { discard: true })
  const withStatements = (f: (statements: ReadonlyArray<string>) => Effect.Effect<unknown, SqlError>) =>
    serverInfo(sql, state).pipe(Effect.flatMap((server) => f(ddl(server))), Effect.asVoid, Effect.mapError(mapError))
  const outside = withStatements((statements) =>
    own !== undefined
      ? Effect.scoped(Effect.flatMap(own, (conn) => ddlOn(conn, dialect, lock, statements)))
      : lock !== undefined
      ? Effect.scoped(Effect.flatMap(sql.reserve, (conn) => ddlOn(conn, dialect, lock, statements)))
      : oneByOne(statements)
  )
  const inside = withStatements((statements) => oneByOne(lock === undefined ? statements : [lock, ...statements]))
  // decided synchronously, so two fibers can never both start the DDL
  return Effect.withFiberRuntime<void, E>((fiber) => {
    const ctx = fiber.currentContext
    if (Context.get(ctx, SchemaPolicy) === "existing") return Effect.void
    const current = state.ready.get(key)
    if (current === true) return Effect.void
    if (own === undefined && dialect.transactionalDdl && Option.isSome(Context.getOption(ctx, SqlClient.TransactionConnection))) {
      return inside
    }
    if (current !== undefined) return Deferred.await(current).pipe(Effect.mapError(mapError))
    const deferred = Deferred.unsafeMake<void, unknown>(FiberId.none)
    state.ready.set(key, deferred)
    return outsideTransaction(outside).pipe(
      Effect.onExit((exit) => {
        if (Exit.isSuccess(exit)) state.ready.set(key, true)
        else state.ready.delete(key)
        return Deferred.done(deferred, exit)
      }),
      Effect.uninterruptible
    )
  })
}

/**
 * The client whose transaction the current fiber runs in, set by `DataFlow.transaction` and by
 * the nodes' own transactions. A statement of another client must not use that connection.
 * @internal
 */
export class TransactionOwner extends Context.Tag("effect-dataflow/Transaction/Owner")<
  TransactionOwner,
  SqlClient.SqlClient
>() {}

/** Is the ambient transaction connection someone else's? @internal */
export const isForeignTransaction = (ctx: Context.Context<never>, sql: SqlClient.SqlClient): boolean => {
  if (!Context.getOption(ctx, SqlClient.TransactionConnection).pipe(Option.isSome)) return false
  const owner = Context.getOption(ctx, TransactionOwner)
  if (Option.isSome(owner)) return owner.value !== sql
  // a transaction started with the client's own withTransaction belongs to the ambient client
  const ambient = Context.getOption(ctx, SqlClient.SqlClient)
  return Option.isNone(ambient) || ambient.value !== sql
}

/**
 * Runs a statement of `sql` on its own connection: off the ambient transaction when that
 * transaction belongs to another client (two instances never share a connection).
 * @internal
 */
export const onOwnConnection = (sql: SqlClient.SqlClient) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.withFiberRuntime<A, E, R>((fiber) =>
    isForeignTransaction(fiber.currentContext as Context.Context<never>, sql) ? outsideTransaction(self) : self
  )

/** Is the fiber inside a transaction of `sql`? @internal */
export const inOwnTransaction = (ctx: Context.Context<never>, sql: SqlClient.SqlClient): boolean =>
  Option.isSome(Context.getOption(ctx, SqlClient.TransactionConnection)) && !isForeignTransaction(ctx, sql)

/**
 * Where a model's statements go: a client (fixed, or per tenant) and how tenants are kept
 * apart on it. The service behind a `DataFlow.Instance` tag.
 *
 * @since 0.1.0
 * @category instances
 */
export interface Binding {
  readonly name: string
  readonly tenancy: "row" | "schema" | "database"
  readonly client: (tenant: string | undefined) => Effect.Effect<SqlClient.SqlClient, unknown, Scope.Scope>
}

/**
 * A driver failure as a DatabaseError: classified (code, retryable), the driver error kept.
 * `error` may be an SqlError (its cause is the driver error) or the driver error itself.
 * @internal
 */
export const toDatabaseError = (dialect: Dialect.Dialect, model: string, operation: string, error: unknown) => {
  const cause = typeof error === "object" && error !== null && "cause" in error && error.cause !== undefined
    ? error.cause
    : error
  const f = dialect.classify(cause)
  return new DatabaseError({
    model,
    operation,
    // a read that lost its connection changed nothing: running it again is safe
    retryable: f.retryable || (f.connectionLost && readOperations.has(operation)),
    cause,
    ...(f.code === undefined ? {} : { code: f.code }),
    ...(f.connectionLost ? { connectionLost: true } : {})
  })
}

/** Operations that write nothing (DDL is `IF NOT EXISTS`: running it again is safe too). */
const readOperations = new Set(["read", "find", "list", "findFirst", "count", "migrate", "begin"])

/** The binding's client for a tenant, its failures typed. @internal */
export const connect = (binding: Binding, tenant: string | undefined, model: string, operation: string) =>
  Effect.mapError(
    binding.client(tenant),
    (cause) =>
      cause instanceof ConfigurationError || cause instanceof DatabaseError
        ? cause
        : new DatabaseError({ model, operation, retryable: false, cause })
  )
