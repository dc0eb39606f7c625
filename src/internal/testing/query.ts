/**
 * The reference's reading semantics, apart from the SQL path: filters (two-valued logic, `$ne` /
 * `$nin` matching NULL, LIKE over code points, `$ilike` folding ASCII letters; relation filters
 * over the related rows a {@link RelatedRows} gives), ordering (NULL
 * smallest, code-point text order, the primary key's fields as the final tie-break) and keyset cursors
 * over that order.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import * as Either from "effect/Either"
import type { Column } from "../../Column.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import { relation } from "../model/relations.js"
import { canonical } from "./equivalence.js"
import { compareCodePoints, likeMatcher } from "./text.js"

type Row = Record<string, unknown>

/** Total order of two non-NULL values of a column. @internal */
export const compareValues = (column: Column, a: unknown, b: unknown): number => {
  switch (column.kind._tag) {
    case "string":
    case "enum":
      return compareCodePoints(a as string, b as string)
    case "datetime":
      return Math.sign((a as Date).getTime() - (b as Date).getTime())
    case "decimal":
      return BigDecimal.Order(a as BigDecimal.BigDecimal, b as BigDecimal.BigDecimal)
    case "boolean":
      return Number(a) - Number(b)
    case "json": {
      const x = JSON.stringify(canonical(a))
      const y = JSON.stringify(canonical(b))
      return x < y ? -1 : x > y ? 1 : 0
    }
    default:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  }
}

const isOperators = (u: unknown): u is Row =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

const sizeHolds = (n: number, operand: unknown): boolean => {
  if (typeof operand === "number") return n === operand
  return Object.entries(operand as Record<string, number>).every(([o, m]) =>
    o === "$eq" ? n === m : o === "$gt" ? n > m : o === "$gte" ? n >= m : o === "$lt" ? n < m : n <= m
  )
}

const evalOp = (column: Column, v: unknown, op: string, operand: unknown): boolean => {
  const eq = (w: unknown) => v !== null && compareValues(column, v, w) === 0
  const text = v as string
  switch (op) {
    case "$eq":
      return operand === null ? v === null : eq(operand)
    case "$ne":
      return operand === null ? v !== null : v === null || !eq(operand)
    case "$gt":
      return v !== null && compareValues(column, v, operand) > 0
    case "$gte":
      return v !== null && compareValues(column, v, operand) >= 0
    case "$lt":
      return v !== null && compareValues(column, v, operand) < 0
    case "$lte":
      return v !== null && compareValues(column, v, operand) <= 0
    case "$in":
      return (operand as ReadonlyArray<unknown>).some(eq)
    case "$nin":
      return v === null || !(operand as ReadonlyArray<unknown>).some(eq)
    case "$null":
      return operand === true ? v === null : v !== null
    case "$like":
      return v !== null && likeMatcher(operand as string, false)(text)
    case "$ilike":
      return v !== null && likeMatcher(operand as string, true)(text)
    case "$startsWith":
      return v !== null && text.startsWith(operand as string)
    case "$endsWith":
      return v !== null && text.endsWith(operand as string)
    case "$contains":
      return v !== null && text.includes(operand as string)
    // JSON arrays: elements equal as JSON values; a NULL array matches none
    case "$has":
      return Array.isArray(v) && v.some((e) => e === operand)
    case "$hasAny":
      return Array.isArray(v) && (operand as ReadonlyArray<unknown>).some((o) => v.some((e) => e === o))
    case "$hasAll":
      return Array.isArray(v) && (operand as ReadonlyArray<unknown>).every((o) => v.some((e) => e === o))
    case "$size":
      return Array.isArray(v) && sizeHolds(v.length, operand)
    default:
      return false
  }
}

/** The JSON scalar at a path of object keys (undefined: nothing there). */
const atPath = (value: unknown, keys: ReadonlyArray<string>): unknown => {
  let v = value
  for (const k of keys) {
    if (!isOperators(v) || !Object.hasOwn(v, k)) return undefined
    v = v[k]
  }
  return v
}

/** Two JSON scalars of one type compared (text by code point); undefined for different types. */
const compareScalars = (v: unknown, w: unknown): number | undefined =>
  v === null || v === undefined || typeof v !== typeof w
    ? undefined
    : typeof v === "string"
    ? compareCodePoints(v, w as string)
    : typeof v === "number"
    ? Math.sign(v - (w as number))
    : typeof v === "boolean"
    ? (v === w ? 0 : 1)
    : undefined

/** `{ $path, …operators }` on a JSON field: the stored (encoded) value at the path compared. */
const pathHolds = (column: Column, value: unknown, cond: Row): boolean => {
  const v = value === null ? undefined : atPath(column.jsonEncode(value), cond["$path"] as ReadonlyArray<string>)
  const none = v === undefined || v === null
  return Object.entries(cond).every(([op, operand]) => {
    if (op === "$path" || operand === undefined) return true
    const c = compareScalars(v, operand)
    switch (op) {
      case "$eq":
        return operand === null ? none : c === 0
      case "$ne":
        return operand === null ? !none : c !== 0
      case "$gt":
        return c !== undefined && c > 0
      case "$gte":
        return c !== undefined && c >= 0
      case "$lt":
        return c !== undefined && c < 0
      case "$lte":
        return c !== undefined && c <= 0
      case "$in":
        return (operand as ReadonlyArray<unknown>).some((o) => compareScalars(v, o) === 0)
      case "$nin":
        return !(operand as ReadonlyArray<unknown>).some((o) => compareScalars(v, o) === 0)
      default:
        return operand === none
    }
  })
}

