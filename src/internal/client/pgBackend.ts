/**
 * The connections of the library's PostgreSQL client (`pg.ts`): the pool and what the client
 * knows of each connection (its server process, whether it failed), statements run on a held
 * connection or on one of the pool for the statement (interruptible waits, cancellation on the
 * server, release once the statement has ended), cursor streams, and the connection outside the
 * pool that sends cancel requests when the pool has none to spare.
 * (Internal module: not part of the public API.)
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Scope from "effect/Scope"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import Pg from "pg"
import { pg as dialect } from "../dialect/pg.js"

export const APPLICATION_NAME = "effect-dataflow"
export const MAX_NAMED = 500
export const MAX_SEEN = 1000
export const FETCH_SIZE = 128
/** Longest an interruption waits for the server to cancel a statement and for it to end. */
export const CANCEL_WAIT = Duration.seconds(5)
/** Longest the layer waits for the server's first answer. */
export const CONNECT_WAIT = Duration.seconds(5)
export const CANCEL = "SELECT pg_cancel_backend($1)"

export type Transform = <A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>
/** What `pg` gives a query: one result, or one per statement when the text held several. */
export type Results = Pg.QueryResult | ReadonlyArray<Pg.QueryResult>

export const failed = (cause: unknown, message = "Failed to execute statement") => new SqlError({ cause, message })

/** A failure after which the connection cannot be trusted: one rule, the dialect's. */
export const isLost = (error: Error): boolean => dialect.classify(error).connectionLost

export const configOf = (text: string, params: ReadonlyArray<unknown>, name?: string): Pg.QueryConfig => {
  // pg reads the values, never writes them
  const values = params as Array<unknown>
  return name === undefined ? { text, values } : { name, text, values }
}

export const isMany = (results: Results): results is ReadonlyArray<Pg.QueryResult> => Array.isArray(results)

/** The rows; of each statement when the text held several (as `@effect/sql-pg`). */
export const rowsOf = (results: Results): ReadonlyArray<object> =>
  isMany(results) ? results.map((result) => result.rows ?? []) : results.rows ?? []

export const valuesOf = (results: Results): ReadonlyArray<ReadonlyArray<unknown>> =>
  isMany(results) ? results.map((result) => result.rows) : results.rows

export const resultOf = (results: Results): unknown => results

/** A connection outside the pool that sends cancel requests when the pool has none to spare. */
export interface Canceller {
  /** Asks the server to cancel what process `pid` runs; settles once answered (or failed). */
  readonly send: (pid: number) => Promise<void>
  readonly close: Effect.Effect<void>
}

export const makeCanceller = (config: Pg.ClientConfig): Canceller => {
  let connection: Promise<Pg.Client | undefined> | undefined
  let closed = false
  const open = (): Promise<Pg.Client | undefined> => {
    // no statement timeout on the connection that cancels statements
    const { statement_timeout: _, ...settings } = config
    const client = new Pg.Client({ ...settings, connectionTimeoutMillis: Duration.toMillis(CANCEL_WAIT) })
    const opened = client.connect().then(() => client, () => undefined)
    client.on("error", () => {
      if (connection === opened) connection = undefined
    })
    return opened
  }
  return {
    send: (pid) => {
      if (closed) return Promise.resolve()
      const current = connection ??= open()
      return current.then((client) => {
        if (client !== undefined) return client.query(CANCEL, [pid]).then(() => undefined, () => undefined)
        if (connection === current) connection = undefined
      })
    },
    close: Effect.suspend(() => {
      closed = true
      const current = connection
      connection = undefined
      return current === undefined
        ? Effect.void
        : Effect.promise(() => current.then((client) => client?.end().catch(() => undefined))).pipe(
          Effect.interruptible,
          Effect.timeoutOption(1000),
          Effect.asVoid
        )
    })
  }
}

