/**
 * Seeded differential property test of the filter language, ordering and paging.
 *
 * Every case draws a data set, a filter (depth ≤ 3, every operator, empty groups), an
 * ordering, a page (limit / offset / total / select) and a keyset walk, runs them on the
 * database, and compares the answer with a plain TypeScript evaluator of the documented
 * semantics (two-valued logic, NULLs first ascending / last descending, primary key as the
 * final tie-break, LIKE over code points, `$ilike` folding ASCII letters only). The same
 * seeds run on SQLite, PostgreSQL and MariaDB/MySQL, so every database answers the same
 * questions about the same rows. The first data sets run a second time with a recording tracer
 * installed, which sends every statement through `@effect/sql`'s statement pipeline instead of
 * straight to the connection: both paths are held to the same reference.
 *
 * Reproduce a failure with `DATAFLOW_SEED=<base seed> npx vitest run test/differential.test.ts`;
 * every failure message names the base seed, the data set and the case.
 */
import type { Vitest } from "@effect/vitest"
import { expect } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { BigDecimal, Cause, Effect, Exit, Schema } from "effect"
import type { Filter } from "../src/Filter.js"
import { Model } from "../src/index.js"
import type { TestDb } from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { onPipeline, pipelineProblems } from "./support/pipeline.js"
import { mix, rngOf } from "./support/random.js"
import type { Rng } from "./support/random.js"
import { compareCodePoints, likeMatcher } from "./support/reference.js"
import { definitionOf } from "../src/internal/model/definition.js"
import * as Reference from "../src/internal/testing/reference.js"

// ---------------------------------------------------------------------------
// seeds and random numbers
// ---------------------------------------------------------------------------

const BASE_SEED = process.env.DATAFLOW_SEED === undefined ? 0x5eed_2024 : Number(process.env.DATAFLOW_SEED)
const DATA_SETS = 30
/** Data sets run a second time on the statement pipeline (a recording tracer installed). */
const PIPELINE_DATA_SETS = process.env.DATAFLOW_PIPELINE_DATA_SETS === undefined ? 8 : Number(process.env.DATAFLOW_PIPELINE_DATA_SETS)
const CASES_PER_DATA_SET = 10

// ---------------------------------------------------------------------------
// the model
// ---------------------------------------------------------------------------

const kinds = ["alpha", "Beta", "gamma_1", "50%", "中"] as const

const Fields = {
  id: Schema.Int,
  n: Schema.NullOr(Schema.Int),
  x: Schema.Finite,
  s: Schema.NullOr(Schema.String),
  b: Schema.Boolean,
  d: Schema.NullOr(Schema.DateFromSelf),
  dec: Schema.BigDecimalFromSelf,
  big: Schema.BigIntFromSelf,
  kind: Schema.Literal(...kinds),
  tags: Schema.NullOr(Schema.Array(Schema.String)),
  nums: Schema.Array(Schema.Number),
  flags: Schema.Array(Schema.Boolean)
}

type Rec = Schema.Struct.Type<typeof Fields>
type ArrayField = "tags" | "nums" | "flags"
type FieldName = Exclude<keyof Rec & string, ArrayField>
type Element = string | number | boolean
type Kind = "int" | "float" | "string" | "bool" | "date" | "decimal" | "bigint" | "enum"
type Value = number | string | boolean | Date | BigDecimal.BigDecimal | bigint

const fieldKinds: ReadonlyArray<{ readonly name: FieldName; readonly kind: Kind; readonly nullable: boolean }> = [
  { name: "id", kind: "int", nullable: false },
  { name: "n", kind: "int", nullable: true },
  { name: "x", kind: "float", nullable: false },
  { name: "s", kind: "string", nullable: true },
  { name: "b", kind: "bool", nullable: false },
  { name: "d", kind: "date", nullable: true },
  { name: "dec", kind: "decimal", nullable: false },
  { name: "big", kind: "bigint", nullable: false },
  { name: "kind", kind: "enum", nullable: false }
]
const kindOf = (field: FieldName): Kind => fieldKinds.find((f) => f.name === field)!.kind

/** The JSON-array fields: arrays of one scalar type (`tags` may be NULL). */
const arrayFields: ReadonlyArray<{ readonly name: ArrayField; readonly nullable: boolean }> = [
  { name: "tags", nullable: true },
  { name: "nums", nullable: false },
  { name: "flags", nullable: false }
]
const isArrayField = (f: string): f is ArrayField => f === "tags" || f === "nums" || f === "flags"

