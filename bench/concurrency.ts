/**
 * The concurrency benchmark: a mixed workload (70% read by id, 20% a filtered page of 20,
 * 10% an increment of a counter column) from 1, 8, 64 and 256 concurrent workers on
 * PostgreSQL and MariaDB/MySQL, through `DataFlow.layer({ url })`'s default pool (10
 * connections) and through a raw `pg.Pool` / mysql2 pool of the same size sending the same
 * statements. See docs/performance.md ("Concurrency").
 *
 * Alone: `npm run bench:concurrency` (sizes from the environment, see `usage`); `npm run bench`
 * runs it after the single-fiber suite with the sizes of its preset.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import mysql from "mysql2/promise"
import pg from "pg"
import { fileURLToPath } from "node:url"
import { DataFlow, Model } from "../src/index.js"
import { recording } from "./check-sql.js"
import type { Config, DbName } from "./config.js"
import { parseArgs } from "./config.js"
import { namedStatements } from "./impl/raw.js"
import { categoryOf, CATEGORIES, prng } from "./model.js"
import type { Runtime } from "./ops.js"
import { mysqlDatetime } from "./sql.js"
import { median } from "./stats.js"
import type { Target } from "./targets.js"
import { openMysql, openPg, probe } from "./targets.js"
import { commit, fmtLoad, load } from "./versions.js"

export const usage = `Usage: npm run bench:concurrency [-- --size tiny] [-- --db pg,mysql]

  --size tiny gives the smoke sizes below; --db and the server URLs as for npm run bench.

  Environment (all optional):
  BENCH_CONCURRENCY_MS       length of one timed run in ms (default 2000; the tiny preset 200)
  BENCH_CONCURRENCY_ROUNDS   rounds, medians reported (default 5; tiny 3)
  BENCH_CONCURRENCY_LEVELS   concurrent workers, comma-separated (default 1,8,64,256)
  BENCH_CONCURRENCY_ROWS     rows of the counter table (default 10000; tiny 1000)
  BENCH_CONCURRENCY_DB       pg,mysql (default both; a server that does not answer is skipped)
  BENCH_PG_URL, BENCH_MYSQL_URL as for npm run bench
`

export interface ConcurrencyConfig {
  readonly durationMs: number
  readonly rounds: number
  readonly levels: ReadonlyArray<number>
  readonly rows: number
  readonly databases: ReadonlyArray<Exclude<DbName, "sqlite">>
  readonly base: Config
}

/** The pool size of `DataFlow.layer`'s PostgreSQL and MySQL clients when none is given. */
export const POOL_SIZE = 10
export const PAGE = 20
const READ_SHARE = 0.7
const LIST_SHARE = 0.2