/** The pool, and what the client knows of its connections. */
export interface Backend {
  readonly pool: Pg.Pool
  readonly url: string
  /** The settings of every connection the client opens (URL, TLS, application name, statement timeout). */
  readonly config: Pg.ClientConfig
  readonly max: number
  /** Each connection's server process, asked once, on its first use. */
  readonly pids: WeakMap<Pg.ClientBase, number>
  /** Connections that failed: destroyed, not reused, when they are given back. */
  readonly lost: WeakMap<Pg.ClientBase, Error>
  readonly canceller: Canceller
  readonly nextCursor: () => string
  /**
   * Behind a transaction-mode pooler: a connection's server process changes from one
   * transaction to the next, so none is asked for and no statement is cancelled by it.
   */
  readonly pooled: boolean
}

/** Remembers a connection's failure, from its opening: it is then never handed out again. */
export const watch = (backend: Backend, client: Pg.ClientBase): void => {
  client.on("error", (error: Error) => {
    if (!backend.lost.has(client)) backend.lost.set(client, error)
  })
}

/**
 * Runs `next` once the connection's server process id is known: asked on its first use, before
 * anything else runs on it (`pg` gives the id only in a field it does not document).
 */
export const withPid = (backend: Backend, client: Pg.ClientBase, next: () => void): void => {
  if (backend.pooled || backend.pids.has(client)) return next()
  client.query("SELECT pg_backend_pid() AS pid", (error: Error | null | undefined, result: Pg.QueryResult) => {
    const pid: unknown = error ? undefined : result.rows[0]?.pid
    if (typeof pid === "number") backend.pids.set(client, pid)
    if (error && isLost(error) && !backend.lost.has(client)) backend.lost.set(client, error)
    next()
  })
}

/** Gives a connection back to the pool: with its failure, if it had one, so the pool destroys it. */
export const releaseClient = (backend: Backend, client: Pg.PoolClient): void => client.release(backend.lost.get(client))

/**
 * Asks the pool for a connection. The returned function gives up the wait: a connection that
 * arrives later goes straight back.
 */
export const requestClient = (backend: Backend, onClient: (result: Pg.PoolClient | Error) => void): () => void => {
  let abandoned = false
  backend.pool.connect((error, client) => {
    if (!abandoned) onClient(error ?? client ?? new Error("No client returned"))
    else if (client !== undefined) releaseClient(backend, client)
  })
  return () => {
    abandoned = true
  }
}

/** A pool connection, waited for interruptibly (even in an uninterruptible region); never leaked. */
export const waitForClient = (backend: Backend, message: string): Effect.Effect<Pg.PoolClient, SqlError> =>
  Effect.suspend(() => {
    let arrived: Pg.PoolClient | undefined
    return Effect.async<Pg.PoolClient, SqlError>((resume) => {
      const abandon = requestClient(backend, (result) => {
        if (result instanceof Error) return resume(Effect.fail(failed(result, message)))
        arrived = result
        resume(Effect.succeed(result))
      })
      return Effect.sync(abandon)
    }).pipe(
      Effect.interruptible,
      // interrupted just as the connection arrived: it goes back
      Effect.onInterrupt(() => Effect.sync(() => arrived !== undefined && releaseClient(backend, arrived)))
    )
  })

/**
 * A pool connection for the caller's scope (a transaction, a stream), given back when it closes.
 * The release is added to the scope as it is (`Scope.addFinalizer`): it reads no FiberRef, so
 * it needs none of the FiberRefs diffing and patching `Effect.addFinalizer` does on every close.
 */
export const reserveIn = (backend: Backend, scope: Scope.Scope): Effect.Effect<Pg.PoolClient, SqlError> =>
  Effect.uninterruptible(
    Effect.tap(
      waitForClient(backend, "Failed to acquire connection for transaction"),
      (client) => Scope.addFinalizer(scope, Effect.sync(() => releaseClient(backend, client)))
    )
  )

