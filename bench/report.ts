/**
 * The Markdown report: machine and package facts, then per database a summary of the nodes'
 * overhead and the full table. Numbers are medians over the rounds; ratios are time ratios
 * computed from those medians.
 */
import type { Config } from "./config.js"
import type { DbResult, Runner } from "./harness.js"
import { WALK_PAGE, WALK_PRICES } from "./model.js"
import type { Workload } from "./workloads.js"
import { load, machine, ownVersion, packages, versionOf } from "./versions.js"
import { isSingle } from "./workloads.js"

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
const NODES_SPANS_OFF = "effect-dataflow nodes, one Effect, node spans off"
const NODES_PER_OP = "effect-dataflow nodes, runPromise per op"

/** The issue's targets (time ratios unless said otherwise). */
export const TARGET_VS_HAND = 1.15
export const TARGET_VS_PEER = 1.0
/** bulkCreate throughput ÷ the fastest raw-driver method's. */
export const TARGET_BULK = 0.8
export const TARGET_STREAM_MB = 300

const medianMap = (samples: ReadonlyMap<string, ReadonlyArray<number>>) =>
  new Map([...samples].map(([label, xs]) => [label, median(xs)]))

/** Time ratio a ÷ b from throughput medians (b's throughput ÷ a's). */
const timeRatio = (medians: ReadonlyMap<string, number>, a: string, b: string | undefined) => {
  const x = medians.get(a)
  const y = b === undefined ? undefined : medians.get(b)
  return x === undefined || y === undefined ? undefined : y / x
}

/** A runner's name in the tables of workload `w` (the raw row says how it writes when there are several raw methods). */
const labelIn = (db: DbResult, w: Workload, r: Runner): string => {
  const label = w.singleOp && r.mode === "oneEffect" ? r.label.replace("one Effect", "single runPromise") : r.label
  const rawMethods = db.runners.filter((x) => x.family === "raw" && x.applies(w)).length
  return rawMethods > 1 && r === db.runners.find((x) => x.family === "raw")
    ? `${label}, the nodes' statements (${db.target.stmts.bulkMethod})`
    : label
}

/** Two decimals, three where two would round onto the limit (so the verdict can be read off the number). */
const fmtAgainst = (x: number | undefined, limit: number) =>
  x === undefined ? "–" : x.toFixed(2) === limit.toFixed(2) && x !== limit ? x.toFixed(3) : x.toFixed(2)

