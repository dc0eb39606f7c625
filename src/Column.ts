/**
 * From a model field's Effect Schema to a column: its kind (which decides the column type
 * per dialect and the codec), nullability, and the checks every database can enforce the
 * same way.
 *
 * @since 0.1.0
 */
import { BigDecimal, Option, Schema, SchemaAST as AST } from "effect"

/**
 * Annotation id for per-field column settings.
 *
 * @since 0.1.0
 * @category annotations
 */
export const ColumnAnnotationId: unique symbol = Symbol.for("effect-dataflow/Column")

/**
 * Per-field column settings, attached with {@link annotate}.
 *
 * @since 0.1.0
 * @category annotations
 */
export interface ColumnAnnotation {
  /** Column name; default: the field name in snake_case. */
  readonly name?: string
  /** Decimal precision and scale (`DECIMAL(p, s)`). */
  readonly precision?: number
  readonly scale?: number
  /** Maximum string length (VARCHAR(n)); default: read from `Schema.maxLength`. */
  readonly maxLength?: number
}

/**
 * Attaches column settings to a field schema.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Column } from "effect-dataflow"
 *
 * const price = Schema.BigDecimal.pipe(Column.annotate({ precision: 12, scale: 2 }))
 * ```
 *
 * @since 0.1.0
 * @category annotations
 */
export const annotate = (annotation: ColumnAnnotation) => <S extends Schema.Schema.Any>(self: S): S =>
  self.annotations({ [ColumnAnnotationId]: annotation }) as S

/**
 * The storage kind of a column: what its values are on the TypeScript side.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind =
  | { readonly _tag: "string"; readonly maxLength: number | undefined }
  | { readonly _tag: "integer" }
  | { readonly _tag: "float" }
  | { readonly _tag: "boolean" }
  | { readonly _tag: "datetime" }
  | { readonly _tag: "bigint" }
  | { readonly _tag: "decimal"; readonly precision: number | undefined; readonly scale: number | undefined }
  | { readonly _tag: "enum"; readonly values: ReadonlyArray<string> }
  | { readonly _tag: "json" }

/**
 * A column of a model's table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Column {
  /** Field name on the record. */
  readonly field: string
  /** Column name in the table. */
  readonly name: string
  readonly kind: Kind
  /** The value may be `null` (`Schema.NullOr`). */
  readonly nullable: boolean
  /** The key may be absent (`Schema.optional`); stored as NULL, read back as an absent key. */
  readonly optional: boolean
  /** For json columns: Type -> JSON-compatible encoded value, and back. */
  readonly jsonEncode: (value: unknown) => unknown
  readonly jsonDecode: (value: unknown) => unknown
}

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
    case "TypeLiteral":
    case "TupleType":
    case "Suspend":
    case "UnknownKeyword":
    case "AnyKeyword":
      return plain({ _tag: "json" })
    default:
      throw new TypeError(`effect-dataflow: fields of type ${String(ast)} cannot be stored`)
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

/**
 * Reads the columns of a struct's fields.
 * @internal
 */
export const fromFields = (
  fields: Schema.Struct.Fields,
  columnName: (field: string) => string
): ReadonlyArray<Column> => {
  const typeAst = AST.typeAST(Schema.Struct(fields).ast)
  return AST.getPropertySignatures(typeAst).map((ps): Column => {
    const field = String(ps.name)
    const psAnnotation = { ...declaredAnnotation(fieldAst(fields[field]!)), ...getColumnAnnotation(ps) }
    const analysis = analyzeType(ps.type, { maxLength: undefined, integer: false, annotation: psAnnotation })
    const annotation = { ...getColumnAnnotation(ps.type), ...psAnnotation }
    // model fields need no services: a model is declared without requirements
    const one = Schema.Struct({ [field]: fields[field]! }) as unknown as Schema.Schema<
      Record<string, unknown>,
      Record<string, unknown>
    >
    const encode = Schema.encodeSync(one)
    const decode = Schema.decodeUnknownSync(one)
    return {
      field,
      name: annotation.name ?? columnName(field),
      kind: analysis.kind,
      nullable: analysis.nullable,
      optional: analysis.optional || ps.isOptional,
      jsonEncode: (value) => (encode({ [field]: value }) as Record<string, unknown>)[field],
      jsonDecode: (value) => (decode({ [field]: value }) as Record<string, unknown>)[field]
    }
  })
}

/** A column the library manages (timestamps, soft-delete stamp, version). @internal */
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

/** Earliest and latest instants every database stores exactly (MySQL DATETIME's range). @internal */
export const minDate = Date.UTC(1000, 0, 1)
/** @internal */
export const maxDate = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const minInt64 = -(2n ** 63n)
const maxInt64 = 2n ** 63n - 1n

/**
 * Checks what the schema cannot express but every database needs: finite floats, real
 * dates in the storable range, 64-bit bigints, no NUL in text. Returns the reason, or
 * undefined when the value can be stored.
 * @internal
 */
