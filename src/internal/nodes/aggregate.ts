/**
 * The `aggregate` node: counts, distinct counts, sums, averages, minima and maxima over the
 * records a filter finds, optionally per group. It reads: validate → context → one statement
 * (`sql/aggregate.ts`) → decode; then `having`, the order and the page are applied to the
 * groups with exact values (BigDecimal, bigint, code-point text order), so every database
 * gives the same answer. At most {@link maxGroups} groups are read.
 * (Internal module: not part of the public API.)
 */
import type * as E from "effect/Effect"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Column, Kind } from "../../Column.js"
import type { ConfigurationError, ValidationError } from "../../Errors.js"
import { DatabaseError } from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import { context } from "../runtime/context.js"
import { execute } from "../runtime/executor.js"
import type { AggregateSpec } from "../sql/aggregate.js"
import { aggregate as aggregateStatement } from "../sql/aggregate.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import type { Row } from "./shared.js"
import { invalid, readErrors, traced } from "./shared.js"
import { compareResults, compileHaving, orderTerms, resultKeys, resultPaths } from "./groups.js"
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

/** The aggregates a query asks for, or the first problem with it. @internal */
export const specOf = (def: ModelDefinition, query: Row): Either.Either<AggregateSpec, ValidationError> =>
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
    if (query.groupBy === undefined) {
      const grouped = ["having", "orderBy", "limit", "offset"].find((k) => query[k] !== undefined)
      if (grouped !== undefined) {
        return yield* Either.left(invalid(def, "aggregate", grouped, "applies to groups: it needs groupBy"))
      }
    }
    return spec
  })

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
      // with groupBy, a list of groups (`groupBy: []`: all records as one group, as SQL's GROUP BY ())
      const grouped = query.groupBy !== undefined
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
        tenant: ctx.tenant,
        relationTenant: ctx.relationTenant
      })
      if (Either.isLeft(filtered)) return yield* filtered.left
      const statement = aggregateStatement(s, spec.right, filtered.right.sql, spec.right.groupBy.length > 0 ? maxGroups + 1 : undefined)
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
