/**
 * The library's own clients from a URL: which driver, loaded only when a URL asks for it.
 * (Internal module: not part of the public API.)
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { ConfigError, Duration } from "effect"
import { ConfigError as CE, Effect, Layer } from "effect"
import { DatabaseError, DriverNotInstalled } from "../../Errors.js"
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
    /** How long an unused connection stays open before it is closed (default: the driver's, 10 s for `pg`, 60 s for `mysql2`). */
    readonly idleTimeout?: Duration.DurationInput | undefined
    /**
     * Longest wait for the server to accept a new connection, and for the layer's first answer
     * (default 5 seconds); the layer fails when it is exceeded.
     */
    readonly connectTimeout?: Duration.DurationInput | undefined
  } | undefined
  /**
   * TLS to the server (PostgreSQL, MySQL): `true` (verify the certificate against the system's
   * authorities), or the certificate settings. Default: as the URL says (`?sslmode=` on PostgreSQL).
   */
  readonly ssl?: boolean | SslOptions | undefined
  /**
   * Longest a single statement may run on the server before the server cancels it (PostgreSQL
   * `statement_timeout`, MariaDB `max_statement_time`, MySQL `max_execution_time`, which bounds
   * SELECTs only); the node fails with a `DatabaseError`. SQLite has none. Default: no limit.
   */
  readonly statementTimeout?: Duration.DurationInput | undefined
  /**
   * The name the connections give the server (PostgreSQL `application_name`, MySQL's
   * `program_name` connection attribute); default `effect-dataflow`.
   */
  readonly applicationName?: string | undefined
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

/** TLS settings (re-exported by `DataFlow`). */
export interface SslOptions {
  /** Refuse a certificate the authorities do not vouch for (default true). */
  readonly rejectUnauthorized?: boolean | undefined
  /** PEM text of the certificate authorities to trust. */
  readonly ca?: string | undefined
  /** PEM text of a client certificate and its key. */
  readonly cert?: string | undefined
  readonly key?: string | undefined
}

/** TLS settings without the absent ones, as the drivers take them. @internal */
export const tlsOf = (ssl: SslOptions): { rejectUnauthorized?: boolean; ca?: string; cert?: string; key?: string } => {
  const out: { rejectUnauthorized?: boolean; ca?: string; cert?: string; key?: string } = {}
  if (ssl.rejectUnauthorized !== undefined) out.rejectUnauthorized = ssl.rejectUnauthorized
  if (ssl.ca !== undefined) out.ca = ssl.ca
  if (ssl.cert !== undefined) out.cert = ssl.cert
  if (ssl.key !== undefined) out.key = ssl.key
  return out
}

/** What the PostgreSQL and MySQL clients are given. @internal */
export interface ServerOptions {
  readonly url: string
  readonly maxConnections?: number | undefined
  readonly acquireTimeout?: Duration.DurationInput | undefined
  readonly idleTimeout?: Duration.DurationInput | undefined
  readonly connectTimeout?: Duration.DurationInput | undefined
  readonly ssl?: boolean | SslOptions | undefined
  readonly statementTimeout?: Duration.DurationInput | undefined
  readonly applicationName?: string | undefined
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

/**
 * The URL of the same server whose tables live in the schema (PostgreSQL, through
 * `search_path`) or database (MySQL) `name`; undefined for SQLite, which has none.
 * @internal
 */
export const urlInNamespace = (url: string, name: string): string | undefined => {
  const target = parseUrl(url)
  if (target === undefined || target._tag === "sqlite") return undefined
  const u = new URL(target.url)
  if (target._tag === "pg") u.searchParams.set("options", `-c search_path=${name}`)
  else u.pathname = `/${name}`
  return u.toString()
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
  const pool = {
    maxConnections: options.pool?.max,
    acquireTimeout: options.pool?.acquireTimeout,
    idleTimeout: options.pool?.idleTimeout,
    connectTimeout: options.pool?.connectTimeout,
    ssl: options.ssl,
    statementTimeout: options.statementTimeout,
    applicationName: options.applicationName
  }
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

/** `SELECT 1` on the default client, bounded: see `DataFlow.ping`. @internal */
export const ping = (timeout: Duration.DurationInput): Effect.Effect<void, DatabaseError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe("SELECT 1")).pipe(
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error("no answer in time") }),
    Effect.mapError((cause) =>
      new DatabaseError({ model: "DataFlow", operation: "ping", retryable: true, cause })
    ),
    Effect.asVoid
  )

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")
