/**
 * Node completeness: Model.stream, bulkCreate skipping conflicts, per-record bulkUpdate and
 * upsert's conflictOn, on every database.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { BigDecimal, Chunk, Effect, Fiber, Option, Schema, Stream } from "effect"
import { SqlClient } from "@effect/sql"
import { inject } from "vitest"
import { DataFlow, Json, Model, Tenant } from "../src/index.js"
import { forEachDatabase, mysql, pg, uniqueTable } from "./support/db.js"
import { mysqlUrl, pgUrl } from "./support/servers.js"

const Sku = () =>
  Model.make("Sku", Schema.Struct({
    id: Schema.Int,
    code: Schema.String,
    shelf: Schema.NullOr(Schema.String),
    bin: Schema.NullOr(Schema.Int),
    price: Schema.BigDecimalFromSelf,
    qty: Schema.Int
  }), { table: uniqueTable("skus"), unique: ["code", ["shelf", "bin"]], softDelete: true, versioned: true })

const sku = (code: string, qty = 1, shelf: string | null = null, bin: number | null = null) => ({
  code,
  shelf,
  bin,
  price: BigDecimal.unsafeFromString("1.50"),
  qty
})

const Doc = () =>
  Model.make("Doc", Schema.Struct({
    id: Schema.String,
    title: Schema.String,
    n: Schema.Int
  }), { table: uniqueTable("docs"), tenantScoped: true, unique: ["title"] })

/** A pause in real time (the tests run on a TestClock). */
const wallClock = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

/** A schema / database name private to this run. */
const privateSchema = (tag: string) => `df_${inject("runId")}_${tag}`

