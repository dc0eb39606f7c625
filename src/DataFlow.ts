/**
 * Zero-config wiring: a database layer from a URL, eager table creation, the schema policy,
 * and transactions over any composition of nodes.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { ConfigError } from "effect"
import { Config, ConfigError as CE, Effect, Layer, Redacted } from "effect"
import type { DatabaseError } from "./Errors.js"
import { SchemaPolicy } from "./internal/client.js"
import * as core from "./internal/core.js"
import type * as Model from "./Model.js"
import { defOf } from "./Model.js"

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
export const defaultFilename = "dataflow.sqlite"

/**
 * Where a URL points.
 *
 * @since 0.1.0
 * @category models
 */
export type Target =
  | { readonly _tag: "sqlite"; readonly filename: string }
  | { readonly _tag: "pg"; readonly url: string }
  | { readonly _tag: "mysql"; readonly url: string }

/**
 * Reads a connection URL: `postgres://…` / `postgresql://…`, `mysql://…` / `mariadb://…`,
 * `sqlite:<path>`, `sqlite::memory:`, `file:<path>`, `:memory:`, or a plain file path.
 * `undefined` is the embedded default.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseUrl = (url: string | undefined): Target | undefined => {
  if (url === undefined || url === "") return { _tag: "sqlite", filename: defaultFilename }
  if (/^postgres(ql)?:\/\//i.test(url)) return { _tag: "pg", url }
  if (/^mysql:\/\//i.test(url)) return { _tag: "mysql", url }
  if (/^mariadb:\/\//i.test(url)) return { _tag: "mysql", url: url.replace(/^mariadb:/i, "mysql:") }
  if (/^sqlite:/i.test(url)) {
    const rest = url.slice("sqlite:".length).replace(/^\/\//, "")
    return { _tag: "sqlite", filename: rest === "" ? defaultFilename : rest }
  }
  if (/^file:/i.test(url)) return { _tag: "sqlite", filename: url.slice("file:".length).replace(/^\/\//, "") }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined
  return { _tag: "sqlite", filename: url }
}

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
export const layer = (
  options: { readonly url?: string | undefined } = {}
): Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError> => {
  const target = parseUrl(options.url)
  if (target === undefined) {
    return Layer.fail(
      CE.InvalidData([], `unsupported database URL scheme in ${JSON.stringify(redactUrl(options.url ?? ""))}`)
    )
  }
  const generic = <E>(driver: Layer.Layer<SqlClient.SqlClient, E>) =>
    Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient).pipe(Layer.provide(driver))
  switch (target._tag) {
    case "pg":
      return generic(PgClient.layer({ url: Redacted.make(target.url) }))
    case "mysql":
      return generic(MysqlClient.layer({ url: Redacted.make(target.url) }))
    case "sqlite":
      return generic(SqliteClient.layer({ filename: target.filename }))
  }
}

/**
 * {@link layer} with the URL read from configuration (for example `Config.string("DATABASE_URL")`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  url: Config.Config<string | undefined>
): Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(url, (u) => layer({ url: u })))

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")

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
export const migrate = (
  models: ReadonlyArray<Model.Any>
): Effect.Effect<void, DatabaseError, SqlClient.SqlClient> =>
  Effect.forEach(models, (m) => core.migrate(defOf(m)), { discard: true })

/**
 * Runs an effect in a transaction: every node inside, of any model, joins it. Nested calls
 * are savepoints: an inner failure rolls back only the inner work.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DataFlow } from "effect-dataflow"
 *
 * declare const transfer: Effect.Effect<void>
 * const atomic = transfer.pipe(DataFlow.transaction)
 * ```
 *
 * @since 0.1.0
 * @category transactions
 */
export const transaction = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError, R | SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.withTransaction(self))