const makeModel = () => Model.make("Diff", Schema.Struct(Fields), { table: uniqueTable("diff"), timestamps: false })

// ---------------------------------------------------------------------------
// the reference semantics
// ---------------------------------------------------------------------------

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0)

/** Total order of two non-NULL values of one kind. */
const compareValues = (kind: Kind, a: Value, b: Value): number => {
  switch (kind) {
    case "int":
    case "float":
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
    case "bigint":
      return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0
    case "bool":
      return Number(a as boolean) - Number(b as boolean)
    case "date":
      return sign((a as Date).getTime() - (b as Date).getTime())
    case "decimal":
      return BigDecimal.Order(a as BigDecimal.BigDecimal, b as BigDecimal.BigDecimal)
    case "string":
    case "enum":
      return compareCodePoints(a as string, b as string)
  }
}

type Operand = Value | null | boolean | ReadonlyArray<Value>
type SizeOperand = number | Readonly<Record<string, number>>
type FieldCond =
  | { readonly _tag: "value"; readonly value: Value }
  | { readonly _tag: "null" }
  | { readonly _tag: "ops"; readonly ops: ReadonlyArray<readonly [string, Operand]> }
  | { readonly _tag: "array"; readonly ops: ReadonlyArray<readonly [string, Element | ReadonlyArray<Element> | SizeOperand | boolean]> }

interface Node {
  readonly fields: ReadonlyArray<readonly [FieldName | ArrayField, FieldCond]>
  readonly and?: ReadonlyArray<Node>
  readonly or?: ReadonlyArray<Node>
  readonly not?: Node
}

const evalOp = (kind: Kind, v: Value | null, op: string, operand: Operand): boolean => {
  const eq = (w: Value) => v !== null && compareValues(kind, v, w) === 0
  switch (op) {
    case "$eq":
      return operand === null ? v === null : eq(operand as Value)
    case "$ne":
      return operand === null ? v !== null : v === null || !eq(operand as Value)
    case "$gt":
      return v !== null && compareValues(kind, v, operand as Value) > 0
    case "$gte":
      return v !== null && compareValues(kind, v, operand as Value) >= 0
    case "$lt":
      return v !== null && compareValues(kind, v, operand as Value) < 0
    case "$lte":
      return v !== null && compareValues(kind, v, operand as Value) <= 0
    case "$in":
      return (operand as ReadonlyArray<Value>).some(eq)
    case "$nin": {
      const list = operand as ReadonlyArray<Value>
      return list.length === 0 || v === null || !list.some(eq)
    }
    case "$null":
      return operand === true ? v === null : v !== null
    case "$like":
      return v !== null && likeMatcher(operand as string, false)(v as string)
    case "$ilike":
      return v !== null && likeMatcher(operand as string, true)(v as string)
    case "$startsWith":
      return v !== null && (v as string).startsWith(operand as string)
    case "$endsWith":
      return v !== null && (v as string).endsWith(operand as string)
    case "$contains":
      return v !== null && (v as string).includes(operand as string)
    default:
      throw new Error(`reference: unknown operator ${op}`)
  }
}

/** JSON-array operators: elements equal as JSON values; a NULL array matches none. */
const evalArrayOp = (arr: ReadonlyArray<Element> | null, op: string, operand: unknown): boolean => {
  if (op === "$null") return operand === true ? arr === null : arr !== null
  if (arr === null) return false
  const has = (e: unknown) => arr.some((x) => x === e)
  switch (op) {
    case "$has":
      return has(operand)
    case "$hasAny":
      return (operand as ReadonlyArray<Element>).some(has)
    case "$hasAll":
      return (operand as ReadonlyArray<Element>).every(has)
    case "$size": {
      if (typeof operand === "number") return arr.length === operand
      const n = arr.length
      return Object.entries(operand as Record<string, number>).every(([o, m]) =>
        o === "$eq" ? n === m : o === "$gt" ? n > m : o === "$gte" ? n >= m : o === "$lt" ? n < m : n <= m
      )
    }
    default:
      throw new Error(`reference: unknown operator ${op}`)
  }
}

const evalField = (kind: Kind, v: Value | null, cond: FieldCond): boolean => {
  switch (cond._tag) {
    case "array":
      throw new Error("reference: array operators on a scalar field")
    case "null":
      return v === null
    case "value":
      return v !== null && compareValues(kind, v, cond.value) === 0
    case "ops":
      return cond.ops.every(([op, operand]) => evalOp(kind, v, op, operand))
  }
}

