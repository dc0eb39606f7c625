/**
 * Fuzzing the filter language with hostile input, on every database.
 *
 * Values: SQL injection attempts, quotes, backslashes, LIKE wildcards and escape characters,
 * control characters, emoji, very long text, and seeded random Unicode strings are used as
 * equality, `$in`, range and text-operator operands. Every answer must be the literal one
 * (checked against a small reference evaluator over the rows this test inserted).
 *
 * Keys and operator names: prototype keys, `$where`-style operators, quotes, semicolons,
 * dots, brackets, numeric-looking and random keys, at every depth and in every node that
 * takes a filter. They must fail as `InvalidFilter` naming the offending path; no
 * `DatabaseError`, `SqlError` or defect may reach the caller.
 *
 * After every test the table still exists and holds exactly its rows.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Exit, Option, Schema } from "effect"
import type { Filter } from "../src/Filter.js"
import { Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { rngOf } from "./support/random.js"
import { compareCodePoints, foldAscii, likeMatcher } from "./support/reference.js"
import type { Rng } from "./support/random.js"

const SEED = process.env.DATAFLOW_SEED === undefined ? 0xf022_2024 : Number(process.env.DATAFLOW_SEED)

// ---------------------------------------------------------------------------
// the model and its rows
// ---------------------------------------------------------------------------

const Fields = {
  id: Schema.Int,
  s: Schema.NullOr(Schema.String),
  someText: Schema.String,
  n: Schema.NullOr(Schema.Int),
  kind: Schema.Literal("a", "b"),
  meta: Schema.NullOr(Schema.Struct({ k: Schema.String }))
}
type Rec = Schema.Struct.Type<typeof Fields>
const fieldNames = new Set(Object.keys(Fields))

const makeModel = () => Model.make("Fuzz", Schema.Struct(Fields), { table: uniqueTable("fuzz"), timestamps: false })

/** Non-ASCII characters with case: `$ilike` folds ASCII only, so fuzz data never holds them. */
const casedNonAscii = (c: string) => c.codePointAt(0)! > 0x7f && (c.toLowerCase() !== c || c.toUpperCase() !== c)

const hostileValues: ReadonlyArray<string> = [
  ...new Set([
    `"; DROP TABLE x; --`,
    `'; DROP TABLE fuzz; --`,
    `1'; DELETE FROM fuzz WHERE '1'='1`,
    `' OR '1'='1`,
    `" OR ""="`,
    `') OR ('a'='a`,
    `admin'--`,
    `'/*`,
    `*/`,
    `-- `,
    `#`,
    `;`,
    `'`,
    `''`,
    `"`,
    `""`,
    "`",
    "``",
    "'\"`",
    "\\",
    "\\\\",
    "\\'",
    "\\\"",
    "\\0",
    "\\n",
    "\\x00",
    "\\u0000",
    "%",
    "%%",
    "_",
    "__",
    "!",
    "!!",
    "!%",
    "!_",
    "%!",
    "_!",
    "\\%",
    "\\_",
    "\\!",
    "%_!\\",
    "a%",
    "%a",
    "a_c",
    "a%c",
    "100%",
    "5_5",
    "[a-z]",
    "[!a]",
    "[^a]",
    "*",
    "?",
    "**",
    "a*b",
    "a?b",
    "]",
    "[",
    "$1",
    "$2",
    "??",
    ":name",
    ":1",
    "@p0",
    "${x}",
    "%s",
    "%d",
    "{}",
    "[]",
    `{"$ne":null}`,
    "null",
    "NULL",
    "undefined",
    "NaN",
    "0",
    "-0",
    "1e3",
    "true",
    "",
    " ",
    "  ",
    "a ",
    " a",
    "\t",
    "\n",
    "\r\n",
    "\u000b",
    "\u0001",
    "\u001f",
    "\u007f",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "🏳️‍🌈",
    "中文",
    "€",
    "￥",
    "\u202Eevil",
    "\u200B",
    "e\u0301",
    "\uFEFF",
    "\uFFFD",
    "\uFFFF",
    "\u{10FFFF}",
    "\u{1F600}\u{1F600}",
    "a",
    "A",
    "abc",
    "ABC",
    "aBc"
  ])
]

