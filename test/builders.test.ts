/**
 * The statement builders (`src/internal/sql/builders.ts`, `where.ts`) as the pure functions
 * they are: for each dialect and each model shape that changes a statement, the exact text and
 * the exact parameter array. No database is needed.
 *
 * The expected SQL is written out in full on purpose: a change in any statement shows here as
 * a diff of the text a database will receive. Only the select lists, asserted once in
 * "select lists", are named constants.
 */
import { BigDecimal, Either, FastCheck as fc, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { Dialect as DialectType } from "../src/Dialect.js"
import { Dialect, Model } from "../src/index.js"
import { definitionOf } from "../src/internal/model/definition.js"
import { encodeRecord } from "../src/internal/sql/rows.js"
import * as Build from "../src/internal/sql/builders.js"
import { Params } from "../src/internal/sql/params.js"
import type { ModelStatements } from "../src/internal/sql/statements.js"
import { statementsFor } from "../src/internal/sql/statements.js"
import type { OrderTerm, Scope } from "../src/internal/sql/where.js"
import { keyset, orderBy, where } from "../src/internal/sql/where.js"

const shapeOf = (patch: Record<string, unknown>) => Build.patchShape(patch)

// ---------------------------------------------------------------------------
// the models: one per shape that changes a statement
// ---------------------------------------------------------------------------

/** A generated integer key and timestamps. */
const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, title: Schema.String, views: Schema.Int }))
/** A string key the application names. */
const Tag = Model.make("Tag", Schema.Struct({ slug: Schema.String, label: Schema.String }), { primaryKey: "slug" })
/** Soft-deleted, with an optional field. */
const Note = Model.make(
  "Note",
  Schema.Struct({ id: Schema.Int, body: Schema.String, tag: Schema.optional(Schema.String) }),
  { softDelete: true }
)
/** Versioned. */
const Doc = Model.make("Doc", Schema.Struct({ id: Schema.String, title: Schema.String }), { versioned: true })
/** Tenant-scoped with a generated key and a unique constraint (unique per tenant). */
const Page = Model.make(
  "Page",
  Schema.Struct({ id: Schema.Int, slug: Schema.String, title: Schema.String }),
  { tenantScoped: true, unique: ["slug"] }
)
/** Every behaviour at once: tenant-scoped, soft-deleted, versioned, with an application key. */
const Entry = Model.make(
  "Entry",
  Schema.Struct({ id: Schema.String, body: Schema.String }),
  { tenantScoped: true, softDelete: true, versioned: true }
)
/** No timestamps: nothing the library manages on update. */
const Counter = Model.make("Counter", Schema.Struct({ name: Schema.String, hits: Schema.Int }), {
  primaryKey: "name",
  timestamps: false
})
/** Every column is a key: an upsert on `code` has nothing to set. */
const Pair = Model.make("Pair", Schema.Struct({ id: Schema.String, code: Schema.String }), {
  unique: ["code"],
  timestamps: false
})
/** The column kinds whose codecs change the parameter: JSON, decimal, date, bigint, boolean, nullable text. */
const Sample = Model.make(
  "Sample",
  Schema.Struct({
    id: Schema.Int,
    meta: Schema.Struct({ tags: Schema.Array(Schema.String) }),
    price: Schema.BigDecimal,
    at: Schema.DateFromSelf,
    big: Schema.BigIntFromSelf,
    flag: Schema.Boolean,
    note: Schema.NullOr(Schema.String)
  }),
  { timestamps: false }
)

// ---------------------------------------------------------------------------
// helpers: one per dialect, and the binding of a statement made with Params
// ---------------------------------------------------------------------------

const lite = (model: object): ModelStatements => statementsFor(definitionOf(model), Dialect.sqlite)
const pg = (model: object, schema?: string): ModelStatements => statementsFor(definitionOf(model), Dialect.pg, schema)
const my = (model: object, schema?: string): ModelStatements => statementsFor(definitionOf(model), Dialect.mysql, schema)

const col = (s: ModelStatements, field: string) => s.byField.get(field)!
const cols = (s: ModelStatements, ...fields: ReadonlyArray<string>) => fields.map((f) => col(s, f))

/** A statement whose values are bound as its text is written: the text and the values. */
const bound = (s: ModelStatements, write: (params: Params) => string) => {
  const params = new Params(s.dialect)
  const text = write(params)
  return { text, params: params.values }
}

const scope = (over: Partial<Scope> = {}): Scope => ({ operation: "test", includeDeleted: false, tenant: undefined, ...over })

/** The WHERE clause of a filter (a valid one: the test fails on an InvalidFilter). */
const whereSql = (s: ModelStatements, filter: unknown, params: Params, over: Partial<Scope> = {}): string =>
  Either.getOrThrow(where(s, filter, params, scope(over))).sql

const now = new Date("2024-01-02T03:04:05.678Z")
const ISO = "2024-01-02T03:04:05.678Z"
const MYSQL_NOW = "2024-01-02 03:04:05.678"

/** The select lists, written out once per model and dialect (asserted in "select lists"). */
const POSTS = {
  sqlite: `"id", "title", "views", "created_at", "updated_at"`,
  pg: `"id", "title", "views", "created_at", "updated_at"`,
  mysql:
    "`id`, `title`, `views`, DATE_FORMAT(`created_at`, '%Y-%m-%d %H:%i:%s.%f') AS `created_at`, DATE_FORMAT(`updated_at`, '%Y-%m-%d %H:%i:%s.%f') AS `updated_at`"
}
const NOTES = {
  pg: `"id", "body", "tag", "created_at", "updated_at", "deleted_at"`,
  mysql:
    "`id`, `body`, `tag`, DATE_FORMAT(`created_at`, '%Y-%m-%d %H:%i:%s.%f') AS `created_at`, DATE_FORMAT(`updated_at`, '%Y-%m-%d %H:%i:%s.%f') AS `updated_at`, DATE_FORMAT(`deleted_at`, '%Y-%m-%d %H:%i:%s.%f') AS `deleted_at`"
}
const PAGES = { pg: `"id", "slug", "title", "created_at", "updated_at", "tenant_id"` }
const ENTRIES = { pg: `"id", "body", "created_at", "updated_at", "deleted_at", "version", "tenant_id"` }
const DOCS = { pg: `"id", "title", "created_at", "updated_at", "version"` }
const TAGS = { pg: `"slug", "label", "created_at", "updated_at"` }
const SAMPLES = {
  sqlite: `"id", "meta", "price", "at", "big", "flag", "note"`,
  pg: `"id", "meta", "price", "at", "big", "flag", "note"`,
  mysql:
    "`id`, CAST(`meta` AS CHAR) AS `meta`, `price`, DATE_FORMAT(`at`, '%Y-%m-%d %H:%i:%s.%f') AS `at`, `big`, `flag`, `note`"
}

// ---------------------------------------------------------------------------
// the statements of a model
// ---------------------------------------------------------------------------

describe("select lists and tables", () => {
  it("select lists per dialect: MySQL reads dates through DATE_FORMAT and JSON as text", () => {
    expect(lite(Post).selectList).toBe(POSTS.sqlite)
    expect(pg(Post).selectList).toBe(POSTS.pg)
    expect(my(Post).selectList).toBe(POSTS.mysql)
    expect(pg(Note).selectList).toBe(NOTES.pg)
    expect(my(Note).selectList).toBe(NOTES.mysql)
    expect(pg(Page).selectList).toBe(PAGES.pg)
    expect(pg(Entry).selectList).toBe(ENTRIES.pg)
    expect(pg(Doc).selectList).toBe(DOCS.pg)
    expect(pg(Tag).selectList).toBe(TAGS.pg)
    expect(lite(Sample).selectList).toBe(SAMPLES.sqlite)
    expect(pg(Sample).selectList).toBe(SAMPLES.pg)
    expect(my(Sample).selectList).toBe(SAMPLES.mysql)
  })

  it("tables: quoted, and qualified in a tenant's schema", () => {
    expect(lite(Post).table).toBe(`"posts"`)
    expect(pg(Post).table).toBe(`"posts"`)
    expect(my(Post).table).toBe("`posts`")
    expect(pg(Post, "tenant_x").table).toBe(`"tenant_x"."posts"`)
    expect(my(Post, "tenant_x").table).toBe("`tenant_x`.`posts`")
    expect(lite(Entry).table).toBe(`"entries"`)
  })

  it("are made once per model, dialect and schema", () => {
    expect(pg(Post)).toBe(pg(Post))
    expect(pg(Post, "tenant_x")).toBe(pg(Post, "tenant_x"))
    expect(pg(Post, "tenant_x")).not.toBe(pg(Post))
    expect(pg(Post)).not.toBe(my(Post))
  })

  it("insert columns: without a generated key, or all of them", () => {
    expect(lite(Post).newColumns.map((c) => c.quoted)).toEqual([`"title"`, `"views"`, `"created_at"`, `"updated_at"`])
    expect(lite(Post).keyedColumns.map((c) => c.quoted)).toEqual([`"id"`, `"title"`, `"views"`, `"created_at"`, `"updated_at"`])
    expect(lite(Tag).newColumns.map((c) => c.quoted)).toEqual([`"slug"`, `"label"`, `"created_at"`, `"updated_at"`])
    expect(pg(Page).newColumns.map((c) => c.quoted)).toEqual([
      `"slug"`,
      `"title"`,
      `"created_at"`,
      `"updated_at"`,
      `"tenant_id"`
    ])
  })
})

// ---------------------------------------------------------------------------
// by key
// ---------------------------------------------------------------------------

describe("selectById", () => {
  it("a plain model, per dialect", () => {
    const sqlite = Build.selectById(lite(Post), false)
    expect(sqlite.text).toBe(`SELECT "id", "title", "views", "created_at", "updated_at" FROM "posts" WHERE "id" = ?`)
    expect(sqlite.params({ id: 7, tenant: undefined })).toEqual([7])
    const postgres = Build.selectById(pg(Post), false)
    expect(postgres.text).toBe(`SELECT "id", "title", "views", "created_at", "updated_at" FROM "posts" WHERE "id" = $1`)
    expect(postgres.params({ id: 7, tenant: undefined })).toEqual([7])
    const mysql = Build.selectById(my(Post), false)
    expect(mysql.text).toBe(
      "SELECT `id`, `title`, `views`, DATE_FORMAT(`created_at`, '%Y-%m-%d %H:%i:%s.%f') AS `created_at`, DATE_FORMAT(`updated_at`, '%Y-%m-%d %H:%i:%s.%f') AS `updated_at` FROM `posts` WHERE `id` = ?"
    )
    expect(mysql.params({ id: 7, tenant: undefined })).toEqual([7])
  })

  it("a string key", () => {
    const plan = Build.selectById(lite(Tag), false)
    expect(plan.text).toBe(`SELECT "slug", "label", "created_at", "updated_at" FROM "tags" WHERE "slug" = ?`)
    expect(plan.params({ id: "effect", tenant: undefined })).toEqual(["effect"])
  })

  it("soft-deleted rows only with includeDeleted", () => {
    expect(Build.selectById(pg(Note), false).text).toBe(`SELECT ${NOTES.pg} FROM "notes" WHERE "id" = $1 AND "deleted_at" IS NULL`)
    expect(Build.selectById(pg(Note), true).text).toBe(`SELECT ${NOTES.pg} FROM "notes" WHERE "id" = $1`)
    expect(Build.selectById(my(Note), false).text).toBe(`SELECT ${NOTES.mysql} FROM \`notes\` WHERE \`id\` = ? AND \`deleted_at\` IS NULL`)
    expect(Build.selectById(my(Note), true).text).toBe(`SELECT ${NOTES.mysql} FROM \`notes\` WHERE \`id\` = ?`)
    expect(Build.selectById(lite(Note), false).params({ id: 3, tenant: undefined })).toEqual([3])
  })

  it("tenant-scoped: the key and the tenant", () => {
    const plan = Build.selectById(pg(Page), false)
    expect(plan.text).toBe(`SELECT ${PAGES.pg} FROM "pages" WHERE "id" = $1 AND "tenant_id" = $2`)
    expect(plan.params({ id: 3, tenant: "acme" })).toEqual([3, "acme"])
    const entry = Build.selectById(pg(Entry), false)
    expect(entry.text).toBe(`SELECT ${ENTRIES.pg} FROM "entries" WHERE "id" = $1 AND "tenant_id" = $2 AND "deleted_at" IS NULL`)
    expect(entry.params({ id: "e1", tenant: "acme" })).toEqual(["e1", "acme"])
    expect(Build.selectById(pg(Entry), true).text).toBe(`SELECT ${ENTRIES.pg} FROM "entries" WHERE "id" = $1 AND "tenant_id" = $2`)
    expect(Build.selectById(lite(Entry), false).text).toBe(
      `SELECT "id", "body", "created_at", "updated_at", "deleted_at", "version", "tenant_id" FROM "entries" WHERE "id" = ? AND "tenant_id" = ? AND "deleted_at" IS NULL`
    )
  })

  it("in a tenant's schema: the table qualified", () => {
    expect(Build.selectById(pg(Post, "tenant_x"), false).text).toBe(`SELECT ${POSTS.pg} FROM "tenant_x"."posts" WHERE "id" = $1`)
    expect(Build.selectById(my(Post, "tenant_x"), false).text).toBe(`SELECT ${POSTS.mysql} FROM \`tenant_x\`.\`posts\` WHERE \`id\` = ?`)
  })

  it("is made once per shape", () => {
    const s = pg(Note)
    expect(Build.selectById(s, false)).toBe(Build.selectById(s, false))
    expect(Build.selectById(s, true)).toBe(Build.selectById(s, true))
    expect(Build.selectById(s, true)).not.toBe(Build.selectById(s, false))
    // the same model in another schema has its own texts
    expect(Build.selectById(pg(Post, "tenant_x"), false).text).not.toBe(Build.selectById(pg(Post), false).text)
  })
})

