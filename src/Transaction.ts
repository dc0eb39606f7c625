/**
 * Transactions over any composition of nodes, with an isolation level and a retry policy for
 * serialization failures and deadlocks.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import type { Schedule, Scope } from "effect"
import { Context, Effect, Exit, Function } from "effect"
import * as Dialect from "./Dialect.js"
import { DatabaseError } from "./Errors.js"
import { inOwnTransaction, outsideTransaction, toDatabaseError, TransactionOwner } from "./internal/client.js"

/**
 * Isolation levels. Honoured by PostgreSQL and MySQL/MariaDB; SQLite transactions are always
 * serializable (one writer at a time), so the option changes nothing there.
 *
 * @since 0.1.0
 * @category models
 */
export type Isolation = "read committed" | "repeatable read" | "serializable"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Isolation level of the outermost transaction (nested calls are savepoints and keep it). */
  readonly isolation?: Isolation
  /**
   * Re-runs the whole transaction when it fails with a retryable database error
   * (serialization failure, deadlock, lock timeout, busy) — and only then.
   */
  readonly retry?: Schedule.Schedule<unknown, DatabaseError>
}

const isolationSql: Record<Isolation, string> = {
  "read committed": "READ COMMITTED",
  "repeatable read": "REPEATABLE READ",
  "serializable": "SERIALIZABLE"
}

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
export const run = <A, E, R>(
  sql: SqlClient.SqlClient,
  self: Effect.Effect<A, E, R>,
  options: Options
): Effect.Effect<A, E | DatabaseError, R> => {
  const dialect = Dialect.fromClient(sql)
  const nestedOrNew = Effect.withFiberRuntime<A, E | DatabaseError, R>((fiber) => {
    const ctx = fiber.currentContext as Context.Context<never>
    const current = Context.getOption(ctx, SqlClient.TransactionConnection)
    return current._tag === "Some" && inOwnTransaction(ctx, sql)
      ? scope(sql, dialect, self, options, current.value)
      : outsideTransaction(scope(sql, dialect, self, options, undefined))
  })
  const { retry } = options
  return retry === undefined
    ? nestedOrNew
    : Effect.retry(nestedOrNew, { schedule: retry as Schedule.Schedule<unknown, unknown>, while: retryable(dialect) })
}

/**
 * One transaction scope: a new transaction, or a savepoint inside the current one. BEGIN /
 * SAVEPOINT, COMMIT / RELEASE and ROLLBACK are issued here, so each database gets its isolation
 * syntax and their failures are classified DatabaseErrors, not defects; the effect's own errors
 * pass through unchanged.
 */
const scope = <A, E, R>(
  sql: SqlClient.SqlClient,
  dialect: Dialect.Dialect,
  self: Effect.Effect<A, E, R>,
  options: Options,
  current: readonly [conn: Connection, depth: number] | undefined
): Effect.Effect<A, E | DatabaseError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.scoped(
      Effect.gen(function*() {
        const conn = current?.[0] ?? (yield* Effect.mapError(sql.reserve, (e) => classifyCause(dialect, "begin", e)))
        const depth = current === undefined ? 0 : current[1] + 1
        const exec = (statement: string, operation: string) =>
          Effect.mapError(conn.executeRaw(statement, []), (e) => classifyCause(dialect, operation, e))
        const savepoint = `dataflow_${depth}`
        const level = options.isolation === undefined ? undefined : isolationSql[options.isolation]
        if (depth > 0) {
          yield* exec(`SAVEPOINT ${savepoint}`, "savepoint")
        } else if (dialect.name === "mysql") {
          // MySQL sets the level of the *next* transaction, before it starts
          if (level !== undefined) yield* exec(`SET TRANSACTION ISOLATION LEVEL ${level}`, "begin")
          yield* exec("START TRANSACTION", "begin")
        } else if (dialect.name === "pg") {
          yield* exec(level === undefined ? "BEGIN" : `BEGIN ISOLATION LEVEL ${level}`, "begin")
        } else {
          yield* exec("BEGIN", "begin")
        }
        const exit = yield* Effect.exit(restore(
          self.pipe(
            Effect.provideService(SqlClient.TransactionConnection, [conn, depth] as const),
            Effect.provideService(TransactionOwner, sql),
            Effect.withSpan(depth === 0 ? "dataflow.transaction" : "dataflow.savepoint", {
              kind: "client",
              captureStackTrace: false,
              attributes: { "dataflow.isolation": options.isolation ?? "default", "db.system.name": dialect.name }
            })
          ) as Effect.Effect<A, E, R | Scope.Scope>
        ))
        if (Exit.isSuccess(exit)) {
          yield* exec(depth === 0 ? "COMMIT" : `RELEASE SAVEPOINT ${savepoint}`, "commit")
          return exit.value
        }
        // the work already failed: a failing ROLLBACK (a broken connection) adds nothing to report
        yield* Effect.ignore(exec(depth === 0 ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${savepoint}`, "rollback"))
        return yield* Effect.failCause(exit.cause)
      })
    )
  ) as Effect.Effect<A, E | DatabaseError, R>

/**
 * Runs an effect in a transaction of the default `SqlClient`: every node inside joins it.
 * Nested calls are savepoints: an inner failure rolls back only the inner work.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { DataFlow } from "effect-dataflow"
 *
 * declare const transfer: Effect.Effect<void>
 * const atomic = transfer.pipe(
 *   DataFlow.transaction({ isolation: "serializable", retry: Schedule.recurs(10) })
 * )
 * ```
 *
 * @since 0.1.0
 * @category transactions
 */
export const transaction: {
  (options?: Options): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R | SqlClient.SqlClient>
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: Options): Effect.Effect<A, E | DatabaseError, R | SqlClient.SqlClient>
} = Function.dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, options: Options = {}) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => run(sql, self, options))
)

