/**
 * The filter language's operators on JSON fields: `$has` / `$hasAny` / `$hasAll` / `$size` on
 * arrays of scalars, and comparisons at a path of object keys (`$path`), each the same answer on
 * every database (the dialect's `jsonArray` and `jsonPath` members write the SQL).
 * (Internal module: not part of the public API.)
 */
import type { JsonElement } from "../../Column.js"
import { limits } from "../../Filter.js"
import { storageCheck } from "../model/storage.js"
import { type Compiler, type FieldInfo, isOperatorObject, join, never, numberKind, textKind } from "./filterParts.js"

/** The operators of JSON array fields. @internal */
export const jsonArrayOps = new Set(["$has", "$hasAny", "$hasAll", "$size"])
const pathComparisons = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])
const pathKey = /^[A-Za-z0-9_-]{1,64}$/
/** A path operand as a bound value: booleans as the text each database's `value` gives. */
const jsonScalar = (v: unknown) => (typeof v === "boolean" ? String(v) : v)
const sizeOps = new Map([["$eq", "="], ["$gt", ">"], ["$gte", ">="], ["$lt", "<"], ["$lte", "<="]])
/** What a JSON field's filter may say. @internal */
export const jsonOnly = "JSON fields support null checks ({ $null: boolean }), comparisons at a path ({ $path: [keys], $eq: … }) and, on arrays of strings, numbers or booleans, $has / $hasAny / $hasAll / $size"

/**
 * `$has` / `$hasAny` / `$hasAll` on a JSON array field: each element must be of the array's
 * element type (and storable); the list is written as the column writes its values (one JSON
 * array parameter), so an element equals a stored one exactly when their JSON values are equal,
 * on every database. `$size` is {@link arraySize}.
 */
export const jsonArray = (c: Compiler, info: FieldInfo, element: JsonElement, op: string, operand: unknown, path: string) => {
  if (op === "$size") return arraySize(c, info, operand, path)
  const elements: unknown = op === "$has" ? [operand] : operand
  if (!Array.isArray(elements)) return c.fail(path, "expected an array")
  if (elements.length > limits.elements) return c.fail(path, `element lists are limited to ${limits.elements} values`)
  c.counted(elements.length, path)
  elements.forEach((e, i) => {
    const at = op === "$has" ? path : `${path}[${i}]`
    if (e === null || e === undefined) c.fail(at, "expected a value, not null")
    if (typeof e !== element || storageCheck(element === "string" ? textKind : numberKind, e) !== undefined) {
      c.fail(at, "value does not match the field's element type")
    }
  })
  if (elements.length === 0) return op === "$hasAny" ? never : info.nullable ? `${info.quoted} IS NOT NULL` : undefined
  const json = info.toDb(elements)
  // a schema that encodes its elements as something other than scalars cannot be matched alike everywhere
  const encoded: unknown = typeof json === "string" ? JSON.parse(json) : undefined
  if (!Array.isArray(encoded) || !encoded.every((e) => typeof e === "string" || typeof e === "number" || typeof e === "boolean")) {
    return c.fail(path, "the field's elements are not stored as JSON strings, numbers or booleans")
  }
  return c.dialect.jsonArray.contains(info.quoted, element, op === "$hasAny" ? "any" : "all", c.placeholder(json))
}

/** `$size`: a number of elements, or comparisons with one. A NULL array has no size. */
const arraySize = (c: Compiler, info: FieldInfo, operand: unknown, path: string): string | undefined => {
  const length = c.dialect.jsonArray.length(info.quoted)
  const size = (n: unknown, at: string) => {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return c.fail(at, "expected a non-negative integer")
    c.counted(1, at)
    return c.placeholder(n)
  }
  if (!isOperatorObject(operand)) return `${length} = ${size(operand, path)}`
  const mark = c.params.mark
  const parts: Array<string> = []
  for (const [op, n] of Object.entries(operand)) {
    const at = join(path, op)
    const sqlOp = sizeOps.get(op)
    if (sqlOp === undefined) return c.fail(at, "unknown operator")
    if (n !== undefined) parts.push(`${length} ${sqlOp} ${size(n, at)}`)
  }
  return c.joinParts(parts, " AND ", mark)
}

