/**
 * Comparisons at a path inside a JSON field (`{ $path: [...], $eq: … }`): the same answers on
 * every database for text (code-point order, case, trailing spaces, characters beyond U+FFFF),
 * numbers (integers, fractions, beyond 2^53), booleans, missing keys, JSON null, values of
 * another type and keys applied to arrays; checked against a JavaScript evaluation of the
 * documented semantics, over fixed cases and random filters, and from untyped JSON.
 */
import { expect } from "@effect/vitest"
import { Effect, Either, FastCheck, Schema } from "effect"
import type { Filter } from "../src/Filter.js"
import { Json, Model } from "../src/index.js"
import { definitionOf } from "../src/internal/model/definition.js"
import { matches as referenceMatches } from "../src/internal/testing/query.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const Profile = Schema.Struct({
  city: Schema.String,
  age: Schema.Number,
  vip: Schema.Boolean,
  address: Schema.optional(Schema.Struct({ zip: Schema.String, floor: Schema.NullOr(Schema.Number) }))
})
const fields = {
  id: Schema.Int,
  profile: Schema.NullOr(Profile),
  // null is one of Schema.Unknown's values: a nullable column
  meta: Schema.Unknown
}
type Rec = Schema.Struct.Type<typeof fields>

const Person = () => Model.make("Person", Schema.Struct(fields), { table: uniqueTable("json_path"), timestamps: false })

const rows: ReadonlyArray<Rec> = [
  { id: 1, profile: { city: "Paris", age: 30, vip: true, address: { zip: "75001", floor: 2 } }, meta: { a: "x", n: 1 } },
  { id: 2, profile: { city: "paris", age: 30.5, vip: false }, meta: { a: 1, n: "1" } },
  { id: 3, profile: null, meta: null },
  { id: 4, profile: { city: "Paris ", age: -1, vip: false, address: { zip: "😀", floor: null } }, meta: [1, 2] },
  { id: 5, profile: { city: "Zürich", age: 2 ** 53 + 2, vip: true, address: { zip: "中文", floor: 0.1 } }, meta: { a: null } },
  { id: 6, profile: { city: "", age: 1e21, vip: true }, meta: { a: true, n: { deep: "y" } } },
  { id: 7, profile: { city: "\uFFFF", age: 0, vip: false }, meta: { a: "X", n: 2.5 } }
]

const cases: ReadonlyArray<readonly [Filter<Rec>, ReadonlyArray<number>]> = [
  [{ profile: { $path: ["city"], $eq: "Paris" } }, [1]],
  [{ profile: { $path: ["city"], $ne: "Paris" } }, [2, 3, 4, 5, 6, 7]],
  [{ profile: { $path: ["city"], $gt: "Paris" } }, [2, 4, 5, 7]],
  [{ profile: { $path: ["city"], $lte: "Paris " } }, [1, 4, 6]],
  [{ profile: { $path: ["city"], $in: ["paris", "Zürich"] } }, [2, 5]],
  [{ profile: { $path: ["city"], $nin: ["paris", "Zürich"] } }, [1, 3, 4, 6, 7]],
  [{ profile: { $path: ["age"], $gte: 30 } }, [1, 2, 5, 6]],
  [{ profile: { $path: ["age"], $eq: 2 ** 53 + 2 } }, [5]],
  [{ profile: { $path: ["age"], $lt: 0.5, $gt: -2 } }, [4, 7]],
  [{ profile: { $path: ["vip"], $eq: true } }, [1, 5, 6]],
  [{ profile: { $path: ["vip"], $ne: true } }, [2, 3, 4, 7]],
  [{ profile: { $path: ["address", "zip"], $eq: "😀" } }, [4]],
  [{ profile: { $path: ["address", "zip"], $gt: "\uFFFF" } }, [4]],
  [{ profile: { $path: ["address", "floor"], $null: true } }, [2, 3, 4, 6, 7]],
  [{ profile: { $path: ["address", "floor"], $null: false } }, [1, 5]],
  [{ profile: { $path: ["address"], $eq: null } }, [2, 3, 6, 7]],
  [{ profile: { $path: ["address", "floor"], $gte: 0 } }, [1, 5]],
  [{ meta: { $path: ["a"], $eq: "x" } }, [1]],
  [{ meta: { $path: ["a"], $gte: "X" } }, [1, 7]],
  [{ meta: { $path: ["a"], $eq: 1 } }, [2]],
  [{ meta: { $path: ["a"], $eq: true } }, [6]],
  [{ meta: { $path: ["a"], $null: true } }, [3, 4, 5]],
  [{ meta: { $path: ["n"], $eq: 1 } }, [1]],
  [{ meta: { $path: ["n"], $eq: "1" } }, [2]],
  [{ meta: { $path: ["n", "deep"], $eq: "y" } }, [6]],
  [{ meta: { $path: ["n"], $in: [1, 2.5] } }, [1, 7]],
  [{ meta: { $path: ["0"], $null: false } }, []],
  [{ meta: null }, [3]],
  [{ $not: { profile: { $path: ["age"], $gt: 0 } } }, [3, 4, 7]],
  [{ $or: [{ meta: { $path: ["a"], $eq: "x" } }, { profile: { $path: ["city"], $eq: "" } }] }, [1, 6]]
]

