/**
 * One database under test: its Effect runtime (the library's own `DataFlow.layer`), a raw
 * driver connection, the peers, and untimed helpers to reset and seed tables. PostgreSQL
 * and MySQL work in a schema / database named after the run, dropped by `close`; SQLite in a
 * file in a fresh temporary directory, removed by `close`.
 */
import Database from "better-sqlite3"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import mysql from "mysql2/promise"
import pg from "pg"
import { ManagedRuntime } from "effect"
import { DataFlow } from "../src/index.js"
import type { Config, DbName } from "./config.js"
import type { StatementRunner } from "./impl/effect.js"
import { pgNamedStatements } from "./impl/effect.js"
import {
  drizzlePgOps,
  drizzlePgPreparedOps,
  drizzlePgUnnestBulkCreate,
  drizzleSqliteOps,
  drizzleSqlitePreparedOps
} from "./impl/drizzle.js"
import { kyselyPgOps, kyselySqliteOps } from "./impl/kysely.js"
import { mysqlRawOps, pgRawOps, pgValuesBulkCreate, sqliteRawOps } from "./impl/raw.js"
import type { NewItem, TableName } from "./model.js"
import { Items, Walk, Writes } from "./model.js"
import type { PromiseOps, Runtime } from "./ops.js"
import type { SqlRow, Statements } from "./sql.js"
import { CHUNK, chunks, statements, UNNEST_CHUNK } from "./sql.js"
import { versionOf } from "./versions.js"
import type { Workload } from "./workloads.js"

/** One row of a peer library: a way of using it (query builder, prepared statements, …). */
export interface Peer {
  readonly name: string
  /** The library ("drizzle-orm", "kysely"): the verdict compares the nodes with each library's fastest row. */
  readonly library: string
  readonly ops: PromiseOps
  /** Which way of using the library this row is, in a few words ("query builder", "prepared"). */
  readonly variant: string
  readonly applies: (w: Workload) => boolean
  /** How its bulkCreate writes (shown in the bulkCreate rows). */
  readonly bulkMethod?: string
}

const peerWorkloads = (w: Workload) => w.peers
const noBulkCreate = (w: Workload) => w.peers && w.op !== "bulkCreate"
const peerBulkCreate = (w: Workload) => w.peers && w.op === "bulkCreate"
const rowsText = (n: number) => n.toLocaleString("en-US")
const noPeerBulkCreate = async (): Promise<number> => {
  throw new Error("this peer row has no bulkCreate")
}

/** Another way to bulk-insert on the raw driver, measured next to the raw row (the nodes' statements). */
export interface RawBulkCreate {
  readonly label: string
  readonly bulkCreate: (rows: ReadonlyArray<NewItem>) => Promise<number>
}

export interface Target {
  readonly name: DbName
  readonly title: string
  /** Lines for the report: server version, connection setup. */
  readonly details: ReadonlyArray<string>
  readonly rt: Runtime
  /** What `rt` was opened on (`DataFlow.layer({ url })`): a file path for SQLite. */
  readonly url: string
  readonly stmts: Statements
  readonly rawName: string
  readonly raw: Required<PromiseOps>
  /** Raw-driver alternatives for bulkCreate (PostgreSQL: multi-row VALUES next to the nodes' UNNEST). */
  readonly rawBulkCreates: ReadonlyArray<RawBulkCreate>
  /**
   * A second hand-written floor that prepares its statements like the nodes (PostgreSQL:
   * named prepared statements on its own pg pool); absent where the `@effect/sql` floor
   * already prepares (SQLite, MySQL).
   */
  readonly preparedFloor: StatementRunner | undefined
  readonly peers: ReadonlyArray<Peer>
  /** Empties bench_writes (untimed). */
  readonly resetWrites: () => Promise<void>
  /** Inserts rows with the raw driver in one transaction, then refreshes planner statistics (untimed). */
  readonly seed: (table: TableName, rows: ReadonlyArray<NewItem>) => Promise<void>
  /**
   * Empties bench_writes and fills it with the rows of template `name`, made from `rows` on
   * first use (untimed; a server-side copy, much faster than inserting from the client).
   */
  readonly fillWrites: (name: string, rows: () => ReadonlyArray<NewItem>) => Promise<void>
  readonly itemIds: () => Promise<Array<number>>
  /** Rows in bench_writes (untimed check). */
  readonly countWrites: () => Promise<number>
  readonly close: () => Promise<void>
}

