/**
 * The cold-start benchmark: a fresh `node` process with 50 declared models (bench/coldstart-
 * models.ts), timed from its start to the first answered read, with the memory it holds then,
 * on SQLite (a file), PostgreSQL and MariaDB/MySQL. See docs/performance.md ("Cold start").
 *
 * `npm run bench:coldstart` (options: `--help`). The child (bench/coldstart-child.ts) runs as
 * compiled JavaScript, as an application ships: the library and the child are compiled with
 * bench/tsconfig.coldstart.json into bench/.build first (`--no-build` reuses that).
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import mysql from "mysql2/promise"
import pg from "pg"
import { Effect, ManagedRuntime, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"
import type { ChildReport } from "./coldstart-child.js"
import type { ModelSpec } from "./coldstart-models.js"
import { modelSpecs, prismaSchema, sampleRow, schemaFields } from "./coldstart-models.js"
import { prismaGenerate, prismaInstalled, prismaPackage, prismaVersion } from "./prisma-cli.js"
import { median } from "./stats.js"
import { pgUrlFor, runId } from "./targets.js"
import { commit, fmtLoad, load, versionOf } from "./versions.js"

const here = dirname(fileURLToPath(import.meta.url))
const child = join(here, ".build", "bench", "coldstart-child.js")
const prismaChild = join(prismaPackage, ".build", "coldstart-child.js")

export const usage = `Usage: npm run bench:coldstart -- [options]

  --runs R           runs per variant, medians reported (default 7)
  --models M         models declared in the child (default 50)
  --db sqlite,pg,mysql  databases (default all; a server that does not answer is skipped)
  --no-build         reuse bench/.build (else compiled first with bench/tsconfig.coldstart.json)
  --no-import-check  leave out the import-time check (declared models 0 / M / 4×M)
  --baseline DIR     also run the library's variants with the child compiled in another checkout
                     (DIR: its bench/.build, made there by a run or by tsc -p bench/tsconfig.coldstart.json),
                     interleaved with this one's: an A/B of two commits in one run

  Servers: BENCH_PG_URL, BENCH_MYSQL_URL as for npm run bench.
`

type Db = "sqlite" | "pg" | "mysql"

interface Options {
  readonly runs: number
  readonly models: number
  readonly databases: ReadonlyArray<Db>
  readonly build: boolean
  readonly importCheck: boolean
  /** The compiled child of another checkout, for an A/B in one run. */
  readonly baseline: string | undefined
  readonly pgUrl: string
  readonly mysqlUrl: string
}

const parse = (argv: ReadonlyArray<string>): Options | "help" => {
  let runs = 7
  let models = 50
  let databases: ReadonlyArray<Db> = ["sqlite", "pg", "mysql"]
  let build = true
  let importCheck = true
  let baseline: string | undefined
  const positive = (flag: string, raw: string | undefined) => {
    const n = Number(raw)
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(raw)}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "-h" || arg === "--help") return "help"
    else if (arg === "--runs") runs = positive(arg, argv[++i])
    else if (arg === "--models") models = positive(arg, argv[++i])
    else if (arg === "--no-build") build = false
    else if (arg === "--no-import-check") importCheck = false
    else if (arg === "--baseline") {
      const dir = argv[++i] ?? ""
      baseline = join(dir, "bench", "coldstart-child.js")
      if (!existsSync(baseline)) throw new Error(`--baseline: no compiled child at ${baseline}`)
    }
    else if (arg === "--db") {
      const list = (argv[++i] ?? "").split(",").map((d) => d.trim())
      for (const d of list) if (d !== "sqlite" && d !== "pg" && d !== "mysql") throw new Error(`--db: unknown database ${JSON.stringify(d)}`)
      databases = list as ReadonlyArray<Db>
    } else throw new Error(`unknown option ${JSON.stringify(arg)}\n\n${usage}`)
  }
  return {
    runs,
    models,
    databases,
    build,
    importCheck,
    baseline,
    pgUrl: process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    mysqlUrl: process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test"
  }
}

/** One child run's figures: `wallMs` from spawning the process to its report line. */
interface Sample extends ChildReport {
  readonly wallMs: number
}

interface Variant {
  readonly label: string
  readonly env: Record<string, string>
  /** Run before each run, untimed (the first-ever case drops the tables). */
  readonly before?: () => Promise<void>
  /** The child's script, when not bench/coldstart-child.ts (Prisma's). */
  readonly script?: string
}