const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer, got ${JSON.stringify(raw)}`)
  return n
}

/** The sizes: the preset's (tiny: a smoke run), each overridable from the environment. */
export const concurrencyConfig = (base: Config): ConcurrencyConfig => {
  const tiny = base.size === "tiny"
  const levels = (process.env.BENCH_CONCURRENCY_LEVELS ?? "1,8,64,256").split(",").map((l) => {
    const n = Number(l.trim())
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`BENCH_CONCURRENCY_LEVELS: not a positive integer: ${JSON.stringify(l)}`)
    return n
  })
  const dbs = (process.env.BENCH_CONCURRENCY_DB ?? base.databases.filter((d) => d !== "sqlite").join(",")).split(",")
    .map((d) => d.trim()).filter((d) => d !== "")
  for (const d of dbs) if (d !== "pg" && d !== "mysql") throw new Error(`BENCH_CONCURRENCY_DB: unknown database ${JSON.stringify(d)}`)
  return {
    durationMs: envInt("BENCH_CONCURRENCY_MS", tiny ? 200 : 2000),
    rounds: envInt("BENCH_CONCURRENCY_ROUNDS", tiny ? 3 : 5),
    levels,
    rows: envInt("BENCH_CONCURRENCY_ROWS", tiny ? 1000 : 10_000),
    databases: dbs as ReadonlyArray<"pg" | "mysql">,
    base
  }
}

/** The counter table: the benchmark's item shape with a `hits` column the updates increment. */
export const Counters = Model.make(
  "BenchCounter",
  Schema.Struct({
    id: Schema.Int,
    sku: Schema.String.pipe(Schema.maxLength(64)),
    name: Schema.String.pipe(Schema.maxLength(100)),
    category: Schema.String.pipe(Schema.maxLength(16)),
    price: Schema.Number,
    hits: Schema.Int
  }),
  { table: "bench_counters", unique: ["sku"], indexes: [["category", "price"]] }
)

type Kind = "read" | "list" | "update"

/** One worker's next operation: the same sequence for the library and the raw driver in a round. */
const nextOp = (random: () => number, rows: number): readonly [Kind, number] => {
  const r = random()
  const id = 1 + Math.floor(random() * rows)
  return r < READ_SHARE ? ["read", id] : r < READ_SHARE + LIST_SHARE ? ["list", id % CATEGORIES] : ["update", id]
}

const seedOf = (round: number, worker: number) => round * 100_003 + worker * 7919 + 1

/** What one timed run did. */
export interface RunResult {
  readonly ops: number
  readonly updates: number
  readonly elapsedMs: number
  /** Latency of every operation, ms, sorted. */
  readonly latencies: Float64Array
}

/** Collects one run's latencies and counts; `check` turns a wrong answer into an error. */
const recorder = () => {
  let latencies = new Float64Array(4096)
  let ops = 0
  let updates = 0
  return {
    record: (kind: Kind, ms: number) => {
      if (ops === latencies.length) {
        const grown = new Float64Array(latencies.length * 2)
        grown.set(latencies)
        latencies = grown
      }
      latencies[ops++] = ms
      if (kind === "update") updates++
    },
    result: (elapsedMs: number): RunResult => ({ ops, updates, elapsedMs, latencies: latencies.slice(0, ops).sort() })
  }
}

/** What an operation answered, for `check`. */
interface Answer {
  readonly id?: unknown
  readonly rows?: ReadonlyArray<{ readonly category: unknown }>
}

/** Checks an answer: a read found its row, a page holds only its category, an update returned its row. */
const check = (kind: Kind, arg: number, answer: Answer) => {
  if (kind === "list") {
    const category = categoryOf(arg)
    if (answer.rows === undefined || answer.rows.length === 0 || answer.rows.length > PAGE || answer.rows.some((r) => r.category !== category)) {
      throw new Error(`list ${category}: a wrong page (${answer.rows?.length ?? "no"} rows)`)
    }
  } else if (Number(answer.id) !== arg) {
    throw new Error(`${kind} ${arg}: answered row ${String(answer.id)}`)
  }
}

/** An implementation of the workload: runs `level` workers for about `ms` milliseconds. */
export interface Implementation {
  readonly name: string
  readonly run: (level: number, ms: number, round: number) => Promise<RunResult>
  readonly close: () => Promise<void>
}

const libraryOp = (kind: Kind, arg: number): Effect.Effect<Answer, unknown, SqlClient.SqlClient> => {
  switch (kind) {
    case "read":
      return Effect.map(Counters.read(arg), (r) => ({ id: r.id }))
    case "list":
      return Effect.map(
        Counters.list({ where: { category: categoryOf(arg) }, orderBy: ["-price"], limit: PAGE }),
        (page) => ({ rows: page.records })
      )
    case "update":
      return Effect.map(Counters.update(arg, { hits: { $increment: 1 } }), (r) => ({ id: r.id }))
  }
}

/** The nodes on `DataFlow.layer`'s client: every worker a fiber, one `runPromise` per run. */
export const libraryImplementation = (rt: Runtime, rows: number): Implementation => ({
  name: "effect-dataflow nodes (DataFlow.layer, default pool)",
  run: async (level, ms, round) => {
    const rec = recorder()
    const start = performance.now()
    const deadline = start + ms
    const worker = (w: number) =>
      Effect.gen(function*() {
        const random = prng(seedOf(round, w))
        while (performance.now() < deadline) {
          const [kind, arg] = nextOp(random, rows)
          const t0 = performance.now()
          const answer = yield* libraryOp(kind, arg)
          rec.record(kind, performance.now() - t0)
          check(kind, arg, answer)
        }
      })
    await rt.runPromise(Effect.forEach(Array.from({ length: level }, (_, w) => w), worker, { concurrency: "unbounded", discard: true }))
    return rec.result(performance.now() - start)
  },
  close: async () => {}
})

/** The statements the nodes send, per dialect (checked against the nodes by `checkConcurrencyStatements`). */
export const concurrencyStatements = (dialect: "pg" | "mysql") => {
  const q = dialect === "mysql" ? (id: string) => `\`${id}\`` : (id: string) => `"${id}"`
  const p = dialect === "pg" ? (n: number) => `$${n}` : () => "?"
  const t = q("bench_counters")
  const date = (c: string) => dialect === "mysql" ? `DATE_FORMAT(${q(c)}, '%Y-%m-%d %H:%i:%s.%f') AS ${q(c)}` : q(c)
  const select = `SELECT ${["id", "sku", "name", "category", "price", "hits"].map(q).join(", ")}, ${date("created_at")}, ${date("updated_at")} FROM ${t}`
  const int = (n: number) => dialect === "mysql" ? `CAST(${p(n)} AS SIGNED)` : `CAST(${p(n)} AS BIGINT)`
  const update = `UPDATE ${t} SET ${q("hits")} = ${t}.${q("hits")} + ${int(1)}, ${q("updated_at")} = ${p(2)} WHERE ${q("id")} = ${p(3)} AND (${
    q("hits")
  } IS NULL OR ${q("hits")} BETWEEN ${int(4)} AND ${int(5)})`
  return {
    read: `${select} WHERE ${q("id")} = ${p(1)}`,
    list: `${select} WHERE ${q("category")} = ${p(1)} ORDER BY ${q("price")} DESC, ${q("id")} ASC LIMIT ${PAGE + 1}`,
    update: dialect === "pg" ? `${update} RETURNING ${select.slice("SELECT ".length, select.indexOf(" FROM "))}` : update,
    /** The parameters of `update` (the range the current value must lie in, as the nodes bind it). */
    updateParams: (id: number, now: string): Array<string | number> => [1, now, id, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1]
  }
}

