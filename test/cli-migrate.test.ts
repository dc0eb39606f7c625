/**
 * The CLI run as a user runs it (a child process on a real database): migrate plan / apply /
 * status / down, pull, their output and exit codes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import { privateUrl } from "./support/db.js"

/** Runs the CLI in a child process (node with tsx's loader: no npx start-up), without blocking the test worker. */
const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ readonly code: number | null; readonly out: string; readonly err: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk) => (out += String(chunk)))
    child.stderr.on("data", (chunk) => {
      out += String(chunk)
      err += String(chunk)
    })
    child.on("close", (code) => resolve({ code, out, err }))
  })

const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => Effect.promise(() => run(args, env))

const v1 = "test/support/migrate-models-v1.ts"
const v2 = "test/support/migrate-models-v2.ts"

const targets: ReadonlyArray<readonly [string, () => Effect.Effect<string>]> = [
  ["sqlite", () => Effect.sync(() => `sqlite:${join(mkdtempSync(join(tmpdir(), "df-cli-")), "db.sqlite")}`)],
  ...(inject("pgAvailable") ? [["pg", () => privateUrl("pg", "cli_migrate")] as const] : []),
  ...(inject("mysqlAvailable") ? [["mysql", () => privateUrl("mysql", "cli_migrate")] as const] : [])
]

describe("effect-dataflow CLI", () => {
  it("--help lists the commands", async () => {
    const help = await run(["--help"])
    expect(help.code).toBe(0)
    for (const command of ["migrate", "pull", "serve"]) expect(help.out).toContain(command)
  }, 60_000)

  for (const [name, target] of targets) {
    // each run starts node and loads the library (seconds on a busy machine): the whole story on
    // SQLite, the database-specific part (status, apply, pull) on the servers
    const full = name === "sqlite"
    it.live(`[${name}] status, apply, ${full ? "plan files, refused destructive apply, down, " : ""}pull`, () =>
      Effect.gen(function*() {
        const url = yield* target()
        const pending = yield* cli(["migrate", "status", "--models", v1], { DATABASE_URL: url })
        expect(pending.out).toContain("create table cli_items")
        expect(pending.code).toBe(2)

        const applied = yield* cli(["migrate", "apply", "--models", full ? v1 : v2, "--url", url])
        expect(applied.out).toContain("applied")
        expect(applied.code).toBe(0)
        // progress on stderr: each operation as it starts and finishes
        expect(applied.err).toMatch(/\[1\/\d+\] start cli_items: create table cli_items/)
        expect(applied.err).toMatch(/\[1\/\d+\] done  cli_items: create table cli_items \(\d+ ms\)/)

        if (full) {
          const upToDate = yield* cli(["migrate", "status", "--models", v1, "--url", url])
          expect(upToDate.out).toContain("pending  none")
          expect(upToDate.code).toBe(0)
          const out = mkdtempSync(join(tmpdir(), "df-plan-"))
          const planned = yield* cli(["migrate", "plan", "--models", v2, "--url", url, "--out", out, "--check"])
          expect(planned.code).toBe(2)
          expect(planned.out).toMatch(/note/)
          const [dir] = readdirSync(out)
          expect(readdirSync(join(out, dir!)).sort()).toEqual(["plan.json", "up.sql"])
          expect(readFileSync(join(out, dir!, "up.sql"), "utf8")).toMatch(/ALTER TABLE|CREATE TABLE/)
          const refused = yield* cli(["migrate", "apply", "--plan", join(out, dir!, "plan.json"), "--url", url])
          expect(refused.code).toBe(1)
          expect(refused.out).toContain("allowDestructive")
          const forced = yield* cli(["migrate", "apply", "--plan", join(out, dir!, "plan.json"), "--url", url, "--allow-destructive", "--quiet"])
          expect(forced.code).toBe(0)
          expect(forced.out).toContain("applied")
          expect(forced.err).not.toMatch(/\[1\//)
          // the second migration dropped a column: it cannot be undone
          const down = yield* cli(["migrate", "down", "--url", url])
          expect(down.code).toBe(1)
          expect(down.out).toContain("not reversible")
        }

        const pulled = yield* cli(["pull", "--url", url, "cli_items"])
        expect(pulled.code).toBe(0)
        expect(pulled.out).toContain(`Model.make(`)
        expect(pulled.out).toContain(`price: Schema.NullOr(Schema.Number)`)
      }), 300_000)
  }
})
