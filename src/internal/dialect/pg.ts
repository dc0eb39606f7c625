/**
 * PostgreSQL: text columns `COLLATE "C"` (code-point order, as SQLite and MySQL's binary
 * collation), NULLs placed as the other two place them, bulk inserts through UNNEST, upserts
 * that say which rows they inserted, DDL serialised by advisory locks.
 * (Internal module: not part of the public API.)
 */
import type { Column, Kind } from "../../Column.js"
import type { Alter, Catalog, Codec, Dialect } from "./dialect.js"
import {
  constraint,
  ddlLockSpace,
  decimalCodec,
  doubleQuote,
  excluded,
  foreignKeyClause,
  driverCode,
  driverMessage,
  hash32,
  isolationSql,
  likeEscaped,
  noNegativeZero,
  missing,
  onConflictSkip,
  onConflictUpdate,
  other,
  shared,
  stringCodec,
  columnDefinition,
  tableDefinition,
  textSum,
  toNumber,
  typeArgs
} from "./common.js"

const pgCodec = (kind: Kind): Codec => {
  switch (kind._tag) {
    case "integer":
      return { toDb: (v) => v, fromDb: toNumber }
    case "float":
      return { toDb: noNegativeZero, fromDb: toNumber }
    case "boolean":
      return { toDb: (v) => v, fromDb: (raw) => raw === true || raw === "t" || raw === "true" }
    case "datetime":
      return {
        toDb: (v) => (v as Date).toISOString(),
        fromDb: (raw) => (raw instanceof Date ? raw : new Date(raw as string))
      }
    case "bigint":
      return { toDb: (v) => String(v), fromDb: (raw) => BigInt(raw as string) }
    case "decimal":
      return decimalCodec
    case "json":
      // node-postgres parses json/jsonb itself: a JSON string value arrives as a JS string
      return { toDb: (v) => JSON.stringify(v), fromDb: (raw) => raw }
    case "string":
    case "enum":
      return stringCodec
  }
}

const pgType = (column: Column): string => {
  const k = column.kind
  switch (k._tag) {
    case "string":
      return `${k.maxLength !== undefined ? `VARCHAR(${k.maxLength})` : "TEXT"} COLLATE "C"`
    case "enum":
      return `TEXT COLLATE "C"`
    case "integer":
    case "bigint":
      return "BIGINT"
    case "float":
      return "DOUBLE PRECISION"
    case "boolean":
      return "BOOLEAN"
    case "datetime":
      return "TIMESTAMPTZ(3)"
    case "decimal":
      return k.precision !== undefined ? `NUMERIC(${k.precision}, ${k.scale ?? 0})` : "NUMERIC"
    case "json":
      return "JSONB"
  }
}

/** The array type that binds a whole column as one parameter. */
const arrayType = (kind: Kind): string => {
  switch (kind._tag) {
    case "string":
    case "enum":
      return "text[]"
    case "integer":
    case "bigint":
      return "int8[]"
    case "float":
      return "float8[]"
    case "boolean":
      return "bool[]"
    case "datetime":
      return "timestamptz[]"
    case "decimal":
      return "numeric[]"
    case "json":
      return "jsonb[]"
  }
}

const inSchema = (alias: string) => `${alias}.nspname = COALESCE($1::text, current_schema())`
const forTable = (alias: string) => `($2::text IS NULL OR ${alias}.relname = $2::text)`

/** A referential action as pg_constraint codes it, in words (as the other catalogs say it). */
const referentialAction = (column: string) =>
  `CASE ${column} WHEN 'c' THEN 'CASCADE' WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END`

