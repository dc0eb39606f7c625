/**
 * Zero-config wiring: a database layer from a URL, eager table creation, transactions over any
 * composition of nodes, named instances, and the settings a layer changes (schema policy,
 * node spans, cursor signing).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Function from "effect/Function"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { ConfigurationError, DatabaseError, DriverNotInstalled, SchemaMismatch } from "./Errors.js"
import type { LayerOptions, Target } from "./internal/client/layer.js"
import * as internalLayer from "./internal/client/layer.js"
import * as Layers from "./internal/runtime/layers.js"
import { definitionOf } from "./internal/model/definition.js"
import { verify } from "./internal/runtime/context.js"
import { ReadFromPrimary } from "./internal/runtime/replicas.js"
import { CursorKey, NodeMetrics, NodeSpans, SchemaPolicy } from "./internal/runtime/settings.js"
import { run } from "./internal/runtime/transaction.js"
import type * as Model from "./Model.js"
import type * as Transaction from "./Transaction.js"

export {
  /**
   * The key that signs keyset cursors; see {@link cursorKey}.
   *
   * @since 0.1.0
   * @category cursors
   */
  CursorKey,
  /**
   * Whether node calls are timed and counted in the `Metrics`; on by default (see {@link nodeMetrics}).
   *
   * @since 0.1.0
   * @category metrics
   */
  NodeMetrics,
  /**
   * Whether each node call opens its own span; on by default (see {@link nodeSpans}).
   *
   * @since 0.1.0
   * @category tracing
   */
  NodeSpans,
  /**
   * Whether reads go to the primary where replicas are provided; see {@link primary}.
   *
   * @since 0.1.0
   * @category replicas
   */
  ReadFromPrimary,
  /**
   * When tables may be created: `"auto"` (default) creates missing tables on first use;
   * `"existing"` never runs DDL (a database the application does not own).
   *
   * @since 0.1.0
   * @category schema
   */
  SchemaPolicy
}

export {
  /**
   * Declares a named database instance: `class Analytics extends DataFlow.Instance<Analytics>()("Analytics") {}`.
   * Models declared with `{ instance: Analytics }` require `Analytics` instead of `SqlClient`;
   * provide it with `Analytics.layer(clientLayer)`, `Analytics.layerUrl({ url })` or
   * `Analytics.layerPerTenant(f)`. Two instances never share a connection or a transaction.
   *
   * @since 0.1.0
   * @category instances
   */
  Instance
} from "./internal/runtime/instance.js"

export type {
  /**
   * An instance class (see {@link Instance}).
   *
   * @since 0.1.0
   * @category instances
   */
  InstanceClass
} from "./internal/runtime/instance.js"

export type {
  /**
   * Options of {@link layer}: the URL, the pool of PostgreSQL and MySQL (size, acquire, idle and
   * connect timeouts), TLS, the statement timeout, the application name, SQLite's busy timeout.
   *
   * @since 0.1.0
   * @category models
   */
  LayerOptions,
  /**
   * TLS settings of {@link LayerOptions.ssl}.
   *
   * @since 0.1.0
   * @category models
   */
  SslOptions,
  /**
   * Where a URL points (see {@link parseUrl}).
   *
   * @since 0.1.0
   * @category models
   */
  Target
} from "./internal/client/layer.js"

export type {
  /**
   * Where a model's statements go: the service behind an instance's tag.
   *
   * @since 0.1.0
   * @category instances
   */
  Binding
} from "./internal/runtime/binding.js"

/**
 * The embedded SQLite file used when no URL is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultFilename: string = internalLayer.defaultFilename

/**
 * Reads a connection URL (see {@link LayerOptions.url}); `undefined` is the embedded default,
 * an unknown scheme is refused (undefined).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseUrl: (url: string | undefined) => Target | undefined = internalLayer.parseUrl

/**
 * A database layer picked from a URL; with no URL, an embedded SQLite file (`dataflow.sqlite`
 * in the working directory). The drivers of PostgreSQL (`pg`, `@effect/sql-pg`) and MySQL
 * (`mysql2`) are loaded only when a URL asks for them (`DriverNotInstalled` otherwise). Any
 * `@effect/sql` client layer works in its place; the clients this layer opens let the nodes
 * skip `@effect/sql`'s statement pipeline (see docs/performance.md).
 *
 * @example
 * ```ts
 * import { DataFlow } from "effect-dataflow"
 *
 * const Db = DataFlow.layer({
 *   url: process.env.DATABASE_URL,
 *   pool: { max: 20, acquireTimeout: "5 seconds", idleTimeout: "30 seconds", connectTimeout: "5 seconds" },
 *   ssl: { rejectUnauthorized: true },
 *   statementTimeout: "10 seconds",
 *   applicationName: "billing-api"
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (
  options?: LayerOptions
) => Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError | DriverNotInstalled> = Layers.fromUrl

/**
 * {@link layer} with its options read from configuration, as the `@effect/sql` clients'
 * `layerConfig`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { DataFlow } from "effect-dataflow"
 *
 * const Db = DataFlow.layerConfig({ url: Config.string("DATABASE_URL") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config: Config.Config.Wrap<LayerOptions>
) => Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError | DriverNotInstalled> = Layers.fromConfig

/**
 * A layer that puts the models' tables in a PostgreSQL schema / MySQL database, on any client
 * (`DataFlow.layer({ schema })` sets it for its own). Statements name the schema; it is
 * created on first use under the `"auto"` policy. A name other than 1–63 letters, digits, `_`,
 * `$` and `-` is a `ConfigError`.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer } from "effect"
 * import { DataFlow } from "effect-dataflow"
 *
 * const Db = Layer.merge(PgClient.layer({ database: "app" }), DataFlow.schema("billing"))
 * ```
 *
 * @since 0.1.0
 * @category schema
 */