describe("selectByIds", () => {
  it("the keys bound in order, per dialect", () => {
    expect(bound(lite(Post), (p) => Build.selectByIds(lite(Post), p, [1, 2, 3], undefined))).toEqual({
      text: `SELECT "id", "title", "views", "created_at", "updated_at" FROM "posts" WHERE "id" IN (?, ?, ?)`,
      params: [1, 2, 3]
    })
    expect(bound(pg(Post), (p) => Build.selectByIds(pg(Post), p, [1, 2, 3], undefined))).toEqual({
      text: `SELECT "id", "title", "views", "created_at", "updated_at" FROM "posts" WHERE "id" IN ($1, $2, $3)`,
      params: [1, 2, 3]
    })
    expect(bound(my(Post), (p) => Build.selectByIds(my(Post), p, [1, 2, 3], undefined))).toEqual({
      text: `SELECT ${POSTS.mysql} FROM \`posts\` WHERE \`id\` IN (?, ?, ?)`,
      params: [1, 2, 3]
    })
  })

  it("after values already bound: numbering continues", () => {
    const s = pg(Tag)
    const params = new Params(s.dialect)
    params.bind("first")
    expect(Build.selectByIds(s, params, ["a", "b"], undefined)).toBe(`SELECT ${TAGS.pg} FROM "tags" WHERE "slug" IN ($2, $3)`)
    expect(params.values).toEqual(["first", "a", "b"])
  })

  // MySQL has no RETURNING: bulkCreate({ returnRecords: true }) reads the rows it inserted back
  // with selectByIds and keys them by id. On a tenant-scoped model with an application key the
  // same id exists in several tenants (the primary key is (tenant_id, id)), so the read returns
  // other tenants' rows too, and the caller can be handed another tenant's record (seen on
  // MySQL: tenant "alpha" inserting id "x" got back tenant "zeta"'s row "x").
  it("on a tenant-scoped model, only the tenant's rows (MySQL reads records back with it)", () => {
    const s = my(Entry)
    const { text, params } = bound(s, (p) => Build.selectByIds(s, p, ["x"], "acme"))
    expect(text.slice(text.indexOf(" WHERE "))).toBe(" WHERE `id` IN (?) AND `tenant_id` = ?")
    expect(params).toEqual(["x", "acme"])
  })
})

// ---------------------------------------------------------------------------
// inserts
// ---------------------------------------------------------------------------

describe("insertValues", () => {
  it("one row with RETURNING on SQLite and PostgreSQL; MySQL never adds it", () => {
    expect(Build.insertValues(lite(Post), lite(Post).newColumns, 1, true)).toBe(
      `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES (?, ?, ?, ?) RETURNING "id", "title", "views", "created_at", "updated_at"`
    )
    expect(Build.insertValues(pg(Post), pg(Post).newColumns, 1, true)).toBe(
      `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES ($1, $2, $3, $4) RETURNING "id", "title", "views", "created_at", "updated_at"`
    )
    expect(Build.insertValues(my(Post), my(Post).newColumns, 1, true)).toBe(
      "INSERT INTO `posts` (`title`, `views`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?)"
    )
  })

  it("one row without RETURNING", () => {
    expect(Build.insertValues(lite(Post), lite(Post).newColumns, 1, false)).toBe(
      `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES (?, ?, ?, ?)`
    )
    expect(Build.insertValues(pg(Post), pg(Post).newColumns, 1, false)).toBe(
      `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES ($1, $2, $3, $4)`
    )
    expect(Build.insertValues(my(Post), my(Post).newColumns, 1, false)).toBe(
      "INSERT INTO `posts` (`title`, `views`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?)"
    )
  })

  it("three rows: placeholders row after row", () => {
    expect(Build.insertValues(lite(Post), lite(Post).newColumns, 3, true)).toBe(
      `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?) RETURNING "id", "title", "views", "created_at", "updated_at"`
    )
    expect(Build.insertValues(pg(Post), pg(Post).newColumns, 3, true)).toBe(
      `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES ($1, $2, $3, $4), ($5, $6, $7, $8), ($9, $10, $11, $12) RETURNING "id", "title", "views", "created_at", "updated_at"`
    )
    expect(Build.insertValues(pg(Post), pg(Post).newColumns, 3, false)).toBe(
      `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES ($1, $2, $3, $4), ($5, $6, $7, $8), ($9, $10, $11, $12)`
    )
    expect(Build.insertValues(my(Post), my(Post).newColumns, 3, true)).toBe(
      "INSERT INTO `posts` (`title`, `views`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)"
    )
  })

  it("a record naming its key; a tenant-scoped model; a tenant's schema", () => {
    expect(Build.insertValues(pg(Post), pg(Post).keyedColumns, 1, false)).toBe(
      `INSERT INTO "posts" ("id", "title", "views", "created_at", "updated_at") VALUES ($1, $2, $3, $4, $5)`
    )
    expect(Build.insertValues(pg(Page), pg(Page).newColumns, 1, true)).toBe(
      `INSERT INTO "pages" ("slug", "title", "created_at", "updated_at", "tenant_id") VALUES ($1, $2, $3, $4, $5) RETURNING ${PAGES.pg}`
    )
    expect(Build.insertValues(pg(Post, "tenant_x"), pg(Post, "tenant_x").newColumns, 1, false)).toBe(
      `INSERT INTO "tenant_x"."posts" ("title", "views", "created_at", "updated_at") VALUES ($1, $2, $3, $4)`
    )
    expect(Build.insertValues(my(Post, "tenant_x"), my(Post, "tenant_x").newColumns, 1, false)).toBe(
      "INSERT INTO `tenant_x`.`posts` (`title`, `views`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?)"
    )
  })

  it("the parameters the caller encodes are in the same column order (the record's codecs applied)", () => {
    const record = { title: "Hello", views: 0, createdAt: now, updatedAt: now }
    for (const [s, stamp] of [[lite(Post), ISO], [pg(Post), ISO], [my(Post), MYSQL_NOW]] as const) {
      const params: Array<unknown> = []
      encodeRecord(s.newColumns, record, params)
      expect(params).toEqual(["Hello", 0, stamp, stamp])
      // the one-pass encoder of new rows gives the same parameters
      const fast: Array<unknown> = []
      expect(s.encodeNew!({ title: "Hello", views: 0 }, now, undefined, fast)).toBe(true)
      expect(fast).toEqual(params)
    }
  })

  it("is made once per shape", () => {
    const s = pg(Post)
    expect(Build.insertValues(s, s.newColumns, 2, true)).toBe(Build.insertValues(s, s.newColumns, 2, true))
    expect(Build.insertValues(s, s.newColumns, 2, true)).not.toBe(Build.insertValues(s, s.newColumns, 2, false))
    expect(Build.insertValues(s, s.newColumns, 2, true)).not.toBe(Build.insertValues(s, s.keyedColumns, 2, true))
  })
})

describe("insertRows", () => {
  const rows = [
    { title: "a", views: 1, createdAt: now, updatedAt: now },
    { title: "b", views: 2, createdAt: now, updatedAt: now }
  ]
  const encoded = (s: ModelStatements) => {
    const values: Array<unknown> = []
    for (const r of rows) encodeRecord(s.newColumns, r, values)
    return values
  }

  it("SQLite: multi-row VALUES, values row after row", () => {
    const s = lite(Post)
    expect(Build.insertRows(s, s.newColumns, encoded(s), 2)).toEqual({
      text: `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") VALUES (?, ?, ?, ?), (?, ?, ?, ?)`,
      params: ["a", 1, ISO, ISO, "b", 2, ISO, ISO]
    })
  })

  it("MySQL: multi-row VALUES, values row after row", () => {
    const s = my(Post)
    expect(Build.insertRows(s, s.newColumns, encoded(s), 2)).toEqual({
      text: "INSERT INTO `posts` (`title`, `views`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
      params: ["a", 1, MYSQL_NOW, MYSQL_NOW, "b", 2, MYSQL_NOW, MYSQL_NOW]
    })
  })

  it("PostgreSQL: UNNEST of one array parameter per column, the values transposed", () => {
    const s = pg(Post)
    expect(Build.insertRows(s, s.newColumns, encoded(s), 2)).toEqual({
      text:
        `INSERT INTO "posts" ("title", "views", "created_at", "updated_at") SELECT * FROM UNNEST($1::text[], $2::int8[], $3::timestamptz[], $4::timestamptz[])`,
      params: [["a", "b"], [1, 2], [ISO, ISO], [ISO, ISO]]
    })
    // one row: still arrays
    expect(Build.insertRows(s, s.newColumns, encoded(s).slice(0, 4), 1).params).toEqual([["a"], [1], [ISO], [ISO]])
  })

  it("PostgreSQL: the array type of every column kind", () => {
    const s = pg(Sample)
    const record = {
      id: 1,
      meta: { tags: ["x"] },
      price: BigDecimal.unsafeFromString("12.50"),
      at: now,
      big: 9007199254740993n,
      flag: true,
      note: null
    }
    const values: Array<unknown> = []
    encodeRecord(s.keyedColumns, record, values)
    encodeRecord(s.keyedColumns, { ...record, id: 2, flag: false, note: "n" }, values)
    expect(Build.insertRows(s, s.keyedColumns, values, 2)).toEqual({
      text:
        `INSERT INTO "samples" ("id", "meta", "price", "at", "big", "flag", "note") SELECT * FROM UNNEST($1::int8[], $2::jsonb[], $3::numeric[], $4::timestamptz[], $5::int8[], $6::bool[], $7::text[])`,
      params: [
        [1, 2],
        [`{"tags":["x"]}`, `{"tags":["x"]}`],
        ["12.5", "12.5"],
        [ISO, ISO],
        ["9007199254740993", "9007199254740993"],
        [true, false],
        [null, "n"]
      ]
    })
  })

  it("PostgreSQL: a tenant's schema and a tenant column", () => {
    const s = pg(Page, "tenant_x")
    const values = ["home", "Home", ISO, ISO, "acme"]
    expect(Build.insertRows(s, s.newColumns, values, 1)).toEqual({
      text:
        `INSERT INTO "tenant_x"."pages" ("slug", "title", "created_at", "updated_at", "tenant_id") SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[])`,
      params: [["home"], ["Home"], [ISO], [ISO], ["acme"]]
    })
  })
})

describe("rowsPerStatement and rowsPerInsert", () => {
  it("VALUES rows: the parameter limit over the width, at most 1000, at least 1", () => {
    // SQLite: 32766 parameters
    expect(Build.rowsPerStatement(lite(Post), 4)).toBe(1000)
    expect(Build.rowsPerStatement(lite(Post), 33)).toBe(992)
    expect(Build.rowsPerStatement(lite(Post), 100)).toBe(327)
    expect(Build.rowsPerStatement(lite(Post), 32766)).toBe(1)
    expect(Build.rowsPerStatement(lite(Post), 40000)).toBe(1)
    // PostgreSQL and MySQL: 65535
    expect(Build.rowsPerStatement(pg(Post), 4)).toBe(1000)
    expect(Build.rowsPerStatement(pg(Post), 100)).toBe(655)
    expect(Build.rowsPerStatement(my(Post), 66)).toBe(992)
    expect(Build.rowsPerStatement(my(Post), 100)).toBe(655)
    expect(Build.rowsPerStatement(my(Post), 1)).toBe(1000)
  })

  it("bulk inserts: 10,000 UNNEST rows on PostgreSQL whatever the width; VALUES rows elsewhere", () => {
    expect(Build.rowsPerInsert(pg(Post), 4)).toBe(10_000)
    expect(Build.rowsPerInsert(pg(Post), 1000)).toBe(10_000)
    expect(Build.rowsPerInsert(lite(Post), 4)).toBe(1000)
    expect(Build.rowsPerInsert(lite(Post), 100)).toBe(327)
    expect(Build.rowsPerInsert(my(Post), 4)).toBe(1000)
    expect(Build.rowsPerInsert(my(Post), 100)).toBe(655)
  })

  it("a full statement stays under the limit", () => {
    for (const s of [lite(Sample), pg(Sample), my(Sample)]) {
      const width = s.columns.length
      const rows = Build.rowsPerStatement(s, width)
      expect(rows * width).toBeLessThanOrEqual(s.dialect.maxParams)
      const text = Build.insertValues(s, s.columns, rows, false)
      expect(text.match(s.dialect.name === "pg" ? /\$\d+/g : /\?/g)!.length).toBe(rows * width)
    }
  })
})

// ---------------------------------------------------------------------------
// updates
// ---------------------------------------------------------------------------

describe("setList", () => {
  const sets = (s: ModelStatements, patch: Record<string, unknown>) =>
    bound(s, (p) =>
      Build.setList(
        s,
        Object.keys(patch),
        (k) => p.bind(patch[k]),
        () => p.bind("now")
      ).join(", "))

  it("the patch's fields, then updatedAt", () => {
    expect(sets(pg(Post), { title: "t", views: 2 })).toEqual({
      text: `"title" = $1, "views" = $2, "updated_at" = $3`,
      params: ["t", 2, "now"]
    })
    expect(sets(lite(Post), { views: 2 })).toEqual({ text: `"views" = ?, "updated_at" = ?`, params: [2, "now"] })
    expect(sets(my(Post), { views: 2 })).toEqual({ text: "`views` = ?, `updated_at` = ?", params: [2, "now"] })
    expect(sets(pg(Post), {})).toEqual({ text: `"updated_at" = $1`, params: ["now"] })
  })

  it("then version = <table>.version + 1", () => {
    expect(sets(pg(Doc), { title: "t" })).toEqual({
      text: `"title" = $1, "updated_at" = $2, "version" = "docs"."version" + 1`,
      params: ["t", "now"]
    })
    expect(sets(my(Doc), { title: "t" })).toEqual({
      text: "`title` = ?, `updated_at` = ?, `version` = `docs`.`version` + 1",
      params: ["t", "now"]
    })
    expect(sets(pg(Doc, "tenant_x"), {})).toEqual({
      text: `"updated_at" = $1, "version" = "tenant_x"."docs"."version" + 1`,
      params: ["now"]
    })
    expect(sets(pg(Entry), { body: "b" })).toEqual({
      text: `"body" = $1, "updated_at" = $2, "version" = "entries"."version" + 1`,
      params: ["b", "now"]
    })
  })

  it("without timestamps or version: the patch alone, or nothing", () => {
    expect(sets(lite(Counter), { hits: 3 })).toEqual({ text: `"hits" = ?`, params: [3] })
    expect(sets(lite(Counter), {})).toEqual({ text: "", params: [] })
  })
})

