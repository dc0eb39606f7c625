/**
 * The small primitives a real application needed: exists, readBy / findBy, createIgnore,
 * bulkUpsert returning its records, list's total in one statement, and a DatabaseError that
 * names the column a table lacks — on every database.
 */
import { describe, expect, it } from "@effect/vitest"
import { expectTypeOf } from "vitest"
import { Effect, Option, Schema } from "effect"
import { SqlClient } from "@effect/sql"
import { DataFlow, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const User = () =>
  Model.make("User", Schema.Struct({
    id: Schema.Int,
    email: Schema.String,
    org: Schema.String,
    handle: Schema.String,
    age: Schema.NullOr(Schema.Int)
  }), { table: uniqueTable("prim_users"), unique: ["email", ["org", "handle"]], softDelete: true })

const user = (email: string, age: number | null = 30, org = "acme", handle = email.split("@")[0]!) => ({
  email,
  org,
  handle,
  age
})

forEachDatabase("prims", (it, db) => {
  it.effect("exists: whether any live record matches", () =>
    Effect.gen(function*() {
      const U = User()
      expect(yield* U.exists()).toBe(false)
      const a = yield* U.create(user("a@x.io", 20))
      yield* U.create(user("b@x.io", 40))
      expect(yield* U.exists()).toBe(true)
      expect(yield* U.exists({ age: { $gt: 30 } })).toBe(true)
      expect(yield* U.exists({ age: { $gt: 50 } })).toBe(false)
      yield* U.delete(a.id)
      expect(yield* U.exists({ email: "a@x.io" })).toBe(false)
      expect(yield* U.exists({ email: "a@x.io" }, { includeDeleted: true })).toBe(true)
      const bad = yield* Effect.flip(U.exists({ nope: 1 } as never))
      expect(bad._tag).toBe("InvalidFilter")
    }))

  it.effect("readBy / findBy: by the primary key or a declared unique key, exactly", () =>
    Effect.gen(function*() {
      const U = User()
      const a = yield* U.create(user("a@x.io", 20, "acme", "ada"))
      yield* U.create(user("b@x.io", 40, "beta", "ada"))
      expect((yield* U.readBy({ email: "a@x.io" })).id).toBe(a.id)
      expect((yield* U.readBy({ id: a.id })).email).toBe("a@x.io")
      expect((yield* U.readBy({ org: "beta", handle: "ada" })).email).toBe("b@x.io")
      expect(Option.isNone(yield* U.findBy({ email: "zz@x.io" }))).toBe(true)
      expect(Option.getOrThrow(yield* U.findBy({ org: "acme", handle: "ada" })).id).toBe(a.id)
      const missing = yield* Effect.flip(U.readBy({ email: "zz@x.io" }))
      expect(missing._tag).toBe("NotFound")
      // not a unique key: refused with a typed error naming the keys there are
      const notUnique = yield* Effect.flip(U.readBy({ age: 20 } as never))
      expect(notUnique._tag).toBe("ValidationError")
      const partial = yield* Effect.flip(U.readBy({ org: "acme" } as never))
      expect(partial._tag).toBe("ValidationError")
      // soft-deleted: gone, unless asked for
      yield* U.delete(a.id)
      expect(Option.isNone(yield* U.findBy({ email: "a@x.io" }))).toBe(true)
      expect((yield* U.readBy({ email: "a@x.io" }, { includeDeleted: true })).id).toBe(a.id)
    }))

  it.effect("createIgnore: creates, or returns the existing record untouched", () =>
    Effect.gen(function*() {
      const U = User()
      const first = yield* U.createIgnore(user("a@x.io", 20), { conflictOn: ["email"] })
      expect(first.created).toBe(true)
      const again = yield* U.createIgnore(user("a@x.io", 99, "other", "other"), { conflictOn: ["email"] })
      expect(again.created).toBe(false)
      expect(again.record).toEqual(first.record)
      expect(yield* U.count()).toBe(1)
      expect((yield* U.read(first.record.id)).age).toBe(20)
      // a composite unique key as the target
      const byHandle = yield* U.createIgnore(user("c@x.io", 1, "acme", "a"), { conflictOn: ["org", "handle"] })
      expect(byHandle.created).toBe(false)
      expect(byHandle.record.id).toBe(first.record.id)
      // a conflict on another key than the target is still a typed failure, nothing written
      const other = yield* Effect.flip(U.createIgnore(user("a@x.io", 1, "z", "z"), { conflictOn: ["org", "handle"] }))
      expect(other._tag).toBe("UniqueViolation")
      expect(yield* U.count()).toBe(1)
      const badTarget = yield* Effect.flip(U.createIgnore(user("d@x.io"), { conflictOn: ["age"] as never }))
      expect(badTarget._tag).toBe("ConflictTargetError")
    }))

  it.effect("bulkUpsert returnRecords: the stored records, one per distinct key, in input order (a repeated key at its last place)", () =>
    Effect.gen(function*() {
      const U = User()
      yield* U.create(user("b@x.io", 1))
      const result = yield* U.bulkUpsert(
        [user("c@x.io", 3), user("b@x.io", 2), user("a@x.io", 1), user("c@x.io", 4)],
        { conflictOn: ["email"], returnRecords: true }
      )
      expect(result.inserted + result.updated).toBe(3)
      expect(result.records.map((r) => [r.email, r.age])).toEqual([["b@x.io", 2], ["a@x.io", 1], ["c@x.io", 4]])
      const stored = yield* U.list({ orderBy: ["email"] })
      expect(stored.records.map((r) => [r.email, r.age])).toEqual([["a@x.io", 1], ["b@x.io", 2], ["c@x.io", 4]])
      for (const r of result.records) expect(yield* U.read(r.id)).toEqual(r)
    }))

  it.effect("list total: the count of every match in the same statement, whatever the page", () =>
    Effect.gen(function*() {
      const U = User()
      yield* U.bulkCreate(Array.from({ length: 25 }, (_, i) => user(`u${i}@x.io`, i)))
      const page = yield* U.list({ where: { age: { $gte: 5 } }, orderBy: ["age"], limit: 7, offset: 3, total: true })
      expect(page.total).toBe(20)
      expect(page.records.map((r) => r.age)).toEqual([8, 9, 10, 11, 12, 13, 14])
      // past the end: no rows to carry the count, still the right total
      const past = yield* U.list({ where: { age: { $gte: 5 } }, limit: 7, offset: 100, total: true })
      expect(past.records).toEqual([])
      expect(past.total).toBe(20)
      // cursor pages carry the total too
      let cursor: string | undefined = undefined
      let seen = 0
      do {
        const p: { records: ReadonlyArray<unknown>; total: number; nextCursor?: string | undefined } = yield* U.list({
          where: { age: { $lt: 12 } },
          orderBy: ["-age"],
          limit: 5,
          total: true,
          ...(cursor === undefined ? {} : { cursor })
        })
        expect(p.total).toBe(12)
        seen += p.records.length
        cursor = p.nextCursor
      } while (cursor !== undefined)
      expect(seen).toBe(12)
      const none = yield* U.list({ where: { age: { $gt: 1000 } }, total: true })
      expect(none.total).toBe(0)
    }))

  it.effect("a LIKE prefix beyond U+FFFF on an indexed column matches (MariaDB's index range missed it)", () =>
    Effect.gen(function*() {
      const Tag = Model.make("Tag", Schema.Struct({ id: Schema.Int, label: Schema.String.pipe(Schema.maxLength(6)) }), {
        table: uniqueTable("prim_tags"),
        unique: ["label"],
        timestamps: false
      })
      yield* Tag.bulkCreate([{ label: "\u{10000}\u{10000}" }, { label: "a\u{10000}" }, { label: "\u{1F600}x" }])
      const labels = (where: Parameters<typeof Tag.list>[0]) =>
        Effect.map(Tag.list({ ...where, orderBy: ["id"] }), (r) => r.records.map((t) => t.label))
      expect(yield* labels({ where: { label: { $like: "\u{10000}%" } } })).toEqual(["\u{10000}\u{10000}"])
      expect(yield* labels({ where: { label: { $startsWith: "\u{10000}" } } })).toEqual(["\u{10000}\u{10000}"])
      expect(yield* labels({ where: { label: { $like: "\u{1F600}_" } } })).toEqual(["\u{1F600}x"])
      expect(yield* labels({ where: { label: { $endsWith: "\u{10000}" } } })).toEqual(["\u{10000}\u{10000}", "a\u{10000}"])
    }))

  // under the default policy the column would be added on first use (test/schema-policy.test.ts);
  // without the policy's work, the database's own error is classified
  it.effect("a table without a model's column: a DatabaseError naming the column (schema policy none)", () =>
    Effect.gen(function*() {
      const table = uniqueTable("prim_old")
      const sql = yield* SqlClient.SqlClient
      const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
      yield* sql.unsafe(`CREATE TABLE ${q(table)} (${q("id")} INTEGER PRIMARY KEY, ${q("name")} VARCHAR(50))`)
      const M = Model.make("Old", Schema.Struct({ id: Schema.Int, name: Schema.String, nickname: Schema.String }), { table })
      const e = yield* Effect.flip(M.list({ where: { nickname: "x" } }))
      expect(e._tag).toBe("DatabaseError")
      if (e._tag === "DatabaseError") {
        expect(e.column).toBe("nickname")
        expect(e.message).toContain(`no column "nickname"`)
        expect(e.retryable).toBe(false)
      }
      const missing = Model.make("Gone", Schema.Struct({ id: Schema.Int }), { table: uniqueTable("prim_gone") })
      yield* missing.count().pipe(Effect.provide(DataFlow.schemaPolicy("auto")))
      yield* sql.unsafe(`DROP TABLE ${q(missing.table)}`)
      const gone = yield* Effect.flip(missing.count())
      expect(gone._tag).toBe("DatabaseError")
      if (gone._tag === "DatabaseError") expect(gone.table).toBe(missing.table)
    }).pipe(Effect.provide(DataFlow.schemaPolicy("none"))))
})

describe("primitives: types", () => {
  it("readBy takes the primary key or a unique key, nothing else", () => {
    const U = User()
    U.readBy({ email: "x" })
    U.findBy({ org: "a", handle: "b" })
    // @ts-expect-error not a unique key
    const _byAge = U.readBy({ age: 1 })
    // @ts-expect-error half of a composite unique key
    const _half = U.readBy({ org: "a" })
    // the @ts-expect-error lines are the assertions (npm run check fails if either compiles);
    // at run time the keys they name are refused too
    type Key = Parameters<typeof U.readBy>[0]
    expectTypeOf<{ email: string }>().toMatchTypeOf<Key>()
    expectTypeOf<{ org: string; handle: string }>().toMatchTypeOf<Key>()
    expectTypeOf<{ age: number | null }>().not.toMatchTypeOf<Key>()
  })
})
