/**
 * The PostgreSQL client of `DataFlow.layer`: `@effect/sql`'s client over a `pg` pool the library
 * holds, made with `SqlClient.make` as the SQLite and MySQL clients are. User statements compile
 * with `@effect/sql-pg`'s compiler and give the same results and errors as its `PgClient`. What it
 * adds (tested in test/pg-client.test.ts):
 *
 * - an interrupted statement is cancelled on the server (`pg_cancel_backend`), and its connection
 *   goes back to the pool only once the statement has ended: a statement that timed out has not
 *   happened, and the next user of the connection never waits behind it. The cancel request goes
 *   on the pool, or on a connection of its own when the pool has none to spare (all of them
 *   blocked on locks, say);
 * - waiting for a pool connection is interruptible, a transaction's too, and bounded by
 *   `acquireTimeout`;
 * - a connection that failed (an `error` event, a lost connection) is destroyed, never handed out
 *   again;
 * - `sql.stream` reads through a server-side cursor (`DECLARE` / `FETCH 128`), in a transaction of
 *   its own outside one;
 * - its `Executor`: the nodes' statements run without `@effect/sql`'s statement pipeline, as named
 *   prepared statements from a text's second use (at most 500 texts per pool), on the fiber's
 *   transaction connection when it is one of this client's; DDL runs on connections outside the
 *   pool, kept a while between uses (`pgDdl.ts`).
 *
 * Nothing private of `pg` or `@effect/sql-pg` is read: a connection's server process id comes from
 * `SELECT pg_backend_pid()`, asked on the connection's first use (one round trip per connection).
 *
 * With `pooler: "transaction"` (PgBouncer in transaction mode in front): no named statements and
 * no process ids (the server connection behind a client connection changes per transaction), so
 * an interrupted statement runs to its end on the server (bounded by the server's or the
 * pooler's timeout) and the interruption waits for it (at most CANCEL_WAIT).
 * (Internal module: not part of the public API.)
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as Scope from "effect/Scope"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import Pg from "pg"
import type { Backend, Transform } from "./pgBackend.js"
import {
  APPLICATION_NAME,
  configOf,
  CONNECT_WAIT,
  failed,
  makeCanceller,
  MAX_NAMED,
  MAX_SEEN,
  reserveIn,
  resultOf,
  rowsOf,
  runQuery,
  streamQuery,
  transformed,
  valuesOf,
  watch
} from "./pgBackend.js"
import type { Executor } from "./executor.js"
import type { DdlConnections } from "./pgDdl.js"
import { ddlConnections } from "./pgDdl.js"
import type { ServerOptions } from "./layer.js"
import { tlsOf } from "./layer.js"
import { watchPool } from "./poolMetrics.js"
import { types } from "./pgTypes.js"
import { ClientExecutor } from "./executor.js"

/**
 * The URL, the pool (connections at most, default 10 as `pg`'s; longest wait for one, default no
 * limit; idle time), TLS, the server-side statement timeout, the application name.
 * @internal
 */
export type Options = ServerOptions


/**
 * Names statement texts on their second use, up to MAX_NAMED per pool. `renew` gives a text a
 * new name: its prepared statement no longer fits the table (a migration changed a column's
 * type), and PostgreSQL never re-plans a statement whose result type changed.
 */
const namer = () => {
  const names = new Map<string, string>()
  const seen = new Set<string>()
  let made = 0
  const nameOf = (text: string): string | undefined => {
    const name = names.get(text)
    if (name !== undefined || names.size >= MAX_NAMED) return name
    if (seen.delete(text)) {
      const next = `dataflow_${++made}`
      names.set(text, next)
      return next
    }
    if (seen.size >= MAX_SEEN) seen.clear()
    seen.add(text)
    return undefined
  }
  const renew = (text: string) => {
    if (names.has(text)) names.set(text, `dataflow_${++made}`)
  }
  return { nameOf, renew }
}

/** "cached plan must not change result type": a prepared statement outlived a change of its table. */
const stalePlan = (e: Error) => (e as { code?: unknown }).code === "0A000" && /cached plan/.test(e.message)

/** `@effect/sql`'s connection over a held connection, or over the pool (`held` undefined). */
const connectionOf = (backend: Backend, held: Pg.ClientBase | undefined): Connection => {
  const execute = (text: string, params: ReadonlyArray<unknown>, transformRows: Transform | undefined) =>
    transformed(runQuery(backend, held, configOf(text, params), rowsOf), transformRows)
  return {
    execute,
    executeUnprepared: execute,
    executeRaw: (text, params) => runQuery(backend, held, configOf(text, params), resultOf),
    executeValues: (text, params) => {
      const config: Pg.QueryArrayConfig = { ...configOf(text, params), rowMode: "array" }
      return runQuery(backend, held, config, valuesOf)
    },
    executeStream: (text, params, transformRows) => {
      const rows = streamQuery(backend, held, text, params)
      return transformRows === undefined
        ? rows
        : Stream.mapChunks(rows, (chunk) => Chunk.unsafeFromArray(transformRows(Chunk.toReadonlyArray(chunk))))
    }
  }
}

