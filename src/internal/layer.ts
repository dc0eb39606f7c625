/**
 * Database layers from URLs.
 * (Internal module: not part of the public API.)
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { ConfigError } from "effect"
import type { Config, Duration } from "effect"
import { ConfigError as CE, Effect, Layer } from "effect"
import { DriverNotInstalled } from "../Errors.js"

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
/**
 * Options of `DataFlow.layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Where the database is (see {@link parseUrl}); the embedded SQLite file when absent. */
  readonly url?: string | undefined
  /** The connection pool of PostgreSQL and MySQL (SQLite has one connection). */
  readonly pool?: {
    /** Connections at most (default 10). */
    readonly max?: number | undefined
    /**
     * Longest wait for a free connection: a statement or transaction that waits longer fails
     * with a retryable `DatabaseError` (default: no limit). The wait is always interruptible.
     */
    readonly acquireTimeout?: Duration.DurationInput | undefined
  } | undefined
  /** SQLite settings. */
  readonly sqlite?: {
    /**
     * How long a statement waits for a lock another connection (another process) holds before
     * it fails with a retryable `DatabaseError` (SQLITE_BUSY); default 5 seconds. The wait
     * sleeps between attempts: timers, other fibers and interruption go on meanwhile.
     */
    readonly busyTimeout?: Duration.DurationInput | undefined
  } | undefined
}

export const fromUrl = (
  options: Options = {}
): Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError | DriverNotInstalled> => {
  const target = parseUrl(options.url)
  if (target === undefined) {
    return Layer.fail(
      CE.InvalidData([], `unsupported database URL scheme in ${JSON.stringify(redactUrl(options.url ?? ""))}`)
    )
  }
  const pool = { maxConnections: options.pool?.max, acquireTimeout: options.pool?.acquireTimeout }
  // each driver is loaded only when a URL asks for it: an application installs the drivers
  // of the databases it uses, nothing else
  switch (target._tag) {
    case "pg":
      return Layer.unwrapEffect(
        Effect.map(load("PostgreSQL", ["pg", "@effect/sql-pg"], () => import("./pg.js")), (m) => m.layer({ url: target.url, ...pool }))
      )
    case "mysql":
      return Layer.unwrapEffect(
        Effect.map(load("MySQL", ["mysql2"], () => import("./mysql.js")), (m) => m.layer({ url: target.url, ...pool }))
      )
    case "sqlite":
      return Layer.unwrapEffect(
        Effect.map(
          load("SQLite", ["better-sqlite3"], () => import("./sqlite.js")),
          (m) => m.layer({ filename: target.filename, busyTimeout: options.sqlite?.busyTimeout })
        )
      )
  }
}

/**
 * Imports the module of a driver; a driver package that is not installed (or whose native
 * part failed to build) is a `DriverNotInstalled` naming what to install.
 */
const load = <M>(database: string, packages: ReadonlyArray<string>, module: () => Promise<M>) =>
  Effect.tryPromise({
    try: module,
    catch: (cause) => new DriverNotInstalled({ database, packages: [...packages], cause })
  })

/**
 * {@link layer} with the URL read from configuration (for example `Config.string("DATABASE_URL")`).
 *
 * @since 0.1.0
 * @category layers
 */
export const fromConfig = (
  url: Config.Config<string | undefined>
): Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError | DriverNotInstalled> =>
  Layer.unwrapEffect(Effect.map(url, (u) => fromUrl({ url: u })))

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")

