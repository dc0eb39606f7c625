/**
 * `npm run bench:prisma`: the Prisma 7 peer of the benchmark, on demand. Prisma is not in the
 * library's devDependencies (its install takes minutes and ~340 MB): bench/prisma/ is a package
 * of its own. This installs it when missing (`npm --prefix bench/prisma install`), generates
 * its two clients when missing or older than their schema, then runs bench/prisma/run.ts with
 * the arguments given (the options of `npm run bench`; SQLite and PostgreSQL).
 */
import { spawnSync } from "node:child_process"
import { existsSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const pkg = join(here, "prisma")

const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env) => {
  // their output goes to stderr: stdout is the report
  const result = spawnSync(command, args, { stdio: ["inherit", 2, 2], env })
  if (result.status !== 0) {
    process.stderr.write(`[bench:prisma] ${command} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`})\n`)
    process.exit(result.status ?? 1)
  }
}

if (!existsSync(join(pkg, "node_modules", "@prisma", "client", "package.json"))) {
  process.stderr.write("[bench:prisma] installing bench/prisma (Prisma 7 and its driver adapters; a few minutes)\n")
  run("npm", ["--prefix", pkg, "install", "--no-audit", "--no-fund"])
}

/**
 * The Prisma CLI fetches its schema-engine binary from Prisma's own download host before any
 * command, `generate` included, although `generate` never runs it (it uses the WebAssembly
 * schema tools shipped in the npm package). Where that host cannot be reached, the CLI's
 * documented override `PRISMA_SCHEMA_ENGINE_BINARY` pointed at a placeholder file lets
 * `generate` run; the benchmark never calls the schema engine (the library creates the tables).
 */
const generateEnv = (): NodeJS.ProcessEnv => {
  if (process.env.PRISMA_SCHEMA_ENGINE_BINARY !== undefined) return process.env
  const placeholder = join(pkg, "node_modules", ".schema-engine-not-used")
  writeFileSync(placeholder, "generate does not run the schema engine\n")
  return { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: placeholder }
}

for (const db of ["sqlite", "pg"]) {
  const schema = join(pkg, "prisma", `${db}.prisma`)
  const client = join(pkg, "generated", db, "client.ts")
  if (!existsSync(client) || statSync(client).mtimeMs < statSync(schema).mtimeMs) {
    run(process.execPath, [join(pkg, "node_modules", "prisma", "build", "index.js"), "generate", "--schema", schema], generateEnv())
  }
}

const tsx = join(here, "..", "node_modules", "tsx", "dist", "cli.mjs")
const result = spawnSync(process.execPath, [tsx, join(pkg, "run.ts"), ...process.argv.slice(2)], { stdio: "inherit" })
process.exit(result.status ?? 1)
