/**
 * Prisma 7 as a peer of the benchmark, in the same process as the nodes, the raw driver and the
 * other peers (so every ratio comes from one run): the single-row workloads, bulkCreate and the
 * keyset walk on SQLite and PostgreSQL, through the harness of `npm run bench` (same options).
 *
 * Not run directly: `npm run bench:prisma` (bench/prisma.ts) installs this package, generates
 * the clients and then runs this file. Prisma is set up the way its docs show for version 7:
 * the `prisma-client` generator, and a driver adapter — `PrismaBetterSqlite3({ url })`,
 * `PrismaPg({ connectionString })` — passed to `new PrismaClient({ adapter })`.
 */
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3"
import { PrismaPg } from "@prisma/adapter-pg"
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs, usage } from "../config.js"
import type { DbResult } from "../harness.js"
import { runDatabase } from "../harness.js"
import type { Item, NewItem } from "../model.js"
import { LIST_LIMIT, WALK_PAGE } from "../model.js"
import type { PromiseOps, WalkCursor } from "../ops.js"
import { walkKey } from "../ops.js"
import type { Skipped } from "../report.js"
import { render } from "../report.js"
import { walkPageOf } from "../sql.js"
import type { Peer, Target } from "../targets.js"
import { openPg, openSqlite, privateName, probe } from "../targets.js"
import { fmtLoad, load } from "../versions.js"
import { PrismaClient as PgPrisma } from "./generated/pg/client.js"
import { PrismaClient as SqlitePrisma } from "./generated/sqlite/client.js"

const here = dirname(fileURLToPath(import.meta.url))
const prismaVersion = (JSON.parse(readFileSync(join(here, "node_modules", "prisma", "package.json"), "utf8")) as { version: string }).version

/** A row as Prisma returns it (PostgreSQL's bigint qty as a bigint). */
interface PrismaRow {
  readonly id: number
  readonly sku: string
  readonly name: string
  readonly category: string
  readonly price: number
  readonly qty: number | bigint
  readonly active: boolean
  readonly createdAt: Date
  readonly updatedAt: Date
}

const toItem = (r: PrismaRow): Item => ({ ...r, qty: Number(r.qty) })
const stamped = (row: NewItem, now: Date) => ({ ...row, createdAt: now, updatedAt: now })

/** The rows after the walk's cursor: the seek condition Prisma's docs give for a two-column order, with the nodes' leading bound. */
const after = (cursor: WalkCursor | undefined) => {
  if (cursor === undefined) return {}
  const k = walkKey(cursor)
  return { price: { lte: k.price }, OR: [{ price: { lt: k.price } }, { price: k.price, id: { gt: k.id } }] }
}
const walkOrder = [{ price: "desc" as const }, { id: "asc" as const }]

/** What the workloads use of a model delegate: both generated clients' delegates have it (PostgreSQL's qty is a bigint). */
interface Delegate {
  readonly create: (args: { readonly data: NewItem & { readonly createdAt: Date; readonly updatedAt: Date } }) => Promise<PrismaRow>
  // a mutable array: Prisma's createMany takes one
  readonly createMany: (args: { readonly data: Array<NewItem & { readonly createdAt: Date; readonly updatedAt: Date }> }) => Promise<{ readonly count: number }>
  readonly findUnique: (args: { readonly where: { readonly id: number } }) => Promise<PrismaRow | null>
  readonly findMany: (args: {
    readonly where: ReturnType<typeof after> | { readonly category: string }
    readonly orderBy: typeof walkOrder
    readonly take: number
  }) => Promise<ReadonlyArray<PrismaRow>>
  readonly count: (args: { readonly where: { readonly category: string } }) => Promise<number>
  readonly update: (args: { readonly where: { readonly id: number }; readonly data: { readonly name: string; readonly qty: number; readonly updatedAt: Date } }) => Promise<PrismaRow>
}

/** The benchmark's three tables in a generated client. */
interface Tables {
  readonly benchItem: Delegate
  readonly benchWrite: Delegate
  readonly benchWalk: Delegate
}

