/**
 * SQLite: the embedded default. No exact decimal type (decimals are order-preserving text),
 * dates as ISO-8601 text, GLOB for case-sensitive patterns, one writer at a time.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import type { Column, Kind } from "../../Column.js"
import type { Alter, Catalog, Codec, Dialect, ExactSum } from "./dialect.js"
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
  columnDefinition,
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

/**
 * A driver value as JSON that json_each reads back as the same SQL value: bigints as their
 * digits (exact 64-bit integers), and integral doubles beyond 2^53 in exponent form, which
 * SQLite reads as REAL — as digits it would read them as exact INTEGERs, unequal to the double.
 */
const jsonScalar = (v: unknown): string =>
  typeof v === "bigint"
    ? v.toString()
    : typeof v === "number" && Number.isInteger(v) && Math.abs(v) >= 2 ** 53
    ? v.toExponential()
    : JSON.stringify(v)

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

/** A summed part's value (read as text: exact whatever the client does with 64-bit integers). */
const part = (raw: unknown): bigint => BigInt(raw as string | number | bigint)

/**
 * SUM of 64-bit integers without overflow (SQLite's SUM fails beyond 2^63): the high and low
 * 32 bits summed apart (`x >> 32` is arithmetic, `x & 0xFFFFFFFF` non-negative), each sum
 * exact for up to 2^31 rows, joined in JS.
 */
const integerSum = (quoted: string): ExactSum => ({
  parts: [`CAST(SUM(${quoted} >> 32) AS TEXT)`, `CAST(SUM(${quoted} & 4294967295) AS TEXT)`],
  read: ([high, low]) =>
    high === null || high === undefined ? null : BigDecimal.make(part(high) * 4294967296n + part(low), 0)
})

/**
 * SUM of decimals, which SQLite keeps as order-preserving text (see `sortableDecimal`): each
 * value becomes, once per row (`perRow`), its sign tag and its unscaled integer (value ×
 * 10^scale, at most `precision` digits) as a fixed-width digit string — for negatives the
 * nines' complement of it, which the stored complement digits give directly. The parts sum its
 * 9-digit chunks as integers (exact for billions of rows), joined in JS. Values the library
 * did not write (plain decimal text) are not summed.
 */
const decimalSum = (kind: Extract<Kind, { readonly _tag: "decimal" }>, q: string, row: string): ExactSum => {
  const precision = kind.precision ?? 65
  const scale = kind.scale ?? (kind.precision === undefined ? 30 : 0)
  const chunks = Math.ceil(precision / 9)
  const width = chunks * 9
  const zeros = `'${"0".repeat(width)}'`
  const nines = `'${"9".repeat(width)}'`
  const biased = `CAST(substr(${q}, 2, 5) AS INTEGER)`
  // `C` + (exponent + 50000) + digits: the digits, then (scale - digits + exponent) zeros
  const positive = `substr(${zeros} || substr(${q}, 7) || substr(${zeros}, 1, ${scale} - length(${q}) + 6 + ${biased} - 50000), -${width})`
  // `A` + (49999 - exponent) + complement digits + `~`: the complement, then as many nines
  const negative = `substr(${nines} || substr(${q}, 7, length(${q}) - 7) || substr(${nines}, 1, ${scale} - length(${q}) + 7 + 49999 - ${biased}), -${width})`
  const perRow = `substr(${q}, 1, 1) || CASE substr(${q}, 1, 1) WHEN 'C' THEN ${positive} WHEN 'A' THEN ${negative} WHEN 'B' THEN '' END`
  const parts = Array.from({ length: chunks }, (_, i) => {
    const chunk = `CAST(substr(${row}, ${2 + 9 * i}, 9) AS INTEGER)`
    // zero (`B`) adds nothing; NULL stays out of the sum
    return `CAST(SUM(CASE substr(${row}, 1, 1) WHEN 'C' THEN ${chunk} WHEN 'A' THEN ${chunk} - 999999999 WHEN 'B' THEN 0 END) AS TEXT)`
  })
  return {
    perRow,
    parts,
    read: (raws) => {
      if (raws[0] === null || raws[0] === undefined) return null
      let total = 0n
      for (const raw of raws) total = total * 1_000_000_000n + part(raw)
      return BigDecimal.normalize(BigDecimal.make(total, scale))
    }
  }
}

