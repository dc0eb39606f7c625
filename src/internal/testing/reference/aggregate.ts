/**
 * The reference's `aggregate`: groups of the records a filter finds (NULL one group value,
 * decimals by value, dates by instant, text by code point), counts, distinct counts, exact
 * sums (integers and bigints as integers, decimals as BigDecimal; floats in doubles), averages
 * rounded as documented (a decimal's to its scale + 6 digits half to even, others to the
 * nearest double of the exact quotient), minima and maxima; then `having`, the order and the
 * page. The query is checked by the node's own checks.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import * as Either from "effect/Either"
import type { Column } from "../../../Column.js"
import { DatabaseError } from "../../../Errors.js"
import { validation } from "../../model/validate.js"
import { maxGroups, specOf } from "../../nodes/aggregate.js"
import { compareResults, compileHaving, orderTerms, resultPaths } from "../../nodes/groups.js"
import type { AggregateSpec } from "../../sql/aggregate.js"
import { avgExtraScale, decimalQuotient, decimalScale, quotient } from "../../sql/aggregate.js"
import { canonical } from "../equivalence.js"
import { compareValues } from "../query.js"
import type { State } from "./state.js"
import { filterOf, invalidFilter, liveRows } from "./state.js"
import type { Call, Outcome, Row } from "./types.js"
import { failure, success } from "./types.js"

const isPlainObject = (u: unknown): u is Row =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

/** A value as the database compares it in GROUP BY and COUNT(DISTINCT): -0 is 0, decimals by value. */
const sameness = (v: unknown): string => JSON.stringify(canonical(v === 0 ? 0 : v))

const exactOf = (column: Column, v: unknown): BigDecimal.BigDecimal =>
  column.kind._tag === "decimal" ? (v as BigDecimal.BigDecimal) : BigDecimal.fromBigInt(BigInt(v as number | bigint))

/** The sum and the average of a numeric column's non-NULL values, in the result types. */
const sumAndAverage = (column: Column, values: ReadonlyArray<unknown>): { readonly sum: unknown; readonly avg: unknown } => {
  if (values.length === 0) return { sum: null, avg: null }
  const kind = column.kind
  if (kind._tag === "float") {
    const sum = values.reduce((a: number, b) => a + (b as number), 0)
    return { sum, avg: sum / values.length }
  }
  const exact = values.reduce((a: BigDecimal.BigDecimal, v) => BigDecimal.sum(a, exactOf(column, v)), BigDecimal.fromBigInt(0n))
  const n = BigInt(values.length)
  if (kind._tag === "decimal") {
    return { sum: BigDecimal.normalize(exact), avg: decimalQuotient(exact, n, decimalScale(kind) + avgExtraScale) }
  }
  const whole = BigDecimal.scale(exact, 0).value
  return { sum: kind._tag === "bigint" ? whole : Number(whole), avg: quotient(whole, n) }
}

/** The aggregates of one group's rows (`_count`, `_sum`, …), as the node's reader shapes them. */
const aggregatesOf = (spec: AggregateSpec, rows: ReadonlyArray<Row>): Row => {
  const out: Row = {}
  const into = (key: string): Row => (out[key] ??= {}) as Row
  const valuesOf = (c: Column) => rows.map((r) => r[c.field] ?? null).filter((v) => v !== null)
  if (spec.countAll) out._count = rows.length
  for (const c of spec.count) into("_count")[c.field] = valuesOf(c).length
  for (const c of spec.countDistinct) into("_countDistinct")[c.field] = new Set(valuesOf(c).map(sameness)).size
  for (const c of new Set([...spec.sum, ...spec.avg])) {
    const { avg, sum } = sumAndAverage(c, valuesOf(c))
    if (spec.sum.includes(c)) into("_sum")[c.field] = sum
    if (spec.avg.includes(c)) into("_avg")[c.field] = avg
  }
  const extreme = (key: string, columns: ReadonlyArray<Column>, sign: 1 | -1) => {
    for (const c of columns) {
      const values = valuesOf(c)
      into(key)[c.field] = values.length === 0
        ? null
        : values.reduce((best, v) => (compareValues(c, v, best) * sign < 0 ? v : best))
    }
  }
  extreme("_min", spec.min, 1)
  extreme("_max", spec.max, -1)
  return out
}

/** A float sum beyond the double range fails on every database (PostgreSQL's SQLSTATE 22003). */
const overflow = (s: State, spec: AggregateSpec, result: Row): DatabaseError | undefined => {
  for (const c of [...spec.sum, ...spec.avg]) {
    if (c.kind._tag !== "float") continue
    for (const key of ["_sum", "_avg"]) {
      const v = (result[key] as Row | undefined)?.[c.field]
      if (typeof v === "number" && !Number.isFinite(v)) {
        return new DatabaseError({
          model: s.def.name,
          operation: "aggregate",
          code: "22003",
          retryable: false,
          cause: new RangeError(`the sum of ${c.field} is beyond the range of a double`)
        })
      }
    }
  }
  return undefined
}

/** @internal */
export const aggregate = (s: State, call: Extract<Call, { node: "aggregate" }>): Outcome => {
  const def = s.def
  const query = call.query ?? {}
  if (!isPlainObject(query)) return failure(validation(def, "aggregate", "query", "expected an object"))
  const checked = specOf(def, query)
  if (Either.isLeft(checked)) return failure(checked.left)
  const spec = checked.right
  const paths = resultPaths(spec)
  const having = query.having === undefined ? undefined : compileHaving(def, paths, query.having)
  if (having !== undefined && Either.isLeft(having)) return failure(having.left)
  const terms = orderTerms(def, paths, spec, query.orderBy)
  if (Either.isLeft(terms)) return failure(terms.left)
  const invalid = invalidFilter(s, query.where, "aggregate")
  if (invalid !== undefined) return failure(invalid)
  const rows = liveRows(s, query.includeDeleted === true).filter(filterOf(s, query.where))
  if (query.groupBy === undefined) {
    const result = aggregatesOf(spec, rows)
    const failed = overflow(s, spec, result)
    return failed === undefined ? success(result) : failure(failed)
  }
  // `groupBy: []`: every record as one group (an empty one too), as SQL's GROUP BY ()
  const groups = new Map<string, Array<Row>>()
  if (spec.groupBy.length === 0) groups.set("", [...rows])
  for (const r of spec.groupBy.length === 0 ? [] : rows) {
    const key = JSON.stringify(spec.groupBy.map((c) => sameness(r[c.field] ?? null)))
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [r])
    else group.push(r)
  }
  if (groups.size > maxGroups) {
    return failure(validation(def, "aggregate", "groupBy", `more than ${maxGroups} groups: narrow the filter or group by fewer fields`))
  }
  let results: Array<Row> = []
  for (const members of groups.values()) {
    const first = members[0]
    const fields: Row = {}
    for (const c of spec.groupBy) {
      const v = first?.[c.field] ?? null
      // as a record reads back: an optional field's NULL is absent
      if (v !== null || c.nullable || !c.optional) fields[c.field] = v
    }
    const result = { ...fields, ...aggregatesOf(spec, members) }
    const failed = overflow(s, spec, result)
    if (failed !== undefined) return failure(failed)
    results.push(result)
  }
  if (having !== undefined) results = results.filter(having.right)
  results.sort(compareResults(terms.right))
  const offset = (query.offset as number | undefined) ?? 0
  const limit = query.limit as number | undefined
  return success(results.slice(offset, limit === undefined ? undefined : offset + limit))
}
