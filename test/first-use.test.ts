/**
 * First use on a new client (what a process pays at start): one catalog read of a schema
 * serves the first uses of every model on it (counted from the statements' spans), a table
 * changed after that read is read again, tenants' schemas are read once each, and concurrent
 * first uses of a cycle of foreign keys from several clients (as several processes would) on
 * PostgreSQL and MariaDB create it once, without a deadlock.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Layer } from "effect"
import { Effect, Redacted, Schema } from "effect"
import { afterAll, inject } from "vitest"
import { DataFlow, Dialect, Model, Relation, Tenant } from "../src/index.js"
import type { DbName } from "./support/db.js"
import { privateUrl, uniqueTable } from "./support/db.js"
import { recordingTracer } from "./support/tracer.js"

type Client = "library" | "@effect/sql"

const dialects = { sqlite: Dialect.sqlite, pg: Dialect.pg, mysql: Dialect.mysql }

const dir = mkdtempSync(join(tmpdir(), "df-first-use-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A place of its own (SQLite file, PostgreSQL schema, MySQL database) that every client opened on it shares. */
const place = (db: DbName, tag: string): Effect.Effect<string> =>
  db === "sqlite" ? Effect.succeed(join(dir, `${tag}.sqlite`)) : privateUrl(db, `first_use_${tag}`)

/** A new client on a place: each has its own first-use state, as a new process would. */
const client = (db: DbName, kind: Client, url: string): Layer.Layer<SqlClient.SqlClient, unknown> => {
  if (kind === "library") return DataFlow.layer({ url })
  const driver = db === "sqlite"
    ? SqliteClient.layer({ filename: url })
    : db === "pg"
    ? PgClient.layer({ url: Redacted.make(url), maxConnections: 4 })
    : MysqlClient.layer({ url: Redacted.make(url), maxConnections: 4 })
  return driver
}

const models = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    Model.make(`M${i}`, Schema.Struct({ id: Schema.Int, name: Schema.String, score: Schema.NullOr(Schema.Number) }), {
      table: uniqueTable(`fu_m${i}`)
    }))