const codePointRanges: ReadonlyArray<readonly [number, number, number]> = [
  // [from, to, weight]
  [0x20, 0x7e, 12],
  [0x01, 0x1f, 1],
  [0x7f, 0x7f, 1],
  [0xa1, 0xbf, 1],
  [0x300, 0x36f, 1],
  [0x4e00, 0x9fff, 2],
  [0xe000, 0xf8ff, 1],
  [0xfff0, 0xffff, 1],
  [0x1f300, 0x1faff, 2],
  [0x10fff0, 0x10ffff, 1]
]
const totalWeight = codePointRanges.reduce((sum, [, , w]) => sum + w, 0)

const randomChar = (rng: Rng): string => {
  for (;;) {
    let r = rng.next() * totalWeight
    const range = codePointRanges.find(([, , w]) => (r -= w) < 0) ?? codePointRanges[0]!
    const c = String.fromCodePoint(rng.int(range[0], range[1]))
    if (!casedNonAscii(c)) return c
  }
}
const specialsForText = ["%", "_", "\\", "!", "'", "\"", "`", ";", "[", "*", "?", "a", "A"]
const randomString = (rng: Rng, max: number) =>
  Array.from({ length: rng.int(0, max) }, () => (rng.next() < 0.3 ? rng.pick(specialsForText) : randomChar(rng))).join("")

const rng0 = rngOf(SEED)
const longValues: ReadonlyArray<string> = [
  "'".repeat(5000),
  "%".repeat(2000) + "x",
  "\\".repeat(3001),
  "😀".repeat(2000),
  "_".repeat(4096),
  // longer than SQLite's default LIKE pattern limit (50,000 bytes)
  Array.from({ length: 70_000 }, () => rng0.pick([...specialsForText, "x", "y", " "])).join("")
]
const randomValues: ReadonlyArray<string> = Array.from({ length: 120 }, () => randomString(rng0, 12))

const swapAsciiCase = (s: string) => s.replace(/[a-zA-Z]/g, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()))

/** Each hostile value, near misses around it, random strings, NULLs. */
const rowValues: ReadonlyArray<string | null> = [
  ...new Set([
    ...hostileValues.flatMap((h) => [h, `x${h}`, `${h}x`, swapAsciiCase(h)]),
    ...longValues,
    ...randomValues
  ])
].flatMap((v, i) => (i % 50 === 0 ? [v, null] : [v]))

const rows: ReadonlyArray<Rec> = rowValues.map((s, i) => ({
  id: i + 1,
  s,
  someText: `row ${i + 1}`,
  n: i % 3 === 0 ? null : i,
  kind: i % 2 === 0 ? "a" : "b",
  meta: i % 4 === 0 ? null : { k: `m${i}` }
}))

// ---------------------------------------------------------------------------
// reference semantics for text
// ---------------------------------------------------------------------------

const escapeLike = (s: string) => Array.from(s, (c) => (c === "%" || c === "_" || c === "\\" ? `\\${c}` : c)).join("")

/**
 * The operations a probe string is tried in, with the literal answer for one stored value.
 * Operations that match most rows are checked by count (their complements are checked by id).
 */
