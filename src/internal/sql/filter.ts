/**
 * The filter language compiled to SQL: a filter (validated against the model as it is read,
 * every rejection naming its path) becomes one boolean expression with bound values that gives
 * the same answer on every database; constants fold, so "every row" and "no row" are known.
 * (Internal module: not part of the public API.)
 */
import { Either } from "effect"
import type { JsonElement, Kind } from "../../Column.js"
import type { Dialect } from "../dialect/dialect.js"
import { InvalidFilter } from "../../Errors.js"
import { limits } from "../../Filter.js"
import { storageCheck } from "../model/storage.js"
import type { Params } from "./params.js"
import { literal, parsePattern } from "../dialect/pattern.js"

/** What the compiler needs to know about a field. @internal */
export interface FieldInfo {
  readonly quoted: string
  readonly kind: Kind
  /** NULL can occur in the column (`IS NULL` tests are constant otherwise). */
  readonly nullable: boolean
  readonly toDb: (value: unknown) => unknown
  readonly isValue: (u: unknown) => boolean
}

/** @internal */
export interface Target {
  readonly model: string
  readonly operation: string
  readonly dialect: Dialect
  readonly field: (name: string) => FieldInfo | undefined
  /** A relation of the model by name, for relation filters (see relationFilter.ts). */
  readonly relation?: ((name: string) => RelationTarget | undefined) | undefined
}

/** A relation a filter key names: its model as a filter target, and its EXISTS subquery. @internal */
export interface RelationTarget {
  /** has-many: `some` / `every` / `none`; otherwise a filter of the related record. */
  readonly many: boolean
  readonly target: Target
  /** `EXISTS (…)` of a related row meeting `condition` (undefined: any related row). */
  readonly exists: (condition: string | undefined) => string
}

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

const isOperatorObject = (u: unknown): u is Record<string, unknown> =>
  isPlainObject(u) && Object.keys(u).length > 0 && Object.keys(u).every((k) => k.startsWith("$"))

const comparisonOps = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null"])
const jsonArrayOps = new Set(["$has", "$hasAny", "$hasAll", "$size"])
const pathComparisons = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])
const pathKey = /^[A-Za-z0-9_-]{1,64}$/
/** A path operand as a bound value: booleans as the text each database's `value` gives. */
const jsonScalar = (v: unknown) => (typeof v === "boolean" ? String(v) : v)
const sizeOps = new Map([["$eq", "="], ["$gt", ">"], ["$gte", ">="], ["$lt", "<"], ["$lte", "<="]])
const jsonOnly = "JSON fields support null checks ({ $null: boolean }), comparisons at a path ({ $path: [keys], $eq: … }) and, on arrays of strings, numbers or booleans, $has / $hasAny / $hasAll / $size"
const textOps = new Set(["$like", "$ilike", "$startsWith", "$endsWith", "$contains"])
const textKinds = new Set(["string", "enum"])
const textKind: Kind = { _tag: "string", maxLength: undefined }
const numberKind: Kind = { _tag: "float" }

/** The condition no row meets. @internal */
export const never = "1=0"

/**
 * Compiles a filter to a SQL boolean expression, pushing bound values onto `params`. Returns
 * `undefined` for a filter that every row meets (constants folded: `{ $not: { $or: [] } }`,
 * `$null: false` on a column that is never NULL), {@link never} for one that no row meets.
 * Every rejection names its path.
 * @internal
 */
