/**
 * The statements the generated nodes send for the benchmark's model, written out by hand per
 * dialect, with the same value encoding and a hand-written row mapper. The hand-written
 * `@effect/sql` rows and the raw-driver rows both use these, so every row of a table runs
 * the same SQL (checked against the nodes' own statements by `bench/check-sql.ts`).
 */
import type { DbName } from "./config.js"
import type { Item, NewItem, TableName } from "./model.js"
import { LIST_LIMIT, WALK_PAGE } from "./model.js"
import type { WalkKey, WalkPage } from "./ops.js"

/**
 * Rows per multi-row statement; the nodes use min(1000, maxParams / columns), 1000 here. Also
 * the peers' builder chunk: on PostgreSQL, Drizzle's and Kysely's `.values(rows)` took about
 * as long with 500 or 2,000 rows a statement and clearly longer with 8,191 (the most 65,535
 * parameters hold), so 1,000 is their fastest builder method too.
 */
export const CHUNK = 1000
/** Rows per UNNEST statement: the nodes' bulkCreate / bulkUpsert chunk on PostgreSQL. */
export const UNNEST_CHUNK = 10_000

/** One statement of a bulk write: its text and parameters. */
export interface Bound {
  readonly text: string
  readonly params: Array<unknown>
}

/** Insert columns: the generated id is left out. */
const insertColumns = ["sku", "name", "category", "price", "qty", "active", "created_at", "updated_at"] as const
const columns = ["id", ...insertColumns] as const
/** PostgreSQL element types of the insert columns, for the UNNEST insert. */
const pgArrayTypes: Record<(typeof insertColumns)[number], string> = {
  sku: "text",
  name: "text",
  category: "text",
  price: "float8",
  qty: "int8",
  active: "bool",
  created_at: "timestamptz",
  updated_at: "timestamptz"
}
/** ON CONFLICT (sku): every column but the key, the primary key and created_at takes the new value. */
const upsertColumns = ["name", "category", "price", "qty", "active", "updated_at"] as const

export type SqlRow = Record<string, unknown>

