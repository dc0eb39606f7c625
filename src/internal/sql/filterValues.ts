/**
 * Filters from JSON made typed: every value decoded with its field's own schema (dates, bigints
 * and decimals arrive as strings), before the compiler judges the filter.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { InvalidFilter } from "../../Errors.js"
import { limits } from "../../Filter.js"
import { isOperatorObject, isPlainObject } from "./filterParts.js"

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