const evalCond = (f: FieldName | ArrayField, cond: FieldCond, row: Rec): boolean => {
  if (!isArrayField(f)) return evalField(kindOf(f), row[f] as Value | null, cond)
  const arr = row[f] as ReadonlyArray<Element> | null
  return cond._tag === "null" ? arr === null : cond._tag === "array" && cond.ops.every(([op, operand]) => evalArrayOp(arr, op, operand))
}

const evalNode = (node: Node, row: Rec): boolean =>
  node.fields.every(([f, cond]) => evalCond(f, cond, row)) &&
  (node.and === undefined || node.and.every((n) => evalNode(n, row))) &&
  (node.or === undefined || node.or.some((n) => evalNode(n, row))) &&
  (node.not === undefined || !evalNode(node.not, row))

type OrderEntry = FieldName | `-${FieldName}`

/** ORDER BY the entries, NULL first ascending and last descending, then the primary key. */
const sortRows = (rows: ReadonlyArray<Rec>, orderBy: ReadonlyArray<OrderEntry>): Array<Rec> => {
  const terms = orderBy.map((e) => (e.startsWith("-") ? { f: e.slice(1) as FieldName, dir: -1 } : { f: e as FieldName, dir: 1 }))
  if (!terms.some((t) => t.f === "id")) terms.push({ f: "id", dir: 1 })
  return [...rows].sort((ra, rb) => {
    for (const { f, dir } of terms) {
      const a = ra[f] as Value | null
      const b = rb[f] as Value | null
      const c = a === null && b === null ? 0 : a === null ? -1 : b === null ? 1 : compareValues(kindOf(f), a, b)
      if (c !== 0) return c * dir
    }
    return 0
  })
}

// ---------------------------------------------------------------------------
// the filter object the library takes, and a readable rendering
// ---------------------------------------------------------------------------

const condObject = (cond: FieldCond): unknown =>
  cond._tag === "null" ? null : cond._tag === "value" ? cond.value : Object.fromEntries<unknown>(cond.ops)

const toFilter = (node: Node): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [f, cond] of node.fields) out[f] = condObject(cond)
  if (node.and !== undefined) out.$and = node.and.map(toFilter)
  if (node.or !== undefined) out.$or = node.or.map(toFilter)
  if (node.not !== undefined) out.$not = toFilter(node.not)
  return out
}