/** {@link reserveIn} the caller's scope. */
export const reserve = (backend: Backend): Effect.Effect<Pg.PoolClient, SqlError, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) => reserveIn(backend, scope))

/** A cancel request under way: `abandon` drops it if it has not been sent yet. */
export interface Cancel {
  readonly settled: Promise<void>
  readonly abandon: () => void
}

/** Would a connection of the pool be free for a cancel request right now? */
export const hasSpare = ({ max, pool }: Backend) => pool.waitingCount === 0 && (pool.idleCount > 0 || pool.totalCount < max)

/**
 * Asks the server to cancel what `target` runs (best effort, as `@effect/sql-pg`): on the pool,
 * or on the canceller's connection when the pool has no connection to spare.
 */
export const cancelBackend = (backend: Backend, target: Pg.ClientBase): Cancel => {
  const pid = backend.pids.get(target)
  let arrived = false
  let stopWaiting = () => {}
  const settled = new Promise<void>((resolve) => {
    if (pid === undefined || backend.pool.ending) return resolve()
    if (!hasSpare(backend)) return void backend.canceller.send(pid).then(resolve)
    const stop = requestClient(backend, (result) => {
      // from here it settles with the server's answer, whatever happens to the statement
      arrived = true
      if (result instanceof Error) return resolve()
      result.query(CANCEL, [pid], (error: Error | null | undefined) => {
        if (error && isLost(error)) backend.lost.set(result, error)
        releaseClient(backend, result)
        resolve()
      })
    })
    stopWaiting = () => {
      if (arrived) return
      stop()
      resolve()
    }
  })
  return { settled, abandon: () => stopWaiting() }
}

/**
 * One statement, on `held` (a connection the caller holds: a transaction's, DDL's) or on a pool
 * connection held for it alone. Interrupted while waiting for the pool, it stops waiting;
 * interrupted before it was sent, it is not sent; interrupted while running, the server is asked
 * to cancel it and the interruption completes once it has ended (at most CANCEL_WAIT: cancellers
 * run uninterruptibly, so the bounded wait is made interruptible). A pool connection goes back
 * once the statement has ended and the cancel request has settled, so neither can reach the
 * connection's next user.
 */
export const runQuery = <A>(
  backend: Backend,
  held: Pg.ClientBase | undefined,
  config: Pg.QueryConfig,
  read: (results: Results) => A,
  /**
   * A failure after which the statement is sent once more, on the same connection: the config
   * to send, or undefined (the failure is the statement's). Only for failures where nothing ran.
   */
  retry?: (error: Error) => Pg.QueryConfig | undefined
): Effect.Effect<A, SqlError> =>
  Effect.async<A, SqlError>((resume) => {
    // waiting for the pool, asking the connection's pid, statement sent, ended
    let state: "waiting" | "starting" | "sent" | "done" = "waiting"
    let interrupted = false
    let client: Pg.ClientBase | undefined
    let cancel: Cancel | undefined
    let abandon = () => {}
    // the end of the statement, as a promise only when an interruption waits for it: most
    // statements are never interrupted, and a promise per statement is measurable
    let ended: (() => void) | undefined
    const finish = (giveBack: (() => void) | undefined) => {
      state = "done"
      cancel?.abandon()
      if (giveBack !== undefined) {
        if (cancel === undefined) giveBack()
        else void cancel.settled.then(giveBack)
      }
      ended?.()
    }
    const start = (c: Pg.ClientBase, giveBack: (() => void) | undefined) => {
      client = c
      state = "starting"
      withPid(backend, c, () => {
        // interrupted before it was sent: it never runs
        if (interrupted) return finish(giveBack)
        state = "sent"
        let again = retry
        const answered = (error: Error | null | undefined, results: Results) => {
          // the connection emitted `error` first: reported as `@effect/sql-pg` does
          const message = backend.lost.has(c) ? "Connection error" : undefined
          if (error && message === undefined && isLost(error)) backend.lost.set(c, error)
          const next = error && message === undefined && again !== undefined && !interrupted ? again(error) : undefined
          if (next !== undefined) {
            again = undefined
            return void c.query(next, answered)
          }
          finish(giveBack)
          resume(error ? Effect.fail(failed(error, message)) : Effect.succeed(read(results)))
        }
        c.query(config, answered)
      })
    }
    if (held !== undefined) start(held, undefined)
    else {
      abandon = requestClient(backend, (result) => {
        if (!(result instanceof Error)) return start(result, () => releaseClient(backend, result))
        state = "done"
        resume(Effect.fail(failed(result, "Failed to acquire connection")))
      })
    }
    return Effect.suspend(() => {
      interrupted = true
      if (state === "waiting") {
        state = "done"
        abandon()
        return Effect.void
      }
      if (state === "done" || client === undefined) return Effect.void
      if (state === "sent") cancel = cancelBackend(backend, client)
      const settled = cancel?.settled
      // not done: `finish` has not run yet and resolves this
      const end = new Promise<void>((resolve) => (ended = resolve))
      return Effect.promise(() => Promise.all([settled, end])).pipe(
        Effect.interruptible,
        Effect.timeoutOption(CANCEL_WAIT),
        Effect.asVoid
      )
    })
  })