type RawRow = { readonly id: unknown; readonly category: unknown }
type RawOp = (kind: Kind, arg: number) => Promise<Answer>

/** Workers as async loops over a raw operation (the same sequence and checks as the library's fibers). */
const rawImplementation = (name: string, rows: number, op: RawOp, close: () => Promise<void>): Implementation => ({
  name,
  run: async (level, ms, round) => {
    const rec = recorder()
    const start = performance.now()
    const deadline = start + ms
    const worker = async (w: number) => {
      const random = prng(seedOf(round, w))
      while (performance.now() < deadline) {
        const [kind, arg] = nextOp(random, rows)
        const t0 = performance.now()
        const answer = await op(kind, arg)
        rec.record(kind, performance.now() - t0)
        check(kind, arg, answer)
      }
    }
    await Promise.all(Array.from({ length: level }, (_, w) => worker(w)))
    return rec.result(performance.now() - start)
  },
  close
})

/** A `pg.Pool` of the library's size, every statement a named prepared statement (as the nodes send them). */
export const pgPoolImplementation = (url: string, rows: number): Implementation => {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE })
  const named = namedStatements(pool, "conc")
  const s = concurrencyStatements("pg")
  const query = async (text: string, params: ReadonlyArray<unknown>) => (await pool.query<RawRow>(named(text, params))).rows
  const op: RawOp = async (kind, arg) => {
    if (kind === "read") return { id: (await query(s.read, [arg]))[0]?.id }
    if (kind === "list") return { rows: (await query(s.list, [categoryOf(arg)])).slice(0, PAGE) }
    return { id: (await query(s.update, s.updateParams(arg, new Date().toISOString())))[0]?.id }
  }
  return rawImplementation(`raw pg.Pool (max ${POOL_SIZE}, named prepared statements)`, rows, op, () => pool.end())
}

