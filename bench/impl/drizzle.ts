/**
 * Drizzle ORM, written the way its documentation shows, on the tables the library created:
 * the single-row workloads, bulkCreate and the keyset walk. Same statements as the nodes where
 * Drizzle can say them (the nodes write no NULLS FIRST / LAST for NOT NULL columns), and every
 * list and page fetches limit + 1 rows as the nodes do (to know whether a next page
 * exists). The walk is Drizzle's cursor-based pagination guide with two cursor columns
 * (`where(and(lte(price, p), or(lt(price, p), and(eq(price, p), gt(id, i)))))`, with the bound the nodes add).
 *
 * Two rows per database: the query builder (a statement built, and on SQLite prepared, on
 * every call; on PostgreSQL sent unnamed), and Drizzle's documented fast path, every
 * statement built once with `.prepare()` and `sql.placeholder(...)` for its values (on
 * PostgreSQL `.prepare(name)`: a named prepared statement, parsed and planned once per
 * connection). PostgreSQL bulkCreate has a third way: the nodes' UNNEST insert written in
 * Drizzle's `sql` template, one array parameter per column (`sql.param(array)`).
 */
import type Database from "better-sqlite3"
import { and, asc, count, desc, eq, gt, lt, lte, or, sql } from "drizzle-orm"
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3"
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres"
import * as pgCore from "drizzle-orm/pg-core"
import * as sqliteCore from "drizzle-orm/sqlite-core"
import type pg from "pg"
import type { Item, NewItem } from "../model.js"
import { LIST_LIMIT, WALK_PAGE } from "../model.js"
import type { PromiseOps } from "../ops.js"
import { walkKey } from "../ops.js"
import type { Statements } from "../sql.js"
import { chunks, UNNEST_CHUNK, walkPageOf } from "../sql.js"

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

/** The walk's keyset condition with placeholders for the previous page's last price and id. */
const keysetAfter = <C extends { price: Parameters<typeof lt>[0]; id: Parameters<typeof gt>[0] }>(t: C) =>
  and(
    lte(t.price, sql.placeholder("price")),
    or(lt(t.price, sql.placeholder("price")), and(eq(t.price, sql.placeholder("price")), gt(t.id, sql.placeholder("id"))))
  )

/** Insert values as placeholders, one per column (filled from the row and its timestamps). */
const insertPlaceholders = {
  sku: sql.placeholder("sku"),
  name: sql.placeholder("name"),
  category: sql.placeholder("category"),
  price: sql.placeholder("price"),
  qty: sql.placeholder("qty"),
  active: sql.placeholder("active"),
  createdAt: sql.placeholder("createdAt"),
  updatedAt: sql.placeholder("updatedAt")
}

/**
 * `set()` takes no placeholder, but an `sql` fragment that holds one (as in Drizzle's
 * prepared-statement docs); such a value skips the column's encoder, so `updatedAt` is given
 * as the ISO text the column stores.
 */
const updatePlaceholders = {
  name: sql`${sql.placeholder("name")}`,
  qty: sql`${sql.placeholder("qty")}`,
  updatedAt: sql`${sql.placeholder("updatedAt")}`
}

/**
 * Drizzle's prepared statements on better-sqlite3: each statement built and prepared once.
 * bulkCreate runs the prepared single-row insert for every row inside one `db.transaction`,
 * Drizzle's fastest way to insert many rows on SQLite (a prepared better-sqlite3 statement
 * per row costs less than building a 1,000-row statement).
 */
export const drizzleSqlitePreparedOps = (client: Database.Database): PromiseOps => {
  const db = drizzleSqlite({ client })
  const items = sqliteTable("bench_items")
  const writes = sqliteTable("bench_writes")
  const walk = sqliteTable("bench_walk")
  const create = db.insert(writes).values(insertPlaceholders).returning().prepare()
  const insert = db.insert(writes).values(insertPlaceholders).prepare()
  const read = db.select().from(items).where(eq(items.id, sql.placeholder("id"))).prepare()
  const list = db.select().from(items).where(eq(items.category, sql.placeholder("category")))
    .orderBy(desc(items.price), asc(items.id)).limit(LIST_LIMIT + 1).prepare()
  const countOf = db.select({ n: count() }).from(items).where(eq(items.category, sql.placeholder("category"))).prepare()
  const update = db.update(items).set(updatePlaceholders).where(eq(items.id, sql.placeholder("id"))).returning().prepare()
  const walkFirst = db.select().from(walk).orderBy(desc(walk.price), asc(walk.id)).limit(WALK_PAGE + 1).prepare()
  const walkNext = db.select().from(walk).where(keysetAfter(walk)).orderBy(desc(walk.price), asc(walk.id))
    .limit(WALK_PAGE + 1).prepare()
  return {
    create: async (row) => {
      const now = new Date()
      return create.get({ ...row, createdAt: now, updatedAt: now }) as Item
    },
    read: async (id) => read.get({ id }),
    list: async (category) => list.all({ category }).slice(0, LIST_LIMIT),
    count: async (category) => countOf.get({ category })?.n ?? 0,
    update: async (id, patch) => update.get({ ...patch, updatedAt: new Date().toISOString(), id }) as Item,
    bulkCreate: async (rows) => {
      const now = new Date()
      let inserted = 0
      db.transaction(() => {
        for (const row of rows) inserted += insert.run({ ...row, createdAt: now, updatedAt: now }).changes
      })
      return inserted
    },
    walkPage: async (cursor) =>
      walkPageOf(cursor === undefined ? walkFirst.all() : walkNext.all({ ...walkKey(cursor) }), (r) => r)
  }
}