const yesNo = (ok: boolean | undefined) => (ok === undefined ? "–" : ok ? "**met**" : "**not met**")
const mb = (x: number) => `${x.toFixed(0)} MB`
const signedMb = (x: number) => `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(0)} MB`

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
  const peers = db.runners.filter((r) => r.family === "peer")
  const summary: Array<string> = [
    "Summary: time of the generated nodes divided by the time of the same statements written by hand on",
    "@effect/sql (same way of running), by the time of the raw driver, and by the time of each peer (one Promise per",
    "operation). 1.00× = as fast; 1.25× = takes 25% longer.",
    "",
    `| workload | nodes ÷ @effect/sql, one Effect | nodes, node spans off ÷ @effect/sql, one Effect | nodes ÷ @effect/sql, runPromise per op | nodes (one Effect) ÷ raw driver | @effect/sql (one Effect) ÷ raw driver |${
      peers.map((p) => ` nodes (one Effect) ÷ ${p.label} |`).join("")
    }`,
    `| --- | ---: | ---: | ---: | ---: | ---: |${peers.map(() => " ---: |").join("")}`
  ]
  const detail: Array<string> = [
    `| workload | implementation | ${"median"} | spread | time ÷ raw driver | time ÷ @effect/sql |`,
    "| --- | --- | ---: | ---: | ---: | ---: |"
  ]
  for (const { workload: w, samples } of db.results) {
    const medians = medianMap(samples)
    const ratio = (label: string, ref: string | undefined) => timeRatio(medians, label, ref)
    summary.push(
      `| ${w.title} | ${fmtRatio(ratio(NODES_ONE, HAND_ONE))} | ${fmtRatio(ratio(NODES_SPANS_OFF, HAND_ONE))} | ${
        w.singleOp ? "(single op: same as one Effect)" : fmtRatio(ratio(NODES_PER_OP, HAND_PER_OP))
      } | ${fmtRatio(ratio(NODES_ONE, rawLabel))} | ${fmtRatio(ratio(HAND_ONE, rawLabel))} |${
        peers.map((p) => ` ${fmtRatio(ratio(NODES_ONE, p.label))} |`).join("")
      }`
    )
    let first = true
    for (const r of db.runners) {
      const xs = samples.get(r.label)
      if (xs === undefined) continue
      detail.push(
        `| ${first ? `**${w.title}**` : ""} | ${labelIn(db, w, r)} | ${fmtRate(median(xs))} ${w.unit} | ${spread(xs)} | ${
          r.label === rawLabel ? "(ref)" : fmtRatio(ratio(r.label, rawLabel))
        } | ${r.family === "effect-sql" ? "(ref)" : fmtRatio(ratio(r.label, handReference(r, medians)))} |`
      )
      first = false
    }
  }
  if (db.streamed !== undefined) {
    const st = db.streamed
    const delta = st.peakRssMb - st.baselineRssMb
    out.push(
      `**bulkCreate streamed from a generator**: ${st.rows.toLocaleString("en-US")} rows made one at a time by a generator, the nodes`,
      `only, once per run: ${fmtRate(st.rowsPerSecond)} rows/s (${st.seconds.toFixed(1)} s), ${st.progressCalls} onProgress calls; the generator`,
      `was at most ${st.maxAhead.toLocaleString("en-US")} rows ahead of the rows written. Resident set size of the child process: ${
        mb(st.baselineRssMb)
      } before${st.gcBeforeBaseline ? " (after a full GC)" : ""},`,
      `peak ${mb(st.peakRssMb)}, i.e. **${signedMb(delta)}** (${signedMb(st.tenthRssDeltaMb)} when the first tenth of the rows was written); peak V8`,
      `heap in use ${signedMb(st.peakHeapDeltaMb)}${
        st.retainedHeapMb === undefined ? "" : `, after a full GC with every row written ${signedMb(st.retainedHeapMb)} (what stays held)`
      }; process maxRSS ${mb(st.maxRssBeforeMb)} before, ${mb(st.maxRssAfterMb)} after (${st.samples} samples).`,
      ""
    )
  }
  out.push(...summary, "", ...detail, "")
  return out
}

