/**
 * The groups of an aggregate as values: what each result holds by path (`role`, `_count`,
 * `_sum.age`) and of which kind, `having` compiled to a predicate over results, and the order
 * of the groups — all on exact values (BigDecimal by value, bigint, dates by instant, text by
 * code point), so the answer does not depend on the database.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import * as Either from "effect/Either"
import type { Column, Kind } from "../../Column.js"
import type { ValidationError } from "../../Errors.js"
import { InvalidFilter } from "../../Errors.js"
import { limits } from "../../Filter.js"
import type { ModelDefinition } from "../model/definition.js"
import type { AggregateSpec } from "../sql/aggregate.js"
import type { Row } from "./shared.js"
import { invalid } from "./shared.js"

/** The keys results hold their aggregates under. @internal */
export const resultKeys: ReadonlySet<string> = new Set(["_count", "_countDistinct", "_sum", "_avg", "_min", "_max"])

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

type ValueKind = "number" | "bigint" | "decimal" | "date" | "string" | "boolean"

/** A value of a result that `having` and `orderBy` can name: its kind and how to read it. @internal */
export interface ResultPath {
  readonly kind: ValueKind
  readonly get: (result: Row) => unknown
}

const valueKindOf = (kind: Kind): ValueKind => {
  switch (kind._tag) {
    case "integer":
    case "float":
      return "number"
    case "bigint":
      return "bigint"
    case "decimal":
      return "decimal"
    case "datetime":
      return "date"
    case "boolean":
      return "boolean"
    default:
      return "string"
  }
}

/** Every value the results of `spec` hold, by path (`role`, `_count`, `_sum.age`, …). @internal */
export const resultPaths = (spec: AggregateSpec): ReadonlyMap<string, ResultPath> => {
  const paths = new Map<string, ResultPath>()
  const nested = (key: string, field: string) => (r: Row) => (r[key] as Row)[field] ?? null
  for (const c of spec.groupBy) {
    const field = c.field
    paths.set(field, { kind: valueKindOf(c.kind), get: (r) => r[field] ?? null })
  }
  if (spec.countAll) paths.set("_count", { kind: "number", get: (r) => r._count })
  const add = (key: string, columns: ReadonlyArray<Column>, kind: (c: Column) => ValueKind) => {
    for (const c of columns) paths.set(`${key}.${c.field}`, { kind: kind(c), get: nested(key, c.field) })
  }
  add("_count", spec.count, () => "number")
  add("_countDistinct", spec.countDistinct, () => "number")
  add("_sum", spec.sum, (c) => (c.kind._tag === "integer" ? "number" : valueKindOf(c.kind)))
  add("_avg", spec.avg, (c) => (c.kind._tag === "decimal" ? "decimal" : "number"))
  add("_min", spec.min, (c) => valueKindOf(c.kind))
  add("_max", spec.max, (c) => valueKindOf(c.kind))
  return paths
}

const isValueOf = (kind: ValueKind, v: unknown): boolean => {
  switch (kind) {
    case "number":
      return typeof v === "number" && Number.isFinite(v)
    case "bigint":
      return typeof v === "bigint"
    case "decimal":
      return BigDecimal.isBigDecimal(v)
    case "date":
      return v instanceof Date && !Number.isNaN(v.getTime())
    case "string":
      return typeof v === "string"
    case "boolean":
      return typeof v === "boolean"
  }
}

/** Text by code point, as the databases' binary collations order it. */
const compareText = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!
    const y = b.codePointAt(i)!
    if (x !== y) return x < y ? -1 : 1
    if (x > 0xffff) i++
  }
  return a.length - b.length
}

/** Two non-NULL values of one kind. */
const compare = (kind: ValueKind, a: unknown, b: unknown): number => {
  switch (kind) {
    case "decimal":
      return BigDecimal.Order(a as BigDecimal.BigDecimal, b as BigDecimal.BigDecimal)
    case "date":
      return Math.sign((a as Date).getTime() - (b as Date).getTime())
    case "string":
      return compareText(a as string, b as string)
    default:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  }
}