/**
 * Drizzle's builder on node-postgres. bulkCreate: multi-row `.values(rows)` of CHUNK rows (its
 * fastest chunk here, see CHUNK), in one transaction.
 */
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

/**
 * Drizzle's prepared statements on node-postgres: each statement built once and prepared
 * with a name (`.prepare("name")`), so node-postgres sends it as a named prepared statement.
 * No bulkCreate of its own: a multi-row insert has a text per row count (see the builder
 * row and `drizzlePgUnnestBulkCreate`).
 */
export const drizzlePgPreparedOps = (pool: pg.Pool): Omit<PromiseOps, "bulkCreate"> => {
  const db = drizzlePg({ client: pool })
  const items = pgTable("bench_items")
  const writes = pgTable("bench_writes")
  const walk = pgTable("bench_walk")
  const create = db.insert(writes).values(insertPlaceholders).returning().prepare("bench_create")
  const read = db.select().from(items).where(eq(items.id, sql.placeholder("id"))).prepare("bench_read")
  const list = db.select().from(items).where(eq(items.category, sql.placeholder("category")))
    .orderBy(desc(items.price), asc(items.id)).limit(LIST_LIMIT + 1).prepare("bench_list")
  const countOf = db.select({ n: count() }).from(items).where(eq(items.category, sql.placeholder("category")))
    .prepare("bench_count")
  const update = db.update(items).set(updatePlaceholders).where(eq(items.id, sql.placeholder("id"))).returning()
    .prepare("bench_update")
  const walkFirst = db.select().from(walk).orderBy(desc(walk.price), asc(walk.id)).limit(WALK_PAGE + 1)
    .prepare("bench_walk_first")
  const walkNext = db.select().from(walk).where(keysetAfter(walk)).orderBy(desc(walk.price), asc(walk.id))
    .limit(WALK_PAGE + 1).prepare("bench_walk_next")
  return {
    create: async (row) => {
      const now = new Date()
      return (await create.execute({ ...row, createdAt: now, updatedAt: now }))[0]!
    },
    read: async (id) => (await read.execute({ id }))[0],
    list: async (category) => (await list.execute({ category })).slice(0, LIST_LIMIT),
    count: async (category) => (await countOf.execute({ category }))[0]?.n ?? 0,
    update: async (id, patch) => (await update.execute({ ...patch, updatedAt: new Date().toISOString(), id }))[0]!,
    walkPage: async (cursor) =>
      walkPageOf(cursor === undefined ? await walkFirst.execute() : await walkNext.execute({ ...walkKey(cursor) }), (r) => r)
  }
}

/**
 * bulkCreate on Drizzle with the nodes' statement: `INSERT … SELECT * FROM UNNEST($1::text[], …)`
 * written in Drizzle's `sql` template, each column one array parameter (`sql.param(array)`),
 * UNNEST_CHUNK rows a statement as the nodes send, in one transaction. The arrays are the
 * benchmark's own encoding of the rows (`s.bulkInsert`), as for the raw-driver row.
 */
export const drizzlePgUnnestBulkCreate = (pool: pg.Pool, s: Statements) => {
  const db = drizzlePg({ client: pool })
  const writes = pgTable("bench_writes")
  return async (rows: ReadonlyArray<NewItem>): Promise<number> => {
    const now = new Date()
    let inserted = 0
    await db.transaction(async (tx) => {
      for (const chunk of chunks(rows, UNNEST_CHUNK)) {
        const [sku, name, category, price, qty, active, createdAt, updatedAt] = s.bulkInsert("bench_writes", chunk, now).params
        const result = await tx.execute(sql`INSERT INTO ${writes} (sku, name, category, price, qty, active, created_at, updated_at)
          SELECT * FROM UNNEST(${sql.param(sku)}::text[], ${sql.param(name)}::text[], ${sql.param(category)}::text[],
            ${sql.param(price)}::float8[], ${sql.param(qty)}::int8[], ${sql.param(active)}::bool[],
            ${sql.param(createdAt)}::timestamptz[], ${sql.param(updatedAt)}::timestamptz[])`)
        inserted += result.rowCount ?? 0
      }
    })
    return inserted
  }
}