describe("updateById", () => {
  const args = (over: Partial<Build.UpdateArgs>): Build.UpdateArgs => ({
    id: 9,
    tenant: undefined,
    patch: {},
    now,
    expectedVersion: undefined,
    ...over
  })

  it("a plain model, per dialect: the patch, updatedAt, the key; RETURNING where the dialect has it", () => {
    const a = args({ patch: { title: "t", views: 3 } })
    const sqlite = Build.updateById(lite(Post), shapeOf({ title: 0, views: 0 }), false)!
    expect(sqlite.text).toBe(
      `UPDATE "posts" SET "title" = ?, "views" = ?, "updated_at" = ? WHERE "id" = ? RETURNING "id", "title", "views", "created_at", "updated_at"`
    )
    expect(sqlite.params(a)).toEqual(["t", 3, ISO, 9])
    const postgres = Build.updateById(pg(Post), shapeOf({ title: 0, views: 0 }), false)!
    expect(postgres.text).toBe(
      `UPDATE "posts" SET "title" = $1, "views" = $2, "updated_at" = $3 WHERE "id" = $4 RETURNING "id", "title", "views", "created_at", "updated_at"`
    )
    expect(postgres.params(a)).toEqual(["t", 3, ISO, 9])
    const mysql = Build.updateById(my(Post), shapeOf({ title: 0, views: 0 }), false)!
    expect(mysql.text).toBe("UPDATE `posts` SET `title` = ?, `views` = ?, `updated_at` = ? WHERE `id` = ?")
    expect(mysql.params(a)).toEqual(["t", 3, MYSQL_NOW, 9])
  })

  it("the patch's key order is the SET order", () => {
    const plan = Build.updateById(pg(Post), shapeOf({ views: 0, title: 0 }), false)!
    expect(plan.text).toBe(`UPDATE "posts" SET "views" = $1, "title" = $2, "updated_at" = $3 WHERE "id" = $4 RETURNING ${POSTS.pg}`)
    expect(plan.params(args({ patch: { title: "t", views: 3 } }))).toEqual([3, "t", ISO, 9])
  })

  it("an empty patch still stamps updatedAt", () => {
    const plan = Build.updateById(pg(Post), shapeOf({}), false)!
    expect(plan.text).toBe(`UPDATE "posts" SET "updated_at" = $1 WHERE "id" = $2 RETURNING ${POSTS.pg}`)
    expect(plan.params(args({}))).toEqual([ISO, 9])
  })

  it("nothing to set without timestamps or version and an empty patch: undefined", () => {
    expect(Build.updateById(lite(Counter), shapeOf({}), false)).toBeUndefined()
    expect(Build.updateById(pg(Counter), shapeOf({}), false)).toBeUndefined()
    expect(Build.updateById(my(Counter), shapeOf({}), false)).toBeUndefined()
    const plan = Build.updateById(lite(Counter), shapeOf({ hits: 0 }), false)!
    expect(plan.text).toBe(`UPDATE "counters" SET "hits" = ? WHERE "name" = ? RETURNING "name", "hits"`)
    expect(plan.params(args({ id: "c", patch: { hits: 4 } }))).toEqual([4, "c"])
  })

  it("soft-deleted rows are not updated", () => {
    const plan = Build.updateById(pg(Note), shapeOf({ body: 0 }), false)!
    expect(plan.text).toBe(
      `UPDATE "notes" SET "body" = $1, "updated_at" = $2 WHERE "id" = $3 AND "deleted_at" IS NULL RETURNING ${NOTES.pg}`
    )
    expect(plan.params(args({ patch: { body: "b" } }))).toEqual(["b", ISO, 9])
  })

  it("versioned: version + 1, and the expected version last", () => {
    const unchecked = Build.updateById(pg(Doc), shapeOf({ title: 0 }), false)!
    expect(unchecked.text).toBe(
      `UPDATE "docs" SET "title" = $1, "updated_at" = $2, "version" = "docs"."version" + 1 WHERE "id" = $3 RETURNING ${DOCS.pg}`
    )
    expect(unchecked.params(args({ id: "d1", patch: { title: "t" } }))).toEqual(["t", ISO, "d1"])
    const checked = Build.updateById(pg(Doc), shapeOf({ title: 0 }), true)!
    expect(checked.text).toBe(
      `UPDATE "docs" SET "title" = $1, "updated_at" = $2, "version" = "docs"."version" + 1 WHERE "id" = $3 AND "version" = $4 RETURNING ${DOCS.pg}`
    )
    expect(checked.params(args({ id: "d1", patch: { title: "t" }, expectedVersion: 4 }))).toEqual(["t", ISO, "d1", 4])
    const mysql = Build.updateById(my(Doc), shapeOf({ title: 0 }), true)!
    expect(mysql.text).toBe(
      "UPDATE `docs` SET `title` = ?, `updated_at` = ?, `version` = `docs`.`version` + 1 WHERE `id` = ? AND `version` = ?"
    )
    expect(mysql.params(args({ id: "d1", patch: { title: "t" }, expectedVersion: 4 }))).toEqual(["t", MYSQL_NOW, "d1", 4])
  })

  it("every behaviour: key, tenant, live, expected version — in the order of the placeholders", () => {
    const plan = Build.updateById(pg(Entry), shapeOf({ body: 0 }), true)!
    expect(plan.text).toBe(
      `UPDATE "entries" SET "body" = $1, "updated_at" = $2, "version" = "entries"."version" + 1 WHERE "id" = $3 AND "tenant_id" = $4 AND "deleted_at" IS NULL AND "version" = $5 RETURNING ${ENTRIES.pg}`
    )
    expect(plan.params(args({ id: "e1", tenant: "acme", patch: { body: "b" }, expectedVersion: 2 }))).toEqual([
      "b",
      ISO,
      "e1",
      "acme",
      2
    ])
    const sqlite = Build.updateById(lite(Entry), shapeOf({ body: 0 }), true)!
    expect(sqlite.text).toBe(
      `UPDATE "entries" SET "body" = ?, "updated_at" = ?, "version" = "entries"."version" + 1 WHERE "id" = ? AND "tenant_id" = ? AND "deleted_at" IS NULL AND "version" = ? RETURNING "id", "body", "created_at", "updated_at", "deleted_at", "version", "tenant_id"`
    )
    expect(sqlite.params(args({ id: "e1", tenant: "acme", patch: { body: "b" }, expectedVersion: 2 }))).toEqual([
      "b",
      ISO,
      "e1",
      "acme",
      2
    ])
  })

  it("in a tenant's schema", () => {
    const plan = Build.updateById(my(Doc, "tenant_x"), shapeOf({}), false)!
    expect(plan.text).toBe(
      "UPDATE `tenant_x`.`docs` SET `updated_at` = ?, `version` = `tenant_x`.`docs`.`version` + 1 WHERE `id` = ?"
    )
    expect(plan.params(args({ id: "d1" }))).toEqual([MYSQL_NOW, "d1"])
  })

  it("the patch's values through the columns' codecs", () => {
    const patch = {
      meta: { tags: ["a", "b"] },
      price: BigDecimal.unsafeFromString("-1.50"),
      at: now,
      big: -5n,
      flag: true,
      note: null
    }
    const keys = shapeOf(patch)
    const sqlite = Build.updateById(lite(Sample), keys, false)!
    expect(sqlite.text).toBe(
      `UPDATE "samples" SET "meta" = ?, "price" = ?, "at" = ?, "big" = ?, "flag" = ?, "note" = ? WHERE "id" = ? RETURNING ${SAMPLES.sqlite}`
    )
    expect(sqlite.params(args({ id: 1, patch }))).toEqual([`{"tags":["a","b"]}`, "A4999884~", ISO, -5n, 1, null, 1])
    const postgres = Build.updateById(pg(Sample), keys, false)!
    expect(postgres.text).toBe(
      `UPDATE "samples" SET "meta" = $1, "price" = $2, "at" = $3, "big" = $4, "flag" = $5, "note" = $6 WHERE "id" = $7 RETURNING ${SAMPLES.pg}`
    )
    expect(postgres.params(args({ id: 1, patch }))).toEqual([`{"tags":["a","b"]}`, "-1.5", ISO, "-5", true, null, 1])
    const mysql = Build.updateById(my(Sample), keys, false)!
    expect(mysql.text).toBe(
      "UPDATE `samples` SET `meta` = ?, `price` = ?, `at` = ?, `big` = ?, `flag` = ?, `note` = ? WHERE `id` = ?"
    )
    expect(mysql.params(args({ id: 1, patch }))).toEqual([`{"tags":["a","b"]}`, "-1.5", MYSQL_NOW, "-5", 1, null, 1])
  })

  it("is made once per shape", () => {
    const s = pg(Entry)
    expect(Build.updateById(s, shapeOf({ body: "" }), true)).toBe(Build.updateById(s, shapeOf({ body: "" }), true))
    expect(Build.updateById(s, shapeOf({ body: "" }), false)).not.toBe(Build.updateById(s, shapeOf({ body: "" }), true))
    expect(Build.updateById(s, shapeOf({}), false)).not.toBe(Build.updateById(s, shapeOf({ body: "" }), false))
  })
})

// ---------------------------------------------------------------------------
// deletes and restores by key
// ---------------------------------------------------------------------------

describe("deleteById", () => {
  it("per dialect, with the tenant on tenant-scoped models", () => {
    const sqlite = Build.deleteById(lite(Post))
    expect(sqlite.text).toBe(`DELETE FROM "posts" WHERE "id" = ?`)
    expect(sqlite.params({ id: 5, tenant: undefined })).toEqual([5])
    expect(Build.deleteById(pg(Post)).text).toBe(`DELETE FROM "posts" WHERE "id" = $1`)
    expect(Build.deleteById(my(Post)).text).toBe("DELETE FROM `posts` WHERE `id` = ?")
    const page = Build.deleteById(pg(Page))
    expect(page.text).toBe(`DELETE FROM "pages" WHERE "id" = $1 AND "tenant_id" = $2`)
    expect(page.params({ id: 5, tenant: "acme" })).toEqual([5, "acme"])
    expect(Build.deleteById(my(Post, "tenant_x")).text).toBe("DELETE FROM `tenant_x`.`posts` WHERE `id` = ?")
    expect(Build.deleteById(pg(Post))).toBe(Build.deleteById(pg(Post)))
  })
})

describe("softDeleteById", () => {
  it("stamps deletedAt on a live row — an update: updatedAt and version move too; the stamps bound first", () => {
    const sqlite = Build.softDeleteById(lite(Note))
    expect(sqlite.text).toBe(`UPDATE "notes" SET "deleted_at" = ?, "updated_at" = ? WHERE "id" = ? AND "deleted_at" IS NULL`)
    expect(sqlite.params({ id: 5, tenant: undefined, now })).toEqual([ISO, ISO, 5])
    const postgres = Build.softDeleteById(pg(Note))
    expect(postgres.text).toBe(`UPDATE "notes" SET "deleted_at" = $1, "updated_at" = $2 WHERE "id" = $3 AND "deleted_at" IS NULL`)
    expect(postgres.params({ id: 5, tenant: undefined, now })).toEqual([ISO, ISO, 5])
    const mysql = Build.softDeleteById(my(Entry))
    expect(mysql.text).toBe(
      "UPDATE `entries` SET `deleted_at` = ?, `updated_at` = ?, `version` = `entries`.`version` + 1 WHERE `id` = ? AND `tenant_id` = ? AND `deleted_at` IS NULL"
    )
    expect(mysql.params({ id: "e1", tenant: "acme", now })).toEqual([MYSQL_NOW, MYSQL_NOW, "e1", "acme"])
    expect(Build.softDeleteById(pg(Entry)).text).toBe(
      `UPDATE "entries" SET "deleted_at" = $1, "updated_at" = $2, "version" = "entries"."version" + 1 WHERE "id" = $3 AND "tenant_id" = $4 AND "deleted_at" IS NULL`
    )
    expect(Build.softDeleteById(pg(Note))).toBe(Build.softDeleteById(pg(Note)))
  })
})

describe("restoreById", () => {
  it("clears deletedAt of a deleted row — an update: updatedAt and version move too", () => {
    const sqlite = Build.restoreById(lite(Note))
    expect(sqlite.text).toBe(`UPDATE "notes" SET "deleted_at" = NULL, "updated_at" = ? WHERE "id" = ? AND "deleted_at" IS NOT NULL`)
    expect(sqlite.params({ id: 5, tenant: undefined, now })).toEqual([ISO, 5])
    expect(Build.restoreById(pg(Note)).text).toBe(
      `UPDATE "notes" SET "deleted_at" = NULL, "updated_at" = $1 WHERE "id" = $2 AND "deleted_at" IS NOT NULL`
    )
    const mysql = Build.restoreById(my(Entry))
    expect(mysql.text).toBe(
      "UPDATE `entries` SET `deleted_at` = NULL, `updated_at` = ?, `version` = `entries`.`version` + 1 WHERE `id` = ? AND `tenant_id` = ? AND `deleted_at` IS NOT NULL"
    )
    expect(mysql.params({ id: "e1", tenant: "acme", now })).toEqual([MYSQL_NOW, "e1", "acme"])
    expect(Build.restoreById(pg(Note))).toBe(Build.restoreById(pg(Note)))
  })
})

// ---------------------------------------------------------------------------
// WHERE clauses, order and pages
// ---------------------------------------------------------------------------