type Predicate = (result: Row) => boolean

const isOperatorObject = (u: unknown): u is Record<string, unknown> =>
  isPlainObject(u) && Object.keys(u).length > 0 && Object.keys(u).every((k) => k.startsWith("$"))

/** Where a `having` is read: the model, the paths it may name, and a count of its conditions. */
interface HavingContext {
  readonly def: ModelDefinition
  readonly paths: ReadonlyMap<string, ResultPath>
  conditions: number
}

/** A rejected `having`, thrown while it is read and caught once at the top. */
const fail = (ctx: HavingContext, path: string, reason: string): never => {
  throw new InvalidFilter({ model: ctx.def.name, operation: "aggregate", path: `having${path === "" ? "" : `.${path}`}`, reason })
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`)

const operand = (ctx: HavingContext, path: ResultPath, v: unknown, at: string) =>
  isValueOf(path.kind, v) ? v : fail(ctx, at, `expected a value of the result's type (${path.kind})`)

const operandList = (ctx: HavingContext, path: ResultPath, list: unknown, at: string): ReadonlyArray<unknown> => {
  if (!Array.isArray(list)) return fail(ctx, at, "expected an array")
  if (list.length > limits.list) return fail(ctx, at, `lists are limited to ${limits.list} values`)
  return list.map((v, i) => operand(ctx, path, v, `${at}[${i}]`))
}

/** One operator of a condition on a value (NULL: `$ne` and `$nin` match it, others do not). */
const comparison = (ctx: HavingContext, path: ResultPath, op: string, o: unknown, at: string): Predicate => {
  const { get, kind } = path
  const eq = (v: unknown, w: unknown) => v !== null && compare(kind, v, w) === 0
  const ordered = (test: (c: number) => boolean): Predicate => {
    const w = operand(ctx, path, o, at)
    return (r) => {
      const v = get(r)
      return v !== null && test(compare(kind, v, w))
    }
  }
  switch (op) {
    case "$eq":
    case "$ne": {
      const same: Predicate = o === null
        ? (r) => get(r) === null
        : ((w) => (r: Row) => eq(get(r), w))(operand(ctx, path, o, at))
      return op === "$eq" ? same : (r) => !same(r)
    }
    case "$gt":
      return ordered((c) => c > 0)
    case "$gte":
      return ordered((c) => c >= 0)
    case "$lt":
      return ordered((c) => c < 0)
    case "$lte":
      return ordered((c) => c <= 0)
    case "$in":
    case "$nin": {
      const ws = operandList(ctx, path, o, at)
      const member: Predicate = (r) => ws.some((w) => eq(get(r), w))
      return op === "$in" ? member : (r) => !member(r)
    }
    case "$null":
      if (typeof o !== "boolean") return fail(ctx, at, "expected a boolean")
      return (r) => (get(r) === null) === o
    default:
      return fail(ctx, at, "unknown operator")
  }
}

/** The condition on one value: a value (equality), `null`, or operators. */
const condition = (ctx: HavingContext, name: string, cond: unknown, at: string): Predicate => {
  const path = ctx.paths.get(name) ?? fail(ctx, at, "not a group field or an aggregate the query asks for")
  if (++ctx.conditions > limits.conditions) fail(ctx, at, `at most ${limits.conditions} conditions`)
  if (!isOperatorObject(cond)) return comparison(ctx, path, "$eq", cond, at)
  const tests = Object.entries(cond).filter(([, o]) => o !== undefined).map(([op, o]) => comparison(ctx, path, op, o, join(at, op)))
  return (r) => tests.every((t) => t(r))
}

/** A filter object: conditions on values, `_sum: { field: … }` groups of them, `$and`, `$or`, `$not`. */
const node = (ctx: HavingContext, h: unknown, at: string, depth: number): Predicate => {
  if (depth > limits.depth) return fail(ctx, at, `filters nest at most ${limits.depth} levels deep`)
  if (!isPlainObject(h)) return fail(ctx, at, "a filter must be an object")
  const parts: Array<Predicate> = []
  for (const [key, cond] of Object.entries(h)) {
    if (cond === undefined) continue
    const here = join(at, key)
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(cond)) return fail(ctx, here, "expected an array of filters")
      const inner = cond.map((c, i) => node(ctx, c, `${here}[${i}]`, depth + 1))
      parts.push(key === "$and" ? (r) => inner.every((p) => p(r)) : (r) => inner.some((p) => p(r)))
    } else if (key === "$not") {
      const inner = node(ctx, cond, here, depth + 1)
      parts.push((r) => !inner(r))
    } else if (key.startsWith("$")) {
      return fail(ctx, here, "unknown operator")
    } else if (resultKeys.has(key) && !(key === "_count" && ctx.paths.has("_count"))) {
      if (!isPlainObject(cond) || isOperatorObject(cond)) return fail(ctx, here, "expected an object of field conditions")
      for (const [field, fieldCond] of Object.entries(cond)) {
        if (fieldCond !== undefined) parts.push(condition(ctx, `${key}.${field}`, fieldCond, join(here, field)))
      }
    } else {
      parts.push(condition(ctx, key, cond, here))
    }
  }
  return (r) => parts.every((p) => p(r))
}

