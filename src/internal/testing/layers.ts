/**
 * Test layers: a fresh in-memory SQLite, work rolled back at its end (DataFlow's own
 * transactions, so nested `DataFlow.transaction`s become savepoints), and a schema (PostgreSQL)
 * or database (MySQL) private to a run.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { fromUrl, urlInNamespace } from "../client/layer.js"
import { fromClient } from "../dialect/ofClient.js"
import { run } from "../runtime/transaction.js"
import type { DatabaseError, DriverNotInstalled } from "../../Errors.js"
import { TransactionOutcomeUnknown } from "../../Errors.js"

/** @internal */
export type LayerError = SqlError | ConfigError.ConfigError | DriverNotInstalled

/** A fresh in-memory SQLite database each time the layer is built. @internal */
export const layerMemory: Layer.Layer<SqlClient.SqlClient, LayerError> = fromUrl({ url: "sqlite::memory:" })

/** Carries the work's outcome out of the transaction, which its failure rolls back. */
class RolledBack extends Data.Error<{ readonly exit: Exit.Exit<unknown, unknown> }> {}

/**
 * Runs `self` in a transaction of the `SqlClient` in context and rolls it back at the end,
 * whatever the outcome; the work's own result or failure is returned. Each call has its own
 * connection (its own transaction), so concurrent calls never see each other's writes;
 * inside another transaction it is a savepoint rolled back.
 * @internal
 */
export const rollback = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R | SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    run(sql, Effect.flatMap(Effect.exit(self), (exit) => Effect.fail(new RolledBack({ exit }))), {}).pipe(
      // never committed, so its outcome is always known
      Effect.catchIf((e): e is TransactionOutcomeUnknown => e instanceof TransactionOutcomeUnknown, Effect.die),
      Effect.catchIf((e): e is RolledBack => e instanceof RolledBack, (r) => r.exit as Exit.Exit<A, E>)
    ))

const randomSuffix = () => Math.random().toString(36).slice(2, 10)

/**
 * Creates the schema (PostgreSQL) or database (MySQL) `name` on the server of `url` and
 * returns the URL whose tables live there; a SQLite URL is returned as it is.
 * @internal
 */
export const isolatedUrl = (url: string, name: string): Effect.Effect<string, LayerError> => {
  const target = urlInNamespace(url, name)
  if (target === undefined) return Effect.succeed(url)
  return Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const namespace = fromClient(sql).namespace
    if (namespace !== undefined) yield* sql.unsafe(namespace.create(name)).withoutTransform
    return target
  }).pipe(Effect.provide(fromUrl({ url })), Effect.scoped)
}

/** @internal */
export interface IsolatedOptions {
  readonly url: string
  /** The schema / database name; default `dataflow_test_` and a random suffix. */
  readonly name?: string | undefined
  /** Drop it when the layer is released; default true. */
  readonly drop?: boolean | undefined
}

/**
 * A client of the library on a schema (PostgreSQL) or database (MySQL) of its own, created
 * when the layer is built and dropped when it is released; on SQLite, the URL's database.
 * @internal
 */
export const layerIsolated = (options: IsolatedOptions): Layer.Layer<SqlClient.SqlClient, LayerError> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const name = options.name ?? `dataflow_test_${Date.now().toString(36)}_${randomSuffix()}`
    const url = yield* isolatedUrl(options.url, name)
    if (url !== options.url && options.drop !== false) {
      // released after the isolated client (built later, closed first)
      yield* Effect.addFinalizer(() =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const namespace = fromClient(sql).namespace
          if (namespace !== undefined) yield* sql.unsafe(namespace.drop(name)).withoutTransform
        }).pipe(Effect.provide(fromUrl({ url: options.url })), Effect.scoped, Effect.ignore)
      )
    }
    return fromUrl({ url })
  }))