const makeExecutor = (
  backend: Backend,
  client: SqlClient.SqlClient,
  transactions: WeakMap<Connection, Pg.PoolClient>,
  ddl: DdlConnections
): Executor => {
  // behind a transaction-mode pooler a named statement may be prepared on one server
  // connection and used on another: every statement is unnamed there
  const named = namer()
  const nameOf = backend.pooled ? (_text: string): string | undefined => undefined : named.nameOf
  const renew = named.renew
  return {
    client,
    run: (text, params, mode, { transaction }) => {
      const read = mode === "raw" ? resultOf : rowsOf
      const held = transaction === undefined ? undefined : transactions.get(transaction)
      if (transaction !== undefined && held === undefined) {
        // a transaction connection this client did not make: its public API
        return mode === "raw" ? transaction.executeRaw(text, params) : transaction.execute(text, params, undefined)
      }
      const name = nameOf(text)
      if (name === undefined) return runQuery(backend, held, configOf(text, params), read)
      // nothing ran: the statement is prepared again under a new name, on the same connection
      return runQuery(backend, held, configOf(text, params, name), read, (error) => {
        if (!stalePlan(error)) return undefined
        renew(text)
        return configOf(text, params, nameOf(text))
      })
    },
    ddlConnection: ddl.acquire
  }
}

/** The attributes of the statement spans, as `@effect/sql-pg` gives them. */
const spanAttributesOf = (url: string): ReadonlyArray<readonly [string, unknown]> => {
  const system = ["db.system.name", "postgresql"] as const
  try {
    const u = new URL(url)
    return [
      system,
      ["db.namespace", decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || "postgres"],
      ["server.address", u.hostname || "localhost"],
      ["server.port", u.port === "" ? 5432 : Number(u.port)]
    ]
  } catch {
    return [system]
  }
}

/** The name of the database a URL points to, for the pool gauges. */
const databaseOf = (url: string): string => {
  try {
    const u = new URL(url)
    return decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || "postgres"
  } catch {
    return "postgres"
  }
}

const millis = (d: Duration.DurationInput | undefined) => (d === undefined ? undefined : Duration.toMillis(d))

/** The `pg` settings of a connection (the pool's, the DDL and cancel connections'). @internal */
export const connectionConfig = (options: Options): Pg.ClientConfig => {
  const statementTimeout = millis(options.statementTimeout)
  return {
    connectionString: options.url,
    application_name: options.applicationName ?? APPLICATION_NAME,
    ...(options.ssl === undefined ? {} : { ssl: typeof options.ssl === "boolean" ? options.ssl : tlsOf(options.ssl) }),
    ...(statementTimeout === undefined ? {} : { statement_timeout: statementTimeout })
  }
}

/** The pool, ended with the scope, once the server has answered (within the connect timeout). */
const openBackend = (options: Options): Effect.Effect<Backend, SqlError, Scope.Scope> =>
  Effect.gen(function*() {
    const max = options.maxConnections ?? 10
    const connectWait = options.connectTimeout === undefined ? CONNECT_WAIT : Duration.decode(options.connectTimeout)
    const acquireMs = millis(options.acquireTimeout) ?? millis(options.connectTimeout)
    const idleMs = millis(options.idleTimeout)
    const config = connectionConfig(options)
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Pg.Pool({
          ...config,
          types,
          max,
          ...(acquireMs === undefined ? {} : { connectionTimeoutMillis: acquireMs }),
          ...(idleMs === undefined ? {} : { idleTimeoutMillis: idleMs })
        })
      ),
      (pool, exit) => {
        const ended = pool.end().catch(() => undefined)
        // after a failure (the server did not answer, say) the pool ends without being waited for
        return Exit.isFailure(exit)
          ? Effect.void
          : Effect.promise(() => ended).pipe(Effect.interruptible, Effect.timeoutOption(1000))
      }
    )
    let cursors = 0
    const backend: Backend = {
      pool,
      url: options.url,
      config,
      max,
      pids: new WeakMap(),
      lost: new WeakMap(),
      canceller: makeCanceller(config),
      nextCursor: () => `dataflow_cursor_${++cursors}`,
      pooled: options.pooler === "transaction"
    }
    // an idle connection's failure: the pool drops the connection itself
    pool.on("error", () => {})
    pool.on("connect", (client) => watch(backend, client))
    yield* Effect.addFinalizer(() => backend.canceller.close)
    const unwatch = watchPool(databaseOf(options.url), pool)
    yield* Effect.addFinalizer(() => Effect.sync(unwatch))
    // fail the layer, not the first statement, when the server cannot be reached
    yield* Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => failed(cause, "PgClient: Failed to connect")
    }).pipe(
      Effect.timeoutFail({
        duration: connectWait,
        onTimeout: () => failed(new Error("Connection timed out"), "PgClient: Connection timed out")
      })
    )
    return backend
  })

/** @internal */
export const make = (
  options: Options
): Effect.Effect<
  { readonly client: SqlClient.SqlClient; readonly executor: Executor },
  SqlError,
  Scope.Scope | Reactivity.Reactivity
> =>
  Effect.gen(function*() {
    const backend = yield* openBackend(options)
    const transactions = new WeakMap<Connection, Pg.PoolClient>()
    const reserveConnection = (scope: Scope.Scope) =>
      Effect.map(reserveIn(backend, scope), (held) => {
        const connection = connectionOf(backend, held)
        transactions.set(connection, held)
        return connection
      })
    const client = yield* SqlClient.make({
      acquirer: Effect.succeed(connectionOf(backend, undefined)),
      transactionAcquirer: Effect.flatMap(Effect.scope, reserveConnection),
      compiler: PgClient.makeCompiler(),
      spanAttributes: spanAttributesOf(options.url)
    })
    const ddl = ddlConnections(backend)
    yield* Effect.addFinalizer(() => ddl.close)
    return { client, executor: { ...makeExecutor(backend, client, transactions, ddl), reserve: reserveConnection } }
  })

/** The client and its executor. @internal */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ client, executor }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(ClientExecutor, executor)))
  ).pipe(Layer.provide(Reactivity.layer))
