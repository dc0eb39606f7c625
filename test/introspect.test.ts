import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Introspect, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

/** A table written by hand, in each database's own SQL, with types the library does not create itself. */
const handMade = (name: "sqlite" | "pg" | "mysql", table: string, parent: string) => {
  switch (name) {
    case "sqlite":
      return [
        `CREATE TABLE ${parent} (id INTEGER PRIMARY KEY)`,
        `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL, score REAL DEFAULT 1.5,
          active BOOLEAN NOT NULL DEFAULT 1, born DATE, parent_id INTEGER REFERENCES ${parent}(id),
          CONSTRAINT uq_email UNIQUE (email))`,
        `CREATE INDEX ix_${table}_born ON ${table} (born, score)`
      ]
    case "pg":
      return [
        `CREATE TABLE ${parent} (id SERIAL PRIMARY KEY)`,
        `CREATE TABLE ${table} (id SERIAL PRIMARY KEY, email VARCHAR(80) NOT NULL, score DOUBLE PRECISION DEFAULT 1.5,
          active BOOLEAN NOT NULL DEFAULT true, born DATE, parent_id INTEGER REFERENCES ${parent}(id),
          CONSTRAINT uq_${table}_email UNIQUE (email))`,
        `CREATE INDEX ix_${table}_born ON ${table} (born, score)`
      ]
    case "mysql":
      return [
        `CREATE TABLE ${parent} (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB`,
        `CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(80) NOT NULL, score DOUBLE DEFAULT 1.5,
          active BOOLEAN NOT NULL DEFAULT 1, born DATE, parent_id INT, CONSTRAINT uq_${table}_email UNIQUE (email),
          CONSTRAINT fk_${table}_parent FOREIGN KEY (parent_id) REFERENCES ${parent}(id)) ENGINE=InnoDB`,
        `CREATE INDEX ix_${table}_born ON ${table} (born, score)`
      ]
  }
}

forEachDatabase("introspect", (it, db) => {
  it.effect("reads a hand-written table: columns, types, nullability, defaults, keys, indexes, foreign keys", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = uniqueTable("hand")
      const parent = uniqueTable("parent")
      for (const statement of handMade(db.name, table, parent)) yield* sql.unsafe(statement)
      const [t] = yield* Introspect.tables({ tables: [table] })
      expect(t!.name).toBe(table)
      expect(t!.columns.map((c) => c.name)).toEqual(["id", "email", "score", "active", "born", "parent_id"])
      const col = (n: string) => t!.columns.find((c) => c.name === n)!
      expect(col("id").generated).toBe(true)
      expect(col("email").nullable).toBe(false)
      expect(col("email").kind).toEqual({ _tag: "string", maxLength: db.name === "sqlite" ? undefined : 80 })
      expect(col("score").nullable).toBe(true)
      expect(col("score").kind?._tag).toBe("float")
      expect(col("score").default).toMatch(/1\.5/)
      expect(col("active").kind?._tag).toBe(db.name === "sqlite" ? "boolean" : "boolean")
      expect(col("active").default).toBeDefined()
      expect(col("born").default).toBeUndefined()
      expect(t!.primaryKey).toEqual(["id"])
      expect(t!.uniques.map((u) => u.columns)).toEqual([["email"]])
      expect(t!.indexes.map((i) => [i.name, i.columns])).toEqual([[`ix_${table}_born`, ["born", "score"]]])
      expect(t!.foreignKeys.map((f) => [f.columns, f.referencedTable, f.referencedColumns])).toEqual([
        [["parent_id"], parent, ["id"]]
      ])
    }))

  it.effect("reads a model's table: every column kind as the library creates it", () =>
    Effect.gen(function*() {
      const table = uniqueTable("model")
      const Thing = Model.make(
        "Thing",
        Schema.Struct({
          id: Schema.Int,
          name: Schema.String.pipe(Schema.maxLength(40)),
          note: Schema.NullOr(Schema.String),
          n: Schema.Number,
          ok: Schema.Boolean,
          role: Schema.Literal("a", "b"),
          data: Schema.Unknown
        }),
        { table, unique: ["name"], indexes: [["role", "n"]] }
      )
      yield* Thing.count()
      const all = yield* Introspect.tables()
      const t = all.find((x) => x.name === table)!
      expect(t.columns.map((c) => c.name)).toEqual(["id", "name", "note", "n", "ok", "role", "data", "created_at", "updated_at"])
      expect(t.columns.map((c) => c.nullable)).toEqual([false, false, true, false, false, false, true, false, false])
      expect(t.primaryKey).toEqual(["id"])
      expect(t.uniques.map((u) => u.columns)).toEqual([["name"]])
      expect(t.indexes.map((i) => i.columns)).toEqual([["role", "n"]])
      expect(t.foreignKeys).toEqual([])
    }))

  it.effect("an unknown table reads as nothing", () =>
    Effect.gen(function*() {
      expect(yield* Introspect.tables({ tables: ["no_such_table_here"] })).toEqual([])
    }))
})
