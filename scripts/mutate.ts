/**
 * Mutation check: does the test suite catch the planted bugs of scripts/mutations.ts?
 *
 *   npm run mutate                      every mutation, each against its own test files
 *   npm run mutate -- <name> [<name>…]  only these
 *   npm run mutate -- --check           only check that every mutation still applies
 *   npm run mutate -- --all             run the whole suite for each mutation, not its test files
 *   npm run mutate -- --workers=N       at most N vitest workers (default: vitest's own)
 *   npm run mutate -- --no-baseline     skip the run of the unmutated test files
 *   npm run mutate -- --keep            keep the scratch directory (its logs/)
 *
 * Copies src/, test/, examples/, vitest.config.ts, tsconfig.json and package.json into a
 * scratch directory under the system's temp directory (node_modules a symlink), runs the
 * unmutated test files once (`CI=true npx vitest run <files>`: the union of the selected
 * mutations' `tests`, or the whole suite with --all or when a mutation lists none) to learn
 * which tests fail anyway, then for each mutation, one after the other: applies it to the
 * scratch copy, runs its test files, restores the file. A mutation is caught when a test fails
 * that passed on the unmutated code (or the run breaks: a file that does not load, a timeout),
 * escaped when not, stale when its search text no longer occurs exactly once or a test file it
 * names does not exist. Prints a table; exits non-zero when a mutation escaped or is stale.
 *
 * Not part of CI: a few seconds to a few minutes per mutation with its own test files. The
 * servers of the test suite must be up.
 */
import { spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { Mutation } from "./mutations.js"
import { mutations } from "./mutations.js"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const RUN_TIMEOUT_MS = 15 * 60_000

interface Run {
  /** "ok": the suite ran to the end (passing or not); otherwise why it did not. */
  readonly status: "ok" | "timeout" | "broken"
  /** Failed tests, and test files that failed as a whole, as "file > test". */
  readonly failed: ReadonlySet<string>
  readonly tests: number
  readonly seconds: number
  readonly detail: string
}

interface JsonReport {
  readonly testResults?: ReadonlyArray<{
    readonly name: string
    readonly status?: string
    readonly message?: string
    readonly assertionResults?: ReadonlyArray<{ readonly fullName: string; readonly status: string }>
  }>
}

/** What a run of vitest runs: test files (the whole suite when undefined), at most so many workers. */
interface Selection {
  readonly files: ReadonlyArray<string> | undefined
  readonly workers: number | undefined
}

/**
 * Runs `CI=true npx vitest run [files]` in `dir`, its output to `log`, results through the
 * JSON reporter.
 */
const runSuite = (dir: string, log: string, selection: Selection): Promise<Run> =>
  new Promise((done) => {
    const started = Date.now()
    const report = join(dir, "vitest-report.json")
    rmSync(report, { force: true })
    const args = ["vitest", "run", "--reporter=dot", "--reporter=json", `--outputFile.json=${report}`]
    if (selection.workers !== undefined) args.push(`--maxWorkers=${selection.workers}`, "--minWorkers=1")
    if (selection.files !== undefined) args.push(...selection.files)
    const child = spawn("npx", args, {
      cwd: dir,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    const output: Array<Buffer> = []
    child.stdout.on("data", (b: Buffer) => output.push(b))
    child.stderr.on("data", (b: Buffer) => output.push(b))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      // the whole process group this script started: vitest and its workers
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
    }, RUN_TIMEOUT_MS)
    child.on("close", (code) => {
      clearTimeout(timer)
      writeFileSync(log, Buffer.concat(output))
      const seconds = Math.round((Date.now() - started) / 1000)
      if (timedOut) return done({ status: "timeout", failed: new Set(), tests: 0, seconds, detail: `no result after ${RUN_TIMEOUT_MS / 60_000} min` })
      if (!existsSync(report)) {
        return done({ status: "broken", failed: new Set(), tests: 0, seconds, detail: `vitest exited ${code} without a report` })
      }
      const json = JSON.parse(readFileSync(report, "utf8")) as JsonReport
      const failed = new Set<string>()
      let tests = 0
      for (const file of json.testResults ?? []) {
        const name = file.name.startsWith(dir) ? file.name.slice(dir.length + 1) : file.name
        const assertions = file.assertionResults ?? []
        tests += assertions.length
        for (const a of assertions) if (a.status === "failed") failed.add(`${name} > ${a.fullName}`)
        // a file that failed outside its tests (it does not load, a hook failed)
        if (file.status === "failed" && !assertions.some((a) => a.status === "failed")) {
          failed.add(`${name} (the file: ${(file.message ?? "").split("\n")[0]})`)
        }
      }
      done({ status: "ok", failed, tests, seconds, detail: `exit ${code}` })
    })
  })

const occurrences = (text: string, search: string) => text.split(search).length - 1

/** The test files of failures named "file > test" (or "the run: …"). */
const filesFailing = (failed: ReadonlyArray<string>) =>
  [...new Set(failed.map((f) => f.split(/ > | \(the file/)[0]!))].join(", ")

type Outcome =
  | { readonly _tag: "caught"; readonly by: ReadonlyArray<string>; readonly seconds: number }
  | { readonly _tag: "escaped"; readonly seconds: number }
  | { readonly _tag: "stale"; readonly reason: string }

/** The test files a mutation runs: its own list, or the whole suite (undefined). */
const filesOf = (m: Mutation, all: boolean): ReadonlyArray<string> | undefined => (all ? undefined : m.tests)

/** The union of the mutations' test files, or undefined when one of them needs the whole suite. */
const unionOf = (selected: ReadonlyArray<Mutation>, all: boolean): ReadonlyArray<string> | undefined => {
  const files = new Set<string>()
  for (const m of selected) {
    const own = filesOf(m, all)
    if (own === undefined) return undefined
    for (const f of own) files.add(f)
  }
  return [...files].sort()
}

const main = async () => {
  const args = process.argv.slice(2)
  const flags = new Set(args.filter((a) => a.startsWith("--")))
  const names = args.filter((a) => !a.startsWith("--"))
  const unknownName = names.find((n) => !mutations.some((m) => m.name === n))
  if (unknownName !== undefined) {
    console.error(`unknown mutation ${unknownName}; known: ${mutations.map((m) => m.name).join(", ")}`)
    process.exit(2)
  }
  const duplicate = mutations.find((m, i) => mutations.findIndex((o) => o.name === m.name) !== i)
  if (duplicate !== undefined) {
    console.error(`two mutations are named ${duplicate.name}`)
    process.exit(2)
  }
  const selected: ReadonlyArray<Mutation> = names.length === 0 ? mutations : mutations.filter((m) => names.includes(m.name))
  const all = flags.has("--all")
  const workersFlag = args.find((a) => a.startsWith("--workers="))
  const workers = workersFlag === undefined ? undefined : Number(workersFlag.slice("--workers=".length))
  if (workers !== undefined && !(Number.isSafeInteger(workers) && workers >= 1)) {
    console.error(`--workers takes a positive integer, not ${workersFlag!.slice("--workers=".length)}`)
    process.exit(2)
  }
  const known = new Set(["--check", "--all", "--no-baseline", "--keep"])
  const unknownFlag = [...flags].find((f) => !known.has(f) && !f.startsWith("--workers="))
  if (unknownFlag !== undefined) {
    console.error(`unknown option ${unknownFlag}; see the comment at the top of scripts/mutate.ts`)
    process.exit(2)
  }

  const scratch = mkdtempSync(join(tmpdir(), "dataflow-mutate-"))
  for (const entry of ["src", "test", "examples", "vitest.config.ts", "tsconfig.json", "package.json"]) {
    cpSync(join(root, entry), join(scratch, entry), { recursive: true })
  }
  symlinkSync(realpathSync(join(root, "node_modules")), join(scratch, "node_modules"), "dir")
  const logs = join(scratch, "logs")
  mkdirSync(logs)
  const cleanUp = () => {
    if (flags.has("--keep")) console.log(`scratch directory kept: ${scratch}`)
    else rmSync(scratch, { recursive: true, force: true })
  }

  const outcomes = new Map<string, Outcome>()
  const pristine = new Map<string, string>()
  const original = (file: string) => {
    let text = pristine.get(file)
    if (text === undefined) pristine.set(file, text = readFileSync(join(scratch, "src", file), "utf8"))
    return text
  }
  for (const m of selected) {
    const found = existsSync(join(scratch, "src", m.file)) ? occurrences(original(m.file), m.search) : 0
    const missing = (m.tests ?? []).filter((f) => !existsSync(join(root, f)))
    if (found !== 1) outcomes.set(m.name, { _tag: "stale", reason: `no longer applies (search text found ${found} times)` })
    else if (missing.length > 0) outcomes.set(m.name, { _tag: "stale", reason: `no such test file: ${missing.join(", ")}` })
  }
  const runnable = selected.filter((m) => !outcomes.has(m.name))

  let baseline: ReadonlySet<string> = new Set()
  if (!flags.has("--check") && runnable.length > 0 && !flags.has("--no-baseline")) {
    const files = unionOf(runnable, all)
    console.log(`baseline: the unmutated ${files === undefined ? "suite" : files.join(", ")} in ${scratch} …`)
    const run = await runSuite(scratch, join(logs, "baseline.log"), { files, workers })
    if (run.status !== "ok" || run.tests === 0) {
      console.error(`the unmutated suite did not run (${run.detail}); see ${join(logs, "baseline.log")}`)
      process.exitCode = 2
      if (!flags.has("--keep")) flags.add("--keep")
      cleanUp()
      return
    }
    baseline = run.failed
    console.log(`baseline: ${run.tests} tests in ${run.seconds} s, ${run.failed.size} failing without any mutation` +
      (run.failed.size === 0 ? "" : ` (not counted as catching):\n  ${[...run.failed].join("\n  ")}`))
  }

  if (!flags.has("--check")) {
    for (const [i, m] of runnable.entries()) {
      const path = join(scratch, "src", m.file)
      const text = original(m.file)
      writeFileSync(path, text.replace(m.search, () => m.replace))
      process.stdout.write(`[${i + 1}/${runnable.length}] ${m.name} … `)
      try {
        const run = await runSuite(scratch, join(logs, `${m.name}.log`), { files: filesOf(m, all), workers })
        const fresh = [...run.failed].filter((t) => !baseline.has(t))
        const outcome: Outcome = run.status !== "ok"
          ? { _tag: "caught", by: [`the run: ${run.detail}`], seconds: run.seconds }
          : fresh.length > 0
          ? { _tag: "caught", by: fresh, seconds: run.seconds }
          : { _tag: "escaped", seconds: run.seconds }
        outcomes.set(m.name, outcome)
        console.log(outcome._tag === "caught" ? `caught by ${outcome.by.length} (${run.seconds} s)` : `ESCAPED (${run.seconds} s)`)
      } finally {
        writeFileSync(path, text)
      }
    }
  }

  const rows = selected.map((m) => {
    const o = outcomes.get(m.name)
    const result = o === undefined
      ? "applies"
      : o._tag === "stale"
      ? `stale: ${o.reason}`
      : o._tag === "escaped"
      ? "ESCAPED"
      : `caught by ${o.by.length} failing in ${filesFailing(o.by)}: ${o.by[0]!.replace(/\s+/g, " ").slice(0, 110)}`
    return [m.name, result, m.breaks] as const
  })
  const width = Math.max(...rows.map(([name]) => name.length), "mutation".length)
  console.log(`\n${"mutation".padEnd(width)}  result`)
  console.log(`${"-".repeat(width)}  ${"-".repeat(60)}`)
  for (const [name, result, breaks] of rows) console.log(`${name.padEnd(width)}  ${result}\n${" ".repeat(width)}  breaks: ${breaks}`)
  const escaped = [...outcomes.values()].filter((o) => o._tag === "escaped").length
  const stale = [...outcomes.values()].filter((o) => o._tag === "stale").length
  const caught = [...outcomes.values()].filter((o) => o._tag === "caught").length
  console.log(`\n${caught} caught, ${escaped} escaped, ${stale} stale of ${selected.length}`)
  if (escaped > 0 || stale > 0) process.exitCode = 1
  cleanUp()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 2
})
