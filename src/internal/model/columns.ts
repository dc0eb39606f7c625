/**
 * From a model field's Effect Schema to a column: its kind, nullability, optionality and JSON
 * codec, read from the schema's AST (its type side, refinements and annotations included).
 * (Internal module: not part of the public API.)
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import type { Column, ColumnAnnotation, JsonElement, Kind } from "../../Column.js"
import { ColumnAnnotationId } from "../../Column.js"

const getColumnAnnotation = (ast: AST.Annotated): ColumnAnnotation | undefined =>
  Option.getOrUndefined(AST.getAnnotation<ColumnAnnotation>(ColumnAnnotationId)(ast))

const typeConstructorTag = (ast: AST.AST): string | undefined => {
  const tc = ast.annotations[AST.TypeConstructorAnnotationId] as { readonly _tag?: string } | undefined
  return tc?._tag
}

interface Analysis {
  readonly kind: Kind
  readonly nullable: boolean
  readonly optional: boolean
}

const analyzeType = (
  ast: AST.AST,
  hints: { maxLength?: number | undefined; integer: boolean; annotation: ColumnAnnotation }
): Analysis => {
  const annotation = getColumnAnnotation(ast)
  if (annotation !== undefined) hints = { ...hints, annotation: { ...annotation, ...hints.annotation } }
  switch (ast._tag) {
    case "Refinement": {
      const js = AST.getJSONSchemaAnnotation(ast).pipe(Option.getOrUndefined) as
        | { readonly type?: string; readonly maxLength?: number }
        | undefined
      const maxLength = js?.maxLength !== undefined
        ? Math.min(js.maxLength, hints.maxLength ?? Infinity)
        : hints.maxLength
      return analyzeType(ast.from, { ...hints, maxLength, integer: hints.integer || js?.type === "integer" })
    }
    case "Union": {
      const nullable = ast.types.some((t) => AST.isLiteral(t) && t.literal === null)
      const optional = ast.types.some(AST.isUndefinedKeyword)
      const rest = ast.types.filter((t) => !(AST.isLiteral(t) && t.literal === null) && !AST.isUndefinedKeyword(t))
      if (rest.length === 1) {
        const inner = analyzeType(rest[0]!, hints)
        return { kind: inner.kind, nullable: nullable || inner.nullable, optional: optional || inner.optional }
      }
      if (rest.length > 0 && rest.every((t) => AST.isLiteral(t) && typeof t.literal === "string")) {
        const values = rest.map((t) => (t as AST.Literal).literal as string)
        return { kind: { _tag: "enum", values }, nullable, optional }
      }
      return { kind: { _tag: "json" }, nullable, optional }
    }
    case "Literal":
      if (typeof ast.literal === "string") return plain({ _tag: "enum", values: [ast.literal] })
      if (typeof ast.literal === "boolean") return plain({ _tag: "boolean" })
      if (typeof ast.literal === "number") {
        return plain(Number.isInteger(ast.literal) ? { _tag: "integer" } : { _tag: "float" })
      }
      return plain({ _tag: "json" })
    case "Enums":
      if (ast.enums.every(([, v]) => typeof v === "string")) {
        return plain({ _tag: "enum", values: ast.enums.map(([, v]) => v as string) })
      }
      return plain({ _tag: "integer" })
    case "StringKeyword":
    case "TemplateLiteral":
      return plain({ _tag: "string", maxLength: hints.annotation.maxLength ?? hints.maxLength })
    case "NumberKeyword":
      return plain(hints.integer ? { _tag: "integer" } : { _tag: "float" })
    case "BooleanKeyword":
      return plain({ _tag: "boolean" })
    case "BigIntKeyword":
      return plain({ _tag: "bigint" })
    case "Declaration": {
      const tag = typeConstructorTag(ast)
      if (tag === "Date") return plain({ _tag: "datetime" })
      if (tag === "effect/BigDecimal") {
        return plain({ _tag: "decimal", precision: hints.annotation.precision, scale: hints.annotation.scale })
      }
      throw new TypeError(`effect-dataflow: fields of type ${String(ast)} cannot be stored; use a JSON-encodable schema`)
    }
    case "TupleType":
      // an array of one scalar type: the JSON-array filter operators apply
      return plain(
        ast.elements.length === 0 && ast.rest.length === 1
          ? { _tag: "json", element: scalarElement(ast.rest[0]!.type) }
          : { _tag: "json" }
      )
    case "TypeLiteral":
    case "Suspend":
      return plain({ _tag: "json" })
    // null is one of their values: stored as NULL, so the column is nullable
    case "UnknownKeyword":
    case "AnyKeyword":
      return { kind: { _tag: "json" }, nullable: true, optional: false }
    default:
      throw new TypeError(`effect-dataflow: fields of type ${String(ast)} cannot be stored`)
  }
}

/** The scalar type every value of `ast` has (string, number or boolean), if it has one. */
const scalarElement = (ast: AST.AST): JsonElement | undefined => {
  switch (ast._tag) {
    case "Refinement":
      return scalarElement(ast.from)
    case "StringKeyword":
    case "TemplateLiteral":
      return "string"
    case "NumberKeyword":
      return "number"
    case "BooleanKeyword":
      return "boolean"
    case "Literal": {
      const t = typeof ast.literal
      return t === "string" || t === "number" || t === "boolean" ? t : undefined
    }
    case "Enums": {
      const types = new Set(ast.enums.map(([, v]) => typeof v))
      return types.size === 1 ? (types.has("string") ? "string" : "number") : undefined
    }
    case "Union": {
      const types = new Set(ast.types.map(scalarElement))
      return types.size === 1 ? [...types][0] : undefined
    }
    default:
      return undefined
  }
}

