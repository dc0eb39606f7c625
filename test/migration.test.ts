/**
 * Migration.plan / apply / status / rollback on every database: typed operations with their
 * SQL, destructive ones refused without allowDestructive, the history making a re-apply a
 * no-op, several applies at once running the plan once, drift, introspect → source → model →
 * empty plan.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Schema } from "effect"
import { DataFlow, Introspect, Migration, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const version1 = (table: string) =>
  Model.make(
    "Item",
    Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(20)), note: Schema.NullOr(Schema.String) }),
    { table, timestamps: false }
  )

const version2 = (table: string) =>
  Model.make(
    "Item",
    Schema.Struct({
      id: Schema.Int,
      title: Schema.String.pipe(Schema.maxLength(80)),
      price: Schema.NullOr(Schema.Number)
    }),
    { table, timestamps: false, indexes: ["price"] }
  )

forEachDatabase("migration", (it, db) => {
  it.effect("plan → apply → status: typed operations, destructive ones refused, a re-apply is a no-op, rollback", () =>
    Effect.gen(function*() {
      const table = uniqueTable("items")
      const V1 = version1(table)
      const first = yield* Migration.plan([V1])
      expect(first.operations.map((o) => o.kind)).toEqual(["createTable"])
      expect(first.dialect).toBe(db.name)
      expect(yield* Migration.apply(first)).toEqual({ applied: true, operations: 1 })
      expect(yield* Migration.apply(first)).toEqual({ applied: false, operations: 0 })
      yield* V1.bulkCreate([{ title: "a", note: "x" }, { title: "b", note: null }])

      const V2 = version2(table)
      const second = yield* Migration.plan([V2], { name: "price" })
      // SQLite rebuilds the table for a dropped column or a new type: one operation says it all
      expect(second.operations.map((o) => o.kind)).toEqual(
        db.name === "sqlite" ? ["rebuildTable"] : expect.arrayContaining(["addColumn", "dropColumn", "addIndex"])
      )
      expect(second.operations.map((o) => o.description).join("; ")).toMatch(/add index/)
      const drop = second.operations.find((o) => o.kind === "dropColumn" || o.kind === "rebuildTable")!
      expect(drop.destructive).toBe(true)
      expect(drop.down).toBeUndefined()
      const files = Migration.toFiles(second)
      expect(files["up.sql"]).toContain(second.operations[0]!.up[0]!)
      expect(Either.getOrThrow(Migration.fromJson(files["plan.json"]!))).toEqual(second)

      const refused = yield* Effect.flip(Migration.apply(second))
      expect(refused._tag).toBe("MigrationRefused")
      expect(refused.message).toMatch(/note/)
      expect((yield* Introspect.tables({ tables: [table] }))[0]!.columns.map((c) => c.name)).toContain("note")

      // the history is the schema's: this test's migrations are those of its table
      const mine = (applied: ReadonlyArray<Migration.Applied>) => applied.filter((a) => a.operations.some((o) => o.table === table))
      const status = yield* Migration.status([V2])
      expect(mine(status.applied).map((a) => a.checksum)).toEqual([first.checksum])
      expect(status.pending.operations.length).toBeGreaterThan(0)
      expect(status.drifted).toBe(false)

      expect((yield* Migration.apply(second, { allowDestructive: true })).applied).toBe(true)
      expect((yield* Migration.plan([V2])).operations).toEqual([])
      // data kept for the fields that remain; the widened title takes longer values
      expect((yield* V2.list({ orderBy: ["title"] })).records.map((r) => [r.title, r.price])).toEqual([["a", null], ["b", null]])
      yield* V2.create({ title: "a title longer than twenty characters", price: 2.5 })
      yield* DataFlow.migrate([V2])
      const after = yield* Migration.status([V2])
      expect(mine(after.applied).length).toBe(2)
      expect(after.pending.operations).toEqual([])

      // a change outside the library is drift
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`CREATE INDEX ix_drift_${table} ON ${table} (title)`)
      expect((yield* Migration.status([V2])).drifted).toBe(true)
      yield* sql.unsafe(db.name === "mysql" ? `DROP INDEX ix_drift_${table} ON ${table}` : `DROP INDEX ix_drift_${table}`)

      // the first migration is reversible (create table); the second is not (a dropped column)
      const notReversible = yield* Effect.flip(Migration.rollback())
      expect(notReversible._tag).toBe("MigrationRefused")
    }))

  it.effect("a reversible migration rolls back; a declared rename keeps the data", () =>
    Effect.gen(function*() {
      const table = uniqueTable("items")
      yield* Migration.plan([version1(table)]).pipe(Effect.flatMap((p) => Migration.apply(p)))
      yield* version1(table).create({ title: "kept", note: "n" })
      const Renamed = Model.make(
        "Item",
        Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(20)), remark: Schema.NullOr(Schema.String) }),
        { table, timestamps: false, indexes: ["title"] }
      )
      const p = yield* Migration.plan([Renamed], { renames: { [`${table}.note`]: "remark" } })
      expect(p.operations.map((o) => o.kind)).toEqual(["renameColumn", "addIndex"])
      expect(p.operations.every((o) => !o.destructive && o.down !== undefined)).toBe(true)
      yield* Migration.apply(p)
      expect((yield* Renamed.list()).records.map((r) => r.remark)).toEqual(["n"])
      const undone = yield* Migration.rollback()
      expect(undone?.checksum).toBe(p.checksum)
      expect((yield* version1(table).list()).records.map((r) => r.note)).toEqual(["n"])
      expect((yield* Migration.plan([version1(table)])).operations).toEqual([])
    }))

  it.effect("a NOT NULL column on a table with rows is a blocked operation: apply refuses it", () =>
    Effect.gen(function*() {
      const table = uniqueTable("items")
      yield* version1(table).create({ title: "x", note: null })
      const Strict = Model.make(
        "Item",
        Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(20)), note: Schema.NullOr(Schema.String), n: Schema.Int }),
        { table, timestamps: false }
      )
      const p = yield* Migration.plan([Strict])
      expect(p.operations.some((o) => o.blocked !== undefined)).toBe(true)
      const refused = yield* Effect.flip(Migration.apply(p, { allowDestructive: true }))
      expect(refused._tag).toBe("MigrationRefused")
    }))

  it.effect("an operation failing in the middle: nothing stays (PostgreSQL, SQLite) or the ones before stay (MySQL); status explains, a new plan completes", () =>
    Effect.gen(function*() {
      const table = uniqueTable("items")
      yield* version1(table).create({ title: "kept", note: null })
      const Wider = Model.make(
        "Item",
        Schema.Struct({
          id: Schema.Int,
          title: Schema.String.pipe(Schema.maxLength(20)),
          note: Schema.NullOr(Schema.String),
          a: Schema.NullOr(Schema.Int),
          b: Schema.NullOr(Schema.Int)
        }),
        { table, timestamps: false }
      )
      const p = yield* Migration.plan([Wider])
      expect(p.operations.map((o) => o.kind)).toEqual(["addColumn", "addColumn"])
      const broken: Migration.Plan = {
        ...p,
        operations: [p.operations[0]!, { ...p.operations[1]!, description: "broken", up: ["SELECT * FROM no_such_table_here"] }]
      }
      const failed = yield* Effect.flip(Migration.apply(broken))
      expect(failed).toMatchObject({ _tag: "MigrationFailed", operation: 1, description: "broken", completed: db.name === "mysql" ? 1 : 0 })
      const status = yield* Migration.status([Wider])
      expect(status.applied.some((a) => a.id === broken.id)).toBe(false)
      expect(status.pending.operations.map((o) => o.column)).toEqual(db.name === "mysql" ? ["b"] : ["a", "b"])
      yield* Migration.apply(status.pending)
      expect((yield* Migration.plan([Wider])).operations).toEqual([])
      expect((yield* Wider.list()).records.map((r) => r.title)).toEqual(["kept"])
    }))

  it.effect("a composite primary key: introspect → toSource → model → plan is empty", () =>
    Effect.gen(function*() {
      const table = uniqueTable("round_ck")
      const Original = Model.make(
        "Follow",
        Schema.Struct({ followerId: Schema.Int, followingId: Schema.Int, since: Schema.String }),
        { table, primaryKey: ["followerId", "followingId"], timestamps: false }
      )
      yield* DataFlow.migrate([Original])
      const source = Introspect.toSource(yield* Introspect.tables({ tables: [table] }))
      expect(source).toContain(`primaryKey: ["followerId", "followingId"]`)
      const body = source.replace(/^import .*$/gm, "").replace(/export const (\w+) =/g, "exports.$1 =")
      const { Column } = yield* Effect.promise(() => import("../src/index.js"))
      const exports: Record<string, Model.Any> = {}
      new Function("exports", "Schema", "Column", "Model", body)(exports, Schema, Column, Model)
      const models = Object.values(exports)
      expect((yield* Migration.plan(models)).operations).toEqual([])
    }))

  it.effect("introspect → toSource → model → plan is empty", () =>
    Effect.gen(function*() {
      const table = uniqueTable("round")
      const Original = Model.make(
        "Round",
        Schema.Struct({
          id: Schema.Int,
          email: Schema.String.pipe(Schema.maxLength(120)),
          name: Schema.String,
          score: Schema.NullOr(Schema.Number),
          active: Schema.Boolean,
          count: Schema.Int
        }),
        { table, unique: ["email"], indexes: [["name", "count"]] }
      )
      yield* DataFlow.migrate([Original])
      const source = Introspect.toSource(yield* Introspect.tables({ tables: [table] }))
      expect(source).toContain(`Model.make(`)
      // evaluate the generated module against the library's namespaces
      const body = source.replace(/^import .*$/gm, "").replace(/export const (\w+) =/g, "exports.$1 =")
      const { Column } = yield* Effect.promise(() => import("../src/index.js"))
      const exports: Record<string, Model.Any> = {}
      new Function("exports", "Schema", "Column", "Model", body)(exports, Schema, Column, Model)
      const models = Object.values(exports)
      expect(models.length).toBe(1)
      expect((yield* Migration.plan(models)).operations).toEqual([])
    }))
})
