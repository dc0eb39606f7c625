/**
 * Opaque keyset cursors: base64url JSON of the model, the ordering and the last row's sort
 * values (tagged so dates, bigints and decimals survive).
 * (Internal module: not part of the public API.)
 */
import { BigDecimal, Either } from "effect"
import { formatDecimal, parseDecimal } from "../Column.js"

const toJson = (v: unknown): unknown => {
  if (v instanceof Date) return { $d: v.toISOString() }
  if (typeof v === "bigint") return { $b: v.toString() }
  if (BigDecimal.isBigDecimal(v)) return { $n: formatDecimal(v) }
  return v
}

const fromJson = (v: unknown): unknown => {
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>
    if (typeof o.$d === "string") return new Date(o.$d)
    if (typeof o.$b === "string") return BigInt(o.$b)
    if (typeof o.$n === "string") return parseDecimal(o.$n)
  }
  return v
}

/** @internal */
export const encode = (model: string, order: string, values: ReadonlyArray<unknown>): string =>
  Buffer.from(JSON.stringify({ m: model, o: order, v: values.map(toJson) })).toString("base64url")

/** @internal */
export const decode = (cursor: string, model: string, order: string): Either.Either<ReadonlyArray<unknown>, string> => {
  let parsed: unknown
  try {
    if (typeof cursor !== "string" || !/^[A-Za-z0-9_-]*$/.test(cursor)) return Either.left("malformed")
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    return Either.left("malformed")
  }
  if (typeof parsed !== "object" || parsed === null) return Either.left("malformed")
  const { m, o, v } = parsed as { m?: unknown; o?: unknown; v?: unknown }
  if (m !== model) return Either.left("made by another model")
  if (o !== order) return Either.left("made for another ordering")
  if (!Array.isArray(v)) return Either.left("malformed")
  try {
    return Either.right(v.map(fromJson))
  } catch {
    return Either.left("malformed")
  }
}
