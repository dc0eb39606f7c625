/**
 * The options and errors of transactions (`DataFlow.transaction`, an instance's
 * `transaction`): an isolation level, a retry policy for retryable failures, a timeout before
 * COMMIT.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Schedule from "effect/Schedule"
import type { DatabaseError, TransactionOutcomeUnknown, TransactionTimeout } from "./Errors.js"

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
   * (serialization failure, deadlock, lock timeout, busy, a connection lost before COMMIT) —
   * and only then.
   */
  readonly retry?: Schedule.Schedule<unknown, DatabaseError>
  /**
   * The longest the transaction may take to reach COMMIT (waiting for a connection included):
   * past it, the work is interrupted, rolled back and the transaction fails with
   * `TransactionTimeout` — nothing of it happened. Once COMMIT is sent, its outcome is waited
   * for. (An `Effect.timeout` around a transaction cannot tell the two apart.)
   */
  readonly timeout?: Duration.DurationInput
}

/**
 * What a transaction adds to its work's errors: a failed BEGIN/COMMIT/savepoint, a COMMIT
 * whose outcome is unknown, a `timeout` reached before COMMIT.
 *
 * @since 0.1.0
 * @category errors
 */
export type TransactionError = DatabaseError | TransactionOutcomeUnknown | TransactionTimeout

/**
 * The errors a transaction with options `O` adds to its work's: `TransactionTimeout` only when
 * `O` has a `timeout`.
 *
 * @since 0.1.0
 * @category errors
 */
export type ErrorsOf<O> =
  | DatabaseError
  | TransactionOutcomeUnknown
  | (O extends { readonly timeout: Duration.DurationInput } ? TransactionTimeout : never)