/** Starts the child and resolves with its report, timed from spawn to the report's line. */
const runChild = (env: Record<string, string>, script = child): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const proc = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    let sample: Sample | undefined
    proc.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.indexOf("\n")
      if (sample === undefined && line >= 0) sample = { ...(JSON.parse(out.slice(0, line)) as ChildReport), wallMs: performance.now() - t0 }
    })
    proc.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()))
    proc.on("error", reject)
    proc.on("close", (code) => {
      if (code === 0 && sample !== undefined) resolve(sample)
      else reject(new Error(`the child (${JSON.stringify(env)}) exited with ${code}: ${err.trim() || out.trim()}`))
    })
  })

/** Where one database's runs work: the warm schema (tables and one row each) and an empty one. */
interface Place {
  readonly title: string
  readonly warmUrl: string
  readonly freshUrl: string
  /** Empties the fresh place (untimed, before every first-ever run). */
  readonly resetFresh: () => Promise<void>
  readonly close: () => Promise<void>
}

const sqlitePlace = async (): Promise<Place> => {
  const dir = mkdtempSync(join(tmpdir(), "dfcold-"))
  const fresh = join(dir, "fresh.sqlite")
  return {
    title: "SQLite (a file)",
    warmUrl: join(dir, "warm.sqlite"),
    freshUrl: fresh,
    resetFresh: async () => {
      for (const f of [fresh, `${fresh}-wal`, `${fresh}-shm`]) rmSync(f, { force: true })
    },
    close: async () => rmSync(dir, { recursive: true, force: true })
  }
}

const pgPlace = async (base: string): Promise<Place> => {
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  const warm = `dfcold_${runId}`
  const fresh = `dfcold_${runId}_fresh`
  await admin.query(`CREATE SCHEMA "${warm}"`)
  return {
    title: "PostgreSQL",
    warmUrl: pgUrlFor(base, warm),
    freshUrl: pgUrlFor(base, fresh),
    resetFresh: async () => void await admin.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE; CREATE SCHEMA "${fresh}"`),
    close: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${warm}" CASCADE; DROP SCHEMA IF EXISTS "${fresh}" CASCADE`)
      await admin.end()
    }
  }
}

const mysqlPlace = async (base: string): Promise<Place> => {
  const admin = await mysql.createConnection({ uri: base, multipleStatements: true })
  const warm = `dfcold_${runId}`
  const fresh = `dfcold_${runId}_fresh`
  await admin.query(`CREATE DATABASE \`${warm}\``)
  const on = (db: string) => {
    const u = new URL(base)
    u.pathname = `/${db}`
    return u.toString()
  }
  return {
    title: "MariaDB / MySQL",
    warmUrl: on(warm),
    freshUrl: on(fresh),
    resetFresh: async () => void await admin.query(`DROP DATABASE IF EXISTS \`${fresh}\`; CREATE DATABASE \`${fresh}\``),
    close: async () => {
      await admin.query(`DROP DATABASE IF EXISTS \`${warm}\`; DROP DATABASE IF EXISTS \`${fresh}\``)
      await admin.end()
    }
  }
}

/** The warm schema: every model's table created by the library, with one row (id 1). */
const prepareWarm = async (url: string, specs: ReadonlyArray<ModelSpec>) => {
  const models = specs.map((spec) => Model.make(spec.name, Schema.Struct(schemaFields(Schema, spec.columns)), { table: spec.table }))
  const rt = ManagedRuntime.make(DataFlow.layer({ url }))
  try {
    await rt.runPromise(DataFlow.migrate(models))
    await rt.runPromise(Effect.forEach(models, (m, i) => m.create(sampleRow(specs[i]!)), { discard: true }))
  } finally {
    await rt.dispose()
  }
}

/**
 * Prisma's client for the cold-start models (SQLite and PostgreSQL), generated and compiled to
 * bench/prisma/.build when bench/prisma is installed (`npm run bench:prisma` installs it).
 */
const preparePrisma = (specs: ReadonlyArray<ModelSpec>, log: (line: string) => void): string | undefined => {
  if (!prismaInstalled()) return undefined
  log("[coldstart] generating and compiling Prisma's client for the models (bench/prisma is installed)")
  const dir = join(prismaPackage, "generated-cold")
  mkdirSync(dir, { recursive: true })
  for (const db of ["sqlite", "pg"] as const) {
    const schema = join(dir, `cold-${db}.prisma`)
    writeFileSync(schema, prismaSchema(specs, db, `./${db}`))
    prismaGenerate(schema)
  }
  execFileSync(process.execPath, [join(here, "..", "node_modules", "typescript", "bin", "tsc"), "-p", join(prismaPackage, "tsconfig.coldstart.json")], {
    stdio: ["ignore", 2, 2]
  })
  return prismaVersion()
}