const probes = (
  p: string
): ReadonlyArray<readonly [string, Filter<Rec>, (v: string | null) => boolean, "ids" | "count"]> => {
  const like = likeMatcher(p, false)
  const ilike = likeMatcher(p, true)
  const folded = foldAscii(p)
  return [
    ["equality", { s: p }, (v) => v === p, "ids"],
    ["$eq", { s: { $eq: p } }, (v) => v === p, "count"],
    ["$in", { s: { $in: [p, "\u0001none"] } }, (v) => v === p || v === "\u0001none", "ids"],
    ["$nin", { s: { $nin: [p] } }, (v) => v !== p, "count"],
    ["$ne", { s: { $ne: p } }, (v) => v !== p, "count"],
    ["$gt", { s: { $gt: p } }, (v) => v !== null && compareCodePoints(v, p) > 0, "count"],
    ["$lte", { s: { $lte: p } }, (v) => v !== null && compareCodePoints(v, p) <= 0, "count"],
    ["$like (escaped)", { s: { $like: escapeLike(p) } }, (v) => v === p, "ids"],
    ["$like", { s: { $like: p } }, (v) => v !== null && like(v), "ids"],
    ["$ilike", { s: { $ilike: p } }, (v) => v !== null && ilike(v), "ids"],
    ["$ilike (escaped)", { s: { $ilike: escapeLike(p) } }, (v) => v !== null && foldAscii(v) === folded, "ids"],
    ["$startsWith", { s: { $startsWith: p } }, (v) => v !== null && v.startsWith(p), "ids"],
    ["$endsWith", { s: { $endsWith: p } }, (v) => v !== null && v.endsWith(p), "ids"],
    ["$contains", { s: { $contains: p } }, (v) => v !== null && v.includes(p), "ids"]
  ]
}

/** docs/queries.md: a `$like` / `$ilike` pattern is at most 10,000 characters. */
const PATTERN_LIMIT = 10_000

/** SQLite's LIKE and GLOB read the noncharacters U+FFFE and U+FFFF as U+FFFD. */
const asSqlitePatternText = (s: string) => s.replace(/[\uFFFE\uFFFF]/g, "\uFFFD")
const sqliteProbeCache = new Map<string, ReturnType<typeof probes>>()
/** The probes of `p` as SQLite's pattern matcher reads it. */
const sqliteProbes = (p: string) => {
  let cached = sqliteProbeCache.get(p)
  if (cached === undefined) sqliteProbeCache.set(p, cached = probes(asSqlitePatternText(p)))
  return cached
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/** A short, unambiguous rendering: every character outside printable ASCII as its code point. */
const preview = (s: string) => {
  const cps = Array.from(s)
  const shown = cps.slice(0, 40).map((c) => {
    const cp = c.codePointAt(0)!
    return c === "\\" || c === "\"" ? `\\${c}` : cp >= 0x20 && cp <= 0x7e ? c : `\\u{${cp.toString(16)}}`
  }).join("")
  return cps.length > 40 ? `"${shown}…" (${cps.length} code points)` : `"${shown}"`
}

type Outcome =
  | { readonly _tag: "ok"; readonly value: unknown }
  | { readonly _tag: "invalid"; readonly path: string }
  | { readonly _tag: "other"; readonly detail: string }

const outcome = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { _tag: "ok", value: exit.value }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure) && !Cause.isDie(exit.cause)) {
    const e = failure.value as { _tag?: unknown; path?: unknown; code?: unknown; cause?: { message?: unknown } }
    if (e._tag === "InvalidFilter" && typeof e.path === "string") return { _tag: "invalid", path: e.path }
    return { _tag: "other", detail: [e._tag, e.code, e.cause?.message].filter((x) => x !== undefined).map(String).join(" | ") }
  }
  return { _tag: "other", detail: `defect: ${String(Cause.squash(exit.cause)).slice(0, 200)}` }
}

const showOutcome = (o: Outcome) =>
  o._tag === "ok" ? `success ${JSON.stringify(o.value)?.slice(0, 120)}` : o._tag === "invalid" ? `InvalidFilter at ${JSON.stringify(o.path)}` : o.detail

const report = (problems: ReadonlyArray<string>) => `${problems.length} problem(s), seed ${SEED}:\n${problems.slice(0, 12).join("\n")}`

