/**
 * SQLite: the embedded default. No exact decimal type (decimals are order-preserving text),
 * dates as ISO-8601 text, GLOB for case-sensitive patterns, one writer at a time.
 * (Internal module: not part of the public API.)
 */
import type { BigDecimal } from "effect"
import type { Column, Kind } from "../../Column.js"
import type { Codec, Dialect } from "./dialect.js"
import { sortableDecimal } from "../model/storage.js"
import {
  constraint,
  doubleQuote,
  excluded,
  driverCode,
  driverMessage,
  globEscaped,
  likeEscaped,
  noNegativeZero,
  missing,
  onConflictSkip,
  onConflictUpdate,
  other,
  parseJsonIfText,
  parseUtc,
  shared,
  stringCodec,
  tableDefinition,
  toNumber
} from "./common.js"

const sqliteCodec = (kind: Kind): Codec => {
  switch (kind._tag) {
    case "integer":
      return { toDb: (v) => v, fromDb: toNumber }
    case "float":
      return { toDb: noNegativeZero, fromDb: toNumber }
    case "boolean":
      return { toDb: (v) => (v ? 1 : 0), fromDb: (raw) => raw === 1 || raw === 1n || raw === true }
    case "datetime":
      return { toDb: (v) => (v as Date).toISOString(), fromDb: (raw) => parseUtc(raw) ?? new Date(raw as string) }
    case "bigint":
      return { toDb: (v) => v, fromDb: (raw) => BigInt(raw as number | bigint | string) }
    case "decimal":
      // no exact decimal type: order-preserving text, so comparisons and sorting are numeric
      return { toDb: (v) => sortableDecimal.encode(v as BigDecimal.BigDecimal), fromDb: sortableDecimal.decode }
    case "json":
      return parseJsonIfText
    case "string":
    case "enum":
      return stringCodec
  }
}

const sqliteType = (column: Column): string => {
  const k = column.kind
  switch (k._tag) {
    case "integer":
    case "bigint":
      return "INTEGER"
    case "float":
      return "REAL"
    case "boolean":
      return "INTEGER"
    default:
      return "TEXT"
  }
}

/** SQLite: the embedded default. @internal */
export const sqlite: Dialect = {
  name: "sqlite",
  systemName: "sqlite",
  maxIdentifierLength: 128,
  maxParams: 32766,
  supportsReturning: true,
  supportsSchemas: false,
  readsBigintsAsNumbers: true,
  transactionalDdl: true,
  lockingRead: "",
  // one writer at a time: every transaction is serializable, whatever is asked
  begin: () => ["BEGIN"],
  // a client may remember that a statement failed to prepare (@effect/sql-sqlite-node does,
  // for minutes): once the table exists, the statement is run again unprepared
  retryUnprepared: (cause) => /no such (table|column)/.test(driverMessage(cause)),
  quote: doubleQuote,
  placeholder: () => "?",
  codec: sqliteCodec,
  selectExpr: (c) => doubleQuote(c.name),
  orderTerm: (q, d) => `${q} ${d === "asc" ? "ASC" : "DESC"}`,
  // SQLite's LIKE ignores ASCII case: GLOB is the case-sensitive match
  like: (q, param, ci) => (ci ? `${q} LIKE ${param} ESCAPE '!'` : `${q} GLOB ${param}`),
  likePattern: (tokens, ci) => (ci ? likeEscaped(tokens) : globEscaped(tokens)),
  literalMatch: (kind, q, bind) =>
    kind === "contains"
      ? `instr(${q}, ${bind()}) > 0`
      : kind === "start"
      ? `substr(${q}, 1, length(${bind()})) = ${bind()}`
      : `(length(${q}) >= length(${bind()}) AND substr(${q}, length(${q}) - length(${bind()}) + 1) = ${bind()})`,
  limitOffset: (limit, offset) =>
    limit === undefined && offset === undefined
      ? ""
      : ` LIMIT ${limit ?? -1}${offset === undefined ? "" : ` OFFSET ${offset}`}`,
  // decimals are kept as text (an order-preserving encoding): no arithmetic on them
  numericParam: (kind, param) =>
    kind._tag === "integer" || kind._tag === "bigint" || kind._tag === "float" ? param : undefined,
  onConflictUpdate,
  onConflictSkip,
  inserted: excluded,
  createTable: (spec) => {
    const { table, defs } = tableDefinition(spec, {
      quote: doubleQuote,
      type: sqliteType,
      autoIncrement: "INTEGER PRIMARY KEY AUTOINCREMENT",
      nullable: ""
    })
    return [
      `CREATE TABLE IF NOT EXISTS ${table} (${defs.join(", ")})`,
      ...spec.indexes.map((i) =>
        `CREATE INDEX IF NOT EXISTS ${doubleQuote(i.name)} ON ${table} (${i.columns.map(doubleQuote).join(", ")})`
      )
    ]
  },
  affectedRows: (raw) => Number((raw as { changes?: number }).changes ?? 0),
  insertId: (raw) => (raw as { lastInsertRowid?: unknown }).lastInsertRowid,
  classify: (cause) => {
    const code = driverCode(cause)
    const message = driverMessage(cause)
    const columnsOf = () => {
      const m = /constraint failed: (.*)$/.exec(message)
      return m === null ? [] : m[1]!.split(",").map((s) => s.trim().split(".").pop()!)
    }
    switch (code) {
      case "SQLITE_CONSTRAINT_PRIMARYKEY":
      case "SQLITE_CONSTRAINT_UNIQUE":
        return constraint("unique", code, undefined, columnsOf())
      case "SQLITE_CONSTRAINT_FOREIGNKEY":
        return constraint("foreignKey", code, undefined, [])
      // ON DELETE / ON UPDATE RESTRICT fails as a trigger would
      case "SQLITE_CONSTRAINT_TRIGGER":
        return /FOREIGN KEY constraint failed/.test(message) ? constraint("foreignKey", code, undefined, []) : other(code, false)
      case "SQLITE_CONSTRAINT_NOTNULL":
        return constraint("notNull", code, undefined, columnsOf())
      case "SQLITE_BUSY":
      case "SQLITE_BUSY_SNAPSHOT":
      case "SQLITE_LOCKED":
        return other(code, true)
      default: {
        const column = /no such column: (?:"?\w+"?\.)?"?([^"\s]+)"?/.exec(message) ?? /has no column named "?([^"\s]+)"?/.exec(message)
        const table = /no such table: (?:"?\w+"?\.)?"?([^"\s]+)"?/.exec(message) ?? /^table "?([^"\s]+)"? has no column/.exec(message)
        if (column !== null || table !== null) return missing(code, table?.[1], column?.[1])
        return shared(code, message, cause) ?? other(code, false)
      }
    }
  }
}