/**
 * The rows a relation filter looks at: a row's related rows that are live (not soft-deleted)
 * and the current tenant's — through the junction's live rows for a many-to-many.
 * @internal
 */
export type RelatedRows = (relation: Relation, row: Row) => ReadonlyArray<Row>

/** A relation filter: belongs-to / has-one a filter of the related row, has-many and many-to-many `some` / `every` / `none`. */
const relationHolds = (def: ModelDefinition, name: string, cond: unknown, row: Row, related: RelatedRows | undefined): boolean => {
  const resolved = relation(def, name, "list")
  if (resolved === undefined || Either.isLeft(resolved) || related === undefined) {
    throw new TypeError(`${def.name}.${name}: a relation filter needs the related rows`)
  }
  const rel = resolved.right
  const rows = related(rel, row)
  const holds = (f: unknown) => (r: Row) => matches(rel.target, f, r, related)
  if (rel.kind === "belongsTo" || rel.kind === "hasOne") return rows.some(holds(cond))
  // every: no related row fails it (a comparison with NULL fails), so true when there are none
  return Object.entries(cond as Row).every(([op, f]) =>
    f === undefined || (op === "some" ? rows.some(holds(f)) : op === "none" ? !rows.some(holds(f)) : rows.every(holds(f)))
  )
}

/** Does a (validated) filter hold for a row? Relation filters need `related`. @internal */
export const matches = (def: ModelDefinition, filter: unknown, row: Row, related?: RelatedRows): boolean => {
  if (!isOperators(filter)) return true
  return Object.entries(filter).every(([key, cond]) => {
    if (cond === undefined) return true
    if (key === "$and") return (cond as ReadonlyArray<unknown>).every((f) => matches(def, f, row, related))
    if (key === "$or") return (cond as ReadonlyArray<unknown>).some((f) => matches(def, f, row, related))
    if (key === "$not") return !matches(def, cond, row, related)
    const column = def.byField.get(key)
    if (column === undefined) return relationHolds(def, key, cond, row, related)
    const v = row[key] ?? null
    if (cond === null) return v === null
    if (isOperators(cond) && "$path" in cond) return pathHolds(column, v, cond)
    if (isOperators(cond)) return Object.entries(cond).every(([op, operand]) => operand === undefined || evalOp(column, v, op, operand))
    return v !== null && compareValues(column, v, cond) === 0
  })
}

/** One term of an ordering. @internal */
export interface Term {
  readonly field: string
  readonly dir: 1 | -1
}

/**
 * The terms of `orderBy` (`"-field"` descending), repeated fields once, then every primary key
 * field not among them (ascending, in key order), as the nodes order a page. @internal
 */
export const orderTerms = (def: ModelDefinition, orderBy: ReadonlyArray<string>): ReadonlyArray<Term> => {
  const terms: Array<Term> = []
  for (const e of orderBy) {
    const term: Term = e.startsWith("-") ? { field: e.slice(1), dir: -1 } : { field: e, dir: 1 }
    if (!terms.some((t) => t.field === term.field)) terms.push(term)
  }
  for (const key of def.key) if (!terms.some((t) => t.field === key.field)) terms.push({ field: key.field, dir: 1 })
  return terms
}

/** Compares two rows' values of the terms (NULL smallest); `b` may be a cursor's values. @internal */
export const compareBy = (def: ModelDefinition, terms: ReadonlyArray<Term>) =>
(a: (field: string, i: number) => unknown, b: (field: string, i: number) => unknown): number => {
  for (const [i, { dir, field }] of terms.entries()) {
    const x = a(field, i) ?? null
    const y = b(field, i) ?? null
    const c = x === null && y === null ? 0 : x === null ? -1 : y === null ? 1 : compareValues(def.byField.get(field)!, x, y)
    if (c !== 0) return c * dir
  }
  return 0
}

/** Rows in the order of `orderBy` (`"-field"` descending), NULL smallest, then the primary key's fields. @internal */
export const sortRows = (def: ModelDefinition, rows: ReadonlyArray<Row>, orderBy: ReadonlyArray<string>): Array<Row> => {
  const compare = compareBy(def, orderTerms(def, orderBy))
  return [...rows].sort((ra, rb) => compare((f) => ra[f], (f) => rb[f]))
}

/** The rows after a keyset cursor's values, in an ordering (the rows already sorted by it). @internal */
export const afterCursor = (
  def: ModelDefinition,
  terms: ReadonlyArray<Term>,
  sorted: ReadonlyArray<Row>,
  values: ReadonlyArray<unknown>
): ReadonlyArray<Row> => {
  const compare = compareBy(def, terms)
  return sorted.filter((r) => compare((f) => r[f], (_, i) => values[i]) > 0)
}