const tables = `sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND (? IS NULL OR m.name = ?)`

/** The pragma table functions over every table of the (one) schema. */
const sqliteCatalog: Catalog = {
  columns: (_schema, table) => ({
    text: `SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, NOT p."notnull" AS nullable,
  p.dflt_value AS column_default, p.cid + 1 AS position,
  (p.pk = 1 AND upper(p.type) = 'INTEGER' AND (SELECT count(*) FROM pragma_table_info(m.name) x WHERE x.pk > 0) = 1) AS "generated",
  p.pk AS pk
FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND (? IS NULL OR m.name = ?)
ORDER BY m.name, p.cid`,
    params: [table ?? null, table ?? null]
  }),
  // the rowid primary key has no index: it is read from the columns' pk positions instead
  indexes: (_schema, table) => ({
    text: `SELECT m.name AS table_name, il.name AS index_name, il."unique" AS is_unique, il.origin = 'pk' AS is_primary,
  il.origin = 'u' AS is_constraint, ii.name AS column_name, ii.seqno + 1 AS position
FROM ${tables.replace(" WHERE", " JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii WHERE")}
UNION ALL
SELECT m.name, 'PRIMARY', 1, 1, 1, p.name, p.pk
FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE p.pk > 0 AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) x WHERE x.origin = 'pk')
  AND m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND (? IS NULL OR m.name = ?)
ORDER BY 1, 2, 7`,
    params: [table ?? null, table ?? null, table ?? null, table ?? null]
  }),
  foreignKeys: (_schema, table) => ({
    text: `SELECT m.name AS table_name, 'fk_' || m.name || '_' || f.id AS constraint_name, f."from" AS column_name,
  f."table" AS ref_table, f."to" AS ref_column, f.seq + 1 AS position, f.on_delete AS on_delete, f.on_update AS on_update
FROM ${tables.replace(" WHERE", " JOIN pragma_foreign_key_list(m.name) f WHERE")}
ORDER BY m.name, f.id, f.seq`,
    params: [table ?? null, table ?? null]
  }),
  currentSchema: undefined,
  normalizeType: (raw) => raw.toLowerCase().replace(/\s+/g, " "),
  columnType: (column) => sqliteType(column).toLowerCase(),
  // by SQLite's type affinity rules
  kindOf: (type) =>
    /int/.test(type)
      ? { _tag: "integer" }
      : /char|clob|text/.test(type)
      ? { _tag: "string", maxLength: undefined }
      : /real|floa|doub/.test(type)
      ? { _tag: "float" }
      : /bool/.test(type)
      ? { _tag: "boolean" }
      : /date|time/.test(type)
      ? { _tag: "datetime" }
      : /json/.test(type)
      ? { _tag: "json" }
      : undefined
}

const sqliteColumn = { quote: doubleQuote, type: sqliteType, nullable: "" }