interface Admin {
  readonly exec: (text: string, params?: ReadonlyArray<unknown>) => Promise<unknown>
  readonly rows: (text: string, params?: ReadonlyArray<unknown>) => Promise<Array<SqlRow>>
}

export const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`
/** The schema (PostgreSQL) or database (MySQL) a run works in. */
export const privateName = `dfbench_${runId}`

/** Runs cleanups in reverse order; a failing one is reported and the rest still run. */
const cleanupStack = () => {
  const stack: Array<readonly [string, () => Promise<void> | void]> = []
  return {
    push: (what: string, f: () => Promise<void> | void) => void stack.push([what, f]),
    run: async () => {
      while (stack.length > 0) {
        const [what, f] = stack.pop()!
        try {
          await f()
        } catch (error) {
          console.error(`[bench] cleanup "${what}" failed:`, error instanceof Error ? error.message : error)
        }
      }
    }
  }
}

const insertRows = async (admin: Admin, s: Statements, table: string, rows: ReadonlyArray<NewItem>) => {
  const now = new Date()
  await admin.exec("BEGIN")
  for (const chunk of chunks(rows)) {
    const b = s.valuesInsert(table, chunk, now)
    await admin.exec(b.text, b.params)
  }
  await admin.exec("COMMIT")
}

const seedWith = (admin: Admin, s: Statements, analyze: (table: TableName) => Promise<unknown>) =>
async (table: TableName, rows: ReadonlyArray<NewItem>) => {
  await insertRows(admin, s, table, rows)
  await analyze(table)
}

const fillWith = (
  admin: Admin,
  s: Statements,
  reset: () => Promise<void>,
  analyze: (table: TableName) => Promise<unknown>
) => {
  const made = new Set<string>()
  return async (name: string, rows: () => ReadonlyArray<NewItem>) => {
    const template = `bench_tpl_${name}`
    if (!made.has(template)) {
      await admin.exec(s.createTemplate(template))
      await insertRows(admin, s, template, rows())
      made.add(template)
    }
    await reset()
    await admin.exec(s.copyFrom("bench_writes", template))
    await analyze("bench_writes")
  }
}

const itemIds = (admin: Admin, s: Statements) => async () =>
  (await admin.rows(`SELECT id FROM ${s.dialect === "mysql" ? "`bench_items`" : `"bench_items"`} ORDER BY id`)).map((r) =>
    Number(r.id)
  )

const countWrites = (admin: Admin, s: Statements) => async () =>
  Number((await admin.rows(`SELECT COUNT(*) AS n FROM ${s.dialect === "mysql" ? "`bench_writes`" : `"bench_writes"`}`))[0]?.n)

const startRuntime = async (url: string): Promise<Runtime> => {
  const rt: Runtime = ManagedRuntime.make(DataFlow.layer({ url }))
  // creates the tables with the library's own DDL (and so warms up the client)
  await rt.runPromise(DataFlow.migrate([Items, Writes, Walk]))
  return rt
}

export const openSqlite = async (config: Config): Promise<Target> => {
  const cleanup = cleanupStack()
  try {
    const dir = mkdtempSync(join(tmpdir(), "dfbench-"))
    cleanup.push("remove temporary directory", () => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, "bench.sqlite")
    const s = statements("sqlite")
    // DataFlow.layer on a file path: @effect/sql-sqlite-node, journal_mode = WAL (the library default)
    const rt = await startRuntime(file)
    cleanup.push("dispose runtime", () => rt.dispose())
    const open = () => {
      const db = new Database(file)
      db.pragma("journal_mode = WAL")
      cleanup.push("close connection", () => void db.close())
      return db
    }
    const rawDb = open()
    const admin: Admin = {
      exec: async (text, params = []) => rawDb.prepare(text).run(...params),
      rows: async (text, params = []) => rawDb.prepare(text).all(...params) as Array<SqlRow>
    }
    const peers: Array<Peer> = []
    if (config.peers) {
      const drizzle = `drizzle-orm ${versionOf("drizzle-orm")}`
      const kysely = `kysely ${versionOf("kysely")}`
      peers.push({
        name: `${drizzle}, query builder`,
        library: "drizzle-orm",
        variant: "query builder",
        ops: drizzleSqliteOps(open()),
        applies: peerWorkloads,
        bulkMethod: `multi-row .values(), ${rowsText(CHUNK)}-row chunks`
      })
      peers.push({
        name: `${drizzle}, prepared: .prepare() + sql.placeholder`,
        library: "drizzle-orm",
        variant: "prepared",
        ops: drizzleSqlitePreparedOps(open()),
        applies: peerWorkloads,
        bulkMethod: "the prepared single-row insert, once per row"
      })
      const k = kyselySqliteOps(open(), s)
      peers.push({
        name: kysely,
        library: "kysely",
        variant: "query builder",
        ops: k.ops,
        applies: peerWorkloads,
        bulkMethod: `multi-row .values(), ${rowsText(CHUNK)}-row chunks`
      })
    }
    const version = (await admin.rows("SELECT sqlite_version() AS v"))[0]?.v
    const journal = rawDb.pragma("journal_mode", { simple: true })
    const synchronous = rawDb.pragma("synchronous", { simple: true })
    const resetWrites = async () => {
      rawDb.prepare(`DELETE FROM "bench_writes"`).run()
      rawDb.pragma("wal_checkpoint(TRUNCATE)")
    }
    const checkpoint = async () => rawDb.pragma("wal_checkpoint(TRUNCATE)")
    return {
      name: "sqlite",
      title: "SQLite",
      details: [
        `SQLite ${String(version)} via better-sqlite3 ${versionOf("better-sqlite3")}; a file in ${tmpdir()}, journal_mode=${
          String(journal)
        }, synchronous=${String(synchronous)} (driver defaults); each implementation has its own connection`
      ],
      rt,
      url: file,
      stmts: s,
      rawName: "better-sqlite3",
      raw: sqliteRawOps(rawDb, s),
      rawBulkCreates: [],
      preparedFloor: undefined,
      peers,
      resetWrites,
      seed: seedWith(admin, s, checkpoint),
      fillWrites: fillWith(admin, s, resetWrites, checkpoint),
      itemIds: itemIds(admin, s),
      countWrites: countWrites(admin, s),
      close: cleanup.run
    }
  } catch (error) {
    await cleanup.run()
    throw error
  }
}

/** A PostgreSQL URL whose connections work in `schema` (`search_path`). */
export const pgUrlFor = (base: string, schema: string) => {
  const u = new URL(base)
  u.searchParams.set("options", `-c search_path=${schema}`)
  return u.toString()
}

/** `true` or why the server did not answer. */
export const probe = async (which: "pg" | "mysql", config: Config): Promise<true | string> => {
  try {
    if (which === "pg") {
      const client = new pg.Client({ connectionString: config.pgUrl, connectionTimeoutMillis: 3000 })
      await client.connect()
      await client.query("SELECT 1")
      await client.end()
    } else {
      const conn = await mysql.createConnection({ uri: config.mysqlUrl, connectTimeout: 3000 })
      await conn.query("SELECT 1")
      await conn.end()
    }
    return true
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

export const openPg = async (config: Config): Promise<Target> => {
  const cleanup = cleanupStack()
  try {
    const admin0 = new pg.Client({ connectionString: config.pgUrl })
    await admin0.connect()
    cleanup.push("close admin connection", () => admin0.end())
    await admin0.query(`CREATE SCHEMA "${privateName}"`)
    cleanup.push(`drop schema ${privateName}`, async () => void await admin0.query(`DROP SCHEMA "${privateName}" CASCADE`))
    const url = pgUrlFor(config.pgUrl, privateName)
    const s = statements("pg")
    const rt = await startRuntime(url)
    cleanup.push("dispose runtime", () => rt.dispose())
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    cleanup.push("close raw connection", () => client.end())
    const admin: Admin = {
      exec: (text, params = []) => client.query(text, params as Array<unknown>),
      rows: async (text, params = []) => (await client.query<SqlRow>(text, params as Array<unknown>)).rows
    }
    // the named-statement floor: a pool like the one DataFlow.layer opens (pg defaults)
    const floorPool = new pg.Pool({ connectionString: url, application_name: "effect-dataflow-bench-floor" })
    cleanup.push("close floor pool", () => floorPool.end())
    const peers: Array<Peer> = []
    if (config.peers) {
      const drizzle = `drizzle-orm ${versionOf("drizzle-orm")}`
      const kysely = `kysely ${versionOf("kysely")}`
      const pool = (what: string) => {
        const p = new pg.Pool({ connectionString: url, max: 4 })
        cleanup.push(`close ${what} pool`, () => p.end())
        return p
      }
      const drizzleBuilder = drizzlePgOps(pool("drizzle"))
      peers.push({
        name: `${drizzle}, query builder`,
        library: "drizzle-orm",
        variant: "query builder",
        ops: drizzleBuilder,
        applies: peerWorkloads,
        bulkMethod: `multi-row .values(), ${rowsText(CHUNK)}-row chunks: faster than 500, 2,000 or 8,191`
      })
      peers.push({
        name: `${drizzle}, prepared: .prepare(name) + sql.placeholder`,
        library: "drizzle-orm",
        variant: "prepared",
        ops: { ...drizzlePgPreparedOps(pool("drizzle prepared")), bulkCreate: noPeerBulkCreate },
        applies: noBulkCreate
      })
      peers.push({
        name: `${drizzle}, sql template`,
        library: "drizzle-orm",
        variant: "sql template",
        ops: { ...drizzleBuilder, bulkCreate: drizzlePgUnnestBulkCreate(pool("drizzle sql"), s) },
        applies: peerBulkCreate,
        bulkMethod: `the nodes' UNNEST insert, ${rowsText(UNNEST_CHUNK)}-row chunks`
      })
      const k = kyselyPgOps(new pg.Pool({ connectionString: url, max: 4 }), s)
      cleanup.push("close kysely", k.close)
      peers.push({
        name: kysely,
        library: "kysely",
        variant: "query builder",
        ops: k.ops,
        applies: peerWorkloads,
        bulkMethod: `multi-row .values(), ${rowsText(CHUNK)}-row chunks: faster than 500, 2,000 or 8,191`
      })
      peers.push({
        name: `${kysely}, sql template`,
        library: "kysely",
        variant: "sql template",
        ops: { ...k.ops, bulkCreate: k.unnestBulkCreate },
        applies: peerBulkCreate,
        bulkMethod: `the nodes' UNNEST insert, ${rowsText(UNNEST_CHUNK)}-row chunks`
      })
    }
    const version = (await admin.rows("SHOW server_version"))[0]?.server_version
    const settings = await admin.rows(
      "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers') ORDER BY name"
    )
    const pgReset = async () => void await client.query(`TRUNCATE "bench_writes"`)
    return {
      name: "pg",
      title: "PostgreSQL",
      details: [
        `PostgreSQL ${String(version)} on ${new URL(config.pgUrl).host} (${
          settings.map((r) => `${String(r.name)}=${String(r.setting)}`).join(", ")
        }); schema ${privateName}, dropped at the end`,
        `@effect/sql-pg pool (DataFlow.layer defaults) for the nodes and the @effect/sql rows; a pg.Pool (pg defaults, as DataFlow.layer's) for the named-statement floor; one pg.Client for the raw row; a pg.Pool (max 4) for each Drizzle and Kysely row`
      ],
      rt,
      url,
      stmts: s,
      rawName: "pg",
      raw: pgRawOps(client, s),
      rawBulkCreates: [{
        label: `raw pg, multi-row INSERT … VALUES (${CHUNK.toLocaleString("en-US")}-row chunks)`,
        bulkCreate: pgValuesBulkCreate(client, s)
      }],
      preparedFloor: pgNamedStatements(floorPool),
      peers,
      resetWrites: pgReset,
      seed: seedWith(admin, s, (table) => client.query(`VACUUM ANALYZE "${table}"`)),
      fillWrites: fillWith(admin, s, pgReset, (table) => client.query(`ANALYZE "${table}"`)),
      itemIds: itemIds(admin, s),
      countWrites: countWrites(admin, s),
      close: cleanup.run
    }
  } catch (error) {
    await cleanup.run()
    throw error
  }
}

