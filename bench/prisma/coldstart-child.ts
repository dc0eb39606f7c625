/**
 * Prisma 7's cold start, in a fresh `node` process started by bench/coldstart.ts when
 * bench/prisma is installed: the client generated for the cold-start models
 * (`generated-cold/<db>`, from `prismaSchema` in bench/coldstart-models.ts), compiled to
 * JavaScript with bench/prisma/tsconfig.coldstart.json, its driver adapter as the docs set it
 * up, one `findUnique` on the first model. Prints the same report line as bench/coldstart-child.ts.
 *
 * Environment: COLDSTART_DB (sqlite | pg), COLDSTART_URL.
 */

/** The report line of bench/coldstart-child.ts (`ChildReport`), kept in step by hand: this file compiles alone. */
interface Report {
  readonly started: number
  readonly importMs: number
  readonly declareMs: number
  readonly answered: number
  readonly cpuMs: number
  readonly rss: number
  readonly heapUsed: number
}

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`prisma coldstart-child: ${name} is not set`)
  return value
}

const sqlite = async (url: string) => {
  const { PrismaClient } = await import("./generated-cold/sqlite/client.js")
  const { PrismaBetterSqlite3 } = await import("@prisma/adapter-better-sqlite3")
  const imported = performance.now()
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${url}` }) })
  if ((await prisma.coldModel0.findUnique({ where: { id: 1 } })) === null) throw new Error("row 1 of cold_m0 not found")
  return imported
}

const pg = async (url: string) => {
  const { PrismaClient } = await import("./generated-cold/pg/client.js")
  const { PrismaPg } = await import("@prisma/adapter-pg")
  const imported = performance.now()
  const schema = new URL(url).searchParams.get("options")?.match(/search_path=(\S+)/)?.[1]
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }, schema === undefined ? {} : { schema }) })
  if ((await prisma.coldModel0.findUnique({ where: { id: 1 } })) === null) throw new Error("row 1 of cold_m0 not found")
  return imported
}

const main = async () => {
  const started = performance.now()
  const db = env("COLDSTART_DB")
  const url = env("COLDSTART_URL")
  const imported = db === "sqlite" ? await sqlite(url) : await pg(url)
  const answered = performance.now()
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  const report: Report = {
    started,
    importMs: imported - started,
    // Prisma's models are declared in its generated client: their cost is part of the import
    declareMs: 0,
    answered,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rss: memory.rss,
    heapUsed: memory.heapUsed
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error("[prisma coldstart-child] failed:", error)
  process.exit(1)
})
