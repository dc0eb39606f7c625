/**
 * `npm run bench:prisma`: the Prisma 7 peer of the benchmark, on demand. Prisma is not in the
 * library's devDependencies (its install takes minutes and ~340 MB): bench/prisma/ is a package
 * of its own. This installs it when missing (`npm --prefix bench/prisma install`), generates
 * its two clients when missing or older than their schema, then runs bench/prisma/run.ts with
 * the arguments given (the options of `npm run bench`; SQLite and PostgreSQL).
 */
import { spawnSync } from "node:child_process"
import { existsSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { prismaGenerate, prismaInstalled, prismaPackage } from "./prisma-cli.js"

const here = dirname(fileURLToPath(import.meta.url))
const pkg = prismaPackage

const run = (command: string, args: ReadonlyArray<string>) => {
  // their output goes to stderr: stdout is the report
  const result = spawnSync(command, args, { stdio: ["inherit", 2, 2] })
  if (result.status !== 0) {
    process.stderr.write(`[bench:prisma] ${command} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`})\n`)
    process.exit(result.status ?? 1)
  }
}

if (!prismaInstalled()) {
  process.stderr.write("[bench:prisma] installing bench/prisma (Prisma 7 and its driver adapters; a few minutes)\n")
  run("npm", ["--prefix", pkg, "install", "--no-audit", "--no-fund"])
}

for (const db of ["sqlite", "pg"]) {
  const schema = join(pkg, "prisma", `${db}.prisma`)
  const client = join(pkg, "generated", db, "client.ts")
  if (!existsSync(client) || statSync(client).mtimeMs < statSync(schema).mtimeMs) {
    prismaGenerate(schema)
  }
}

const tsx = join(here, "..", "node_modules", "tsx", "dist", "cli.mjs")
const result = spawnSync(process.execPath, [tsx, join(pkg, "run.ts"), ...process.argv.slice(2)], { stdio: "inherit" })
process.exit(result.status ?? 1)
