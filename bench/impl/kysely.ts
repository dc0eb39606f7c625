/**
 * Kysely, written the way its documentation shows, on the tables the library created: the
 * single-row workloads, bulkCreate and the keyset walk. Kysely returns driver rows, so they go
 * through the same hand-written row mapper as the raw-driver rows. Lists and pages fetch
 * limit + 1 rows, as the nodes do, and sort as the nodes sort. The walk's keyset condition is
 * an expression-builder `or` / `and` (`eb.or([eb("price", "<", p), eb.and([…])])`).
 *
 * Kysely has no prepared-statement API: every call builds and compiles its query (on
 * PostgreSQL sent unnamed). bulkCreate: `.values(rows)` of CHUNK (1,000) rows, its fastest
 * chunk (see CHUNK); on PostgreSQL also a second row with the nodes' UNNEST insert written in
 * Kysely's `sql` template (an array interpolated into it is one parameter).
 */
import type Database from "better-sqlite3"
import type { ColumnType, Generated } from "kysely"
import { Kysely, PostgresDialect, sql, SqliteDialect } from "kysely"
import type pg from "pg"
import type { NewItem } from "../model.js"
import { LIST_LIMIT, WALK_PAGE } from "../model.js"
import type { PromiseOps } from "../ops.js"
import { walkKey } from "../ops.js"
import type { SqlRow, Statements } from "../sql.js"
import { chunks, UNNEST_CHUNK, walkPageOf } from "../sql.js"

interface SqliteItemTable {
  readonly id: Generated<number>
  readonly sku: string
  readonly name: string
  readonly category: string
  readonly price: number
  readonly qty: number
  readonly active: number
  readonly created_at: string
  readonly updated_at: string
}

interface PgItemTable {
  /** BIGINT: node-postgres returns it as text. */
  readonly id: ColumnType<string, never, never>
  readonly sku: string
  readonly name: string
  readonly category: string
  readonly price: number
  readonly qty: ColumnType<string, number, number>
  readonly active: boolean
  readonly created_at: ColumnType<Date, string, string>
  readonly updated_at: ColumnType<Date, string, string>
}

interface SqliteDb {
  readonly bench_items: SqliteItemTable
  readonly bench_writes: SqliteItemTable
  readonly bench_walk: SqliteItemTable
}

interface PgDb {
  readonly bench_items: PgItemTable
  readonly bench_writes: PgItemTable
  readonly bench_walk: PgItemTable
}

export interface KyselyPeer {
  readonly ops: PromiseOps
  readonly close: () => Promise<void>
}

export interface KyselyPgPeer extends KyselyPeer {
  /** bulkCreate with the nodes' UNNEST statement in Kysely's `sql` template, UNNEST_CHUNK rows a statement. */
  readonly unnestBulkCreate: (rows: ReadonlyArray<NewItem>) => Promise<number>
}

export const kyselySqliteOps = (database: Database.Database, s: Statements): KyselyPeer => {
  const db = new Kysely<SqliteDb>({ dialect: new SqliteDialect({ database }) })
  const values = (r: NewItem, now: string) => ({ ...r, active: r.active ? 1 : 0, created_at: now, updated_at: now })
  const decode = (row: object) => s.decode(row as SqlRow)
  return {
    ops: {
      create: async (row) =>
        decode(await db.insertInto("bench_writes").values(values(row, new Date().toISOString())).returningAll()
          .executeTakeFirstOrThrow()),
      read: async (id) => {
        const row = await db.selectFrom("bench_items").selectAll().where("id", "=", id).executeTakeFirst()
        return row === undefined ? undefined : decode(row)
      },
      list: async (category) =>
        (await db.selectFrom("bench_items").selectAll().where("category", "=", category).orderBy("price", "desc")
          .orderBy("id", "asc").limit(LIST_LIMIT + 1).execute()).slice(0, LIST_LIMIT).map(decode),
      count: async (category) =>
        Number(
          (await db.selectFrom("bench_items").select((eb) => eb.fn.countAll().as("n")).where("category", "=", category)
            .executeTakeFirstOrThrow()).n
        ),
      update: async (id, patch) =>
        decode(
          await db.updateTable("bench_items").set({ ...patch, updated_at: new Date().toISOString() }).where("id", "=", id)
            .returningAll().executeTakeFirstOrThrow()
        ),
      bulkCreate: async (rows) => {
        const now = new Date().toISOString()
        await db.transaction().execute(async (trx) => {
          for (const chunk of chunks(rows)) {
            await trx.insertInto("bench_writes").values(chunk.map((r) => values(r, now))).execute()
          }
        })
        return rows.length
      },
      walkPage: async (cursor) => {
        let query = db.selectFrom("bench_walk").selectAll()
        if (cursor !== undefined) {
          const after = walkKey(cursor)
          query = query.where((eb) =>
            eb.and([eb("price", "<=", after.price), eb.or([eb("price", "<", after.price), eb.and([eb("price", "=", after.price), eb("id", ">", after.id)])])])
          )
        }
        return walkPageOf(await query.orderBy("price", "desc").orderBy("id", "asc").limit(WALK_PAGE + 1).execute(), decode)
      }
    },
    close: () => db.destroy()
  }
}

