/**
 * Drizzle ORM's cold start in the child process: its tables declared from the same specs (on
 * the tables the library created), the client opened the way its docs show, one
 * `select().from(table).where(eq(table.id, 1))`. Drizzle checks no table: it has nothing to
 * do at start but build its table objects.
 */
import type { ColumnSpec, ModelSpec } from "./coldstart-models.js"
import { STATUSES } from "./coldstart-models.js"

type Times = { readonly importMs: number; readonly declareMs: number }

const sqliteStart = async (specs: ReadonlyArray<ModelSpec>, url: string): Promise<Times> => {
  const t0 = performance.now()
  const { eq } = await import("drizzle-orm")
  const core = await import("drizzle-orm/sqlite-core")
  const { drizzle } = await import("drizzle-orm/better-sqlite3")
  const { default: Database } = await import("better-sqlite3")
  const t1 = performance.now()
  const isoDate = core.customType<{ data: Date; driverData: string }>({
    dataType: () => "text",
    toDriver: (d) => d.toISOString(),
    fromDriver: (s) => new Date(s)
  })
  const column = (c: ColumnSpec) => {
    switch (c.type) {
      case "string":
      case "status":
        return core.text(c.column).notNull()
      case "nullableString":
        return core.text(c.column)
      case "int":
        return core.integer(c.column).notNull()
      case "number":
        return core.real(c.column).notNull()
      case "boolean":
        return core.integer(c.column, { mode: "boolean" }).notNull()
      case "date":
        return isoDate(c.column).notNull()
    }
  }
  const tables = specs.map((spec) =>
    core.sqliteTable(spec.table, {
      id: core.integer("id").primaryKey({ autoIncrement: true }),
      ...Object.fromEntries(spec.columns.map((c) => [c.field, column(c)])),
      createdAt: isoDate("created_at").notNull(),
      updatedAt: isoDate("updated_at").notNull()
    })
  )
  const t2 = performance.now()
  const sqlite = new Database(url)
  sqlite.pragma("journal_mode = WAL")
  const db = drizzle({ client: sqlite })
  const first = tables[0]!
  db.select().from(first).where(eq(first.id, 1)).all()
  return { importMs: t1 - t0, declareMs: t2 - t1 }
}

const pgStart = async (specs: ReadonlyArray<ModelSpec>, url: string): Promise<Times> => {
  const t0 = performance.now()
  const { eq } = await import("drizzle-orm")
  const core = await import("drizzle-orm/pg-core")
  const { drizzle } = await import("drizzle-orm/node-postgres")
  const { default: pg } = await import("pg")
  const t1 = performance.now()
  const status = core.pgEnum("cold_status", STATUSES)
  const column = (c: ColumnSpec) => {
    switch (c.type) {
      case "string":
        return core.varchar(c.column, { length: 200 }).notNull()
      case "status":
        return status(c.column).notNull()
      case "nullableString":
        return core.varchar(c.column, { length: 500 })
      case "int":
        return core.bigint(c.column, { mode: "number" }).notNull()
      case "number":
        return core.doublePrecision(c.column).notNull()
      case "boolean":
        return core.boolean(c.column).notNull()
      case "date":
        return core.timestamp(c.column, { withTimezone: true, precision: 3, mode: "date" }).notNull()
    }
  }
  const stamp = (name: string) => core.timestamp(name, { withTimezone: true, precision: 3, mode: "date" }).notNull()
  const tables = specs.map((spec) =>
    core.pgTable(spec.table, {
      id: core.bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
      ...Object.fromEntries(spec.columns.map((c) => [c.field, column(c)])),
      createdAt: stamp("created_at"),
      updatedAt: stamp("updated_at")
    })
  )
  const t2 = performance.now()
  const db = drizzle({ client: new pg.Pool({ connectionString: url }) })
  const first = tables[0]!
  await db.select().from(first).where(eq(first.id, 1))
  return { importMs: t1 - t0, declareMs: t2 - t1 }
}

const mysqlStart = async (specs: ReadonlyArray<ModelSpec>, url: string): Promise<Times> => {
  const t0 = performance.now()
  const { eq } = await import("drizzle-orm")
  const core = await import("drizzle-orm/mysql-core")
  const { drizzle } = await import("drizzle-orm/mysql2")
  const { default: mysql } = await import("mysql2/promise")
  const t1 = performance.now()
  const column = (c: ColumnSpec) => {
    switch (c.type) {
      case "string":
        return core.varchar(c.column, { length: 200 }).notNull()
      case "status":
        return core.mysqlEnum(c.column, STATUSES).notNull()
      case "nullableString":
        return core.varchar(c.column, { length: 500 })
      case "int":
        return core.bigint(c.column, { mode: "number" }).notNull()
      case "number":
        return core.double(c.column).notNull()
      case "boolean":
        return core.boolean(c.column).notNull()
      case "date":
        return core.datetime(c.column, { mode: "date", fsp: 3 }).notNull()
    }
  }
  const tables = specs.map((spec) =>
    core.mysqlTable(spec.table, {
      id: core.bigint("id", { mode: "number" }).primaryKey().autoincrement(),
      ...Object.fromEntries(spec.columns.map((c) => [c.field, column(c)])),
      createdAt: core.datetime("created_at", { mode: "date", fsp: 3 }).notNull(),
      updatedAt: core.datetime("updated_at", { mode: "date", fsp: 3 }).notNull()
    })
  )
  const t2 = performance.now()
  const db = drizzle({ client: mysql.createPool({ uri: url, connectionLimit: 10 }) })
  const first = tables[0]!
  await db.select().from(first).where(eq(first.id, 1))
  return { importMs: t1 - t0, declareMs: t2 - t1 }
}

/** Drizzle's cold start on one database. */
export const drizzleStart = (db: string, specs: ReadonlyArray<ModelSpec>, url: string): Promise<Times> =>
  db === "sqlite" ? sqliteStart(specs, url) : db === "pg" ? pgStart(specs, url) : mysqlStart(specs, url)
