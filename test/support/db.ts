/**
 * The three databases every suite runs against, each as an `@effect/sql` layer on a schema
 * (PostgreSQL) or database (MySQL) private to this run and test file.
 */
import type { Vitest } from "@effect/vitest"
import { layer as effectLayer } from "@effect/vitest"
import type { SqlError } from "@effect/sql"
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { ConfigError } from "effect"
import { Effect, Layer, Redacted } from "effect"
import { describe, inject, it } from "vitest"
import { DataFlow } from "../../src/index.js"
import * as Testing from "../../src/testing/Testing.js"
import type { DriverNotInstalled } from "../../src/Errors.js"
import { mysqlUrl, pgUrl } from "./servers.js"

export type DbName = "sqlite" | "pg" | "mysql"

export interface TestDb {
  readonly name: DbName
  /** The suite label: the database, and the client when it is not the default one. */
  readonly label: string
  readonly available: boolean
  /** A fresh client on a private schema/database named after the run and `tag`. */
  readonly layer: (tag: string) => Layer.Layer<SqlClient.SqlClient, LayerError>
}

type LayerError = SqlError.SqlError | ConfigError.ConfigError | DriverNotInstalled

const privateName = (tag: string) => `df_${inject("runId")}_${tag.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`

const generic = <E>(driver: Layer.Layer<SqlClient.SqlClient, E>) =>
  Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient).pipe(Layer.provide(driver))

/** SQLite through the library's own client (what `DataFlow.layer` opens). */
export const sqlite: TestDb = {
  name: "sqlite",
  label: "sqlite",
  available: true,
  layer: () => DataFlow.layer({ url: "sqlite::memory:" })
}

/** SQLite through `@effect/sql-sqlite-node`'s client: any `@effect/sql` client must work. */
export const sqliteNode: TestDb = {
  name: "sqlite",
  label: "sqlite, @effect/sql-sqlite-node",
  available: true,
  layer: () => generic(SqliteClient.layer({ filename: ":memory:" }))
}

/**
 * A layer on this run's schema (PostgreSQL) / database (MySQL) named after `tag` (and
 * `variant`: each client has its own tables), from a URL to a client layer; the kit's
 * `Testing.isolatedUrl` creates it (the global teardown drops the run's schemas).
 */
const isolatedOn = (
  server: string,
  variant: string,
  client: (url: string) => Layer.Layer<SqlClient.SqlClient, LayerError>
) =>
(tag: string) => Layer.unwrapEffect(Effect.map(Testing.isolatedUrl(server, privateName(`${tag}${variant}`)), client))

const pgOn = (variant: string, client: (url: string) => Layer.Layer<SqlClient.SqlClient, LayerError>) =>
  isolatedOn(pgUrl, variant, client)

/** PostgreSQL through the library's own client (what `DataFlow.layer` opens: prepared statements). */
export const pg: TestDb = {
  name: "pg",
  label: "pg",
  get available() {
    return inject("pgAvailable")
  },
  layer: pgOn("", (url) => DataFlow.layer({ url }))
}

/** PostgreSQL through `PgClient.layer`: any `@effect/sql` client must work. */
export const pgClient: TestDb = {
  name: "pg",
  label: "pg, PgClient.layer",
  get available() {
    return inject("pgAvailable")
  },
  layer: pgOn("_pgclient", (url) => generic(PgClient.layer({ url: Redacted.make(url), maxConnections: 8 })))
}

const mysqlOn = (variant: string, client: (url: string) => Layer.Layer<SqlClient.SqlClient, LayerError>) =>
  isolatedOn(mysqlUrl, variant, client)

/** MySQL/MariaDB through the library's own client (what `DataFlow.layer` opens). */
export const mysql: TestDb = {
  name: "mysql",
  label: "mysql",
  get available() {
    return inject("mysqlAvailable")
  },
  layer: mysqlOn("", (url) => DataFlow.layer({ url }))
}

/** MySQL/MariaDB through `MysqlClient.layer`: any `@effect/sql` client must work. */
export const mysqlClient: TestDb = {
  name: "mysql",
  label: "mysql, MysqlClient.layer",
  get available() {
    return inject("mysqlAvailable")
  },
  layer: mysqlOn("_mysqlclient", (url) => generic(MysqlClient.layer({ url: Redacted.make(url), maxConnections: 8 })))
}

export const databases: ReadonlyArray<TestDb> = [sqlite, sqliteNode, pg, pgClient, mysql, mysqlClient]

/**
 * Runs the same suite against every database, each on its own schema/database. A server
 * that is not reachable outside CI skips its suite (global setup already failed the run
 * under CI=true).
 */
export const forEachDatabase = (
  suite: string,
  body: (it: Vitest.MethodsNonLive<SqlClient.SqlClient>, db: TestDb) => void
) => {
  for (const db of databases) {
    if (!db.available) {
      // only outside CI: under CI=true the global setup has already failed the run
      describe.skipIf(true)(`${suite} [${db.label}] (server not reachable)`, () => {
        it(`needs ${db.name}`, () => {})
      })
      continue
    }
    effectLayer(db.layer(suite), { timeout: 60_000 })(`${suite} [${db.label}]`, (it) => body(it, db))
  }
}

/**
 * A URL to this run's private schema (PostgreSQL, through `search_path`) or database (MySQL)
 * named after `tag`, created first: for tests that open clients of their own (`DataFlow.layer`
 * with pool options, raw drivers).
 */
export const privateUrl = (name: "pg" | "mysql", tag: string): Effect.Effect<string> =>
  Effect.orDie(Testing.isolatedUrl(name === "pg" ? pgUrl : mysqlUrl, privateName(tag)))

let counter = 0
/** A table name no other test in this file uses. */
export const uniqueTable = (base: string) => `${base}_${++counter}`
