/**
 * The library's own clients from a URL: which driver, loaded only when a URL asks for it.
 * (Internal module: not part of the public API.)
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { ConfigError, Duration } from "effect"
import { ConfigError as CE, Effect, Layer } from "effect"
import { DriverNotInstalled } from "../../Errors.js"
import type { ClientExecutor } from "./executor.js"

/** Options of `DataFlow.layer` (re-exported there as `LayerOptions`). */
export interface LayerOptions {
  /**
   * Where the database is: `postgres://…` / `postgresql://…`, `mysql://…` / `mariadb://…`,
   * `sqlite:<path>`, `sqlite::memory:`, `file:<path>`, `:memory:`, or a plain file path. Absent:
   * the embedded SQLite file `dataflow.sqlite`.
   */
  readonly url?: string | undefined
  /**
   * The PostgreSQL schema / MySQL database the models' tables live in (statements name it),
   * created on first use under the `"auto"` schema policy. Letters, digits, `_`, `$` and `-`,
   * at most 63 characters. Not on SQLite (a `ConfigurationError` on first use). Tenant schemas
   * (the `"schema"` strategy) take its place for tenant-scoped models.
   */
  readonly schema?: string | undefined
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

/** Where a URL points (re-exported by `DataFlow`). */
export type Target =
  | { readonly _tag: "sqlite"; readonly filename: string }
  | { readonly _tag: "pg"; readonly url: string }
  | { readonly _tag: "mysql"; readonly url: string }

/** The embedded SQLite file used when no URL is given. @internal */
export const defaultFilename = "dataflow.sqlite"

/** Where a URL points (see `DataFlow.parseUrl`). @internal */
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

/** A layer of the library's own client for a URL (see `DataFlow.layer`). @internal */
export const fromUrl = (
  options: LayerOptions = {}
): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError | ConfigError.ConfigError | DriverNotInstalled> => {
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

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")
