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
 *   transaction connection when it is one of this client's; DDL runs on a connection outside the
 *   pool.
 *
 * Nothing private of `pg` or `@effect/sql-pg` is read: a connection's server process id comes from
 * `SELECT pg_backend_pid()`, asked on the connection's first use (one round trip per connection).
 * (Internal module: not part of the public API.)
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import type { Scope } from "effect"
import { Chunk, Context, Duration, Effect, Exit, Layer, Option, Stream } from "effect"
import Pg from "pg"
import { pg as dialect } from "../dialect/pg.js"
import type { DdlConnection, Executor } from "./executor.js"
import { ClientExecutor } from "./executor.js"

/** @internal */
export interface Options {
  readonly url: string
  /** Connections in the pool (default 10, as `pg`'s). */
  readonly maxConnections?: number | undefined
  /** Longest wait for a pool connection before a statement fails (retryable); default: no limit. */
  readonly acquireTimeout?: Duration.DurationInput | undefined
}

const APPLICATION_NAME = "effect-dataflow"
const MAX_NAMED = 500
const MAX_SEEN = 1000
const FETCH_SIZE = 128
/** Longest an interruption waits for the server to cancel a statement and for it to end. */
const CANCEL_WAIT = Duration.seconds(5)
/** Longest the layer waits for the server's first answer. */
const CONNECT_WAIT = Duration.seconds(5)
const CANCEL = "SELECT pg_cancel_backend($1)"

type Transform = <A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>
/** What `pg` gives a query: one result, or one per statement when the text held several. */
type Results = Pg.QueryResult | ReadonlyArray<Pg.QueryResult>

const failed = (cause: unknown, message = "Failed to execute statement") => new SqlError({ cause, message })

/** A failure after which the connection cannot be trusted: one rule, the dialect's. */
const isLost = (error: Error): boolean => dialect.classify(error).connectionLost

/** Names statement texts on their second use, up to MAX_NAMED per pool. */
const namer = () => {
  const names = new Map<string, string>()
  const seen = new Set<string>()
  return (text: string): string | undefined => {
    const name = names.get(text)
    if (name !== undefined || names.size >= MAX_NAMED) return name
    if (seen.delete(text)) {
      const next = `dataflow_${names.size + 1}`
      names.set(text, next)
      return next
    }
    if (seen.size >= MAX_SEEN) seen.clear()
    seen.add(text)
    return undefined
  }
}

const configOf = (text: string, params: ReadonlyArray<unknown>, name?: string): Pg.QueryConfig => {
  // pg reads the values, never writes them
  const values = params as Array<unknown>
  return name === undefined ? { text, values } : { name, text, values }
}

const isMany = (results: Results): results is ReadonlyArray<Pg.QueryResult> => Array.isArray(results)

/** The rows; of each statement when the text held several (as `@effect/sql-pg`). */
const rowsOf = (results: Results): ReadonlyArray<object> =>
  isMany(results) ? results.map((result) => result.rows ?? []) : results.rows ?? []

const valuesOf = (results: Results): ReadonlyArray<ReadonlyArray<unknown>> =>
  isMany(results) ? results.map((result) => result.rows) : results.rows

const resultOf = (results: Results): unknown => results

/** A connection outside the pool that sends cancel requests when the pool has none to spare. */
interface Canceller {
  /** Asks the server to cancel what process `pid` runs; settles once answered (or failed). */
  readonly send: (pid: number) => Promise<void>
  readonly close: Effect.Effect<void>
}

