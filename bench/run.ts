/**
 * The benchmark suite: `npm run bench` (full size, a few minutes) or
 * `npm run bench -- --size tiny` (the CI smoke run). See docs/performance.md.
 *
 * SQLite always runs; PostgreSQL and MariaDB/MySQL when they answer. The report goes to
 * stdout and to bench/results/<date>-<size>.md; progress goes to stderr.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Config, DbName } from "./config.js"
import { parseArgs, usage } from "./config.js"
import { concurrencyConfig, runConcurrency } from "./concurrency.js"
import { relationsConfig, runRelations } from "./relations.js"
import type { DbResult } from "./harness.js"
import { runDatabase } from "./harness.js"
import type { Skipped } from "./report.js"
import { render } from "./report.js"
import type { Target } from "./targets.js"
import { openMysql, openPg, openSqlite, probe, runId } from "./targets.js"
import { commit, fmtLoad, load } from "./versions.js"

const titles: Record<DbName, string> = { sqlite: "SQLite", pg: "PostgreSQL", mysql: "MariaDB / MySQL" }
const openers: Record<DbName, (config: Config) => Promise<Target>> = { sqlite: openSqlite, pg: openPg, mysql: openMysql }

const open = new Set<Target>()
let interrupted = false
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) process.exit(130)
  interrupted = true
  process.stderr.write(`\n[bench] ${signal}: dropping this run's schema / database, then exiting\n`)
  void Promise.allSettled([...open].map((t) => t.close())).then(() => process.exit(130))
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

const main = async () => {
  const argv = process.argv.slice(2)
  const parsed = parseArgs(argv)
  if (parsed === "help") {
    process.stdout.write(usage)
    return
  }
  const config = parsed
  const started = new Date()
  const loadAtStart = load()
  const t0 = performance.now()
  process.stderr.write(
    `[bench] run ${runId}: size ${config.label}, n=${config.n}, bulk=${config.bulk.join(",")}, rounds=${config.rounds}, load ${
      fmtLoad(loadAtStart)
    }, commit ${commit()}\n`
  )

  const results: Array<DbResult> = []
  const skipped: Array<Skipped> = []
  for (const name of config.databases) {
    if (name !== "sqlite") {
      const ok = await probe(name, config)
      if (ok !== true) {
        process.stderr.write(`[bench] ${titles[name]} not reachable (${ok}): skipped\n`)
        skipped.push({ title: titles[name], reason: `server not reachable (${ok})` })
        continue
      }
    }
    const target = await openers[name](config)
    open.add(target)
    try {
      results.push(await runDatabase(target, config))
    } finally {
      open.delete(target)
      await target.close()
    }
  }

  // the concurrency benchmark (bench/concurrency.ts): PostgreSQL and MariaDB, after the single-fiber suite
  const concurrency = config.concurrency && config.databases.some((d) => d !== "sqlite")
    ? await runConcurrency(concurrencyConfig(config), (line) => void process.stderr.write(`${line}\n`))
    : undefined
  // the N+1 relations benchmark (bench/relations.ts): every database, after the concurrency benchmark
  const relations = config.relations
    ? await runRelations(relationsConfig(config), (line) => void process.stderr.write(`${line}\n`))
    : undefined
  const suite = render(config, argv, results, skipped, started, (performance.now() - t0) / 1000, loadAtStart)
  const report = [suite, concurrency, relations].filter((s) => s !== undefined).join("\n\n")
  process.stdout.write(`${report}\n`)
  if (config.write) {
    const dir = join(dirname(fileURLToPath(import.meta.url)), "results")
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `${started.toISOString().slice(0, 10)}-${config.label}.md`)
    writeFileSync(`${file}.tmp`, `${report}\n`)
    renameSync(`${file}.tmp`, file)
    process.stderr.write(`[bench] written to ${file}\n`)
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("[bench] failed:", error)
    process.exit(1)
  }
)
