/**
 * Tables created on first use: a table's DDL runs at most once per client, however many fibers
 * need it at the same time, and never waits for a connection the work needing the table holds.
 * (Internal module: not part of the public API.)
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Deferred, Effect, Exit, FiberId, Option } from "effect"
import type * as Dialect from "../dialect/dialect.js"
import type { SchemaConnection } from "../schema/reconcile.js"
import { onClient } from "../schema/introspect.js"
import { outsideTransaction } from "./binding.js"
import type { ClientState } from "./clientState.js"
import { SchemaPolicy } from "./settings.js"
import { statementSpan } from "./tracing.js"

/** The server facts DDL depends on, read once per client. @internal */
export const serverInfo = (sql: SqlClient.SqlClient, state: ClientState): Effect.Effect<Dialect.ServerInfo, SqlError> => {
  const known = state.server ?? state.executor?.server
  const query = state.dialect.serverInfo
  if (known !== undefined || query === undefined) return Effect.succeed(known ?? { mariadb: false })
  return sql.unsafe<Record<string, unknown>>(query.query).withoutTransform.pipe(
    Effect.map((rows) => {
      state.server = query.read(rows)
      return state.server
    })
  )
}

/** A connection of the client's pool (or its transaction) as a schema connection. */
const onPool = (sql: SqlClient.SqlClient): SchemaConnection => ({
  query: onClient(sql),
  run: (statement) => sql.unsafe(statement).withoutTransform
})

/** One reserved connection (the library's DDL connection, or one of the pool) as a schema connection. */
const onConnection = (
  conn: { readonly executeRaw: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<unknown, SqlError> },
  rows: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError>,
  dialect: Dialect.Dialect
): SchemaConnection => ({
  query: (q) => rows(q.text, q.params),
  run: (statement) => conn.executeRaw(statement, []).pipe(statementSpan(dialect.systemName, "executeRaw", statement))
})

/**
 * Runs a table's first-use work on one connection: as one transaction behind the dialect's
 * DDL lock where there is one (PostgreSQL: an advisory lock, so that concurrent first uses —
 * in this process or another — never race `CREATE … IF NOT EXISTS` or `ADD COLUMN`).
 */
const lockedOn = <A, E>(
  conn: SchemaConnection,
  lock: string | undefined,
  work: (conn: SchemaConnection) => Effect.Effect<A, E | SqlError>
): Effect.Effect<A, E | SqlError> => {
  if (lock === undefined) return work(conn)
  return Effect.gen(function*() {
    yield* conn.run("BEGIN")
    const exit = yield* Effect.exit(Effect.zipRight(conn.run(lock), work(conn)))
    if (Exit.isSuccess(exit)) {
      yield* conn.run("COMMIT")
      return exit.value
    }
    yield* Effect.ignore(conn.run("ROLLBACK"))
    return yield* exit
  })
}

/**
 * The first-use work of one table: under `"auto"` it may run DDL, under `"existing"` it only
 * reads; it fails when the table cannot serve the model.
 * @internal
 */
export type TableWork<E> = (
  server: Dialect.ServerInfo,
  conn: SchemaConnection,
  policy: "auto" | "existing"
) => Effect.Effect<void, E | SqlError>

/**
 * Ensures a table is ready for one model on this client (`key`: the table and the model):
 * created, or given what it lacks, and checked (`work`), serialised per `table`. Under the
 * `"none"` policy it does nothing.
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
export const ensure = <E, W>(
  sql: SqlClient.SqlClient,
  state: ClientState,
  key: string,
  table: string,
  work: TableWork<W>,
  mapError: (e: unknown) => E
): Effect.Effect<void, E> => {
  if (state.ready.get(key) === true) return Effect.void
  const { dialect } = state
  const lock = dialect.ddlLock?.(table)
  const own = state.executor?.ddlConnection
  const pool = onPool(sql)
  const run = (f: (server: Dialect.ServerInfo) => Effect.Effect<void, W | SqlError>) =>
    serverInfo(sql, state).pipe(Effect.flatMap(f), Effect.mapError(mapError))
  const outside = (policy: "auto" | "existing") =>
    run((server) =>
      policy === "existing"
        ? work(server, pool, policy)
        : own !== undefined
        ? Effect.scoped(Effect.flatMap(own, (conn) => lockedOn(onConnection(conn, conn.execute, dialect), lock, (c) => work(server, c, policy))))
        : lock !== undefined
        ? Effect.scoped(Effect.flatMap(sql.reserve, (conn) =>
          lockedOn(onConnection(conn, (text, params) => conn.execute(text, params, undefined), dialect), lock, (c) =>
            work(server, c, policy))))
        : work(server, pool, policy))
  const inside = run((server) => Effect.zipRight(lock === undefined ? Effect.void : pool.run(lock), work(server, pool, "auto")))
  // decided synchronously, so two fibers can never both start the DDL
  return Effect.withFiberRuntime<void, E>((fiber) => {
    const ctx = fiber.currentContext
    const policy = Context.get(ctx, SchemaPolicy)
    if (policy === "none") return Effect.void
    const current = state.ready.get(key)
    if (current === true) return Effect.void
    if (
      policy === "auto" && own === undefined && dialect.transactionalDdl &&
      Option.isSome(Context.getOption(ctx, SqlClient.TransactionConnection))
    ) {
      return inside
    }
    if (current !== undefined) return Deferred.await(current).pipe(Effect.mapError(mapError))
    const deferred = Deferred.unsafeMake<void, unknown>(FiberId.none)
    state.ready.set(key, deferred)
    return outsideTransaction(outside(policy)).pipe(
      Effect.onExit((exit) => {
        if (Exit.isSuccess(exit)) state.ready.set(key, true)
        else state.ready.delete(key)
        return Deferred.done(deferred, exit)
      }),
      Effect.uninterruptible
    )
  })
}