describe("where", () => {
  it("no filter on a plain model: no clause", () => {
    const params = new Params(Dialect.pg)
    expect(Either.getOrThrow(where(pg(Post), undefined, params, scope()))).toEqual({ sql: "", condition: undefined })
    expect(Either.getOrThrow(where(pg(Post), {}, params, scope()))).toEqual({ sql: "", condition: undefined })
    expect(params.values).toEqual([])
  })

  it("the filter, then deleted_at IS NULL, then the tenant; values in text order", () => {
    const params = new Params(Dialect.pg)
    const result = Either.getOrThrow(where(pg(Entry), { body: "x" }, params, scope({ tenant: "acme" })))
    expect(result).toEqual({ sql: ` WHERE "body" = $1 AND "deleted_at" IS NULL AND "tenant_id" = $2`, condition: `"body" = $1` })
    expect(params.values).toEqual(["x", "acme"])
  })

  it("includeDeleted drops the soft-delete condition, never the tenant's", () => {
    const params = new Params(Dialect.mysql)
    expect(whereSql(my(Entry), { body: "x" }, params, { tenant: "acme", includeDeleted: true })).toBe(
      " WHERE `body` = ? AND `tenant_id` = ?"
    )
    expect(params.values).toEqual(["x", "acme"])
  })

  it("the scope alone when the filter holds for every row", () => {
    const params = new Params(Dialect.pg)
    const result = Either.getOrThrow(where(pg(Entry), { $not: { $or: [] } }, params, scope({ tenant: "acme" })))
    expect(result).toEqual({ sql: ` WHERE "deleted_at" IS NULL AND "tenant_id" = $1`, condition: undefined })
    expect(params.values).toEqual(["acme"])
    const note = new Params(Dialect.sqlite)
    expect(whereSql(lite(Note), undefined, note)).toBe(` WHERE "deleted_at" IS NULL`)
    expect(whereSql(lite(Note), undefined, note, { includeDeleted: true })).toBe("")
  })

  it("a filter no row meets is kept (and what it bound is dropped)", () => {
    const params = new Params(Dialect.pg)
    expect(whereSql(pg(Page), { $and: [{ slug: "a" }, { id: { $in: [] } }] }, params, { tenant: "acme" })).toBe(
      ` WHERE 1=0 AND "tenant_id" = $1`
    )
    expect(params.values).toEqual(["acme"])
  })

  it("composite filters: parentheses and numbering", () => {
    const params = new Params(Dialect.pg)
    const filter = { title: "a", views: { $gte: 1, $lt: 9 }, $or: [{ id: 1 }, { id: { $in: [2, 3] } }] }
    expect(whereSql(pg(Post), filter, params)).toBe(
      ` WHERE ("title" = $1 AND ("views" >= $2 AND "views" < $3) AND ("id" = $4 OR "id" IN ($5, $6)))`
    )
    expect(params.values).toEqual(["a", 1, 9, 1, 2, 3])
  })

  it("NULL tests and negations on a nullable column", () => {
    const params = new Params(Dialect.pg)
    expect(whereSql(pg(Sample), { note: { $ne: "x" }, $not: { note: null } }, params)).toBe(
      ` WHERE (("note" <> $1 OR "note" IS NULL) AND NOT COALESCE("note" IS NULL, FALSE))`
    )
    expect(params.values).toEqual(["x"])
    // on a column that is never NULL the test is a constant
    const constant = new Params(Dialect.pg)
    expect(whereSql(pg(Post), { title: { $null: false } }, constant)).toBe("")
    expect(whereSql(pg(Post), { title: null }, constant)).toBe(" WHERE 1=0")
  })

  it("long $in / $nin lists: one parameter per list (an array, JSON); short ones one per value", () => {
    const ids = Array.from({ length: 17 }, (_, i) => i + 1)
    const pgParams = new Params(Dialect.pg)
    expect(whereSql(pg(Post), { id: { $in: ids }, title: { $nin: ids.map(String) } }, pgParams)).toBe(
      ` WHERE ("id" = ANY($1::int8[]) AND NOT ("title" = ANY($2::text[])))`
    )
    expect(pgParams.values).toEqual([ids, ids.map(String)])
    const liteParams = new Params(Dialect.sqlite)
    expect(whereSql(lite(Post), { id: { $in: ids } }, liteParams)).toBe(` WHERE "id" IN (SELECT value FROM json_each(?))`)
    expect(liteParams.values).toEqual([JSON.stringify(ids)])
    const myParams = new Params(Dialect.mysql)
    expect(whereSql(my(Post), { title: { $in: ids.map(String) } }, myParams)).toBe(
      " WHERE `title` IN (SELECT v FROM JSON_TABLE(?, '$[*]' COLUMNS (v LONGTEXT PATH '$')) AS w)"
    )
    expect(myParams.values).toEqual([JSON.stringify(ids.map(String))])
    const short = new Params(Dialect.pg)
    expect(whereSql(pg(Post), { id: { $in: ids.slice(0, 16) } }, short)).toContain(`"id" IN ($1, $2,`)
  })

  it("SQLite binds long lists as JSON its json_each reads back as the column's values", () => {
    const params = new Params(Dialect.sqlite)
    const big = [2n ** 62n, -(2n ** 63n), ...Array.from({ length: 15 }, (_, i) => BigInt(i))]
    const Floats = Model.make("Floats", Schema.Struct({ id: Schema.Int, big: Schema.BigIntFromSelf, x: Schema.Number }))
    whereSql(lite(Floats), { big: { $in: big }, x: { $in: [2 ** 60, -100200295513759310, ...Array.from({ length: 15 }, (_, i) => i)] } }, params)
    expect(params.values[0]).toBe(`[${big.join(",")}]`)
    // integral doubles past 2^53 as exponents: json_each reads them as REAL, equal to the double
    expect(params.values[1]).toBe(`[1.152921504606847e+18,-1.0020029551375931e+17,${Array.from({ length: 15 }, (_, i) => i).join(",")}]`)
  })

  it("JSON-array operators per dialect, the elements written by the column's codec", () => {
    const Art = Model.make("Art", Schema.Struct({ id: Schema.Int, tags: Schema.NullOr(Schema.Array(Schema.String)), nums: Schema.Array(Schema.Number) }))
    const filter = { tags: { $has: "a", $hasAny: ["b", "c"] }, nums: { $hasAll: [1], $size: { $gt: 0 } } }
    const pgParams = new Params(Dialect.pg)
    expect(whereSql(pg(Art), filter, pgParams)).toBe(
      ` WHERE (("tags" @> CAST($1 AS jsonb) AND EXISTS (SELECT 1 FROM jsonb_array_elements("tags") AS e(v) WHERE (e.v IN (SELECT w.v FROM jsonb_array_elements(CAST($2 AS jsonb)) AS w(v))) IS TRUE)) AND ("nums" @> CAST($3 AS jsonb) AND jsonb_array_length("nums") > $4))`
    )
    expect(pgParams.values).toEqual([`["a"]`, `["b","c"]`, `[1]`, 0])
    const liteParams = new Params(Dialect.sqlite)
    expect(whereSql(lite(Art), { tags: { $hasAll: ["a"] } }, liteParams)).toBe(
      ` WHERE ("tags" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(?) AS w WHERE w.value NOT IN (SELECT value FROM json_each("tags"))))`
    )
    const myParams = new Params(Dialect.mysql)
    expect(whereSql(my(Art), { tags: { $hasAny: ["a"] }, nums: { $has: 1 } }, myParams)).toBe(
      " WHERE (JSON_OVERLAPS(`tags`, ?) AND (`nums` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM JSON_TABLE(?, '$[*]' COLUMNS (v DOUBLE PATH '$')) AS w WHERE w.v NOT IN (SELECT e.v FROM JSON_TABLE(`nums`, '$[*]' COLUMNS (v DOUBLE PATH '$')) AS e))))"
    )
    // empty lists fold: $hasAny none, $hasAll every non-NULL array
    const folded = new Params(Dialect.pg)
    expect(whereSql(pg(Art), { tags: { $hasAll: [] }, nums: { $hasAll: [] } }, folded)).toBe(` WHERE "tags" IS NOT NULL`)
    expect(whereSql(pg(Art), { tags: { $hasAny: [] } }, folded)).toBe(" WHERE 1=0")
  })

  it("JSON paths per dialect: the path bound where it is read, in text order", () => {
    const Doc = Model.make("Doc", Schema.Struct({ id: Schema.Int, meta: Schema.Struct({ a: Schema.Struct({ b: Schema.String }), n: Schema.Number }) }))
    const pgParams = new Params(Dialect.pg)
    expect(whereSql(pg(Doc), { meta: { $path: ["a", "b"], $eq: "x" } }, pgParams)).toBe(
      ` WHERE (jsonb_typeof(jsonb_path_query_first("meta", CAST($1 AS jsonpath), '{}', TRUE)) = 'string' AND (jsonb_path_query_first("meta", CAST($2 AS jsonpath), '{}', TRUE) #>> '{}') COLLATE "C" = $3)`
    )
    expect(pgParams.values).toEqual([`strict $."a"."b"`, `strict $."a"."b"`, "x"])
    const liteParams = new Params(Dialect.sqlite)
    expect(whereSql(lite(Doc), { meta: { $path: ["n"], $ne: 1 } }, liteParams)).toBe(
      ` WHERE NOT COALESCE((json_type("meta", ?) IN ('integer', 'real') AND json_extract("meta", ?) = ?), FALSE)`
    )
    expect(liteParams.values).toEqual([`$."n"`, `$."n"`, 1])
    const myParams = new Params(Dialect.mysql)
    expect(whereSql(my(Doc), { meta: { $path: ["a"], $null: true } }, myParams)).toBe(
      " WHERE COALESCE(JSON_TYPE(JSON_EXTRACT(`meta`, ?)), 'NULL') = 'NULL'"
    )
    expect(myParams.values).toEqual([`$."a"`])
  })

  it("text operators per dialect", () => {
    const sqlite = new Params(Dialect.sqlite)
    expect(whereSql(lite(Post), { title: { $startsWith: "ab" } }, sqlite)).toBe(` WHERE substr("title", 1, length(?)) = ?`)
    expect(sqlite.values).toEqual(["ab", "ab"])
    const sqliteEnd = new Params(Dialect.sqlite)
    expect(whereSql(lite(Post), { title: { $endsWith: "z" } }, sqliteEnd)).toBe(
      ` WHERE (length("title") >= length(?) AND substr("title", length("title") - length(?) + 1) = ?)`
    )
    expect(sqliteEnd.values).toEqual(["z", "z", "z"])
    const sqliteLike = new Params(Dialect.sqlite)
    expect(whereSql(lite(Post), { title: { $like: "a_%" }, views: 1 }, sqliteLike)).toBe(` WHERE ("title" GLOB ? AND "views" = ?)`)
    expect(sqliteLike.values).toEqual(["a?*", 1])
    const postgres = new Params(Dialect.pg)
    expect(whereSql(pg(Post), { title: { $contains: "x_y" } }, postgres)).toBe(` WHERE "title" LIKE $1 ESCAPE '!'`)
    expect(postgres.values).toEqual(["%x!_y%"])
    const mysql = new Params(Dialect.mysql)
    expect(whereSql(my(Post), { title: { $ilike: "a\\%b%" } }, mysql)).toBe(" WHERE LOWER(`title`) LIKE LOWER(?) ESCAPE '!'")
    expect(mysql.values).toEqual(["a!%b%"])
  })

  it("filter values through the columns' codecs", () => {
    const filter = { at: { $gt: now }, flag: true, big: 7n, price: BigDecimal.unsafeFromString("0") }
    const sqlite = new Params(Dialect.sqlite)
    expect(whereSql(lite(Sample), filter, sqlite)).toBe(` WHERE ("at" > ? AND "flag" = ? AND "big" = ? AND "price" = ?)`)
    expect(sqlite.values).toEqual([ISO, 1, 7n, "B"])
    const postgres = new Params(Dialect.pg)
    expect(whereSql(pg(Sample), filter, postgres)).toBe(` WHERE ("at" > $1 AND "flag" = $2 AND "big" = $3 AND "price" = $4)`)
    expect(postgres.values).toEqual([ISO, true, "7", "0"])
    const mysql = new Params(Dialect.mysql)
    expect(whereSql(my(Sample), filter, mysql)).toBe(" WHERE (`at` > ? AND `flag` = ? AND `big` = ? AND `price` = ?)")
    expect(mysql.values).toEqual([MYSQL_NOW, 1, "7", "0"])
  })

  it("numbering continues after values already bound", () => {
    const params = new Params(Dialect.pg)
    params.bind("set 1")
    params.bind("set 2")
    expect(whereSql(pg(Page), { slug: "a" }, params, { tenant: "acme" })).toBe(` WHERE "slug" = $3 AND "tenant_id" = $4`)
    expect(params.values).toEqual(["set 1", "set 2", "a", "acme"])
  })

  it("an invalid filter is an InvalidFilter naming its path, not SQL", () => {
    const result = where(pg(Post), { views: { $gt: "x" } }, new Params(Dialect.pg), scope())
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left._tag).toBe("InvalidFilter")
      expect(result.left.path).toBe("views.$gt")
    }
  })
})

describe("orderBy", () => {
  const terms = (s: ModelStatements, direction: "asc" | "desc"): ReadonlyArray<OrderTerm> => [
    { column: col(s, "note"), direction, nullable: true },
    { column: col(s, "id"), direction, nullable: false }
  ]

  it("NULLS FIRST / LAST only on PostgreSQL, only for nullable columns", () => {
    expect(orderBy(pg(Sample), terms(pg(Sample), "asc"))).toBe(` ORDER BY "note" ASC NULLS FIRST, "id" ASC`)
    expect(orderBy(pg(Sample), terms(pg(Sample), "desc"))).toBe(` ORDER BY "note" DESC NULLS LAST, "id" DESC`)
    expect(orderBy(lite(Sample), terms(lite(Sample), "asc"))).toBe(` ORDER BY "note" ASC, "id" ASC`)
    expect(orderBy(lite(Sample), terms(lite(Sample), "desc"))).toBe(` ORDER BY "note" DESC, "id" DESC`)
    expect(orderBy(my(Sample), terms(my(Sample), "asc"))).toBe(" ORDER BY `note` ASC, `id` ASC")
    expect(orderBy(my(Sample), terms(my(Sample), "desc"))).toBe(" ORDER BY `note` DESC, `id` DESC")
  })

  it("mixed directions on NOT NULL columns", () => {
    const s = pg(Post)
    expect(orderBy(s, [
      { column: col(s, "views"), direction: "desc", nullable: false },
      { column: col(s, "id"), direction: "asc", nullable: false }
    ])).toBe(` ORDER BY "views" DESC, "id" ASC`)
  })
})

