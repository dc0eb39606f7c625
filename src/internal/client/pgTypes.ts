/**
 * The type parsers of the library's PostgreSQL pools: `timestamptz` text read by a parser of
 * its own instead of node-postgres's general one (a fifth of a `read`'s CPU time in the
 * profile of scripts/hot-path.ts, for the two timestamps of a row). Everything else, and any
 * text the fast parser does not recognise (years before 1000, BC dates, `infinity`), goes to
 * node-postgres's own parser: the values are the same Dates either way (test/pg-types.test.ts
 * compares the two).
 * (Internal module: not part of the public API.)
 */
import Pg from "pg"

const TIMESTAMPTZ = 1184

const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -1000
}
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1)

/**
 * `2024-01-02 03:04:05.678901+00`, `… 03:04:05+05:30`, `…-08`: PostgreSQL's ISO output of a
 * `timestamptz` (any session time zone), fractions truncated to the millisecond as
 * node-postgres does. Undefined for anything else.
 * @internal
 */
export const parseTimestamptz = (s: string): Date | undefined => {
  const n = s.length
  if (n < 22 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32) return undefined
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined
  const year = two(s, 0) * 100 + two(s, 2)
  const month = two(s, 5)
  const day = two(s, 8)
  const hour = two(s, 11)
  const minute = two(s, 14)
  const second = two(s, 17)
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23) return undefined
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return undefined
  let i = 19
  let ms = 0
  if (s.charCodeAt(i) === 46) {
    i++
    let scale = 100
    while (i < n && digit(s, i) >= 0) {
      ms += digit(s, i) * scale
      scale /= 10
      i++
    }
    ms = Math.trunc(ms)
  }
  const sign = s.charCodeAt(i)
  if (sign !== 43 && sign !== 45) return undefined
  const offsetHours = two(s, i + 1)
  let offsetMinutes = 0
  let offsetSeconds = 0
  let end = i + 3
  if (end < n && s.charCodeAt(end) === 58) {
    offsetMinutes = two(s, end + 1)
    end += 3
    if (end < n && s.charCodeAt(end) === 58) {
      offsetSeconds = two(s, end + 1)
      end += 3
    }
  }
  if (end !== n || offsetHours < 0 || offsetMinutes < 0 || offsetSeconds < 0) return undefined
  const offset = (sign === 45 ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60 + offsetSeconds) * 1000
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  const check = new Date(local)
  // Date.UTC rolls an impossible day over (February 30th): the text was not a date
  if (check.getUTCDate() !== day) return undefined
  return new Date(local - offset)
}

/** The fast `timestamptz` parser over node-postgres's current one, made again only when that one changes. */
let wrapped: { readonly general: (text: string) => unknown; readonly parse: (text: string) => unknown } | undefined

/**
 * node-postgres's type parsers, `timestamptz` through {@link parseTimestamptz} first. node-postgres
 * asks for the parser of every column of every result: the `timestamptz` one is not a new closure
 * each time.
 * @internal
 */
export const types: Pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    const general = Pg.types.getTypeParser(oid, format as "text")
    if (oid !== TIMESTAMPTZ || (format !== undefined && format !== "text")) return general
    if (wrapped === undefined || wrapped.general !== general) {
      wrapped = { general, parse: (text: string) => parseTimestamptz(text) ?? general(text) }
    }
    return wrapped.parse
  }) as Pg.CustomTypesConfig["getTypeParser"]
}
