/**
 * What every database can store exactly, checked before any SQL runs (finite floats, dates in
 * the range MySQL's DATETIME holds, 64-bit bigints, decimals within their column, well-formed
 * text without NUL, JSON without `__proto__` keys), and the decimal text forms.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import type { Column, Kind } from "../../Column.js"

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
      const { precision, scale } = decimalBounds(kind)
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

/**
 * The digits a decimal column holds: its DECIMAL(p, s) (default 65, 30, MySQL's widest) on
 * every database, so a value is never rounded on one and refused on another.
 * @internal
 */
export const decimalBounds = (
  kind: { readonly precision: number | undefined; readonly scale: number | undefined }
): { readonly precision: number; readonly scale: number } => ({
  precision: kind.precision ?? 65,
  scale: kind.scale ?? (kind.precision === undefined ? 30 : 0)
})

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
