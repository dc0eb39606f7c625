/**
 * The Markdown report: machine and package facts, then per database a summary of the nodes'
 * overhead and the full table. Numbers are medians over the rounds; ratios are time ratios
 * computed from those medians.
 */
import type { Config } from "./config.js"
import type { DbResult, Runner } from "./harness.js"
import { load, machine, ownVersion, packages, versionOf } from "./versions.js"

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const fmtRate = (x: number) =>
  x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toLocaleString("en-US", { maximumFractionDigits: 1 })
const fmtRatio = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${x.toFixed(2)}×`)
const spread = (xs: ReadonlyArray<number>) => {
  if (xs.length < 2) return "–"
  const m = median(xs)
  return `±${Math.round(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100)}%`
}

const HAND_ONE = "@effect/sql hand-written, one Effect"
const HAND_PER_OP = "@effect/sql hand-written, runPromise per op"
const NODES_ONE = "effect-dataflow nodes, one Effect"
const NODES_PER_OP = "effect-dataflow nodes, runPromise per op"

/** The @effect/sql row a runner is compared with. */
const handReference = (r: Runner, medians: ReadonlyMap<string, number>): string | undefined => {
  if (r.family === "effect-sql") return undefined
  if (r.mode === "oneEffect") return HAND_ONE
  return medians.has(HAND_PER_OP) ? HAND_PER_OP : HAND_ONE
}

export interface Skipped {
  readonly title: string
  readonly reason: string
}

const databaseSection = (db: DbResult): Array<string> => {
  const out: Array<string> = [`## ${db.target.title}`, ""]
  for (const d of db.target.details) out.push(`- ${d}`)
  out.push(`- wall time for this database: ${db.seconds.toFixed(0)} s`)
  if (db.sqlDifferences.length === 0) {
    out.push("- statements: the hand-written @effect/sql and raw-driver rows send exactly the nodes' statements (checked)")
  } else {
    out.push("- **WARNING: the hand-written statements differ from the nodes' (bench/sql.ts must follow the library):**")
    for (const d of db.sqlDifferences) out.push(`  - ${d}`)
  }
  out.push("")

  const rawLabel = db.runners.find((r) => r.family === "raw")!.label
  const summary: Array<string> = [
    "Summary: time of the generated nodes divided by the time of the same statements written by hand on",
    "@effect/sql (same way of running), and by the time of the raw driver. 1.00× = as fast; 1.25× = takes 25% longer.",
    "",
    "| workload | nodes ÷ @effect/sql, one Effect | nodes ÷ @effect/sql, runPromise per op | nodes (one Effect) ÷ raw driver | @effect/sql (one Effect) ÷ raw driver |",
    "| --- | ---: | ---: | ---: | ---: |"
  ]
  const detail: Array<string> = [
    `| workload | implementation | ${"median"} | spread | time ÷ raw driver | time ÷ @effect/sql |`,
    "| --- | --- | ---: | ---: | ---: | ---: |"
  ]
  for (const { workload: w, samples } of db.results) {
    const medians = new Map([...samples].map(([label, xs]) => [label, median(xs)]))
    const ratio = (label: string, ref: string | undefined) => {
      const a = medians.get(label)
      const b = ref === undefined ? undefined : medians.get(ref)
      return a === undefined || b === undefined ? undefined : b / a
    }
    summary.push(
      `| ${w.title} | ${fmtRatio(ratio(NODES_ONE, HAND_ONE))} | ${
        w.singleOp ? "(single op: same as one Effect)" : fmtRatio(ratio(NODES_PER_OP, HAND_PER_OP))
      } | ${fmtRatio(ratio(NODES_ONE, rawLabel))} | ${fmtRatio(ratio(HAND_ONE, rawLabel))} |`
    )
    let first = true
    for (const r of db.runners) {
      const xs = samples.get(r.label)
      if (xs === undefined) continue
      const label = w.singleOp && r.mode === "oneEffect" ? r.label.replace("one Effect", "single runPromise") : r.label
      detail.push(
        `| ${first ? `**${w.title}**` : ""} | ${label} | ${fmtRate(median(xs))} ${w.unit} | ${spread(xs)} | ${
          r.family === "raw" ? "(ref)" : fmtRatio(ratio(r.label, rawLabel))
        } | ${r.family === "effect-sql" ? "(ref)" : fmtRatio(ratio(r.label, handReference(r, medians)))} |`
      )
      first = false
    }
  }
  out.push(...summary, "", ...detail, "")
  return out
}