/** A mysql2 pool of the library's size, `execute` (prepared); the update and its read-back in one transaction, as the nodes. */
export const mysqlPoolImplementation = (url: string, rows: number): Implementation => {
  const pool = mysql.createPool({ uri: url, connectionLimit: POOL_SIZE, supportBigNumbers: true, maxPreparedStatements: 256 })
  const s = concurrencyStatements("mysql")
  const query = async (text: string, params: Array<string | number>) => (await pool.execute(text, params))[0] as Array<RawRow>
  const update = async (id: number) => {
    const conn = await pool.getConnection()
    try {
      await conn.query("BEGIN")
      await conn.execute(s.update, s.updateParams(id, mysqlDatetime(new Date())))
      const [found] = await conn.execute(s.read, [id])
      await conn.query("COMMIT")
      return { id: (found as Array<RawRow>)[0]?.id }
    } catch (error) {
      await conn.query("ROLLBACK")
      throw error
    } finally {
      conn.release()
    }
  }
  const op: RawOp = async (kind, arg) => {
    if (kind === "read") return { id: (await query(s.read, [arg]))[0]?.id }
    if (kind === "list") return { rows: (await query(s.list, [categoryOf(arg)])).slice(0, PAGE) }
    return update(arg)
  }
  return rawImplementation(`raw mysql2 pool (connectionLimit ${POOL_SIZE}, execute)`, rows, op, () => pool.end())
}

/** The counter table created by the library and filled with `rows` rows, ids 1..rows (untimed). */
const prepareTable = async (rt: Runtime, rows: number): Promise<void> => {
  await rt.runPromise(DataFlow.migrate([Counters]))
  const items = Array.from({ length: rows }, (_, i) => ({
    sku: `k-${i}`,
    name: `Counter ${i}`,
    category: categoryOf(i),
    price: Math.round(((i * 7919) % 100_000) + 1) / 100,
    hits: 0
  }))
  await rt.runPromise(Counters.bulkCreate(items))
  const totals = await tableTotals(rt)
  if (totals.count !== rows || totals.minId !== 1 || totals.maxId !== rows || totals.hits !== 0) {
    throw new Error(`the counter table is not ids 1..${rows} with no hits: ${JSON.stringify(totals)}`)
  }
}

const tableTotals = (rt: Runtime) =>
  rt.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql.unsafe<Record<string, unknown>>("SELECT COUNT(*) AS c, MIN(id) AS lo, MAX(id) AS hi, COALESCE(SUM(hits), 0) AS h FROM bench_counters"),
      (rows) => ({ count: Number(rows[0]?.c), minId: Number(rows[0]?.lo), maxId: Number(rows[0]?.hi), hits: Number(rows[0]?.h) })
    )))

/**
 * The premise: the raw pools send the nodes' statements. Each operation runs twice through the
 * nodes on a client that records statement texts (the first run does the client's table
 * check); the second run's texts must be the raw ones. A difference is reported, not fatal.
 */
export const checkConcurrencyStatements = async (rt: Runtime, dialect: "pg" | "mysql"): Promise<Array<string>> => {
  const sql = await rt.runPromise(SqlClient.SqlClient)
  const s = concurrencyStatements(dialect)
  const expected: Record<Kind, ReadonlyArray<string>> = {
    read: [s.read],
    list: [s.list],
    update: dialect === "pg" ? [s.update] : [s.update, s.read]
  }
  const differences: Array<string> = []
  for (const kind of ["read", "list", "update"] as const) {
    const log: Array<string> = []
    const client = recording(sql, log)
    const once = Effect.provideService(libraryOp(kind, 1), SqlClient.SqlClient, client)
    await rt.runPromise(Effect.zipRight(once, Effect.sync(() => void log.splice(0))).pipe(Effect.zipRight(once)))
    const want = expected[kind]
    if (log.length !== want.length || log.some((t, i) => t !== want[i])) {
      differences.push(`${kind}: the nodes sent ${JSON.stringify(log)}, the raw pool sends ${JSON.stringify(want)}`)
    }
  }
  return differences
}