export interface Statements {
  readonly dialect: DbName
  readonly returning: boolean
  readonly insert: (table: string, rows: number, returning: boolean) => string
  /** Copies a template table's rows into `table` (untimed seeding). */
  readonly copyFrom: (table: TableName, template: string) => string
  /** An empty table with the insert columns of bench_writes (a template). */
  readonly createTemplate: (template: string) => string
  readonly selectById: (table: TableName) => string
  readonly list: (table: TableName) => string
  readonly count: (table: TableName) => string
  /** The first page of the keyset walk: no keyset condition. */
  readonly walkFirst: (table: TableName) => string
  /**
   * Every further page of the keyset walk: the rows after the previous page's last one in
   * `price DESC, id ASC` order. Parameters: its price, its price again, its id.
   */
  readonly walkNext: (table: TableName) => string
  /** The parameters of `walkNext` after the row with this sort key, in the nodes' order. */
  readonly walkParams: (after: WalkKey) => Array<unknown>
  /** A page from the rows of `walkFirst` / `walkNext`: the nodes know there is a next page from the extra row. */
  readonly walkPage: (rows: ReadonlyArray<SqlRow>) => WalkPage
  /** UPDATE … SET name, qty, updated_at WHERE id (RETURNING the row where supported). */
  readonly update: (table: TableName) => string
  /** UPDATE … SET qty, updated_at WHERE category. */
  readonly bulkUpdate: (table: TableName) => string
  readonly bulkDelete: (table: TableName) => string
  /**
   * Rows per statement of the nodes' bulkCreate and bulkUpsert: PostgreSQL binds each column
   * as one array (`INSERT … SELECT * FROM UNNEST($1::text[], …)`, UNNEST_CHUNK rows), the
   * others write multi-row `INSERT … VALUES` of CHUNK rows.
   */
  readonly bulkChunk: number
  /** How the nodes' bulkCreate writes, for the report. */
  readonly bulkMethod: string
  /** The nodes' bulkCreate statement for one chunk (at most `bulkChunk` rows). */
  readonly bulkInsert: (table: TableName, rows: ReadonlyArray<NewItem>, now: Date) => Bound
  /** Multi-row `INSERT … VALUES` for one chunk (at most CHUNK rows), on every dialect. */
  readonly valuesInsert: (table: string, rows: ReadonlyArray<NewItem>, now: Date) => Bound
  /**
   * The nodes' bulkUpsert statement for one chunk (at most `bulkChunk` rows): the bulk insert
   * with ON CONFLICT (sku) DO UPDATE / ON DUPLICATE KEY UPDATE (PostgreSQL: RETURNING whether
   * each row was inserted).
   */
  readonly bulkUpsert: (table: TableName, rows: ReadonlyArray<NewItem>, now: Date) => Bound
  /** Selects the keys of a chunk that already exist (SQLite, MySQL: they cannot tell inserted from updated). */
  readonly existing: (table: TableName, keys: number) => string
  /** Appends the insert parameters of one row. */
  readonly encode: (row: NewItem, now: Date, into: Array<unknown>) => void
  readonly encodeDate: (d: Date) => unknown
  readonly decode: (row: SqlRow) => Item
  /** Rows changed by a write, from the driver's raw result. */
  readonly affected: (raw: unknown) => number
  /** Generated id of an insert, from the driver's raw result (MySQL). */
  readonly insertId: (raw: unknown) => number
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")
/** A Date as MySQL DATETIME(3) text, UTC (what the nodes bind). */
export const mysqlDatetime = (d: Date) =>
  `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`

const noNegativeZero = (v: number) => (Object.is(v, -0) ? 0 : v)

export const statements = (dialect: DbName): Statements => {
  const q = dialect === "mysql" ? (id: string) => `\`${id}\`` : (id: string) => `"${id}"`
  const p = dialect === "pg" ? (n: number) => `$${n}` : () => "?"
  const selectList = columns.map((c) =>
    dialect === "mysql" && (c === "created_at" || c === "updated_at")
      ? `DATE_FORMAT(${q(c)}, '%Y-%m-%d %H:%i:%s.%f') AS ${q(c)}`
      : q(c)
  ).join(", ")
  // no NULLS FIRST / LAST on PostgreSQL: the nodes add it to nullable columns only
  const order = `${q("price")} DESC, ${q("id")} ASC`
  const returning = dialect !== "mysql"
  const insertTexts = new Map<string, string>()
  const insert = (table: string, rows: number, withReturning: boolean) => {
    const key = `${table}:${rows}:${withReturning}`
    let text = insertTexts.get(key)
    if (text === undefined) {
      let n = 0
      const tuples: Array<string> = []
      for (let i = 0; i < rows; i++) tuples.push(`(${insertColumns.map(() => p(++n)).join(", ")})`)
      text = `INSERT INTO ${q(table)} (${insertColumns.map(q).join(", ")}) VALUES ${tuples.join(", ")}${
        withReturning ? ` RETURNING ${selectList}` : ""
      }`
      insertTexts.set(key, text)
    }
    return text
  }
  const conflict = dialect === "mysql"
    ? ` ON DUPLICATE KEY UPDATE ${upsertColumns.map((c) => `${q(c)} = VALUES(${q(c)})`).join(", ")}`
    : ` ON CONFLICT (${q("sku")}) DO UPDATE SET ${upsertColumns.map((c) => `${q(c)} = excluded.${q(c)}`).join(", ")}`
  const encodeDate = dialect === "mysql" ? mysqlDatetime : (d: Date) => d.toISOString()
  const encodeBool = dialect === "pg" ? (b: boolean) => b : (b: boolean) => (b ? 1 : 0)
  const encode = (row: NewItem, now: Date, into: Array<unknown>) => {
    const d = encodeDate(now)
    into.push(row.sku, row.name, row.category, noNegativeZero(row.price), row.qty, encodeBool(row.active), d, d)
  }
  const valuesInsert = (table: string, rows: ReadonlyArray<NewItem>, now: Date): Bound => {
    const params: Array<unknown> = []
    for (const r of rows) encode(r, now, params)
    return { text: insert(table, rows.length, false), params }
  }
  const unnestTexts = new Map<string, string>()
  const unnestText = (table: string) => {
    let text = unnestTexts.get(table)
    if (text === undefined) {
      text = `INSERT INTO ${q(table)} (${insertColumns.map(q).join(", ")}) SELECT * FROM UNNEST(${
        insertColumns.map((c, i) => `${p(i + 1)}::${pgArrayTypes[c]}[]`).join(", ")
      })`
      unnestTexts.set(table, text)
    }
    return text
  }
  /** The insert parameters of `rows` as one array per column (the same values as `encode`). */
  const unnestInsert = (table: string, rows: ReadonlyArray<NewItem>, now: Date): Bound => {
    const n = rows.length
    const sku = new Array<unknown>(n)
    const name = new Array<unknown>(n)
    const category = new Array<unknown>(n)
    const price = new Array<unknown>(n)
    const qty = new Array<unknown>(n)
    const active = new Array<unknown>(n)
    const stamp = new Array<unknown>(n).fill(encodeDate(now))
    for (let i = 0; i < n; i++) {
      const r = rows[i]!
      sku[i] = r.sku
      name[i] = r.name
      category[i] = r.category
      price[i] = noNegativeZero(r.price)
      qty[i] = r.qty
      active[i] = encodeBool(r.active)
    }
    // created_at and updated_at: the same values
    return { text: unnestText(table), params: [sku, name, category, price, qty, active, stamp, stamp] }
  }
  const bulkInsert = dialect === "pg" ? unnestInsert : valuesInsert
  const decodeDate = dialect === "pg"
    ? (raw: unknown) => (raw instanceof Date ? raw : new Date(String(raw)))
    : dialect === "mysql"
    ? (raw: unknown) => new Date(`${String(raw).replace(" ", "T").slice(0, 23)}Z`)
    : (raw: unknown) => new Date(String(raw))
  const decodeBool = dialect === "pg" ? (raw: unknown) => raw === true : (raw: unknown) => raw === 1 || raw === true
  const decode = (row: SqlRow): Item => ({
    id: Number(row.id),
    sku: row.sku as string,
    name: row.name as string,
    category: row.category as string,
    price: Number(row.price),
    qty: Number(row.qty),
    active: decodeBool(row.active),
    createdAt: decodeDate(row.created_at),
    updatedAt: decodeDate(row.updated_at)
  })
  return {
    dialect,
    returning,
    insert,
    copyFrom: (table, template) =>
      `INSERT INTO ${q(table)} (${insertColumns.map(q).join(", ")}) SELECT ${insertColumns.map(q).join(", ")} FROM ${q(template)}`,
    createTemplate: (template) =>
      `CREATE TABLE ${q(template)} AS SELECT ${insertColumns.map(q).join(", ")} FROM ${q("bench_writes")} WHERE 1 = 0`,
    selectById: (table) => `SELECT ${selectList} FROM ${q(table)} WHERE ${q("id")} = ${p(1)}`,
    // the nodes fetch one row more than the limit, to know whether there is a next page
    list: (table) =>
      `SELECT ${selectList} FROM ${q(table)} WHERE ${q("category")} = ${p(1)} ORDER BY ${order} LIMIT ${LIST_LIMIT + 1}`,
    count: (table) => `SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${q("category")} = ${p(1)}`,
    // the nodes' list with a cursor (`orderBy: ["-price"]`, price NOT NULL), over-fetching one row as well
    walkFirst: (table) => `SELECT ${selectList} FROM ${q(table)} ORDER BY ${order} LIMIT ${WALK_PAGE + 1}`,
    // with the redundant leading bound the nodes add (an index on price could serve a range)
    walkNext: (table) =>
      `SELECT ${selectList} FROM ${q(table)} WHERE ${q("price")} <= ${p(1)} AND (${q("price")} < ${p(2)} OR (${
        q("price")
      } = ${p(3)} AND ${q("id")} > ${p(4)})) ORDER BY ${order} LIMIT ${WALK_PAGE + 1}`,
    walkParams: (after) => [after.price, after.price, after.price, after.id],
    walkPage: (rows) => walkPageOf(rows, decode),
    update: (table) =>
      `UPDATE ${q(table)} SET ${q("name")} = ${p(1)}, ${q("qty")} = ${p(2)}, ${q("updated_at")} = ${p(3)} WHERE ${
        q("id")
      } = ${p(4)}${returning ? ` RETURNING ${selectList}` : ""}`,
    bulkUpdate: (table) =>
      `UPDATE ${q(table)} SET ${q("qty")} = ${p(1)}, ${q("updated_at")} = ${p(2)} WHERE ${q("category")} = ${p(3)}`,
    bulkDelete: (table) => `DELETE FROM ${q(table)} WHERE ${q("category")} = ${p(1)}`,
    bulkChunk: dialect === "pg" ? UNNEST_CHUNK : CHUNK,
    bulkMethod: dialect === "pg"
      ? `INSERT … SELECT * FROM UNNEST, ${UNNEST_CHUNK.toLocaleString("en-US")}-row chunks`
      : `multi-row INSERT … VALUES, ${CHUNK.toLocaleString("en-US")}-row chunks`,
    bulkInsert,
    valuesInsert,
    bulkUpsert: (table, rows, now) => {
      const b = bulkInsert(table, rows, now)
      return { text: `${b.text}${conflict}${dialect === "pg" ? ` RETURNING (xmax = 0) AS "__created"` : ""}`, params: b.params }
    },
    existing: (table, keys) => {
      const marks: Array<string> = []
      for (let i = 1; i <= keys; i++) marks.push(p(i))
      return `SELECT ${q("id")} AS k FROM ${q(table)} WHERE ${q("sku")} IN (${marks.join(", ")})${
        dialect === "mysql" ? " FOR UPDATE" : ""
      }`
    },
    encode,
    encodeDate,
    decode,
    affected: dialect === "pg"
      ? (raw) => Number((raw as { rowCount?: number | null }).rowCount ?? 0)
      : dialect === "mysql"
      ? (raw) => Number((raw as { affectedRows?: number }).affectedRows ?? 0)
      : (raw) => Number((raw as { changes?: number }).changes ?? 0),
    insertId: (raw) => Number((raw as { insertId?: unknown; lastInsertRowid?: unknown }).insertId ??
      (raw as { lastInsertRowid?: unknown }).lastInsertRowid)
  }
}

/**
 * A page of the keyset walk from the rows a page statement returned (at most WALK_PAGE + 1):
 * the first WALK_PAGE, and when there was one more, the sort key of the last of them.
 */
export const walkPageOf = <R>(rows: ReadonlyArray<R>, decode: (row: R) => Item): WalkPage => {
  const more = rows.length > WALK_PAGE
  const records = (more ? rows.slice(0, WALK_PAGE) : rows).map(decode)
  const last = records[records.length - 1]
  return { records, next: more && last !== undefined ? { price: last.price, id: last.id } : undefined }
}

/** Splits rows into statement-sized chunks. */
export const chunks = <A>(rows: ReadonlyArray<A>, size = CHUNK): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return out
}
