/**
 * The PostgreSQL client of `DataFlow.layer`: `@effect/sql-pg`'s client, made from a `pg` pool
 * the library holds (`PgClient.fromPool`), so that the nodes can run their statements as
 * named prepared statements — PostgreSQL then parses and plans a statement once per
 * connection instead of on every call (a read by id: about half the time on a local server,
 * see docs/performance.md). Everything else (transactions, LISTEN/NOTIFY, JSON helpers,
 * spans through `sql.unsafe`) is `@effect/sql-pg`'s own.
 *
 * A statement text is prepared from its second use on, at most 500 texts per pool: a filter of
 * every shape would otherwise leave a prepared statement per shape on every connection.
 * (Internal module: not part of the public API.)
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import type { Scope } from "effect"
import { Context, Duration, Effect, Layer } from "effect"
import Pg from "pg"
import type { Executor } from "./executor.js"
import { ClientExecutor } from "./executor.js"

const MAX_NAMED = 500
const MAX_SEEN = 1000

/** Names statement texts on their second use, up to MAX_NAMED per pool. */
const namer = () => {
  const names = new Map<string, string>()
  const seen = new Set<string>()
  return (text: string): string | undefined => {
    const name = names.get(text)
    if (name !== undefined || names.size >= MAX_NAMED) return name
    if (seen.delete(text)) {
      const fresh = `dataflow_${names.size + 1}`
      names.set(text, fresh)
      return fresh
    }
    if (seen.size >= MAX_SEEN) seen.clear()
    seen.add(text)
    return undefined
  }
}

const failed = (cause: unknown, message = "Failed to execute statement") => new SqlError({ cause, message })

/** @internal */
export interface Options {
  readonly url: string
  /** Connections in the pool (default 10, as `pg`'s). */
  readonly maxConnections?: number | undefined
  /** Longest wait for a pool connection before a statement fails (retryable); default: no limit. */
  readonly acquireTimeout?: Duration.DurationInput | undefined
}

/** @internal */
export const make = (
  options: Options
): Effect.Effect<{ readonly client: SqlClient.SqlClient; readonly executor: Executor }, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new Pg.Pool({
          connectionString: options.url,
          application_name: "effect-dataflow",
          max: options.maxConnections ?? 10,
          ...(options.acquireTimeout === undefined ? {} : { connectionTimeoutMillis: Duration.toMillis(options.acquireTimeout) })
        })
        // an idle client's error is reported to the statement that next uses it
        pool.on("error", () => {})
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
    )
    // fail the layer, not the first statement, when the server cannot be reached
    yield* Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => failed(cause, "PgClient: Failed to connect")
    }).pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(5),
        onTimeout: () => failed(new Error("Connection timed out"), "PgClient: Connection timed out")
      })
    )
    const client = yield* PgClient.fromPool({ acquire: Effect.succeed(pool), applicationName: "effect-dataflow" })
    const nameOf = namer()

    const config = (text: string, params: ReadonlyArray<unknown>): Pg.QueryConfig => {
      const name = nameOf(text)
      return name === undefined ? { text, values: params as Array<unknown> } : { name, text, values: params as Array<unknown> }
    }

    /** Best effort, as `@effect/sql-pg` does on interruption. */
    const cancel = (processId: number | undefined) =>
      processId === undefined || pool.ending
        ? Effect.void
        : Effect.async<void>((resume) => {
          pool.query(`SELECT pg_cancel_backend(${processId})`, () => resume(Effect.void))
        }).pipe(Effect.interruptible, Effect.timeoutOption(5000), Effect.asVoid)

    const processIdOf = (c: Pg.ClientBase) => (c as unknown as { readonly processID?: number }).processID

    /** A statement on a connection the caller holds (a transaction's). */
    const onClient = (c: Pg.ClientBase, query: Pg.QueryConfig, raw: boolean) =>
      Effect.async<unknown, SqlError>((resume) => {
        c.query(query, (error: Error | null, result: Pg.QueryResult) =>
          resume(error ? Effect.fail(failed(error)) : Effect.succeed(raw ? result : result.rows)))
        return cancel(processIdOf(c))
      })

    /** A statement on a connection of the pool, held for this statement only. */
    const onPool = (query: Pg.QueryConfig, raw: boolean) =>
      Effect.async<unknown, SqlError>((resume) => {
        let done = false
        let held: Pg.PoolClient | undefined
        const release = (cause?: Error) => {
          if (!done) held?.release(cause)
          done = true
          held?.off("error", onError)
        }
        function onError(cause: Error) {
          release(cause)
          resume(Effect.fail(failed(cause, "Connection error")))
        }
        pool.connect((error, c) => {
          if (error || c === undefined) {
            resume(Effect.fail(failed(error ?? new Error("No client returned"), "Failed to acquire connection")))
            return
          }
          if (done) {
            c.release()
            return
          }
          held = c
          c.once("error", onError)
          c.query(query, (error: Error | null, result: Pg.QueryResult) => {
            release()
            resume(error ? Effect.fail(failed(error)) : Effect.succeed(raw ? result : result.rows))
          })
        })
        return Effect.suspend(() => {
          if (held === undefined || done) {
            release()
            return Effect.void
          }
          return Effect.ensuring(cancel(processIdOf(held)), Effect.sync(() => release()))
        })
      })

    /** A connection of its own for DDL, outside the pool. */
    const ddlConnection = Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const c = new Pg.Client({ connectionString: options.url, application_name: "effect-dataflow" })
          c.on("error", () => {})
          await c.connect()
          return c
        },
        catch: (cause) => failed(cause, "Failed to connect")
      }),
      (c) => Effect.promise(() => c.end().catch(() => {}))
    ).pipe(Effect.map((c) => ({ executeRaw: (text: string, params: ReadonlyArray<unknown>) => onClient(c, { text, values: [...params] }, true) })))

    const executor: Executor = {
      client,
      ddlConnection,
      run: (text, params, mode, { transaction }) => {
        const raw = mode === "raw"
        if (transaction === undefined) return onPool(config(text, params), raw)
        // `@effect/sql-pg` keeps a transaction's pg client on its connection
        const held = (transaction as unknown as { readonly pg?: Pg.ClientBase }).pg
        if (held === undefined) return raw ? transaction.executeRaw(text, params) : transaction.execute(text, params, undefined)
        return onClient(held, config(text, params), raw)
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