/** With `--no-build`: Prisma's version when its cold-start child was compiled before. */
const prismaVersionIfBuilt = (): string | undefined => (existsSync(prismaChild) ? prismaVersion() : undefined)

const variants = (db: Db, place: Place, models: number, prisma: string | undefined, baseline: string | undefined): ReadonlyArray<Variant> => {
  const base = { COLDSTART_DB: db, COLDSTART_MODELS: String(models) }
  const warm = { ...base, COLDSTART_URL: place.warmUrl }
  const fresh = { ...base, COLDSTART_URL: place.freshUrl }
  const prismaVariant: ReadonlyArray<Variant> = prisma === undefined || db === "mysql"
    ? []
    : [{ label: `prisma ${prisma}: a client generated for ${models} models, one findUnique`, env: warm, script: prismaChild }]
  const library: ReadonlyArray<Variant> = [
    { label: "nodes, warm schema: a read on model 1", env: { ...warm, COLDSTART_VARIANT: "library", COLDSTART_TOUCH: "one" } },
    { label: `nodes, warm schema: a read on each of the ${models} models`, env: { ...warm, COLDSTART_VARIANT: "library", COLDSTART_TOUCH: "all" } },
    {
      label: "nodes, first-ever: model 1's table created, then read",
      env: { ...fresh, COLDSTART_VARIANT: "library", COLDSTART_TOUCH: "one" },
      before: place.resetFresh
    },
    {
      label: `nodes, first-ever: ${models} tables created, a read on each`,
      env: { ...fresh, COLDSTART_VARIANT: "library", COLDSTART_TOUCH: "all" },
      before: place.resetFresh
    }
  ]
  return [
    { label: `raw driver: connect, one query`, env: { ...warm, COLDSTART_VARIANT: "raw" } },
    { label: `drizzle-orm ${versionOf("drizzle-orm")}: ${models} tables declared, one select`, env: { ...warm, COLDSTART_VARIANT: "drizzle" } },
    ...prismaVariant,
    ...(baseline === undefined ? library : library.flatMap((v) => [v, { ...v, label: `${v.label} — baseline`, script: baseline }]))
  ]
}

/** Every variant `runs` times, interleaved (run r starts at variant r mod n), so drift hits them alike. */
const runVariants = async (list: ReadonlyArray<Variant>, runs: number, log: (line: string) => void) => {
  const samples = list.map(() => [] as Array<Sample>)
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < list.length; k++) {
      const i = (r + k) % list.length
      const v = list[i]!
      if (v.before !== undefined) await v.before()
      samples[i]!.push(await runChild(v.env, v.script))
    }
    log(`[coldstart]   run ${r + 1}/${runs}`)
  }
  return samples
}

const fmt = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0))
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
const med = (samples: ReadonlyArray<Sample>, f: (s: Sample) => number) => median(samples.map(f))
/** Time in the child's main module after its imports and declarations: layer build, table checks, the reads. */
const afterDeclare = (s: Sample) => s.answered - s.started - s.importMs - s.declareMs

const renderDatabase = (title: string, list: ReadonlyArray<Variant>, samples: ReadonlyArray<ReadonlyArray<Sample>>): Array<string> => {
  const raw = med(samples[0]!, (s) => s.wallMs)
  const rawCpu = med(samples[0]!, (s) => s.cpuMs)
  const lines = [
    `### ${title}`,
    "",
    "| variant | start → answered, ms (min–max) | ÷ raw | CPU ms | CPU ÷ raw | Node.js boot | import | declare | connect + checks + read | RSS MB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  list.forEach((v, i) => {
    const xs = samples[i]!
    const wall = xs.map((s) => s.wallMs)
    lines.push(
      `| ${v.label} | ${fmt(median(wall))} (${fmt(Math.min(...wall))}–${fmt(Math.max(...wall))}) | ${(median(wall) / raw).toFixed(2)}× | ${
        fmt(med(xs, (s) => s.cpuMs))
      } | ${(med(xs, (s) => s.cpuMs) / rawCpu).toFixed(2)}× | ${
        fmt(med(xs, (s) => s.started))
      } | ${fmt(med(xs, (s) => s.importMs))} | ${fmt(med(xs, (s) => s.declareMs))} | ${fmt(med(xs, afterDeclare))} | ${mb(med(xs, (s) => s.rss))} |`
    )
  })
  return [...lines, ""]
}

