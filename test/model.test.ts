import { describe, expect, it as vit } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

describe("model declaration", () => {
  vit("table names: snake_case, pluralised", () => {
    const f = Schema.Struct({ id: Schema.Int })
    const names = ["User", "Person", "Category", "OrderStatus", "Data", "Box", "Address", "XMLParser", "Hero", "Photo", "Series"]
    expect(names.map((n) => Model.make(n, f).table)).toEqual([
      "users",
      "people",
      "categories",
      "order_statuses",
      "data",
      "boxes",
      "addresses",
      "xml_parsers",
      "heroes",
      "photos",
      "series"
    ])
    expect(Model.make("User", f, { table: "app_users" }).table).toBe("app_users")
  })

  vit("fields map to snake_case columns; timestamps are appended", () => {
    const M = Model.make("Thing", Schema.Struct({ id: Schema.Int, firstName: Schema.String, HTTPCode: Schema.Int }))
    expect(M.columns.map((c) => [c.field, c.name])).toEqual([
      ["id", "id"],
      ["firstName", "first_name"],
      ["HTTPCode", "http_code"],
      ["createdAt", "created_at"],
      ["updatedAt", "updated_at"]
    ])
    const noTs = Model.make("Thing", Schema.Struct({ id: Schema.Int }), { timestamps: false })
    expect(noTs.columns.map((c) => c.name)).toEqual(["id"])
  })

  vit("declaration errors are thrown at definition time", () => {
    expect(() => Model.make("Bad Name", Schema.Struct({ id: Schema.Int }))).toThrow(/identifier/)
    expect(() => Model.make("NoKey", Schema.Struct({ name: Schema.String }))).toThrow(/primary key/)
    expect(() => Model.make("T", Schema.Struct({ id: Schema.Int, createdAt: Schema.DateFromSelf }))).toThrow(/managed/)
    expect(() => Model.make("T", Schema.Struct({ id: Schema.Int }), { unique: ["nope" as "id"] })).toThrow(/unknown field/)
    expect(() => Model.make("T", Schema.Struct({ id: Schema.Int, s: Schema.SymbolFromSelf }))).toThrow(/cannot be stored/)
  })
})

class Article extends Schema.Class<Article>("Article")({
  id: Schema.String,
  title: Schema.String,
  wordCount: Schema.Int,
  meta: Schema.Struct({ camelCaseKey: Schema.String, nested: Schema.Struct({ innerKey: Schema.Number }) })
}) {}

forEachDatabase("model", (it, db) => {
  it.effect("runs on the database it says", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const dialect = sql.onDialectOrElse({ pg: () => "pg", mysql: () => "mysql", sqlite: () => "sqlite", orElse: () => "?" })
      expect(dialect).toBe(db.name)
    }))

  it.effect("a Schema.Class model: snake_case columns, JSON contents untouched", () =>
    Effect.gen(function*() {
      const table = uniqueTable("articles")
      const Articles = Model.make("Article", Article, { table })
      const meta = { camelCaseKey: "v", nested: { innerKey: 1.5 } }
      const created = yield* Articles.create({ id: "a1", title: "T", wordCount: 10, meta })
      expect(created).toMatchObject({ id: "a1", wordCount: 10, meta })
      const sql = yield* SqlClient.SqlClient
      const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
      const rows = yield* sql.unsafe<Record<string, unknown>>(
        `SELECT ${q("word_count")} AS wc, ${q("meta")} AS meta, ${q("created_at")} AS ca FROM ${q(table)}`
      ).withoutTransform
      expect(Number(rows[0]!.wc)).toBe(10)
      const stored = typeof rows[0]!.meta === "string" ? JSON.parse(rows[0]!.meta) : rows[0]!.meta
      expect(stored).toEqual(meta)
      expect(rows[0]!.ca).not.toBeNull()
    }))

  it.effect("a custom primary key field and composite unique constraints", () =>
    Effect.gen(function*() {
      const Member = Model.make(
        "Member",
        Schema.Struct({ code: Schema.String, org: Schema.String, handle: Schema.String }),
        { table: uniqueTable("members"), primaryKey: "code", unique: [["org", "handle"]], indexes: ["org", ["org", "code"]] }
      )
      yield* Member.create({ code: "c1", org: "o", handle: "h" })
      yield* Member.create({ code: "c2", org: "o2", handle: "h" })
      const dup = yield* Effect.flip(Member.create({ code: "c3", org: "o", handle: "h" }))
      expect(dup).toMatchObject({ _tag: "UniqueViolation", columns: ["org", "handle"] })
      expect((yield* Member.read("c2")).org).toBe("o2")
      const up = yield* Member.upsert({ where: { org: "o", handle: "h" }, create: { code: "zz" }, update: { handle: "h2" } })
      expect(up).toMatchObject({ created: false, record: { code: "c1", handle: "h2" } })
    }))

  it.effect("timestamps off: no managed columns", () =>
    Effect.gen(function*() {
      const Log = Model.make("Log", Schema.Struct({ id: Schema.Int, line: Schema.String }), {
        table: uniqueTable("logs"),
        timestamps: false
      })
      const created = yield* Log.create({ line: "x" })
      expect(created).toEqual({ id: created.id, line: "x" })
      expect(yield* Log.update(created.id, {})).toEqual(created)
    }))
})
