/**
 * Tables created on first use: a table's DDL runs at most once per client, however many fibers
 * need it at the same time, and never waits for a connection the work needing the table holds.
 * (Internal module: not part of the public API.)
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Deferred, Effect, Exit, FiberId, Option } from "effect"
import type * as Dialect from "../dialect/dialect.js"
import type { DdlConnection } from "../client/executor.js"
import { outsideTransaction } from "./binding.js"
import type { ClientState } from "./clientState.js"
import { SchemaPolicy } from "./settings.js"
import { statementSpan } from "./tracing.js"

const serverInfo = (sql: SqlClient.SqlClient, state: ClientState): Effect.Effect<Dialect.ServerInfo, SqlError> => {
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

/**
 * Runs DDL statements on one connection: as one transaction behind the dialect's DDL lock
 * where there is one (PostgreSQL: an advisory lock, so that concurrent first uses — in this
 * process or another — never race `CREATE … IF NOT EXISTS` into a duplicate-key error).
 */
const ddlOn = (conn: DdlConnection, dialect: Dialect.Dialect, lock: string | undefined, statements: ReadonlyArray<string>) => {
  const run = (statement: string) =>
    conn.executeRaw(statement, []).pipe(statementSpan(dialect.systemName, "executeRaw", statement))
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
 * Ensures a table exists on this client. Under the `"existing"` policy it does nothing.
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
  if (state.ready.get(key) === true) return Effect.void
  const { dialect } = state
  const lock = dialect.ddlLock?.(key)
  const own = state.executor?.ddlConnection
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