/**
 * `{ $path: ["address", "city"], $eq: "Paris" }` on a JSON field: the scalar at a path of
 * object keys compared by the operand's own JSON type (text in code-point order, numbers as
 * doubles, booleans by equality). A path holding nothing, JSON null or a value of another type
 * meets no comparison (so `$ne` / `$nin` match it); `$null` tests for no value there.
 */
export const jsonPath = (c: Compiler, info: FieldInfo, cond: Record<string, unknown>, path: string): string | undefined => {
  if (info.kind._tag === "json" && info.kind.element !== undefined) {
    return c.fail(join(path, "$path"), "$path applies to JSON fields holding objects, not arrays")
  }
  const keys = pathKeys(c, cond["$path"], join(path, "$path"))
  const text = c.dialect.jsonPath.path(keys)
  const at = () => c.placeholder(text)
  const missing = () => c.dialect.jsonPath.missing(info.quoted, at)
  const compare = (operand: unknown, at_: string, op: string) => {
    const type = pathOperandType(c, operand, at_, op !== "$eq" && op !== "$ne")
    c.counted(1, at_)
    const { guard, operand: write, value } = c.dialect.jsonPath.scalar(info.quoted, at, type)
    const sqlOp = op === "$eq" || op === "$ne" ? "=" : op === "$gt" ? ">" : op === "$gte" ? ">=" : op === "$lt" ? "<" : "<="
    const condition = `(${guard} AND ${value} ${sqlOp} ${write(c.placeholder(jsonScalar(operand)))})`
    return op === "$ne" ? `NOT COALESCE(${condition}, FALSE)` : condition
  }
  const member = (operand: unknown, at_: string, op: string) => {
    if (!Array.isArray(operand)) return c.fail(at_, "expected an array")
    if (operand.length > limits.elements) return c.fail(at_, `element lists are limited to ${limits.elements} values`)
    if (operand.length === 0) return op === "$in" ? never : undefined
    const types = operand.map((v, i) => pathOperandType(c, v, `${at_}[${i}]`, false))
    if (types.some((t) => t !== types[0])) return c.fail(at_, "list values must all be strings, numbers or booleans")
    c.counted(operand.length, at_)
    const { guard, operand: write, value } = c.dialect.jsonPath.scalar(info.quoted, at, types[0]!)
    const condition = `(${guard} AND ${value} IN (${operand.map((v) => write(c.placeholder(jsonScalar(v)))).join(", ")}))`
    return op === "$in" ? condition : `NOT COALESCE(${condition}, FALSE)`
  }
  const mark = c.params.mark
  const parts: Array<string | undefined> = []
  for (const [op, operand] of Object.entries(cond)) {
    const at_ = join(path, op)
    if (op === "$path" || operand === undefined) continue
    if (op === "$null") {
      if (typeof operand !== "boolean") return c.fail(at_, "expected a boolean")
      parts.push(operand ? missing() : `NOT ${missing()}`)
    } else if ((op === "$eq" || op === "$ne") && operand === null) {
      parts.push(op === "$eq" ? missing() : `NOT ${missing()}`)
    } else if (pathComparisons.has(op)) parts.push(compare(operand, at_, op))
    else if (op === "$in" || op === "$nin") parts.push(member(operand, at_, op))
    else return c.fail(at_, "unknown operator: with $path, $eq $ne $gt $gte $lt $lte $in $nin $null")
  }
  return c.joinParts(parts, " AND ", mark)
}

/** A JSON scalar operand's type (booleans only compare for equality); strings must be storable. */
const pathOperandType = (c: Compiler, operand: unknown, at: string, ordered: boolean): JsonElement => {
  if (typeof operand === "string") {
    const bad = storageCheck(textKind, operand)
    return bad === undefined ? "string" : c.fail(at, bad)
  }
  if (typeof operand === "number") return Number.isFinite(operand) ? "number" : c.fail(at, "expected a finite number")
  if (typeof operand === "boolean" && !ordered) return "boolean"
  return c.fail(at, ordered ? "expected a string or a number" : "expected a string, a number or a boolean")
}

const pathKeys = (c: Compiler, keys: unknown, at: string): ReadonlyArray<string> => {
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > limits.pathKeys) {
    return c.fail(at, `expected an array of 1 to ${limits.pathKeys} object keys`)
  }
  keys.forEach((k, i) => {
    if (typeof k !== "string" || !pathKey.test(k)) c.fail(`${at}[${i}]`, "a path key is 1 to 64 letters, digits, _ or -")
  })
  return keys as ReadonlyArray<string>
}