/** pg_catalog reads: exact, schema-aware, and fast (information_schema views are slow on PostgreSQL). */
const pgCatalog: Catalog = {
  columns: (schema, table) => ({
    text: `SELECT cl.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type,
  NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS column_default, a.attnum AS position,
  (a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)) AS generated
FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = cl.oid AND d.adnum = a.attnum
WHERE cl.relkind IN ('r', 'p') AND ${inSchema("n")} AND ${forTable("cl")}
ORDER BY cl.relname, a.attnum`,
    params: [schema ?? null, table ?? null]
  }),
  indexes: (schema, table) => ({
    text: `SELECT cl.relname AS table_name, i.relname AS index_name, ix.indisunique AS is_unique,
  ix.indisprimary AS is_primary, (con.conname IS NOT NULL) AS is_constraint, a.attname AS column_name, k.ord AS position
FROM pg_index ix JOIN pg_class cl ON cl.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.conrelid = cl.oid AND con.contype IN ('u', 'p')
WHERE cl.relkind IN ('r', 'p') AND ${inSchema("n")} AND ${forTable("cl")}
ORDER BY cl.relname, i.relname, k.ord`,
    params: [schema ?? null, table ?? null]
  }),
  foreignKeys: (schema, table) => ({
    text: `SELECT cl.relname AS table_name, con.conname AS constraint_name, a.attname AS column_name,
  rf.relname AS ref_table, ra.attname AS ref_column, k.ord AS position,
  ${referentialAction("con.confdeltype")} AS on_delete, ${referentialAction("con.confupdtype")} AS on_update
FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_class rf ON rf.oid = con.confrelid
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, ord)
JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
JOIN pg_attribute ra ON ra.attrelid = rf.oid AND ra.attnum = k.refnum
WHERE con.contype = 'f' AND ${inSchema("n")} AND ${forTable("cl")}
ORDER BY cl.relname, con.conname, k.ord`,
    params: [schema ?? null, table ?? null]
  }),
  currentSchema: "SELECT current_schema() AS name",
  normalizeType: (raw) => raw.toLowerCase().replace(/\s+/g, " ").replace(/,\s*/g, ","),
  columnType: (column) => {
    const k = column.kind
    switch (k._tag) {
      case "string":
        return k.maxLength !== undefined ? `character varying(${k.maxLength})` : "text"
      case "enum":
        return "text"
      case "integer":
      case "bigint":
        return "bigint"
      case "float":
        return "double precision"
      case "boolean":
        return "boolean"
      case "datetime":
        return "timestamp(3) with time zone"
      case "decimal":
        return k.precision !== undefined ? `numeric(${k.precision},${k.scale ?? 0})` : "numeric"
      case "json":
        return "jsonb"
    }
  },
  kindOf: (type) => {
    const base = type.replace(/\(.*\)/, "").trim()
    const args = typeArgs(type)
    switch (base) {
      case "character varying":
      case "character":
        return { _tag: "string", maxLength: args[0] }
      case "text":
      case "uuid":
      case "citext":
        return { _tag: "string", maxLength: undefined }
      case "bigint":
      case "integer":
      case "smallint":
        return { _tag: "integer" }
      case "double precision":
      case "real":
        return { _tag: "float" }
      case "boolean":
        return { _tag: "boolean" }
      case "timestamp with time zone":
      case "timestamp without time zone":
        return { _tag: "datetime" }
      case "numeric":
        return { _tag: "decimal", precision: args[0], scale: args[1] }
      case "json":
      case "jsonb":
        return { _tag: "json" }
      default:
        return undefined
    }
  }
}

const pgColumn = { quote: doubleQuote, type: pgType, nullable: "" }

const pgAlter: Alter = {
  addColumn: (table, column) => `ALTER TABLE ${table} ADD COLUMN ${columnDefinition(column, pgColumn)}`,
  dropColumn: (table, column) => `ALTER TABLE ${table} DROP COLUMN ${doubleQuote(column)}`,
  alterType: (table, column) => {
    const type = pgType(column)
    const plain = type.replace(/ COLLATE .*$/, "")
    return `ALTER TABLE ${table} ALTER COLUMN ${doubleQuote(column.name)} TYPE ${type} USING ${doubleQuote(column.name)}::${plain}`
  },
  setNullable: (table, column) =>
    `ALTER TABLE ${table} ALTER COLUMN ${doubleQuote(column.name)} ${column.nullable || column.optional ? "DROP" : "SET"} NOT NULL`,
  createIndex: (table, name, columns) => `CREATE INDEX ${doubleQuote(name)} ON ${table} (${columns.map(doubleQuote).join(", ")})`,
  dropIndex: (table, name) => `DROP INDEX ${qualifiedLike(table, name)}`,
  addUnique: (table, name, columns) =>
    `ALTER TABLE ${table} ADD CONSTRAINT ${doubleQuote(name)} UNIQUE (${columns.map(doubleQuote).join(", ")})`,
  dropUnique: (table, name, isConstraint) =>
    isConstraint ? `ALTER TABLE ${table} DROP CONSTRAINT ${doubleQuote(name)}` : `DROP INDEX ${qualifiedLike(table, name)}`,
  dropTable: (table) => `DROP TABLE ${table}`,
  renameTable: (table, to) => `ALTER TABLE ${table} RENAME TO ${doubleQuote(to)}`,
  renameColumn: (table, from, to) => `ALTER TABLE ${table} RENAME COLUMN ${doubleQuote(from)} TO ${doubleQuote(to)}`,
  addForeignKey: (table, fk) => `ALTER TABLE ${table} ADD ${foreignKeyClause(fk, doubleQuote)}`,
  dropForeignKey: (table, name) => `ALTER TABLE ${table} DROP CONSTRAINT ${doubleQuote(name)}`,
  setDefault: (table, column, expression) =>
    `ALTER TABLE ${table} ALTER COLUMN ${doubleQuote(column)} ${expression === undefined ? "DROP DEFAULT" : `SET DEFAULT ${expression}`}`
}