forEachDatabase("complete", (it, db) => {
  it.effect("DataFlow.schema: the tables in a schema (database) of their own, created on first use", () =>
    Effect.gen(function*() {
      const M = Sku()
      const name = privateSchema(`s_${db.label.replace(/[^a-z]+/g, "")}`.slice(0, 40))
      const program = Effect.gen(function*() {
        yield* M.bulkCreate([sku("a"), sku("b")])
        return yield* M.count()
      }).pipe(Effect.provide(DataFlow.schema(name)))
      if (db.name === "sqlite") {
        expect((yield* Effect.flip(program))._tag).toBe("ConfigurationError")
        return
      }
      expect(yield* program).toBe(2)
      const sql = yield* SqlClient.SqlClient
      const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
      const rows = yield* sql.unsafe<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(name)}.${q(M.table)}`).withoutTransform
      expect(Number(rows[0]!.n)).toBe(2)
      // the connection's own schema has no such table
      const here = yield* Effect.either(sql.unsafe(`SELECT COUNT(*) AS n FROM ${q(M.table)}`).withoutTransform)
      expect(here._tag).toBe("Left")
      const bad = yield* Effect.flip(M.count().pipe(Effect.provide(DataFlow.schema("no spaces"))))
      expect(bad._tag).toBe("ConfigError")
    }))


  it.effect("stream: every record in list order, page by page, projected and limited", () =>
    Effect.gen(function*() {
      const M = Sku()
      yield* M.bulkCreate(Array.from({ length: 2345 }, (_, i) => sku(`c${i}`, i % 7)))
      const all = yield* M.list({ orderBy: ["-qty"] })
      const streamed = yield* Stream.runCollect(M.stream({ orderBy: ["-qty"], pageSize: 100 }))
      expect(Chunk.toReadonlyArray(streamed).map((r) => r.id)).toEqual(all.records.map((r) => r.id))
      // a filter, a projection, a limit that ends inside a page
      const some = yield* Stream.runCollect(M.stream({ where: { qty: 3 }, select: ["code"], limit: 250, pageSize: 64 }))
      expect(Chunk.size(some)).toBe(250)
      expect(Object.keys(Chunk.unsafeGet(some, 0))).toEqual(["code"])
      const expected = (yield* M.list({ where: { qty: 3 }, limit: 250 })).records.map((r) => r.code)
      expect(Chunk.toReadonlyArray(some).map((r) => r.code)).toEqual(expected)
      // soft-deleted records are left out unless asked for
      yield* M.delete(all.records[0]!.id)
      expect(Chunk.size(yield* Stream.runCollect(M.stream({ pageSize: 1000 })))).toBe(2344)
      expect(Chunk.size(yield* Stream.runCollect(M.stream({ includeDeleted: true })))).toBe(2345)
      expect(Chunk.size(yield* Stream.runCollect(M.stream({ limit: 0 })))).toBe(0)
      expect(Chunk.size(yield* Stream.runCollect(M.stream({ where: { code: "none" } })))).toBe(0)
    }))

  it.effect("stream: a consumer that stops reads no further page; bad options are typed errors", () =>
    Effect.gen(function*() {
      const M = Sku()
      yield* M.bulkCreate(Array.from({ length: 50 }, (_, i) => sku(`s${i}`)))
      let pages = 0
      const counted = M.stream({ pageSize: 10 }).pipe(Stream.mapChunks((c) => (pages++, c)))
      expect(Chunk.size(yield* Stream.runCollect(Stream.take(counted, 15)))).toBe(15)
      expect(pages).toBe(2)
      // interrupted while waiting for the consumer: no page after the interruption
      pages = 0
      const fiber = yield* Effect.fork(Stream.runForEach(counted, () => Effect.never))
      yield* wallClock(100)
      expect(pages).toBe(1)
      yield* Fiber.interrupt(fiber)
      yield* wallClock(50)
      expect(pages).toBe(1)
      for (const query of [{ pageSize: 0 }, { pageSize: 1.5 }, { pageSize: 100_001 }, { limit: -1 }]) {
        const error = yield* Effect.flip(Stream.runCollect(M.stream(query)))
        assert(error._tag === "ValidationError")
        expect(error.path).toBe(Object.keys(query)[0])
      }
      const bad = yield* Effect.flip(Stream.runCollect(M.stream({ orderBy: ["nope" as "qty"] })))
      expect(bad._tag).toBe("ValidationError")
    }))

  it.effect("stream: tenant-scoped models stream the current tenant's records only", () =>
    Effect.gen(function*() {
      const D = Doc()
      const a = "acme"
      const b = "beta"
      yield* D.bulkCreate(Array.from({ length: 30 }, (_, i) => ({ id: `a${i}`, title: `t${i}`, n: i }))).pipe(Tenant.with(a))
      yield* D.bulkCreate(Array.from({ length: 20 }, (_, i) => ({ id: `b${i}`, title: `t${i}`, n: i }))).pipe(Tenant.with(b))
      const streamed = yield* Stream.runCollect(D.stream({ pageSize: 7 })).pipe(Tenant.with(b))
      expect(Chunk.toReadonlyArray(streamed).every((d) => d.tenantId === "beta")).toBe(true)
      expect(Chunk.size(streamed)).toBe(20)
    }))

  it.effect("bulkCreate onConflict skip: exact counts, stored rows untouched, duplicates in the input", () =>
    Effect.gen(function*() {
      const M = Sku()
      yield* M.bulkCreate([sku("a", 1), sku("b", 2, "s1", 1)])
      const result = yield* M.bulkCreate(
        [
          sku("a", 100), // stored code
          sku("c", 3),
          sku("c", 300), // repeats c of this call
          sku("d", 4, "s1", 1), // stored (shelf, bin)
          sku("e", 5, "s1", null), // NULL in a key: never a conflict
          sku("f", 6, "s1", null)
        ],
        { onConflict: "skip" }
      )
      expect(result).toEqual({ inserted: 3, skipped: 3 })
      const stored = (yield* M.list({ orderBy: ["code"] })).records.map((r) => [r.code, r.qty])
      expect(stored).toEqual([["a", 1], ["b", 2], ["c", 3], ["e", 5], ["f", 6]])
      // soft-deleted rows keep their keys
      const a = (yield* M.findFirst({ code: "a" })).pipe(Option.getOrThrow)
      yield* M.delete(a.id)
      expect(yield* M.bulkCreate([sku("a", 9)], { onConflict: "skip" })).toEqual({ inserted: 0, skipped: 1 })
      // records of the inserted rows only, in input order
      const withRecords = yield* M.bulkCreate([sku("g", 7), sku("b", 8), sku("h", 9)], { onConflict: "skip", returnRecords: true })
      expect(withRecords.inserted).toBe(2)
      expect(withRecords.skipped).toBe(1)
      expect(withRecords.records.map((r) => r.code)).toEqual(["g", "h"])
      expect(withRecords.records.every((r) => typeof r.id === "number" && r.version === 1)).toBe(true)
      // explicit primary keys conflict too
      const explicit = yield* M.bulkCreate([{ id: withRecords.records[0]!.id, ...sku("zz") }, sku("yy")], { onConflict: "skip" })
      expect(explicit).toEqual({ inserted: 1, skipped: 1 })
    }))

  it.effect("bulkCreate onConflict skip with conflictOn: another key's conflict fails the whole call", () =>
    Effect.gen(function*() {
      const M = Sku()
      yield* M.bulkCreate([sku("a", 1, "s", 1)])
      expect(yield* M.bulkCreate([sku("a", 2), sku("b", 2)], { onConflict: "skip", conflictOn: ["code"] }))
        .toEqual({ inserted: 1, skipped: 1 })
      const failed = yield* Effect.flip(M.bulkCreate([sku("c", 3), sku("d", 3, "s", 1)], { onConflict: "skip", conflictOn: ["code"] }))
      expect(failed._tag).toBe("UniqueViolation")
      expect(yield* M.count({ code: "c" })).toBe(0)
      // bad options are typed errors naming the option
      const notTarget = yield* Effect.flip(M.bulkCreate([sku("x")], { onConflict: "skip", conflictOn: ["qty"] }))
      expect(notTarget._tag).toBe("ConflictTargetError")
      const noSkip = yield* Effect.flip(M.bulkCreate([sku("x")], { conflictOn: ["code"] }))
      assert(noSkip._tag === "ValidationError")
      expect(noSkip.path).toBe("conflictOn")
      const badMode = yield* Effect.flip(M.bulkCreate([sku("x")], { onConflict: "merge" as "skip" }))
      assert(badMode._tag === "ValidationError")
      expect(badMode.path).toBe("onConflict")
      // a bad row still fails the call, nothing written
      const badRow = yield* Effect.flip(M.bulkCreate([sku("ok1"), { ...sku("ok2"), qty: 1.5 }], { onConflict: "skip" }))
      expect(badRow._tag).toBe("ValidationError")
      expect(yield* M.count({ code: "ok1" })).toBe(0)
      // the default is to fail
      const dup = yield* Effect.flip(M.bulkCreate([sku("new"), sku("a")]))
      expect(dup._tag).toBe("UniqueViolation")
      expect(yield* M.count({ code: "new" })).toBe(0)
    }))

  it.effect("bulkCreate onConflict skip: many chunks, a Stream, tenants", () =>
    Effect.gen(function*() {
      const M = Sku()
      yield* M.bulkCreate(Array.from({ length: 1500 }, (_, i) => sku(`k${i * 2}`)))
      const rows = Stream.fromIterable(Array.from({ length: 6000 }, (_, i) => sku(`k${i}`)))
      expect(yield* M.bulkCreate(rows, { onConflict: "skip" })).toEqual({ inserted: 4500, skipped: 1500 })
      expect(yield* M.count()).toBe(6000)
      const D = Doc()
      yield* D.bulkCreate([{ id: "x", title: "same", n: 1 }]).pipe(Tenant.with("t1"))
      // the same title and id in another tenant is no conflict
      expect(yield* D.bulkCreate([{ id: "x", title: "same", n: 2 }, { id: "y", title: "same", n: 3 }], { onConflict: "skip" }).pipe(
        Tenant.with("t2")
      )).toEqual({ inserted: 1, skipped: 1 })
      expect(yield* D.bulkCreate([{ id: "x", title: "other", n: 2 }], { onConflict: "skip" }).pipe(
        Tenant.with("t1")
      )).toEqual({ inserted: 0, skipped: 1 })
    }))

  it.effect("bulkUpdate with items: each record its own patch, missing ones reported", () =>
    Effect.gen(function*() {
      const M = Sku()
      const { records } = yield* M.bulkCreate([sku("a", 1, "s", 1), sku("b", 2), sku("c", 3)], { returnRecords: true })
      const [a, b, c] = records
      const result = yield* M.bulkUpdate([
        { id: a!.id, patch: { qty: 10 } },
        { key: { code: "b" }, patch: { qty: 20, shelf: "t" } },
        { key: { shelf: "s", bin: 1 }, patch: { price: BigDecimal.unsafeFromString("9.99") } },
        { id: 999_999, patch: { qty: 1 } },
        { key: { code: "nope" }, patch: { qty: 1 } }
      ])
      expect(result).toEqual({ updated: 3, missing: [999_999, { code: "nope" }] })
      const after = (yield* M.list({ orderBy: ["code"] })).records
      expect(after.map((r) => [r.code, r.qty, r.shelf, BigDecimal.format(r.price), r.version])).toEqual([
        ["a", 10, "s", "9.99", 3],
        ["b", 20, "t", "1.5", 2],
        ["c", 3, null, "1.5", 1]
      ])
      expect(after[0]!.updatedAt.getTime()).toBeGreaterThanOrEqual(a!.updatedAt.getTime())
      // requireAll: one missing record writes nothing
      const missing = yield* Effect.flip(M.bulkUpdate([{ id: c!.id, patch: { qty: 30 } }, { id: 424242, patch: { qty: 1 } }], { requireAll: true }))
      assert(missing._tag === "NotFound")
      expect(missing.id).toBe(424242)
      expect((yield* M.read(c!.id)).qty).toBe(3)
      // a stale expected version writes nothing
      const stale = yield* Effect.flip(M.bulkUpdate([
        { id: c!.id, patch: { qty: 31 }, expectedVersion: 1 },
        { id: b!.id, patch: { qty: 21 }, expectedVersion: 1 }
      ]))
      assert(stale._tag === "OptimisticLockError")
      expect(stale.id).toBe(b!.id)
      expect((yield* M.read(c!.id)).qty).toBe(3)
      // soft-deleted records are missing
      yield* M.delete(c!.id)
      expect(yield* M.bulkUpdate([{ id: c!.id, patch: { qty: 1 } }])).toEqual({ updated: 0, missing: [c!.id] })
      expect(yield* M.bulkUpdate([])).toEqual({ updated: 0, missing: [] })
      // a unique-key change that collides fails the whole call
      const collide = yield* Effect.flip(M.bulkUpdate([{ id: a!.id, patch: { qty: 99 } }, { id: b!.id, patch: { code: "a" } }]))
      expect(collide._tag).toBe("UniqueViolation")
      expect((yield* M.read(a!.id)).qty).toBe(10)
    }))

  it.effect("bulkUpdate with items: bad items are typed errors naming the item", () =>
    Effect.gen(function*() {
      const M = Sku()
      const bad = (items: ReadonlyArray<unknown>) =>
        Effect.flip(M.bulkUpdate(items as ReadonlyArray<{ id: number; patch: {} }>))
      const cases: ReadonlyArray<readonly [ReadonlyArray<unknown>, string, string, number]> = [
        [[null], "ValidationError", "", 0],
        [[{ id: 1, patch: {} }, { patch: {} }], "ValidationError", "", 1],
        [[{ id: 1, key: { code: "a" }, patch: {} }], "ValidationError", "", 0],
        [[{ id: "x", patch: {} }], "ValidationError", "id", 0],
        [[{ id: 1, patch: { qty: "many" } }], "ValidationError", "patch.qty", 0],
        [[{ id: 1, patch: { id: 2 } }], "ValidationError", "patch.id", 0],
        [[{ id: 1, patch: {}, expectedVersion: 1.5 }], "ValidationError", "expectedVersion", 0],
        [[{ key: { code: null }, patch: {} }], "ValidationError", "key.code", 0],
        [[{ key: "a", patch: {} }], "ValidationError", "key", 0]
      ]
      for (const [items, tag, path, rowIndex] of cases) {
        const error = yield* bad(items)
        expect(error._tag).toBe(tag)
        assert(error._tag === "ValidationError")
        expect([error.path, error.rowIndex]).toEqual([path, rowIndex])
      }
      const notUnique = yield* bad([{ key: { qty: 1 }, patch: {} }])
      expect(notUnique._tag).toBe("ConflictTargetError")
    }))

  it.effect("Json decoders for every node's input: rows, items, upsert, query", () =>
    Effect.gen(function*() {
      const M = Sku()
      const rows = yield* Json.decodeRows(M, JSON.parse(`[{"code":"a","shelf":null,"bin":null,"price":"2.50","qty":1},
        {"code":"b","shelf":"s","bin":2,"price":"3","qty":2}]`))
      expect(yield* M.bulkCreate(rows, { onConflict: "skip" })).toEqual({ inserted: 2, skipped: 0 })
      const badRow = yield* Effect.flip(Json.decodeRows(M, [{ code: "c", shelf: null, bin: null, price: "x", qty: 1 }]))
      expect([badRow.path, badRow.rowIndex]).toEqual(["price", 0])
      expect((yield* Effect.flip(Json.decodeRows(M, { code: "c" }))).path).toBe("")
      const a = (yield* M.findFirst({ code: "a" })).pipe(Option.getOrThrow)
      const items = yield* Json.decodeUpdateItems(M, JSON.parse(`[{"id":${a.id},"patch":{"price":"9.75"}},
        {"key":{"shelf":"s","bin":2},"patch":{"qty":7},"expectedVersion":1}]`))
      expect(yield* M.bulkUpdate(items)).toEqual({ updated: 2, missing: [] })
      expect(BigDecimal.format((yield* M.read(a.id)).price)).toBe("9.75")
      const badItem = yield* Effect.flip(Json.decodeUpdateItems(M, [{ id: a.id, patch: {} }, { key: { bin: "x" }, patch: {} }]))
      expect([badItem.path, badItem.rowIndex]).toEqual(["key.bin", 1])
      const badPatch = yield* Effect.flip(Json.decodeUpdateItems(M, [{ id: a.id, patch: { qty: "many" } }]))
      expect(badPatch.path).toBe("patch.qty")
      const up = yield* Json.decodeUpsert(M, JSON.parse(`{"create":{"code":"a","shelf":null,"bin":null,"price":"1","qty":1},
        "update":{"qty":42},"conflictOn":["code"]}`))
      expect((yield* M.upsert(up)).record.qty).toBe(42)
      expect((yield* Effect.flip(Json.decodeUpsert(M, { create: { code: 1 } }))).path).toBe("create.code")
      expect((yield* Effect.flip(Json.decodeUpsert(M, { create: rows[0], conflictOn: ["nope"] }))).path).toBe("conflictOn")
      const query = yield* Json.decodeQuery(M, JSON.parse(`{"where":{"price":{"$gte":"5"}},"orderBy":["-qty"],"select":["code"],"limit":5}`))
      expect((yield* M.list(query)).records).toEqual([{ code: "a" }])
      for (const [bad, path] of [[{ limit: -1 }, "limit"], [{ orderBy: ["-nope"] }, "orderBy"], [{ extra: 1 }, "extra"], [[], ""]] as const) {
        const error = yield* Effect.flip(Json.decodeQuery(M, bad))
        assert(error._tag === "ValidationError")
        expect(error.path).toBe(path)
      }
      expect((yield* Effect.flip(Json.decodeQuery(M, { where: { qty: { $gt: "x" } } })))._tag).toBe("InvalidFilter")
    }))

  it.effect("upsert with conflictOn: the target named, its values in create", () =>
    Effect.gen(function*() {
      const M = Sku()
      const first = yield* M.upsert({ create: sku("u", 1), update: { qty: 2 }, conflictOn: ["code"] })
      expect([first.created, first.record.qty]).toEqual([true, 1])
      const second = yield* M.upsert({ create: sku("u", 1), update: { qty: 2 }, conflictOn: ["code"] })
      expect([second.created, second.record.qty, second.record.id]).toEqual([false, 2, first.record.id])
      const byPair = yield* M.upsert({ create: sku("v", 1, "p", 7), update: { qty: 5 }, conflictOn: ["shelf", "bin"] })
      expect(byPair.created).toBe(true)
      expect((yield* M.upsert({ create: sku("w", 1, "p", 7), update: { qty: 5 }, conflictOn: ["shelf", "bin"] })).record.code).toBe("v")
      // the deprecated spelling still works
      const old = yield* M.upsert({ where: { code: "u" }, create: { ...sku("u"), code: "u" }, update: { qty: 3 } })
      expect([old.created, old.record.qty]).toEqual([false, 3])
      const noValue = yield* Effect.flip(M.upsert({ create: sku("z", 1, null, null), conflictOn: ["shelf", "bin"] }))
      assert(noValue._tag === "ValidationError")
      expect(noValue.path).toBe("create.shelf")
      const notTarget = yield* Effect.flip(M.upsert({ create: sku("z"), conflictOn: ["qty"] }))
      expect(notTarget._tag).toBe("ConflictTargetError")
      const both = yield* Effect.flip(
        M.upsert({ where: { code: "u" }, create: sku("u"), conflictOn: ["code"] } as unknown as Parameters<typeof M.upsert>[0])
      )
      assert(both._tag === "ValidationError")
      expect(both.path).toBe("conflictOn")
    }))
})

describe("DataFlow.layer({ schema })", () => {
  const servers = [[pg, pgUrl], [mysql, mysqlUrl]] as const
  for (const [name, url] of servers.filter(([db]) => db.available).map(([db, url]) => [db.name, url] as const)) {
    it.effect(`${name}: the layer's tables live in the schema it names`, () =>
      Effect.gen(function*() {
        const M = Sku()
        const schema = privateSchema(`layer_${name}`)
        const count = yield* Effect.gen(function*() {
          yield* M.create(sku("x"))
          return yield* M.count()
        }).pipe(Effect.provide(DataFlow.layer({ url, schema })))
        expect(count).toBe(1)
        const again = yield* M.count().pipe(Effect.provide(DataFlow.layer({ url, schema })))
        expect(again).toBe(1)
      }))
  }
})
