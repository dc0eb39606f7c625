/**
 * Values and records compared as the databases compare them: dates by instant, decimals by
 * value, bigints by value, JSON by content (key order ignored), a missing optional field equal
 * to an absent one.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import { formatDecimal } from "../model/storage.js"

/**
 * A plain JSON-compatible form of a value in which equal stored values are equal: dates as
 * ISO text, decimals as normalised text, bigints as text, -0 kept apart from 0 (a database
 * that turned one into the other did not store the value exactly), object keys sorted.
 * @internal
 */
export const canonical = (value: unknown): unknown => {
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString() }
  if (BigDecimal.isBigDecimal(value)) return { $decimal: formatDecimal(value) }
  if (typeof value === "bigint") return { $bigint: value.toString() }
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) }
  if (Object.is(value, -0)) return { $number: "-0" }
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value).sort().flatMap((k) => {
        const v = (value as Record<string, unknown>)[k]
        return v === undefined ? [] : [[k, canonical(v)]]
      })
    )
  }
  return value
}

/** Two values (records, fields) are stored alike. @internal */
export const equivalent = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))

/**
 * The key of a unique constraint's values as the databases compare them (0 and -0 alike),
 * undefined when a value is NULL (NULLs never collide in a unique index).
 * @internal
 */
export const uniqueKey = (row: Record<string, unknown>, fields: ReadonlyArray<string>): string | undefined => {
  const parts: Array<unknown> = []
  for (const f of fields) {
    const v = row[f]
    if (v === null || v === undefined) return undefined
    parts.push(canonical(v === 0 ? 0 : v))
  }
  return JSON.stringify(parts)
}
