/**
 * The library's own clients from a URL: which driver, loaded only when a URL asks for it.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as CE from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
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
  /**
   * PostgreSQL behind a connection pooler in transaction mode (PgBouncer's `pool_mode =
   * transaction`, most managed poolers): `"transaction"` sends no named prepared statements and
   * keeps no session state outside a transaction (a pooler gives each transaction whichever
   * server connection is free). Also from the URL: `?pooler=transaction` (or Prisma's
   * `?pgbouncer=true`). An interrupted statement is then not cancelled on the server (the client
   * cannot name the server connection it runs on): bound statements with the server's or the
   * pooler's own timeout (`ALTER ROLE … SET statement_timeout`, PgBouncer's `query_timeout`);
   * `statementTimeout` is refused with this option (a pooler refuses the startup parameter).
   * PostgreSQL only. See docs/scaling.md.
   */
  readonly pooler?: "transaction" | undefined
  /**
   * Read replicas (URLs of the same database kind, PostgreSQL or MySQL), each with a pool of
   * the same options: reads outside a transaction (`read`, `find`, `list`, `count`, `exists`,
   * `stream`, …) go to them in turn; writes, everything in a transaction, and reads under
   * `DataFlow.primary` go to `url`. A replica that does not answer the health check is left out
   * until it does (reads fall back to the primary when none answers). Replicas lag: read your
   * own writes with `DataFlow.primary`. See docs/scaling.md.
   */
  readonly replicas?: ReadonlyArray<string> | undefined
  /** How often each replica is checked, and how long it may take to answer (default 1 s and 1 s). */
  readonly replicaCheck?: {
    readonly interval?: Duration.DurationInput | undefined
    readonly timeout?: Duration.DurationInput | undefined
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
  /** Behind a transaction-mode pooler: no named statements, no session state (PostgreSQL). */
  readonly pooler?: "transaction" | undefined
}

/**
 * The pooler a PostgreSQL URL asks for (`?pooler=transaction`, `?pgbouncer=true`), and the URL
 * without those parameters (the driver would send them to the server). @internal
 */
export const poolerOfUrl = (url: string): { readonly url: string; readonly pooler: "transaction" | undefined; readonly invalid?: string } => {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return { url, pooler: undefined }
  }
  const pooler = u.searchParams.get("pooler")
  const pgbouncer = u.searchParams.get("pgbouncer")
  if (pooler === null && pgbouncer === null) return { url, pooler: undefined }
  u.searchParams.delete("pooler")
  u.searchParams.delete("pgbouncer")
  const rest = u.toString()
  if (pooler !== null && pooler !== "transaction") return { url: rest, pooler: undefined, invalid: `pooler=${pooler}` }
  if (pgbouncer !== null && pgbouncer !== "true" && pgbouncer !== "false") {
    return { url: rest, pooler: undefined, invalid: `pgbouncer=${pgbouncer}` }
  }
  return { url: rest, pooler: pooler === "transaction" || pgbouncer === "true" ? "transaction" : undefined }
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
  if (options.pooler !== undefined && options.pooler !== "transaction") {
    return Layer.fail(CE.InvalidData(["pooler"], `pooler must be "transaction", not ${JSON.stringify(options.pooler)}`))
  }
  const pgUrl = target._tag === "pg" ? poolerOfUrl(target.url) : undefined
  if (pgUrl?.invalid !== undefined) {
    return Layer.fail(CE.InvalidData(["url"], `${pgUrl.invalid} in the URL: expected pooler=transaction or pgbouncer=true`))
  }
  const pooler = options.pooler ?? pgUrl?.pooler
  if (pooler !== undefined && target._tag !== "pg") {
    return Layer.fail(CE.InvalidData(["pooler"], `pooler: "transaction" is for PostgreSQL URLs (this one is ${target._tag === "mysql" ? "MySQL" : "SQLite"})`))
  }
  if (pooler !== undefined && options.statementTimeout !== undefined) {
    return Layer.fail(
      CE.InvalidData(
        ["statementTimeout"],
        "statementTimeout cannot be sent through a transaction-mode pooler (it refuses the startup parameter): set it on the server (ALTER ROLE … SET statement_timeout) or the pooler (PgBouncer's query_timeout)"
      )
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
        Effect.map(load("PostgreSQL", ["pg", "@effect/sql-pg"], () => import("./pg.js")), (m) => m.layer({ url: pgUrl?.url ?? target.url, ...pool, pooler }))
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