const percentile = (sorted: Float64Array, q: number) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
const throughput = (r: RunResult) => (r.ops / r.elapsedMs) * 1000

/** The medians over the rounds of one implementation at one level. */
interface Summary {
  readonly opsPerSec: number
  readonly p50: number
  readonly p99: number
  /** Half the range of the rounds' throughputs relative to the median. */
  readonly spread: number
}

const summarize = (runs: ReadonlyArray<RunResult>): Summary => {
  const tput = runs.map(throughput)
  const m = median(tput)
  return {
    opsPerSec: m,
    p50: median(runs.map((r) => percentile(r.latencies, 0.5))),
    p99: median(runs.map((r) => percentile(r.latencies, 0.99))),
    spread: (Math.max(...tput) - Math.min(...tput)) / 2 / m
  }
}

export interface LevelResult {
  readonly level: number
  readonly library: Summary
  readonly raw: Summary
  /** Median over the rounds of (library throughput ÷ raw throughput) in the same round. */
  readonly ratio: number
}

export interface DatabaseResult {
  readonly title: string
  readonly libraryName: string
  readonly rawName: string
  readonly levels: ReadonlyArray<LevelResult>
  readonly statementDifferences: ReadonlyArray<string>
  readonly updates: number
  readonly hits: number
}

/** Rounds at every level, library and raw in turn (who goes first alternates); the counter check at the end. */
const measure = async (cc: ConcurrencyConfig, target: Target, log: (line: string) => void): Promise<DatabaseResult> => {
  const dialect = target.name === "pg" ? "pg" : "mysql"
  await prepareTable(target.rt, cc.rows)
  const statementDifferences = await checkConcurrencyStatements(target.rt, dialect)
  const library = libraryImplementation(target.rt, cc.rows)
  const raw = dialect === "pg" ? pgPoolImplementation(target.url, cc.rows) : mysqlPoolImplementation(target.url, cc.rows)
  // the statement check incremented row 1 twice
  let updates = 2
  try {
    for (const impl of [library, raw]) updates += (await impl.run(8, Math.min(cc.durationMs, 500), 0)).updates
    const levels: Array<LevelResult> = []
    for (const level of cc.levels) {
      const runs = { library: [] as Array<RunResult>, raw: [] as Array<RunResult> }
      const ratios: Array<number> = []
      for (let round = 1; round <= cc.rounds; round++) {
        const order = round % 2 === 1 ? (["library", "raw"] as const) : (["raw", "library"] as const)
        for (const which of order) {
          const r = await (which === "library" ? library : raw).run(level, cc.durationMs, round)
          runs[which].push(r)
          updates += r.updates
        }
        ratios.push(throughput(runs.library[round - 1]!) / throughput(runs.raw[round - 1]!))
      }
      const result = { level, library: summarize(runs.library), raw: summarize(runs.raw), ratio: median(ratios) }
      log(`[concurrency] ${target.title} ${level} workers: ${result.library.opsPerSec.toFixed(0)} vs ${result.raw.opsPerSec.toFixed(0)} ops/s (${result.ratio.toFixed(2)}×)`)
      levels.push(result)
    }
    const { hits } = await tableTotals(target.rt)
    if (hits !== updates) throw new Error(`${target.title}: ${updates} increments answered, but the counters sum to ${hits}: updates were lost`)
    return { title: target.title, libraryName: library.name, rawName: raw.name, levels, statementDifferences, updates, hits }
  } finally {
    await raw.close()
  }
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1))
const pct = (x: number) => `±${(x * 100).toFixed(0)}%`

