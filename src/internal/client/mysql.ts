/**
 * The MySQL/MariaDB client of `DataFlow.layer`: `@effect/sql`'s client over a `mysql2` pool the
 * library holds. What it adds to `@effect/sql-mysql2`'s client (measured and tested in
 * test/reliability.test.ts):
 *
 * - an interrupted statement is cancelled on the server (`KILL QUERY` sent on a connection of
 *   its own), and its connection is handed back only once the statement has ended: a node
 *   that timed out has either not happened or is rolled back, and a transaction's ROLLBACK
 *   never queues behind a statement still blocked on a lock;
 * - each connection keeps at most `maxPreparedStatements` server-side prepared statements
 *   (least recently used closed first), so filters of every shape cannot exhaust the server's
 *   `max_prepared_stmt_count`;
 * - waiting for a pool connection is interruptible and bounded (`acquireTimeout`);
 * - a connection that failed fatally is destroyed, never handed out again;
 * - the nodes run their statements without `@effect/sql`'s statement pipeline (its
 *   `DirectPath`), as on the library's SQLite and PostgreSQL clients.
 * (Internal module: not part of the public API.)
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Statement from "@effect/sql/Statement"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Scope from "effect/Scope"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import Mysql from "mysql2"
import { statementTimeoutSql } from "../dialect/mysql.js"
import type { Executor } from "./executor.js"
import type { ServerOptions } from "./layer.js"
import { tlsOf } from "./layer.js"
import { ClientExecutor } from "./executor.js"

/** @internal */
export interface Options extends ServerOptions {
  /** Server-side prepared statements kept per connection (default 256). */
  readonly maxPreparedStatements?: number | undefined
}

const millis = (d: Duration.DurationInput | undefined) => (d === undefined ? undefined : Duration.toMillis(d))

type Mode = "rows" | "raw" | "values" | "unprepared"

const failed = (cause: unknown, message = "Failed to execute statement") => new SqlError({ cause, message })

/** The error of a wait for a pool connection that took longer than `acquireTimeout`. @internal */
export const poolTimeout = (ms: number) =>
  Object.assign(new Error(`timed out after ${ms} ms waiting for a connection of the pool`), { code: "POOL_TIMEOUT" })

const isFatal = (error: unknown) =>
  typeof error === "object" && error !== null && (error as { readonly fatal?: unknown }).fatal === true

const compiler = Statement.makeCompiler({
  dialect: "mysql",
  placeholder: () => "?",
  onIdentifier: Statement.defaultEscape("`"),
  onCustom: () => ["", []],
  onRecordUpdate: () => ["", []]
})

