/**
 * Every runnable example under examples/ runs to the end (exit code 0) in a fresh directory,
 * as a reader would run it with `npx tsx examples/<name>.ts`. The quickstart runs in .ci/run
 * (`npm run example`); examples that are test files run with the suite.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { connect } from "node:net"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"

const root = resolve(import.meta.dirname, "..")
// servers run until stopped: each has its own test (test/example-serve.test.ts)
const servers = new Set(["serve.ts"])
const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !servers.has(f))
const cwd = mkdtempSync(join(tmpdir(), "df-examples-"))
afterAll(() => rmSync(cwd, { recursive: true, force: true }))

// examples that need more than the embedded SQLite: run where that server answers (always under CI)
const needs: Record<string, { readonly what: string; readonly port: number }> = {
  "replicas.ts": { what: "a PostgreSQL standby on port 5433 (scripts/pg-standby.sh)", port: 5433 }
}
const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.end()
      resolve(true)
    })
    socket.on("error", () => resolve(false))
  })
const missing = new Map<string, string>()
for (const [file, need] of Object.entries(needs)) {
  if (process.env.CI !== "true" && !(await answers(need.port))) missing.set(file, need.what)
}

describe("examples", () => {
  for (const file of examples) {
    if (missing.has(file)) {
      describe.skipIf(true)(`${file} (needs ${missing.get(file)})`, () => {
        it("runs", () => {})
      })
      continue
    }
    it(`${file} runs to the end`, async () => {
      const tsx = join(root, "node_modules", ".bin", "tsx")
      const { stdout } = await promisify(execFile)(tsx, [join(root, "examples", file)], { cwd, timeout: 120_000 })
      expect(stdout.length).toBeGreaterThan(0)
    }, 150_000)
  }
})
