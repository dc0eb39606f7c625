/**
 * Arithmetic updates ($increment, $decrement, $multiply) on every database: exact values for
 * every numeric kind, atomic under concurrency without a transaction, results out of range or
 * against the schema refused with nothing written, in update, bulkUpdate (both forms) and
 * upsert.
 */
import { assert, expect } from "@effect/vitest"
import { BigDecimal, Effect, Schema } from "effect"
import { Column, Json, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const dec = BigDecimal.unsafeFromString

const Counter = () =>
  Model.make("Counter", Schema.Struct({
    id: Schema.Int,
    name: Schema.String,
    hits: Schema.Int,
    ratio: Schema.Number,
    big: Schema.BigIntFromSelf,
    amount: Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 7, scale: 2 })),
    stock: Schema.Int.pipe(Schema.nonNegative()),
    maybe: Schema.NullOr(Schema.Int)
  }), { table: uniqueTable("counters"), unique: ["name"], versioned: true })

const row = (name: string) => ({
  name,
  hits: 0,
  ratio: 1.5,
  big: 10n,
  amount: dec("10.25"),
  stock: 3,
  maybe: null
})

forEachDatabase("arith", (it) => {
  it.effect("update: every operator on every numeric kind, updatedAt and version move", () =>
    Effect.gen(function*() {
      const M = Counter()
      const c = yield* M.create(row("a"))
      const u = yield* M.update(c.id, {
        hits: { $increment: 5 },
        ratio: { $multiply: 2 },
        big: { $decrement: 11n },
        amount: { $increment: dec("0.75") },
        stock: { $decrement: 1 },
        maybe: { $increment: 1 }
      })
      expect([u.hits, u.ratio, u.big, BigDecimal.format(u.amount), u.stock, u.maybe, u.version]).toEqual([5, 3, -1n, "11", 2, null, 2])
      const m = yield* M.update(c.id, { amount: { $multiply: dec("-3") }, hits: { $multiply: 7 }, name: "b" })
      expect([BigDecimal.format(m.amount), m.hits, m.name, m.version]).toEqual(["-33", 35, "b", 3])
      expect((yield* M.read(c.id)).hits).toBe(35)
      // with an expected version
      const v = yield* M.update(c.id, { hits: { $increment: 1 } }, { expectedVersion: 3 })
      expect(v.hits).toBe(36)
      const stale = yield* Effect.flip(M.update(c.id, { hits: { $increment: 1 } }, { expectedVersion: 3 }))
      expect(stale._tag).toBe("OptimisticLockError")
      const missing = yield* Effect.flip(M.update(424242, { hits: { $increment: 1 } }))
      expect(missing._tag).toBe("NotFound")
    }))

  it.effect("a product that is -0 is stored as 0, as every other write stores it", () =>
    Effect.gen(function*() {
      const M = Counter()
      const c = yield* M.create({ ...row("z"), ratio: -5e-324 })
      const u = yield* M.update(c.id, { ratio: { $multiply: 0 } })
      expect(Object.is(u.ratio, 0)).toBe(true)
      expect(Object.is((yield* M.read(c.id)).ratio, 0)).toBe(true)
      yield* M.bulkUpdate({ id: c.id }, { ratio: { $decrement: 1 } })
      yield* M.bulkUpdate({ id: c.id }, { ratio: { $multiply: -0 } })
      expect(Object.is((yield* M.read(c.id)).ratio, 0)).toBe(true)
    }))

  it.effect("concurrent increments without a transaction add up exactly", () =>
    Effect.gen(function*() {
      const M = Counter()
      const c = yield* M.create(row("hot"))
      yield* Effect.forEach(Array.from({ length: 40 }), () => M.update(c.id, { hits: { $increment: 1 }, amount: { $increment: dec("0.01") } }), {
        concurrency: 8,
        discard: true
      })
      const after = yield* M.read(c.id)
      expect([after.hits, BigDecimal.format(after.amount), after.version]).toEqual([40, "10.65", 41])
    }))

  it.effect("a result out of the column's range or against the schema: ValidationError, nothing written", () =>
    Effect.gen(function*() {
      const M = Counter()
      const c = yield* M.create({ ...row("edge"), hits: Number.MAX_SAFE_INTEGER - 1, big: 2n ** 63n - 2n, amount: dec("99999.50") })
      const cases = [
        [{ hits: { $increment: 2 } }, "hits"],
        [{ hits: { $multiply: 2 } }, "hits"],
        [{ big: { $increment: 2n } }, "big"],
        [{ big: { $multiply: -2n } }, "big"],
        [{ amount: { $increment: dec("0.50") } }, "amount"],
        [{ amount: { $multiply: dec("2") } }, "amount"],
        [{ stock: { $decrement: 4 } }, "stock"],
        [{ name: "changed", stock: { $decrement: 4 } }, "stock"]
      ] as const
      for (const [patch, path] of cases) {
        const error = yield* Effect.flip(M.update(c.id, patch))
        assert(error._tag === "ValidationError")
        expect(error.path).toBe(path)
      }
      const same = yield* M.read(c.id)
      expect([same.hits, same.big, BigDecimal.format(same.amount), same.stock, same.name, same.version])
        .toEqual([Number.MAX_SAFE_INTEGER - 1, 2n ** 63n - 2n, "99999.5", 3, "edge", 1])
      // right at the edge is fine
      expect((yield* M.update(c.id, { hits: { $increment: 1 }, amount: { $increment: dec("0.49") } })).hits).toBe(Number.MAX_SAFE_INTEGER)
    }))

  it.effect("bad operators and operands are typed errors naming the field", () =>
    Effect.gen(function*() {
      const M = Counter()
      const c = yield* M.create(row("x"))
      const bad = [
        [{ name: { $increment: 1 } }, "name"],
        [{ hits: { $increment: 1.5 } }, "hits"],
        [{ hits: { $inc: 1 } }, "hits"],
        [{ big: { $increment: 1 } }, "big"],
        [{ amount: { $multiply: dec("1.5") } }, "amount"],
        [{ amount: { $increment: dec("0.001") } }, "amount"],
        [{ ratio: { $increment: Number.POSITIVE_INFINITY } }, "ratio"],
        [{ hits: { $increment: 1, $decrement: 1 } }, "hits"]
      ] as const
      for (const [patch, path] of bad) {
        const error = yield* Effect.flip(M.update(c.id, patch as never))
        assert(error._tag === "ValidationError")
        expect(error.path).toBe(path)
      }
      expect((yield* M.read(c.id)).version).toBe(1)
    }))

  it.effect("bulkUpdate by filter: every matching row, or none when one result is refused", () =>
    Effect.gen(function*() {
      const M = Counter()
      yield* M.bulkCreate([row("a"), row("b"), { ...row("c"), stock: 0 }, { ...row("d"), maybe: 7 }])
      expect(yield* M.bulkUpdate({ name: { $in: ["a", "b", "d"] } }, { hits: { $increment: 2 }, maybe: { $multiply: 3 } }))
        .toEqual({ updated: 3 })
      const all = (yield* M.list({ orderBy: ["name"] })).records
      expect(all.map((r) => [r.name, r.hits, r.maybe, r.version])).toEqual([
        ["a", 2, null, 2],
        ["b", 2, null, 2],
        ["c", 0, null, 1],
        ["d", 2, 21, 2]
      ])
      const refused = yield* Effect.flip(M.bulkUpdate({}, { stock: { $decrement: 1 } }, { confirm: true }))
      assert(refused._tag === "ValidationError")
      expect(refused.path).toBe("stock")
      expect((yield* M.list({ orderBy: ["name"] })).records.map((r) => r.stock)).toEqual([3, 3, 0, 3])
      // decimals too (computed by the library where the database keeps them as text)
      expect(yield* M.bulkUpdate({ name: { $ne: "c" } }, { amount: { $increment: dec("-0.25") } })).toEqual({ updated: 3 })
      expect((yield* M.list({ orderBy: ["name"] })).records.map((r) => BigDecimal.format(r.amount))).toEqual(["10", "10", "10.25", "10"])
      const unsafe = yield* Effect.flip(M.bulkUpdate({}, { hits: { $increment: 1 } }))
      expect(unsafe._tag).toBe("UnsafeOperation")
    }))

  it.effect("bulkUpdate items and upsert take arithmetic updates", () =>
    Effect.gen(function*() {
      const M = Counter()
      const { records } = yield* M.bulkCreate([row("a"), row("b")], { returnRecords: true })
      expect(yield* M.bulkUpdate([
        { id: records[0]!.id, patch: { hits: { $increment: 10 } } },
        { key: { name: "b" }, patch: { hits: { $increment: 20 }, big: { $multiply: 3n } } },
        { key: { name: "zz" }, patch: { hits: { $increment: 1 } } }
      ])).toEqual({ updated: 2, missing: [{ name: "zz" }] })
      expect((yield* M.list({ orderBy: ["name"] })).records.map((r) => [r.hits, r.big])).toEqual([[10, 10n], [20, 30n]])
      const refused = yield* Effect.flip(M.bulkUpdate([
        { id: records[0]!.id, patch: { hits: { $increment: 1 } } },
        { id: records[1]!.id, patch: { stock: { $decrement: 9 } } }
      ]))
      expect(refused._tag).toBe("ValidationError")
      expect((yield* M.read(records[0]!.id)).hits).toBe(10)
      // the counter pattern: create with 1, else add 1 — concurrently, exactly
      yield* Effect.forEach(Array.from({ length: 12 }), () =>
        M.upsert({ create: { ...row("views"), hits: 1 }, update: { hits: { $increment: 1 } }, conflictOn: ["name"] }), {
        concurrency: 4,
        discard: true
      })
      expect((yield* M.findFirst({ name: "views" })).pipe((o) => o._tag === "Some" ? o.value.hits : -1)).toBe(12)
    }))

  it.effect("Json.decodePatch reads operators with each field's JSON form", () =>
    Effect.gen(function*() {
      const M = Counter()
      const c = yield* M.create(row("j"))
      const patch = yield* Json.decodePatch(M, JSON.parse(`{"big":{"$increment":"9007199254740993"},"amount":{"$decrement":"0.25"}}`))
      const u = yield* M.update(c.id, patch)
      expect([u.big, BigDecimal.format(u.amount)]).toEqual([9007199254741003n, "10"])
      const bad = yield* Effect.flip(Json.decodePatch(M, { big: { $increment: "x" } }))
      expect(bad.path).toBe("big")
    }))
})
