/**
 * Installed package versions and machine facts, for the report.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { cpus, freemem, loadavg, platform, release, totalmem } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")

export const versionOf = (pkg: string): string => {
  try {
    const json = JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version?: unknown }
    return typeof json.version === "string" ? json.version : "?"
  } catch {
    return "not installed"
  }
}

/**
 * The commit of the checkout (`git rev-parse --short HEAD`), with `+dirty` when files other
 * than earlier reports in bench/results/ differ from it (changed or untracked): a report
 * quotes the code it measured.
 */
export const commit = (): string => {
  try {
    const git = (...args: Array<string>) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
    const hash = git("rev-parse", "--short", "HEAD")
    const dirty = git("status", "--porcelain", "--", ".", ":(exclude)bench/results") !== ""
    return `${hash}${dirty ? "+dirty" : ""}`
  } catch {
    return "not a git checkout"
  }
}

export const ownVersion = (): string => {
  const json = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name?: unknown; version?: unknown }
  return `${String(json.name)} ${String(json.version)} (commit ${commit()})`
}

export const packages = [
  "effect",
  "@effect/sql",
  "@effect/sql-sqlite-node",
  "@effect/sql-pg",
  "@effect/sql-mysql2",
  "better-sqlite3",
  "pg",
  "mysql2",
  "drizzle-orm",
  "kysely",
  "tsx"
] as const

/** The 1-, 5- and 15-minute load averages. */
export const load = () => {
  const [one, five, fifteen] = loadavg()
  return { one: one!, five: five!, fifteen: fifteen! }
}

export type Load = ReturnType<typeof load>

export const fmtLoad = (l: Load) => `${l.one.toFixed(2)} / ${l.five.toFixed(2)} / ${l.fifteen.toFixed(2)}`

export const machine = () => {
  const list = cpus()
  const models = [...new Set(list.map((c) => c.model.trim()))].join(", ")
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${release()}`,
    cpus: `${list.length} × ${models}`,
    cpuCount: list.length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at start)`
  }
}
