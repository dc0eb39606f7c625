/**
 * Zero-config wiring: a database layer from a URL, eager table creation, the schema policy,
 * and transactions over any composition of nodes.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Config, ConfigError } from "effect"
import { Effect, Layer, Redacted } from "effect"
import * as internalLayer from "./internal/layer.js"
import type { ConfigurationError, DatabaseError, DriverNotInstalled } from "./Errors.js"
import { CursorKey, NodeSpans, SchemaPolicy } from "./internal/client.js"
import * as core from "./internal/core.js"
import type * as Model from "./Model.js"
import { defOf } from "./Model.js"

export {
  /**
   * Whether each node call opens its own span; on by default (see {@link nodeSpans}).
   *
   * @since 0.1.0
   * @category tracing
   */
  NodeSpans
}

export {
  /**
   * The key that signs keyset cursors; see {@link cursorKey}.
   *
   * @since 0.1.0
   * @category cursors
   */
  CursorKey
}

/**
 * A layer that signs every keyset cursor `list` hands out (HMAC-SHA-256 with `key`) and refuses,
 * with `InvalidCursor`, any cursor it did not sign — before reading anything in it. Cursors
 * travel through URLs; without a key they are still checked value by value, as filters are.
 *
 * @example
 * ```ts
 * import { Config, Effect, Layer, Redacted } from "effect"
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
 * A layer that switches the per-node spans on or off (`@effect/sql`'s statement spans stay).
 *
 * @since 0.1.0
 * @category tracing
 */
export const nodeSpans = (enabled: boolean): Layer.Layer<never> => Layer.succeed(NodeSpans, enabled)

export {
  /**
   * When tables may be created: `"auto"` (default) creates missing tables on first use;
   * `"existing"` never runs DDL (a database the application does not own).
   *
   * @since 0.1.0
   * @category schema
   */
  SchemaPolicy
}

/**
 * The embedded SQLite file used when no URL is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultFilename: string = internalLayer.defaultFilename

/**
 * Where a URL points.
 *
 * @since 0.1.0
 * @category models
 */
export type Target = internalLayer.Target

/**
 * Options of {@link layer}: the URL, and the connection pool of PostgreSQL and MySQL
 * (`max` connections, `acquireTimeout` for a free one).
 *
 * @since 0.1.0
 * @category models
 */
export type LayerOptions = internalLayer.Options

/**
 * Reads a connection URL: `postgres://…` / `postgresql://…`, `mysql://…` / `mariadb://…`,
 * `sqlite:<path>`, `sqlite::memory:`, `file:<path>`, `:memory:`, or a plain file path.
 * `undefined` is the embedded default.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseUrl: (url: string | undefined) => Target | undefined = internalLayer.parseUrl

/**
 * A database layer picked from a URL (see {@link parseUrl}); with no URL, an embedded SQLite
 * file (`dataflow.sqlite` in the working directory). Any `@effect/sql` client layer works in
 * its place.
 *
 * @example
 * ```ts
 * import { DataFlow } from "effect-dataflow"
 *
 * const Db = DataFlow.layer({ url: process.env.DATABASE_URL })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (
  options?: LayerOptions
) => Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError | DriverNotInstalled> = internalLayer.fromUrl

/**
 * {@link layer} with the URL read from configuration (for example `Config.string("DATABASE_URL")`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  url: Config.Config<string | undefined>
) => Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError | DriverNotInstalled> = internalLayer.fromConfig

/**
 * A layer that sets the schema policy: `"existing"` switches automatic DDL off.
 *
 * @since 0.1.0
 * @category schema
 */
export const schemaPolicy = (policy: "auto" | "existing"): Layer.Layer<never> =>
  Layer.succeed(SchemaPolicy, policy)

/**
 * Creates the tables of the given models now (under the `"auto"` policy), instead of on
 * first use.
 *
 * @since 0.1.0
 * @category schema
 */
export const migrate = <const M extends ReadonlyArray<Model.Any>>(
  models: M
): Effect.Effect<void, DatabaseError | ConfigurationError, Model.Requirements<M[number]>> =>
  Effect.forEach(models, (m) => core.migrate(defOf(m)), { discard: true }) as Effect.Effect<
    void,
    DatabaseError | ConfigurationError,
    Model.Requirements<M[number]>
  >

export {
  /**
   * Declares a named database instance (see `Instance.Instance`).
   *
   * @since 0.1.0
   * @category instances
   */
  Instance
} from "./Instance.js"

export {
  /**
   * Runs an effect in a transaction of the default `SqlClient` (see `Transaction.transaction`):
   * nested calls are savepoints, `isolation` and a `retry` schedule are options.
   *
   * @since 0.1.0
   * @category transactions
   */
  transaction
} from "./Transaction.js"
