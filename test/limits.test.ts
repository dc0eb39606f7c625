/**
 * The documented filter limits (docs/queries.md), written here as literals: a filter nests
 * `$and` / `$or` / `$not` at most 32 levels, holds at most 500 field conditions, an `$in` /
 * `$nin` list at most 1,000,000 values, a `$hasAny` / `$hasAll` list at most 1,000 elements, a
 * filter at most 1,000,000 values in all, a `$like` / `$ilike` pattern is at most 10,000 characters. A filter exactly at
 * a limit runs on every database and gives the literal answer (in count, list, findFirst,
 * bulkUpdate and bulkDelete for the values); one past it is an `InvalidFilter`, never a
 * database error. Lists that long are bound as one parameter, far past every database's limit
 * on bound parameters (65,535; SQLite's 32,766).
 */
import { expect } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { Cause, Effect, Exit, Option, Schema } from "effect"
import type { Filter } from "../src/Filter.js"
import { Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { likeMatcher } from "./support/reference.js"

const DEPTH = 32
const CONDITIONS = 500
const LIST = 1_000_000
const VALUES = 1_000_000
const ELEMENTS = 1_000
const PATTERN = 10_000

const fields = {
  id: Schema.Int,
  n: Schema.NullOr(Schema.Int),
  s: Schema.NullOr(Schema.String),
  tags: Schema.Array(Schema.String)
}
type Rec = Schema.Struct.Type<typeof fields>

const makeModel = (softDelete = false) =>
  Model.make("Limits", Schema.Struct(fields), { table: uniqueTable("limits"), timestamps: false, softDelete })

/** Long values for the patterns at the limit; short ones, and NULLs. */
const rows: ReadonlyArray<Rec> = [
  { id: 1, n: 1, s: "[".repeat(PATTERN), tags: ["w1"] },
  { id: 2, n: 2, s: "中".repeat(PATTERN), tags: [] },
  { id: 3, n: null, s: "[".repeat(PATTERN - 1), tags: ["v1", "w999999"] },
  ...Array.from({ length: 9 }, (_, i) => ({ id: i + 4, n: i % 3 === 0 ? null : i + 4, s: i % 4 === 0 ? null : `v${i}`, tags: [`v${i}`] }))
]

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)
const nest = (depth: number, wrap: (f: Filter<Rec>) => Filter<Rec>, inner: Filter<Rec>): Filter<Rec> => {
  let f = inner
  for (let i = 0; i < depth; i++) f = wrap(f)
  return f
}
const ids = (accept: (r: Rec) => boolean) => rows.filter(accept).map((r) => r.id)

/** `n > 4`, NULL not matching: the answer of every nesting below. */
const nGt4: Filter<Rec> = { n: { $gt: 4 } }
const nGt4Ids = ids((r) => r.n !== null && r.n > 4)

/** The value limit: 500,000 ids and 500,000 values of n, exactly 1,000,000 values. */
const atValueLimit: Filter<Rec> = { id: { $in: range(1, VALUES / 2) }, n: { $nin: range(-VALUES / 2, VALUES / 2) } }
const atValueLimitIds = ids(() => true)
const pastValueLimit: Filter<Rec> = { ...atValueLimit, s: { $ne: "no such value" } }

/** Two long lists (bound as one parameter each), for the nodes that bind values of their own. */
const LONG = 100_000
const longLists: Filter<Rec> = { id: { $in: range(1, LONG) }, n: { $nin: range(-LONG, LONG) } }

/** A filter exactly at a limit, its literal answer, and the filter one past it. */
const cases: ReadonlyArray<readonly [what: string, at: Filter<Rec>, want: ReadonlyArray<number>, past: Filter<Rec>]> = [
  [`$and nested ${DEPTH} deep`, nest(DEPTH, (f) => ({ $and: [f] }), nGt4), nGt4Ids, nest(DEPTH + 1, (f) => ({ $and: [f] }), nGt4)],
  [`$or nested ${DEPTH} deep`, nest(DEPTH, (f) => ({ $or: [f] }), nGt4), nGt4Ids, nest(DEPTH + 1, (f) => ({ $or: [f] }), nGt4)],
  // an even number of negations: NOT NOT (n > 4), a NULL comparison counting as false
  [`$not nested ${DEPTH} deep`, nest(DEPTH, (f) => ({ $not: f }), nGt4), nGt4Ids, nest(DEPTH + 1, (f) => ({ $not: f }), nGt4)],
  [
    `${CONDITIONS} conditions in an $or`,
    { $or: range(1, CONDITIONS).map((id) => ({ id })) },
    ids(() => true),
    { $or: range(1, CONDITIONS + 1).map((id) => ({ id })) }
  ],
  [
    `${CONDITIONS} conditions in an $and`,
    { $and: range(1, CONDITIONS).map((i) => ({ n: { $ne: -i } })) },
    ids(() => true),
    { $and: range(1, CONDITIONS + 1).map((i) => ({ n: { $ne: -i } })) }
  ],
  [`$in of ${LIST} values`, { id: { $in: range(3, LIST) } }, ids((r) => r.id >= 3), { id: { $in: range(3, LIST + 1) } }],
  [`$nin of ${LIST} values`, { n: { $nin: range(2, LIST) } }, ids((r) => r.n === null || r.n < 2), { n: { $nin: range(2, LIST + 1) } }],
  [
    `$in of ${LIST} text values`,
    { s: { $in: [...range(0, LIST - 1).map((i) => `w${i}`), "v1"] } },
    ids((r) => r.s === "v1"),
    { s: { $in: [...range(0, LIST).map((i) => `w${i}`), "v1"] } }
  ],
  [
    `$hasAny of ${ELEMENTS} values`,
    { tags: { $hasAny: [...range(0, ELEMENTS - 1).map((i) => `w${i}`), "v1"] } },
    [1, 3, 5],
    { tags: { $hasAny: [...range(0, ELEMENTS).map((i) => `w${i}`), "v1"] } }
  ],
  [
    `$hasAll of ${ELEMENTS} values`,
    { tags: { $hasAll: Array.from({ length: ELEMENTS }, () => "v1") } },
    [3, 5],
    { tags: { $hasAll: Array.from({ length: ELEMENTS + 1 }, () => "v1") } }
  ],
  [`${VALUES} values in one filter`, atValueLimit, atValueLimitIds, pastValueLimit],
  ...(
    [
      ["$like", "[".repeat(PATTERN)],
      ["$like", "中".repeat(PATTERN)],
      ["$like", `%${"中".repeat(PATTERN - 2)}%`],
      ["$ilike", "_".repeat(PATTERN)],
      ["$ilike", `${"[".repeat(PATTERN - 1)}%`]
    ] as const
  ).map(([op, pattern]) => {
    const match = likeMatcher(pattern, op === "$ilike")
    return [
      `${op} pattern of ${PATTERN} characters (${JSON.stringify(pattern.slice(0, 3))}…)`,
      { s: { [op]: pattern } },
      ids((r) => r.s !== null && match(r.s)),
      { s: { [op]: `${pattern}_` } }
    ] as const
  })
]

