/**
 * `DataFlow.parseUrl` and `DataFlow.layer({ url })`: every supported URL form, and the layer
 * working end to end against each real server. Server tests work in a schema (PostgreSQL) or
 * database (MySQL/MariaDB) private to this run; global teardown drops it.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Config, ConfigError, ConfigProvider, Effect, Layer, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import { DataFlow, Model } from "../src/index.js"
import { mysqlUrl, pgUrl } from "./support/servers.js"

// ---------------------------------------------------------------------------
// parseUrl
// ---------------------------------------------------------------------------

describe("DataFlow.parseUrl", () => {
  it("postgres:// and postgresql:// are PostgreSQL, URL kept as given", () => {
    expect(DataFlow.parseUrl("postgres://u:p@db.example:5432/app")).toEqual({
      _tag: "pg",
      url: "postgres://u:p@db.example:5432/app"
    })
    expect(DataFlow.parseUrl("postgresql://u@db.example/app?sslmode=require")).toEqual({
      _tag: "pg",
      url: "postgresql://u@db.example/app?sslmode=require"
    })
  })

  it("mysql:// is MySQL; mariadb:// becomes mysql://", () => {
    expect(DataFlow.parseUrl("mysql://root@127.0.0.1:3306/test")).toEqual({
      _tag: "mysql",
      url: "mysql://root@127.0.0.1:3306/test"
    })
    expect(DataFlow.parseUrl("mariadb://root:pw@127.0.0.1:3306/test")).toEqual({
      _tag: "mysql",
      url: "mysql://root:pw@127.0.0.1:3306/test"
    })
  })

  it("sqlite:path, sqlite::memory:, file:path, :memory: and a plain path are SQLite", () => {
    expect(DataFlow.parseUrl("sqlite:data/app.db")).toEqual({ _tag: "sqlite", filename: "data/app.db" })
    expect(DataFlow.parseUrl("sqlite:///var/lib/app.db")).toEqual({ _tag: "sqlite", filename: "/var/lib/app.db" })
    expect(DataFlow.parseUrl("sqlite::memory:")).toEqual({ _tag: "sqlite", filename: ":memory:" })
    expect(DataFlow.parseUrl("file:data/app.db")).toEqual({ _tag: "sqlite", filename: "data/app.db" })
    expect(DataFlow.parseUrl("file:///var/lib/app.db")).toEqual({ _tag: "sqlite", filename: "/var/lib/app.db" })
    expect(DataFlow.parseUrl(":memory:")).toEqual({ _tag: "sqlite", filename: ":memory:" })
    expect(DataFlow.parseUrl("data/app.db")).toEqual({ _tag: "sqlite", filename: "data/app.db" })
    expect(DataFlow.parseUrl("/var/lib/app.sqlite")).toEqual({ _tag: "sqlite", filename: "/var/lib/app.sqlite" })
  })

  it("no URL is the embedded default dataflow.sqlite", () => {
    expect(DataFlow.defaultFilename).toBe("dataflow.sqlite")
    expect(DataFlow.parseUrl(undefined)).toEqual({ _tag: "sqlite", filename: "dataflow.sqlite" })
    expect(DataFlow.parseUrl("")).toEqual({ _tag: "sqlite", filename: "dataflow.sqlite" })
  })

  it("an unsupported scheme is undefined", () => {
    expect(DataFlow.parseUrl("mongodb://u:p@h/db")).toBeUndefined()
    expect(DataFlow.parseUrl("mongodb+srv://h/db")).toBeUndefined()
    expect(DataFlow.parseUrl("redis://127.0.0.1:6379")).toBeUndefined()
    expect(DataFlow.parseUrl("mssql://sa@h/db")).toBeUndefined()
  })
})

// ---------------------------------------------------------------------------
// layer
// ---------------------------------------------------------------------------

const dialectOf = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.sync(() =>
    sql.onDialectOrElse({
      pg: () => "pg" as const,
      mysql: () => "mysql" as const,
      sqlite: () => "sqlite" as const,
      orElse: () => "other" as const
    })
  ))

let tableCounter = 0
const makeThing = () =>
  Model.make(
    "Thing",
    Schema.Struct({ id: Schema.Int, label: Schema.String.pipe(Schema.maxLength(50)), size: Schema.NullOr(Schema.Int) }),
    { table: `things_${inject("runId")}_${++tableCounter}`, unique: ["label"] }
  )

/** Every kind of node against a fresh model, through whatever SqlClient is provided. */
const roundTrip = Effect.gen(function*() {
  const Thing = makeThing()
  yield* DataFlow.migrate([Thing])
  const a = yield* Thing.create({ label: "a", size: 1 })
  expect(a.id).toBeTypeOf("number")
  expect(yield* Thing.read(a.id)).toEqual(a)
  expect(yield* Thing.bulkCreate([{ label: "b", size: null }, { label: "c", size: 3 }])).toEqual({ inserted: 2 })
  expect((yield* Thing.update(a.id, { size: 10 })).size).toBe(10)
  expect((yield* Thing.list({ orderBy: ["label"] })).records.map((r) => r.label)).toEqual(["a", "b", "c"])
  expect(yield* Thing.count({ size: null })).toBe(1)
  expect((yield* Effect.flip(Thing.create({ label: "a", size: 2 })))._tag).toBe("UniqueViolation")
  expect(yield* Thing.delete(a.id)).toEqual({ deleted: true })
  expect(yield* Thing.count()).toBe(2)
  return Thing
})