export const storageCheck = (kind: Kind, value: unknown): string | undefined => {
  switch (kind._tag) {
    case "string":
    case "enum":
      if (typeof value !== "string") return undefined
      if (kind._tag === "string" && kind.maxLength !== undefined && value.length > kind.maxLength) {
        return `text is longer than the column's ${kind.maxLength} characters`
      }
      return textCheck(value)
    case "float":
    case "integer":
      return typeof value === "number" && !Number.isFinite(value) ? "number must be finite" : undefined
    case "datetime": {
      if (!(value instanceof Date)) return undefined
      const t = value.getTime()
      if (Number.isNaN(t)) return "invalid date"
      return t < minDate || t > maxDate ? "date must be between 1000-01-01 and 9999-12-31 (UTC)" : undefined
    }
    case "bigint":
      return typeof value === "bigint" && (value < minInt64 || value > maxInt64)
        ? "bigint must fit in a signed 64-bit integer"
        : undefined
    case "decimal": {
      if (!BigDecimal.isBigDecimal(value)) return undefined
      const d = BigDecimal.normalize(value)
      // the column's DECIMAL(p, s) (default 65, 30, MySQL's widest) on every database, so a
      // value is never rounded on one and refused on another
      const precision = kind.precision ?? 65
      const scale = kind.scale ?? (kind.precision === undefined ? 30 : 0)
      const digits = (d.value < 0n ? -d.value : d.value).toString().length
      const fraction = Math.max(0, d.scale)
      const integer = Math.max(0, digits - d.scale)
      if (fraction > scale) return `decimal has more than ${scale} digits after the point`
      return integer > precision - scale ? `decimal has more than ${precision - scale} digits before the point` : undefined
    }
    default:
      return undefined
  }
}

/** `String.prototype.isWellFormed` (Node.js 20+), the regular expression elsewhere. */
const wellFormed: (value: string) => boolean =
  typeof (String.prototype as { readonly isWellFormed?: unknown }).isWellFormed === "function"
    ? (value) => (value as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (value) => !loneSurrogate.test(value)

const textCheck = (value: string): string | undefined => {
  if (value.includes("\u0000")) return "text cannot contain the NUL character (U+0000)"
  // a lone surrogate cannot be encoded: every driver would store U+FFFD instead
  return wellFormed(value) ? undefined : "text must be well-formed Unicode (no lone surrogates)"
}

/**
 * Checks an encoded JSON value: finite numbers, storable text (PostgreSQL refuses NUL in
 * JSON, a non-finite number would come back as null).
 * @internal
 */
export const jsonCheck = (value: unknown, depth = 0): string | undefined => {
  if (depth > 256) return "JSON nests too deep"
  if (typeof value === "number") return Number.isFinite(value) ? undefined : "JSON numbers must be finite"
  if (typeof value === "string") return textCheck(value)
  if (typeof value !== "object" || value === null) return undefined
  for (const [k, v] of Object.entries(value)) {
    const bad = textCheck(k) ?? jsonCheck(v, depth + 1)
    if (bad !== undefined) return bad
  }
  return undefined
}

/**
 * Checks a JSON field's value as the caller gave it, then as it will be stored: a key named
 * `__proto__` (which `JSON.parse` makes, and which schemas and objects drop or turn into a
 * prototype) is refused rather than lost.
 * @internal
 */
export const jsonValueCheck = (column: Column, value: unknown): string | undefined =>
  protoKeyCheck(value, 0) ?? jsonCheck(column.jsonEncode(value))

const protoKeyCheck = (value: unknown, depth: number): string | undefined => {
  if (typeof value !== "object" || value === null || depth > 256) return undefined
  if (Object.prototype.hasOwnProperty.call(value, "__proto__")) return "JSON keys named __proto__ cannot be stored"
  for (const v of Object.values(value)) {
    const bad = protoKeyCheck(v, depth + 1)
    if (bad !== undefined) return bad
  }
  return undefined
}

/**
 * A BigDecimal as plain decimal text (never scientific notation), normalised.
 * @internal
 */
export const formatDecimal = (n: BigDecimal.BigDecimal): string => {
  const d = BigDecimal.normalize(n)
  if (d.scale <= 0) return (d.value * 10n ** BigInt(-d.scale)).toString()
  const negative = d.value < 0n
  const digits = (negative ? -d.value : d.value).toString().padStart(d.scale + 1, "0")
  const text = `${digits.slice(0, digits.length - d.scale)}.${digits.slice(digits.length - d.scale)}`
  return negative ? `-${text}` : text
}

/** @internal */
export const parseDecimal = (raw: unknown): BigDecimal.BigDecimal =>
  BigDecimal.normalize(BigDecimal.unsafeFromString(String(raw)))

/**
 * Decimals as text whose byte order is their numeric order, for SQLite (which has no exact
 * decimal type): `B` for zero; `C` + 5-digit biased exponent + digits for positives; `A` +
 * inverted exponent + nines' complement digits + `~` for negatives. Plain decimal text (a
 * table written by someone else) is still read.
 * @internal
 */
export const sortableDecimal = {
  encode: (n: BigDecimal.BigDecimal): string => {
    const d = BigDecimal.normalize(n)
    if (d.value === 0n) return "B"
    const negative = d.value < 0n
    const digits = (negative ? -d.value : d.value).toString()
    const exponent = digits.length - d.scale
    if (!negative) return `C${String(exponent + 50000).padStart(5, "0")}${digits}`
    const complement = Array.from(digits, (c) => String(9 - Number(c))).join("")
    return `A${String(49999 - exponent).padStart(5, "0")}${complement}~`
  },
  decode: (raw: unknown): BigDecimal.BigDecimal => {
    const text = String(raw)
    const tag = text[0]
    if (tag === "B" && text.length === 1) return BigDecimal.make(0n, 0)
    if ((tag === "C" || tag === "A") && /^[AC]\d{5}\d+~?$/.test(text)) {
      const biased = Number(text.slice(1, 6))
      if (tag === "C") {
        const digits = text.slice(6)
        return BigDecimal.normalize(BigDecimal.make(BigInt(digits), digits.length - (biased - 50000)))
      }
      const digits = Array.from(text.slice(6, -1), (c) => String(9 - Number(c))).join("")
      return BigDecimal.normalize(BigDecimal.make(-BigInt(digits), digits.length - (49999 - biased)))
    }
    return parseDecimal(raw)
  }
}