/** The issue's targets, all databases in one place. */
const targetsSection = (dbs: ReadonlyArray<DbResult>): Array<string> => {
  const single: Array<string> = [
    "### Single-row nodes",
    "",
    `Time ratios, one Effect. Target: the nodes within ${TARGET_VS_HAND.toFixed(2)}× of hand-written @effect/sql and at least as fast`,
    "as Drizzle and Kysely (time ÷ peer ≤ 1.00×). The spans-off column (`DataFlow.nodeSpans(false)`) runs the same code: it shows the noise.",
    "",
    `| database | workload | nodes ÷ @effect/sql | ≤ ${TARGET_VS_HAND.toFixed(2)}× | nodes, spans off ÷ @effect/sql | nodes ÷ Drizzle | nodes ÷ Kysely | as fast as both peers |`,
    "| --- | --- | ---: | --- | ---: | ---: | ---: | --- |"
  ]
  const bulk: Array<string> = [
    "### bulkCreate",
    "",
    `Throughput of the nodes ÷ throughput of the fastest raw-driver method (target ≥ ${TARGET_BULK.toFixed(2)}, i.e. time ≤ ${
      (1 / TARGET_BULK).toFixed(2)
    }×).`,
    "",
    "| database | workload | nodes | fastest raw-driver method | nodes ÷ fastest raw (throughput) | target |",
    "| --- | --- | ---: | --- | ---: | --- |"
  ]
  const stream: Array<string> = [
    "### bulkCreate streamed from a generator",
    "",
    `Peak resident set size above the baseline before the workload (target < ${TARGET_STREAM_MB} MB).`,
    "",
    "| database | rows | rows/s | onProgress calls | peak RSS above baseline | target |",
    "| --- | ---: | ---: | ---: | ---: | --- |"
  ]
  for (const db of dbs) {
    const peerOf = (name: string) => db.runners.find((r) => r.family === "peer" && r.label.startsWith(name))?.label
    const drizzle = peerOf("drizzle")
    const kysely = peerOf("kysely")
    for (const { workload: w, samples } of db.results) {
      const medians = medianMap(samples)
      if (isSingle(w)) {
        const hand = timeRatio(medians, NODES_ONE, HAND_ONE)
        const vsPeers = [drizzle, kysely].map((p) => timeRatio(medians, NODES_ONE, p)).filter((r) => r !== undefined)
        single.push(
          `| ${db.target.title} | ${w.title} | ${fmtAgainst(hand, TARGET_VS_HAND)}× | ${
            yesNo(hand === undefined ? undefined : hand <= TARGET_VS_HAND)
          } | ${fmtRatio(timeRatio(medians, NODES_SPANS_OFF, HAND_ONE))} | ${
            drizzle === undefined ? "–" : `${fmtAgainst(timeRatio(medians, NODES_ONE, drizzle), TARGET_VS_PEER)}×`
          } | ${kysely === undefined ? "–" : `${fmtAgainst(timeRatio(medians, NODES_ONE, kysely), TARGET_VS_PEER)}×`} | ${
            yesNo(vsPeers.length === 0 ? undefined : vsPeers.every((r) => r <= TARGET_VS_PEER))
          } |`
        )
      }
      if (w.op === "bulkCreate") {
        const raws = db.runners.filter((r) => r.family === "raw" && medians.has(r.label))
        const fastest = raws.reduce((a, b) => (medians.get(b.label)! > medians.get(a.label)! ? b : a))
        const nodes = medians.get(NODES_ONE)
        const share = nodes === undefined ? undefined : nodes / medians.get(fastest.label)!
        bulk.push(
          `| ${db.target.title} | ${w.title} | ${nodes === undefined ? "–" : `${fmtRate(nodes)} rows/s`} | ${labelIn(db, w, fastest)}: ${
            fmtRate(medians.get(fastest.label)!)
          } rows/s | ${fmtAgainst(share, TARGET_BULK)} | ${yesNo(share === undefined ? undefined : share >= TARGET_BULK)} |`
        )
      }
    }
    const st = db.streamed
    if (st !== undefined) {
      const delta = st.peakRssMb - st.baselineRssMb
      stream.push(
        `| ${db.target.title} | ${st.rows.toLocaleString("en-US")} | ${fmtRate(st.rowsPerSecond)} | ${st.progressCalls} | ${signedMb(delta)} | ${
          yesNo(delta < TARGET_STREAM_MB)
        } |`
      )
    }
  }
  const streamed = dbs.some((db) => db.streamed !== undefined) ? [...stream, ""] : []
  return ["## Issue targets", "", ...single, "", ...bulk, "", ...streamed]
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
    config.stream > 0
      ? `- bulkCreate streamed from a generator: ${config.stream.toLocaleString("en-US")} rows, the nodes only, once per database (not per round), in a fresh child process so that its peak RSS is its own`
      : "- bulkCreate streamed from a generator: left out (`--stream 0`)",
    config.walk > 0
      ? `- keyset walk: a table of ${config.walk.toLocaleString("en-US")} rows (${WALK_PRICES} distinct prices), seeded once, walked whole in every timed run in pages of ${WALK_PAGE.toLocaleString("en-US")} rows; the warm-up walks the first two pages`
      : "- keyset walk: left out (`--walk 0`)",
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
    "- **walk**: each page is one operation (\"runPromise per op\": one `runPromise` per page); the nodes follow their",
    "  opaque `nextCursor`, the others pass the last row's (price, id). Check value: the rows walked, all in order.",
    "- **node spans off**: the nodes run with the layer `DataFlow.nodeSpans(false)`; single-row workloads only. No",
    "  tracer is installed, and with Effect's built-in tracer the nodes open no span either way: the two rows run",
    "  the same code, and their difference is the run's noise.",
    "- PostgreSQL bulkCreate has two raw-driver rows: the nodes' statements (`INSERT … SELECT * FROM UNNEST($1::text[], …)`,",
    "  one array parameter per column) and multi-row `INSERT … VALUES`; the targets compare the nodes with the faster one.",
    "- Timings are never asserted: this is a measurement, not a test (the \"target\" columns only report).",
    ""
  ]
  if (dbs.length > 0) lines.push(...targetsSection(dbs))
  for (const s of skipped) lines.push(`## ${s.title}`, "", `Skipped: ${s.reason}`, "")
  for (const db of dbs) lines.push(...databaseSection(db))
  return lines.join("\n")
}