export const kyselyPgOps = (pool: pg.Pool, s: Statements): KyselyPgPeer => {
  const db = new Kysely<PgDb>({ dialect: new PostgresDialect({ pool }) })
  const values = (r: NewItem, now: string) => ({ ...r, created_at: now, updated_at: now })
  const decode = (row: object) => s.decode(row as SqlRow)
  return {
    ops: {
      create: async (row) =>
        decode(await db.insertInto("bench_writes").values(values(row, new Date().toISOString())).returningAll()
          .executeTakeFirstOrThrow()),
      read: async (id) => {
        const row = await db.selectFrom("bench_items").selectAll().where("id", "=", String(id)).executeTakeFirst()
        return row === undefined ? undefined : decode(row)
      },
      list: async (category) =>
        (await db.selectFrom("bench_items").selectAll().where("category", "=", category)
          .orderBy("price", "desc").orderBy("id", "asc").limit(LIST_LIMIT + 1)
          .execute()).slice(0, LIST_LIMIT).map(decode),
      count: async (category) =>
        Number(
          (await db.selectFrom("bench_items").select((eb) => eb.fn.countAll().as("n")).where("category", "=", category)
            .executeTakeFirstOrThrow()).n
        ),
      update: async (id, patch) =>
        decode(
          await db.updateTable("bench_items").set({ ...patch, updated_at: new Date().toISOString() })
            .where("id", "=", String(id)).returningAll().executeTakeFirstOrThrow()
        ),
      bulkCreate: async (rows) => {
        const now = new Date().toISOString()
        await db.transaction().execute(async (trx) => {
          for (const chunk of chunks(rows)) {
            await trx.insertInto("bench_writes").values(chunk.map((r) => values(r, now))).execute()
          }
        })
        return rows.length
      },
      walkPage: async (cursor) => {
        let query = db.selectFrom("bench_walk").selectAll()
        if (cursor !== undefined) {
          const after = walkKey(cursor)
          query = query.where((eb) =>
            eb.and([eb("price", "<=", after.price), eb.or([eb("price", "<", after.price), eb.and([eb("price", "=", after.price), eb("id", ">", String(after.id))])])])
          )
        }
        return walkPageOf(await query.orderBy("price", "desc").orderBy("id", "asc").limit(WALK_PAGE + 1).execute(), decode)
      }
    },
    unnestBulkCreate: async (rows) => {
      const now = new Date()
      let inserted = 0
      await db.transaction().execute(async (trx) => {
        for (const chunk of chunks(rows, UNNEST_CHUNK)) {
          // the benchmark's own encoding of the rows into one array per column, as for the raw-driver row
          const [sku, name, category, price, qty, active, createdAt, updatedAt] = s.bulkInsert("bench_writes", chunk, now).params
          const result = await sql`INSERT INTO bench_writes (sku, name, category, price, qty, active, created_at, updated_at)
            SELECT * FROM UNNEST(${sku}::text[], ${name}::text[], ${category}::text[], ${price}::float8[], ${qty}::int8[],
              ${active}::bool[], ${createdAt}::timestamptz[], ${updatedAt}::timestamptz[])`.execute(trx)
          inserted += Number(result.numAffectedRows ?? 0n)
        }
      })
      return inserted
    },
    close: () => db.destroy()
  }
}