const prismaOps = (client: Tables): PromiseOps => ({
  create: async (row) => toItem(await client.benchWrite.create({ data: stamped(row, new Date()) })),
  read: async (id) => {
    const r = await client.benchItem.findUnique({ where: { id } })
    return r === null ? undefined : toItem(r)
  },
  list: async (category) =>
    (await client.benchItem.findMany({ where: { category }, orderBy: walkOrder, take: LIST_LIMIT + 1 })).slice(0, LIST_LIMIT).map(toItem),
  count: (category) => client.benchItem.count({ where: { category } }),
  update: async (id, patch) => toItem(await client.benchItem.update({ where: { id }, data: { ...patch, updatedAt: new Date() } })),
  bulkCreate: async (rows) => {
    const now = new Date()
    return (await client.benchWrite.createMany({ data: rows.map((r) => stamped(r, now)) })).count
  },
  walkPage: async (cursor) =>
    walkPageOf(await client.benchWalk.findMany({ where: after(cursor), orderBy: walkOrder, take: WALK_PAGE + 1 }), toItem)
})

const peer = (variant: string, client: Tables): Peer => ({
  name: `prisma ${prismaVersion}, ${variant}`,
  library: "prisma",
  variant,
  ops: prismaOps(client),
  applies: (w) => w.peers,
  bulkMethod: "createMany (Prisma splits it into statements itself)"
})

/** Statement names for PrismaPg's `statementNameGenerator`: one per SQL text (its prepared-statement cache). */
const statementNames = () => {
  const names = new Map<string, string>()
  return (query: { readonly sql: string }) => {
    let name = names.get(query.sql)
    if (name === undefined) names.set(query.sql, name = `prisma_${names.size + 1}`)
    return name
  }
}

const withPrisma = async (name: "sqlite" | "pg", target: Target): Promise<{ target: Target; close: () => Promise<void> }> => {
  if (name === "sqlite") {
    const client = new SqlitePrisma({ adapter: new PrismaBetterSqlite3({ url: `file:${target.url}` }) })
    return { target: { ...target, peers: [...target.peers, peer("adapter-better-sqlite3", client)] }, close: () => client.$disconnect() }
  }
  const connectionString = target.url
  const docs = new PgPrisma({ adapter: new PrismaPg({ connectionString }, { schema: privateName }) })
  const named = new PgPrisma({
    adapter: new PrismaPg({ connectionString }, { schema: privateName, statementNameGenerator: statementNames() })
  })
  return {
    target: {
      ...target,
      peers: [...target.peers, peer("adapter-pg", docs), peer("adapter-pg + statementNameGenerator (prepared)", named)]
    },
    close: async () => {
      await docs.$disconnect()
      await named.$disconnect()
    }
  }
}

const main = async () => {
  const argv = process.argv.slice(2)
  const parsed = parseArgs(argv)
  if (parsed === "help") return void process.stdout.write(usage)
  // Prisma's driver adapters here: SQLite and PostgreSQL (the concurrency run is not Prisma's)
  const config = { ...parsed, concurrency: false, databases: parsed.databases.filter((d): d is "sqlite" | "pg" => d !== "mysql") }
  const started = new Date()
  const loadAtStart = load()
  const t0 = performance.now()
  process.stderr.write(`[bench:prisma] prisma ${prismaVersion}, size ${config.label}, load ${fmtLoad(loadAtStart)}\n`)
  const results: Array<DbResult> = []
  const skipped: Array<Skipped> = []
  for (const name of config.databases) {
    if (name === "pg") {
      const ok = await probe("pg", config)
      if (ok !== true) {
        skipped.push({ title: "PostgreSQL", reason: `server not reachable (${ok})` })
        continue
      }
    }
    const opened = await (name === "sqlite" ? openSqlite(config) : openPg(config))
    try {
      const prisma = await withPrisma(name, opened)
      try {
        results.push(await runDatabase(prisma.target, config))
      } finally {
        await prisma.close()
      }
    } finally {
      await opened.close()
    }
  }
  const report = render(config, argv, results, skipped, started, (performance.now() - t0) / 1000, loadAtStart)
  process.stdout.write(`${report}\n`)
  if (config.write) {
    const file = join(here, "..", "results", `${started.toISOString().slice(0, 10)}-prisma-${config.label}.md`)
    writeFileSync(`${file}.tmp`, `${report}\n`)
    renameSync(`${file}.tmp`, file)
    process.stderr.write(`[bench:prisma] written to ${file}\n`)
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error("[bench:prisma] failed:", error)
  process.exit(1)
})
