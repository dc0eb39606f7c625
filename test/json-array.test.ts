/**
 * JSON-array filters (`$has`, `$hasAny`, `$hasAll`, `$size`) on arrays of strings, numbers and
 * booleans, and long `$in` / `$nin` lists bound as one parameter: the same answers on every
 * database, through every node that takes a filter, and from untyped JSON (`decodeFilter`).
 * Randomised agreement with the reference is in test/differential.test.ts.
 */
import { expect } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import type { Filter } from "../src/Filter.js"
import { Json, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const fields = {
  id: Schema.Int,
  title: Schema.String,
  tags: Schema.Array(Schema.String),
  scores: Schema.NullOr(Schema.Array(Schema.Number)),
  flags: Schema.optional(Schema.Array(Schema.Boolean)),
  meta: Schema.NullOr(Schema.Struct({ x: Schema.Number }))
}
type Rec = Schema.Struct.Type<typeof fields>

const Article = () => Model.make("Article", Schema.Struct(fields), { table: uniqueTable("articles"), timestamps: false })

const rows: ReadonlyArray<Rec> = [
  { id: 1, title: "a", tags: ["dragons", "magic"], scores: [1, 2.5, 1e21], flags: [true], meta: null },
  { id: 2, title: "b", tags: ["Dragons", "dragons ", "中文"], scores: null, flags: [false, false], meta: { x: 1 } },
  { id: 3, title: "c", tags: [], scores: [], meta: null },
  { id: 4, title: "d", tags: ["magic", "a\"b\\c", "😀"], scores: [-0.5, 0.1, 2 ** 53 + 2], flags: [], meta: null },
  { id: 5, title: "e", tags: ["dragons", "dragons"], scores: [3], flags: [true, false], meta: null }
]

const cases: ReadonlyArray<readonly [Filter<Rec>, ReadonlyArray<number>]> = [
  [{ tags: { $has: "dragons" } }, [1, 5]],
  [{ tags: { $has: "Dragons" } }, [2]],
  [{ tags: { $has: "dragons " } }, [2]],
  [{ tags: { $has: "a\"b\\c" } }, [4]],
  [{ tags: { $has: "😀" } }, [4]],
  [{ tags: { $has: "中文" } }, [2]],
  [{ tags: { $hasAny: ["magic", "中文"] } }, [1, 2, 4]],
  [{ tags: { $hasAny: [] } }, []],
  [{ tags: { $hasAll: ["dragons", "magic"] } }, [1]],
  [{ tags: { $hasAll: ["dragons", "dragons"] } }, [1, 5]],
  [{ tags: { $hasAll: [] } }, [1, 2, 3, 4, 5]],
  [{ tags: { $size: 0 } }, [3]],
  [{ tags: { $size: { $gte: 2, $lt: 3 } } }, [1, 5]],
  [{ tags: { $size: { $gt: 2 } } }, [2, 4]],
  [{ scores: { $has: 2.5 } }, [1]],
  [{ scores: { $has: 1e21 } }, [1]],
  [{ scores: { $has: 2 ** 53 + 2 } }, [4]],
  [{ scores: { $has: 0.1 } }, [4]],
  [{ scores: { $hasAny: [3, -0.5] } }, [4, 5]],
  [{ scores: { $hasAll: [] } }, [1, 3, 4, 5]],
  [{ scores: { $size: 0 } }, [3]],
  [{ $not: { scores: { $has: 1 } } }, [2, 3, 4, 5]],
  [{ scores: null }, [2]],
  [{ flags: { $has: true } }, [1, 5]],
  [{ flags: { $has: false } }, [2, 5]],
  [{ flags: { $hasAll: [true, false] } }, [5]],
  [{ flags: { $null: true } }, [3]],
  [{ $or: [{ tags: { $has: "magic" } }, { flags: { $size: 2 } }] }, [1, 2, 4, 5]]
]

const ids = (records: ReadonlyArray<{ readonly id: number }>) => records.map((r) => r.id)

forEachDatabase("json arrays", (it, db) => {
  const M = Article()
  const filled = Effect.gen(function*() {
    if ((yield* M.count()) === 0) yield* M.bulkCreate(rows)
  })

  it.effect("$has / $hasAny / $hasAll / $size: the same answers on every database", () =>
    Effect.gen(function*() {
      yield* filled
      const problems: Array<string> = []
      for (const [where, want] of cases) {
        const got = ids((yield* M.list({ where, orderBy: ["id"] })).records)
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${JSON.stringify(where)}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
        const counted = yield* M.count(where)
        if (counted !== want.length) problems.push(`count ${JSON.stringify(where)}: ${counted}`)
      }
      expect(problems, `[${db.label}]`).toEqual([])
    }))

  it.effect("the same filters read from JSON (decodeFilter)", () =>
    Effect.gen(function*() {
      yield* filled
      for (const [where, want] of cases.slice(0, 12)) {
        const decoded = yield* Json.decodeFilter(M, JSON.parse(JSON.stringify(where)))
        expect(ids((yield* M.list({ where: decoded, orderBy: ["id"] })).records)).toEqual(want)
      }
    }))

  it.effect("bulkUpdate and bulkDelete take them", () =>
    Effect.gen(function*() {
      const W = Article()
      yield* W.bulkCreate(rows)
      expect((yield* W.bulkUpdate({ tags: { $has: "dragons" } }, { title: "tagged" })).updated).toBe(2)
      expect(ids((yield* W.list({ where: { title: "tagged" }, orderBy: ["id"] })).records)).toEqual([1, 5])
      expect((yield* W.bulkDelete({ tags: { $hasAny: ["magic"] } })).deleted).toBe(2)
      expect(yield* W.count()).toBe(3)
    }))

  it.effect("wrong operands and operators are InvalidFilter naming the path", () =>
    Effect.gen(function*() {
      yield* filled
      const bad: ReadonlyArray<readonly [unknown, string]> = [
        [{ tags: { $has: 1 } }, "tags.$has"],
        [{ tags: { $has: null } }, "tags.$has"],
        [{ tags: { $hasAny: ["a", 2] } }, "tags.$hasAny[1]"],
        [{ tags: { $hasAll: "a" } }, "tags.$hasAll"],
        [{ tags: { $size: -1 } }, "tags.$size"],
        [{ tags: { $size: 1.5 } }, "tags.$size"],
        [{ tags: { $size: { $ne: 1 } } }, "tags.$size.$ne"],
        [{ tags: { $eq: ["a"] } }, "tags.$eq"],
        [{ tags: ["a"] }, "tags"],
        [{ scores: { $has: "1" } }, "scores.$has"],
        [{ scores: { $has: Number.NaN } }, "scores.$has"],
        [{ flags: { $has: 1 } }, "flags.$has"],
        [{ meta: { $has: 1 } }, "meta.$has"],
        [{ title: { $has: "a" } }, "title.$has"],
        [{ tags: { $has: "a\u0000" } }, "tags.$has"]
      ]
      for (const [where, path] of bad) {
        const error = yield* Effect.flip(M.count(where as Filter<Rec>))
        expect(error._tag, JSON.stringify(where)).toBe("InvalidFilter")
        expect(error._tag === "InvalidFilter" ? error.path : "", JSON.stringify(where)).toBe(path)
        const decoded = yield* Effect.either(Json.decodeFilter(M, where))
        expect(Either.isLeft(decoded), `decodeFilter ${JSON.stringify(where)}`).toBe(true)
      }
    }))

  it.effect("long $in / $nin lists (bound as one parameter) on every field kind", () =>
    Effect.gen(function*() {
      yield* filled
      const many = (n: number) => Array.from({ length: n }, (_, i) => i + 100)
      expect(ids((yield* M.list({ where: { id: { $in: [...many(50_000), 2, 4] } }, orderBy: ["id"] })).records)).toEqual([2, 4])
      expect(ids((yield* M.list({ where: { id: { $nin: [...many(50_000), 2, 4] } }, orderBy: ["id"] })).records)).toEqual([1, 3, 5])
      const titles = [...Array.from({ length: 100 }, (_, i) => `t${i}`), "b", "e "]
      expect(ids((yield* M.list({ where: { title: { $in: titles } }, orderBy: ["id"] })).records)).toEqual([2])
      expect(ids((yield* M.list({ where: { title: { $nin: titles } }, orderBy: ["id"] })).records)).toEqual([1, 3, 4, 5])
    }), { timeout: 60_000 })
})
