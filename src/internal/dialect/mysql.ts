/**
 * MySQL 8 and MariaDB: no RETURNING is used (MySQL has none), dates read through DATE_FORMAT
 * so the driver's time zone never applies, binary no-pad collations, DDL outside transactions
 * (it would commit them).
 * (Internal module: not part of the public API.)
 */
import type { Column, Kind } from "../../Column.js"
import type { Alter, Catalog, Codec, Dialect } from "./dialect.js"
import type { PatternToken } from "./pattern.js"
import {
  backtick,
  constraint,
  decimalCodec,
  driverCode,
  driverMessage,
  foreignKeyClause,
  hash32,
  isolationSql,
  likeEscaped,
  mysqlDatetime,
  missing,
  noNegativeZero,
  other,
  parseJsonIfText,
  parseUtc,
  shared,
  stringCodec,
  columnDefinition,
  sqlLiteral,
  tableDefinition,
  textSum,
  toNumber,
  typeArgs
} from "./common.js"

const mysqlCodec = (kind: Kind): Codec => {
  switch (kind._tag) {
    case "integer":
      return { toDb: (v) => v, fromDb: toNumber }
    case "float":
      return { toDb: noNegativeZero, fromDb: toNumber }
    case "boolean":
      return { toDb: (v) => (v ? 1 : 0), fromDb: (raw) => raw === 1 || raw === "1" || raw === true }
    case "datetime":
      return {
        toDb: (v) => mysqlDatetime(v as Date),
        // selected through DATE_FORMAT, so the driver's time zone setting never applies
        fromDb: (raw) =>
          raw instanceof Date
            ? raw
            : parseUtc(raw) ?? new Date(`${String(raw).replace(" ", "T").slice(0, 23)}Z`)
      }
    case "bigint":
      return { toDb: (v) => String(v), fromDb: (raw) => BigInt(raw as string | number) }
    case "decimal":
      return decimalCodec
    case "json":
      return parseJsonIfText
    case "string":
    case "enum":
      return stringCodec
  }
}

const mysqlType = (column: Column, keyed: boolean): string => {
  const k = column.kind
  switch (k._tag) {
    case "string":
      return k.maxLength !== undefined && k.maxLength <= 16383
        ? `VARCHAR(${k.maxLength})`
        : keyed
        ? "VARCHAR(255)"
        : "LONGTEXT"
    case "enum":
      return `VARCHAR(${Math.max(1, ...k.values.map((v) => v.length))})`
    case "integer":
    case "bigint":
      return "BIGINT"
    case "float":
      return "DOUBLE"
    case "boolean":
      return "BOOLEAN"
    case "datetime":
      return "DATETIME(3)"
    case "decimal":
      return k.precision !== undefined ? `DECIMAL(${k.precision}, ${k.scale ?? 0})` : "DECIMAL(65, 30)"
    case "json":
      return "JSON"
  }
}

/**
 * The JSON_TABLE column type that reads a list of driver values as the column's values:
 * integers as doubles (they are JS numbers: a double holds each exactly), bigints from their
 * digits, dates from DATETIME literals, decimals from their text.
 */
const jsonTableType = (kind: Kind): string => {
  switch (kind._tag) {
    case "integer":
    case "float":
      return "DOUBLE"
    case "bigint":
      return "BIGINT"
    case "boolean":
      return "INT"
    case "datetime":
      return "DATETIME(3)"
    case "decimal":
      return "DECIMAL(65, 30)"
    case "string":
    case "enum":
    case "json":
      return "LONGTEXT"
  }
}

/**
 * The range of the texts a LIKE pattern's literal prefix starts (`["ab", "ac")` for `ab%`):
 * in a binary collation texts sort by code point, so they lie from the prefix up to the prefix
 * with its last character's next code point (surrogates skipped). Undefined without a prefix,
 * or when the last character has no next one.
 */
const prefixRange = (tokens: ReadonlyArray<PatternToken>): readonly [string, string] | undefined => {
  let prefix = ""
  for (const t of tokens) {
    if (t._tag !== "text") break
    prefix += t.value
  }
  if (prefix === "") return undefined
  const chars = Array.from(prefix)
  const last = chars.pop()!.codePointAt(0)!
  if (last >= 0x10ffff) return undefined
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1
  return [prefix, chars.join("") + String.fromCodePoint(next)]
}

/** The numbers of a JSON array as a table of doubles. */
const doubles = (json: string, alias: string) => `JSON_TABLE(${json}, '$[*]' COLUMNS (v DOUBLE PATH '$')) AS ${alias}`