/**
 * A statement that ends a stream's use of its connection (CLOSE, COMMIT, ROLLBACK): bounded. Its
 * failure is ignored (a lost connection is already marked); a connection that does not answer is
 * marked lost, so it is not reused.
 */
export const finishing = (backend: Backend, client: Pg.ClientBase, statement: Effect.Effect<unknown, SqlError>) =>
  statement.pipe(
    Effect.interruptible,
    Effect.timeoutOption(CANCEL_WAIT),
    Effect.match({
      onFailure: () => undefined,
      onSuccess: (answered) => {
        if (Option.isNone(answered) && !backend.lost.has(client)) {
          backend.lost.set(client, new Error("No answer to the statement that ends a stream"))
        }
      }
    })
  )

/**
 * The rows of a statement through a server-side cursor, FETCH_SIZE at a time: on `held` inside
 * its transaction, else on a pool connection in a transaction of its own (a cursor lives in a
 * transaction). The cursor is closed (outside a transaction: the transaction ends) when the
 * stream ends, fails or is stopped.
 */
export const streamQuery = (
  backend: Backend,
  held: Pg.ClientBase | undefined,
  text: string,
  params: ReadonlyArray<unknown>
): Stream.Stream<object, SqlError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const client = held ?? (yield* reserve(backend))
    const exec = (statement: string, values: ReadonlyArray<unknown> = []) =>
      runQuery(backend, client, configOf(statement, values), rowsOf)
    const cursor = backend.nextCursor()
    if (held === undefined) {
      yield* exec("BEGIN")
      yield* Effect.addFinalizer((exit) =>
        finishing(backend, client, exec(Exit.isSuccess(exit) ? "COMMIT" : "ROLLBACK"))
      )
    }
    yield* exec(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${text}`, params)
    if (held !== undefined) yield* Effect.addFinalizer(() => finishing(backend, client, exec(`CLOSE ${cursor}`)))
    let exhausted = false
    const fetch = Effect.suspend(() =>
      exhausted
        ? Effect.fail(Option.none())
        : Effect.mapError(exec(`FETCH ${FETCH_SIZE} FROM ${cursor}`), Option.some)
    ).pipe(Effect.flatMap((rows) => {
      exhausted = rows.length < FETCH_SIZE
      return rows.length === 0 ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(rows))
    }))
    return Stream.repeatEffectChunkOption(fetch)
  }))

export const transformed = (rows: Effect.Effect<ReadonlyArray<object>, SqlError>, transformRows: Transform | undefined) =>
  transformRows === undefined ? rows : Effect.map(rows, transformRows)