const makeCanceller = (url: string): Canceller => {
  let connection: Promise<Pg.Client | undefined> | undefined
  let closed = false
  const open = (): Promise<Pg.Client | undefined> => {
    const client = new Pg.Client({
      connectionString: url,
      application_name: APPLICATION_NAME,
      connectionTimeoutMillis: Duration.toMillis(CANCEL_WAIT)
    })
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
interface Backend {
  readonly pool: Pg.Pool
  readonly url: string
  readonly max: number
  /** Each connection's server process, asked once, on its first use. */
  readonly pids: WeakMap<Pg.ClientBase, number>
  /** Connections that failed: destroyed, not reused, when they are given back. */
  readonly lost: WeakMap<Pg.ClientBase, Error>
  readonly canceller: Canceller
  readonly nextCursor: () => string
}

/** Remembers a connection's failure, from its opening: it is then never handed out again. */
const watch = (backend: Backend, client: Pg.ClientBase): void => {
  client.on("error", (error: Error) => {
    if (!backend.lost.has(client)) backend.lost.set(client, error)
  })
}

/**
 * Runs `next` once the connection's server process id is known: asked on its first use, before
 * anything else runs on it (`pg` gives the id only in a field it does not document).
 */
const withPid = (backend: Backend, client: Pg.ClientBase, next: () => void): void => {
  if (backend.pids.has(client)) return next()
  client.query("SELECT pg_backend_pid() AS pid", (error: Error | null | undefined, result: Pg.QueryResult) => {
    const pid: unknown = error ? undefined : result.rows[0]?.pid
    if (typeof pid === "number") backend.pids.set(client, pid)
    if (error && isLost(error) && !backend.lost.has(client)) backend.lost.set(client, error)
    next()
  })
}

/** Gives a connection back to the pool: with its failure, if it had one, so the pool destroys it. */
const releaseClient = (backend: Backend, client: Pg.PoolClient): void => client.release(backend.lost.get(client))

/**
 * Asks the pool for a connection. The returned function gives up the wait: a connection that
 * arrives later goes straight back.
 */
const requestClient = (backend: Backend, onClient: (result: Pg.PoolClient | Error) => void): () => void => {
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
const waitForClient = (backend: Backend, message: string): Effect.Effect<Pg.PoolClient, SqlError> =>
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

/** A pool connection for the caller's scope (a transaction, a stream), given back when it closes. */
const reserve = (backend: Backend): Effect.Effect<Pg.PoolClient, SqlError, Scope.Scope> =>
  Effect.uninterruptible(
    Effect.tap(
      waitForClient(backend, "Failed to acquire connection for transaction"),
      (client) => Effect.addFinalizer(() => Effect.sync(() => releaseClient(backend, client)))
    )
  )

/** A cancel request under way: `abandon` drops it if it has not been sent yet. */
interface Cancel {
  readonly settled: Promise<void>
  readonly abandon: () => void
}

/** Would a connection of the pool be free for a cancel request right now? */
const hasSpare = ({ max, pool }: Backend) => pool.waitingCount === 0 && (pool.idleCount > 0 || pool.totalCount < max)

/**
 * Asks the server to cancel what `target` runs (best effort, as `@effect/sql-pg`): on the pool,
 * or on the canceller's connection when the pool has no connection to spare.
 */
const cancelBackend = (backend: Backend, target: Pg.ClientBase): Cancel => {
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
const runQuery = <A>(
  backend: Backend,
  held: Pg.ClientBase | undefined,
  config: Pg.QueryConfig,
  read: (results: Results) => A
): Effect.Effect<A, SqlError> =>
  Effect.async<A, SqlError>((resume) => {
    // waiting for the pool, asking the connection's pid, statement sent, ended
    let state: "waiting" | "starting" | "sent" | "done" = "waiting"
    let interrupted = false
    let client: Pg.ClientBase | undefined
    let cancel: Cancel | undefined
    let abandon = () => {}
    let ended = () => {}
    const end = new Promise<void>((resolve) => (ended = resolve))
    const finish = (giveBack: (() => void) | undefined) => {
      state = "done"
      cancel?.abandon()
      if (giveBack !== undefined) {
        if (cancel === undefined) giveBack()
        else void cancel.settled.then(giveBack)
      }
      ended()
    }
    const start = (c: Pg.ClientBase, giveBack: (() => void) | undefined) => {
      client = c
      state = "starting"
      withPid(backend, c, () => {
        // interrupted before it was sent: it never runs
        if (interrupted) return finish(giveBack)
        state = "sent"
        c.query(config, (error: Error | null | undefined, results: Results) => {
          // the connection emitted `error` first: reported as `@effect/sql-pg` does
          const message = backend.lost.has(c) ? "Connection error" : undefined
          if (error && message === undefined && isLost(error)) backend.lost.set(c, error)
          finish(giveBack)
          resume(error ? Effect.fail(failed(error, message)) : Effect.succeed(read(results)))
        })
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
const finishing = (backend: Backend, client: Pg.ClientBase, statement: Effect.Effect<unknown, SqlError>) =>
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
const streamQuery = (
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

const transformed = (rows: Effect.Effect<ReadonlyArray<object>, SqlError>, transformRows: Transform | undefined) =>
  transformRows === undefined ? rows : Effect.map(rows, transformRows)

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

/** A connection of its own for DDL, outside the pool: it never waits for the pool. */
const ddlConnection = (backend: Backend): Effect.Effect<DdlConnection, SqlError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = new Pg.Client({
          connectionString: backend.url,
          application_name: APPLICATION_NAME,
          // its acquisition cannot be interrupted: it is bounded instead
          connectionTimeoutMillis: Duration.toMillis(CONNECT_WAIT)
        })
        watch(backend, client)
        await client.connect()
        return client
      },
      catch: (cause) => failed(cause, "Failed to connect")
    }),
    (client) =>
      Effect.promise(() => client.end().catch(() => undefined)).pipe(Effect.interruptible, Effect.timeoutOption(1000))
  ).pipe(Effect.map((client) => ({
    executeRaw: (text: string, params: ReadonlyArray<unknown>) =>
      runQuery(backend, client, configOf(text, params), resultOf)
  })))

const makeExecutor = (
  backend: Backend,
  client: SqlClient.SqlClient,
  transactions: WeakMap<Connection, Pg.PoolClient>
): Executor => {
  const nameOf = namer()
  return {
    client,
    run: (text, params, mode, { transaction }) => {
      const read = mode === "raw" ? resultOf : rowsOf
      const held = transaction === undefined ? undefined : transactions.get(transaction)
      if (transaction !== undefined && held === undefined) {
        // a transaction connection this client did not make: its public API
        return mode === "raw" ? transaction.executeRaw(text, params) : transaction.execute(text, params, undefined)
      }
      return runQuery(backend, held, configOf(text, params, nameOf(text)), read)
    },
    ddlConnection: ddlConnection(backend)
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

/** The pool, ended with the scope, once the server has answered (within CONNECT_WAIT). */
const openBackend = (options: Options): Effect.Effect<Backend, SqlError, Scope.Scope> =>
  Effect.gen(function*() {
    const max = options.maxConnections ?? 10
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Pg.Pool({
          connectionString: options.url,
          application_name: APPLICATION_NAME,
          max,
          ...(options.acquireTimeout === undefined
            ? {}
            : { connectionTimeoutMillis: Duration.toMillis(options.acquireTimeout) })
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
      max,
      pids: new WeakMap(),
      lost: new WeakMap(),
      canceller: makeCanceller(options.url),
      nextCursor: () => `dataflow_cursor_${++cursors}`
    }
    // an idle connection's failure: the pool drops the connection itself
    pool.on("error", () => {})
    pool.on("connect", (client) => watch(backend, client))
    yield* Effect.addFinalizer(() => backend.canceller.close)
    // fail the layer, not the first statement, when the server cannot be reached
    yield* Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => failed(cause, "PgClient: Failed to connect")
    }).pipe(
      Effect.timeoutFail({
        duration: CONNECT_WAIT,
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
    const client = yield* SqlClient.make({
      acquirer: Effect.succeed(connectionOf(backend, undefined)),
      transactionAcquirer: Effect.map(reserve(backend), (held) => {
        const connection = connectionOf(backend, held)
        transactions.set(connection, held)
        return connection
      }),
      compiler: PgClient.makeCompiler(),
      spanAttributes: spanAttributesOf(options.url)
    })
    return { client, executor: makeExecutor(backend, client, transactions) }
  })

/** The client and its executor. @internal */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ client, executor }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(ClientExecutor, executor)))
  ).pipe(Layer.provide(Reactivity.layer))
