/**
 * Column defaults: declared with Column.annotate({ default }), created with the table,
 * compared by Migration.plan with the live default (PostgreSQL's casts, MariaDB's and SQLite's
 * texts read as literals), set or dropped by an alterDefault operation (SQLite: a rebuild),
 * reversible; a NOT NULL column with a default added to a table with rows; a live expression
 * default left alone; introspect → source → model → empty plan with defaults.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { describe, it as plainIt } from "vitest"
import { Column, Introspect, Migration, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const v1 = (table: string) =>
  Model.make("Item", Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(40)), ok: Schema.Boolean }), {
    table,
    timestamps: false
  })

const v2 = (table: string) =>
  Model.make(
    "Item",
    Schema.Struct({
      id: Schema.Int,
      title: Schema.String.pipe(Schema.maxLength(40), Column.annotate({ default: "it's untitled" })),
      ok: Schema.Boolean.pipe(Column.annotate({ default: true })),
      count: Schema.Int.pipe(Column.annotate({ default: -1 })),
      ratio: Schema.Number.pipe(Column.annotate({ default: 1.5 }))
    }),
    { table, timestamps: false }
  )

forEachDatabase("migration: defaults", (it, db) => {
  it.effect("declared defaults set, compared, dropped and restored; a NOT NULL column with a default on a table with rows", () =>
    Effect.gen(function*() {
      const table = uniqueTable("items")
      yield* Effect.flatMap(Migration.plan([v1(table)]), (p) => Migration.apply(p))
      yield* v1(table).create({ title: "kept", ok: false })
      const p = yield* Migration.plan([v2(table)])
      expect(p.operations.every((o) => o.blocked === undefined && !o.destructive)).toBe(true)
      expect(p.operations.map((o) => o.kind)).toEqual(
        db.name === "sqlite" ? ["rebuildTable"] : ["addColumn", "addColumn", "alterDefault", "alterDefault"]
      )
      yield* Migration.apply(p)
      expect((yield* Migration.plan([v2(table)])).operations).toEqual([])
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`INSERT INTO ${table} (id) VALUES (99)`)
      const rows = (yield* v2(table).list({ orderBy: ["id"] })).records.map((r) => [r.title, r.ok, r.count, r.ratio])
      expect(rows).toEqual([["kept", false, -1, 1.5], ["it's untitled", true, -1, 1.5]])

      const V3 = Model.make(
        "Item",
        Schema.Struct({
          id: Schema.Int,
          title: Schema.String.pipe(Schema.maxLength(40)),
          ok: Schema.Boolean.pipe(Column.annotate({ default: false })),
          count: Schema.Int.pipe(Column.annotate({ default: -1 })),
          ratio: Schema.Number.pipe(Column.annotate({ default: 1.5 }))
        }),
        { table, timestamps: false }
      )
      const changed = yield* Migration.plan([V3])
      if (db.name === "sqlite") {
        expect(changed.operations.map((o) => o.kind)).toEqual(["rebuildTable"])
      } else {
        expect(changed.operations.map((o) => [o.kind, o.column, o.down !== undefined])).toEqual([
          ["alterDefault", "title", true],
          ["alterDefault", "ok", true]
        ])
      }
      yield* Migration.apply(changed)
      expect((yield* Migration.plan([V3])).operations).toEqual([])
      if (db.name !== "sqlite") {
        yield* Migration.rollback()
        expect((yield* Migration.plan([v2(table)])).operations).toEqual([])
      }
    }))

  it.effect("a hand-made table: literal defaults declared by toSource, an expression default left alone; the plan is empty", () =>
    Effect.gen(function*() {
      const table = uniqueTable("hand")
      const sql = yield* SqlClient.SqlClient
      const now = db.name === "pg" ? "now()" : db.name === "mysql" ? "CURRENT_TIMESTAMP(3)" : "CURRENT_TIMESTAMP"
      // the library's own timestamp types: the round trip is exact
      const stamp = db.name === "pg" ? "TIMESTAMPTZ(3)" : db.name === "mysql" ? "DATETIME(3)" : "TEXT"
      const id = db.name === "pg" ? "SERIAL PRIMARY KEY" : db.name === "mysql" ? "INT AUTO_INCREMENT PRIMARY KEY" : "INTEGER PRIMARY KEY"
      yield* sql.unsafe(`CREATE TABLE ${table} (id ${id}, status VARCHAR(20) NOT NULL DEFAULT 'new', score DOUBLE PRECISION DEFAULT 1.5,
        active BOOLEAN NOT NULL DEFAULT TRUE, made ${stamp} DEFAULT ${now})`.replace("DOUBLE PRECISION", db.name === "mysql" ? "DOUBLE" : "DOUBLE PRECISION"))
      const source = Introspect.toSource(yield* Introspect.tables({ tables: [table] }))
      expect(source).toContain(`Column.annotate({ default: "new" })`)
      expect(source).toContain(`Column.annotate({ default: 1.5 })`)
      expect(source).toContain(`Column.annotate({ default: true })`)
      expect(source).toMatch(/made: .*\/\/ default .*: an expression/)
      const body = source.replace(/^import .*$/gm, "").replace(/export const (\w+) =/g, "exports.$1 =")
      const exports: Record<string, Model.Any> = {}
      new Function("exports", "Schema", "Column", "Model", body)(exports, Schema, Column, Model)
      const plan = yield* Migration.plan(Object.values(exports))
      if (db.name === "sqlite") {
        // SQLite's declared types are not the library's (varchar, boolean): only the defaults are compared here
        expect(plan.operations.map((o) => o.description).join("; ")).not.toMatch(/default/)
      } else {
        expect(plan.operations).toEqual([])
      }
    }))
})

describe("a declared default", () => {
  plainIt("must fit its column", () => {
    expect(() => Model.make("Bad", Schema.Struct({ id: Schema.Int, n: Schema.Int.pipe(Column.annotate({ default: "x" })) }))).toThrow(
      /default of n \("x"\) does not fit its integer column/
    )
    expect(() => Model.make("Bad", Schema.Struct({ id: Schema.Int, r: Schema.Literal("a", "b").pipe(Column.annotate({ default: "c" })) }))).toThrow(
      /does not fit its enum column/
    )
  })
})
