/**
 * Tables created on first use: a table's DDL runs at most once per client, however many fibers
 * need it at the same time, and never waits for a connection the work needing the table holds.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import type * as Dialect from "../dialect/dialect.js"
import type { TableSpec } from "../dialect/dialect.js"
import type { SchemaConnection } from "../schema/reconcile.js"
import { liveTables, settled } from "../schema/reconcile.js"
import { onClient } from "../schema/introspect.js"
import { outsideTransaction } from "./binding.js"
import { recentTable } from "./catalogSnapshot.js"
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
  query: (q) => rows(q.text, q.params).pipe(statementSpan(dialect.systemName, "execute", q.text)),
  run: (statement) => conn.executeRaw(statement, []).pipe(statementSpan(dialect.systemName, "executeRaw", statement))
})

/**
 * Runs a table's first-use work on one connection behind the dialect's DDL lock on `key`, so
 * that concurrent first uses — in this process or another — never race `CREATE … IF NOT
 * EXISTS`, `ADD COLUMN` or the foreign keys of a cycle: PostgreSQL's advisory lock, held by
 * one transaction around the work; MySQL's named lock, held by the connection (its DDL cannot
 * run in a transaction) and released after the work, also when it fails.
 */
const lockedOn = <A, E>(
  dialect: Dialect.Dialect,
  conn: SchemaConnection,
  key: string,
  work: (conn: SchemaConnection) => Effect.Effect<A, E | SqlError>
): Effect.Effect<A, E | SqlError> => {
  const lock = dialect.ddlLock?.(key)
  if (lock !== undefined) {
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
  const session = dialect.ddlSessionLock
  if (session === undefined) return work(conn)
  const acquire = Effect.flatMap(conn.query({ text: session.acquire(key), params: [] }), (rows) =>
    Number(rows[0]?.acquired) === 1
      ? Effect.void
      : Effect.fail(new SqlError({ message: `the first-use DDL lock on ${key} was not granted within 600 s` })))
  return Effect.acquireUseRelease(acquire, () => work(conn), () => Effect.ignore(conn.run(session.release(key))))
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
 * `"none"` policy it does nothing. With the model's table spec (`spec`), a recent catalog read
 * of its whole schema is asked first (one read for many first uses: `catalogSnapshot.ts`):
 * when it shows the table ready for the model, that is all.
 *
 * DDL never waits for a connection that the work needing the table holds:
 * - the library's own clients run it on a connection of their own, outside the pool (the
 *   catalog read too);
 * - inside a transaction of another client, where the database's DDL is transactional
 *   (SQLite, PostgreSQL), it runs in that transaction (after the dialect's DDL lock) and is
 *   not remembered as done, since it may be rolled back with the transaction; so does the DDL of
 *   a table whose foreign keys reference other tables inside any transaction (the library's
 *   clients too): the transaction may hold locks on those tables that the CREATE TABLE needs;
 * - otherwise (another client, MySQL, where DDL would commit the caller's transaction) it runs
 *   on a connection of the pool, outside the transaction (a reserved one where the dialect's
 *   DDL lock is held by a connection or a transaction).
 * @internal
 */
export const ensure = <E, W>(
  sql: SqlClient.SqlClient,
  state: ClientState,
  key: string,
  table: string,
  work: TableWork<W>,
  mapError: (e: unknown) => E,
  spec?: TableSpec
): Effect.Effect<void, E> => {
  if (state.ready.get(key) === true) return Effect.void
  const { dialect } = state
  const lock = dialect.ddlLock?.(table)
  const own = state.executor?.ddlConnection
  const pool = onPool(sql)
  const run = (f: (server: Dialect.ServerInfo) => Effect.Effect<void, W | SqlError>) =>
    serverInfo(sql, state).pipe(Effect.flatMap(f), Effect.mapError(mapError))
  /** On one connection: the library's DDL connection, else one reserved from the pool. */
  const onOne = <A, F>(f: (conn: SchemaConnection) => Effect.Effect<A, F | SqlError>): Effect.Effect<A, F | SqlError> =>
    own !== undefined
      ? Effect.scoped(Effect.flatMap(own, (conn) => f(onConnection(conn, conn.execute, dialect))))
      : Effect.scoped(Effect.flatMap(sql.reserve, (conn) =>
        f(onConnection(conn, (text, params) => conn.execute(text, params, undefined), dialect))))
  const locked = dialect.ddlLock !== undefined || dialect.ddlSessionLock !== undefined
  // a table whose foreign keys reference other tables: its CREATE TABLE locks them (PostgreSQL:
  // SHARE ROW EXCLUSIVE), which a transaction that has written to them blocks — on a connection
  // of its own the DDL would wait for that transaction, which waits for the DDL, for ever
  const referencesOthers = spec?.foreignKeys?.some((fk) => fk.table !== spec.table || fk.schema !== spec.schema) === true
  const full = (server: Dialect.ServerInfo, policy: "auto" | "existing") =>
    policy === "existing"
      ? work(server, pool, policy)
      : own !== undefined || locked
      ? onOne((conn) => lockedOn(dialect, conn, table, (c) => work(server, c, policy)))
      : work(server, pool, policy)
  const outside = (policy: "auto" | "existing") =>
    run((server) => {
      if (spec === undefined) return full(server, policy)
      const readAll = (conn: SchemaConnection) => liveTables(dialect, conn, spec.schema)
      const snapshot = recentTable(state, spec.schema, spec.table, policy === "auto" && own !== undefined ? onOne(readAll) : readAll(pool))
      return Effect.flatMap(snapshot, (live) =>
        live !== undefined && settled(dialect, server, spec, live, policy) ? Effect.void : full(server, policy))
    })
  const inside = run((server) => Effect.zipRight(lock === undefined ? Effect.void : pool.run(lock), work(server, pool, "auto")))
  // decided synchronously, so two fibers can never both start the DDL
  return Effect.withFiberRuntime<void, E>((fiber) => {
    const ctx = fiber.currentContext
    const policy = Context.get(ctx, SchemaPolicy)
    if (policy === "none") return Effect.void
    const current = state.ready.get(key)
    if (current === true) return Effect.void
    if (
      policy === "auto" && (own === undefined || referencesOthers) && dialect.transactionalDdl &&
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
