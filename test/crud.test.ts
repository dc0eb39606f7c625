import { assert, expect } from "@effect/vitest"
import { Effect, Exit, Option, Schema, Stream, TestClock } from "effect"
import { DataFlow, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const userFields = {
  id: Schema.Int,
  email: Schema.String.pipe(Schema.maxLength(100)),
  name: Schema.String,
  age: Schema.NullOr(Schema.Int),
  nickname: Schema.optional(Schema.String),
  active: Schema.Boolean
}
const makeUser = () => Model.make("User", Schema.Struct(userFields), { table: uniqueTable("users"), unique: ["email"] })

const ada = { email: "ada@example.com", name: "Ada", age: 36, active: true }

forEachDatabase("crud", (it) => {
  it.effect("create fills id and timestamps; read returns the same record", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* TestClock.setTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))
      const created = yield* User.create(ada)
      expect(created.id).toBeTypeOf("number")
      expect(created.createdAt).toEqual(new Date("2024-01-02T03:04:05.678Z"))
      expect(created.updatedAt).toEqual(created.createdAt)
      expect(created).not.toHaveProperty("nickname")
      const read = yield* User.read(created.id)
      expect(read).toEqual(created)
      const second = yield* User.create({ ...ada, email: "b@example.com", nickname: "bee" })
      expect(second.id).toBeGreaterThan(created.id)
      expect(second.nickname).toBe("bee")
    }))

  it.effect("find returns Option; read of a missing id is NotFound", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const created = yield* User.create(ada)
      assert.isTrue(Option.isSome(yield* User.find(created.id)))
      assert.isTrue(Option.isNone(yield* User.find(created.id + 1000)))
      const error = yield* Effect.flip(User.read(created.id + 1000))
      expect(error._tag).toBe("NotFound")
    }))

  it.effect("update is partial, bumps updatedAt, keeps createdAt", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* TestClock.setTime(Date.UTC(2024, 0, 1))
      const created = yield* User.create(ada)
      yield* TestClock.adjust("1 second")
      const updated = yield* User.update(created.id, { age: 37, nickname: "countess" })
      expect(updated).toEqual({
        ...created,
        age: 37,
        nickname: "countess",
        updatedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, 1))
      })
      expect(yield* User.read(created.id)).toEqual(updated)
      const cleared = yield* User.update(created.id, { age: null, nickname: undefined })
      expect(cleared.age).toBeNull()
      expect(cleared).not.toHaveProperty("nickname")
    }))

  it.effect("update: missing row is NotFound; primary key and timestamps are ValidationError", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const created = yield* User.create(ada)
      expect((yield* Effect.flip(User.update(created.id + 99, { age: 1 })))._tag).toBe("NotFound")
      const pk = yield* Effect.flip(User.update(created.id, { id: 5 } as never))
      expect(pk).toMatchObject({ _tag: "ValidationError", path: "id" })
      const ts = yield* Effect.flip(User.update(created.id, { createdAt: new Date() } as never))
      expect(ts).toMatchObject({ _tag: "ValidationError", path: "createdAt" })
      const unknown = yield* Effect.flip(User.update(created.id, { nope: 1 } as never))
      expect(unknown).toMatchObject({ _tag: "ValidationError", path: "nope" })
      expect(yield* User.read(created.id)).toEqual(created)
    }))

  it.effect("create validates input and names the field, never the value", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const long = yield* Effect.flip(User.create({ ...ada, email: "x".repeat(101) }))
      expect(long).toMatchObject({ _tag: "ValidationError", path: "email", model: "User", operation: "create" })
      expect(long.message).not.toContain("xxxxx")
      const wrong = yield* Effect.flip(User.create({ ...ada, age: "old" } as never))
      expect(wrong).toMatchObject({ _tag: "ValidationError", path: "age" })
      const missing = yield* Effect.flip(User.create({ email: "a@b.c" } as never))
      expect(missing._tag).toBe("ValidationError")
      const managed = yield* Effect.flip(User.create({ ...ada, createdAt: new Date() } as never))
      expect(managed).toMatchObject({ _tag: "ValidationError", path: "createdAt" })
      expect(yield* User.count()).toBe(0)
    }))

  it.effect("unique violation is typed and names the columns, not the value", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* User.create(ada)
      const error = yield* Effect.flip(User.create({ ...ada, name: "Other" }))
      expect(error).toMatchObject({ _tag: "UniqueViolation", columns: ["email"], model: "User" })
      expect(error.message).not.toContain("ada@example.com")
      const pk = Model.make("Tag", Schema.Struct({ id: Schema.String, label: Schema.String }), {
        table: uniqueTable("tags")
      })
      yield* pk.create({ id: "007", label: "a" })
      const dup = yield* Effect.flip(pk.create({ id: "007", label: "b" }))
      expect(dup).toMatchObject({ _tag: "UniqueViolation", columns: ["id"] })
    }))

  it.effect("string ids are stored exactly as given", () =>
    Effect.gen(function*() {
      const Tag = Model.make("Tag", Schema.Struct({ id: Schema.String, label: Schema.String }), {
        table: uniqueTable("tags")
      })
      for (const id of ["007", "00", "A-b_c", "ünï", "550e8400-e29b-41d4-a716-446655440000"]) {
        const created = yield* Tag.create({ id, label: id })
        expect(created.id).toBe(id)
        expect((yield* Tag.read(id)).label).toBe(id)
      }
      expect(Option.isNone(yield* Tag.find("7"))).toBe(true)
    }))

  it.effect("app-generated UUID and ULID ids", () =>
    Effect.gen(function*() {
      const Doc = Model.make("Doc", Schema.Struct({ id: Model.UuidId, title: Schema.String }), {
        table: uniqueTable("docs")
      })
      const a = yield* Doc.create({ title: "a" })
      expect(a.id).toMatch(/^[0-9a-f-]{36}$/)
      expect((yield* Doc.create({ id: "given", title: "b" })).id).toBe("given")
      const Event = Model.make("Event", Schema.Struct({ id: Model.UlidId, kind: Schema.String }), {
        table: uniqueTable("events")
      })
      const e = yield* Event.create({ kind: "x" })
      expect(e.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    }))

  it.effect("delete reports whether a row was deleted", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const created = yield* User.create(ada)
      expect(yield* User.delete(created.id)).toEqual({ deleted: true })
      expect(yield* User.delete(created.id)).toEqual({ deleted: false })
      expect(Option.isNone(yield* User.find(created.id))).toBe(true)
    }))

  it.effect("list filters by equality, orders with a stable tie-break, pages; count", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const rows = [
        { email: "a@x", name: "b", age: 30, active: true },
        { email: "b@x", name: "a", age: null, active: false },
        { email: "c@x", name: "c", age: 30, active: true },
        { email: "d@x", name: "a", age: 20, active: true }
      ]
      yield* User.bulkCreate(rows)
      const all = (yield* User.list()).records
      expect(all.map((r) => r.email)).toEqual(["a@x", "b@x", "c@x", "d@x"])
      const byAge = (yield* User.list({ orderBy: ["age"] })).records.map((r) => r.email)
      expect(byAge).toEqual(["b@x", "d@x", "a@x", "c@x"])
      const byAgeDesc = (yield* User.list({ orderBy: ["-age", "name"] })).records.map((r) => r.email)
      expect(byAgeDesc).toEqual(["a@x", "c@x", "d@x", "b@x"])
      const page = (yield* User.list({ orderBy: ["name"], limit: 2, offset: 1 })).records.map((r) => r.email)
      expect(page).toEqual(["d@x", "a@x"])
      const tail = (yield* User.list({ orderBy: ["name"], offset: 3 })).records.map((r) => r.email)
      expect(tail).toEqual(["c@x"])
      expect((yield* User.list({ where: { age: 30 } })).records.length).toBe(2)
      expect((yield* User.list({ where: { age: null } })).records.map((r) => r.email)).toEqual(["b@x"])
      expect((yield* User.list({ where: { active: false } })).records.map((r) => r.email)).toEqual(["b@x"])
      expect(yield* User.count()).toBe(4)
      expect(yield* User.count({ age: 30, active: true })).toBe(2)
      const bad = yield* Effect.flip(User.list({ where: { nope: 1 } as never }))
      expect(bad).toMatchObject({ _tag: "InvalidFilter", path: "nope" })
      const badValue = yield* Effect.flip(User.count({ age: "x" } as never))
      expect(badValue).toMatchObject({ _tag: "InvalidFilter", path: "age" })
      const badOrder = yield* Effect.flip(User.list({ orderBy: ["nope"] as never }))
      expect(badOrder._tag).toBe("ValidationError")
    }))

  it.effect("upsert reports created correctly and keeps createdAt on update", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* TestClock.setTime(Date.UTC(2024, 5, 1))
      const first = yield* User.upsert({
        where: { email: "u@x" },
        create: { name: "U", age: 1, active: true },
        update: { name: "U2" }
      })
      expect(first.created).toBe(true)
      expect(first.record).toMatchObject({ email: "u@x", name: "U", age: 1 })
      yield* TestClock.adjust("1 minute")
      const second = yield* User.upsert({
        where: { email: "u@x" },
        create: { name: "U", age: 1, active: true },
        update: { name: "U2" }
      })
      expect(second.created).toBe(false)
      expect(second.record).toMatchObject({ id: first.record.id, name: "U2", age: 1 })
      expect(second.record.createdAt).toEqual(first.record.createdAt)
      expect(second.record.updatedAt.getTime()).toBeGreaterThan(first.record.updatedAt.getTime())
      expect(yield* User.count()).toBe(1)
      const byId = yield* User.upsert({ where: { id: first.record.id }, create: { ...ada, email: "z@x" }, update: { age: 5 } })
      expect(byId).toMatchObject({ created: false, record: { age: 5, email: "u@x" } })
    }))

  it.effect("upsert on a target that is not unique is a ConflictTargetError", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const error = yield* Effect.flip(
        User.upsert({ where: { name: "n" }, create: { email: "e", age: 1, active: true } })
      )
      expect(error).toMatchObject({ _tag: "ConflictTargetError", columns: ["name"] })
      const bulk = yield* Effect.flip(User.bulkUpsert([{ ...ada }], { conflictOn: ["name", "age"] }))
      expect(bulk).toMatchObject({ _tag: "ConflictTargetError", columns: ["name", "age"] })
      expect(yield* User.count()).toBe(0)
    }))

  it.effect("bulkCreate: any number of rows, chunked, records on request", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const rows = Array.from({ length: 2500 }, (_, i) => ({
        email: `u${i}@x`,
        name: `n${i % 7}`,
        age: i % 5 === 0 ? null : i,
        active: i % 2 === 0
      }))
      expect(yield* User.bulkCreate(rows)).toEqual({ inserted: 2500 })
      expect(yield* User.count()).toBe(2500)
      const withRecords = yield* User.bulkCreate(
        [{ email: "r1@x", name: "r", age: 1, active: true }, { email: "r2@x", name: "r", age: 2, active: false }],
        { returnRecords: true }
      )
      expect(withRecords.inserted).toBe(2)
      expect(withRecords.records.map((r) => r.email)).toEqual(["r1@x", "r2@x"])
      expect(withRecords.records[0]!.id).toBeTypeOf("number")
      expect(yield* User.read(withRecords.records[1]!.id)).toEqual(withRecords.records[1])
      expect(yield* User.bulkCreate([])).toEqual({ inserted: 0 })
    }))

  it.effect("bulkCreate is atomic: a bad row or a duplicate writes nothing", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* User.create({ ...ada, email: "keep@x" })
      const rows = Array.from({ length: 1500 }, (_, i) => ({ email: `u${i}@x`, name: "n", age: i, active: true }))
      const invalid = yield* Effect.flip(User.bulkCreate([...rows.slice(0, 1200), { ...ada, age: "x" } as never]))
      expect(invalid).toMatchObject({ _tag: "ValidationError", rowIndex: 1200, path: "age" })
      expect(yield* User.count()).toBe(1)
      // the duplicate sits in the second chunk: the first chunk must be rolled back too
      const duplicate = yield* Effect.flip(User.bulkCreate([...rows, { ...ada, email: "u3@x" }]))
      expect(duplicate._tag).toBe("UniqueViolation")
      expect(yield* User.count()).toBe(1)
    }))

  it.effect("bulkUpdate / bulkDelete: exact counts, empty filter needs confirm", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* User.bulkCreate(Array.from({ length: 10 }, (_, i) => ({ email: `u${i}@x`, name: i < 4 ? "a" : "b", age: i, active: true })))
      expect(yield* User.bulkUpdate({ name: "a" }, { active: false })).toEqual({ updated: 4 })
      // the same update again still matches 4 rows
      expect(yield* User.bulkUpdate({ name: "a" }, { active: false })).toEqual({ updated: 4 })
      expect(yield* User.count({ active: false })).toBe(4)
      expect(yield* User.bulkUpdate({ name: "zzz" }, { active: false })).toEqual({ updated: 0 })
      expect((yield* Effect.flip(User.bulkUpdate({}, { active: true })))._tag).toBe("UnsafeOperation")
      expect((yield* Effect.flip(User.bulkDelete({})))._tag).toBe("UnsafeOperation")
      expect(yield* User.count()).toBe(10)
      expect(yield* User.bulkUpdate({}, { age: 1 }, { confirm: true })).toEqual({ updated: 10 })
      expect(yield* User.bulkDelete({ name: "b" })).toEqual({ deleted: 6 })
      expect(yield* User.bulkDelete({}, { confirm: true })).toEqual({ deleted: 4 })
      expect(yield* User.count()).toBe(0)
    }))

  it.effect("bulkUpsert: exact inserted/updated, last duplicate wins", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* User.bulkCreate([
        { email: "a@x", name: "a", age: 1, active: true },
        { email: "b@x", name: "b", age: 2, active: true }
      ])
      const result = yield* User.bulkUpsert(
        [
          { email: "a@x", name: "a1", age: 10, active: false },
          { email: "c@x", name: "c1", age: 30, active: true },
          { email: "c@x", name: "c2", age: 31, active: true },
          { email: "b@x", name: "b1", age: 20, active: true }
        ],
        { conflictOn: ["email"] }
      )
      expect(result).toEqual({ inserted: 1, updated: 2 })
      const rows = (yield* User.list({ orderBy: ["email"] })).records
      expect(rows.map((r) => [r.email, r.name, r.age])).toEqual([["a@x", "a1", 10], ["b@x", "b1", 20], ["c@x", "c2", 31]])
      const again = yield* User.bulkUpsert(
        Array.from({ length: 1200 }, (_, i) => ({ email: `bulk${i % 1000}@x`, name: `n${i}`, age: i, active: true })),
        { conflictOn: ["email"] }
      )
      expect(again).toEqual({ inserted: 1000, updated: 0 })
      expect(yield* User.count()).toBe(1003)
    }))

  it.effect("a failed write inside a transaction leaves nothing behind", () =>
    Effect.gen(function*() {
      const User = makeUser()
      yield* User.create({ ...ada, email: "first@x" })
      const exit = yield* Effect.exit(
        DataFlow.transaction(Effect.gen(function*() {
          yield* User.create({ ...ada, email: "second@x" })
          yield* User.create({ ...ada, email: "first@x" })
        }))
      )
      assert.isTrue(Exit.isFailure(exit))
      expect(yield* User.count()).toBe(1)
    }))
})