describe("keyset", () => {
  const after = (s: ModelStatements, terms: ReadonlyArray<OrderTerm>, values: ReadonlyArray<unknown>) =>
    bound(s, (p) => keyset(terms, values, p))

  it("one term", () => {
    const s = pg(Post)
    expect(after(s, [{ column: col(s, "id"), direction: "asc", nullable: false }], [5])).toEqual({
      text: `("id" > $1)`,
      params: [5]
    })
    expect(after(s, [{ column: col(s, "id"), direction: "desc", nullable: false }], [5])).toEqual({
      text: `("id" < $1)`,
      params: [5]
    })
  })

  it("a NOT NULL first term: a redundant range bound read first, then the disjunction in text order", () => {
    const s = pg(Post)
    const terms: ReadonlyArray<OrderTerm> = [
      { column: col(s, "views"), direction: "desc", nullable: false },
      { column: col(s, "id"), direction: "asc", nullable: false }
    ]
    expect(after(s, terms, [10, 4])).toEqual({
      text: `"views" <= $1 AND ("views" < $2 OR ("views" = $3 AND "id" > $4))`,
      params: [10, 10, 10, 4]
    })
    const mysql = my(Post)
    expect(after(mysql, [
      { column: col(mysql, "views"), direction: "asc", nullable: false },
      { column: col(mysql, "id"), direction: "asc", nullable: false }
    ], [10, 4])).toEqual({
      text: "`views` >= ? AND (`views` > ? OR (`views` = ? AND `id` > ?))",
      params: [10, 10, 10, 4]
    })
  })

  it("a nullable first term: NULL sorts first ascending and last descending", () => {
    const s = pg(Sample)
    const asc: ReadonlyArray<OrderTerm> = [
      { column: col(s, "note"), direction: "asc", nullable: true },
      { column: col(s, "id"), direction: "asc", nullable: false }
    ]
    const desc: ReadonlyArray<OrderTerm> = [
      { column: col(s, "note"), direction: "desc", nullable: true },
      { column: col(s, "id"), direction: "desc", nullable: false }
    ]
    expect(after(s, asc, ["m", 7])).toEqual({ text: `("note" > $1 OR ("note" = $2 AND "id" > $3))`, params: ["m", "m", 7] })
    expect(after(s, asc, [null, 7])).toEqual({
      text: `("note" IS NOT NULL OR ("note" IS NULL AND "id" > $1))`,
      params: [7]
    })
    expect(after(s, desc, ["m", 7])).toEqual({
      text: `(("note" < $1 OR "note" IS NULL) OR ("note" = $2 AND "id" < $3))`,
      params: ["m", "m", 7]
    })
    expect(after(s, desc, [null, 7])).toEqual({ text: `(("note" IS NULL AND "id" < $1))`, params: [7] })
    // nothing sorts after a NULL descending
    expect(after(s, desc.slice(0, 1), [null])).toEqual({ text: "1=0", params: [] })
  })

  it("values through the codecs", () => {
    const s = my(Sample)
    const terms: ReadonlyArray<OrderTerm> = [
      { column: col(s, "at"), direction: "asc", nullable: false },
      { column: col(s, "id"), direction: "asc", nullable: false }
    ]
    expect(after(s, terms, [now, 3])).toEqual({
      text: "`at` >= ? AND (`at` > ? OR (`at` = ? AND `id` > ?))",
      params: [MYSQL_NOW, MYSQL_NOW, MYSQL_NOW, 3]
    })
  })
})

describe("count", () => {
  it("under a WHERE clause, or none", () => {
    expect(Build.count(lite(Post), "")).toBe(`SELECT COUNT(*) AS n FROM "posts"`)
    expect(Build.count(my(Post), "")).toBe("SELECT COUNT(*) AS n FROM `posts`")
    const s = pg(Entry)
    expect(bound(s, (p) => Build.count(s, whereSql(s, { body: { $ne: "x" } }, p, { tenant: "acme" })))).toEqual({
      text: `SELECT COUNT(*) AS n FROM "entries" WHERE "body" <> $1 AND "deleted_at" IS NULL AND "tenant_id" = $2`,
      params: ["x", "acme"]
    })
    expect(Build.count(pg(Post, "tenant_x"), "")).toBe(`SELECT COUNT(*) AS n FROM "tenant_x"."posts"`)
  })
})

describe("select", () => {
  const page = (s: ModelStatements, limit: number | undefined, offset: number | undefined, columns = s.columns) =>
    bound(s, (p) =>
      Build.select(s, {
        columns,
        where: whereSql(s, { views: { $gte: 1 } }, p),
        orderBy: orderBy(s, [
          { column: col(s, "views"), direction: "desc", nullable: false },
          { column: col(s, "id"), direction: "asc", nullable: false }
        ]),
        limit,
        offset
      }))

  it("SQLite: LIMIT -1 when only an offset is given", () => {
    const s = lite(Post)
    expect(page(s, 10, 20)).toEqual({
      text: `SELECT ${POSTS.sqlite} FROM "posts" WHERE "views" >= ? ORDER BY "views" DESC, "id" ASC LIMIT 10 OFFSET 20`,
      params: [1]
    })
    expect(page(s, undefined, 20).text).toBe(
      `SELECT ${POSTS.sqlite} FROM "posts" WHERE "views" >= ? ORDER BY "views" DESC, "id" ASC LIMIT -1 OFFSET 20`
    )
    expect(page(s, 10, undefined).text).toBe(`SELECT ${POSTS.sqlite} FROM "posts" WHERE "views" >= ? ORDER BY "views" DESC, "id" ASC LIMIT 10`)
    expect(page(s, undefined, undefined).text).toBe(`SELECT ${POSTS.sqlite} FROM "posts" WHERE "views" >= ? ORDER BY "views" DESC, "id" ASC`)
  })

  it("PostgreSQL: LIMIT and OFFSET each on its own", () => {
    const s = pg(Post)
    expect(page(s, 10, 20)).toEqual({
      text: `SELECT ${POSTS.pg} FROM "posts" WHERE "views" >= $1 ORDER BY "views" DESC, "id" ASC LIMIT 10 OFFSET 20`,
      params: [1]
    })
    expect(page(s, undefined, 20).text).toBe(`SELECT ${POSTS.pg} FROM "posts" WHERE "views" >= $1 ORDER BY "views" DESC, "id" ASC OFFSET 20`)
    expect(page(s, 10, undefined).text).toBe(`SELECT ${POSTS.pg} FROM "posts" WHERE "views" >= $1 ORDER BY "views" DESC, "id" ASC LIMIT 10`)
    expect(page(s, 0, undefined).text).toBe(`SELECT ${POSTS.pg} FROM "posts" WHERE "views" >= $1 ORDER BY "views" DESC, "id" ASC LIMIT 0`)
  })

  it("MySQL: the largest LIMIT when only an offset is given", () => {
    const s = my(Post)
    expect(page(s, 10, 20)).toEqual({
      text: `SELECT ${POSTS.mysql} FROM \`posts\` WHERE \`views\` >= ? ORDER BY \`views\` DESC, \`id\` ASC LIMIT 10 OFFSET 20`,
      params: [1]
    })
    expect(page(s, undefined, 20).text).toBe(
      `SELECT ${POSTS.mysql} FROM \`posts\` WHERE \`views\` >= ? ORDER BY \`views\` DESC, \`id\` ASC LIMIT 18446744073709551615 OFFSET 20`
    )
    expect(page(s, undefined, undefined).text).toBe(`SELECT ${POSTS.mysql} FROM \`posts\` WHERE \`views\` >= ? ORDER BY \`views\` DESC, \`id\` ASC`)
  })

  it("a projection: its columns, through the dialect's select expressions", () => {
    expect(page(pg(Post), 5, undefined, cols(pg(Post), "id", "title")).text).toBe(
      `SELECT "id", "title" FROM "posts" WHERE "views" >= $1 ORDER BY "views" DESC, "id" ASC LIMIT 5`
    )
    expect(page(my(Post), 5, undefined, cols(my(Post), "id", "createdAt")).text).toBe(
      "SELECT `id`, DATE_FORMAT(`created_at`, '%Y-%m-%d %H:%i:%s.%f') AS `created_at` FROM `posts` WHERE `views` >= ? ORDER BY `views` DESC, `id` ASC LIMIT 5"
    )
  })

  it("a keyset page: the filter, the scope, then the keyset condition", () => {
    const s = pg(Page)
    const params = new Params(s.dialect)
    const terms: ReadonlyArray<OrderTerm> = [
      { column: col(s, "title"), direction: "asc", nullable: false },
      { column: col(s, "id"), direction: "asc", nullable: false }
    ]
    const filtered = whereSql(s, { slug: { $ne: "x" } }, params, { tenant: "acme" })
    const text = Build.select(s, {
      columns: s.columns,
      where: `${filtered} AND ${keyset(terms, ["T", 3], params)}`,
      orderBy: orderBy(s, terms),
      limit: 2,
      offset: undefined
    })
    expect(text).toBe(
      `SELECT ${PAGES.pg} FROM "pages" WHERE "slug" <> $1 AND "tenant_id" = $2 AND "title" >= $3 AND ("title" > $4 OR ("title" = $5 AND "id" > $6)) ORDER BY "title" ASC, "id" ASC LIMIT 2`
    )
    expect(params.values).toEqual(["x", "acme", "T", "T", "T", 3])
  })
})

describe("selectRanked", () => {
  const ranked = (s: ModelStatements, limit: number | undefined, offset: number | undefined, columns = s.columns) =>
    bound(s, (p) =>
      Build.selectRanked(s, {
        columns,
        where: whereSql(s, { views: { $in: [1, 2] } }, p),
        orderBy: orderBy(s, [
          { column: col(s, "title"), direction: "desc", nullable: true },
          { column: col(s, "id"), direction: "asc", nullable: false }
        ]),
        partition: col(s, "views"),
        limit,
        offset
      }))

  it("the rows of each value numbered in the page's order, those of the page kept, per dialect", () => {
    expect(ranked(lite(Post), 3, 2)).toEqual({
      text: `SELECT ${POSTS.sqlite} FROM (SELECT "posts".*, ROW_NUMBER() OVER (PARTITION BY "views" ORDER BY "title" DESC, "id" ASC) ` +
        `AS "__rank" FROM "posts" WHERE "views" IN (?, ?)) "ranked" WHERE "__rank" > 2 AND "__rank" <= 5 ORDER BY "title" DESC, "id" ASC`,
      params: [1, 2]
    })
    expect(ranked(pg(Post), 3, undefined)).toEqual({
      text: `SELECT ${POSTS.pg} FROM (SELECT "posts".*, ROW_NUMBER() OVER (PARTITION BY "views" ORDER BY "title" DESC NULLS LAST, "id" ASC) ` +
        `AS "__rank" FROM "posts" WHERE "views" IN ($1, $2)) "ranked" WHERE "__rank" <= 3 ORDER BY "title" DESC NULLS LAST, "id" ASC`,
      params: [1, 2]
    })
    expect(ranked(my(Post), undefined, 4).text).toBe(
      `SELECT ${POSTS.mysql} FROM (SELECT \`posts\`.*, ROW_NUMBER() OVER (PARTITION BY \`views\` ORDER BY \`title\` DESC, \`id\` ASC) ` +
        "AS `__rank` FROM `posts` WHERE `views` IN (?, ?)) `ranked` WHERE `__rank` > 4 ORDER BY `title` DESC, `id` ASC"
    )
    expect(ranked(pg(Post), undefined, 0).text).not.toContain(`"ranked" WHERE`)
  })

  it("a projection and a tenant's schema: the columns asked, the table qualified", () => {
    const s = pg(Post, "tenant_x")
    expect(ranked(s, 1, undefined, cols(s, "id", "views")).text).toBe(
      `SELECT "id", "views" FROM (SELECT "tenant_x"."posts".*, ROW_NUMBER() OVER (PARTITION BY "views" ORDER BY "title" DESC NULLS LAST, "id" ASC) ` +
        `AS "__rank" FROM "tenant_x"."posts" WHERE "views" IN ($1, $2)) "ranked" WHERE "__rank" <= 1 ORDER BY "title" DESC NULLS LAST, "id" ASC`
    )
  })
})

// ---------------------------------------------------------------------------
// many rows under a WHERE clause
// ---------------------------------------------------------------------------

describe("updateWhere", () => {
  /** As bulkUpdate writes it: the SET values bound first, then the WHERE clause's. */
  const updateWhere = (s: ModelStatements, patch: Record<string, unknown>, filter: unknown, tenant?: string) =>
    bound(s, (p) => {
      const sets = Build.setList(
        s,
        Object.keys(patch),
        (k) => p.bind(col(s, k).toDb(patch[k])),
        () => p.bind(col(s, "updatedAt").toDb(now))
      )
      return Build.updateWhere(s, sets, whereSql(s, filter, p, { tenant }))
    })

  it("SET values before the WHERE values, per dialect", () => {
    expect(updateWhere(pg(Post), { title: "t" }, { views: { $lt: 5 } })).toEqual({
      text: `UPDATE "posts" SET "title" = $1, "updated_at" = $2 WHERE "views" < $3`,
      params: ["t", ISO, 5]
    })
    expect(updateWhere(lite(Post), { title: "t" }, { views: { $lt: 5 } })).toEqual({
      text: `UPDATE "posts" SET "title" = ?, "updated_at" = ? WHERE "views" < ?`,
      params: ["t", ISO, 5]
    })
    expect(updateWhere(my(Post), { title: "t" }, { views: { $lt: 5 } })).toEqual({
      text: "UPDATE `posts` SET `title` = ?, `updated_at` = ? WHERE `views` < ?",
      params: ["t", MYSQL_NOW, 5]
    })
  })

  it("every row: no WHERE clause", () => {
    expect(updateWhere(pg(Post), { views: 0 }, undefined)).toEqual({
      text: `UPDATE "posts" SET "views" = $1, "updated_at" = $2`,
      params: [0, ISO]
    })
  })

  it("every behaviour: version + 1, live rows of the tenant", () => {
    expect(updateWhere(pg(Entry), { body: "b" }, { body: "a" }, "acme")).toEqual({
      text:
        `UPDATE "entries" SET "body" = $1, "updated_at" = $2, "version" = "entries"."version" + 1 WHERE "body" = $3 AND "deleted_at" IS NULL AND "tenant_id" = $4`,
      params: ["b", ISO, "a", "acme"]
    })
    expect(updateWhere(my(Entry), { body: "b" }, { body: "a" }, "acme")).toEqual({
      text:
        "UPDATE `entries` SET `body` = ?, `updated_at` = ?, `version` = `entries`.`version` + 1 WHERE `body` = ? AND `deleted_at` IS NULL AND `tenant_id` = ?",
      params: ["b", MYSQL_NOW, "a", "acme"]
    })
  })
})

