/**
 * What the three dialects share: quoting, value codecs, date parsing, LIKE/GLOB pattern
 * escaping, CREATE TABLE pieces, identifier fitting, and the classification of the failures
 * every driver reports alike (lost connections, pool timeouts).
 * (Internal module: not part of the public API.)
 */
import type * as BigDecimal from "effect/BigDecimal"
import type { Column } from "../../Column.js"
import type { Codec, Dialect, ExactSum, Failure, ForeignKeySpec, TableSpec } from "./dialect.js"
import { formatDecimal, parseDecimal } from "../model/storage.js"
import type { PatternToken } from "./pattern.js"

/** The SQL of each isolation level. */
export const isolationSql = {
  "read committed": "READ COMMITTED",
  "repeatable read": "REPEATABLE READ",
  "serializable": "SERIALIZABLE"
} as const

/** A text literal (only for values the library itself writes into DDL: enum members). */
export const sqlLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`

export const doubleQuote = (id: string) => `"${id.replace(/"/g, "\"\"")}"`
export const backtick = (id: string) => `\`${id.replace(/`/g, "``")}\``

/** The number in `text` at [from, to), or -1 when a character is not a digit. */
export const digitsAt = (text: string, from: number, to: number): number => {
  let n = 0
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/**
 * Reads the UTC timestamps the library writes, without the general date parser:
 * `2024-01-02T03:04:05.678Z` (SQLite) and `2024-01-02 03:04:05.678000` (MySQL's DATE_FORMAT,
 * digits below the millisecond dropped). Undefined for anything else (the caller's parser
 * decides then).
 */
export const parseUtc = (raw: unknown): Date | undefined => {
  if (typeof raw !== "string" || raw.length < 23) return undefined
  const sep = raw.charCodeAt(10)
  if (
    raw.charCodeAt(4) !== 45 || raw.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 32) ||
    raw.charCodeAt(13) !== 58 || raw.charCodeAt(16) !== 58 || raw.charCodeAt(19) !== 46
  ) return undefined
  // after the milliseconds: "Z" (ISO) or more fraction digits (MySQL)
  const rest = raw.length === 24 && raw.charCodeAt(23) === 90 ? -2 : digitsAt(raw, 23, raw.length)
  if (rest === -1 || (rest === -2) !== (sep === 84)) return undefined
  const year = digitsAt(raw, 0, 4)
  const month = digitsAt(raw, 5, 7)
  const day = digitsAt(raw, 8, 10)
  const hour = digitsAt(raw, 11, 13)
  const minute = digitsAt(raw, 14, 16)
  const second = digitsAt(raw, 17, 19)
  const ms = digitsAt(raw, 20, 23)
  if (
    year < 1000 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
    minute > 59 || second < 0 || second > 59 || ms < 0
  ) return undefined
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms))
  return date.getUTCDate() === day ? date : undefined
}

export const toNumber = (raw: unknown) => (typeof raw === "number" ? raw : Number(raw))
export const noNegativeZero = (v: unknown) => (Object.is(v, -0) ? 0 : v)
export const decimalCodec: Codec = {
  toDb: (v) => formatDecimal(v as BigDecimal.BigDecimal),
  fromDb: parseDecimal
}
/**
 * An exact sum where the database sums integers and decimals exactly (PostgreSQL's NUMERIC,
 * MySQL's DECIMAL results): one `SUM`, read as text so no driver rounds it.
 */
export const textSum = (asText: (expression: string) => string) => (_kind: unknown, quoted: string): ExactSum => ({
  parts: [asText(`SUM(${quoted})`)],
  read: ([raw]) => (raw === null || raw === undefined ? null : parseDecimal(raw))
})

export const stringCodec: Codec = { toDb: (v) => v, fromDb: (raw) => (typeof raw === "string" ? raw : String(raw)) }
export const parseJsonIfText: Codec = {
  toDb: (v) => JSON.stringify(v),
  fromDb: (raw) => (typeof raw === "string" ? JSON.parse(raw) : raw)
}

export const pad = (n: number, width = 2) => String(n).padStart(width, "0")
/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: the literal MySQL DATETIME(3) stores. */
export const mysqlDatetime = (d: Date) =>
  `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`