const privateName = (tag: string) => `df_${inject("runId")}_${tag}`

const withDatabase = (url: string, database: string) => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

const withScheme = (url: string, scheme: string) => url.replace(/^[a-z]+:/i, `${scheme}:`)

describe("DataFlow.layer", () => {
  it.effect("an unsupported scheme fails the layer with a ConfigError that does not show the password", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.provide(SqlClient.SqlClient, DataFlow.layer({ url: "mongodb://admin:hunter2pw@db.example/app" }))
      )
      expect(ConfigError.isConfigError(error)).toBe(true)
      if (!ConfigError.isConfigError(error)) return
      expect(error._op).toBe("InvalidData")
      expect(String(error)).toContain("mongodb")
      expect(String(error)).not.toContain("hunter2pw")
    }))

  it.live("sqlite::memory: works end to end", () =>
    Effect.gen(function*() {
      expect(yield* dialectOf).toBe("sqlite")
      yield* roundTrip
    }).pipe(Effect.provide(DataFlow.layer({ url: "sqlite::memory:" }))))

  it.live(":memory: works end to end", () =>
    Effect.gen(function*() {
      expect(yield* dialectOf).toBe("sqlite")
      yield* roundTrip
    }).pipe(Effect.provide(DataFlow.layer({ url: ":memory:" }))))

  it.live("sqlite:<path>, file:<path> and a plain path open the same file", () => {
    const file = join(tmpdir(), `dataflow-layer-${randomBytes(6).toString("hex")}.sqlite`)
    return Effect.gen(function*() {
      const Thing = yield* roundTrip.pipe(Effect.provide(DataFlow.layer({ url: `sqlite:${file}` })))
      const viaFile = yield* Thing.count().pipe(Effect.provide(DataFlow.layer({ url: `file:${file}` })))
      expect(viaFile).toBe(2)
      const viaPath = yield* Thing.list({ orderBy: ["label"] }).pipe(Effect.provide(DataFlow.layer({ url: file })))
      expect(viaPath.records.map((r) => r.label)).toEqual(["b", "c"])
    }).pipe(
      Effect.ensuring(Effect.sync(() => {
        for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${file}${suffix}`, { force: true })
      }))
    )
  })

  it.live("layerConfig reads the URL from configuration", () =>
    Effect.gen(function*() {
      expect(yield* dialectOf).toBe("sqlite")
      yield* roundTrip
    }).pipe(
      Effect.provide(
        DataFlow.layerConfig({ url: Config.string("DATABASE_URL") }).pipe(
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"]]))))
        )
      )
    ))

  it.live.skipIf(!inject("pgAvailable"))("postgres:// and postgresql:// work end to end against PostgreSQL", () =>
    Effect.gen(function*() {
      const schema = privateName("layer_pg")
      // the URL exactly as a user would write it, to create the private schema
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)).pipe(
        Effect.provide(DataFlow.layer({ url: pgUrl }))
      )
      const u = new URL(pgUrl)
      u.searchParams.set("options", `-c search_path=${schema}`)
      for (const scheme of ["postgres", "postgresql"]) {
        const Thing = yield* Effect.gen(function*() {
          expect(yield* dialectOf).toBe("pg")
          const Thing = yield* roundTrip
          // the table went into the private schema, not into public
          const sql = yield* SqlClient.SqlClient
          const where = yield* sql<{ schema: string }>`SELECT table_schema AS schema FROM information_schema.tables
            WHERE table_name = ${Thing.table}`
          expect(where.map((r) => r.schema)).toEqual([schema])
          return Thing
        }).pipe(Effect.provide(DataFlow.layer({ url: withScheme(u.toString(), scheme) })))
        expect(Thing.table).toContain(inject("runId"))
      }
    }))

  it.live.skipIf(!inject("mysqlAvailable"))("mysql:// and mariadb:// work end to end against MySQL/MariaDB", () =>
    Effect.gen(function*() {
      const database = privateName("layer_my")
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE DATABASE IF NOT EXISTS \`${database}\``))
        .pipe(Effect.provide(DataFlow.layer({ url: mysqlUrl })))
      for (const scheme of ["mysql", "mariadb"]) {
        yield* Effect.gen(function*() {
          expect(yield* dialectOf).toBe("mysql")
          const sql = yield* SqlClient.SqlClient
          const current = yield* sql<{ db: string }>`SELECT DATABASE() AS db`
          expect(current[0]?.db).toBe(database)
          yield* roundTrip
        }).pipe(Effect.provide(DataFlow.layer({ url: withScheme(withDatabase(mysqlUrl, database), scheme) })))
      }
    }))
})