/** Runs `self` on a new client with a recording tracer; the texts of the statements it ran. */
const traced = <A, E>(db: DbName, kind: Client, url: string, self: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.gen(function*() {
    const { tracer, spans } = recordingTracer()
    const value = yield* self.pipe(Effect.withTracer(tracer), Effect.provide(client(db, kind, url)), Effect.scoped)
    const texts = spans.filter((s) => s.name === "sql.execute").map((s) => String(s.attributes.get("db.query.text")))
    return { value, texts }
  })

/** The statements that read a schema's (or a table's) columns from the catalog. */
const columnReads = (db: DbName, texts: ReadonlyArray<string>) => {
  const catalog = dialects[db].catalog.columns(undefined, undefined).text
  return texts.filter((t) => t === catalog).length
}
const creates = (texts: ReadonlyArray<string>) => texts.filter((t) => /^CREATE TABLE/i.test(t)).length

const available = (db: DbName) => db === "sqlite" || (db === "pg" ? inject("pgAvailable") : inject("mysqlAvailable"))

for (const db of ["sqlite", "pg", "mysql"] as const) {
  for (const kind of ["library", "@effect/sql"] as const) {
    describe.skipIf(!available(db))(`first use [${db}, ${kind}]`, () => {
      it.live("a read on each of 12 models of a ready schema: one catalog read, no DDL", () =>
        Effect.gen(function*() {
          const url = yield* place(db, `ready_${kind === "library" ? "lib" : "sql"}`)
          const all = models(12)
          yield* DataFlow.migrate(all).pipe(Effect.provide(client(db, kind, url)), Effect.scoped, Effect.orDie)
          // one after the other, then all at once under the "existing" policy, each on a new client
          const sequential = yield* traced(db, kind, url, Effect.forEach(all, (m) => m.count()))
          expect(sequential.value).toEqual(all.map(() => 0))
          expect(columnReads(db, sequential.texts)).toBe(1)
          expect(creates(sequential.texts)).toBe(0)
          const concurrent = yield* traced(
            db,
            kind,
            url,
            Effect.forEach(all, (m) => m.count(), { concurrency: "unbounded" }).pipe(Effect.provide(DataFlow.schemaPolicy("existing")))
          )
          expect(concurrent.value).toEqual(all.map(() => 0))
          expect(columnReads(db, concurrent.texts)).toBe(1)
        }).pipe(Effect.orDie))

      it.live("missing tables: one catalog read, then each table created (and read again) under the DDL lock", () =>
        Effect.gen(function*() {
          const url = yield* place(db, `missing_${kind === "library" ? "lib" : "sql"}`)
          const all = models(5)
          const { texts, value } = yield* traced(db, kind, url, Effect.forEach(all, (m) => m.count()))
          expect(value).toEqual([0, 0, 0, 0, 0])
          expect(creates(texts)).toBe(5)
          expect(columnReads(db, texts)).toBe(1 + 5)
        }).pipe(Effect.orDie))

      it.live("a table changed after the catalog read: a second model of it reads it again", () =>
        Effect.gen(function*() {
          const url = yield* place(db, `changed_${kind === "library" ? "lib" : "sql"}`)
          const table = uniqueTable("fu_changed")
          const fields = Schema.Struct({ id: Schema.Int, name: Schema.String, note: Schema.NullOr(Schema.String) })
          const V1 = Model.make("V1", fields, { table })
          const V2 = Model.make("V2", fields, { table })
          yield* DataFlow.migrate([V1]).pipe(Effect.provide(client(db, kind, url)), Effect.scoped)
          const outcome = yield* Effect.gen(function*() {
            expect(yield* V1.count()).toBe(0)
            const sql = yield* SqlClient.SqlClient
            const q = dialects[db].quote
            yield* sql.unsafe(`ALTER TABLE ${q(table)} DROP COLUMN ${q("note")}`)
            return yield* Effect.flip(V2.count().pipe(Effect.provide(DataFlow.schemaPolicy("existing"))))
          }).pipe(Effect.provide(client(db, kind, url)), Effect.scoped)
          expect(outcome._tag).toBe("SchemaMismatch")
        }).pipe(Effect.orDie))
    })
  }
}

describe.each(["pg", "mysql"] as const)("first use, tenants [%s]", (db) => {
  it.live.skipIf(!available(db))("the schema strategy: one catalog read per tenant's schema", () =>
    Effect.gen(function*() {
      const url = yield* place(db, "tenants")
      const all = Array.from({ length: 4 }, (_, i) =>
        Model.make(`T${i}`, Schema.Struct({ id: Schema.Int, name: Schema.String }), { table: uniqueTable(`fu_t${i}`), tenantScoped: true }))
      const tenants = ["a", "b"].map((t) => `df_${inject("runId")}_fu_${db}_${t}`)
      const touch = Effect.forEach(tenants, (tenant) => Effect.forEach(all, (m) => m.count()).pipe(Tenant.with(tenant)), {
        concurrency: "unbounded"
      }).pipe(Effect.provide(Tenant.strategy("schema")))
      const first = yield* traced(db, "library", url, touch)
      expect(first.value).toEqual([[0, 0, 0, 0], [0, 0, 0, 0]])
      expect(creates(first.texts)).toBe(8)
      const again = yield* traced(db, "library", url, touch)
      expect(columnReads(db, again.texts)).toBe(2)
      expect(creates(again.texts)).toBe(0)
    }).pipe(Effect.orDie))
})

/** A cycle of two tables (each refers to the other), new names every call. */
const cycle = () => {
  const Author = Model.make("Author", Schema.Struct({ id: Schema.Int, name: Schema.String, bookId: Schema.NullOr(Schema.Int) }), {
    table: uniqueTable("fu_authors"),
    timestamps: false,
    relations: {
      book: Model.belongsTo((): Relation.Target<{ readonly id: number; readonly title: string }> => Book, {
        foreignKey: "bookId",
        onDelete: "setNull"
      })
    }
  })
  const Book = Model.make("Book", Schema.Struct({ id: Schema.Int, title: Schema.String, authorId: Schema.Int }), {
    table: uniqueTable("fu_books"),
    timestamps: false,
    relations: {
      author: Model.belongsTo((): Relation.Target<{ readonly id: number; readonly name: string }> => Author, {
        foreignKey: "authorId",
        onDelete: "cascade"
      })
    }
  })
  return [Author, Book] as const
}

describe.each(["pg", "mysql"] as const)("first use, concurrent clients [%s]", (db) => {
  it.live.skipIf(!available(db))(
    "first uses of a cycle's models from four clients at once: created once, both constraints, no deadlock",
    () =>
      Effect.gen(function*() {
        const url = yield* place(db, "cycle")
        for (let round = 0; round < 4; round++) {
          const [Author, Book] = cycle()
          const onClient = (i: number) =>
            Effect.all([Author.count(), Book.count()], { concurrency: "unbounded" }).pipe(
              Effect.provide(client(db, i % 2 === 0 ? "library" : "@effect/sql", url)),
              Effect.scoped
            )
          const counts = yield* Effect.forEach([0, 1, 2, 3], onClient, { concurrency: "unbounded" })
          expect(counts).toEqual([[0, 0], [0, 0], [0, 0], [0, 0]])
          const names = yield* Effect.gen(function*() {
            const sql = yield* SqlClient.SqlClient
            const rows = db === "pg"
              ? yield* sql.unsafe<{ name: string }>(
                `SELECT conname AS name FROM pg_constraint WHERE contype = 'f' AND conrelid IN (to_regclass('"${Author.table}"'), to_regclass('"${Book.table}"'))`
              )
              : yield* sql.unsafe<{ name: string }>(
                `SELECT CONSTRAINT_NAME AS name FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME IN ('${Author.table}', '${Book.table}')`
              )
            return rows.map((r) => r.name)
          }).pipe(Effect.provide(client(db, "library", url)), Effect.scoped)
          expect(names).toHaveLength(2)
        }
      }).pipe(Effect.orDie),
    120_000
  )
})