/** The report's section: one table per database. */
export const renderConcurrency = (cc: ConcurrencyConfig, results: ReadonlyArray<DatabaseResult>, skipped: ReadonlyArray<string>): string => {
  const lines = [
    "## Concurrency",
    "",
    `Mixed workload: ${READ_SHARE * 100}% read by id, ${LIST_SHARE * 100}% a page of ${PAGE} by category (sorted by price), ${
      Math.round((1 - READ_SHARE - LIST_SHARE) * 100)
    }% \`update(id, { hits: { $increment: 1 } })\`, on ${cc.rows.toLocaleString("en-US")} rows; each timed run ${cc.durationMs} ms, ${cc.rounds} rounds (library and raw in turn, who goes first alternating), medians. Pool size ${POOL_SIZE} on both sides. Ratio = library throughput ÷ raw throughput in the same round, median over the rounds (≥ 0.9 is the issue's target).`,
    ""
  ]
  for (const db of results) {
    lines.push(`### ${db.title}`, "", `library: ${db.libraryName}; raw: ${db.rawName}`, "")
    lines.push("| workers | library ops/s | raw ops/s | ratio | library p50 / p99 ms | raw p50 / p99 ms | spread lib / raw |")
    lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (const l of db.levels) {
      lines.push(
        `| ${l.level} | ${l.library.opsPerSec.toFixed(0)} | ${l.raw.opsPerSec.toFixed(0)} | ${l.ratio.toFixed(2)}× | ${ms(l.library.p50)} / ${
          ms(l.library.p99)
        } | ${ms(l.raw.p50)} / ${ms(l.raw.p99)} | ${pct(l.library.spread)} / ${pct(l.raw.spread)} |`
      )
    }
    lines.push(
      "",
      `No error. Counter check: ${db.updates.toLocaleString("en-US")} increments answered, the counters sum to ${
        db.hits.toLocaleString("en-US")
      } (no lost update).`,
      db.statementDifferences.length === 0
        ? "Statements: the raw pool sends exactly the nodes' statement texts (checked this run)."
        : `Statements DIFFER from the nodes' (the raw side must follow the library):\n${db.statementDifferences.map((d) => `- ${d}`).join("\n")}`,
      ""
    )
  }
  for (const s of skipped) lines.push(`${s}`, "")
  return lines.join("\n")
}

const openers = { pg: openPg, mysql: openMysql } as const
const titles = { pg: "PostgreSQL", mysql: "MariaDB / MySQL" } as const

/** Runs the concurrency benchmark on every configured server that answers; its report section. */
export const runConcurrency = async (cc: ConcurrencyConfig, log: (line: string) => void): Promise<string> => {
  const results: Array<DatabaseResult> = []
  const skipped: Array<string> = []
  for (const name of cc.databases) {
    const ok = await probe(name, cc.base)
    if (ok !== true) {
      skipped.push(`${titles[name]}: skipped, server not reachable (${ok}).`)
      continue
    }
    const target = await openers[name]({ ...cc.base, peers: false })
    try {
      results.push(await measure(cc, target, log))
    } finally {
      await target.close()
    }
  }
  return renderConcurrency(cc, results, skipped)
}

const main = async () => {
  if (process.argv.includes("--help") || process.argv.includes("-h")) return void process.stdout.write(usage)
  const base = parseArgs(process.argv.slice(2))
  if (base === "help") return void process.stdout.write(usage)
  const cc = concurrencyConfig(base)
  const log = (line: string) => void process.stderr.write(`${line}\n`)
  log(`[concurrency] ${cc.levels.join(",")} workers, ${cc.durationMs} ms × ${cc.rounds} rounds, ${cc.rows} rows; load ${fmtLoad(load())}`)
  const started = `Run of ${new Date().toISOString()}, commit ${commit()}, Node.js ${process.version}, load at start ${fmtLoad(load())}.`
  process.stdout.write(`${await runConcurrency(cc, log)}\n${started}\n`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(() => process.exit(0), (error: unknown) => {
    console.error("[concurrency] failed:", error)
    process.exit(1)
  })
}