/** SQLite changes a column's type or nullability only by rebuilding the table (undefined here). */
const sqliteAlter: Alter = {
  // a NOT NULL column without a default cannot be added, even to an empty table
  addColumn: (table, column) =>
    column.nullable || column.optional || column.default !== undefined ? `ALTER TABLE ${table} ADD COLUMN ${columnDefinition(column, sqliteColumn)}` : undefined,
  dropColumn: () => undefined,
  alterType: () => undefined,
  setNullable: () => undefined,
  createIndex: (table, name, columns) => `CREATE INDEX ${doubleQuote(name)} ON ${table} (${columns.map(doubleQuote).join(", ")})`,
  dropIndex: (_table, name) => `DROP INDEX ${doubleQuote(name)}`,
  addUnique: (table, name, columns) => `CREATE UNIQUE INDEX ${doubleQuote(name)} ON ${table} (${columns.map(doubleQuote).join(", ")})`,
  dropUnique: (_table, name, isConstraint) => (isConstraint ? undefined : `DROP INDEX ${doubleQuote(name)}`),
  dropTable: (table) => `DROP TABLE ${table}`,
  renameTable: (table, to) => `ALTER TABLE ${table} RENAME TO ${doubleQuote(to)}`,
  renameColumn: (table, from, to) => `ALTER TABLE ${table} RENAME COLUMN ${doubleQuote(from)} TO ${doubleQuote(to)}`
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
  // a JSON array parameter, read back by json_each in the values the codec wrote
  inList: {
    inline: 16,
    value: (_kind, values) => `[${values.map(jsonScalar).join(",")}]`,
    member: (q, _kind, param) => `${q} IN (SELECT value FROM json_each(${param}))`
  },
  // both sides read by json_each: an element and a stored value of equal JSON text are equal
  jsonArray: {
    contains: (q, _element, mode, param) =>
      mode === "any"
        ? `EXISTS (SELECT 1 FROM json_each(${q}) AS e WHERE e.value IN (SELECT value FROM json_each(${param})))`
        : `(${q} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(${param}) AS w WHERE w.value NOT IN (SELECT value FROM json_each(${q}))))`,
    length: (q) => `json_array_length(${q})`
  },
  jsonPath: {
    path: (keys) => `$${keys.map((k) => `."${k}"`).join("")}`,
    scalar: (q, path, type) =>
      type === "boolean"
        ? { guard: `json_type(${q}, ${path()}) IN ('true', 'false')`, value: `json_type(${q}, ${path()})`, operand: (p) => p }
        : {
          guard: type === "string" ? `json_type(${q}, ${path()}) = 'text'` : `json_type(${q}, ${path()}) IN ('integer', 'real')`,
          value: `json_extract(${q}, ${path()})`,
          operand: (p) => p
        },
    missing: (q, path) => `COALESCE(json_type(${q}, ${path()}), 'null') = 'null'`
  },
  limitOffset: (limit, offset) =>
    limit === undefined && offset === undefined
      ? ""
      : ` LIMIT ${limit ?? -1}${offset === undefined ? "" : ` OFFSET ${offset}`}`,
  // decimals are kept as text (an order-preserving encoding): no arithmetic on them
  numericParam: (kind, param) =>
    kind._tag === "integer" || kind._tag === "bigint" || kind._tag === "float" ? param : undefined,
  exactSum: (kind, quoted, row) => (kind._tag === "decimal" ? decimalSum(kind, quoted, row) : integerSum(quoted)),
  // LIMIT -1 keeps SQLite from flattening the derived table into the query above, which would
  // repeat its per-row conversions in every expression that reads them
  derivedTable: (select, alias) => `(${select} LIMIT -1) AS ${alias}`,
  // bigints as text: exact whether or not the client reads 64-bit integers exactly
  aggregateValue: (kind, expression) => (kind._tag === "bigint" ? `CAST(${expression} AS TEXT)` : expression),
  onConflictUpdate,
  onConflictSkip,
  inserted: excluded,
  // a NULL rowid key takes the next rowid: SQLite has no DEFAULT in VALUES
  defaultsInsert: (table, key, rows) =>
    rows === 1 ? `INSERT INTO ${table} DEFAULT VALUES` : `INSERT INTO ${table} (${key}) VALUES ${Array(rows).fill("(NULL)").join(", ")}`,
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
  catalog: sqliteCatalog,
  alter: sqliteAlter,
  // BEGIN IMMEDIATE takes the write lock at once: a second migration waits (busy timeout)
  migrationLock: { acquire: [], release: [], begin: ["BEGIN IMMEDIATE"], commit: ["COMMIT"], rollback: ["ROLLBACK"] },
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

