/**
 * The `aggregate` node: counts, distinct counts, sums, averages, minima and maxima over the
 * records a filter finds, optionally per group. It reads: validate → context → one statement
 * (`sql/aggregate.ts`) → decode; then `having`, the order and the page are applied to the
 * groups with exact values (BigDecimal, bigint, code-point text order), so every database
 * gives the same answer. At most {@link maxGroups} groups are read.
 * (Internal module: not part of the public API.)
 */
import type { Effect as E } from "effect"
import { BigDecimal, Effect, Either } from "effect"
import type { Column, Kind } from "../../Column.js"
import type { ConfigurationError, ValidationError } from "../../Errors.js"
import { DatabaseError, InvalidFilter } from "../../Errors.js"
import { limits } from "../../Filter.js"
import type { ModelDefinition } from "../model/definition.js"
import { context } from "../runtime/context.js"
import { execute } from "../runtime/executor.js"
import type { AggregateSpec } from "../sql/aggregate.js"
import { aggregate as aggregateStatement } from "../sql/aggregate.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import type { Row } from "./shared.js"
import { invalid, readErrors, traced } from "./shared.js"
import type { NodeErrors } from "./types.js"

/** The most groups one aggregate reads (before `having`). @internal */
export const maxGroups = 100_000

/** @internal */
export interface AggregateNodes<R> {
  readonly aggregate: (query?: unknown) => E.Effect<unknown, NodeErrors["aggregate"] | ConfigurationError, R>
}

const queryKeys = new Set([
  "where",
  "groupBy",
  "count",
  "countDistinct",
  "sum",
  "avg",
  "min",
  "max",
  "having",
  "orderBy",
  "limit",
  "offset",
  "includeDeleted"
])
const resultKeys = new Set(["_count", "_countDistinct", "_sum", "_avg", "_min", "_max"])
const numeric = new Set(["integer", "float", "bigint", "decimal"])
const orderable = new Set(["integer", "float", "bigint", "decimal", "string", "enum", "datetime"])

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

// ---------------------------------------------------------------------------
// the query, checked against the model
// ---------------------------------------------------------------------------

/** A list of the model's fields, each one a field `allowed` accepts (undefined: any). */
const fieldList = (
  def: ModelDefinition,
  name: string,
  value: unknown,
  allowed: (kind: Kind) => string | undefined
): Either.Either<ReadonlyArray<Column>, ValidationError> => {
  if (value === undefined) return Either.right([])
  if (!Array.isArray(value)) return Either.left(invalid(def, "aggregate", name, "expected an array of field names"))
  const out: Array<Column> = []
  for (const field of value as ReadonlyArray<unknown>) {
    const column = typeof field === "string" ? def.byField.get(field) : undefined
    if (column === undefined) return Either.left(invalid(def, "aggregate", name, `unknown field ${JSON.stringify(field)}`))
    const refused = allowed(column.kind)
    if (refused !== undefined) return Either.left(invalid(def, "aggregate", name, `${column.field} ${refused}`))
    if (!out.includes(column)) out.push(column)
  }
  return Either.right(out)
}

const notJson = (kind: Kind) => (kind._tag === "json" ? "is a JSON field" : undefined)
const isNumeric = (kind: Kind) =>
  numeric.has(kind._tag) ? undefined : "is not a numeric field (integer, float, bigint or decimal)"
const isOrderable = (kind: Kind) =>
  orderable.has(kind._tag) ? undefined : "has no order (min and max take numbers, text, enums and dates)"

const checkPaging = (def: ModelDefinition, value: unknown, name: string) =>
  value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0)
    ? undefined
    : invalid(def, "aggregate", name, "must be a non-negative integer")

/** The aggregates a query asks for, or the first problem with it. */
const specOf = (def: ModelDefinition, query: Row): Either.Either<AggregateSpec, ValidationError> =>
  Either.gen(function*() {
    const unknown = Object.keys(query).find((k) => !queryKeys.has(k))
    if (unknown !== undefined) return yield* Either.left(invalid(def, "aggregate", unknown, "unknown option"))
    const groupBy = yield* fieldList(def, "groupBy", query.groupBy, notJson)
    const clash = groupBy.find((c) => resultKeys.has(c.field))
    if (clash !== undefined) {
      return yield* Either.left(invalid(def, "aggregate", "groupBy", `${clash.field} is the name of an aggregate in the results`))
    }
    const count = query.count
    const countAll = count === true
    const counted = countAll || count === undefined ? [] : yield* fieldList(def, "count", count, () => undefined)
    if (count !== undefined && typeof count !== "boolean" && !Array.isArray(count)) {
      return yield* Either.left(invalid(def, "aggregate", "count", "expected true or an array of field names"))
    }
    const spec: AggregateSpec = {
      groupBy,
      countAll,
      count: counted,
      countDistinct: yield* fieldList(def, "countDistinct", query.countDistinct, notJson),
      sum: yield* fieldList(def, "sum", query.sum, isNumeric),
      avg: yield* fieldList(def, "avg", query.avg, isNumeric),
      min: yield* fieldList(def, "min", query.min, isOrderable),
      max: yield* fieldList(def, "max", query.max, isOrderable)
    }
    const paging = checkPaging(def, query.limit, "limit") ?? checkPaging(def, query.offset, "offset")
    if (paging !== undefined) return yield* Either.left(paging)
    if (query.includeDeleted !== undefined && typeof query.includeDeleted !== "boolean") {
      return yield* Either.left(invalid(def, "aggregate", "includeDeleted", "expected a boolean"))
    }
    if (groupBy.length === 0) {
      const grouped = ["having", "orderBy", "limit", "offset"].find((k) => query[k] !== undefined)
      if (grouped !== undefined) {
        return yield* Either.left(invalid(def, "aggregate", grouped, "applies to groups: it needs groupBy"))
      }
    }
    return spec
  })

