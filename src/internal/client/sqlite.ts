/**
 * The embedded SQLite client of `DataFlow.layer`: `@effect/sql`'s client over one
 * better-sqlite3 connection, built the way `@effect/sql-sqlite-node` builds it (same compiler,
 * WAL, one connection that a transaction holds until it ends, the same span attributes and
 * errors), with two differences measured in bench/ (docs/performance.md):
 *
 * - prepared statements live in a plain map (200, oldest out first) instead of an Effect
 *   Cache with a time to live, which cost about 2 µs a statement and also remembered a
 *   failed prepare (a table that did not exist yet) for ten minutes;
 * - the nodes run their statements synchronously on the connection when no transaction
 *   holds it or when they run inside that transaction (its `DirectPath`); the general path
 *   waits for the connection on a semaphore (about 5 µs a statement).
 *
 * Any other `@effect/sql` SQLite client works in its place; it just takes the general path.
 * (Internal module: not part of the public API.)
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Statement from "@effect/sql/Statement"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import Sqlite from "better-sqlite3"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type { Executor } from "./executor.js"
import { ClientExecutor } from "./executor.js"

const CACHE_SIZE = 200

/**
 * The one connection, handed to waiters in the order they came: a fiber that gives it back
 * and asks again queues behind them (Effect's semaphore lets it take the connection again
 * first, so a reader could wait behind a stream of transactions for seconds).
 */
const makeFifoLock = () => {
  let held = false
  const queue: Array<() => void> = []
  const release = () => {
    const next = queue.shift()
    if (next === undefined) held = false
    else next() // the lock passes to the next waiter without ever being free
  }
  const take = Effect.async<void>((resume) => {
    if (!held) {
      held = true
      return resume(Effect.void)
    }
    let waiting = true
    const wake = () => {
      waiting = false
      resume(Effect.void)
    }
    queue.push(wake)
    // interrupted while waiting: leave the queue; interrupted after the lock was handed over:
    // hand it on
    return Effect.sync(() => {
      if (waiting) queue.splice(queue.indexOf(wake), 1)
      else release()
    })
  })
  return { take, release: Effect.sync(release) }
}

/**
 * A pause in real time, as a driver's busy wait is (Effect's Clock may be a test clock that
 * never moves on its own); interruptible.
 */
const wallClockPause = (ms: number) =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(timer))
  })

/** @internal */
export interface Options {
  readonly filename: string
  /**
   * How long a statement waits for a lock held by another connection (another process) before
   * it fails with SQLITE_BUSY (retryable). The wait sleeps between attempts, so timers and
   * interruption keep working. Default 5 seconds.
   */
  readonly busyTimeout?: Duration.DurationInput | undefined
}