/** @internal */
export const make = (
  options: Options
): Effect.Effect<{ readonly client: SqlClient.SqlClient; readonly executor: Executor }, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const connectMs = millis(options.connectTimeout)
    const idleMs = millis(options.idleTimeout)
    const statementMs = millis(options.statementTimeout)
    // the settings of every connection the client opens (the pool's, DDL's, KILL QUERY's)
    const connectionOptions = {
      uri: options.url,
      connectAttributes: { program_name: options.applicationName ?? "effect-dataflow" },
      ...(connectMs === undefined ? {} : { connectTimeout: connectMs }),
      ...(options.ssl === undefined || options.ssl === false ? {} : { ssl: options.ssl === true ? {} : tlsOf(options.ssl) })
    }
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const pool = Mysql.createPool({
          ...connectionOptions,
          connectionLimit: options.maxConnections ?? 10,
          maxPreparedStatements: options.maxPreparedStatements ?? 256,
          supportBigNumbers: true,
          waitForConnections: true,
          ...(idleMs === undefined ? {} : { idleTimeout: idleMs })
        })
        pool.on("connection", (conn) => {
          // an idle connection's error is reported to the statement that next uses it
          conn.on("error", () => {})
          // queued before any statement of the connection; the server's own setting fails, ignored
          if (statementMs !== undefined) for (const text of statementTimeoutSql(statementMs)) conn.query(text, () => {})
        })
        return pool
      }),
      (pool) => Effect.async<void>((resume) => pool.end(() => resume(Effect.void))).pipe(Effect.timeoutOption(1000))
    )
    // fail the layer, not the first statement, when the server cannot be reached
    const version = yield* Effect.async<string, SqlError>((resume) => {
      pool.query("SELECT VERSION() AS v", (error, rows) =>
        resume(
          error
            ? Effect.fail(failed(error, "MysqlClient: Failed to connect"))
            : Effect.succeed(String((rows as Array<{ v?: unknown }>)[0]?.v ?? ""))
        ))
    }).pipe(
      Effect.timeoutFail({
        duration: options.connectTimeout ?? Duration.seconds(5),
        onTimeout: () => failed(new Error("Connection timed out"), "MysqlClient: Connection timed out")
      })
    )

    // KILL QUERY goes on a connection outside the pool: the pool may be full of blocked statements
    let killer: Mysql.Connection | undefined
    yield* Effect.addFinalizer(() => Effect.sync(() => killer?.destroy()))
    const killQuery = (threadId: number | null): Promise<void> =>
      new Promise((resolve) => {
        if (threadId === null) return resolve()
        if (killer === undefined) {
          killer = Mysql.createConnection(connectionOptions)
          killer.on("error", () => {
            killer = undefined
          })
        }
        killer.query(`KILL QUERY ${Number(threadId)}`, () => resolve())
      })

    const acquireMs = options.acquireTimeout === undefined ? undefined : Duration.toMillis(options.acquireTimeout)

    const send = (
      conn: Mysql.PoolConnection,
      text: string,
      params: ReadonlyArray<unknown>,
      mode: Mode,
      done: (error: unknown, result: unknown) => void
    ) => {
      const values = params as Array<unknown>
      // mysql2 throws some errors (an undefined parameter) instead of calling back: without
      // this, the statement would never answer
      try {
        // a statement without parameters (BEGIN, COMMIT, DDL) gains nothing from being prepared:
        // it goes as text, in one round trip
        if (mode === "unprepared" || (mode === "raw" && values.length === 0)) {
          conn.query({ sql: text, values }, (error, result) => done(error, result))
        }
        else conn.execute({ sql: text, values, rowsAsArray: mode === "values" }, (error, result) => done(error, result))
      } catch (error) {
        done(error, undefined)
      }
    }

    const result = (mode: Mode, raw: unknown) => (mode === "raw" ? raw : Array.isArray(raw) ? raw : [])

    /**
     * One statement on a connection: held by the caller (a transaction's), or taken from the
     * pool for this statement. On interruption: no longer waiting for a connection, or the
     * statement is killed on the server and the interruption completes once it has ended.
     */
    const run = (held: Mysql.PoolConnection | undefined, text: string, params: ReadonlyArray<unknown>, mode: Mode) =>
      Effect.async<unknown, SqlError>((resume) => {
        let state: "waiting" | "running" | "done" | "abandoned" = "waiting"
        let conn: Mysql.PoolConnection | undefined
        let killing: Promise<void> | undefined
        // the statement's end as a promise only when an interruption waits for it
        let ended: (() => void) | undefined
        let timer: ReturnType<typeof setTimeout> | undefined
        const start = (c: Mysql.PoolConnection) => {
          conn = c
          state = "running"
          send(c, text, params, mode, (error, raw) => {
            state = "done"
            if (held === undefined) {
              const giveBack = () => (isFatal(error) ? c.destroy() : c.release())
              if (killing === undefined) giveBack()
              else killing.then(giveBack, giveBack)
            }
            ended?.()
            resume(error ? Effect.fail(failed(error)) : Effect.succeed(result(mode, raw)))
          })
        }
        if (held !== undefined) start(held)
        else {
          if (acquireMs !== undefined) {
            timer = setTimeout(() => {
              if (state !== "waiting") return
              state = "abandoned"
              resume(Effect.fail(failed(poolTimeout(acquireMs), "Failed to acquire connection")))
            }, acquireMs)
          }
          pool.getConnection((error, c) => {
            if (timer !== undefined) clearTimeout(timer)
            if (state === "abandoned") return c?.release()
            if (error || c === undefined) {
              state = "done"
              return resume(Effect.fail(failed(error ?? new Error("no connection"), "Failed to acquire connection")))
            }
            start(c)
          })
        }
        return Effect.suspend(() => {
          if (state === "waiting") {
            state = "abandoned"
            if (timer !== undefined) clearTimeout(timer)
            return Effect.void
          }
          if (state !== "running") return Effect.void
          killing = killQuery(conn!.threadId)
          const k = killing
          // running: the statement's callback has not run yet and resolves this
          const end = new Promise<void>((resolve) => (ended = resolve))
          // cancellers run uninterruptibly: the bound needs an interruptible wait to cut short
          return Effect.promise(() => k.then(() => end)).pipe(Effect.interruptible, Effect.timeoutOption(10_000), Effect.asVoid)
        })
      })

    /**
     * A pool connection for a transaction (or a stream), waited for like a statement's —
     * interruptibly, even in an uninterruptible region: a connection that arrives after an
     * interruption goes straight back — and released when the caller's scope closes (added to
     * the scope as it is: the release reads no FiberRef, see pgBackend.ts's `reserve`).
     */
    const waitForConnection = Effect.suspend(() => {
      let arrived: Mysql.PoolConnection | undefined
      return Effect.async<Mysql.PoolConnection, SqlError>((resume) => {
        let state: "waiting" | "done" | "abandoned" = "waiting"
        const timer = acquireMs === undefined ? undefined : setTimeout(() => {
          if (state !== "waiting") return
          state = "abandoned"
          resume(Effect.fail(failed(poolTimeout(acquireMs), "Failed to acquire connection")))
        }, acquireMs)
        pool.getConnection((error, c) => {
          if (timer !== undefined) clearTimeout(timer)
          if (state === "abandoned") return c?.release()
          state = "done"
          if (error || c === undefined) {
            return resume(Effect.fail(failed(error ?? new Error("no connection"), "Failed to acquire connection")))
          }
          arrived = c
          resume(Effect.succeed(c))
        })
        return Effect.sync(() => {
          if (state === "waiting") state = "abandoned"
          if (timer !== undefined) clearTimeout(timer)
        })
      }).pipe(
        Effect.interruptible,
        // interrupted just as the connection arrived: it goes back
        Effect.onInterrupt(() => Effect.sync(() => arrived?.release()))
      )
    })
    const reserveIn = (scope: Scope.Scope) =>
      Effect.uninterruptible(Effect.tap(waitForConnection, (c) => Scope.addFinalizer(scope, Effect.sync(() => c.release()))))
    const reserve = Effect.flatMap(Effect.scope, reserveIn)

    const stream = (held: Mysql.PoolConnection | undefined, text: string, params: ReadonlyArray<unknown>) =>
      Stream.unwrapScoped(Effect.map(
        held === undefined ? reserve : Effect.succeed(held),
        (c) =>
          Stream.suspend(() => {
            const rows = c.query({ sql: text, values: params as Array<unknown> }).stream({ objectMode: true })
            return Stream.fromAsyncIterable(
              rows as AsyncIterable<unknown>,
              (cause) => failed(cause, "Failed to stream statement")
            ).pipe(
              Stream.ensuring(Effect.sync(() => rows.destroy()))
            )
          })
      ))

    /** The connections this client made, by the `Connection` the transaction holds. */
    const heldBy = new WeakMap<Connection, Mysql.PoolConnection>()

    const connectionOf = (held: Mysql.PoolConnection | undefined): Connection => {
      const connection: Connection = {
        execute: (text, params, transformRows) => {
          const rows = run(held, text, params, "rows") as Effect.Effect<ReadonlyArray<never>, SqlError>
          return transformRows === undefined ? rows : Effect.map(rows, transformRows)
        },
        executeRaw: (text, params) => run(held, text, params, "raw"),
        executeValues: (text, params) =>
          run(held, text, params, "values") as Effect.Effect<ReadonlyArray<ReadonlyArray<unknown>>, SqlError>,
        executeUnprepared: (text, params, transformRows) => {
          const rows = run(held, text, params ?? [], "unprepared") as Effect.Effect<ReadonlyArray<never>, SqlError>
          return transformRows === undefined ? rows : Effect.map(rows, transformRows)
        },
        executeStream: (text, params, transformRows) => {
          const rows = stream(held, text, params) as Stream.Stream<never, SqlError>
          return transformRows === undefined
            ? rows
            : Stream.mapChunks(rows, (chunk) => Chunk.unsafeFromArray(transformRows(Chunk.toReadonlyArray(chunk))))
        }
      }
      if (held !== undefined) heldBy.set(connection, held)
      return connection
    }

    const reserveConnection = (scope: Scope.Scope) => Effect.map(reserveIn(scope), connectionOf)
    const client = yield* SqlClient.make({
      acquirer: Effect.succeed(connectionOf(undefined)),
      transactionAcquirer: Effect.flatMap(Effect.scope, reserveConnection),
      compiler,
      spanAttributes: [["db.system.name", "mysql"]]
    })
    /** A connection of its own for DDL: it never waits for the pool (nor commits a transaction). */
    const ddlConnection = Effect.acquireRelease(
      Effect.async<Mysql.Connection, SqlError>((resume) => {
        const c = Mysql.createConnection(connectionOptions)
        c.on("error", () => {})
        c.connect((error) => resume(error ? Effect.fail(failed(error, "Failed to connect")) : Effect.succeed(c)))
      }),
      (c) => Effect.sync(() => c.destroy())
    ).pipe(Effect.map((c) => {
      const executeRaw = (text: string, params: ReadonlyArray<unknown>) =>
        Effect.async<unknown, SqlError>((resume) => {
          c.query({ sql: text, values: params as Array<unknown> }, (error, result) =>
            resume(error ? Effect.fail(failed(error)) : Effect.succeed(result)))
        })
      return {
        executeRaw,
        execute: (text: string, params: ReadonlyArray<unknown>) =>
          Effect.map(executeRaw(text, params), (result) => (Array.isArray(result) ? result as ReadonlyArray<Record<string, unknown>> : []))
      }
    }))

    const executor: Executor = {
      client,
      ddlConnection,
      reserve: reserveConnection,
      server: { mariadb: /mariadb/i.test(version) },
      run: (text, params, mode, { transaction }) => {
        if (transaction === undefined) return run(undefined, text, params, mode)
        const held = Option.fromNullable(heldBy.get(transaction))
        return Option.isSome(held)
          ? run(held.value, text, params, mode)
          : mode === "raw"
          ? transaction.executeRaw(text, params)
          : transaction.execute(text, params, undefined)
      }
    }
    return { client, executor }
  })

/** The client and its executor (for the nodes), from one layer. @internal */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ client, executor }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(ClientExecutor, executor)))
  ).pipe(Layer.provide(Reactivity.layer))