/** `InvalidFilter`, or a description of what happened instead. */
const rejection = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return `defect: ${Cause.pretty(exit.cause).split("\n")[0]}`
  const { _tag, code } = failure.value as { _tag?: unknown; code?: unknown }
  return [_tag, code].filter((p) => p !== undefined).join(" ")
}

forEachDatabase("filter limits", (it, db) => {
  // the read-only cases share one table, filled by whichever test runs first
  const M = makeModel()
  const filled = Effect.gen(function*() {
    if ((yield* M.count()) === 0) yield* M.bulkCreate(rows)
  })

  it.effect("the rows read back", () =>
    Effect.gen(function*() {
      yield* filled
      expect((yield* M.list({ orderBy: ["id"] })).records).toEqual(rows)
    }))

  for (const [what, at, want, past] of cases) {
    it.effect(`${what}: runs and answers literally; one past the limit is an InvalidFilter`, () =>
      Effect.gen(function*() {
        yield* filled
        expect(yield* M.count(at), `[${db.label}] count, ${what}`).toBe(want.length)
        const page = yield* M.list({ where: at, orderBy: ["id"], select: ["id"] })
        expect(page.records.map((r) => r.id), `[${db.label}] list, ${what}`).toEqual(want)
        expect(rejection(yield* Effect.exit(M.count(past))), `[${db.label}] count, one past: ${what}`).toBe("InvalidFilter")
        expect(rejection(yield* Effect.exit(M.list({ where: past }))), `[${db.label}] list, one past: ${what}`).toBe("InvalidFilter")
      }), { timeout: 60_000 })
  }

  // every node that takes a filter binds the filter's values next to its own (SET values, a
  // soft-delete stamp, a cursor): the limit is on the filter's values; long lists are one
  // parameter each, past every database's limit on parameters
  it.effect(`${LONG * 2} values in list (total, cursor), findFirst, bulkUpdate and bulkDelete; one past the limit in each`, () =>
    Effect.gen(function*() {
      const M = makeModel()
      yield* M.bulkCreate(rows)
      const first = yield* M.list({ where: longLists, orderBy: ["-n"], limit: 4, total: true })
      expect(first.total).toBe(atValueLimitIds.length)
      const rest = yield* M.list({ where: longLists, orderBy: ["-n"], limit: 100, cursor: first.nextCursor! })
      expect([...first.records, ...rest.records].map((r) => r.id).sort((a, b) => a - b)).toEqual(atValueLimitIds)
      expect(Option.map(yield* M.findFirst(longLists, { orderBy: ["id"] }), (r) => r.id)).toEqual(Option.some(1))
      const problems: Array<string> = []
      const updated = yield* Effect.exit(M.bulkUpdate(longLists, { s: "updated" }))
      if (Exit.isFailure(updated) || updated.value.updated !== atValueLimitIds.length) {
        problems.push(`bulkUpdate with a patch: ${Exit.isSuccess(updated) ? JSON.stringify(updated.value) : rejection(updated)}`)
      }
      const deleted = yield* Effect.exit(M.bulkDelete(longLists))
      if (Exit.isFailure(deleted) || deleted.value.deleted !== atValueLimitIds.length) {
        problems.push(`bulkDelete: ${Exit.isSuccess(deleted) ? JSON.stringify(deleted.value) : rejection(deleted)}`)
      }
      const Soft = makeModel(true)
      yield* Soft.bulkCreate(rows)
      const softDeleted = yield* Effect.exit(Soft.bulkDelete(longLists))
      if (Exit.isFailure(softDeleted) || softDeleted.value.deleted !== atValueLimitIds.length) {
        problems.push(`bulkDelete of a soft-delete model: ${Exit.isSuccess(softDeleted) ? JSON.stringify(softDeleted.value) : rejection(softDeleted)}`)
      }
      for (const [node, effect] of [
        ["findFirst", M.findFirst(pastValueLimit)],
        ["bulkUpdate", M.bulkUpdate(pastValueLimit, { s: "x" })],
        ["bulkDelete", M.bulkDelete(pastValueLimit)]
      ] as const) {
        const got = rejection(yield* Effect.exit(effect as Effect.Effect<unknown, unknown, SqlClient.SqlClient>))
        if (got !== "InvalidFilter") problems.push(`${node}, one past the limit: ${got}`)
      }
      expect(problems, `[${db.label}]`).toEqual([])
    }), { timeout: 60_000 })
})