export const render = (
  config: Config,
  argv: ReadonlyArray<string>,
  dbs: ReadonlyArray<DbResult>,
  skipped: ReadonlyArray<Skipped>,
  started: Date,
  seconds: number,
  loadAtStart: number
): string => {
  const m = machine()
  const end = load()
  // the run itself keeps about one CPU busy, so only the load before it says whether other work competed
  const busy = loadAtStart > m.cpuCount * 0.5
  const lines: Array<string> = [
    `# effect-dataflow benchmark: ${config.label}`,
    "",
    `Run ${started.toISOString()} with \`npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}\`, ${
      seconds.toFixed(0)
    } s in all.`,
    "",
    "## Machine",
    "",
    `- Node.js ${m.node} (V8 ${m.v8}), ${m.platform}`,
    `- CPU: ${m.cpus}`,
    `- Memory: ${m.memory}`,
    `- 1-minute load average: ${loadAtStart.toFixed(2)} at the start, ${end.one.toFixed(2)} at the end (the run itself adds about 1)${
      busy ? "; **other work was running: the numbers are noisier than usual**" : ""
    }`,
    "",
    "## Packages",
    "",
    `- ${ownVersion()}`,
    ...packages.map((p) => `- ${p} ${versionOf(p)}`),
    "",
    "## Sizes",
    "",
    config.budgetMs === 0
      ? `- single-row workloads: ${config.n} operations per run`
      : `- single-row workloads: per database, as many operations per run as the median implementation runs in about ${config.budgetMs} ms (measured in the warm-up), at most ${config.n}, at least 10; the count is in each workload's name and is the same for every implementation and round`,
    `- bulkCreate: ${config.bulk.map((b) => b.toLocaleString("en-US")).join(" and ")} rows; bulkUpdate, bulkDelete, bulkUpsert: ${
      (config.bulkAll ? config.bulk : config.bulk.slice(0, 1)).map((b) => b.toLocaleString("en-US")).join(" and ")
    } rows; Drizzle and Kysely run bulkCreate at ${config.bulk[0]!.toLocaleString("en-US")} rows only`,
    `- ${config.rounds} timed rounds after a small untimed warm-up${config.budgetMs === 0 ? "" : " (two passes, the second sizes the single-row workloads)"}; every implementation runs every workload once per round, in rotating order`,
    `- read / list / count / update work on a table of ${config.seedRows.toLocaleString("en-US")} rows in 10 categories`,
    "",
    "## How to read the tables",
    "",
    "- **median**: operations (or rows, for bulk workloads) per second, median over the rounds. **spread**: half the",
    "  range between the slowest and the fastest round, relative to the median.",
    "- **time ÷ raw driver** and **time ÷ @effect/sql**: how long this row takes relative to the reference row, from",
    "  the medians (1.00× = as fast, 2.00× = twice as long, below 1.00× = faster). The @effect/sql reference is the",
    "  hand-written row run the same way: one Effect for \"one Effect\" rows, one runPromise per operation for",
    "  \"runPromise per op\" rows, and for the raw driver and the peers (one Promise per operation).",
    "- **one Effect**: the whole loop of operations is one Effect, run with one `runPromise`. **runPromise per op**:",
    "  each operation is its own `ManagedRuntime.runPromise`. bulkCreate and bulkUpsert are one operation, so the two",
    "  are the same there and only one row is shown (\"single runPromise\").",
    "- Every implementation sends the same statements (the nodes' own SQL; the peers as close as their API",
    "  allows) and returns the same records; a check value (rows found, rows changed) must agree between them.",
    "- Timings are never asserted: this is a measurement, not a test.",
    ""
  ]
  for (const s of skipped) lines.push(`## ${s.title}`, "", `Skipped: ${s.reason}`, "")
  for (const db of dbs) lines.push(...databaseSection(db))
  return lines.join("\n")
}