export const openMysql = async (config: Config): Promise<Target> => {
  const cleanup = cleanupStack()
  try {
    const admin0 = await mysql.createConnection({ uri: config.mysqlUrl })
    cleanup.push("close admin connection", () => admin0.end())
    await admin0.query(`CREATE DATABASE \`${privateName}\``)
    cleanup.push(`drop database ${privateName}`, async () => void await admin0.query(`DROP DATABASE \`${privateName}\``))
    const u = new URL(config.mysqlUrl)
    u.pathname = `/${privateName}`
    const url = u.toString()
    const s = statements("mysql")
    const rt = await startRuntime(url)
    cleanup.push("dispose runtime", () => rt.dispose())
    // the options @effect/sql-mysql2 sets on its pool
    const conn = await mysql.createConnection({ uri: url, supportBigNumbers: true, multipleStatements: true })
    cleanup.push("close raw connection", () => conn.end())
    const admin: Admin = {
      exec: async (text, params = []) => (await conn.query(text, params as Array<unknown>))[0],
      rows: async (text, params = []) => (await conn.query(text, params as Array<unknown>))[0] as Array<SqlRow>
    }
    const version = (await admin.rows("SELECT VERSION() AS v"))[0]?.v
    const settings = (await admin.rows("SELECT @@innodb_flush_log_at_trx_commit AS f, @@innodb_buffer_pool_size AS b"))[0]
    const mysqlReset = async () => void await conn.query("TRUNCATE TABLE `bench_writes`")
    const mysqlAnalyze = (table: TableName) => conn.query(`ANALYZE TABLE \`${table}\``)
    return {
      name: "mysql",
      title: "MariaDB / MySQL",
      details: [
        `${String(version)} on ${u.host} (innodb_flush_log_at_trx_commit=${String(settings?.f)}, innodb_buffer_pool_size=${
          String(settings?.b)
        }); database ${privateName}, dropped at the end`,
        `@effect/sql-mysql2 pool (DataFlow.layer defaults) for the Effect rows; one mysql2 connection (execute, prepared) for the raw row`
      ],
      rt,
      url,
      stmts: s,
      rawName: "mysql2",
      raw: mysqlRawOps(conn, s),
      rawBulkCreates: [],
      preparedFloor: undefined,
      peers: [],
      resetWrites: mysqlReset,
      seed: seedWith(admin, s, mysqlAnalyze),
      fillWrites: fillWith(admin, s, mysqlReset, mysqlAnalyze),
      itemIds: itemIds(admin, s),
      countWrites: countWrites(admin, s),
      close: cleanup.run
    }
  } catch (error) {
    await cleanup.run()
    throw error
  }
}
