/**
 * One cold start, in a fresh `node` process started by bench/coldstart.ts (compiled to
 * JavaScript first with bench/tsconfig.coldstart.json, as an application ships). Everything a
 * variant needs is imported dynamically, so the import is timed too. Prints one JSON line
 * (`ChildReport`) as soon as the first read has answered; the parent times the process from
 * its start to that line.
 *
 * Environment: COLDSTART_VARIANT (library | raw | drizzle), COLDSTART_DB (sqlite | pg |
 * mysql), COLDSTART_URL, COLDSTART_MODELS (models declared), COLDSTART_TOUCH (one: a read
 * on the first model; all: a read on every model, one after the other).
 */
import type { ModelSpec } from "./coldstart-models.js"
import { modelSpecs, schemaFields } from "./coldstart-models.js"

/** What the child reports; every time is `performance.now()`, ms since the process started. */
export interface ChildReport {
  /** When the main module started running (Node.js itself booted before). */
  readonly started: number
  /** Time spent importing the library or driver and its dependencies. */
  readonly importMs: number
  /** Time spent declaring the models / tables. */
  readonly declareMs: number
  /** When the first (touch=all: the last) read answered. */
  readonly answered: number
  /** CPU time the process had used by then (user + system), ms: less sensitive to a busy machine than the wall time. */
  readonly cpuMs: number
  /** Resident set size at that moment, bytes. */
  readonly rss: number
  readonly heapUsed: number
}

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`coldstart-child: ${name} is not set`)
  return value
}

type Library = typeof import("../src/index.js")
const libraryStart = async (specs: ReadonlyArray<ModelSpec>, url: string, touchAll: boolean) => {
  const t0 = performance.now()
  const lib: Library = await import("../src/index.js")
  const { Effect, Schema } = await import("effect")
  const t1 = performance.now()
  const models = specs.map((spec) => lib.Model.make(spec.name, Schema.Struct(schemaFields(Schema, spec.columns)), { table: spec.table }))
  const t2 = performance.now()
  const touched = touchAll ? models : models.slice(0, 1)
  await Effect.runPromise(
    Effect.forEach(touched, (m) => m.find(1), { discard: true }).pipe(Effect.provide(lib.DataFlow.layer({ url })))
  )
  return { importMs: t1 - t0, declareMs: t2 - t1 }
}

/** The driver alone: connect, one query by id on the first table. */
const rawStart = async (db: string, spec: ModelSpec, url: string) => {
  const columns = ["id", ...spec.columns.map((c) => c.column), "created_at", "updated_at"]
  const t0 = performance.now()
  if (db === "sqlite") {
    const { default: Database } = await import("better-sqlite3")
    const t1 = performance.now()
    const conn = new Database(url)
    conn.pragma("journal_mode = WAL")
    conn.prepare(`SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM "${spec.table}" WHERE "id" = ?`).all(1)
    return { importMs: t1 - t0, declareMs: 0 }
  }
  if (db === "pg") {
    const { default: pg } = await import("pg")
    const t1 = performance.now()
    const pool = new pg.Pool({ connectionString: url })
    await pool.query(`SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM "${spec.table}" WHERE "id" = $1`, [1])
    return { importMs: t1 - t0, declareMs: 0 }
  }
  const { default: mysql } = await import("mysql2/promise")
  const t1 = performance.now()
  const pool = mysql.createPool({ uri: url, connectionLimit: 10 })
  await pool.execute(`SELECT ${columns.map((c) => `\`${c}\``).join(", ")} FROM \`${spec.table}\` WHERE \`id\` = ?`, [1])
  return { importMs: t1 - t0, declareMs: 0 }
}

const report = (started: number, times: { readonly importMs: number; readonly declareMs: number }) => {
  const answered = performance.now()
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  const out: ChildReport = { started, ...times, answered, cpuMs: (cpu.user + cpu.system) / 1000, rss: memory.rss, heapUsed: memory.heapUsed }
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

const main = async () => {
  const started = performance.now()
  const variant = env("COLDSTART_VARIANT")
  const db = env("COLDSTART_DB")
  const url = env("COLDSTART_URL")
  const specs = modelSpecs(Number(env("COLDSTART_MODELS")))
  const touchAll = process.env.COLDSTART_TOUCH === "all"
  if (variant === "library") return report(started, await libraryStart(specs, url, touchAll))
  if (variant === "raw") return report(started, await rawStart(db, specs[0]!, url))
  if (variant === "drizzle") {
    const { drizzleStart } = await import("./coldstart-drizzle.js")
    return report(started, await drizzleStart(db, specs, url))
  }
  throw new Error(`coldstart-child: unknown COLDSTART_VARIANT ${variant}`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("[coldstart-child] failed:", error)
    process.exit(1)
  }
)
