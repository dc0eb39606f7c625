/**
 * Drizzle ORM, written the way its documentation shows, on the tables the library created:
 * the single-row workloads, bulkCreate and the keyset walk. Same statements as the nodes where
 * Drizzle can say them (the nodes write no NULLS FIRST / LAST for NOT NULL columns), and every
 * list and page fetches limit + 1 rows as the nodes do (to know whether a next page
 * exists). The walk is Drizzle's cursor-based pagination guide with two cursor columns
 * (`where(and(lte(price, p), or(lt(price, p), and(eq(price, p), gt(id, i)))))`, with the bound the nodes add).
 */
import type Database from "better-sqlite3"
import { and, asc, count, desc, eq, gt, lt, lte, or } from "drizzle-orm"
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3"
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres"
import * as pgCore from "drizzle-orm/pg-core"
import * as sqliteCore from "drizzle-orm/sqlite-core"
import type pg from "pg"
import type { Item } from "../model.js"
import { LIST_LIMIT, WALK_PAGE } from "../model.js"
import type { PromiseOps } from "../ops.js"
import { walkKey } from "../ops.js"
import { chunks, walkPageOf } from "../sql.js"

/** ISO-8601 text, the way the library stores datetimes on SQLite. */
const isoDate = sqliteCore.customType<{ data: Date; driverData: string }>({
  dataType: () => "text",
  toDriver: (d) => d.toISOString(),
  fromDriver: (s) => new Date(s)
})

const sqliteTable = (name: string) =>
  sqliteCore.sqliteTable(name, {
    id: sqliteCore.integer("id").primaryKey({ autoIncrement: true }),
    sku: sqliteCore.text("sku").notNull(),
    name: sqliteCore.text("name").notNull(),
    category: sqliteCore.text("category").notNull(),
    price: sqliteCore.real("price").notNull(),
    qty: sqliteCore.integer("qty").notNull(),
    active: sqliteCore.integer("active", { mode: "boolean" }).notNull(),
    createdAt: isoDate("created_at").notNull(),
    updatedAt: isoDate("updated_at").notNull()
  })

const pgTable = (name: string) =>
  pgCore.pgTable(name, {
    id: pgCore.bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    sku: pgCore.varchar("sku", { length: 64 }).notNull(),
    name: pgCore.varchar("name", { length: 100 }).notNull(),
    category: pgCore.varchar("category", { length: 16 }).notNull(),
    price: pgCore.doublePrecision("price").notNull(),
    qty: pgCore.bigint("qty", { mode: "number" }).notNull(),
    active: pgCore.boolean("active").notNull(),
    createdAt: pgCore.timestamp("created_at", { withTimezone: true, precision: 3, mode: "date" }).notNull(),
    updatedAt: pgCore.timestamp("updated_at", { withTimezone: true, precision: 3, mode: "date" }).notNull()
  })

export const drizzleSqliteOps = (client: Database.Database): PromiseOps => {
  const db = drizzleSqlite({ client })
  const items = sqliteTable("bench_items")
  const writes = sqliteTable("bench_writes")
  const walk = sqliteTable("bench_walk")
  return {
    create: async (row) => {
      const now = new Date()
      return db.insert(writes).values({ ...row, createdAt: now, updatedAt: now }).returning().get() as Item
    },
    read: async (id) => db.select().from(items).where(eq(items.id, id)).get(),
    list: async (category) =>
      db.select().from(items).where(eq(items.category, category)).orderBy(desc(items.price), asc(items.id))
        .limit(LIST_LIMIT + 1).all().slice(0, LIST_LIMIT),
    count: async (category) => db.select({ n: count() }).from(items).where(eq(items.category, category)).get()?.n ?? 0,
    update: async (id, patch) =>
      db.update(items).set({ ...patch, updatedAt: new Date() }).where(eq(items.id, id)).returning().get() as Item,
    bulkCreate: async (rows) => {
      const now = new Date()
      db.transaction((tx) => {
        for (const chunk of chunks(rows)) {
          tx.insert(writes).values(chunk.map((r) => ({ ...r, createdAt: now, updatedAt: now }))).run()
        }
      })
      return rows.length
    },
    walkPage: async (cursor) => {
      const after = cursor === undefined ? undefined : walkKey(cursor)
      const rows = db.select().from(walk)
        .where(
          after === undefined
            ? undefined
            : and(lte(walk.price, after.price), or(lt(walk.price, after.price), and(eq(walk.price, after.price), gt(walk.id, after.id))))
        )
        .orderBy(desc(walk.price), asc(walk.id)).limit(WALK_PAGE + 1).all()
      return walkPageOf(rows, (r) => r)
    }
  }
}

export const drizzlePgOps = (pool: pg.Pool): PromiseOps => {
  const db = drizzlePg({ client: pool })
  const items = pgTable("bench_items")
  const writes = pgTable("bench_writes")
  const walk = pgTable("bench_walk")
  return {
    create: async (row) => {
      const now = new Date()
      const [stored] = await db.insert(writes).values({ ...row, createdAt: now, updatedAt: now }).returning()
      return stored!
    },
    read: async (id) => (await db.select().from(items).where(eq(items.id, id)))[0],
    list: async (category) =>
      (await db.select().from(items).where(eq(items.category, category))
        .orderBy(desc(items.price), asc(items.id)).limit(LIST_LIMIT + 1))
        .slice(0, LIST_LIMIT),
    count: async (category) => (await db.select({ n: count() }).from(items).where(eq(items.category, category)))[0]?.n ?? 0,
    update: async (id, patch) => {
      const [stored] = await db.update(items).set({ ...patch, updatedAt: new Date() }).where(eq(items.id, id)).returning()
      return stored!
    },
    bulkCreate: async (rows) => {
      const now = new Date()
      await db.transaction(async (tx) => {
        for (const chunk of chunks(rows)) {
          await tx.insert(writes).values(chunk.map((r) => ({ ...r, createdAt: now, updatedAt: now })))
        }
      })
      return rows.length
    },
    walkPage: async (cursor) => {
      const after = cursor === undefined ? undefined : walkKey(cursor)
      const rows = await db.select().from(walk)
        .where(
          after === undefined
            ? undefined
            : and(lte(walk.price, after.price), or(lt(walk.price, after.price), and(eq(walk.price, after.price), gt(walk.id, after.id))))
        )
        .orderBy(desc(walk.price), asc(walk.id)).limit(WALK_PAGE + 1)
      return walkPageOf(rows, (r) => r)
    }
  }
}