const plain = (kind: Kind): Analysis => ({ kind, nullable: false, optional: false })

const fieldAst = (field: Schema.Struct.Field): AST.AST => {
  if (!Schema.isPropertySignature(field)) return field.ast
  const ast = field.ast
  return ast._tag === "PropertySignatureDeclaration" ? ast.type : ast.from.type
}

/**
 * The column annotation declared on a field's own schema. `AST.typeAST` drops the annotations
 * of a transformation (`Schema.BigDecimal.pipe(annotate(…))`, `Schema.Date.pipe(annotate(…))`),
 * so they are read before the type side is taken; the outermost annotation wins.
 */
const declaredAnnotation = (ast: AST.AST): ColumnAnnotation | undefined => {
  const inner = ast._tag === "Transformation"
    ? declaredAnnotation(ast.to)
    : ast._tag === "Refinement"
    ? declaredAnnotation(ast.from)
    : ast._tag === "Union"
    ? ast.types.map(declaredAnnotation).find((a) => a !== undefined)
    : undefined
  const own = getColumnAnnotation(ast)
  return own === undefined ? inner : { ...inner, ...own }
}

/** A database default fits its column: a string for text, a finite number for a number, a boolean for a boolean. */
const checkDefault = (field: string, kind: Kind, value: string | number | boolean) => {
  const expected = kind._tag === "string" || kind._tag === "enum"
    ? "string"
    : kind._tag === "integer" || kind._tag === "float" || kind._tag === "decimal"
    ? "number"
    : kind._tag === "boolean"
    ? "boolean"
    : undefined
  const fits = typeof value === expected && (typeof value !== "number" || Number.isFinite(value)) &&
    (kind._tag !== "enum" || kind.values.includes(String(value))) && (kind._tag !== "integer" || Number.isInteger(value))
  if (!fits) {
    throw new TypeError(
      `effect-dataflow: the default of ${field} (${JSON.stringify(value)}) does not fit its ${kind._tag} column${
        expected === undefined ? " (a database default is declared for text, numeric and boolean columns)" : ""
      }`
    )
  }
}

/**
 * Reads the columns of a struct's fields.
 * @internal
 */
export const fromFields = (
  fields: Schema.Struct.Fields,
  typeAst: AST.AST,
  columnName: (field: string) => string
): ReadonlyArray<Column> =>
  AST.getPropertySignatures(typeAst).map((ps): Column => {
    const field = String(ps.name)
    const psAnnotation = { ...declaredAnnotation(fieldAst(fields[field]!)), ...getColumnAnnotation(ps) }
    const analysis = analyzeType(ps.type, { maxLength: undefined, integer: false, annotation: psAnnotation })
    const annotation = { ...getColumnAnnotation(ps.type), ...psAnnotation }
    const codec = jsonCodec(fields, field)
    if (annotation.default !== undefined) checkDefault(field, analysis.kind, annotation.default)
    return {
      field,
      name: annotation.name ?? columnName(field),
      kind: analysis.kind,
      nullable: analysis.nullable,
      optional: analysis.optional || ps.isOptional,
      ...(annotation.default === undefined ? {} : { default: annotation.default }),
      jsonEncode: (value) => (codec().encode({ [field]: value }) as Record<string, unknown>)[field],
      jsonDecode: (value) => (codec().decode({ [field]: value }) as Record<string, unknown>)[field]
    }
  })

/** A field's own encoder and decoder (its key's optionality kept), made on first use. */
interface FieldCodec {
  readonly encode: (record: Record<string, unknown>) => unknown
  readonly decode: (u: unknown) => unknown
}
const jsonCodec = (fields: Schema.Struct.Fields, field: string): () => FieldCodec => {
  let codec: FieldCodec | undefined
  return () => {
    if (codec === undefined) {
      // model fields need no services: a model is declared without requirements
      const one = Schema.Struct({ [field]: fields[field]! }) as unknown as Schema.Schema<
        Record<string, unknown>,
        Record<string, unknown>
      >
      codec = { encode: Schema.encodeSync(one), decode: Schema.decodeUnknownSync(one) }
    }
    return codec
  }
}

/** A column the library manages (timestamps, soft-delete stamp, version, tenant). @internal */
export const managedColumn = (field: string, name: string, kind: Kind, nullable = false): Column => ({
  field,
  name,
  kind,
  nullable,
  optional: false,
  jsonEncode: (v) => v,
  // managed values arriving as JSON (a filter from an HTTP query): ISO dates
  jsonDecode: kind._tag === "datetime" ? (v) => (typeof v === "string" ? new Date(v) : v) : (v) => v
})

