/**
 * The shape of a node's output, as far as connections need it: which dotted paths exist. Model
 * nodes describe theirs from the model's fields; custom nodes derive it from their output
 * Schema's type side.
 * (Internal module: not part of the public API.)
 */
import * as SchemaAST from "effect/SchemaAST"

/** @internal */
export type Shape =
  | { readonly _tag: "object"; readonly fields: Readonly<Record<string, Shape>> }
  | { readonly _tag: "array"; readonly element: Shape }
  /** A value with no inner paths (a number, a string, a date). */
  | { readonly _tag: "value" }
  /** Anything: every path is accepted (checked when the value arrives). */
  | { readonly _tag: "any" }

/** @internal */
export const value: Shape = { _tag: "value" }
/** @internal */
export const any: Shape = { _tag: "any" }
/** @internal */
export const object = (fields: Readonly<Record<string, Shape>>): Shape => ({ _tag: "object", fields })
/** @internal */
export const array = (element: Shape): Shape => ({ _tag: "array", element })

/** The shape of a Schema's type side. @internal */
export const ofAst = (ast: SchemaAST.AST): Shape => {
  switch (ast._tag) {
    case "TypeLiteral":
      return ast.indexSignatures.length > 0
        ? any
        : object(Object.fromEntries(ast.propertySignatures.map((p) => [String(p.name), ofAst(p.type)])))
    case "TupleType":
      return ast.rest.length > 0 ? array(ofAst(ast.rest[0]!.type)) : any
    case "Transformation":
      return ofAst(ast.to)
    case "Refinement":
      return ofAst(ast.from)
    case "Suspend":
      return any
    case "Union": {
      const members = ast.types.filter((t) => !isNullish(t)).map(ofAst)
      return members.length === 1 ? members[0]! : members.every((s) => s._tag === "value") ? value : any
    }
    case "Declaration":
    case "UnknownKeyword":
    case "AnyKeyword":
    case "ObjectKeyword":
      return any
    default:
      return value
  }
}

const isNullish = (ast: SchemaAST.AST) =>
  (ast._tag === "Literal" && ast.literal === null) || ast._tag === "UndefinedKeyword" || ast._tag === "VoidKeyword"

/** Splits a dotted path (`result.records.0.id`) into segments; `""` is the whole value. @internal */
export const segments = (path: string): ReadonlyArray<string> => (path === "" ? [] : path.split("."))

/** Whether `path` can exist in a value of this shape; the first segment that cannot, if not. @internal */
export const missingSegment = (shape: Shape, path: ReadonlyArray<string>): number | undefined => {
  let current = shape
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!
    switch (current._tag) {
      case "any":
        return undefined
      case "value":
        return i
      case "array":
        if (!/^\d+$/.test(segment) && segment !== "length") return i
        current = segment === "length" ? value : current.element
        break
      case "object": {
        if (!Object.hasOwn(current.fields, segment)) return i
        current = current.fields[segment]!
      }
    }
  }
  return undefined
}

/** The value at a path (undefined where it is absent). @internal */
export const get = (value: unknown, path: ReadonlyArray<string>): unknown => {
  let current = value
  for (const segment of path) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, segment)) return undefined
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}

/**
 * A copy of `target` with `value` set at `path`, creating objects on the way (an array stays
 * an array where a segment is an index). @internal
 */
export const set = (target: unknown, path: ReadonlyArray<string>, value: unknown): unknown => {
  if (path.length === 0) return value
  const [head, ...rest] = path as [string, ...Array<string>]
  if (Array.isArray(target) && /^\d+$/.test(head)) {
    const copy = [...target]
    copy[Number(head)] = set(copy[Number(head)], rest, value)
    return copy
  }
  const base = typeof target === "object" && target !== null && !Array.isArray(target) ? target as Record<string, unknown> : {}
  return { ...base, [head]: set(base[head], rest, value) }
}