describe("deleteWhere", () => {
  it("under the filter and the tenant", () => {
    const s = pg(Page)
    expect(bound(s, (p) => Build.deleteWhere(s, whereSql(s, { slug: { $in: ["a", "b"] } }, p, { tenant: "acme" })))).toEqual({
      text: `DELETE FROM "pages" WHERE "slug" IN ($1, $2) AND "tenant_id" = $3`,
      params: ["a", "b", "acme"]
    })
    const sqlite = lite(Post)
    expect(bound(sqlite, (p) => Build.deleteWhere(sqlite, whereSql(sqlite, { views: 0 }, p)))).toEqual({
      text: `DELETE FROM "posts" WHERE "views" = ?`,
      params: [0]
    })
    expect(Build.deleteWhere(my(Post), "")).toBe("DELETE FROM `posts`")
  })
})

describe("softDeleteSets", () => {
  /** As bulkDelete writes it: the SET values bound before the WHERE clause's values. */
  const softDeleteWhere = (s: ModelStatements, filter: unknown, tenant?: string) =>
    bound(s, (p) => {
      const sets = Build.softDeleteSets(s, p, now)
      return Build.updateWhere(s, sets, whereSql(s, filter, p, { tenant }))
    })

  it("the stamps first (deletedAt, updatedAt, version), live rows only", () => {
    expect(softDeleteWhere(pg(Note), { body: "x" })).toEqual({
      text: `UPDATE "notes" SET "deleted_at" = $1, "updated_at" = $2 WHERE "body" = $3 AND "deleted_at" IS NULL`,
      params: [ISO, ISO, "x"]
    })
    expect(softDeleteWhere(lite(Note), undefined)).toEqual({
      text: `UPDATE "notes" SET "deleted_at" = ?, "updated_at" = ? WHERE "deleted_at" IS NULL`,
      params: [ISO, ISO]
    })
    expect(softDeleteWhere(my(Entry), { body: "x" }, "acme")).toEqual({
      text: "UPDATE `entries` SET `deleted_at` = ?, `updated_at` = ?, `version` = `entries`.`version` + 1 WHERE `body` = ? AND `deleted_at` IS NULL AND `tenant_id` = ?",
      params: [MYSQL_NOW, MYSQL_NOW, "x", "acme"]
    })
  })
})

// ---------------------------------------------------------------------------
// upserts
// ---------------------------------------------------------------------------

describe("conflictColumns", () => {
  it("the fields; the tenant first on tenant-scoped models", () => {
    expect(Build.conflictColumns(pg(Tag), ["slug"]).map((c) => c.quoted)).toEqual([`"slug"`])
    expect(Build.conflictColumns(pg(Pair), ["code"]).map((c) => c.quoted)).toEqual([`"code"`])
    expect(Build.conflictColumns(pg(Page), ["slug"]).map((c) => c.quoted)).toEqual([`"tenant_id"`, `"slug"`])
    expect(Build.conflictColumns(my(Entry), ["id"]).map((c) => c.quoted)).toEqual(["`tenant_id`", "`id`"])
  })
})

describe("upsertReturningFlag", () => {
  const upsert = (s: ModelStatements, input: {
    readonly columns: ModelStatements["columns"]
    readonly record: Record<string, unknown>
    readonly on: ReadonlyArray<string>
    readonly patch: Record<string, unknown>
  }) =>
    bound(s, (p) =>
      Build.upsertReturningFlag(s, p, {
        columns: input.columns,
        record: input.record,
        conflict: Build.conflictColumns(s, input.on),
        patch: input.patch,
        now
      }))

  it("PostgreSQL: INSERT, ON CONFLICT DO UPDATE with the patch and updatedAt, RETURNING the row and the flag", () => {
    const s = pg(Tag)
    expect(upsert(s, {
      columns: s.keyedColumns,
      record: { slug: "a", label: "A", createdAt: now, updatedAt: now },
      on: ["slug"],
      patch: { label: "B" }
    })).toEqual({
      text:
        `INSERT INTO "tags" ("slug", "label", "created_at", "updated_at") VALUES ($1, $2, $3, $4) ON CONFLICT ("slug") DO UPDATE SET "label" = $5, "updated_at" = $6 RETURNING "slug", "label", "created_at", "updated_at", (xmax = 0) AS "__created"`,
      params: ["a", "A", ISO, ISO, "B", ISO]
    })
  })

  it("tenant-scoped: the conflict per tenant", () => {
    const s = pg(Page)
    expect(upsert(s, {
      columns: s.newColumns,
      record: { slug: "home", title: "Home", createdAt: now, updatedAt: now, tenantId: "acme" },
      on: ["slug"],
      patch: { title: "New" }
    })).toEqual({
      text:
        `INSERT INTO "pages" ("slug", "title", "created_at", "updated_at", "tenant_id") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("tenant_id", "slug") DO UPDATE SET "title" = $6, "updated_at" = $7 RETURNING ${PAGES.pg}, (xmax = 0) AS "__created"`,
      params: ["home", "Home", ISO, ISO, "acme", "New", ISO]
    })
  })

  it("versioned: version + 1 even with an empty patch", () => {
    const s = pg(Doc)
    expect(upsert(s, {
      columns: s.keyedColumns,
      record: { id: "d1", title: "T", createdAt: now, updatedAt: now, version: 1 },
      on: ["id"],
      patch: {}
    })).toEqual({
      text:
        `INSERT INTO "docs" ("id", "title", "created_at", "updated_at", "version") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO UPDATE SET "updated_at" = $6, "version" = "docs"."version" + 1 RETURNING ${DOCS.pg}, (xmax = 0) AS "__created"`,
      params: ["d1", "T", ISO, ISO, 1, ISO]
    })
  })

  it("nothing to set: a no-op assignment of the conflict column, so RETURNING still has the row", () => {
    const s = pg(Counter)
    expect(upsert(s, { columns: s.keyedColumns, record: { name: "c", hits: 1 }, on: ["name"], patch: {} })).toEqual({
      text:
        `INSERT INTO "counters" ("name", "hits") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "name" = excluded."name" RETURNING "name", "hits", (xmax = 0) AS "__created"`,
      params: ["c", 1]
    })
    expect(upsert(s, { columns: s.keyedColumns, record: { name: "c", hits: 1 }, on: ["name"], patch: { hits: 2 } })).toEqual({
      text:
        `INSERT INTO "counters" ("name", "hits") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "hits" = $3 RETURNING "name", "hits", (xmax = 0) AS "__created"`,
      params: ["c", 1, 2]
    })
  })

  it("record values and patch values through the codecs", () => {
    const s = pg(Sample)
    const record = {
      id: 1,
      meta: { tags: [] },
      price: BigDecimal.unsafeFromString("3"),
      at: now,
      big: 1n,
      flag: false,
      note: null
    }
    expect(upsert(s, { columns: s.keyedColumns, record, on: ["id"], patch: { flag: true, big: 2n } })).toEqual({
      text:
        `INSERT INTO "samples" ("id", "meta", "price", "at", "big", "flag", "note") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ("id") DO UPDATE SET "flag" = $8, "big" = $9 RETURNING ${SAMPLES.pg}, (xmax = 0) AS "__created"`,
      params: [1, `{"tags":[]}`, "3", ISO, "1", false, null, true, "2"]
    })
  })
})

describe("lockingLookup", () => {
  const lookup = (s: ModelStatements, keys: Record<string, unknown>, tenant?: string) =>
    bound(s, (p) => Build.lockingLookup(s, whereSql(s, keys, p, { tenant, includeDeleted: true })))

  it("the key of the matching row, LIMIT 1, locked on PostgreSQL and MySQL", () => {
    expect(lookup(lite(Page), { slug: "home" }, "acme")).toEqual({
      text: `SELECT "id" AS id FROM "pages" WHERE "slug" = ? AND "tenant_id" = ? LIMIT 1`,
      params: ["home", "acme"]
    })
    expect(lookup(pg(Page), { slug: "home" }, "acme")).toEqual({
      text: `SELECT "id" AS id FROM "pages" WHERE "slug" = $1 AND "tenant_id" = $2 LIMIT 1 FOR UPDATE`,
      params: ["home", "acme"]
    })
    expect(lookup(my(Page), { slug: "home" }, "acme")).toEqual({
      text: "SELECT `id` AS id FROM `pages` WHERE `slug` = ? AND `tenant_id` = ? LIMIT 1 FOR UPDATE",
      params: ["home", "acme"]
    })
  })

  it("soft-delete models: deleted rows too, with their deletion stamp", () => {
    expect(lookup(pg(Entry), { id: "e1" }, "acme")).toEqual({
      text: `SELECT "id" AS id, "deleted_at" AS deleted FROM "entries" WHERE "id" = $1 AND "tenant_id" = $2 LIMIT 1 FOR UPDATE`,
      params: ["e1", "acme"]
    })
    expect(lookup(lite(Note), { id: 4 })).toEqual({
      text: `SELECT "id" AS id, "deleted_at" AS deleted FROM "notes" WHERE "id" = ? LIMIT 1`,
      params: [4]
    })
    expect(lookup(my(Note, "tenant_x"), { id: 4 })).toEqual({
      text: "SELECT `id` AS id, `deleted_at` AS deleted FROM `tenant_x`.`notes` WHERE `id` = ? LIMIT 1 FOR UPDATE",
      params: [4]
    })
  })
})

describe("revive", () => {
  const record = { body: "new", createdAt: now, updatedAt: now, deletedAt: null }

  it("every column but the key from the record, NULL where the record has no value", () => {
    expect(bound(lite(Note), (p) => Build.revive(lite(Note), p, { id: 5, tenant: undefined }, record))).toEqual({
      text: `UPDATE "notes" SET "body" = ?, "tag" = NULL, "created_at" = ?, "updated_at" = ?, "deleted_at" = ? WHERE "id" = ?`,
      params: ["new", ISO, ISO, null, 5]
    })
    expect(bound(pg(Note), (p) => Build.revive(pg(Note), p, { id: 5, tenant: undefined }, { ...record, tag: "t" }))).toEqual({
      text: `UPDATE "notes" SET "body" = $1, "tag" = $2, "created_at" = $3, "updated_at" = $4, "deleted_at" = $5 WHERE "id" = $6`,
      params: ["new", "t", ISO, ISO, null, 5]
    })
    expect(bound(my(Note), (p) => Build.revive(my(Note), p, { id: 5, tenant: undefined }, record))).toEqual({
      text: "UPDATE `notes` SET `body` = ?, `tag` = NULL, `created_at` = ?, `updated_at` = ?, `deleted_at` = ? WHERE `id` = ?",
      params: ["new", MYSQL_NOW, MYSQL_NOW, null, 5]
    })
  })

  // upsert on a tenant-scoped soft-delete model with an application key: the locking lookup
  // finds the tenant's deleted row, but revive rewrites every row with that key in every
  // tenant (and sets their tenant to the current one). With another tenant holding the same
  // key, the upsert fails with a UniqueViolation on (tenant_id, id) (seen on SQLite).
  it("on a tenant-scoped model, the tenant's row only", () => {
    const s = lite(Entry)
    const { text, params } = bound(s, (p) =>
      Build.revive(s, p, { id: "e1", tenant: "acme" }, { body: "b", createdAt: now, updatedAt: now, deletedAt: null, version: 1, tenantId: "acme" }))
    expect(text.slice(text.indexOf(" WHERE "))).toBe(` WHERE "id" = ? AND "tenant_id" = ?`)
    expect(params.slice(-2)).toEqual(["e1", "acme"])
  })
})

describe("existingKeys", () => {
  const existing = (s: ModelStatements, on: ReadonlyArray<string>, keys: ReadonlyArray<ReadonlyArray<unknown>>) =>
    bound(s, (p) => Build.existingKeys(s, p, Build.conflictColumns(s, on), keys))

  it("a single key: IN (…), locked on PostgreSQL and MySQL", () => {
    expect(existing(lite(Tag), ["slug"], [["a"], ["b"]])).toEqual({
      text: `SELECT "slug" AS k FROM "tags" WHERE "slug" IN (?, ?)`,
      params: ["a", "b"]
    })
    expect(existing(pg(Tag), ["slug"], [["a"], ["b"]])).toEqual({
      text: `SELECT "slug" AS k FROM "tags" WHERE "slug" IN ($1, $2) FOR UPDATE`,
      params: ["a", "b"]
    })
    expect(existing(my(Tag), ["slug"], [["a"], ["b"]])).toEqual({
      text: "SELECT `slug` AS k FROM `tags` WHERE `slug` IN (?, ?) FOR UPDATE",
      params: ["a", "b"]
    })
  })

  it("a composite key: tuples (a, b) IN ((?, ?), …)", () => {
    expect(existing(my(Page), ["slug"], [["acme", "a"], ["acme", "b"]])).toEqual({
      text: "SELECT `id` AS k FROM `pages` WHERE (`tenant_id`, `slug`) IN ((?, ?), (?, ?)) FOR UPDATE",
      params: ["acme", "a", "acme", "b"]
    })
    expect(existing(pg(Page), ["slug"], [["acme", "a"], ["acme", "b"]])).toEqual({
      text: `SELECT "id" AS k FROM "pages" WHERE ("tenant_id", "slug") IN (($1, $2), ($3, $4)) FOR UPDATE`,
      params: ["acme", "a", "acme", "b"]
    })
    expect(existing(lite(Page), ["slug"], [["acme", "a"]])).toEqual({
      text: `SELECT "id" AS k FROM "pages" WHERE ("tenant_id", "slug") IN ((?, ?))`,
      params: ["acme", "a"]
    })
  })

  it("soft-delete models: live rows only", () => {
    expect(existing(pg(Entry), ["id"], [["acme", "e1"]])).toEqual({
      text: `SELECT "id" AS k FROM "entries" WHERE ("tenant_id", "id") IN (($1, $2)) AND "deleted_at" IS NULL FOR UPDATE`,
      params: ["acme", "e1"]
    })
  })

  it("key values through the codecs", () => {
    const s = my(Sample)
    expect(bound(s, (p) => Build.existingKeys(s, p, cols(s, "at"), [[now]]))).toEqual({
      text: "SELECT `id` AS k FROM `samples` WHERE `at` IN (?) FOR UPDATE",
      params: [MYSQL_NOW]
    })
  })
})

