/**
 * Transactions: BEGIN (at the isolation level each database wants), savepoints for nested
 * calls, COMMIT and ROLLBACK issued here so their failures are typed and classified, a timeout
 * before COMMIT, an interruptible wait for the connection, retries of retryable failures.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import type * as Schedule from "effect/Schedule"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type * as Dialect from "../dialect/dialect.js"
import { fromClient } from "../dialect/ofClient.js"
import { DatabaseError, TransactionOutcomeUnknown, TransactionTimeout } from "../../Errors.js"
import type { ErrorsOf, Options, TransactionError } from "../../Transaction.js"
import { inOwnTransaction, outsideTransaction, TransactionOwner } from "./binding.js"
import { toDatabaseError } from "./errors.js"
import { stateOf } from "./clientState.js"
import { recording } from "./tracing.js"
import type { Executor } from "../client/executor.js"
import { ClientExecutor } from "../client/executor.js"

export type { ErrorsOf, TransactionError }

const classifyCause = (dialect: Dialect.Dialect, operation: string, error: SqlError) =>
  toDatabaseError(dialect, "DataFlow", operation, error)

/** A retryable failure anywhere in the transaction: a node's DatabaseError or a raw SqlError. */
const retryable = (dialect: Dialect.Dialect) => (error: unknown): boolean =>
  error instanceof DatabaseError
    ? error.retryable
    : error instanceof SqlError
    ? dialect.classify(error.cause).retryable
    : false

/**
 * Runs `self` as one transaction on `sql`. BEGIN, COMMIT and ROLLBACK are issued here (not by
 * `withTransaction`) so the isolation level can be set where each database wants it and a
 * failed COMMIT is a typed, classified error instead of a defect.
 * @internal
 */
export const run = <A, E, R, O extends Options = {}>(
  sql: SqlClient.SqlClient,
  self: Effect.Effect<A, E, R>,
  options: O
): Effect.Effect<A, E | ErrorsOf<O>, R> => {
  const dialect = fromClient(sql)
  const nestedOrNew = Effect.withFiberRuntime<A, E | TransactionError, R>((fiber) => {
    const ctx = fiber.currentContext as Context.Context<never>
    const current = Context.getOption(ctx, SqlClient.TransactionConnection)
    // outside any transaction there is no connection to leave: no copy of the context
    if (current._tag === "None") return scope(sql, dialect, self, options, undefined)
    return inOwnTransaction(ctx, sql)
      ? scope(sql, dialect, self, options, current.value)
      : outsideTransaction(scope(sql, dialect, self, options, undefined))
  })
  const { retry } = options
  // without a timeout option the transaction never fails with TransactionTimeout
  return (retry === undefined
    ? nestedOrNew
    : Effect.retry(nestedOrNew, { schedule: retry as Schedule.Schedule<unknown, unknown>, while: retryable(dialect) })) as Effect.Effect<
      A,
      E | ErrorsOf<O>,
      R
    >
}

/**
 * A connection of the pool for a new transaction, waited for interruptibly: an interrupted
 * wait returns at once, and a connection that arrives later is released, whatever the client.
 * The library's own clients guarantee that themselves (`Executor.reserve`): their connection is
 * reserved in `scope`. Any other client's is held by a daemon fiber in a scope of its own until `scope` closes (the
 * caller's finalizer only signals it, and waits for the release once the connection was
 * handed over). Neither joining that fiber nor running its finalizer in the caller's scope:
 * either merges the daemon's FiberRefs into the caller's, which grew every FiberRef's stack by
 * two entries a transaction — a fiber running thousands of transactions (a MySQL `update` is
 * one) slowed down with each (scratch measurement: longest stack 401 after 200 transactions,
 * 1 now).
 */
const reserve = (sql: SqlClient.SqlClient, dialect: Dialect.Dialect, scope: Scope.Scope) =>
  Effect.withFiberRuntime<Connection, DatabaseError>((fiber) => {
    // the library's own clients wait interruptibly and never leak a connection that arrives
    // late: their connection is reserved in `scope` directly, without a holder fiber
    const executor = executorOf(sql, fiber.currentContext as Context.Context<never>)
    return executor?.reserve === undefined
      ? held(sql, dialect, scope)
      : Effect.mapError(executor.reserve(scope), (e) => classifyCause(dialect, "begin", e))
  })

/** The executor of one of the library's own clients, when `sql` is one. */
const executorOf = (sql: SqlClient.SqlClient, services: Context.Context<never>): Executor | undefined => {
  const known = stateOf(sql).executor
  if (known !== undefined) return known
  const provided = Context.getOption(services, ClientExecutor)
  return provided._tag === "Some" && provided.value.client === sql ? provided.value : undefined
}

/** Any other client's connection, held by a daemon fiber (see `reserve`). */
const held = (sql: SqlClient.SqlClient, dialect: Dialect.Dialect, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const handed = yield* Deferred.make<Connection, SqlError>()
    const done = yield* Deferred.make<void>()
    const holder = yield* Effect.forkDaemon(Effect.scoped(
      Effect.flatMap(Effect.exit(sql.reserve), (exit) =>
        Effect.zipRight(Deferred.done(handed, exit), Exit.isSuccess(exit) ? Deferred.await(done) : Effect.void))
    ))
    yield* Scope.addFinalizer(
      scope,
      Effect.zipRight(
        Deferred.succeed(done, undefined),
        // a connection still awaited is released by the holder when it arrives
        Effect.flatMap(Deferred.isDone(handed), (handedOver) => handedOver ? Fiber.await(holder) : Effect.void)
      )
    )
    return yield* Effect.mapError(Deferred.await(handed), (e) => classifyCause(dialect, "begin", e))
  })

