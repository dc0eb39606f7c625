/**
 * Database layers from URLs.
 * @internal
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { MysqlClient } from "@effect/sql-mysql2"
import * as Pg from "./pg.js"
import * as Sqlite from "./sqlite.js"
import type { ConfigError } from "effect"
import type { Config } from "effect"
import { ConfigError as CE, Effect, Layer, Redacted } from "effect"

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
  // any other scheme (or a known one without "//", a likely typo) is refused rather than
  // read as a file name; a single letter before ":" is a Windows drive
  if (/^[a-z][a-z0-9+.-]+:/i.test(url)) return undefined
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
export const fromUrl = (
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
      return Pg.layer({ url: target.url })
    case "mysql":
      return generic(MysqlClient.layer({ url: Redacted.make(target.url) }))
    case "sqlite":
      return Sqlite.layer({ filename: target.filename })
  }
}

/**
 * {@link layer} with the URL read from configuration (for example `Config.string("DATABASE_URL")`).
 *
 * @since 0.1.0
 * @category layers
 */
export const fromConfig = (
  url: Config.Config<string | undefined>
): Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(url, (u) => fromUrl({ url: u })))

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")