/** LIKE patterns use `!` as the escape character: it needs no escaping in any SQL dialect's literal. */
export const likeEscaped = (tokens: ReadonlyArray<PatternToken>) =>
  tokens.map((t) => t._tag === "any" ? "%" : t._tag === "one" ? "_" : /[!%_]/.test(t.value) ? `!${t.value}` : t.value).join("")
/** GLOB is SQLite's case-sensitive matcher; its metacharacters are escaped with brackets. */
export const globEscaped = (tokens: ReadonlyArray<PatternToken>) =>
  tokens.map((t) => t._tag === "any" ? "*" : t._tag === "one" ? "?" : /[*?[]/.test(t.value) ? `[${t.value}]` : t.value).join("")

/** The (qualified) table name and the column and constraint definitions of CREATE TABLE. */
export const tableDefinition = (
  spec: TableSpec,
  options: {
    readonly quote: (id: string) => string
    readonly type: (column: Column) => string
    /** The whole definition of a generated integer primary key after its name. */
    readonly autoIncrement: string
    /** What a nullable column says (MySQL wants an explicit NULL). */
    readonly nullable: string
  }
) => {
  const q = options.quote
  const defs = spec.columns.map((c) =>
    c === spec.primaryKey && spec.autoIncrement
      ? `${q(c.name)} ${options.autoIncrement}`
      : columnDefinition(c, options)
  )
  if (!spec.autoIncrement) defs.push(`PRIMARY KEY (${primaryKeyColumns(spec).map(q).join(", ")})`)
  for (const u of spec.uniques) defs.push(`CONSTRAINT ${q(u.name)} UNIQUE (${u.columns.map(q).join(", ")})`)
  for (const fk of spec.foreignKeys ?? []) defs.push(foreignKeyClause(fk, q))
  const table = spec.schema === undefined ? q(spec.table) : `${q(spec.schema)}.${q(spec.table)}`
  return { table, defs }
}

/** One column's definition: name, type, nullability, the CHECK of an enum. */
export const columnDefinition = (
  c: Column,
  options: { readonly quote: (id: string) => string; readonly type: (column: Column) => string; readonly nullable: string }
) =>
  `${options.quote(c.name)} ${options.type(c)}${c.default === undefined ? "" : ` DEFAULT ${defaultLiteral(c.default)}`}${
    c.nullable || c.optional ? options.nullable : " NOT NULL"
  }${checkClause(c, options.quote, sqlLiteral)}`

/** A declared default as SQL: TRUE / FALSE are keywords on every database (SQLite since 3.23). */
export const defaultLiteral = (value: string | number | boolean): string =>
  typeof value === "string" ? sqlLiteral(value) : typeof value === "number" ? String(value) : value ? "TRUE" : "FALSE"

/** A parenthesised type argument list (`(12,2)`) read from a type text. */
export const typeArgs = (type: string): ReadonlyArray<number> => {
  const m = /\(([\d,\s]+)\)/.exec(type)
  return m === null ? [] : m[1]!.split(",").map((n) => Number(n.trim()))
}

const referentialActions = { cascade: "CASCADE", restrict: "RESTRICT", setNull: "SET NULL", noAction: "NO ACTION" } as const

/** `CONSTRAINT … FOREIGN KEY (…) REFERENCES … (…) ON DELETE … ON UPDATE …`: the same text on every database. */
export const foreignKeyClause = (fk: ForeignKeySpec, q: (id: string) => string): string =>
  `CONSTRAINT ${q(fk.name)} FOREIGN KEY (${fk.columns.map(q).join(", ")}) REFERENCES ${
    fk.schema === undefined ? q(fk.table) : `${q(fk.schema)}.${q(fk.table)}`
  } (${fk.references.map(q).join(", ")}) ON DELETE ${referentialActions[fk.onDelete]} ON UPDATE ${referentialActions[fk.onUpdate]}`

export const primaryKeyColumns = (spec: TableSpec): ReadonlyArray<string> => {
  const key = spec.compositeKey === undefined ? [spec.primaryKey.name] : spec.compositeKey.map((c) => c.name)
  return spec.tenantColumn === undefined ? key : [spec.tenantColumn, ...key]
}

/**
 * `ON CONFLICT [(…)] DO NOTHING` (PostgreSQL, SQLite): a row that would violate a unique
 * constraint (the one on `conflict`, or any) is left out; other violations still fail.
 * @internal
 */
export const onConflictSkip = (conflict: ReadonlyArray<string> | undefined) =>
  conflict === undefined ? " ON CONFLICT DO NOTHING" : ` ON CONFLICT (${conflict.join(", ")}) DO NOTHING`

/** `ON CONFLICT (…) DO UPDATE SET …` (SQLite and PostgreSQL). */
export const onConflictUpdate = (conflict: ReadonlyArray<string>, sets: ReadonlyArray<string>) =>
  ` ON CONFLICT (${conflict.join(", ")}) DO UPDATE SET ${sets.join(", ")}`

/** The value a conflicting INSERT proposed for a column (SQLite and PostgreSQL). */
export const excluded = (quoted: string) => `excluded.${quoted}`

/** FNV-1a: a stable 32-bit hash of a text (signed, as PostgreSQL's int4). */
export const hash32 = (text: string): number => {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h | 0
}

/** The first key of the library's advisory locks ("df" + 1): apart from an application's own. */
export const ddlLockSpace = 0x64660001

export const fitIdentifier = (name: string, max: number): string => {
  if (name.length <= max) return name
  const suffix = (hash32(name) >>> 0).toString(16).padStart(8, "0")
  return `${name.slice(0, max - 9)}_${suffix}`
}

/** A constraint or index name that fits the database's identifier length. */
export const constraintName = (dialect: Dialect, prefix: string, table: string, columns: ReadonlyArray<string>) =>
  fitIdentifier(`${prefix}_${table}_${columns.join("_")}`, dialect.maxIdentifierLength)

export const driverCode = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const code = (cause as { code?: unknown }).code
  return typeof code === "string" ? code : typeof code === "number" ? String(code) : undefined
}
export const driverMessage = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && typeof (cause as { message?: unknown }).message === "string"
    ? (cause as { message: string }).message
    : ""