/** The statements that begin a transaction, one after the other (most dialects: one). */
const beginAll = <E>(statements: ReadonlyArray<string>, exec: (statement: string, operation: string) => Effect.Effect<unknown, E>) =>
  statements.length === 1
    ? exec(statements[0]!, "begin")
    : Effect.forEach(statements, (statement) => exec(statement, "begin"), { discard: true })

/** A body failure that lost its connection before COMMIT was sent: nothing was written, retrying is safe. */
const retryableLoss = <E>(error: E): E =>
  error instanceof DatabaseError && error.connectionLost === true && !error.retryable
    ? new DatabaseError({
      model: error.model,
      operation: error.operation,
      retryable: true,
      connectionLost: true,
      cause: error.cause,
      ...(error.code === undefined ? {} : { code: error.code })
    }) as E
    : error

/**
 * One transaction scope: a new transaction, or a savepoint inside the current one. BEGIN /
 * SAVEPOINT, COMMIT / RELEASE and ROLLBACK are issued here, so each database gets its isolation
 * syntax and their failures are classified, typed errors, not defects; the effect's own errors
 * pass through unchanged. Waiting for a connection, BEGIN and the work are interruptible;
 * COMMIT and ROLLBACK are not (their outcome decides what happened).
 */
const scope = <A, E, R>(
  sql: SqlClient.SqlClient,
  dialect: Dialect.Dialect,
  self: Effect.Effect<A, E, R>,
  options: Options,
  current: readonly [conn: Connection, depth: number] | undefined
): Effect.Effect<A, E | TransactionError, R> =>
  Effect.uninterruptibleMask((restore) =>
    // the connection's own scope: the work runs in the caller's context (its Scope included)
    Effect.flatMap(Scope.make(), (connection) =>
      Effect.onExit(
      Effect.gen(function*() {
        const timeout = options.timeout === undefined || current !== undefined
          ? undefined
          : Duration.toMillis(Duration.decode(options.timeout))
        const deadline = timeout === undefined ? undefined : (yield* Clock.currentTimeMillis) + timeout
        /** Interruptible, and bounded by the transaction's timeout. */
        const timed = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) =>
          deadline === undefined ? restore(effect) : Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.timeoutFail(restore(effect), {
              duration: Math.max(0, deadline - now),
              onTimeout: () => new TransactionTimeout({ timeout: timeout! })
            }))
        const conn = current?.[0] ?? (yield* timed(reserve(sql, dialect, connection)))
        const depth = current === undefined ? 0 : current[1] + 1
        const exec = (statement: string, operation: string) =>
          Effect.mapError(conn.executeRaw(statement, []), (e) => classifyCause(dialect, operation, e))
        const savepoint = `dataflow_${depth}`
        const begin = depth > 0
          ? exec(`SAVEPOINT ${savepoint}`, "savepoint")
          : beginAll(dialect.begin(options.isolation), exec)
        const rollback = Effect.ignore(exec(depth === 0 ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${savepoint}`, "rollback"))
        const started = yield* Effect.exit(timed(begin))
        if (Exit.isFailure(started)) {
          // interrupted or failed mid-BEGIN: whatever it left open is rolled back
          yield* rollback
          return yield* started
        }
        // both services in one change of the context (each `provideService` copies it)
        const provided = Context.make(SqlClient.TransactionConnection, [conn, depth] as const).pipe(Context.add(TransactionOwner, sql))
        const inside = Effect.mapInputContext(self, (services: Context.Context<R>) =>
          Context.merge(services, provided) as Context.Context<R>)
        // the span only where a tracer records it (see tracing.ts): made for nobody it costs a
        // span object, a clock read and a context change per transaction
        const spanned = Effect.withFiberRuntime<A, E, R>((fiber) =>
          recording(fiber)
            ? Effect.withSpan(inside, depth === 0 ? "dataflow.transaction" : "dataflow.savepoint", {
              kind: "client",
              captureStackTrace: false,
              attributes: { "dataflow.isolation": options.isolation ?? "default", "db.system.name": dialect.systemName }
            })
            : inside
        )
        const exit = yield* Effect.exit(timed(spanned))
        if (Exit.isSuccess(exit)) {
          if (depth > 0) {
            yield* exec(`RELEASE SAVEPOINT ${savepoint}`, "commit")
            return exit.value
          }
          const committed = yield* Effect.exit(exec("COMMIT", "commit"))
          if (Exit.isSuccess(committed)) return exit.value
          const error = Cause.failureOption(committed.cause)
          // the answer to COMMIT never came: committed or not, nobody knows
          if (error._tag === "Some" && error.value.connectionLost === true) {
            return yield* new TransactionOutcomeUnknown({ model: "DataFlow", operation: "commit", cause: error.value.cause })
          }
          return yield* committed
        }
        // the work already failed: a failing ROLLBACK (a broken connection) adds nothing to report
        yield* rollback
        return yield* Effect.failCause(depth === 0 ? Cause.map(exit.cause, retryableLoss) : exit.cause)
      }),
      (exit) => Scope.close(connection, exit)
    ))
  ) as Effect.Effect<A, E | TransactionError, R>