const inSchema = (column: string) => `${column} = COALESCE(?, DATABASE())`
const forTable = (column: string) => `(? IS NULL OR ${column} = ?)`

/** information_schema reads; the same on MySQL 8 and MariaDB. */
/** The named lock of first-use DDL on a key (MySQL takes at most 64 characters). */
const ddlLockName = (key: string) => `dataflow_ddl_${(hash32(key) >>> 0).toString(16).padStart(8, "0")}`

const mysqlCatalog: Catalog = {
  columns: (schema, table) => ({
    text: `SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.COLUMN_TYPE AS data_type,
  c.IS_NULLABLE = 'YES' AS nullable, c.COLUMN_DEFAULT AS column_default, c.ORDINAL_POSITION AS position,
  c.EXTRA LIKE '%auto_increment%' AS \`generated\`
FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
  ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE'
WHERE ${inSchema("c.TABLE_SCHEMA")} AND ${forTable("c.TABLE_NAME")}
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
    params: [schema ?? null, table ?? null, table ?? null]
  }),
  indexes: (schema, table) => ({
    text: `SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME AS index_name, s.NON_UNIQUE = 0 AS is_unique,
  s.INDEX_NAME = 'PRIMARY' AS is_primary, tc.CONSTRAINT_NAME IS NOT NULL AS is_constraint,
  s.COLUMN_NAME AS column_name, s.SEQ_IN_INDEX AS position
FROM information_schema.STATISTICS s LEFT JOIN information_schema.TABLE_CONSTRAINTS tc
  ON tc.TABLE_SCHEMA = s.TABLE_SCHEMA AND tc.TABLE_NAME = s.TABLE_NAME AND tc.CONSTRAINT_NAME = s.INDEX_NAME
  AND tc.CONSTRAINT_TYPE = 'UNIQUE'
WHERE ${inSchema("s.TABLE_SCHEMA")} AND ${forTable("s.TABLE_NAME")}
ORDER BY s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX`,
    params: [schema ?? null, table ?? null, table ?? null]
  }),
  foreignKeys: (schema, table) => ({
    text: `SELECT k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS constraint_name, k.COLUMN_NAME AS column_name,
  k.REFERENCED_TABLE_NAME AS ref_table, k.REFERENCED_COLUMN_NAME AS ref_column, k.ORDINAL_POSITION AS position,
  r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update
FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.REFERENCED_TABLE_NAME IS NOT NULL AND ${inSchema("k.TABLE_SCHEMA")} AND ${forTable("k.TABLE_NAME")}
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
    params: [schema ?? null, table ?? null, table ?? null]
  }),
  currentSchema: "SELECT DATABASE() AS name",
  // MariaDB (and MySQL 5) show display widths of integer types: bigint(20) is bigint
  normalizeType: (raw) =>
    raw.toLowerCase().replace(/\s+/g, " ").replace(/,\s*/g, ",").replace(/^(bigint|int|smallint|mediumint)\(\d+\)/, "$1"),
  columnType: (column, keyed, server) => {
    if (column.kind._tag === "boolean") return "tinyint(1)"
    // MariaDB's JSON is LONGTEXT with a json_valid CHECK
    if (column.kind._tag === "json" && server.mariadb) return "longtext"
    return mysqlType(column, keyed).toLowerCase().replace(/,\s*/g, ",")
  },
  kindOf: (type) => {
    if (type === "tinyint(1)") return { _tag: "boolean" }
    const base = type.replace(/\(.*$/, "").replace(/ unsigned$/, "").trim()
    const args = typeArgs(type)
    switch (base) {
      case "varchar":
      case "char":
        return { _tag: "string", maxLength: args[0] }
      case "text":
      case "tinytext":
      case "mediumtext":
      case "longtext":
        return { _tag: "string", maxLength: undefined }
      case "bigint":
      case "int":
      case "smallint":
      case "mediumint":
      case "tinyint":
        return { _tag: "integer" }
      case "double":
      case "float":
        return { _tag: "float" }
      case "datetime":
      case "timestamp":
        return { _tag: "datetime" }
      case "decimal":
        return { _tag: "decimal", precision: args[0], scale: args[1] }
      case "json":
        return { _tag: "json" }
      case "enum": {
        const values = [...type.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"))
        return { _tag: "enum", values }
      }
      default:
        return undefined
    }
  }
}

const mysqlColumn = (keyed: boolean) => ({ quote: backtick, type: (c: Column) => mysqlType(c, keyed), nullable: " NULL" })

const mysqlAlter: Alter = {
  addColumn: (table, column, keyed) => `ALTER TABLE ${table} ADD COLUMN ${columnDefinition(column, mysqlColumn(keyed))}`,
  dropColumn: (table, column) => `ALTER TABLE ${table} DROP COLUMN ${backtick(column)}`,
  alterType: (table, column, keyed) => `ALTER TABLE ${table} MODIFY COLUMN ${columnDefinition(column, mysqlColumn(keyed))}`,
  setNullable: (table, column, keyed) => `ALTER TABLE ${table} MODIFY COLUMN ${columnDefinition(column, mysqlColumn(keyed))}`,
  createIndex: (table, name, columns) => `CREATE INDEX ${backtick(name)} ON ${table} (${columns.map(backtick).join(", ")})`,
  dropIndex: (table, name) => `DROP INDEX ${backtick(name)} ON ${table}`,
  addUnique: (table, name, columns) =>
    `ALTER TABLE ${table} ADD CONSTRAINT ${backtick(name)} UNIQUE (${columns.map(backtick).join(", ")})`,
  dropUnique: (table, name) => `DROP INDEX ${backtick(name)} ON ${table}`,
  dropTable: (table) => `DROP TABLE ${table}`,
  renameTable: (table, to) => `RENAME TABLE ${table} TO ${backtick(to)}`,
  renameColumn: (table, from, to) => `ALTER TABLE ${table} RENAME COLUMN ${backtick(from)} TO ${backtick(to)}`,
  addForeignKey: (table, fk) => `ALTER TABLE ${table} ADD ${foreignKeyClause(fk, backtick)}`,
  dropForeignKey: (table, name) => `ALTER TABLE ${table} DROP FOREIGN KEY ${backtick(name)}`,
  setDefault: (table, column, expression) =>
    `ALTER TABLE ${table} ALTER COLUMN ${backtick(column)} ${expression === undefined ? "DROP DEFAULT" : `SET DEFAULT ${expression}`}`
}

/** MySQL 8 and MariaDB. Uses no RETURNING, so the same code serves both. @internal */
/**
 * The session settings that bound a statement's run time: MariaDB's `max_statement_time`
 * (seconds, every statement) and MySQL's `max_execution_time` (milliseconds, SELECTs only);
 * each server refuses the other's, so both are sent and the refusal ignored.
 * @internal
 */
export const statementTimeoutSql = (ms: number): ReadonlyArray<string> => [
  `SET SESSION max_statement_time = ${Math.max(0.001, ms / 1000)}`,
  `SET SESSION max_execution_time = ${Math.max(1, Math.round(ms))}`
]

export const mysql: Dialect = {
  name: "mysql",
  systemName: "mysql",
  maxIdentifierLength: 64,
  maxParams: 65535,
  supportsReturning: false,
  supportsSchemas: true,
  namespace: {
    // the tables declare their own binary collation (createTable)
    create: (name) => `CREATE DATABASE IF NOT EXISTS ${backtick(name)} CHARACTER SET utf8mb4`,
    drop: (name) => `DROP DATABASE IF EXISTS ${backtick(name)}`
  },
  readsBigintsAsNumbers: false,
  transactionalDdl: false,
  lockingRead: " FOR UPDATE",
  // MySQL sets the level of the *next* transaction, before it starts
  begin: (isolation) => [
    ...(isolation === undefined ? [] : [`SET TRANSACTION ISOLATION LEVEL ${isolationSql[isolation]}`]),
    "START TRANSACTION"
  ],
  // MariaDB and MySQL name their binary, no-pad collations differently
  serverInfo: {
    query: "SELECT VERSION() AS v",
    read: (rows) => ({ mariadb: /mariadb/i.test(String(rows[0]?.v ?? "")) })
  },
  quote: backtick,
  placeholder: () => "?",
  codec: mysqlCodec,
  // dates through DATE_FORMAT (the driver's time zone never applies); JSON as text (the
  // driver would parse some JSON values itself, making a bare JSON string ambiguous)
  selectExpr: (c) =>
    c.kind._tag === "datetime"
      ? `DATE_FORMAT(${backtick(c.name)}, '%Y-%m-%d %H:%i:%s.%f') AS ${backtick(c.name)}`
      : c.kind._tag === "json"
      ? `CAST(${backtick(c.name)} AS CHAR) AS ${backtick(c.name)}`
      : backtick(c.name),
  orderTerm: (q, d) => `${q} ${d === "asc" ? "ASC" : "DESC"}`,
  // binary collation: LIKE is case-sensitive; LOWER on both sides for the insensitive form
  like: (q, param, ci, tokens, bind) => {
    if (ci) return `LOWER(${q}) LIKE LOWER(${param}) ESCAPE '!'`
    // MariaDB's index range for a LIKE prefix misses the rows whose next character is beyond
    // U+FFFF (utf8mb4_nopad_bin; found by the testing kit): the LIKE is evaluated row by row
    // (CONCAT hides the column from the range optimizer) and the prefix's range is written out,
    // so an index still narrows the rows
    const range = prefixRange(tokens)
    if (range === undefined) {
      return tokens.some((t) => t._tag === "text" && /[\u{10000}-\u{10FFFF}]/u.test(t.value))
        ? `CONCAT(${q}) LIKE ${param} ESCAPE '!'`
        : `${q} LIKE ${param} ESCAPE '!'`
    }
    return `(CONCAT(${q}) LIKE ${param} ESCAPE '!' AND ${q} >= ${bind(range[0])} AND ${q} < ${bind(range[1])})`
  },
  likePattern: (tokens) => likeEscaped(tokens),
  // a JSON array parameter read by JSON_TABLE (MySQL 8.0.4+, MariaDB 10.6+) as a column of the
  // field's type: no placeholder per value, so no limit of 65,535 of them
  inList: {
    inline: 16,
    value: (_kind, values) => JSON.stringify(values),
    member: (q, kind, param) =>
      `${q} IN (SELECT v FROM JSON_TABLE(${param}, '$[*]' COLUMNS (v ${jsonTableType(kind)} PATH '$')) AS w)`
  },
  // JSON_CONTAINS / JSON_OVERLAPS (MySQL 8.0.17+, MariaDB 10.9+) compare text and booleans
  // exactly, but MariaDB compares numbers with a tolerance (0 holds 5e-324): numbers are read
  // as doubles by JSON_TABLE on both sides instead
  jsonArray: {
    contains: (q, element, mode, param) =>
      element !== "number"
        ? mode === "all" ? `JSON_CONTAINS(${q}, ${param})` : `JSON_OVERLAPS(${q}, ${param})`
        : mode === "any"
        ? `EXISTS (SELECT 1 FROM ${doubles(q, "e")} WHERE e.v IN (SELECT w.v FROM ${doubles(param, "w")}))`
        : `(${q} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${doubles(param, "w")} WHERE w.v NOT IN (SELECT e.v FROM ${doubles(q, "e")})))`,
    length: (q) => `JSON_LENGTH(${q})`
  },
  jsonPath: {
    path: (keys) => `$${keys.map((k) => `."${k}"`).join("")}`,
    scalar: (q, path, type) => {
      const at = () => `JSON_EXTRACT(${q}, ${path()})`
      const guard = type === "string"
        ? `JSON_TYPE(${at()}) = 'STRING'`
        : type === "boolean"
        ? `JSON_TYPE(${at()}) = 'BOOLEAN'`
        : `JSON_TYPE(${at()}) IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL')`
      // text compared as bytes: code-point order, no padding, whatever collation the value carries
      return type === "number"
        ? { guard, value: `CAST(JSON_UNQUOTE(${at()}) AS DOUBLE)`, operand: (p) => p }
        : { guard, value: `CAST(JSON_UNQUOTE(${at()}) AS BINARY)`, operand: (p) => `CAST(${p} AS BINARY)` }
    },
    missing: (q, path) => `COALESCE(JSON_TYPE(JSON_EXTRACT(${q}, ${path()})), 'NULL') = 'NULL'`
  },
  limitOffset: (limit, offset) =>
    limit === undefined && offset === undefined
      ? ""
      : ` LIMIT ${limit ?? "18446744073709551615"}${offset === undefined ? "" : ` OFFSET ${offset}`}`,
  // bigints travel as text and MySQL would compute with text as a double: cast them back
  numericParam: (kind, param) =>
    kind._tag === "integer" || kind._tag === "bigint"
      ? `CAST(${param} AS SIGNED)`
      : kind._tag === "float"
      ? param
      : kind._tag === "decimal"
      ? `CAST(${param} AS DECIMAL(65, 30))`
      : undefined,
  // SUM of BIGINT and DECIMAL is DECIMAL (65 digits): exact, read as text
  derivedTable: (select, alias) => `(${select}) AS ${alias}`,
  exactSum: textSum((e) => `CAST(${e} AS CHAR)`),
  // dates through DATE_FORMAT, as selectExpr reads the column
  aggregateValue: (kind, expression) =>
    kind._tag === "datetime" ? `DATE_FORMAT(${expression}, '%Y-%m-%d %H:%i:%s.%f')` : expression,
  onConflictUpdate: (_conflict, sets) => ` ON DUPLICATE KEY UPDATE ${sets.join(", ")}`,
  inserted: (quoted) => `VALUES(${quoted})`,
  defaultsInsert: (table, _key, rows) => `INSERT INTO ${table} () VALUES ${Array(rows).fill("()").join(", ")}`,
  createTable: (spec, server) => {
    const { table, defs } = tableDefinition(spec, {
      quote: backtick,
      type: (c) => mysqlType(c, spec.keyed.has(c.name)),
      autoIncrement: "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
      nullable: " NULL"
    })
    // MySQL declares indexes inside CREATE TABLE (it has no CREATE INDEX IF NOT EXISTS)
    for (const i of spec.indexes) defs.push(`INDEX ${backtick(i.name)} (${i.columns.map(backtick).join(", ")})`)
    // binary, no-pad collation: comparisons, uniqueness and ordering match SQLite and PostgreSQL "C"
    const collation = server.mariadb ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin"
    return [
      ...(spec.schema === undefined
        ? []
        : [`CREATE DATABASE IF NOT EXISTS ${backtick(spec.schema)} CHARACTER SET utf8mb4 COLLATE ${collation}`]),
      `CREATE TABLE IF NOT EXISTS ${table} (${defs.join(", ")}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`
    ]
  },
  catalog: mysqlCatalog,
  alter: mysqlAlter,
  // first-use DDL on a key: a named lock of its own (not the migrations'), a name short enough for any key
  ddlSessionLock: {
    acquire: (key) => `SELECT GET_LOCK(${sqlLiteral(ddlLockName(key))}, 600) AS acquired`,
    release: (key) => `SELECT RELEASE_LOCK(${sqlLiteral(ddlLockName(key))}) AS released`
  },
  // DDL commits: no transaction; a named lock held by the migration's connection
  migrationLock: {
    acquire: [`SELECT GET_LOCK(${sqlLiteral("dataflow_migrations")}, 600)`],
    release: [`SELECT RELEASE_LOCK(${sqlLiteral("dataflow_migrations")})`],
    begin: [],
    commit: [],
    rollback: [],
    held: `SELECT IS_USED_LOCK(${sqlLiteral("dataflow_migrations")}) IS NOT NULL AS held`
  },
  affectedRows: (raw) => Number((raw as { affectedRows?: number }).affectedRows ?? 0),
  insertId: (raw) => (raw as { insertId?: unknown }).insertId,
  classify: (cause) => {
    const code = driverCode(cause)
    const message = driverMessage(cause)
    switch (code) {
      case "ER_DUP_ENTRY": {
        const m = /for key '([^']*)'/.exec(message)
        const key = m === null ? undefined : m[1]!.split(".").pop()
        return constraint("unique", code, key, [])
      }
      case "ER_NO_REFERENCED_ROW":
      case "ER_NO_REFERENCED_ROW_2":
      case "ER_ROW_IS_REFERENCED":
      case "ER_ROW_IS_REFERENCED_2": {
        const m = /CONSTRAINT `([^`]*)`/.exec(message)
        const cols = /FOREIGN KEY \(([^)]*)\)/.exec(message)
        const columns = cols === null ? [] : cols[1]!.split(",").map((c) => c.trim().replace(/^`|`$/g, ""))
        return constraint("foreignKey", code, m?.[1], columns)
      }
      case "ER_BAD_NULL_ERROR":
      case "ER_NO_DEFAULT_FOR_FIELD": {
        const m = /(?:Column|Field) '([^']*)'/.exec(message)
        return constraint("notNull", code, undefined, m === null ? [] : [m[1]!])
      }
      case "ER_LOCK_DEADLOCK":
      case "ER_LOCK_WAIT_TIMEOUT":
      case "ER_CHECKREAD":
      case "ER_CON_COUNT_ERROR":
      // a table created after the transaction's snapshot (its first use, by another
      // connection): running the transaction again sees it
      case "ER_TABLE_DEF_CHANGED":
        return other(code, true)
      case "ER_BAD_FIELD_ERROR": {
        const m = /Unknown column '([^']+)'/.exec(message)
        return missing(code, undefined, m?.[1]?.split(".").pop())
      }
      case "ER_NO_SUCH_TABLE": {
        const m = /Table '([^']+)' doesn't exist/.exec(message)
        return missing(code, m?.[1]?.split(".").pop(), undefined)
      }
      default:
        return shared(code, message, cause) ?? other(code, false)
    }
  }
}