const show = (u: unknown): string => {
  if (u === null) return "null"
  if (typeof u === "bigint") return `${u}n`
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "number") return Object.is(u, -0) ? "-0" : String(u)
  if (typeof u === "boolean" || u === undefined) return String(u)
  if (u instanceof Date) return `Date(${u.toISOString()})`
  if (BigDecimal.isBigDecimal(u)) return `BigDecimal(${BigDecimal.format(u)})`
  if (Array.isArray(u)) return `[${u.map(show).join(", ")}]`
  return `{ ${Object.entries(u as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${show(v)}`).join(", ")} }`
}

// ---------------------------------------------------------------------------
// generators
// ---------------------------------------------------------------------------

const common = ["a", "A", "b", "B", "c", "C", " ", "%", "_", "!", "\\"]
const rare = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  "中",
  "€",
  "😀",
  "￥", // U+FFE5: above every surrogate pair in UTF-16, below them by code point
  // SQLite's GLOB metacharacters
  "*",
  "?",
  "[",
  "]"
]
const genChar = (rng: Rng) => (rng.chance(0.6) ? rng.pick(common) : rng.pick(rare))
const genText = (rng: Rng, max = 6) => Array.from({ length: rng.int(0, max) }, () => genChar(rng)).join("")

const stringSpecials = ["", " ", "a", "A", "a ", "ab", "aB", "AB", "abc", "%", "_", "\\", "!", "a%b", "a_b", "[a]", "a*", "?", "中", "😀", "€", "￥", "😀a", "￥a"]
const floatSpecials = [
  0,
  -0,
  0.5,
  -0.5,
  1,
  -1,
  0.1,
  0.2,
  0.30000000000000004,
  1 / 3,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  2.2250738585072014e-308,
  2 ** 53,
  2 ** 53 + 2,
  1e-300,
  123456.789
]
const intSpecials = [-3, -2, -1, 0, 1, 2, 3, 100, -100, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
const bigSpecials = [
  0n,
  1n,
  -1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 60n,
  2n ** 60n + 1n,
  2n ** 63n - 1n,
  2n ** 63n - 2n,
  -(2n ** 63n),
  -(2n ** 63n) + 1n
]
const decSpecials = [
  "0",
  "1",
  "-1",
  "0.1",
  "1.5",
  "1.50",
  "-1.5",
  "0.00000000000000000001",
  "-0.00000000000000000001",
  "99999999999999999999.99999999999999999999",
  "99999999999999999999.99999999999999999998",
  "-99999999999999999999.99999999999999999999",
  "123456789012345678.123456789",
  "123456789012345678.12345679",
  "1e10"
].map((s) => BigDecimal.unsafeFromString(s))
const dateSpecials = [
  "2000-01-01T00:00:00.000Z",
  "2000-01-01T00:00:00.001Z",
  "2015-06-15T12:30:45.123Z",
  "2024-02-29T23:59:59.999Z",
  "2030-12-31T23:59:59.999Z"
].map((s) => new Date(s))

const randomBig = (rng: Rng): bigint => {
  const hi = BigInt(rng.int(0, 0x7fffffff))
  const lo = BigInt(rng.int(0, 0xffffffff))
  const v = (hi << 32n) | lo
  return rng.chance(0.5) ? v : -v - 1n
}

const genValue = (rng: Rng, kind: Kind): Value => {
  switch (kind) {
    case "int":
      return rng.chance(0.5) ? rng.pick(intSpecials) : rng.int(-1000, 1000)
    case "float":
      return rng.chance(0.5)
        ? rng.pick(floatSpecials)
        : (rng.next() - 0.5) * 10 ** rng.int(-5, 20)
    case "string":
      return rng.chance(0.4) ? rng.pick(stringSpecials) : genText(rng)
    case "bool":
      return rng.chance(0.5)
    case "date":
      return rng.chance(0.4)
        ? rng.pick(dateSpecials)
        : new Date(Date.UTC(2000, 0, 1) + Math.floor(rng.next() * (Date.UTC(2031, 0, 1) - Date.UTC(2000, 0, 1))))
    case "decimal": {
      if (rng.chance(0.4)) return rng.pick(decSpecials)
      const digits = rng.int(1, 18)
      let unscaled = 0n
      for (let i = 0; i < digits; i++) unscaled = unscaled * 10n + BigInt(rng.int(0, 9))
      if (rng.chance(0.5)) unscaled = -unscaled
      const d = BigDecimal.make(unscaled, rng.int(-5, 20))
      // the same number with trailing zeros: equal, differently scaled
      return rng.chance(0.2) ? BigDecimal.scale(d, d.scale + rng.int(1, 3)) : d
    }
    case "bigint":
      return rng.chance(0.6) ? rng.pick(bigSpecials) : randomBig(rng)
    case "enum":
      return rng.pick(kinds)
  }
}

/** JSON-array elements: cases, spaces, escapes, astral characters; doubles beyond 2^53 and in exponent form. */
const tagPool = ["dragons", "Dragons", "dragons ", "", "a", "A", "中", "😀", "\"", "\\", "a\u0001b", "%", "x y"]
const numPool = [0, -0, 1, -1, 2.5, 0.1, 0.30000000000000004, 1 / 3, 1e21, 1e-7, 2 ** 53 + 2, -100200295513759310, Number.MAX_VALUE, Number.MIN_VALUE, 42]
const genElement = (rng: Rng, field: ArrayField): Element =>
  field === "tags" ? rng.pick(tagPool) : field === "nums" ? rng.pick(numPool) : rng.chance(0.5)
const genArray = (rng: Rng, field: ArrayField): Array<Element> =>
  Array.from({ length: rng.pick([0, 1, 1, 2, 2, 3, 4, 6]) }, () => genElement(rng, field))

/** A data set: few distinct values per field, so ties and NULLs are common. */
const genRows = (rng: Rng): Array<Rec> => {
  const count = rng.chance(0.1) ? rng.int(0, 2) : rng.int(3, 40)
  const pools = new Map(fieldKinds.map((f) => [f.name, Array.from({ length: rng.int(1, 5) }, () => genValue(rng, f.kind))]))
  const nullRate = rng.pick([0, 0.1, 0.3, 0.6])
  const ids = new Set<number>()
  while (ids.size < count) ids.add(rng.int(1, 10_000))
  return [...ids].map((id) => {
    const row: Record<string, unknown> = { id }
    for (const f of fieldKinds) {
      if (f.name === "id") continue
      row[f.name] = f.nullable && rng.chance(nullRate)
        ? null
        : rng.chance(0.8)
        ? rng.pick(pools.get(f.name)!)
        : genValue(rng, f.kind)
    }
    for (const f of arrayFields) row[f.name] = f.nullable && rng.chance(nullRate) ? null : genArray(rng, f.name)
    return row as Rec
  })
}

/** A value to filter with: usually one the data holds, sometimes a fresh one. */
const genOperandValue = (rng: Rng, rows: ReadonlyArray<Rec>, field: FieldName): Value => {
  const present = rows.map((r) => r[field] as Value | null).filter((v): v is Value => v !== null)
  return present.length > 0 && rng.chance(0.7) ? rng.pick(present) : genValue(rng, kindOf(field))
}

const escapeLike = (s: string) => Array.from(s, (c) => (c === "%" || c === "_" || c === "\\" ? `\\${c}` : c)).join("")

const randomCase = (rng: Rng, s: string) =>
  Array.from(s, (c) => (/[a-zA-Z]/.test(c) && rng.chance(0.5) ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c))
    .join("")

const genPattern = (rng: Rng, sample: string | undefined): string => {
  const parts: Array<string> = []
  const n = rng.int(0, 5)
  for (let i = 0; i < n; i++) {
    const r = rng.next()
    if (r < 0.2) parts.push("%")
    else if (r < 0.35) parts.push("_")
    else if (r < 0.45) parts.push(`\\${genChar(rng)}`) // an escape, of a wildcard or of a plain character
    else if (r < 0.75 && sample !== undefined) {
      const cps = Array.from(sample)
      const start = rng.int(0, cps.length)
      parts.push(escapeLike(cps.slice(start, rng.int(start, cps.length)).join("")))
    } else parts.push(genChar(rng))
  }
  // a whole value, wildcards escaped: must match exactly that value
  if (sample !== undefined && rng.chance(0.15)) return escapeLike(sample)
  // a trailing lone backslash is a literal backslash
  if (rng.chance(0.05)) parts.push("\\")
  return parts.join("")
}

const genNeedle = (rng: Rng, sample: string | undefined): string => {
  if (sample === undefined || rng.chance(0.3)) return genText(rng, 3)
  const cps = Array.from(sample)
  const start = rng.int(0, cps.length)
  return cps.slice(start, rng.int(start, cps.length)).join("")
}

const comparisonOps = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null"] as const
const textOps = ["$like", "$ilike", "$startsWith", "$endsWith", "$contains"] as const

const genFieldCond = (rng: Rng, rows: ReadonlyArray<Rec>, field: FieldName): FieldCond => {
  const kind = kindOf(field)
  const nullable = fieldKinds.find((f) => f.name === field)!.nullable
  const r = rng.next()
  if (r < 0.2) return { _tag: "value", value: genOperandValue(rng, rows, field) }
  if (r < (nullable ? 0.3 : 0.22)) return { _tag: "null" }
  const text = kind === "string" || kind === "enum"
  const available: ReadonlyArray<string> = text ? [...comparisonOps, ...textOps, ...textOps] : comparisonOps
  const chosen = new Set<string>()
  const wanted = rng.chance(0.7) ? 1 : rng.int(2, 3)
  while (chosen.size < wanted) chosen.add(rng.pick(available))
  const samples = rows.map((row) => row[field]).filter((v): v is string => typeof v === "string")
  const ops = [...chosen].map((op): readonly [string, Operand] => {
    switch (op) {
      case "$eq":
      case "$ne":
        return [op, rng.chance(0.25) ? null : genOperandValue(rng, rows, field)]
      case "$in":
      case "$nin":
        // past 16 values a list is bound as one parameter (an array, JSON): both forms are held to the reference
        return [op, Array.from({ length: rng.chance(0.25) ? rng.int(17, 60) : rng.pick([0, 1, 1, 2, 3, 4]) }, () => genOperandValue(rng, rows, field))]
      case "$null":
        return [op, rng.chance(0.5)]
      case "$like":
      case "$ilike": {
        const sample = samples.length > 0 && rng.chance(0.8) ? rng.pick(samples) : undefined
        const p = genPattern(rng, sample)
        return [op, op === "$ilike" ? randomCase(rng, p) : p]
      }
      case "$startsWith":
      case "$endsWith":
      case "$contains":
        return [op, genNeedle(rng, samples.length > 0 && rng.chance(0.8) ? rng.pick(samples) : undefined)]
      default:
        return [op, genOperandValue(rng, rows, field)]
    }
  })
  return { _tag: "ops", ops }
}

/** An element to look for: usually one some row holds. */
const genElementOperand = (rng: Rng, rows: ReadonlyArray<Rec>, field: ArrayField): Element => {
  const present = rows.flatMap((r) => (r[field] ?? []) as ReadonlyArray<Element>)
  return present.length > 0 && rng.chance(0.7) ? rng.pick(present) : genElement(rng, field)
}

const genArrayCond = (rng: Rng, rows: ReadonlyArray<Rec>, field: ArrayField): FieldCond => {
  const nullable = arrayFields.find((f) => f.name === field)!.nullable
  if (nullable && rng.chance(0.1)) return { _tag: "null" }
  const chosen = new Set<string>()
  const wanted = rng.chance(0.75) ? 1 : 2
  while (chosen.size < wanted) chosen.add(rng.pick(["$has", "$has", "$hasAny", "$hasAll", "$size", "$null"]))
  const list = () => Array.from({ length: rng.pick([0, 1, 2, 2, 3, 5, 20]) }, () => genElementOperand(rng, rows, field))
  const ops = [...chosen].map((op): readonly [string, Element | ReadonlyArray<Element> | SizeOperand | boolean] => {
    switch (op) {
      case "$has":
        return [op, genElementOperand(rng, rows, field)]
      case "$hasAny":
      case "$hasAll":
        return [op, list()]
      case "$size":
        return [op, rng.chance(0.5) ? rng.int(0, 4) : { [rng.pick(["$eq", "$gt", "$gte", "$lt", "$lte"])]: rng.int(0, 4) }]
      default:
        return [op, rng.chance(0.5)]
    }
  })
  return { _tag: "array", ops }
}

const genNode = (rng: Rng, rows: ReadonlyArray<Rec>, depth: number): Node => {
  const fieldCount = rng.pick([0, 1, 1, 1, 2, 2, 3])
  const names = new Set<FieldName | ArrayField>()
  while (names.size < fieldCount) {
    names.add(rng.chance(0.3) ? "s" : rng.chance(0.25) ? rng.pick(arrayFields).name : rng.pick(fieldKinds).name)
  }
  const fields = [...names].map((f) => [f, isArrayField(f) ? genArrayCond(rng, rows, f) : genFieldCond(rng, rows, f)] as const)
  const node: { -readonly [K in keyof Node]: Node[K] } = { fields }
  if (depth < 3) {
    const p = depth === 0 ? 0.35 : depth === 1 ? 0.25 : 0.15
    const group = () => Array.from({ length: rng.pick([0, 1, 2, 2, 3]) }, () => genNode(rng, rows, depth + 1))
    if (rng.chance(p)) node.and = group()
    if (rng.chance(p)) node.or = group()
    if (rng.chance(p)) node.not = genNode(rng, rows, depth + 1)
  }
  return node
}

const orderable: ReadonlyArray<FieldName> = ["id", "n", "x", "s", "b", "d", "dec", "big", "kind"]

const genOrderBy = (rng: Rng): Array<OrderEntry> => {
  const count = rng.pick([0, 1, 1, 2, 2, 3])
  const names = new Set<FieldName>()
  while (names.size < count) names.add(rng.pick(orderable))
  return [...names].map((f) => (rng.chance(0.5) ? f : `-${f}` as const))
}

// ---------------------------------------------------------------------------
// comparing answers
// ---------------------------------------------------------------------------

const sameValue = (kind: Kind, a: unknown, b: unknown): boolean =>
  a === null || b === null || a === undefined || b === undefined
    ? a === b
    : kind === "date"
    ? a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
    : kind === "decimal"
    ? BigDecimal.isBigDecimal(a) && BigDecimal.isBigDecimal(b) && BigDecimal.equals(a, b)
    : a === b

const chunk = <A>(items: ReadonlyArray<A>, size: number): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out.length === 0 ? [[]] : out
}

/** One line about a failure: the error's tag, code and the driver's message (no stack). */
const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  if (typeof e !== "object" || e === null) return String(e)
  const { _tag, code, message } = e as { _tag?: unknown; code?: unknown; message?: unknown }
  const inner = (e as { cause?: { message?: unknown } }).cause?.message
  return [_tag, code, message, inner].filter((p) => p !== undefined).map(String).join(" | ")
}

const ids = (records: ReadonlyArray<{ readonly id?: unknown }>) => records.map((r) => r.id)

/** The rows a failing case disagrees about, for the report. */
const describeRows = (rows: ReadonlyArray<Rec>, which: ReadonlyArray<unknown>) =>
  rows.filter((r) => which.includes(r.id)).map((r) => show(r)).join("\n    ")

/**
 * Registers the data sets `0 … dataSets - 1` on one database. On the pipeline path every test
 * body runs under a recording tracer, so each statement goes through `@effect/sql`'s pipeline
 * instead of straight to the connection, and must show that it did.
 */
const registerDataSets = (
  it: Vitest.MethodsNonLive<SqlClient.SqlClient>,
  db: TestDb,
  dataSets: number,
  path: "direct" | "pipeline"
) => {
  const M = makeModel()
  const definition = definitionOf(M)

  for (let set = 0; set < dataSets; set++) {
    it.effect(`data set ${set}: ${CASES_PER_DATA_SET} filter / order / page / keyset cases`, () => {
      const pipeline = path === "pipeline" ? onPipeline() : undefined
      const body = Effect.gen(function*() {
        const dataSeed = mix(BASE_SEED, set)
        const rng = rngOf(dataSeed)
        const rows = genRows(rng)
        const where = (node: Node) => toFilter(node) as Filter<Rec>

        yield* M.bulkDelete({}, { confirm: true })
        // inserted in random order: ties must be broken by the primary key, not by storage order
        const shuffled = [...rows]
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = rng.int(0, i)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        expect((yield* M.bulkCreate(shuffled)).inserted).toBe(rows.length)

        const header = `[${db.label}${path === "pipeline" ? ", statement pipeline" : ""}] base seed ${BASE_SEED} (DATAFLOW_SEED=${BASE_SEED}), data set ${set}`
        // the data reads back exactly as written
        const stored = (yield* M.list()).records
        expect(ids(stored), header).toEqual(sortRows(rows, []).map((r) => r.id))
        for (const rec of stored) {
          const row = rows.find((r) => r.id === rec.id)!
          for (const f of fieldKinds) {
            if (!sameValue(f.kind, rec[f.name], row[f.name])) {
              expect.fail(`${header}: ${f.name} of row ${row.id} reads back as ${show(rec[f.name])}, wrote ${show(row[f.name])}`)
            }
          }
          for (const f of arrayFields) {
            if (JSON.stringify(rec[f.name]) !== JSON.stringify(row[f.name])) {
              expect.fail(`${header}: ${f.name} of row ${row.id} reads back as ${show(rec[f.name])}, wrote ${show(row[f.name])}`)
            }
          }
        }

        const failures: Array<string> = []
        for (let c = 0; c < CASES_PER_DATA_SET; c++) {
          const caseRng = rngOf(mix(BASE_SEED, set, c))
          // most random filters match nothing or everything: prefer one that splits the rows
          let node = genNode(caseRng, rows, 0)
          let matching = rows.filter((r) => evalNode(node, r))
          for (let attempt = 0; attempt < 4 && (matching.length === 0 || matching.length === rows.length); attempt++) {
            node = genNode(caseRng, rows, 0)
            matching = rows.filter((r) => evalNode(node, r))
          }
          const orderBy = genOrderBy(caseRng)
          const expected = sortRows(matching, orderBy).map((r) => r.id)
          // the testing kit's reference (Testing.reference) must give this test's answer too
          const kitMatching = rows.filter((r) => Reference.matches(definition, toFilter(node), r))
          const kitOrder = Reference.sortRows(definition, kitMatching, orderBy).map((r) => r.id)
          if (JSON.stringify(kitOrder) !== JSON.stringify(expected)) {
            failures.push(`${header}, case ${c}: the kit's reference answers ${show(kitOrder)}, this test's ${show(expected)}\n  where: ${show(toFilter(node))}\n  orderBy: ${show(orderBy)}`)
          }
          const context = `${header}, case ${c}\n  where: ${show(toFilter(node))}\n  orderBy: ${show(orderBy)}`
          const disagree = (what: string, got: ReadonlyArray<unknown>, want: ReadonlyArray<unknown>) => {
            const g = got.flat()
            const w = want.flat()
            const diff = [...g.filter((i) => !w.includes(i)), ...w.filter((i) => !g.includes(i))]
            failures.push(
              `${context}\n  ${what}\n  database: ${show(got)}\n  reference: ${show(want)}` +
                (diff.length > 0 ? `\n  rows in dispute:\n    ${describeRows(rows, diff)}` : "")
            )
          }

          // count
          const counted = yield* Effect.exit(M.count(where(node)))
          if (Exit.isFailure(counted)) failures.push(`${context}\n  count failed: ${describeFailure(counted.cause)}`)
          else if (counted.value !== matching.length) {
            failures.push(`${context}\n  count: database ${counted.value}, reference ${matching.length}`)
          }

          // one page: limit / offset / total / select
          const limit = caseRng.chance(0.6) ? caseRng.int(0, 10) : undefined
          const offset = caseRng.chance(0.5) ? caseRng.int(0, 15) : undefined
          const select = caseRng.chance(0.25)
            ? orderable.filter((f) => f === "id" || caseRng.chance(0.4))
            : undefined
          const pageExit = yield* Effect.exit(M.list({
            where: where(node),
            orderBy,
            total: true,
            ...(limit === undefined ? {} : { limit }),
            ...(offset === undefined ? {} : { offset }),
            ...(select === undefined ? {} : { select })
          }))
          const start = offset ?? 0
          const want = expected.slice(start, limit === undefined ? undefined : start + limit)
          const pageWhat = `list limit ${show(limit)} offset ${show(offset)} select ${show(select)}`
          if (Exit.isFailure(pageExit)) failures.push(`${context}\n  ${pageWhat} failed: ${describeFailure(pageExit.cause)}`)
          else {
            const page = pageExit.value
            const records = page.records as ReadonlyArray<Record<string, unknown>>
            const got = ids(records)
            if (show(got) !== show(want)) disagree(pageWhat, got, want)
            else if (page.total !== matching.length) {
              failures.push(`${context}\n  ${pageWhat}: total ${page.total}, reference ${matching.length}`)
            }
            else if (select !== undefined) {
              for (const rec of records) {
                const row = rows.find((r) => r.id === rec.id)!
                if (show(Object.keys(rec).sort()) !== show([...select].sort())) {
                  disagree(`${pageWhat}: selected keys ${show(Object.keys(rec))}`, [], [])
                  break
                }
                const wrong = select.find((f) => !sameValue(kindOf(f), rec[f], row[f]))
                if (wrong !== undefined) {
                  disagree(`${pageWhat}: ${wrong} of ${row.id} is ${show(rec[wrong])}`, [], [])
                  break
                }
              }
            }
          }

          // findFirst: the first row in that order
          const first = yield* Effect.exit(M.findFirst(where(node), { orderBy }))
          if (Exit.isFailure(first)) failures.push(`${context}\n  findFirst failed: ${describeFailure(first.cause)}`)
          else {
            const got = first.value._tag === "Some" ? [first.value.value.id] : []
            if (show(got) !== show(expected.slice(0, 1))) disagree("findFirst", got, expected.slice(0, 1))
          }

          // a keyset walk over every page (sometimes projected: the cursor still needs the sort fields)
          const size = caseRng.int(1, 7)
          const walkSelect = caseRng.chance(0.2) ? (["id"] as const) : undefined
          const pages: Array<ReadonlyArray<unknown>> = []
          let cursor: string | undefined
          let walkError: string | undefined
          do {
            const step = yield* Effect.exit(M.list({
              where: where(node),
              orderBy,
              limit: size,
              ...(walkSelect === undefined ? {} : { select: walkSelect }),
              ...(cursor === undefined ? {} : { cursor })
            }))
            if (Exit.isFailure(step)) {
              walkError = describeFailure(step.cause)
              break
            }
            pages.push(ids(step.value.records))
            cursor = step.value.nextCursor
          } while (cursor !== undefined && pages.length <= rows.length + 1)
          const wantPages = chunk(expected, size)
          if (walkError !== undefined) failures.push(`${context}\n  keyset walk (page ${size}, select ${show(walkSelect)}) failed: ${walkError}`)
          else if (show(pages) !== show(wantPages)) disagree(`keyset walk, page size ${size}, select ${show(walkSelect)}`, pages, wantPages)
        }
        expect(failures, `${failures.length} disagreement(s):\n${failures.slice(0, 5).join("\n\n")}`).toEqual([])
      })
      return pipeline === undefined
        ? body
        : Effect.gen(function*() {
          yield* pipeline.run(body)
          expect(pipelineProblems(pipeline.spans), `[${db.label}] data set ${set} on the pipeline path`).toEqual([])
        })
    })
  }
}

forEachDatabase("differential", (it, db) => registerDataSets(it, db, DATA_SETS, "direct"))

// the same data sets (fewer of them) through @effect/sql's statement pipeline
if (PIPELINE_DATA_SETS > 0) {
  forEachDatabase("differential pipeline", (it, db) => registerDataSets(it, db, PIPELINE_DATA_SETS, "pipeline"))
}