forEachDatabase("bulkCreate streaming", (it) => {
  it.effect("takes a generator or a Stream, reports progress, stays atomic", () =>
    Effect.gen(function*() {
      const User = makeUser()
      function* rows(n: number) {
        for (let i = 0; i < n; i++) yield { email: `g${i}@x`, name: "g", age: i, active: true }
      }
      const progress: Array<number> = []
      const result = yield* User.bulkCreate(rows(12_300), { onProgress: (n) => Effect.sync(() => progress.push(n)) })
      expect(result).toEqual({ inserted: 12_300 })
      expect(progress[progress.length - 1]).toBe(12_300)
      expect(progress.length).toBeGreaterThan(1)
      const fromStream = yield* User.bulkCreate(
        Stream.range(1, 1500).pipe(Stream.map((i) => ({ email: `s${i}@x`, name: "s", age: i, active: false })))
      )
      expect(fromStream).toEqual({ inserted: 1500 })
      expect(yield* User.count()).toBe(13_800)
      // a bad row after the first written chunks: nothing of this call stays
      const bad = Stream.range(1, 1800).pipe(
        Stream.map((i) => ({ email: `b${i}@x`, name: "b", age: i === 1700 ? ("x" as unknown as number) : i, active: true }))
      )
      const error = yield* Effect.flip(User.bulkCreate(bad))
      expect(error).toMatchObject({ _tag: "ValidationError", rowIndex: 1699, path: "age" })
      expect(yield* User.count()).toBe(13_800)
    }))
})
