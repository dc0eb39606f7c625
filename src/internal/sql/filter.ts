/**
 * The filter language compiled to SQL: a filter (validated against the model as it is read,
 * every rejection naming its path) becomes one boolean expression with bound values that gives
 * the same answer on every database; constants fold, so "every row" and "no row" are known.
 * The operators of JSON fields are in jsonFilter.ts; decoding a filter's values from JSON in
 * filterValues.ts.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { InvalidFilter } from "../../Errors.js"
import { limits } from "../../Filter.js"
import { storageCheck } from "../model/storage.js"
import type { Params } from "./params.js"
import { literal, parsePattern } from "../dialect/pattern.js"
import type { Compiler, FieldInfo, RelationTarget, Target } from "./filterParts.js"
import { isOperatorObject, isPlainObject, join, never, textKind } from "./filterParts.js"
import { jsonArray, jsonArrayOps, jsonOnly, jsonPath } from "./jsonFilter.js"

export type { FieldInfo, RelationTarget, Target } from "./filterParts.js"
export { never } from "./filterParts.js"

const comparisonOps = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null"])
const textOps = new Set(["$like", "$ilike", "$startsWith", "$endsWith", "$contains"])
const textKinds = new Set(["string", "enum"])

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

  const compiler: Compiler = { dialect, params, placeholder, fail, counted, joinParts }

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
    if (info.kind._tag === "json" && "$path" in cond) return jsonPath(compiler, info, cond, path)
    if ("$path" in cond) return fail(join(path, "$path"), "$path applies to JSON fields only")
    const mark = params.mark
    const parts: Array<string | undefined> = []
    for (const [op, operand] of Object.entries(cond)) {
      const at = join(path, op)
      if (operand === undefined) continue
      if (info.kind._tag === "json" && op !== "$null") {
        if (!jsonArrayOps.has(op) || info.kind.element === undefined) return fail(at, jsonOnly)
        parts.push(jsonArray(compiler, info, info.kind.element, op, operand, at))
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
        parts.push(dialect.like(q, placeholder(dialect.likePattern(tokens, insensitive)), insensitive, tokens, placeholder))
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
