/**
 * The on-demand Prisma package (bench/prisma) from the benchmark's scripts: whether it is
 * installed, and its CLI's `generate`.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const prismaPackage = join(dirname(fileURLToPath(import.meta.url)), "prisma")

export const prismaInstalled = (): boolean => existsSync(join(prismaPackage, "node_modules", "@prisma", "client", "package.json"))

/** The installed Prisma version. */
export const prismaVersion = (): string =>
  (JSON.parse(readFileSync(join(prismaPackage, "node_modules", "prisma", "package.json"), "utf8")) as { version: string }).version

/**
 * The Prisma CLI fetches its schema-engine binary from Prisma's own download host before any
 * command, `generate` included, although `generate` never runs it (it uses the WebAssembly
 * schema tools shipped in the npm package). Where that host cannot be reached, the CLI's
 * override `PRISMA_SCHEMA_ENGINE_BINARY` pointed at a placeholder file lets `generate` run;
 * the benchmarks never call the schema engine (the library creates the tables).
 */
const generateEnv = (): NodeJS.ProcessEnv => {
  if (process.env.PRISMA_SCHEMA_ENGINE_BINARY !== undefined) return process.env
  const placeholder = join(prismaPackage, "node_modules", ".schema-engine-not-used")
  writeFileSync(placeholder, "generate does not run the schema engine\n")
  return { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: placeholder }
}

/** `prisma generate --schema <schema>`; its output goes to stderr (stdout is a report). Throws when it fails. */
export const prismaGenerate = (schema: string): void => {
  const cli = join(prismaPackage, "node_modules", "prisma", "build", "index.js")
  const result = spawnSync(process.execPath, [cli, "generate", "--schema", schema], { stdio: ["ignore", 2, 2], env: generateEnv() })
  if (result.status !== 0) throw new Error(`prisma generate --schema ${schema} failed (${result.error?.message ?? `exit ${result.status}`})`)
}