export const schema: (name: string) => Layer.Layer<never, ConfigError.ConfigError> = Layers.schema

/**
 * Runs `effect` with its reads on the primary, where `DataFlow.layer({ replicas })` would send
 * them to a replica: to read what it has just written (replicas lag). Transactions and writes
 * always run on the primary; without replicas this changes nothing.
 *
 * @example
 * ```ts
 * const user = yield* User.create({ name: "Ada" })
 * const again = yield* DataFlow.primary(User.read(user.id)) // not yet on a replica, maybe
 * ```
 *
 * @since 0.1.0
 * @category replicas
 */
export const primary = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, ReadFromPrimary, true)

/**
 * A layer that sets the schema policy: `"auto"` (the default) creates missing tables and adds
 * missing columns, unique constraints and indexes on first use; `"existing"` runs no DDL and
 * checks each table once per client; `"none"` neither changes nor checks. A table that cannot
 * serve its model fails the node with `SchemaMismatch` before any of its statements runs.
 *
 * @since 0.1.0
 * @category schema
 */
export const schemaPolicy = (policy: "auto" | "existing" | "none"): Layer.Layer<never> => Layer.succeed(SchemaPolicy, policy)

/**
 * A layer that switches the per-node spans on or off (statement spans stay).
 *
 * @since 0.1.0
 * @category tracing
 */
export const nodeSpans = (enabled: boolean): Layer.Layer<never> => Layer.succeed(NodeSpans, enabled)

/**
 * A layer that switches the node metrics (`Metrics.nodeDuration`, `nodeErrors`, `rowsWritten`)
 * on or off; on by default (about 1 µs a call, measured by bench/metrics.ts; see docs/serving.md).
 *
 * @since 0.1.0
 * @category metrics
 */
export const nodeMetrics = (enabled: boolean): Layer.Layer<never> => Layer.succeed(NodeMetrics, enabled)

/**
 * A health check: one trivial statement on the default `SqlClient` (`SELECT 1`), bounded by
 * `timeout` (default 2 seconds); fails with a `DatabaseError` (retryable) when the database
 * does not answer in time or refuses. `/health` of `DataFlowHttp` runs it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DataFlow } from "effect-dataflow"
 *
 * const healthy = DataFlow.ping().pipe(Effect.as(true), Effect.orElseSucceed(() => false))
 * ```
 *
 * @since 0.1.0
 * @category health
 */
export const ping = (
  options?: { readonly timeout?: Duration.DurationInput | undefined }
): Effect.Effect<void, DatabaseError, SqlClient.SqlClient> => internalLayer.ping(options?.timeout ?? "2 seconds")

/**
 * A layer that signs every keyset cursor `list` hands out (HMAC-SHA-256 with `key`) and refuses,
 * with `InvalidCursor`, any cursor it did not sign — before reading anything in it. Cursors
 * travel through URLs; without a key they are still checked value by value, as filters are.
 *
 * @example
 * ```ts
 * import { Config, Effect, Layer } from "effect"
 * import { DataFlow } from "effect-dataflow"
 *
 * const CursorKeyLive = Layer.unwrapEffect(
 *   Effect.map(Config.redacted("CURSOR_KEY"), (key) => DataFlow.cursorKey(key))
 * )
 * ```
 *
 * @since 0.1.0
 * @category cursors
 */
export const cursorKey = (key: string | Redacted.Redacted<string>): Layer.Layer<never> =>
  Layer.succeed(CursorKey, Redacted.isRedacted(key) ? Redacted.value(key) : key)

/**
 * Brings the tables of the given models in line now instead of on first use (under the
 * `"auto"` policy: created, given missing columns, unique constraints and indexes), then
 * checks each table strictly against its model: any difference left (a type, a nullability,
 * an extra column, a missing index under `"existing"`) fails with `SchemaMismatch` listing
 * them — it never succeeds while a table differs. For changes beyond additive ones, see
 * `Migration.plan` / `Migration.apply`.
 *
 * @since 0.1.0
 * @category schema
 */
export const migrate = <const M extends ReadonlyArray<Model.Any>>(
  models: M
): Effect.Effect<void, DatabaseError | ConfigurationError | SchemaMismatch, Model.Requirements<M[number]>> =>
  Effect.forEach(models, (m) => Effect.scoped(verify<Model.Requirements<M[number]>>(definitionOf(m), "migrate")), {
    discard: true
  })

/**
 * Runs an effect in a transaction of the default `SqlClient`: every node inside joins it.
 * Nested calls are savepoints: an inner failure rolls back only the inner work. Options: an
 * isolation level, a `retry` schedule (re-runs on retryable failures only), a `timeout` before
 * COMMIT (`TransactionTimeout`, nothing happened).
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { DataFlow } from "effect-dataflow"
 *
 * declare const transfer: Effect.Effect<void>
 * const atomic = transfer.pipe(
 *   DataFlow.transaction({ isolation: "serializable", retry: Schedule.recurs(10), timeout: "2 seconds" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category transactions
 */
export const transaction: {
  <O extends Transaction.Options = {}>(
    options?: O
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Transaction.ErrorsOf<O>, R | SqlClient.SqlClient>
  <A, E, R, O extends Transaction.Options = {}>(
    self: Effect.Effect<A, E, R>,
    options?: O
  ): Effect.Effect<A, E | Transaction.ErrorsOf<O>, R | SqlClient.SqlClient>
} = Function.dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R, O extends Transaction.Options>(self: Effect.Effect<A, E, R>, options?: O) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => run(sql, self, options ?? ({} as O)))
)