export const compileFilter = (
  target: Target,
  filter: unknown,
  params: Params
): Either.Either<string | undefined, InvalidFilter> => {
  const { dialect } = target
  const placeholder = (value: unknown) => params.bind(value)
  const fail = (path: string, reason: string): never => {
    throw new InvalidFilter({ model: target.model, operation: target.operation, path, reason })
  }
  const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`)

  let values = 0
  const counted = (n: number, path: string) => {
    values += n
    if (values > limits.values) fail(path, `a filter may hold at most ${limits.values} values`)
  }

  const value = (info: FieldInfo, v: unknown, path: string): unknown => {
    counted(1, path)
    if (v === null || v === undefined) return fail(path, "expected a value, not null")
    if (!info.isValue(v) || storageCheck(info.kind, v) !== undefined) {
      return fail(path, "value does not match the field's type")
    }
    return info.toDb(v)
  }

  /**
   * Joins parts with AND or OR, folding constants: `undefined` is TRUE, {@link never} FALSE.
   * A part that decides the whole (FALSE in an AND, TRUE in an OR) drops what the others bound
   * (everything bound since `mark`), so a filter that means "every row" compiles to no condition
   * at all, however it is written (`{ $not: { $or: [] } }`).
   */
  const joinParts = (parts: ReadonlyArray<string | undefined>, joiner: " AND " | " OR ", mark: number) => {
    const decides = joiner === " AND " ? never : undefined
    if (parts.some((p) => p === decides)) {
      params.reset(mark)
      return decides
    }
    const rest = parts.filter((p): p is string => p !== undefined && p !== never)
    if (rest.length === 0) return joiner === " AND " ? undefined : never
    return rest.length === 1 ? rest[0]! : `(${rest.join(joiner)})`
  }

  const group = (path: string, list: unknown, joiner: " AND " | " OR ", depth: number): string | undefined => {
    if (!Array.isArray(list)) return fail(path, "expected an array of filters")
    const mark = params.mark
    // every alternative is validated, even after one that decides the result
    const parts = list.map((f, i) => node(f, `${path}[${i}]`, depth + 1))
    return joinParts(parts, joiner, mark)
  }

  let conditions = 0
  const countedCondition = (path: string) => {
    if (++conditions > limits.conditions) fail(path, `a filter may hold at most ${limits.conditions} conditions`)
  }

  /**
   * `$has` / `$hasAny` / `$hasAll` on a JSON array field: each element must be of the array's
   * element type (and storable); the list is written as the column writes its values (one JSON
   * array parameter), so an element equals a stored one exactly when their JSON values are equal,
   * on every database. `$size` is {@link arraySize}.
   */
  const jsonArray = (info: FieldInfo, element: JsonElement, op: string, operand: unknown, path: string) => {
    if (op === "$size") return arraySize(info, operand, path)
    const elements: unknown = op === "$has" ? [operand] : operand
    if (!Array.isArray(elements)) return fail(path, "expected an array")
    if (elements.length > limits.elements) return fail(path, `element lists are limited to ${limits.elements} values`)
    counted(elements.length, path)
    elements.forEach((e, i) => {
      const at = op === "$has" ? path : `${path}[${i}]`
      if (e === null || e === undefined) fail(at, "expected a value, not null")
      if (typeof e !== element || storageCheck(element === "string" ? textKind : numberKind, e) !== undefined) {
        fail(at, "value does not match the field's element type")
      }
    })
    if (elements.length === 0) return op === "$hasAny" ? never : info.nullable ? `${info.quoted} IS NOT NULL` : undefined
    const json = info.toDb(elements)
    // a schema that encodes its elements as something other than scalars cannot be matched alike everywhere
    const encoded: unknown = typeof json === "string" ? JSON.parse(json) : undefined
    if (!Array.isArray(encoded) || !encoded.every((e) => typeof e === "string" || typeof e === "number" || typeof e === "boolean")) {
      return fail(path, "the field's elements are not stored as JSON strings, numbers or booleans")
    }
    return dialect.jsonArray.contains(info.quoted, element, op === "$hasAny" ? "any" : "all", placeholder(json))
  }

  /** `$size`: a number of elements, or comparisons with one. A NULL array has no size. */
  const arraySize = (info: FieldInfo, operand: unknown, path: string): string | undefined => {
    const length = dialect.jsonArray.length(info.quoted)
    const size = (n: unknown, at: string) => {
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return fail(at, "expected a non-negative integer")
      counted(1, at)
      return placeholder(n)
    }
    if (!isOperatorObject(operand)) return `${length} = ${size(operand, path)}`
    const mark = params.mark
    const parts: Array<string> = []
    for (const [op, n] of Object.entries(operand)) {
      const at = join(path, op)
      const sqlOp = sizeOps.get(op)
      if (sqlOp === undefined) return fail(at, "unknown operator")
      if (n !== undefined) parts.push(`${length} ${sqlOp} ${size(n, at)}`)
    }
    return joinParts(parts, " AND ", mark)
  }

  /**
   * `{ $path: ["address", "city"], $eq: "Paris" }` on a JSON field: the scalar at a path of
   * object keys compared by the operand's own JSON type (text in code-point order, numbers as
   * doubles, booleans by equality). A path holding nothing, JSON null or a value of another type
   * meets no comparison (so `$ne` / `$nin` match it); `$null` tests for no value there.
   */
  const jsonPath = (info: FieldInfo, cond: Record<string, unknown>, path: string): string | undefined => {
    if (info.kind._tag === "json" && info.kind.element !== undefined) {
      return fail(join(path, "$path"), "$path applies to JSON fields holding objects, not arrays")
    }
    const keys = pathKeys(cond["$path"], join(path, "$path"))
    const text = dialect.jsonPath.path(keys)
    const at = () => placeholder(text)
    const missing = () => dialect.jsonPath.missing(info.quoted, at)
    const compare = (operand: unknown, at_: string, op: string) => {
      const type = pathOperandType(operand, at_, op !== "$eq" && op !== "$ne")
      counted(1, at_)
      const { guard, operand: write, value } = dialect.jsonPath.scalar(info.quoted, at, type)
      const sqlOp = op === "$eq" || op === "$ne" ? "=" : op === "$gt" ? ">" : op === "$gte" ? ">=" : op === "$lt" ? "<" : "<="
      const condition = `(${guard} AND ${value} ${sqlOp} ${write(placeholder(jsonScalar(operand)))})`
      return op === "$ne" ? `NOT COALESCE(${condition}, FALSE)` : condition
    }
    const member = (operand: unknown, at_: string, op: string) => {
      if (!Array.isArray(operand)) return fail(at_, "expected an array")
      if (operand.length > limits.elements) return fail(at_, `element lists are limited to ${limits.elements} values`)
      if (operand.length === 0) return op === "$in" ? never : undefined
      const types = operand.map((v, i) => pathOperandType(v, `${at_}[${i}]`, false))
      if (types.some((t) => t !== types[0])) return fail(at_, "list values must all be strings, numbers or booleans")
      counted(operand.length, at_)
      const { guard, operand: write, value } = dialect.jsonPath.scalar(info.quoted, at, types[0]!)
      const condition = `(${guard} AND ${value} IN (${operand.map((v) => write(placeholder(jsonScalar(v)))).join(", ")}))`
      return op === "$in" ? condition : `NOT COALESCE(${condition}, FALSE)`
    }
    const mark = params.mark
    const parts: Array<string | undefined> = []
    for (const [op, operand] of Object.entries(cond)) {
      const at_ = join(path, op)
      if (op === "$path" || operand === undefined) continue
      if (op === "$null") {
        if (typeof operand !== "boolean") return fail(at_, "expected a boolean")
        parts.push(operand ? missing() : `NOT ${missing()}`)
      } else if ((op === "$eq" || op === "$ne") && operand === null) {
        parts.push(op === "$eq" ? missing() : `NOT ${missing()}`)
      } else if (pathComparisons.has(op)) parts.push(compare(operand, at_, op))
      else if (op === "$in" || op === "$nin") parts.push(member(operand, at_, op))
      else return fail(at_, "unknown operator: with $path, $eq $ne $gt $gte $lt $lte $in $nin $null")
    }
    return joinParts(parts, " AND ", mark)
  }

  /** A JSON scalar operand's type (booleans only compare for equality); strings must be storable. */
  const pathOperandType = (operand: unknown, at: string, ordered: boolean): JsonElement => {
    if (typeof operand === "string") {
      const bad = storageCheck(textKind, operand)
      return bad === undefined ? "string" : fail(at, bad)
    }
    if (typeof operand === "number") return Number.isFinite(operand) ? "number" : fail(at, "expected a finite number")
    if (typeof operand === "boolean" && !ordered) return "boolean"
    return fail(at, ordered ? "expected a string or a number" : "expected a string, a number or a boolean")
  }

  const pathKeys = (keys: unknown, at: string): ReadonlyArray<string> => {
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > limits.pathKeys) {
      return fail(at, `expected an array of 1 to ${limits.pathKeys} object keys`)
    }
    keys.forEach((k, i) => {
      if (typeof k !== "string" || !pathKey.test(k)) fail(`${at}[${i}]`, "a path key is 1 to 64 letters, digits, _ or -")
    })
    return keys as ReadonlyArray<string>
  }

  const field = (info: FieldInfo, cond: unknown, path: string): string | undefined => {
    const q = info.quoted
    // on a column that is never NULL, NULL tests are constants
    const isNull = info.nullable ? `${q} IS NULL` : never
    const isNotNull = info.nullable ? `${q} IS NOT NULL` : undefined
    if (cond === undefined) return undefined
    if (cond === null) return isNull
    if (!isOperatorObject(cond)) {
      if (info.kind._tag === "json") return fail(path, jsonOnly)
      return `${q} = ${placeholder(value(info, cond, path))}`
    }
    if (info.kind._tag === "json" && "$path" in cond) return jsonPath(info, cond, path)
    if ("$path" in cond) return fail(join(path, "$path"), "$path applies to JSON fields only")
    const mark = params.mark
    const parts: Array<string | undefined> = []
    for (const [op, operand] of Object.entries(cond)) {
      const at = join(path, op)
      if (operand === undefined) continue
      if (info.kind._tag === "json" && op !== "$null") {
        if (!jsonArrayOps.has(op) || info.kind.element === undefined) return fail(at, jsonOnly)
        parts.push(jsonArray(info, info.kind.element, op, operand, at))
        continue
      }
      if (jsonArrayOps.has(op)) return fail(at, "JSON-array operators apply to JSON array fields only")
      if (textOps.has(op)) {
        if (!textKinds.has(info.kind._tag)) return fail(at, "text operators apply to text fields only")
        if (typeof operand !== "string") return fail(at, "expected a string")
        const bad = storageCheck(textKind, operand)
        if (bad !== undefined) return fail(at, bad)
        if ((op === "$like" || op === "$ilike") && operand.length > limits.pattern) {
          return fail(at, `patterns are limited to ${limits.pattern} characters`)
        }
        const literalOp = op === "$startsWith" ? "start" : op === "$endsWith" ? "end" : op === "$contains" ? "contains" : undefined
        if (literalOp !== undefined && dialect.literalMatch !== undefined) {
          parts.push(dialect.literalMatch(literalOp, q, () => placeholder(operand)))
          continue
        }
        const tokens = op === "$like" || op === "$ilike"
          ? parsePattern(operand)
          : op === "$startsWith"
          ? [...literal(operand), { _tag: "any" } as const]
          : op === "$endsWith"
          ? [{ _tag: "any" } as const, ...literal(operand)]
          : [{ _tag: "any" } as const, ...literal(operand), { _tag: "any" } as const]
        const insensitive = op === "$ilike"
        parts.push(dialect.like(q, placeholder(dialect.likePattern(tokens, insensitive)), insensitive, tokens))
        continue
      }
      if (!comparisonOps.has(op)) return fail(at, "unknown operator")
      switch (op) {
        case "$null":
          if (typeof operand !== "boolean") return fail(at, "expected a boolean")
          parts.push(operand ? isNull : isNotNull)
          break
        case "$eq":
          parts.push(operand === null ? isNull : `${q} = ${placeholder(value(info, operand, at))}`)
          break
        case "$ne": {
          if (operand === null) {
            parts.push(isNotNull)
            break
          }
          const mark = placeholder(value(info, operand, at))
          parts.push(info.nullable ? `(${q} <> ${mark} OR ${q} IS NULL)` : `${q} <> ${mark}`)
          break
        }
        case "$in":
        case "$nin": {
          if (!Array.isArray(operand)) return fail(at, "expected an array")
          if (operand.length > limits.list) return fail(at, `lists are limited to ${limits.list} values`)
          const list = operand.map((v, i) => value(info, v, `${at}[${i}]`))
          if (list.length === 0) {
            if (op === "$in") parts.push(never)
            break
          }
          // a NULL is not in any list: `$nin` matches it
          const orNull = (sql: string) => (info.nullable ? `(${sql} OR ${q} IS NULL)` : sql)
          if (list.length <= dialect.inList.inline) {
            const marks = list.map(placeholder).join(", ")
            parts.push(op === "$in" ? `${q} IN (${marks})` : orNull(`${q} NOT IN (${marks})`))
          } else {
            // a long list is one parameter: any length, one statement text
            const member = dialect.inList.member(q, info.kind, placeholder(dialect.inList.value(info.kind, list)))
            parts.push(op === "$in" ? member : orNull(`NOT (${member})`))
          }
          break
        }
        default: {
          const sqlOp = op === "$gt" ? ">" : op === "$gte" ? ">=" : op === "$lt" ? "<" : "<="
          parts.push(`${q} ${sqlOp} ${placeholder(value(info, operand, at))}`)
        }
      }
    }
    return joinParts(parts, " AND ", mark)
  }

  /** The related filter compiled against the related model, on the same parameters. */
  const related = (rel: RelationTarget, f: unknown, path: string): string | undefined => {
    const compiled = compileFilter(rel.target, f, params)
    if (Either.isLeft(compiled)) {
      return fail(path === "" ? compiled.left.path : join(path, compiled.left.path), compiled.left.reason)
    }
    return compiled.right
  }
  const relationCondition = (rel: RelationTarget, cond: unknown, path: string): string | undefined => {
    if (!isPlainObject(cond)) return fail(path, rel.many ? "expected { some | every | none: filter }" : "expected a filter of the related model")
    if (!rel.many) {
      const inner = related(rel, cond, path)
      return inner === never ? never : rel.exists(inner)
    }
    const mark = params.mark
    const parts: Array<string | undefined> = []
    for (const [op, f] of Object.entries(cond)) {
      if (f === undefined) continue
      const at = join(path, op)
      if (op !== "some" && op !== "every" && op !== "none") return fail(at, "expected some, every or none")
      const inner = related(rel, f, at)
      if (op === "some") parts.push(inner === never ? never : rel.exists(inner))
      else if (op === "none") parts.push(inner === never ? undefined : `NOT ${rel.exists(inner)}`)
      // every related row meets it: none fails it (a comparison with NULL fails)
      else parts.push(inner === undefined ? undefined : `NOT ${rel.exists(inner === never ? undefined : `NOT COALESCE(${inner}, FALSE)`)}`)
    }
    return joinParts(parts, " AND ", mark)
  }

  const node = (f: unknown, path: string, depth: number): string | undefined => {
    if (f === undefined) return undefined
    if (depth > limits.depth) return fail(path, `filters nest at most ${limits.depth} levels deep`)
    if (!isPlainObject(f)) return fail(path, "a filter must be an object")
    const mark = params.mark
    const parts: Array<string | undefined> = []
    for (const [key, cond] of Object.entries(f)) {
      if (cond === undefined) continue
      const at = join(path, key)
      if (key === "$and") parts.push(group(at, cond, " AND ", depth))
      else if (key === "$or") parts.push(group(at, cond, " OR ", depth))
      else if (key === "$not") {
        const inner = node(cond, at, depth + 1)
        // two-valued logic: a comparison with NULL counts as false before it is negated
        parts.push(inner === undefined ? never : inner === never ? undefined : `NOT COALESCE(${inner}, FALSE)`)
      } else if (key.startsWith("$")) return fail(at, "unknown operator")
      else {
        const info = target.field(key)
        const rel = info === undefined ? target.relation?.(key) : undefined
        if (info === undefined && rel === undefined) return fail(at, "unknown field")
        countedCondition(at)
        parts.push(info !== undefined ? field(info, cond, at) : relationCondition(rel!, cond, at))
      }
    }
    return joinParts(parts, " AND ", mark)
  }

  try {
    return Either.right(node(filter, "", 0))
  } catch (error) {
    if (error instanceof InvalidFilter) return Either.left(error)
    throw error
  }
}


const valueOps = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])

/**
 * Sets an own property: `o["__proto__"] = x` on a plain object would set its prototype and
 * drop the key, silently changing what a filter says.
 */
const setOwn = (o: Record<string, unknown>, key: string, value: unknown) => {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true })
}

/**
 * JSON-array elements decoded as a list of the field's own type (its schema decodes arrays);
 * left as they are when that fails, for the compiler to name what is wrong.
 */
const elementsOf = (decode: (encoded: unknown) => unknown, list: ReadonlyArray<unknown>): ReadonlyArray<unknown> | undefined => {
  try {
    const decoded = decode(list)
    return Array.isArray(decoded) && decoded.length === list.length ? decoded : undefined
  } catch {
    return undefined
  }
}

/**
 * Turns an untyped filter (for example parsed from JSON, where dates, bigints and decimals are
 * strings) into a typed one: every value is decoded with its field's own schema. Keys are not
 * judged here — `compile` rejects unknown fields and operators with their path.
 * @internal
 */
export const decodeValues = (
  target: { readonly model: string; readonly operation: string },
  decodeField: (field: string) => ((encoded: unknown) => unknown) | undefined,
  filter: unknown
): Either.Either<unknown, InvalidFilter> => {
  const fail = (path: string): never => {
    throw new InvalidFilter({ model: target.model, operation: target.operation, path, reason: "value does not match the field's type" })
  }
  const decodeAt = (decode: (encoded: unknown) => unknown, v: unknown, path: string) => {
    if (v === null) return null
    try {
      return decode(v)
    } catch {
      return fail(path)
    }
  }
  const walk = (f: unknown, path: string, depth: number): unknown => {
    if (!isPlainObject(f) || depth > limits.depth) return f
    const out: Record<string, unknown> = {}
    for (const [key, cond] of Object.entries(f)) {
      const at = path === "" ? key : `${path}.${key}`
      if (key === "$and" || key === "$or") {
        setOwn(out, key, Array.isArray(cond) ? cond.map((c, i) => walk(c, `${at}[${i}]`, depth + 1)) : cond)
        continue
      }
      if (key === "$not") {
        setOwn(out, key, walk(cond, at, depth + 1))
        continue
      }
      const decode = decodeField(key)
      if (decode === undefined) {
        setOwn(out, key, cond)
        continue
      }
      if (!isOperatorObject(cond)) {
        setOwn(out, key, cond === undefined ? cond : decodeAt(decode, cond, at))
        continue
      }
      // a path's operands are the JSON scalars stored there, not values of the field's type
      if ("$path" in cond) {
        setOwn(out, key, cond)
        continue
      }
      const ops: Record<string, unknown> = {}
      for (const [op, operand] of Object.entries(cond)) {
        const opAt = `${at}.${op}`
        setOwn(ops, op, valueOps.has(op)
          ? decodeAt(decode, operand, opAt)
          : (op === "$in" || op === "$nin") && Array.isArray(operand)
          ? operand.map((v, i) => decodeAt(decode, v, `${opAt}[${i}]`))
          : op === "$has"
          ? (elementsOf(decode, [operand]) ?? [operand])[0]
          : (op === "$hasAny" || op === "$hasAll") && Array.isArray(operand)
          ? elementsOf(decode, operand) ?? operand
          : operand)
      }
      setOwn(out, key, ops)
    }
    return out
  }
  try {
    return Either.right(walk(filter, "", 0))
  } catch (error) {
    if (error instanceof InvalidFilter) return Either.left(error)
    throw error
  }
}