/** @internal */
export const make = (
  options: Options
): Effect.Effect<{ readonly client: SqlClient.SqlClient; readonly executor: Executor }, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const busyMs = Duration.toMillis(Duration.decode(options.busyTimeout ?? "5 seconds"))
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          // no busy wait in the driver: it would block the event loop for its whole length
          const db = new Sqlite(options.filename, { timeout: 0 })
          try {
            db.pragma("journal_mode = WAL")
            // relations' foreign keys are enforced on every connection (not every build's default)
            db.pragma("foreign_keys = ON")
          } catch (error) {
            db.close()
            throw error
          }
          return db
        },
        catch: (cause) => new SqlError({ cause, message: "Failed to open database" })
      }),
      (db) => Effect.sync(() => db.close())
    )

    const cache = new Map<string, Sqlite.Statement>()
    const prepare = (text: string): Sqlite.Statement => {
      let statement = cache.get(text)
      if (statement === undefined) {
        // a failure throws before anything is remembered
        statement = db.prepare(text)
        cache.set(text, statement)
        if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!)
      }
      return statement
    }

    /** Runs a prepared statement; throws the driver's error. */
    const runSync = (
      statement: Sqlite.Statement,
      params: ReadonlyArray<unknown>,
      raw: boolean,
      safeIntegers: boolean
    ): unknown => {
      statement.safeIntegers(safeIntegers)
      if (statement.reader) return statement.all(...params)
      const result = statement.run(...params)
      return raw ? result : []
    }

    const isBusy = (cause: unknown) =>
      typeof cause === "object" && cause !== null && (cause as { readonly code?: unknown }).code === "SQLITE_BUSY"

    const execute = (
      text: string,
      params: ReadonlyArray<unknown>,
      raw: boolean,
      safeIntegers: boolean,
      prepared = true,
      waited = 0
    ): Effect.Effect<unknown, SqlError> => {
      let statement: Sqlite.Statement
      try {
        statement = prepared ? prepare(text) : db.prepare(text)
      } catch (cause) {
        if (isBusy(cause) && waited < busyMs) return retryBusy(text, params, raw, safeIntegers, prepared, waited)
        return Effect.fail(new SqlError({ cause, message: "Failed to prepare statement " }))
      }
      try {
        return Effect.succeed(runSync(statement, params, raw, safeIntegers))
      } catch (cause) {
        // SQLITE_BUSY: the statement did not run (another connection holds the lock); try again
        // after a short sleep, up to the busy timeout
        if (isBusy(cause) && waited < busyMs) return retryBusy(text, params, raw, safeIntegers, prepared, waited)
        return Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
      }
    }

    const retryBusy = (
      text: string,
      params: ReadonlyArray<unknown>,
      raw: boolean,
      safeIntegers: boolean,
      prepared: boolean,
      waited: number
    ): Effect.Effect<unknown, SqlError> => {
      const pause = Math.min(busyMs - waited, Math.max(1, Math.min(50, waited / 4)))
      return Effect.flatMap(
        wallClockPause(pause),
        () => execute(text, params, raw, safeIntegers, prepared, waited + pause)
      )
    }

    /** Reads `SqlClient.SafeIntegers` from the fiber, as `@effect/sql-sqlite-node` does. */
    const withSafeIntegers = <A>(f: (safeIntegers: boolean) => Effect.Effect<A, SqlError>) =>
      Effect.withFiberRuntime<A, SqlError>((fiber) => f(Context.get(fiber.currentContext, SqlClient.SafeIntegers)))

    const connection: Connection = {
      execute: (text, params, transformRows) =>
        withSafeIntegers((safe) => {
          const rows = execute(text, params, false, safe) as Effect.Effect<ReadonlyArray<never>, SqlError>
          return transformRows === undefined ? rows : Effect.map(rows, transformRows)
        }),
      executeRaw: (text, params) =>
        withSafeIntegers((safe) => execute(text, params, true, safe) as Effect.Effect<ReadonlyArray<never>, SqlError>),
      executeValues: (text, params) =>
        withSafeIntegers((safe) =>
          Effect.try({
            try: () => {
              const statement = prepare(text)
              statement.safeIntegers(safe)
              if (!statement.reader) {
                statement.run(...params)
                return []
              }
              statement.raw(true)
              try {
                return statement.all(...params) as ReadonlyArray<ReadonlyArray<unknown>>
              } finally {
                statement.raw(false)
              }
            },
            catch: (cause) => new SqlError({ cause, message: "Failed to execute statement" })
          })
        ),
      executeUnprepared: (text, params, transformRows) =>
        withSafeIntegers((safe) => {
          const rows = execute(text, params ?? [], false, safe, false) as Effect.Effect<ReadonlyArray<never>, SqlError>
          return transformRows === undefined ? rows : Effect.map(rows, transformRows)
        }),
      executeStream: () => Effect.dieMessage("executeStream not implemented") as never
    }

    // one connection: a transaction holds it until it ends; a statement outside waits for it,
    // in turn
    const lock = makeFifoLock()
    const acquirer = Effect.uninterruptibleMask((restore) => Effect.as(Effect.zipRight(restore(lock.take), lock.release), connection))
    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(lock.take),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, lock.release))
        ),
        connection
      )
    )

    const client = yield* SqlClient.make({
      acquirer,
      transactionAcquirer,
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]]
    })
    const executor: Executor = {
      client,
      // synchronous on the one connection, unless another fiber's transaction holds it
      run: (text, params, mode, { safeIntegers, transaction }) =>
        transaction !== undefined || !db.inTransaction ? execute(text, params, mode === "raw", safeIntegers) : undefined
    }
    return { client, executor }
  })

/** The client and its executor (for the nodes), from one layer. @internal */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ client, executor }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(ClientExecutor, executor)))
  ).pipe(Layer.provide(Reactivity.layer))