describe("upsertRows", () => {
  const tags = (stamp: string) => ["a", "A", stamp, stamp, "b", "B", stamp, stamp]

  it("SQLite: VALUES, ON CONFLICT … excluded.*, without the key or createdAt", () => {
    const s = lite(Tag)
    const conflict = Build.conflictColumns(s, ["slug"])
    expect(Build.upsertRows(s, { columns: s.keyedColumns, values: tags(ISO), rows: 2, conflict, flag: false })).toEqual({
      text:
        `INSERT INTO "tags" ("slug", "label", "created_at", "updated_at") VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON CONFLICT ("slug") DO UPDATE SET "label" = excluded."label", "updated_at" = excluded."updated_at"`,
      params: tags(ISO)
    })
  })

  it("MySQL: ON DUPLICATE KEY UPDATE c = VALUES(c)", () => {
    const s = my(Tag)
    const conflict = Build.conflictColumns(s, ["slug"])
    expect(Build.upsertRows(s, { columns: s.keyedColumns, values: tags(MYSQL_NOW), rows: 2, conflict, flag: false })).toEqual({
      text:
        "INSERT INTO `tags` (`slug`, `label`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON DUPLICATE KEY UPDATE `label` = VALUES(`label`), `updated_at` = VALUES(`updated_at`)",
      params: tags(MYSQL_NOW)
    })
  })

  it("PostgreSQL: UNNEST with the arrays transposed; RETURNING the flag only with flag", () => {
    const s = pg(Tag)
    const conflict = Build.conflictColumns(s, ["slug"])
    const transposed = [["a", "b"], ["A", "B"], [ISO, ISO], [ISO, ISO]]
    expect(Build.upsertRows(s, { columns: s.keyedColumns, values: tags(ISO), rows: 2, conflict, flag: true })).toEqual({
      text:
        `INSERT INTO "tags" ("slug", "label", "created_at", "updated_at") SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) ON CONFLICT ("slug") DO UPDATE SET "label" = excluded."label", "updated_at" = excluded."updated_at" RETURNING (xmax = 0) AS "__created"`,
      params: transposed
    })
    expect(Build.upsertRows(s, { columns: s.keyedColumns, values: tags(ISO), rows: 2, conflict, flag: false })).toEqual({
      text:
        `INSERT INTO "tags" ("slug", "label", "created_at", "updated_at") SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) ON CONFLICT ("slug") DO UPDATE SET "label" = excluded."label", "updated_at" = excluded."updated_at"`,
      params: transposed
    })
    // the text is made once per shape; the parameters are the call's
    const again = Build.upsertRows(s, { columns: s.keyedColumns, values: tags(ISO).slice(0, 4), rows: 1, conflict, flag: true })
    expect(again.text).toBe(Build.upsertRows(s, { columns: s.keyedColumns, values: tags(ISO), rows: 2, conflict, flag: true }).text)
    expect(again.params).toEqual([["a"], ["A"], [ISO], [ISO]])
  })

  it("every behaviour: the tenant and key excluded, a live row keeps createdAt and counts a version, a soft-deleted one comes back new", () => {
    const s = pg(Entry)
    const values = ["e1", "b", ISO, ISO, null, 1, "acme"]
    expect(Build.upsertRows(s, { columns: s.keyedColumns, values, rows: 1, conflict: Build.conflictColumns(s, ["id"]), flag: false }))
      .toEqual({
        text:
          `INSERT INTO "entries" ("id", "body", "created_at", "updated_at", "deleted_at", "version", "tenant_id") SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::int8[], $7::text[]) ON CONFLICT ("tenant_id", "id") DO UPDATE SET "created_at" = CASE WHEN "entries"."deleted_at" IS NULL THEN "entries"."created_at" ELSE excluded."created_at" END, "version" = CASE WHEN "entries"."deleted_at" IS NULL THEN "entries"."version" + 1 ELSE excluded."version" END, "body" = excluded."body", "updated_at" = excluded."updated_at", "deleted_at" = excluded."deleted_at"`,
        params: [["e1"], ["b"], [ISO], [ISO], [null], [1], ["acme"]]
      })
    const mysql = my(Entry)
    const myValues = ["e1", "b", MYSQL_NOW, MYSQL_NOW, null, 1, "acme"]
    expect(
      Build.upsertRows(mysql, {
        columns: mysql.keyedColumns,
        values: myValues,
        rows: 1,
        conflict: Build.conflictColumns(mysql, ["id"]),
        flag: false
      })
    ).toEqual({
      text:
        "INSERT INTO `entries` (`id`, `body`, `created_at`, `updated_at`, `deleted_at`, `version`, `tenant_id`) VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE `created_at` = CASE WHEN `entries`.`deleted_at` IS NULL THEN `entries`.`created_at` ELSE VALUES(`created_at`) END, `version` = CASE WHEN `entries`.`deleted_at` IS NULL THEN `entries`.`version` + 1 ELSE VALUES(`version`) END, `body` = VALUES(`body`), `updated_at` = VALUES(`updated_at`), `deleted_at` = VALUES(`deleted_at`)",
      params: myValues
    })
  })

  it("a generated key: the primary key is never set", () => {
    const s = lite(Page)
    const values = ["home", "Home", ISO, ISO, "acme"]
    expect(Build.upsertRows(s, { columns: s.newColumns, values, rows: 1, conflict: Build.conflictColumns(s, ["slug"]), flag: false }))
      .toEqual({
        text:
          `INSERT INTO "pages" ("slug", "title", "created_at", "updated_at", "tenant_id") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("tenant_id", "slug") DO UPDATE SET "title" = excluded."title", "updated_at" = excluded."updated_at"`,
        params: values
      })
  })

  it("nothing to set: a no-op assignment of the conflict column", () => {
    const sqlite = lite(Pair)
    expect(
      Build.upsertRows(sqlite, {
        columns: sqlite.keyedColumns,
        values: ["p1", "c1"],
        rows: 1,
        conflict: Build.conflictColumns(sqlite, ["code"]),
        flag: false
      })
    ).toEqual({
      text: `INSERT INTO "pairs" ("id", "code") VALUES (?, ?) ON CONFLICT ("code") DO UPDATE SET "code" = excluded."code"`,
      params: ["p1", "c1"]
    })
    const mysql = my(Pair)
    expect(
      Build.upsertRows(mysql, {
        columns: mysql.keyedColumns,
        values: ["p1", "c1"],
        rows: 1,
        conflict: Build.conflictColumns(mysql, ["code"]),
        flag: false
      }).text
    ).toBe("INSERT INTO `pairs` (`id`, `code`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `code` = VALUES(`code`)")
    const postgres = pg(Pair)
    expect(
      Build.upsertRows(postgres, {
        columns: postgres.keyedColumns,
        values: ["p1", "c1"],
        rows: 1,
        conflict: Build.conflictColumns(postgres, ["code"]),
        flag: true
      }).text
    ).toBe(
      `INSERT INTO "pairs" ("id", "code") SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT ("code") DO UPDATE SET "code" = excluded."code" RETURNING (xmax = 0) AS "__created"`
    )
  })

  it("in a tenant's schema: the version reference qualified", () => {
    const s = pg(Doc, "tenant_x")
    expect(
      Build.upsertRows(s, {
        columns: s.keyedColumns,
        values: ["d1", "T", ISO, ISO, 1],
        rows: 1,
        conflict: Build.conflictColumns(s, ["id"]),
        flag: true
      }).text
    ).toBe(
      `INSERT INTO "tenant_x"."docs" ("id", "title", "created_at", "updated_at", "version") SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int8[]) ON CONFLICT ("id") DO UPDATE SET "title" = excluded."title", "updated_at" = excluded."updated_at", "version" = "tenant_x"."docs"."version" + 1 RETURNING (xmax = 0) AS "__created"`
    )
  })
})

// ---------------------------------------------------------------------------
// properties: every placeholder has its parameter
// ---------------------------------------------------------------------------

/**
 * The placeholders of a text match its parameters: as many as there are values, and on
 * PostgreSQL `$1…$n`, each once, in order of first appearance (every builder binds in text order).
 */
const expectWellBound = (dialect: DialectType, statement: { readonly text: string; readonly params: ReadonlyArray<unknown> }) => {
  const marks = statement.text.match(dialect.name === "pg" ? /\$\d+/g : /\?/g) ?? []
  expect(marks.length, statement.text).toBe(statement.params.length)
  if (dialect.name === "pg") expect(marks, statement.text).toEqual(statement.params.map((_, i) => `$${i + 1}`))
}

const dialects = [Dialect.sqlite, Dialect.pg, Dialect.mysql] as const
const on = (model: object, dialect: DialectType) => statementsFor(definitionOf(model), dialect)

const storableDate = fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
/** Conditions on one field with values of its type (now and then one that folds to a constant). */
const condition = (value: fc.Arbitrary<unknown>, text: boolean): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: value, weight: 4 },
    { arbitrary: fc.constantFrom("$eq", "$ne", "$gt", "$gte", "$lt", "$lte").chain((op) => value.map((v) => ({ [op]: v }))), weight: 4 },
    {
      arbitrary: fc.constantFrom("$in", "$nin").chain((op) => fc.array(value, { maxLength: 4 }).map((vs) => ({ [op]: vs }))),
      weight: 2
    },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: fc.boolean().map(($null) => ({ $null })), weight: 1 },
    {
      arbitrary: fc.constantFrom("$like", "$ilike", "$startsWith", "$endsWith", "$contains").chain((op) =>
        fc.string({ maxLength: 6 }).map((v) => ({ [op]: v }))
      ),
      weight: text ? 3 : 0
    }
  )

const sampleLeaf = fc.record({
  id: condition(fc.integer(), false),
  price: condition(fc.integer().map((n) => BigDecimal.make(BigInt(n), 2)), false),
  at: condition(storableDate, false),
  big: condition(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), false),
  flag: condition(fc.boolean(), false),
  note: condition(fc.string({ maxLength: 6 }), true)
}, { requiredKeys: [] })

const entryLeaf = fc.record({
  id: condition(fc.string({ maxLength: 6 }), true),
  body: condition(fc.string({ maxLength: 6 }), true),
  version: condition(fc.integer({ min: 0 }), false),
  deletedAt: condition(storableDate, false)
}, { requiredKeys: [] })

const filterOf = (leaf: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.letrec<{ filter: unknown }>((tie) => ({
    filter: fc.oneof(
      { depthSize: "small", maxDepth: 4 },
      leaf,
      fc.array(tie("filter"), { maxLength: 3 }).map(($and) => ({ $and })),
      fc.array(tie("filter"), { maxLength: 3 }).map(($or) => ({ $or })),
      tie("filter").map(($not) => ({ $not }))
    )
  })).filter

const sampleRecord = {
  id: 1,
  meta: { tags: ["t"] },
  price: BigDecimal.unsafeFromString("2.5"),
  at: now,
  big: 3n,
  flag: true,
  note: "n"
}

/** A value of each patchable field's type. */
const fieldValues: Record<string, unknown> = { title: "t", views: 1, body: "b", tag: "g", hits: 2, label: "l", code: "c", ...sampleRecord }
const patchOf = (keys: ReadonlyArray<string>) => Object.fromEntries(keys.map((k) => [k, fieldValues[k]]))

describe("properties: placeholders and parameters agree", () => {
  it("filters: where, count, select, updateWhere, deleteWhere, softDeleteWhere, lockingLookup", () => {
    const cases: ReadonlyArray<readonly [object, fc.Arbitrary<unknown>]> = [[Sample, sampleLeaf], [Entry, entryLeaf]]
    for (const dialect of dialects) {
      for (const [model, leaf] of cases) {
        const s = on(model, dialect)
        const patchable = s.definition.userColumns.map((c) => c.field).filter((f) => f !== s.pk.column.field)
        fc.assert(
          fc.property(
            filterOf(leaf),
            fc.subarray(patchable),
            fc.option(fc.nat(50), { nil: undefined }),
            fc.option(fc.nat(50), { nil: undefined }),
            (filter, keys, limit, offset) => {
              const tenant = s.tenantColumn === undefined ? undefined : "acme"
              const filtered = (params: Params, includeDeleted = false) =>
                where(s, filter, params, scope({ tenant, includeDeleted }))
              const statement = (write: (params: Params) => string | undefined) => {
                const params = new Params(s.dialect)
                const text = write(params)
                if (text !== undefined) expectWellBound(dialect, { text, params: params.values })
              }
              statement((p) => Either.getOrUndefined(Either.map(filtered(p), (w) => Build.count(s, w.sql))))
              statement((p) =>
                Either.getOrUndefined(Either.map(filtered(p), (w) =>
                  Build.select(s, {
                    columns: s.columns,
                    where: w.sql,
                    orderBy: orderBy(s, [{ column: s.pk, direction: "asc", nullable: false }]),
                    limit,
                    offset
                  })))
              )
              statement((p) => Either.getOrUndefined(Either.map(filtered(p), (w) => Build.deleteWhere(s, w.sql))))
              statement((p) => Either.getOrUndefined(Either.map(filtered(p, true), (w) => Build.lockingLookup(s, w.sql))))
              statement((p) => {
                const patch = patchOf(keys)
                const sets = Build.setList(
                  s,
                  Object.keys(patch),
                  (k) => p.bind(col(s, k).toDb(patch[k])),
                  () => p.bind(col(s, "updatedAt").toDb(now))
                )
                if (sets.length === 0) return undefined
                return Either.getOrUndefined(Either.map(filtered(p), (w) => Build.updateWhere(s, sets, w.sql)))
              })
              if (s.definition.softDelete) {
                statement((p) => {
                  const sets = Build.softDeleteSets(s, p, now)
                  return Either.getOrUndefined(Either.map(filtered(p), (w) => Build.updateWhere(s, sets, w.sql)))
                })
              }
            }
          ),
          { numRuns: 150, seed: 20240102 }
        )
      }
    }
  })

  it("updateById: the plan's parameters match its placeholders for every patch shape", () => {
    for (const dialect of dialects) {
      for (const model of [Post, Note, Doc, Entry, Counter, Sample]) {
        const s = on(model, dialect)
        const patchable = s.definition.userColumns.map((c) => c.field).filter((f) => f !== s.pk.column.field)
        fc.assert(
          fc.property(fc.subarray(patchable), fc.boolean(), (keys, checked) => {
            const versioned = checked && s.definition.versioned
            const plan = Build.updateById(s, shapeOf(Object.fromEntries(keys.map((k) => [k, 0]))), versioned)
            if (plan === undefined) {
              expect(keys).toEqual([])
              return
            }
            expectWellBound(dialect, {
              text: plan.text,
              params: plan.params({ id: "k", tenant: "acme", patch: patchOf(keys), now, expectedVersion: 3 })
            })
          }),
          { numRuns: 60, seed: 7 }
        )
      }
    }
  })

  it("keyset pages: any mix of directions, NULLs and values", () => {
    const fields = ["note", "flag", "at", "price"] as const
    for (const dialect of dialects) {
      const s = on(Sample, dialect)
      fc.assert(
        fc.property(
          fc.subarray([...fields], { minLength: 0 }),
          fc.array(fc.constantFrom("asc" as const, "desc" as const), { minLength: 5, maxLength: 5 }),
          fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
          (chosen, directions, nulls) => {
            const terms: Array<OrderTerm> = [...chosen, "id"].map((f, i) => ({
              column: col(s, f),
              direction: directions[i]!,
              nullable: f === "note"
            }))
            const values = terms.map((t, i) =>
              t.nullable && nulls[i] ? null : sampleRecord[t.column.column.field as keyof typeof sampleRecord]
            )
            expectWellBound(dialect, bound(s, (p) => keyset(terms, values, p)))
            expectWellBound(dialect, { text: orderBy(s, terms), params: [] })
          }
        ),
        { numRuns: 100, seed: 11 }
      )
    }
  })

  it("inserts, key lookups, upserts and revivals of any size", () => {
    for (const dialect of dialects) {
      for (const model of [Post, Tag, Page, Entry, Pair, Sample]) {
        const s = on(model, dialect)
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 40 }), fc.boolean(), (rows, returning) => {
            for (const columns of [s.newColumns, s.keyedColumns]) {
              const values = Array.from({ length: rows * columns.length }, (_, i) => i)
              const text = Build.insertValues(s, columns, rows, returning)
              expect(Build.insertValues(s, columns, rows, returning)).toBe(text)
              expectWellBound(dialect, { text, params: values })
              expectWellBound(dialect, Build.insertRows(s, columns, values, rows))
              const keyFields = s.definition.uniqueSets[0] ?? [s.definition.pk.field]
              const conflict = Build.conflictColumns(s, keyFields)
              const flag = s.dialect.upsertInsertedFlag !== undefined && returning
              expectWellBound(dialect, Build.upsertRows(s, { columns, values, rows, conflict, flag }))
              const keys = Array.from({ length: rows }, (_, r) => conflict.map((_, k) => `${r}.${k}`))
              expectWellBound(dialect, bound(s, (p) => Build.existingKeys(s, p, conflict, keys)))
              expectWellBound(dialect, bound(s, (p) => Build.selectByIds(s, p, keys.map((k) => k[0]), "acme")))
            }
            const record = Object.fromEntries(s.columns.slice(0, rows % (s.columns.length + 1)).map((c) => [c.column.field, null]))
            expectWellBound(dialect, bound(s, (p) => Build.revive(s, p, { id: 1, tenant: "acme" }, record)))
          }),
          { numRuns: 25, seed: 3 }
        )
      }
    }
  })

  it("upsertReturningFlag: any patch (PostgreSQL)", () => {
    for (const model of [Post, Tag, Page, Doc, Counter, Pair, Sample]) {
      const s = pg(model)
      const patchable = s.definition.userColumns.map((c) => c.field).filter((f) => f !== s.pk.column.field)
      const record = Object.fromEntries(s.keyedColumns.map((c) => [c.column.field, null]))
      fc.assert(
        fc.property(fc.subarray(patchable), (keys) => {
          const patch = Object.fromEntries(keys.map((k) => [k, null]))
          expectWellBound(Dialect.pg, bound(s, (p) =>
            Build.upsertReturningFlag(s, p, {
              columns: s.keyedColumns,
              record,
              conflict: Build.conflictColumns(s, s.definition.uniqueSets[0] ?? [s.definition.pk.field]),
              patch,
              now
            })))
        }),
        { numRuns: 30, seed: 5 }
      )
    }
  })
})