export const other = (code: string | undefined, retryable: boolean): Failure => ({
  kind: "other",
  code,
  constraint: undefined,
  columns: [],
  retryable,
  connectionLost: false
})

/** A statement naming a table or column the database does not have. */
export const missing = (code: string | undefined, table: string | undefined, column: string | undefined): Failure => ({
  ...other(code, false),
  missing: { table, column }
})

export const constraint = (
  kind: "unique" | "foreignKey" | "notNull",
  code: string | undefined,
  name: string | undefined,
  columns: ReadonlyArray<string>
): Failure => ({ kind, code, constraint: name, columns, retryable: false, connectionLost: false })

/** Codes of a lost connection: the operating system's, the drivers', PostgreSQL's class 08 and 57P0x. */
export const lostCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_SERVER_SHUTDOWN",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "08007"
])
/** Driver messages of a lost connection that carry no code (node-postgres, mysql2). */
export const lostMessage =
  /connection terminated|connection (is |was )?(closed|ended|lost)|not queryable|closed state|socket hang up|server closed the connection/i

/**
 * The failures every dialect shares: a lost connection, and a wait for a pool connection
 * that took longer than the pool's acquire timeout (nothing ran: retryable).
 */
export const shared = (code: string | undefined, message: string, cause: unknown): Failure | undefined => {
  if (code === "POOL_TIMEOUT" || /timeout exceeded when trying to connect/i.test(message)) {
    return other("POOL_TIMEOUT", true)
  }
  const fatal = typeof cause === "object" && cause !== null && (cause as { readonly fatal?: unknown }).fatal === true
  if ((code !== undefined && lostCodes.has(code)) || lostMessage.test(message) || (fatal && code === undefined)) {
    return { ...other(code ?? "CONNECTION_LOST", false), connectionLost: true }
  }
  return undefined
}

export const checkClause = (column: Column, quote: (s: string) => string, literal: (s: string) => string): string =>
  column.kind._tag === "enum"
    ? ` CHECK (${quote(column.name)} IN (${column.kind.values.map(literal).join(", ")}))`
    : ""

