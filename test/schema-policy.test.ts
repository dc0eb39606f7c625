/**
 * The schema policies on first use: `auto` adds what a table lacks (columns, indexes, unique
 * constraints) and refuses with a typed SchemaMismatch what it cannot add safely; `existing`
 * only checks; `none` does neither; `DataFlow.migrate` never succeeds while a table differs.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { DataFlow, Introspect, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const v1 = (table: string) =>
  Model.make("Person", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(100)) }), { table })

const rowCount = (table: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)).pipe(
    Effect.map((rows) => Number(rows[0]!.n))
  )

forEachDatabase("schema policy", (it) => {
  it.effect("auto adds a missing nullable column, an index and a unique constraint on first use; old rows keep their values", () =>
    Effect.gen(function*() {
      const table = uniqueTable("people")
      const V1 = v1(table)
      const ada = yield* V1.create({ name: "Ada" })
      const V2 = Model.make(
        "Person",
        Schema.Struct({
          id: Schema.Int,
          name: Schema.String.pipe(Schema.maxLength(100)),
          age: Schema.NullOr(Schema.Int),
          nick: Schema.optional(Schema.String.pipe(Schema.maxLength(40)))
        }),
        { table, indexes: ["age"], unique: ["nick"] }
      )
      const alan = yield* V2.create({ name: "Alan", age: 41, nick: "al" })
      expect(yield* V2.read(ada.id)).toMatchObject({ id: ada.id, name: "Ada", age: null })
      expect(yield* V2.read(alan.id)).toMatchObject({ name: "Alan", age: 41, nick: "al" })
      const [t] = yield* Introspect.tables({ tables: [table] })
      expect(t!.columns.map((c) => c.name)).toEqual(["id", "name", "created_at", "updated_at", "age", "nick"])
      expect(t!.indexes.map((i) => i.columns)).toEqual([["age"]])
      expect(t!.uniques.map((u) => u.columns)).toEqual([["nick"]])
      const dup = yield* Effect.flip(V2.create({ name: "X", age: 1, nick: "al" }))
      expect(dup._tag).toBe("UniqueViolation")
      yield* DataFlow.migrate([V2])
    }))

  it.effect("auto refuses a NOT NULL column without a default on a table with rows: SchemaMismatch before any statement", () =>
    Effect.gen(function*() {
      const table = uniqueTable("people")
      yield* v1(table).create({ name: "Ada" })
      const V2 = Model.make(
        "Person",
        Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(100)), age: Schema.Int }),
        { table }
      )
      const error = yield* Effect.flip(V2.create({ name: "Alan", age: 3 }))
      expect(error).toMatchObject({ _tag: "SchemaMismatch", model: "Person", operation: "create", table, column: "age" })
      if (error._tag !== "SchemaMismatch") return
      expect(error.reason).toContain("NOT NULL")
      expect(error.message).toContain(`column "age"`)
      expect(yield* rowCount(table)).toBe(1)
      const [t] = yield* Introspect.tables({ tables: [table] })
      expect(t!.columns.map((c) => c.name)).not.toContain("age")
      // reads fail the same way: the table cannot serve the model
      expect((yield* Effect.flip(V2.count()))._tag).toBe("SchemaMismatch")
    }))

  it.effect("auto adds a NOT NULL column to an empty table", () =>
    Effect.gen(function*() {
      const table = uniqueTable("people")
      yield* v1(table).count()
      const V2 = Model.make(
        "Person",
        Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(100)), age: Schema.Int }),
        { table, indexes: ["name"] }
      )
      const alan = yield* V2.create({ name: "Alan", age: 3 })
      expect(yield* V2.read(alan.id)).toMatchObject({ age: 3 })
      const [t] = yield* Introspect.tables({ tables: [table] })
      expect(t!.columns.find((c) => c.name === "age")!.nullable).toBe(false)
      expect(t!.indexes.map((i) => i.columns)).toEqual([["name"]])
      yield* DataFlow.migrate([V2])
    }))

  it.effect("auto never changes a type: a changed type is a SchemaMismatch naming the column and both types", () =>
    Effect.gen(function*() {
      const table = uniqueTable("people")
      yield* v1(table).create({ name: "Ada" })
      const V2 = Model.make("Person", Schema.Struct({ id: Schema.Int, name: Schema.Boolean }), { table })
      const error = yield* Effect.flip(V2.list())
      expect(error).toMatchObject({ _tag: "SchemaMismatch", table, column: "name" })
      expect(error.message).toMatch(/type/)
      const migrated = yield* Effect.flip(DataFlow.migrate([V2]))
      expect(migrated._tag).toBe("SchemaMismatch")
    }))

  it.effect("existing runs no DDL and fails with SchemaMismatch for a missing column; none checks nothing", () =>
    Effect.gen(function*() {
      const table = uniqueTable("people")
      yield* v1(table).create({ name: "Ada" })
      const V2 = Model.make(
        "Person",
        Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(100)), age: Schema.NullOr(Schema.Int) }),
        { table }
      )
      const error = yield* Effect.flip(V2.count().pipe(Effect.provide(DataFlow.schemaPolicy("existing"))))
      expect(error).toMatchObject({ _tag: "SchemaMismatch", table, column: "age" })
      const [t] = yield* Introspect.tables({ tables: [table] })
      expect(t!.columns.map((c) => c.name)).not.toContain("age")
      // a model that fits is fine under "existing"
      expect(yield* v1(table).count().pipe(Effect.provide(DataFlow.schemaPolicy("existing")))).toBe(1)
      const unchecked = yield* Effect.flip(V2.list().pipe(Effect.provide(DataFlow.schemaPolicy("none"))))
      expect(unchecked._tag).toBe("DatabaseError")
    }))

  it.effect("migrate never reports success while a table differs (an extra column, a looser nullability)", () =>
    Effect.gen(function*() {
      const table = uniqueTable("people")
      const Wide = Model.make(
        "Person",
        Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(100)), note: Schema.NullOr(Schema.String) }),
        { table }
      )
      yield* DataFlow.migrate([Wide])
      const Narrow = v1(table)
      // the nodes work (the extra column is nullable) ...
      expect(yield* Narrow.count()).toBe(0)
      // ... but the table is not the model's
      const error = yield* Effect.flip(DataFlow.migrate([Narrow]))
      expect(error).toMatchObject({ _tag: "SchemaMismatch", table, column: "note" })
    }))
})