// ---------------------------------------------------------------------------
// composite primary keys
// ---------------------------------------------------------------------------

describe("composite primary keys", () => {
  /** Two integer key fields, no managed fields. */
  const Follow = Model.make(
    "Follow",
    Schema.Struct({ followerId: Schema.Int, followingId: Schema.Int, note: Schema.NullOr(Schema.String) }),
    { primaryKey: ["followerId", "followingId"], timestamps: false }
  )
  /** Two text key fields, tenant-scoped, soft-deleted, versioned. */
  const Tagging = Model.make(
    "Tagging",
    Schema.Struct({ articleId: Schema.String, tag: Schema.String, weight: Schema.Int }),
    { primaryKey: ["articleId", "tag"], tenantScoped: true, softDelete: true, versioned: true }
  )
  const FOLLOWS = `"follower_id", "following_id", "note"`
  const TAGGINGS = `"article_id", "tag", "weight", "created_at", "updated_at", "deleted_at", "version", "tenant_id"`
  const followKey = { id: { followerId: 1, followingId: 2 }, tenant: undefined }
  // the key object's own order does not matter: the key's order does
  const taggingKey = { id: { tag: "x", articleId: "a" }, tenant: "acme" }
  const server = { mariadb: false }

  it("DDL: PRIMARY KEY over every key column (the tenant's first), no generated column", () => {
    expect(lite(Follow).ddl(server)).toEqual([
      `CREATE TABLE IF NOT EXISTS "follows" ("follower_id" INTEGER NOT NULL, "following_id" INTEGER NOT NULL, "note" TEXT, PRIMARY KEY ("follower_id", "following_id"))`
    ])
    expect(pg(Follow).ddl(server)).toEqual([
      `CREATE TABLE IF NOT EXISTS "follows" ("follower_id" BIGINT NOT NULL, "following_id" BIGINT NOT NULL, "note" TEXT COLLATE "C", PRIMARY KEY ("follower_id", "following_id"))`
    ])
    expect(my(Follow).ddl(server)).toEqual([
      "CREATE TABLE IF NOT EXISTS `follows` (`follower_id` BIGINT NOT NULL, `following_id` BIGINT NOT NULL, `note` LONGTEXT NULL, PRIMARY KEY (`follower_id`, `following_id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin"
    ])
    expect(pg(Tagging).ddl(server)[0]).toMatch(/"article_id" VARCHAR\(255\) COLLATE "C" NOT NULL, "tag" VARCHAR\(255\) COLLATE "C" NOT NULL, .*PRIMARY KEY \("tenant_id", "article_id", "tag"\)\)$/)
    expect(my(Tagging).ddl(server)[0]).toContain("PRIMARY KEY (`tenant_id`, `article_id`, `tag`))")
    expect(lite(Tagging).ddl(server)[0]).toContain(`PRIMARY KEY ("tenant_id", "article_id", "tag"))`)
  })

  it("selectById: every key column, in key order, per dialect", () => {
    const sqlite = Build.selectById(lite(Follow), false)
    expect(sqlite.text).toBe(`SELECT ${FOLLOWS} FROM "follows" WHERE "follower_id" = ? AND "following_id" = ?`)
    expect(sqlite.params(followKey)).toEqual([1, 2])
    const postgres = Build.selectById(pg(Follow), false)
    expect(postgres.text).toBe(`SELECT ${FOLLOWS} FROM "follows" WHERE "follower_id" = $1 AND "following_id" = $2`)
    expect(postgres.params(followKey)).toEqual([1, 2])
    const mysql = Build.selectById(my(Follow), false)
    expect(mysql.text).toBe("SELECT `follower_id`, `following_id`, `note` FROM `follows` WHERE `follower_id` = ? AND `following_id` = ?")
    expect(mysql.params(followKey)).toEqual([1, 2])
    const tagging = Build.selectById(pg(Tagging), false)
    expect(tagging.text).toBe(
      `SELECT ${TAGGINGS} FROM "taggings" WHERE "article_id" = $1 AND "tag" = $2 AND "tenant_id" = $3 AND "deleted_at" IS NULL`
    )
    expect(tagging.params(taggingKey)).toEqual(["a", "x", "acme"])
  })

  it("updateById, deleteById, softDeleteById, restoreById: the key, the tenant, the version", () => {
    const update = Build.updateById(pg(Tagging), shapeOf({ weight: 3 }), true)!
    expect(update.text).toBe(
      `UPDATE "taggings" SET "weight" = $1, "updated_at" = $2, "version" = "taggings"."version" + 1 WHERE "article_id" = $3 AND "tag" = $4 AND "tenant_id" = $5 AND "deleted_at" IS NULL AND "version" = $6 RETURNING ${TAGGINGS}`
    )
    expect(update.params({ ...taggingKey, patch: { weight: 3 }, now, expectedVersion: 2 })).toEqual([3, ISO, "a", "x", "acme", 2])
    const updateMy = Build.updateById(my(Follow), shapeOf({ note: "n" }), false)!
    expect(updateMy.text).toBe("UPDATE `follows` SET `note` = ? WHERE `follower_id` = ? AND `following_id` = ?")
    expect(updateMy.params({ ...followKey, patch: { note: "n" }, now, expectedVersion: undefined })).toEqual(["n", 1, 2])
    const del = Build.deleteById(lite(Follow))
    expect(del.text).toBe(`DELETE FROM "follows" WHERE "follower_id" = ? AND "following_id" = ?`)
    expect(del.params(followKey)).toEqual([1, 2])
    const soft = Build.softDeleteById(my(Tagging))
    expect(soft.text).toBe(
      "UPDATE `taggings` SET `deleted_at` = ?, `updated_at` = ?, `version` = `taggings`.`version` + 1 WHERE `article_id` = ? AND `tag` = ? AND `tenant_id` = ? AND `deleted_at` IS NULL"
    )
    expect(soft.params({ ...taggingKey, now })).toEqual([MYSQL_NOW, MYSQL_NOW, "a", "x", "acme"])
    const restore = Build.restoreById(pg(Tagging))
    expect(restore.text).toBe(
      `UPDATE "taggings" SET "deleted_at" = NULL, "updated_at" = $1, "version" = "taggings"."version" + 1 WHERE "article_id" = $2 AND "tag" = $3 AND "tenant_id" = $4 AND "deleted_at" IS NOT NULL`
    )
    expect(restore.params({ ...taggingKey, now })).toEqual([ISO, "a", "x", "acme"])
  })

  it("selectByIds and updateByIds: row values of the key", () => {
    const keys = [{ followerId: 1, followingId: 2 }, { followingId: 4, followerId: 3 }]
    expect(bound(lite(Follow), (p) => Build.selectByIds(lite(Follow), p, keys, undefined))).toEqual({
      text: `SELECT ${FOLLOWS} FROM "follows" WHERE ("follower_id", "following_id") IN ((?, ?), (?, ?))`,
      params: [1, 2, 3, 4]
    })
    expect(bound(pg(Follow), (p) => Build.selectByIds(pg(Follow), p, keys, undefined))).toEqual({
      text: `SELECT ${FOLLOWS} FROM "follows" WHERE ("follower_id", "following_id") IN (($1, $2), ($3, $4))`,
      params: [1, 2, 3, 4]
    })
    expect(bound(my(Follow), (p) => Build.selectByIds(my(Follow), p, keys, undefined))).toEqual({
      text: "SELECT `follower_id`, `following_id`, `note` FROM `follows` WHERE (`follower_id`, `following_id`) IN ((?, ?), (?, ?))",
      params: [1, 2, 3, 4]
    })
    const s = pg(Tagging)
    expect(bound(s, (p) => Build.updateByIds(s, p, { weight: 1 }, now, [{ articleId: "a", tag: "x" }], "acme"))).toEqual({
      text:
        `UPDATE "taggings" SET "weight" = $1, "updated_at" = $2, "version" = "taggings"."version" + 1 WHERE ("article_id", "tag") IN (($3, $4)) AND "tenant_id" = $5`,
      params: [1, ISO, "a", "x", "acme"]
    })
  })

  it("key reads (lockedValues, keyLookup, lockingLookup) select every key column; keyOfRow reads them back", () => {
    const s = pg(Tagging)
    expect(Build.lockedValues(s, ["weight"], " WHERE 1=1")).toBe(
      `SELECT "article_id", "tag", "weight" FROM "taggings" WHERE 1=1 FOR UPDATE`
    )
    expect(Build.keyLookup(s, ["articleId", "tag"]).text).toBe(
      `SELECT "article_id", "tag" FROM "taggings" WHERE "article_id" = $1 AND "tag" = $2 AND "tenant_id" = $3 AND "deleted_at" IS NULL`
    )
    expect(Build.lockingLookup(lite(Tagging), " WHERE 1=1")).toBe(
      `SELECT "article_id", "tag", "deleted_at" AS deleted FROM "taggings" WHERE 1=1 LIMIT 1`
    )
    expect(Build.keyOfRow(s, { article_id: "a", tag: "x", weight: 1 }, "id")).toEqual({ articleId: "a", tag: "x" })
    // a single key keeps its alias
    expect(Build.keyList(pg(Post), "id")).toBe(`"id" AS id`)
    expect(Build.keyOfRow(pg(Post), { id: 7 }, "id")).toBe(7)
  })

  it("revive rewrites every column but the key's, of the tenant's row with this key", () => {
    const s = lite(Tagging)
    const record = { weight: 1, createdAt: now, updatedAt: now, deletedAt: null, version: 1, tenantId: "acme" }
    expect(bound(s, (p) => Build.revive(s, p, taggingKey, record))).toEqual({
      text:
        `UPDATE "taggings" SET "weight" = ?, "created_at" = ?, "updated_at" = ?, "deleted_at" = ?, "version" = ?, "tenant_id" = ? WHERE "article_id" = ? AND "tag" = ? AND "tenant_id" = ?`,
      params: [1, ISO, ISO, null, 1, "acme", "a", "x", "acme"]
    })
  })

  it("upsertRows: the conflict target is the key; the key's columns are never assigned", () => {
    const s = lite(Follow)
    const conflict = Build.conflictColumns(s, ["followerId", "followingId"])
    expect(Build.upsertRows(s, { columns: s.keyedColumns, values: [1, 2, null], rows: 1, conflict, flag: false })).toEqual({
      text:
        `INSERT INTO "follows" ("follower_id", "following_id", "note") VALUES (?, ?, ?) ON CONFLICT ("follower_id", "following_id") DO UPDATE SET "note" = excluded."note"`,
      params: [1, 2, null]
    })
    const t = my(Tagging)
    expect(Build.conflictColumns(t, ["articleId", "tag"]).map((c) => c.column.field)).toEqual(["tenantId", "articleId", "tag"])
  })
})