// ---------------------------------------------------------------------------
// the values of a result: having and order
// ---------------------------------------------------------------------------

type ValueKind = "number" | "bigint" | "decimal" | "date" | "string" | "boolean"

/** A value of a result that `having` and `orderBy` can name: its kind and how to read it. */
interface ResultPath {
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

/** Every value the results of `spec` hold, by path (`role`, `_count`, `_sum.age`, …). */
const resultPaths = (spec: AggregateSpec): ReadonlyMap<string, ResultPath> => {
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

/**
 * `having` as a predicate over results: the filter language's comparisons (`$eq`, `$ne`,
 * `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`, `$null`; a plain value is `$eq`, `null` is
 * NULL) on the values of a result, combined with `$and`, `$or`, `$not`. NULL compares as the
 * filter language does: `$ne` and `$nin` match it, the other comparisons do not.
 */
const compileHaving = (
  def: ModelDefinition,
  paths: ReadonlyMap<string, ResultPath>,
  having: unknown
): Either.Either<Predicate, InvalidFilter> => {
  const fail = (path: string, reason: string): never => {
    throw new InvalidFilter({ model: def.name, operation: "aggregate", path: `having${path === "" ? "" : `.${path}`}`, reason })
  }
  let conditions = 0
  const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`)

  const operand = (info: ResultPath, v: unknown, at: string) =>
    isValueOf(info.kind, v) ? v : fail(at, `expected a value of the result's type (${info.kind})`)

  const condition = (info: ResultPath, cond: unknown, at: string): Predicate => {
    if (++conditions > limits.conditions) fail(at, `at most ${limits.conditions} conditions`)
    const eq = (v: unknown, w: unknown) => v !== null && compare(info.kind, v, w) === 0
    if (cond === null) return (r) => info.get(r) === null
    if (!isOperatorObject(cond)) {
      const w = operand(info, cond, at)
      return (r) => eq(info.get(r), w)
    }
    const tests = Object.entries(cond).filter(([, o]) => o !== undefined).map(([op, o]): Predicate => {
      const opAt = join(at, op)
      const ordered = (test: (c: number) => boolean): Predicate => {
        const w = operand(info, o, opAt)
        return (r) => {
          const v = info.get(r)
          return v !== null && test(compare(info.kind, v, w))
        }
      }
      const list = () => {
        if (!Array.isArray(o)) return fail(opAt, "expected an array")
        if (o.length > limits.list) return fail(opAt, `lists are limited to ${limits.list} values`)
        return o.map((v, i) => operand(info, v, `${opAt}[${i}]`))
      }
      switch (op) {
        case "$eq": {
          if (o === null) return (r) => info.get(r) === null
          const w = operand(info, o, opAt)
          return (r) => eq(info.get(r), w)
        }
        case "$ne": {
          if (o === null) return (r) => info.get(r) !== null
          const w = operand(info, o, opAt)
          return (r) => !eq(info.get(r), w)
        }
        case "$gt":
          return ordered((c) => c > 0)
        case "$gte":
          return ordered((c) => c >= 0)
        case "$lt":
          return ordered((c) => c < 0)
        case "$lte":
          return ordered((c) => c <= 0)
        case "$in": {
          const ws = list()
          return (r) => ws.some((w) => eq(info.get(r), w))
        }
        case "$nin": {
          const ws = list()
          return (r) => !ws.some((w) => eq(info.get(r), w))
        }
        case "$null":
          if (typeof o !== "boolean") return fail(opAt, "expected a boolean")
          return (r) => (info.get(r) === null) === o
        default:
          return fail(opAt, "unknown operator")
      }
    })
    return (r) => tests.every((t) => t(r))
  }

  const pathInfo = (path: string, at: string) =>
    paths.get(path) ?? fail(at, `not a group field or an aggregate the query asks for`)

  const node = (h: unknown, at: string, depth: number): Predicate => {
    if (depth > limits.depth) return fail(at, `filters nest at most ${limits.depth} levels deep`)
    if (!isPlainObject(h)) return fail(at, "a filter must be an object")
    const parts: Array<Predicate> = []
    for (const [key, cond] of Object.entries(h)) {
      if (cond === undefined) continue
      const here = join(at, key)
      if (key === "$and" || key === "$or") {
        if (!Array.isArray(cond)) return fail(here, "expected an array of filters")
        const inner = cond.map((c, i) => node(c, `${here}[${i}]`, depth + 1))
        parts.push(key === "$and" ? (r) => inner.every((p) => p(r)) : (r) => inner.some((p) => p(r)))
      } else if (key === "$not") {
        const inner = node(cond, here, depth + 1)
        parts.push((r) => !inner(r))
      } else if (key.startsWith("$")) {
        return fail(here, "unknown operator")
      } else if (resultKeys.has(key) && !(key === "_count" && paths.has("_count"))) {
        // `_sum: { age: … }`: a condition per field
        if (!isPlainObject(cond) || isOperatorObject(cond)) return fail(here, "expected an object of field conditions")
        for (const [field, fieldCond] of Object.entries(cond)) {
          if (fieldCond === undefined) continue
          const path = `${key}.${field}`
          parts.push(condition(pathInfo(path, join(at, path)), fieldCond, join(at, path)))
        }
      } else {
        parts.push(condition(pathInfo(key, here), cond, here))
      }
    }
    return (r) => parts.every((p) => p(r))
  }

  try {
    return Either.right(node(having, "", 0))
  } catch (error) {
    if (error instanceof InvalidFilter) return Either.left(error)
    throw error
  }
}

interface OrderTerm {
  readonly path: ResultPath
  readonly direction: 1 | -1
}

/** The order of the groups: the terms asked for, then every group field ascending. */
const orderTerms = (
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

/** NULL first ascending and last descending, as `list` orders. */
const compareResults = (terms: ReadonlyArray<OrderTerm>) => (a: Row, b: Row): number => {
  for (const { direction, path } of terms) {
    const x = path.get(a)
    const y = path.get(b)
    const c = x === null ? (y === null ? 0 : -1) : y === null ? 1 : compare(path.kind, x, y)
    if (c !== 0) return c * direction
  }
  return 0
}

/**
 * The float field whose sum left the double range in a result, if any: PostgreSQL fails such a
 * sum (SQLSTATE 22003), SQLite and MySQL give infinity; every database fails alike.
 */
const overflowed = (spec: AggregateSpec, result: Row): string | undefined => {
  const sums = result._sum as Row | undefined
  const averages = result._avg as Row | undefined
  for (const c of [...spec.sum, ...spec.avg]) {
    if (c.kind._tag !== "float") continue
    for (const v of [sums?.[c.field], averages?.[c.field]]) {
      if (typeof v === "number" && !Number.isFinite(v)) return c.field
    }
  }
  return undefined
}

const outOfRange = (def: ModelDefinition, field: string) =>
  new DatabaseError({
    model: def.name,
    operation: "aggregate",
    code: "22003",
    retryable: false,
    cause: new RangeError(`the sum of ${field} is beyond the range of a double`)
  })

// ---------------------------------------------------------------------------
// the node
// ---------------------------------------------------------------------------

/** @internal */
export const make = <R>(def: ModelDefinition): AggregateNodes<R> => {
  const span = traced(def, "aggregate")
  const aggregate: AggregateNodes<R>["aggregate"] = (query = {}) =>
    span(Effect.gen(function*() {
      if (!isPlainObject(query)) return yield* invalid(def, "aggregate", "query", "expected an object")
      // the whole query is checked before anything touches the database
      const spec = specOf(def, query)
      if (Either.isLeft(spec)) return yield* spec.left
      const grouped = spec.right.groupBy.length > 0
      const paths = resultPaths(spec.right)
      const having = query.having === undefined ? undefined : compileHaving(def, paths, query.having)
      if (having !== undefined && Either.isLeft(having)) return yield* having.left
      const terms = orderTerms(def, paths, spec.right, query.orderBy)
      if (Either.isLeft(terms)) return yield* terms.left
      const ctx = yield* context<R>(def, "aggregate")
      const s = ctx.statements
      const params = new Params(s.dialect)
      const filtered = where(s, query.where, params, {
        operation: "aggregate",
        includeDeleted: query.includeDeleted === true,
        tenant: ctx.tenant
      })
      if (Either.isLeft(filtered)) return yield* filtered.left
      const statement = aggregateStatement(s, spec.right, filtered.right.sql, grouped ? maxGroups + 1 : undefined)
      const rows = yield* readErrors(s, "aggregate")(execute(ctx, statement.text, params.values))
      if (!grouped) {
        const result = statement.read(rows[0] ?? {})
        const field = overflowed(spec.right, result)
        return field === undefined ? result : yield* outOfRange(def, field)
      }
      if (rows.length > maxGroups) {
        return yield* invalid(
          def,
          "aggregate",
          "groupBy",
          `more than ${maxGroups} groups: narrow the filter or group by fewer fields`
        )
      }
      let results = rows.map(statement.read)
      for (const result of results) {
        const field = overflowed(spec.right, result)
        if (field !== undefined) return yield* outOfRange(def, field)
      }
      if (having !== undefined) results = results.filter(having.right)
      results.sort(compareResults(terms.right))
      const offset = (query.offset as number | undefined) ?? 0
      const limit = query.limit as number | undefined
      return offset === 0 && limit === undefined ? results : results.slice(offset, limit === undefined ? undefined : offset + limit)
    }))
  return { aggregate }
}