/** The documented semantics, in JavaScript. */
const atPath = (value: unknown, keys: ReadonlyArray<string>): unknown => {
  let v = value
  for (const k of keys) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, k)) return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return v
}
const codePoints = (a: string, b: string) => {
  const x = [...a].map((c) => c.codePointAt(0)!)
  const y = [...b].map((c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}
const compare = (v: unknown, operand: unknown): number | undefined =>
  typeof v !== typeof operand || v === null
    ? undefined
    : typeof v === "string"
    ? codePoints(v, operand as string)
    : typeof v === "number"
    ? v - (operand as number)
    : typeof v === "boolean"
    ? (v === operand ? 0 : 1)
    : undefined
const holds = (v: unknown, op: string, operand: unknown): boolean => {
  const c = compare(v, operand)
  switch (op) {
    case "$eq":
      return operand === null ? v === undefined || v === null : c === 0
    case "$ne":
      return operand === null ? !(v === undefined || v === null) : c !== 0
    case "$gt":
      return c !== undefined && c > 0
    case "$gte":
      return c !== undefined && c >= 0
    case "$lt":
      return c !== undefined && c < 0
    case "$lte":
      return c !== undefined && c <= 0
    case "$in":
      return (operand as ReadonlyArray<unknown>).some((o) => compare(v, o) === 0)
    case "$nin":
      return !(operand as ReadonlyArray<unknown>).some((o) => compare(v, o) === 0)
    default:
      return operand === (v === undefined || v === null)
  }
}
const matches = (row: Rec, filter: Record<string, unknown>): boolean =>
  Object.entries(filter).every(([key, cond]) => {
    if (key === "$not") return !matches(row, cond as Record<string, unknown>)
    if (key === "$or") return (cond as ReadonlyArray<Record<string, unknown>>).some((f) => matches(row, f))
    if (cond === null) return row[key as keyof Rec] === null
    const { $path, ...ops } = cond as Record<string, unknown>
    const v = atPath(row[key as keyof Rec], $path as ReadonlyArray<string>)
    return Object.entries(ops).every(([op, operand]) => holds(v, op, operand))
  })

const ids = (records: ReadonlyArray<{ readonly id: number }>) => records.map((r) => r.id)

/** Random path filters over the rows' keys and values. */
const randomFilter = FastCheck.record({
  field: FastCheck.constantFrom("profile", "meta"),
  path: FastCheck.constantFrom(["city"], ["age"], ["vip"], ["address", "zip"], ["address", "floor"], ["a"], ["n"], ["n", "deep"], ["address"]),
  op: FastCheck.constantFrom("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null"),
  operand: FastCheck.oneof(
    FastCheck.constantFrom("Paris", "paris", "Paris ", "", "x", "X", "y", "1", "😀", "中文", "\uFFFF", "Zürich", "75001"),
    FastCheck.constantFrom(0, 1, 2.5, 30, 30.5, -1, -2, 0.1, 2 ** 53 + 2, 1e21),
    FastCheck.boolean()
  )
}).map(({ field, op, operand, path }) => {
  const value = op === "$in" || op === "$nin"
    ? [operand]
    : op === "$null"
    ? typeof operand === "boolean" ? operand : true
    : (op === "$eq" || op === "$ne") ? operand : typeof operand === "boolean" ? 1 : operand
  return { [field]: { $path: path, [op]: value } } as Record<string, unknown>
})

forEachDatabase("json paths", (it) => {
  const M = Person()
  const filled = Effect.gen(function*() {
    if ((yield* M.count()) === 0) yield* M.bulkCreate(rows)
  })

  it.effect("comparisons at a path: the same answers on every database", () =>
    Effect.gen(function*() {
      yield* filled
      const problems: Array<string> = []
      for (const [where, want] of cases) {
        const expected = rows.filter((r) => matches(r, where as Record<string, unknown>)).map((r) => r.id)
        if (JSON.stringify(expected) !== JSON.stringify(want)) problems.push(`case ${JSON.stringify(where)} disagrees with the JS evaluation: ${JSON.stringify(expected)}`)
        const got = ids((yield* M.list({ where, orderBy: ["id"] })).records)
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${JSON.stringify(where)}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
        if ((yield* M.count(where)) !== want.length) problems.push(`count ${JSON.stringify(where)}`)
      }
      expect(problems).toEqual([])
    }))

  it.effect("random path filters agree with the JavaScript evaluation", () =>
    Effect.gen(function*() {
      yield* filled
      const filters = FastCheck.sample(randomFilter, 60)
      const problems: Array<string> = []
      for (const where of filters) {
        const want = rows.filter((r) => matches(r, where)).map((r) => r.id)
        const reference = rows.filter((r) => referenceMatches(definitionOf(M), where, r)).map((r) => r.id)
        if (JSON.stringify(reference) !== JSON.stringify(want)) problems.push(`Testing.reference ${JSON.stringify(where)}: ${JSON.stringify(reference)}`)
        const got = ids((yield* M.list({ where: where as Filter<Rec>, orderBy: ["id"] })).records)
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${JSON.stringify(where)}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
      }
      expect(problems).toEqual([])
    }))

  it.effect("from untyped JSON: operands are the stored JSON scalars", () =>
    Effect.gen(function*() {
      yield* filled
      const where = yield* Json.decodeFilter(M, JSON.parse(`{"profile":{"$path":["address","zip"],"$in":["75001","中文"]}}`))
      expect(ids((yield* M.list({ where, orderBy: ["id"] })).records)).toEqual([1, 5])
      const bad = yield* Effect.either(Json.decodeFilter(M, { meta: { $path: ["a"], $gt: false } }))
      expect(Either.isLeft(bad)).toBe(true)
    }))

  it.effect("bad paths and operands are InvalidFilter naming the path", () =>
    Effect.gen(function*() {
      const bad: ReadonlyArray<readonly [unknown, string]> = [
        [{ profile: { $path: [], $eq: "x" } }, "profile.$path"],
        [{ profile: { $path: ["a.b"], $eq: "x" } }, "profile.$path[0]"],
        [{ profile: { $path: ["city"], $gt: true } }, "profile.$gt"],
        [{ profile: { $path: ["city"], $eq: {} } }, "profile.$eq"],
        [{ profile: { $path: ["city"], $in: ["a", 1] } }, "profile.$in"],
        [{ profile: { $path: ["city"], $like: "a%" } }, "profile.$like"],
        [{ profile: { $path: ["city"], $eq: "a\u0000" } }, "profile.$eq"],
        [{ profile: { $path: ["age"], $eq: Infinity } }, "profile.$eq"],
        [{ id: { $path: ["x"], $eq: 1 } }, "id.$path"]
      ]
      for (const [where, path] of bad) {
        const error = yield* M.count(where as Filter<Rec>).pipe(Effect.flip)
        expect(error._tag, JSON.stringify(where)).toBe("InvalidFilter")
        if (error._tag === "InvalidFilter") expect(error.path, JSON.stringify(where)).toBe(path)
      }
    }))
})

// type level: paths are the keys of the field's type, operands the type found there
export const typed: ReadonlyArray<Filter<Rec>> = [
  { profile: { $path: ["city"], $eq: "Paris" } },
  { profile: { $path: ["address", "zip"], $in: ["75001"] } },
  { profile: { $path: ["age"], $gt: 3 } },
  { meta: { $path: ["anything", "at", "all"], $eq: true } },
  // @ts-expect-error: not a key of the profile
  { profile: { $path: ["town"], $eq: "Paris" } },
  // @ts-expect-error: age is a number
  { profile: { $path: ["age"], $eq: "30" } },
  // @ts-expect-error: booleans only compare for equality
  { profile: { $path: ["vip"], $gt: true } }
]