/** Import time and start against the number of declared models (SQLite, warm file, a read on model 1). */
const importCheck = async (place: Place, options: Options, log: (line: string) => void): Promise<Array<string>> => {
  const counts = [1, options.models, options.models * 4]
  const list = counts.map((n): Variant => ({
    label: String(n),
    env: { COLDSTART_DB: "sqlite", COLDSTART_URL: place.warmUrl, COLDSTART_MODELS: String(n), COLDSTART_VARIANT: "library", COLDSTART_TOUCH: "one" }
  }))
  log("[coldstart] import check")
  const samples = await runVariants(list, options.runs, log)
  const lines = [
    "### Import time against declared models (SQLite, warm schema, a read on model 1)",
    "",
    "| models declared | import of the package, ms | declaring them, ms | per model, µs | layer + first read, ms | start → answered, ms | CPU ms | RSS MB |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  counts.forEach((n, i) => {
    const xs = samples[i]!
    const declare = med(xs, (s) => s.declareMs)
    lines.push(
      `| ${n} | ${fmt(med(xs, (s) => s.importMs))} | ${fmt(declare)} | ${((declare / n) * 1000).toFixed(0)} | ${fmt(med(xs, afterDeclare))} | ${
        fmt(med(xs, (s) => s.wallMs))
      } | ${fmt(med(xs, (s) => s.cpuMs))} | ${mb(med(xs, (s) => s.rss))} |`
    )
  })
  lines.push("", "The package's import time must not grow with the models declared (nothing is done per model at import), and neither must the layer build and first read (a model's statements and table check are made on its first use).", "")
  return lines
}

const probe = async (db: Db, options: Options): Promise<true | string> => {
  try {
    if (db === "pg") {
      const c = new pg.Client({ connectionString: options.pgUrl, connectionTimeoutMillis: 3000 })
      await c.connect()
      await c.end()
    } else if (db === "mysql") {
      await (await mysql.createConnection({ uri: options.mysqlUrl, connectTimeout: 3000 })).end()
    }
    return true
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

const openPlace = (db: Db, options: Options) => db === "sqlite" ? sqlitePlace() : db === "pg" ? pgPlace(options.pgUrl) : mysqlPlace(options.mysqlUrl)

const main = async () => {
  const options = parse(process.argv.slice(2))
  if (options === "help") return void process.stdout.write(usage)
  const log = (line: string) => void process.stderr.write(`${line}\n`)
  if (options.build) {
    log("[coldstart] compiling the library and the child (bench/tsconfig.coldstart.json)")
    execFileSync(process.execPath, [join(here, "..", "node_modules", "typescript", "bin", "tsc"), "-p", join(here, "tsconfig.coldstart.json")], { stdio: "inherit" })
  }
  const specs = modelSpecs(options.models)
  const prisma = options.build ? preparePrisma(specs, log) : prismaInstalled() ? prismaVersionIfBuilt() : undefined
  const out = [
    "## Cold start",
    "",
    `${options.models} models (8 to 14 columns each), ${options.runs} runs per variant, medians; Node.js ${process.version}; commit ${commit()}; load at start ${fmtLoad(load())}. Each run is a fresh \`node\` process on compiled JavaScript; \"start → answered\" is timed by the parent from spawning it to its report line, the other columns by the child (\`performance.now()\`, from process start; CPU: \`process.cpuUsage()\` at the answer, user + system).`,
    ""
  ]
  for (const db of options.databases) {
    const ok = await probe(db, options)
    if (ok !== true) {
      out.push(`${db}: skipped, server not reachable (${ok}).`, "")
      continue
    }
    const place = await openPlace(db, options)
    try {
      log(`[coldstart] ${place.title}: preparing the warm schema`)
      await prepareWarm(place.warmUrl, specs)
      const list = variants(db, place, options.models, prisma, options.baseline)
      out.push(...renderDatabase(place.title, list, await runVariants(list, options.runs, log)))
      if (db === "sqlite" && options.importCheck) out.push(...await importCheck(place, options, log))
    } finally {
      await place.close()
    }
  }
  process.stdout.write(`${out.join("\n")}\n`)
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error("[coldstart] failed:", error)
  process.exit(1)
})