forEachDatabase("fuzz", (it, db) => {
  const setup = Effect.gen(function*() {
    const M = makeModel()
    expect((yield* M.bulkCreate(rows)).inserted).toBe(rows.length)
    return M
  })

  /** The table is still there, through the model and through raw SQL, with exactly its rows. */
  const assertIntact = (M: ReturnType<typeof makeModel>) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const quoted = db.name === "mysql" ? `\`${M.table}\`` : `"${M.table}"`
      const raw = yield* sql.unsafe<{ n: number | bigint | string }>(`SELECT COUNT(*) AS n FROM ${quoted}`).withoutTransform
      expect(Number(raw[0]?.n)).toBe(rows.length)
      const stored = (yield* M.list({ orderBy: ["id"], select: ["id", "s"] })).records
      expect(stored.length).toBe(rows.length)
      const changed = stored.filter((r, i) => r.id !== rows[i]!.id || r.s !== rows[i]!.s)
      expect(changed.map((r) => `${r.id}: ${preview(r.s ?? "null")}`)).toEqual([])
      expect(Object.prototype).not.toHaveProperty("polluted")
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

  /** Runs every probe of every string and compares the ids with the literal answer. */
  const probeAll = (M: ReturnType<typeof makeModel>, strings: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const problems: Array<string> = []
      for (const p of strings) {
        for (const [index, [op, where, accepts, mode]] of probes(p).entries()) {
          const pattern = (where.s as { readonly $like?: string; readonly $ilike?: string } | null)
          const patternText = typeof pattern === "object" && pattern !== null ? pattern.$like ?? pattern.$ilike : undefined
          if (patternText !== undefined && patternText.length > PATTERN_LIMIT) {
            // documented limit: longer patterns are an InvalidFilter on every database
            const got = outcome(yield* Effect.exit(M.count(where)))
            if (got._tag !== "invalid") problems.push(`[${db.name}] ${op} ${preview(p)}: ${showOutcome(got)}, want InvalidFilter`)
            continue
          }
          // SQLite's pattern matcher reads U+FFFE and U+FFFF as U+FFFD (see the test below):
          // there the patterns answer as if pattern and text had U+FFFD in their place
          const want = patternText !== undefined && db.name === "sqlite"
            ? rows.filter((r) => sqliteProbes(p)[index]![2](r.s === null ? null : asSqlitePatternText(r.s))).map((r) => r.id)
            : rows.filter((r) => accepts(r.s)).map((r) => r.id)
          const run: Effect.Effect<unknown, unknown, SqlClient.SqlClient> = mode === "count"
            ? M.count(where)
            : M.list({ where, orderBy: ["id"], select: ["id"] })
          const got = outcome(yield* Effect.exit(run))
          if (got._tag !== "ok") {
            problems.push(`[${db.name}] ${op} ${preview(p)}: ${showOutcome(got)}`)
            continue
          }
          if (mode === "count") {
            if (got.value !== want.length) problems.push(`[${db.name}] ${op} ${preview(p)}: count ${got.value}, want ${want.length}`)
            continue
          }
          const ids = (got.value as { readonly records: ReadonlyArray<{ readonly id: number }> }).records.map((r) => r.id)
          if (JSON.stringify(ids) !== JSON.stringify(want)) {
            const extra = ids.filter((i) => !want.includes(i)).map((i) => preview(rows[i - 1]!.s ?? "null"))
            const missing = want.filter((i) => !ids.includes(i)).map((i) => preview(rows[i - 1]!.s ?? "null"))
            problems.push(`[${db.name}] ${op} ${preview(p)}: extra ${extra.join(", ")}; missing ${missing.join(", ")}`)
          }
        }
      }
      return problems
    })

  it.effect("hostile strings as values match literally (equality, $in, $nin, $ne, ranges, text operators)", () =>
    Effect.gen(function*() {
      const M = yield* setup
      const problems = yield* probeAll(M, hostileValues)
      // many hostile values in one list
      const inAll = yield* M.count({ s: { $in: hostileValues } })
      if (inAll !== rows.filter((r) => r.s !== null && hostileValues.includes(r.s)).length) problems.push(`$in of all hostile values: ${inAll}`)
      const ninAll = yield* M.count({ s: { $nin: hostileValues } })
      if (ninAll !== rows.filter((r) => r.s === null || !hostileValues.includes(r.s)).length) problems.push(`$nin of all hostile values: ${ninAll}`)
      // writes filtered by hostile values touch exactly the literal matches
      for (const h of hostileValues.slice(0, 40)) {
        const want = rows.filter((r) => r.s === h).length
        const updated = yield* M.bulkUpdate({ s: h }, { someText: `row ${rows.find((r) => r.s === h)?.id}` })
        if (updated.updated !== want) problems.push(`[${db.name}] bulkUpdate where s = ${preview(h)}: ${updated.updated} rows, want ${want}`)
      }
      expect(problems, report(problems)).toEqual([])
      yield* assertIntact(M)
    }))

  it.effect("very long strings as values and patterns match literally", () =>
    Effect.gen(function*() {
      const M = yield* setup
      const problems = yield* probeAll(M, longValues)
      expect(problems, report(problems)).toEqual([])
      yield* assertIntact(M)
    }))

  it.effect(`seeded random Unicode strings as values and patterns (seed ${SEED})`, () =>
    Effect.gen(function*() {
      const M = yield* setup
      const rng = rngOf(SEED ^ 0x5a5a)
      const fresh = Array.from({ length: 40 }, () => randomString(rng, 10))
      // random slices of stored values: many partial matches for the text operators
      const slices = Array.from({ length: 40 }, () => {
        const cps = Array.from(rng.pick(randomValues))
        const start = rng.int(0, cps.length)
        return cps.slice(start, rng.int(start, cps.length)).join("")
      })
      const problems = yield* probeAll(M, [...randomValues.slice(0, 40), ...fresh, ...slices])
      expect(problems, report(problems)).toEqual([])
      yield* assertIntact(M)
    }))

  // -------------------------------------------------------------------------
  // keys and operator names
  // -------------------------------------------------------------------------

  const hostileKeys: ReadonlyArray<string> = [
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "__defineGetter__",
    "$where",
    "$expr",
    "$regex",
    "$text",
    "$function",
    "$",
    "$$",
    "$ne",
    "$in",
    "$like",
    "$null",
    "$eq",
    "$AND",
    "$Or",
    "$not ",
    " $not",
    "$and\u0000",
    "id; DROP TABLE fuzz; --",
    "id--",
    "id/*",
    "\"id\"",
    "'id'",
    "`id`",
    "[id]",
    "id.",
    ".id",
    "s.length",
    "meta.k",
    "s[0]",
    "s]",
    "a\"b",
    "a'b",
    "a`b",
    "a;b",
    "1",
    "0",
    "-1",
    "1.5",
    "1e3",
    "NaN",
    "Infinity",
    "",
    " ",
    "id ",
    " id",
    "ID",
    "Id",
    "S",
    "some_text",
    "sometext",
    "SOMETEXT",
    "created_at",
    "ｓ",
    "s\u200B",
    "😀",
    "中"
  ]
  const validTop = new Set(["$and", "$or", "$not"])
  const validOps = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null", "$like", "$ilike", "$startsWith", "$endsWith", "$contains"])

  const keyRng = rngOf(SEED ^ 0x1234)
  const randomKeys = Array.from({ length: 150 }, () => {
    const k = randomString(keyRng, 8)
    return keyRng.next() < 0.3 ? `$${k}` : k
  }).filter((k) => !fieldNames.has(k) && !validTop.has(k) && !validOps.has(k))

  /** A filter with the key in one position, and the path the rejection must name. */
  const positions: ReadonlyArray<(k: string, v: unknown) => readonly [unknown, string]> = [
    (k, v) => [{ [k]: v }, k],
    (k, v) => [{ s: "a", [k]: v }, k],
    (k, v) => [{ $and: [{ s: "a" }, { [k]: v }] }, `$and[1].${k}`],
    (k, v) => [{ $or: [{ s: "a" }, { [k]: v }] }, `$or[1].${k}`],
    (k, v) => [{ $not: { [k]: v } }, `$not.${k}`],
    (k, v) => [{ $and: [{ $or: [{ n: 1 }, { $not: { n: 2, [k]: v } }] }] }, `$and[0].$or[1].$not.${k}`]
  ]
  const keyValues: ReadonlyArray<unknown> = [1, "x", null, true, { $eq: "x" }, [], {}, "'; DROP TABLE fuzz; --"]

  /** Every node that takes a filter: each must reject it the same way, before any SQL runs. */
  const everyNode = (M: ReturnType<typeof makeModel>, filter: unknown) => {
    const where = filter as Filter<Rec>
    return [
      ["count", M.count(where)],
      ["list", M.list({ where, orderBy: ["id"], limit: 5 })],
      ["findFirst", M.findFirst(where)],
      // an array is bulkUpdate's other form (a list of { id | key, patch } items)
      ...(Array.isArray(filter) ? [] : [["bulkUpdate", M.bulkUpdate(where, { n: 0 })] as const]),
      ["bulkDelete", M.bulkDelete(where)]
    ] as const
  }

  const expectRejected = (
    M: ReturnType<typeof makeModel>,
    cases: ReadonlyArray<readonly [unknown, string]>,
    problems: Array<string>
  ) =>
    Effect.gen(function*() {
      for (const [filter, path] of cases) {
        for (const [node, effect] of everyNode(M, filter)) {
          const o = outcome(yield* Effect.exit(effect as Effect.Effect<unknown, unknown, SqlClient.SqlClient>))
          if (o._tag !== "invalid" || o.path !== path) {
            problems.push(`[${db.name}] ${node}(${describeFilter(filter)}): ${showOutcome(o)}, want InvalidFilter at ${JSON.stringify(path)}`)
          }
        }
      }
    })

  it.effect("hostile and random keys are InvalidFilter naming their path, at any depth, in every node", () =>
    Effect.gen(function*() {
      const M = yield* setup
      const problems: Array<string> = []
      const cases = [...hostileKeys, ...randomKeys].flatMap((k, i) =>
        positions.map((at, j) => at(k, keyValues[(i + j) % keyValues.length]))
      )
      yield* expectRejected(M, cases, problems)
      expect(problems, report(problems)).toEqual([])
      expect(cases.length).toBeGreaterThan(1000)
      yield* assertIntact(M)
    }))

  it.effect("hostile operator names and malformed operands are InvalidFilter naming their path", () =>
    Effect.gen(function*() {
      const M = yield* setup
      const problems: Array<string> = []
      const ops = [...hostileKeys, ...randomKeys].filter((k) => !validOps.has(k))
      const opCases = ops.flatMap((op, i): ReadonlyArray<readonly [unknown, string]> => {
        const v = keyValues[i % keyValues.length]
        const isOp = op.startsWith("$")
        return [
          // an object with a key that is not an operator is a value, and no value of a text field
          [{ s: { [op]: v } }, isOp ? `s.${op}` : "s"],
          [{ s: { $eq: "a", [op]: v } }, isOp ? `s.${op}` : "s"],
          [{ $or: [{ n: { $gt: 1 } }, { n: { [op]: v } }] }, isOp ? `$or[1].n.${op}` : "$or[1].n"],
          [{ meta: { [op]: v } }, isOp ? `meta.${op}` : "meta"]
        ]
      })
      class NotPlain {
        readonly s = "a"
      }
      const malformed: ReadonlyArray<readonly [unknown, string]> = [
        [{ s: { $in: "abc" } }, "s.$in"],
        [{ s: { $in: { 0: "a", length: 1 } } }, "s.$in"],
        [{ s: { $in: [1] } }, "s.$in[0]"],
        [{ s: { $in: ["ok", null] } }, "s.$in[1]"],
        [{ s: { $nin: ["ok", "\u0000"] } }, "s.$nin[1]"],
        [{ s: { $like: 1 } }, "s.$like"],
        [{ s: { $contains: null } }, "s.$contains"],
        [{ s: { $startsWith: ["a"] } }, "s.$startsWith"],
        [{ s: { $null: "true" } }, "s.$null"],
        [{ s: { $null: 1 } }, "s.$null"],
        [{ s: { $gt: null } }, "s.$gt"],
        [{ s: { $ne: [] } }, "s.$ne"],
        [{ s: ["a"] }, "s"],
        [{ s: new Date(0) }, "s"],
        [{ s: 1 }, "s"],
        [{ s: {} }, "s"],
        [{ s: "a\u0000b" }, "s"],
        [{ s: { $eq: "\u0000" } }, "s.$eq"],
        [{ n: Number.NaN }, "n"],
        [{ n: 1.5 }, "n"],
        [{ n: Number.POSITIVE_INFINITY }, "n"],
        [{ n: "1" }, "n"],
        [{ n: 1n }, "n"],
        [{ n: { $like: "1%" } }, "n.$like"],
        [{ id: { $in: [1, "2"] } }, "id.$in[1]"],
        [{ kind: "c" }, "kind"],
        [{ kind: "'; DROP TABLE fuzz; --" }, "kind"],
        [{ kind: { $in: ["a", "zz"] } }, "kind.$in[1]"],
        [{ meta: { k: "x" } }, "meta"],
        [{ meta: { $eq: null } }, "meta.$eq"],
        [{ meta: "x" }, "meta"],
        [{ $and: {} }, "$and"],
        [{ $and: [1] }, "$and[0]"],
        [{ $or: "x" }, "$or"],
        [{ $or: [null] }, "$or[0]"],
        [{ $or: [{ s: "a" }, []] }, "$or[1]"],
        [{ $not: [] }, "$not"],
        [{ $not: "s" }, "$not"],
        [{ $not: { $not: { $not: { s: { $where: "1" } } } } }, "$not.$not.$not.s.$where"],
        [Object.create(null), ""],
        [new NotPlain(), ""],
        [[], ""],
        [[{ s: "a" }], ""],
        ["s", ""],
        [42, ""],
        [null, ""]
      ]
      yield* expectRejected(M, [...opCases, ...malformed], problems)
      expect(problems, report(problems)).toEqual([])
      yield* assertIntact(M)
    }))

  it.effect("an empty alternative in $or does not hide an invalid one", () =>
    Effect.gen(function*() {
      const M = yield* setup
      const problems: Array<string> = []
      yield* expectRejected(M, [
        [{ $or: [{}, { "'; DROP TABLE fuzz; --": 1 }] }, "$or[1].'; DROP TABLE fuzz; --"],
        [{ $or: [{}, { s: { $where: "1" } }] }, "$or[1].s.$where"],
        [{ $or: [{ s: "a" }, {}, { nope: 1 }] }, "$or[2].nope"]
      ], problems)
      expect(problems, report(problems)).toEqual([])
      yield* assertIntact(M)
    }))

  it.effect("U+FFFD, U+FFFE, U+FFFF: one character to SQLite's $like / $ilike, three everywhere else", () =>
    Effect.gen(function*() {
      const M = makeModel()
      const chars = ["\uFFFD", "\uFFFE", "\uFFFF"] as const
      yield* M.bulkCreate([...chars, "x"].map((c, i) => ({ id: i + 1, s: c, someText: "", n: null, kind: "a", meta: null })))
      const ids = (where: Filter<Rec>) => Effect.map(M.list({ where, orderBy: ["id"], select: ["id"] }), (p) => p.records.map((r) => r.id))
      for (const [i, c] of chars.entries()) {
        const exact = [i + 1]
        // SQLite's LIKE and GLOB read U+FFFE and U+FFFF as U+FFFD, in the pattern and in the text
        const pattern = db.name === "sqlite" ? [1, 2, 3] : exact
        const at = `[${db.label}] U+${c.codePointAt(0)!.toString(16).toUpperCase()}`
        expect(yield* ids({ s: { $like: c } }), `${at} $like`).toEqual(pattern)
        expect(yield* ids({ s: { $ilike: `%${c}` } }), `${at} $ilike`).toEqual(pattern)
        // the literal operators and comparisons are exact on every database
        expect(yield* ids({ s: { $contains: c } }), `${at} $contains`).toEqual(exact)
        expect(yield* ids({ s: { $startsWith: c } }), `${at} $startsWith`).toEqual(exact)
        expect(yield* ids({ s: c }), `${at} equality`).toEqual(exact)
      }
      expect(yield* ids({ s: { $like: "_" } })).toEqual([1, 2, 3, 4])
    }))

  it.effect("NUL in a text operand is rejected or matches literally, never a database error", () =>
    Effect.gen(function*() {
      const M = yield* setup
      const problems: Array<string> = []
      for (const [op, where] of [
        ["$contains", { s: { $contains: "a\u0000" } }],
        ["$startsWith", { s: { $startsWith: "\u0000" } }],
        ["$endsWith", { s: { $endsWith: "\u0000x" } }],
        ["$like", { s: { $like: "%\u0000%" } }],
        ["$ilike", { s: { $ilike: "\u0000" } }]
      ] as const) {
        const o = outcome(yield* Effect.exit(M.list({ where, select: ["id"] })))
        // no stored value holds NUL: the literal answer is no row
        const fine = o._tag === "invalid" ? o.path === `s.${op}` : o._tag === "ok" && JSON.stringify(o.value) === JSON.stringify({ records: [] })
        if (!fine) problems.push(`[${db.name}] ${describeFilter(where)}: ${showOutcome(o)}`)
      }
      expect(problems, report(problems)).toEqual([])
      yield* assertIntact(M)
    }))

  it.effect("oversized filters (deep nesting, huge $in and $or) are answered or rejected, never a database error or defect", () =>
    Effect.gen(function*() {
      const M = yield* setup
      const problems: Array<string> = []
      const nest = (depth: number, wrap: (f: Record<string, unknown>) => Record<string, unknown>) => {
        let f: Record<string, unknown> = { s: "a" }
        for (let i = 0; i < depth; i++) f = wrap(f)
        return f
      }
      const matches = rows.filter((r) => r.s === "a").length
      const shapes: ReadonlyArray<readonly [string, unknown, number]> = [
        ["$not nested 2,000 deep", nest(1000, (f) => ({ $not: { $not: f } })), matches],
        ["$and nested 1,000 deep", nest(1000, (f) => ({ $and: [f, { s: { $ne: "b" } }] })), matches],
        ["$not nested 40,000 deep", nest(20_000, (f) => ({ $not: { $not: f } })), matches],
        ["$or of 1,000 alternatives", { $or: [{ s: "a" }, ...Array.from({ length: 999 }, (_, i) => ({ s: `none ${i}` }))] }, matches],
        ["$in of 40,000 values", { s: { $in: ["a", ...Array.from({ length: 39_999 }, (_, i) => `none ${i}`)] } }, matches],
        ["$in of 70,000 values", { s: { $in: ["a", ...Array.from({ length: 69_999 }, (_, i) => `none ${i}`)] } }, matches]
      ]
      for (const [what, filter, want] of shapes) {
        const o = outcome(yield* Effect.exit(M.count(filter as Filter<Rec>)))
        if (!(o._tag === "invalid" || (o._tag === "ok" && o.value === want))) problems.push(`[${db.name}] ${what}: ${showOutcome(o)}`)
      }
      expect(problems, report(problems)).toEqual([])
      yield* assertIntact(M)
    }), { timeout: 120_000 })
})

function describeFilter(filter: unknown): string {
  try {
    const text = JSON.stringify(filter, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))
    return text === undefined ? String(filter) : text.length > 160 ? `${text.slice(0, 160)}…` : text
  } catch {
    return String(filter)
  }
}