/**
 * `having` as a predicate over results: the filter language's comparisons (`$eq`, `$ne`,
 * `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`, `$null`; a plain value is `$eq`, `null` is
 * NULL) on the values of a result, combined with `$and`, `$or`, `$not`. Every rejection is an
 * InvalidFilter naming its path (`having._sum.total.$gt`).
 * @internal
 */
export const compileHaving = (
  def: ModelDefinition,
  paths: ReadonlyMap<string, ResultPath>,
  having: unknown
): Either.Either<Predicate, InvalidFilter> => {
  try {
    return Either.right(node({ def, paths, conditions: 0 }, having, "", 0))
  } catch (error) {
    if (error instanceof InvalidFilter) return Either.left(error)
    throw error
  }
}

/** @internal */
export interface OrderTerm {
  readonly path: ResultPath
  readonly direction: 1 | -1
}

/** The order of the groups: the terms asked for, then every group field ascending. @internal */
export const orderTerms = (
  def: ModelDefinition,
  paths: ReadonlyMap<string, ResultPath>,
  spec: AggregateSpec,
  requested: unknown
): Either.Either<ReadonlyArray<OrderTerm>, ValidationError> => {
  if (requested !== undefined && !Array.isArray(requested)) {
    return Either.left(invalid(def, "aggregate", "orderBy", "expected an array of group fields and aggregates"))
  }
  const terms: Array<OrderTerm> = []
  const used = new Set<string>()
  for (const entry of (requested ?? []) as ReadonlyArray<unknown>) {
    const desc = typeof entry === "string" && entry.startsWith("-")
    const name = typeof entry === "string" ? (desc ? entry.slice(1) : entry) : ""
    const path = paths.get(name)
    if (path === undefined) {
      return Either.left(
        invalid(def, "aggregate", "orderBy", `${JSON.stringify(entry)} is not a group field or an aggregate the query asks for`)
      )
    }
    if (used.has(name)) continue
    used.add(name)
    terms.push({ path, direction: desc ? -1 : 1 })
  }
  for (const c of spec.groupBy) {
    if (!used.has(c.field)) terms.push({ path: paths.get(c.field)!, direction: 1 })
  }
  return Either.right(terms)
}

/** NULL first ascending and last descending, as `list` orders. @internal */
export const compareResults = (terms: ReadonlyArray<OrderTerm>) => (a: Row, b: Row): number => {
  for (const { direction, path } of terms) {
    const x = path.get(a)
    const y = path.get(b)
    const c = x === null ? (y === null ? 0 : -1) : y === null ? 1 : compare(path.kind, x, y)
    if (c !== 0) return c * direction
  }
  return 0
}