/** An index name in the schema of a (quoted, perhaps qualified) table: indexes live in the table's schema. */
const qualifiedLike = (table: string, name: string) => {
  const dot = table.indexOf("\".\"")
  return dot < 0 ? doubleQuote(name) : `${table.slice(0, dot + 1)}.${doubleQuote(name)}`
}

/** PostgreSQL. @internal */
export const pg: Dialect = {
  name: "pg",
  systemName: "postgresql",
  maxIdentifierLength: 63,
  maxParams: 65535,
  supportsReturning: true,
  supportsSchemas: true,
  namespace: {
    create: (name) => `CREATE SCHEMA IF NOT EXISTS ${doubleQuote(name)}`,
    drop: (name) => `DROP SCHEMA IF EXISTS ${doubleQuote(name)} CASCADE`
  },
  readsBigintsAsNumbers: false,
  transactionalDdl: true,
  ddlLock: (key) => `SELECT pg_advisory_xact_lock(${ddlLockSpace}, ${hash32(key)})`,
  lockingRead: " FOR UPDATE",
  begin: (isolation) => [isolation === undefined ? "BEGIN" : `BEGIN ISOLATION LEVEL ${isolationSql[isolation]}`],
  // an inserted row has no old version: its xmax is 0 (an updated one's is the updating transaction)
  upsertInsertedFlag: "(xmax = 0)",
  // one array parameter per column: any number of rows in one statement
  arrayInsert: {
    rows: 10_000,
    text: (table, columns) =>
      `INSERT INTO ${table} (${columns.map((c) => c.quoted).join(", ")}) SELECT * FROM UNNEST(${
        columns.map((c, k) => `$${k + 1}::${arrayType(c.kind)}`).join(", ")
      })`
  },
  quote: doubleQuote,
  placeholder: (n) => `$${n}`,
  codec: pgCodec,
  selectExpr: (c) => doubleQuote(c.name),
  // SQLite and MySQL sort NULL as the smallest value; PostgreSQL is told to do the same
  // NULLS FIRST/LAST only where NULL can occur: on a NOT NULL column it would stop PostgreSQL
  // from walking an index in order
  orderTerm: (q, d, nullable) =>
    d === "asc" ? `${q} ASC${nullable ? " NULLS FIRST" : ""}` : `${q} DESC${nullable ? " NULLS LAST" : ""}`,
  // columns are COLLATE "C": LIKE is case-sensitive, ILIKE folds ASCII letters
  like: (q, param, ci) => `${q} ${ci ? "ILIKE" : "LIKE"} ${param} ESCAPE '!'`,
  likePattern: (tokens) => likeEscaped(tokens),
  // one array parameter, whatever the list's length: one statement text (and prepared plan)
  inList: {
    inline: 16,
    value: (_kind, values) => values,
    member: (q, kind, param) => `${q} = ANY(${param}::${arrayType(kind)})`
  },
  // JSONB: containment (@>) of the bound array; any of its elements: a hashed subquery, read once
  jsonArray: {
    contains: (q, _element, mode, param) =>
      mode === "all"
        ? `${q} @> CAST(${param} AS jsonb)`
        // IS TRUE keeps the IN a hashed subplan, built once (as a semi-join the list would be
        // read again for every row)
        : `EXISTS (SELECT 1 FROM jsonb_array_elements(${q}) AS e(v) WHERE (e.v IN (SELECT w.v FROM jsonb_array_elements(CAST(${param} AS jsonb)) AS w(v))) IS TRUE)`,
    length: (q) => `jsonb_array_length(${q})`
  },
  jsonPath: {
    // strict: a key applied to an array (or a missing key) is no value, never unwrapped
    path: (keys) => `strict $${keys.map((k) => `."${k}"`).join("")}`,
    scalar: (q, path, type) => {
      const at = () => `jsonb_path_query_first(${q}, CAST(${path()} AS jsonpath), '{}', TRUE)`
      const guard = `jsonb_typeof(${at()}) = '${type}'`
      const text = `(${at()} #>> '{}')`
      return type === "number"
        ? { guard, value: `CAST(${text} AS DOUBLE PRECISION)`, operand: (p) => `CAST(${p} AS DOUBLE PRECISION)` }
        : { guard, value: type === "string" ? `${text} COLLATE "C"` : text, operand: (p) => p }
    },
    missing: (q, path) =>
      `COALESCE(jsonb_typeof(jsonb_path_query_first(${q}, CAST(${path()} AS jsonpath), '{}', TRUE)), 'null') = 'null'`
  },
  limitOffset: (limit, offset) =>
    `${limit === undefined ? "" : ` LIMIT ${limit}`}${offset === undefined ? "" : ` OFFSET ${offset}`}`,
  numericParam: (kind, param) =>
    kind._tag === "integer" || kind._tag === "bigint"
      ? `CAST(${param} AS BIGINT)`
      : kind._tag === "float"
      ? `CAST(${param} AS DOUBLE PRECISION)`
      : kind._tag === "decimal"
      ? `CAST(${param} AS NUMERIC)`
      : undefined,
  // SUM of BIGINT and NUMERIC is NUMERIC: exact; the driver would read it as text anyway
  derivedTable: (select, alias) => `(${select}) AS ${alias}`,
  exactSum: textSum((e) => `CAST(${e} AS TEXT)`),
  // MIN/MAX keep the column's type: the codec reads them as it reads the column
  aggregateValue: (_kind, expression) => expression,
  onConflictUpdate,
  onConflictSkip,
  inserted: excluded,
  defaultsInsert: (table, key, rows) =>
    rows === 1 ? `INSERT INTO ${table} DEFAULT VALUES` : `INSERT INTO ${table} (${key}) VALUES ${Array(rows).fill("(DEFAULT)").join(", ")}`,
  createTable: (spec) => {
    const { table, defs } = tableDefinition(spec, {
      quote: doubleQuote,
      type: pgType,
      autoIncrement: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
      nullable: ""
    })
    return [
      ...(spec.schema === undefined ? [] : [`CREATE SCHEMA IF NOT EXISTS ${doubleQuote(spec.schema)}`]),
      `CREATE TABLE IF NOT EXISTS ${table} (${defs.join(", ")})`,
      ...spec.indexes.map((i) =>
        `CREATE INDEX IF NOT EXISTS ${doubleQuote(i.name)} ON ${table} (${i.columns.map(doubleQuote).join(", ")})`
      )
    ]
  },
  catalog: pgCatalog,
  alter: pgAlter,
  migrationLock: {
    acquire: [],
    release: [],
    begin: ["BEGIN", `SELECT pg_advisory_xact_lock(${ddlLockSpace}, ${hash32("dataflow_migrations")})`],
    commit: ["COMMIT"],
    rollback: ["ROLLBACK"],
    // a two-key advisory lock shows its keys as classid / objid (oids: unsigned)
    held: `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ${ddlLockSpace >>> 0}
  AND objid = ${hash32("dataflow_migrations") >>> 0} AND objsubid = 2) AS held`
  },
  affectedRows: (raw) => Number((raw as { rowCount?: number | null }).rowCount ?? 0),
  insertId: () => undefined,
  classify: (cause) => {
    const code = driverCode(cause)
    const e = cause as { constraint?: string; column?: string; detail?: string }
    const keyColumns = () => {
      const m = /^Key \(([^)]*)\)=/.exec(e.detail ?? "")
      return m === null ? [] : m[1]!.split(",").map((s) => s.trim().replace(/^"|"$/g, ""))
    }
    switch (code) {
      case "23505":
        return constraint("unique", code, e.constraint, keyColumns())
      case "23503":
        return constraint("foreignKey", code, e.constraint, keyColumns())
      case "23502":
        return constraint("notNull", code, undefined, e.column === undefined ? [] : [e.column])
      case "40001":
      case "40P01":
      case "55P03":
      case "53300":
        return other(code, true)
      case "42703": {
        // column "x" does not exist / column "x" of relation "t" does not exist
        const m = /column "([^"]+)"(?: of relation "([^"]+)")? does not exist/.exec(driverMessage(cause))
        return missing(code, m?.[2], m?.[1])
      }
      case "42P05":
      case "26000":
        // a named prepared statement the server connection does not have, or has already:
        // the client's connections are shared by a pooler in transaction mode
        return {
          ...other(code, false),
          hint: `a prepared statement ${code === "26000" ? "missing" : "already there"} on the server connection: behind a transaction-mode pooler (PgBouncer)? set DataFlow.layer's pooler: "transaction" (or ?pooler=transaction in the URL)`
        }
      case "42P01": {
        const m = /relation "([^"]+)" does not exist/.exec(driverMessage(cause))
        return missing(code, m?.[1], undefined)
      }
      default:
        return shared(code, driverMessage(cause), cause) ?? other(code, false)
    }
  }
}

