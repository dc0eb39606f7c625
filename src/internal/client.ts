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
  /** Bumped when SQLite statements must be prepared afresh (see core.context). */
  generation: number
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
    state = { dialect: Dialect.fromClient(sql), ready: new Map(), server: undefined, generation: 0 }
    states.set(sql, state)
  }
  return state
}

/** Runs an effect off the ambient transaction's connection. @internal */
export const outsideTransaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.mapInputContext(self, (ctx: Context.Context<R>) =>
    Context.omit(SqlClient.TransactionConnection)(ctx) as Context.Context<R>)

const serverInfo = (sql: SqlClient.SqlClient, state: ClientState) =>
  state.server !== undefined || state.dialect.name !== "mysql"
    ? Effect.succeed(state.server ?? { mariadb: false })
    : sql.unsafe<{ v: string }>("SELECT VERSION() AS v").withoutTransform.pipe(
      Effect.map((rows) => {
        state.server = { mariadb: /mariadb/i.test(String(rows[0]?.v ?? "")) }
        return state.server
      })
    )

/**
 * Ensures a table exists on this client, running its DDL at most once per client even when
 * many fibers need it at the same time. Under the `"existing"` policy it does nothing.
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
  const run = serverInfo(sql, state).pipe(
    Effect.flatMap((server) =>
      Effect.forEach(ddl(server), (statement) => sql.unsafe(statement).withoutTransform, { discard: true })
    ),
    Effect.mapError(mapError)
  )
  // decided synchronously, so two fibers can never both start the DDL
  return Effect.withFiberRuntime<void, E>((fiber) => {
    const ctx = fiber.currentContext
    if (Context.get(ctx, SchemaPolicy) === "existing") return Effect.void
    const current = state.ready.get(key)
    if (current === true) return Effect.void
    // SQLite has one connection: inside a transaction the DDL must run on it (waiting for
    // another fiber's DDL would wait for this very connection), and it may be rolled back
    // with the transaction, so it is not remembered as done. CREATE … IF NOT EXISTS repeats safely.
    if (Option.isSome(Context.getOption(ctx, SqlClient.TransactionConnection)) && !state.dialect.ddlOutsideTransaction) {
      return run
    }
    if (current !== undefined) return Deferred.await(current).pipe(Effect.mapError(mapError))
    const deferred = Deferred.unsafeMake<void, unknown>(FiberId.none)
    state.ready.set(key, deferred)
    return outsideTransaction(run).pipe(
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
    retryable: f.retryable,
    cause,
    ...(f.code === undefined ? {} : { code: f.code })
  })
}

/** The binding's client for a tenant, its failures typed. @internal */
export const connect = (binding: Binding, tenant: string | undefined, model: string, operation: string) =>
  Effect.mapError(
    binding.client(tenant),
    (cause) =>
      cause instanceof ConfigurationError || cause instanceof DatabaseError
        ? cause
        : new DatabaseError({ model, operation, retryable: false, cause })
  )
