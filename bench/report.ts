/**
 * The Markdown report: machine and package facts, the commit measured, then the issue's
 * targets and per database a summary of the nodes' overhead and the full table. Numbers are
 * medians over the rounds; ratios are time ratios computed from those medians. Comparisons
 * are like for like: the nodes against the hand-written floor that prepares its statements as
 * they do, and against each peer library's fastest row with one Promise per operation on
 * both sides. A verdict needs MIN_VERDICT_ROUNDS rounds.
 */
import type { Config } from "./config.js"
import type { DbResult, Runner } from "./harness.js"
import {
  HAND_ONE,
  HAND_PER_OP,
  HAND_TRACED,
  NAMED_ONE,
  NAMED_PER_OP,
  NODES_ONE,
  NODES_PER_OP,
  NODES_SPANS_OFF,
  NODES_TRACED
} from "./harness.js"
import { WALK_PAGE, WALK_PRICES } from "./model.js"
import { median } from "./stats.js"
import type { Load } from "./versions.js"
import { commit, fmtLoad, load, machine, ownVersion, packages, versionOf } from "./versions.js"
import type { Workload } from "./workloads.js"
import { isSingle } from "./workloads.js"

const fmtRate = (x: number) =>
  x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toLocaleString("en-US", { maximumFractionDigits: 1 })
const fmtRatio = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${x.toFixed(2)}×`)
const spread = (xs: ReadonlyArray<number>) => {
  if (xs.length < 2) return "–"
  const m = median(xs)
  return `±${Math.round(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100)}%`
}

/** The issue's targets (time ratios unless said otherwise). */
export const TARGET_VS_HAND = 1.15
export const TARGET_VS_PEER = 1.0
/** bulkCreate throughput ÷ the fastest raw-driver method's. */
export const TARGET_BULK = 0.8
export const TARGET_STREAM_MB = 300
/** Fewer timed rounds than this give numbers, not verdicts (the spread of a cell is ±10–30% here). */
export const MIN_VERDICT_ROUNDS = 9

const medianMap = (samples: ReadonlyMap<string, ReadonlyArray<number>>) =>
  new Map([...samples].map(([label, xs]) => [label, median(xs)]))

/** Time ratio a ÷ b from throughput medians (b's throughput ÷ a's). */
const timeRatio = (medians: ReadonlyMap<string, number>, a: string, b: string | undefined) => {
  const x = medians.get(a)
  const y = b === undefined ? undefined : medians.get(b)
  return x === undefined || y === undefined ? undefined : y / x
}

/**
 * The hand-written floor the nodes are measured against: the one that prepares its statements
 * as the nodes do. On PostgreSQL the named-statement floor (the nodes send named prepared
 * statements; `@effect/sql`'s `sql.unsafe` sends unnamed ones); elsewhere `@effect/sql`, whose
 * SQLite and MySQL clients prepare (a statement cache; `execute`).
 */
interface Floor {
  readonly one: string
  readonly perOp: string
  readonly name: string
}

const floorOf = (db: DbResult): Floor =>
  db.runners.some((r) => r.label === NAMED_ONE)
    ? { one: NAMED_ONE, perOp: NAMED_PER_OP, name: "the named-statement floor" }
    : { one: HAND_ONE, perOp: HAND_PER_OP, name: "@effect/sql" }

/** The nodes' row that pays what a peer pays: one Promise per operation (one runPromise for a single-op workload). */
const nodesLikePeers = (w: Workload) => (w.singleOp ? NODES_ONE : NODES_PER_OP)

const libraries = (db: DbResult): ReadonlyArray<string> => [
  ...new Set(db.runners.flatMap((r) => (r.library === undefined ? [] : [r.library])))
]

/** The fastest row of a peer library in one workload (the highest median throughput), if it ran. */
const fastestRow = (db: DbResult, medians: ReadonlyMap<string, number>, library: string): Runner | undefined =>
  db.runners
    .filter((r) => r.library === library && medians.has(r.label))
    .reduce<Runner | undefined>((best, r) => (best === undefined || medians.get(r.label)! > medians.get(best.label)! ? r : best), undefined)

/** A runner's name in the tables of workload `w` (bulkCreate rows say how they write). */
const labelIn = (db: DbResult, w: Workload, r: Runner): string => {
  const label = w.singleOp && r.mode === "oneEffect" ? r.label.replace("one Effect", "single runPromise") : r.label
  if (w.op !== "bulkCreate") return label
  if (r.bulkMethod !== undefined) return `${label} (${r.bulkMethod})`
  const rawMethods = db.runners.filter((x) => x.family === "raw" && x.applies(w)).length
  return rawMethods > 1 && r === db.runners.find((x) => x.family === "raw")
    ? `${label}, the nodes' statements (${db.target.stmts.bulkMethod})`
    : label
}

/** Two decimals, three where two would round onto the limit (so the verdict can be read off the number). */
export const fmtAgainst = (x: number | undefined, limit: number) =>
  x === undefined ? "–" : x.toFixed(2) === limit.toFixed(2) && x !== limit ? x.toFixed(3) : x.toFixed(2)

/** met / not met, or no verdict when the run has too few rounds. */
export const verdict = (rounds: number) => (ok: boolean | undefined) =>
  ok === undefined
    ? "–"
    : rounds < MIN_VERDICT_ROUNDS
    ? "not enough rounds for a verdict"
    : ok
    ? "**met**"
    : "**not met**"
const mb = (x: number) => `${x.toFixed(0)} MB`
const signedMb = (x: number) => `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(0)} MB`

/** The floor row a runner is compared with: the same way of running. */
const floorReference = (r: Runner, medians: ReadonlyMap<string, number>, floor: Floor): string | undefined => {
  if (r.label === floor.one || r.label === floor.perOp) return undefined
  if (r.mode === "oneEffect") return floor.one
  return medians.has(floor.perOp) ? floor.perOp : floor.one
}

export interface Skipped {
  readonly title: string
  readonly reason: string
}

/** The nodes (one Promise per operation) ÷ each peer library's fastest row, with that row's variant. */
const againstPeers = (db: DbResult, w: Workload, medians: ReadonlyMap<string, number>) =>
  libraries(db).map((library) => {
    const best = fastestRow(db, medians, library)
    const ratio = best === undefined ? undefined : timeRatio(medians, nodesLikePeers(w), best.label)
    return { library, best, ratio }
  })

const fmtPeer = (p: { readonly best: Runner | undefined; readonly ratio: number | undefined }, limit?: number) =>
  p.best === undefined || p.ratio === undefined
    ? "–"
    : `${limit === undefined ? fmtRatio(p.ratio) : `${fmtAgainst(p.ratio, limit)}×`}${
      p.best.variant === undefined ? "" : ` (${p.best.variant})`
    }`

const summaryTable = (db: DbResult): Array<string> => {
  const rawLabel = db.runners.find((r) => r.family === "raw")!.label
  const floor = floorOf(db)
  const named = floor.one === NAMED_ONE
  const libs = libraries(db)
  const out: Array<string> = [
    `Summary: time of the generated nodes divided by the time of ${
      named ? "the same statements hand-written as named prepared statements on node-postgres" : "the same statements hand-written on @effect/sql"
    }`,
    "(the floor, run the same way), by the time of the raw driver, and by the time of each peer library's fastest row",
    "(like for like: the nodes with one Promise per operation, as the peers). The traced columns compare the nodes with a",
    "recording OpenTelemetry tracer installed. 1.00× = as fast; 1.25× = takes 25% longer.",
    "",
    `| workload | nodes ÷ floor, one Effect | nodes ÷ floor, runPromise per op | nodes, spans off ÷ floor | nodes (one Effect) ÷ raw driver | floor (one Effect) ÷ raw driver |${
      named ? " @effect/sql (sql.unsafe) ÷ floor, one Effect |" : ""
    } traced nodes ÷ nodes | traced nodes ÷ floor | traced nodes ÷ traced @effect/sql |${
      libs.map((l) => ` nodes ÷ ${l} (fastest row, one Promise per op) |`).join("")
    }`,
    `| --- | ---: | ---: | ---: | ---: | ---: |${named ? " ---: |" : ""} ---: | ---: | ---: |${libs.map(() => " ---: |").join("")}`
  ]
  for (const { workload: w, samples } of db.results) {
    const medians = medianMap(samples)
    const ratio = (label: string, ref: string | undefined) => fmtRatio(timeRatio(medians, label, ref))
    out.push(
      `| ${w.title} | ${ratio(NODES_ONE, floor.one)} | ${w.singleOp ? "(single op: as one Effect)" : ratio(NODES_PER_OP, floor.perOp)} | ${
        ratio(NODES_SPANS_OFF, floor.one)
      } | ${ratio(NODES_ONE, rawLabel)} | ${ratio(floor.one, rawLabel)} |${named ? ` ${ratio(HAND_ONE, floor.one)} |` : ""} ${
        ratio(NODES_TRACED, NODES_ONE)
      } | ${ratio(NODES_TRACED, floor.one)} | ${ratio(NODES_TRACED, HAND_TRACED)} |${
        againstPeers(db, w, medians).map((p) => ` ${fmtPeer(p)} |`).join("")
      }`
    )
  }
  return out
}

const detailTable = (db: DbResult): Array<string> => {
  const rawLabel = db.runners.find((r) => r.family === "raw")!.label
  const floor = floorOf(db)
  const out: Array<string> = [
    `Every row. "time ÷ floor" compares with ${floor.name} run the same way (one Effect with one Effect; runPromise per op,`,
    "the raw driver and the peers with runPromise per op).",
    "",
    "| workload | implementation | median | spread | time ÷ raw driver | time ÷ floor |",
    "| --- | --- | ---: | ---: | ---: | ---: |"
  ]
  for (const { workload: w, samples } of db.results) {
    const medians = medianMap(samples)
    let first = true
    for (const r of db.runners) {
      const xs = samples.get(r.label)
      if (xs === undefined) continue
      const ref = floorReference(r, medians, floor)
      out.push(
        `| ${first ? `**${w.title}**` : ""} | ${labelIn(db, w, r)} | ${fmtRate(median(xs))} ${w.unit} | ${spread(xs)} | ${
          r.label === rawLabel ? "(ref)" : fmtRatio(timeRatio(medians, r.label, rawLabel))
        } | ${ref === undefined ? "(ref)" : fmtRatio(timeRatio(medians, r.label, ref))} |`
      )
      first = false
    }
  }
  return out
}

const streamedLines = (db: DbResult): Array<string> => {
  const st = db.streamed
  if (st === undefined) return []
  const delta = st.peakRssMb - st.baselineRssMb
  return [
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
  ]
}

const databaseSection = (db: DbResult): Array<string> => {
  const out: Array<string> = [`## ${db.target.title}`, ""]
  for (const d of db.target.details) out.push(`- ${d}`)
  out.push(`- wall time for this database: ${db.seconds.toFixed(0)} s`)
  if (db.sqlDifferences.length === 0) {
    out.push("- statements: the hand-written and raw-driver rows send exactly the nodes' statements (checked)")
  } else {
    out.push("- **WARNING: the hand-written statements differ from the nodes' (bench/sql.ts must follow the library):**")
    for (const d of db.sqlDifferences) out.push(`  - ${d}`)
  }
  out.push("", ...streamedLines(db), ...summaryTable(db), "", ...detailTable(db), "")
  return out
}

/** The issue's targets, all databases in one place. */
const targetsSection = (dbs: ReadonlyArray<DbResult>, rounds: number): Array<string> => {
  const yesNo = verdict(rounds)
  // the peer libraries of this run (Drizzle and Kysely; Prisma too in npm run bench:prisma)
  const peerLibraries = [...new Set(dbs.flatMap(libraries))]
  const single: Array<string> = [
    "### Single-row nodes",
    "",
    `Targets: the nodes within ${TARGET_VS_HAND.toFixed(2)}× of the hand-written floor (one Effect each; on PostgreSQL the floor with`,
    "named prepared statements, as the nodes send), and at least as fast as every peer library (time ÷ peer ≤ 1.00×), like for like:",
    "the nodes with one `runPromise` per operation against each library's fastest row, one Promise per operation. The spans-off",
    "column (`DataFlow.nodeSpans(false)`) runs the same code as the nodes: it shows the noise.",
    "",
    `| database | workload | nodes ÷ floor | ≤ ${TARGET_VS_HAND.toFixed(2)}× | nodes, spans off ÷ floor | ${
      peerLibraries.map((l) => `nodes ÷ ${l} (its fastest row) | `).join("")
    }as fast as every peer |`,
    `| --- | --- | ---: | --- | ---: | ${peerLibraries.map(() => "---: | ").join("")}--- |`
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
    `Peak resident set size above the baseline before the workload (target < ${TARGET_STREAM_MB} MB; one measurement per run, not`,
    "per round, so it does not depend on the rounds).",
    "",
    "| database | rows | rows/s | onProgress calls | peak RSS above baseline | target |",
    "| --- | ---: | ---: | ---: | ---: | --- |"
  ]
  for (const db of dbs) {
    const floor = floorOf(db)
    for (const { workload: w, samples } of db.results) {
      const medians = medianMap(samples)
      if (isSingle(w)) {
        const hand = timeRatio(medians, NODES_ONE, floor.one)
        const peers = againstPeers(db, w, medians)
        const peerCells = peerLibraries.map((library) => {
          const peer = peers.find((p) => p.library === library)
          return `${peer === undefined ? "–" : fmtPeer(peer, TARGET_VS_PEER)} | `
        })
        const vsPeers = peers.flatMap((p) => (p.ratio === undefined ? [] : [p.ratio]))
        single.push(
          `| ${db.target.title} | ${w.title} | ${fmtAgainst(hand, TARGET_VS_HAND)}× | ${
            yesNo(hand === undefined ? undefined : hand <= TARGET_VS_HAND)
          } | ${fmtRatio(timeRatio(medians, NODES_SPANS_OFF, floor.one))} | ${peerCells.join("")}${
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
          delta < TARGET_STREAM_MB ? "**met**" : "**not met**"
        } |`
      )
    }
  }
  const streamed = dbs.some((db) => db.streamed !== undefined) ? [...stream, ""] : []
  const notice = rounds < MIN_VERDICT_ROUNDS
    ? [`**${rounds} timed rounds: not enough for a verdict on a timing target (at least ${MIN_VERDICT_ROUNDS}); the ratios are shown, the verdicts are not given.**`, ""]
    : []
  return ["## Issue targets", "", ...notice, ...single, "", ...bulk, "", ...streamed, ...tracingSection(dbs)]
}

/** What a recording tracer costs, single-row workloads (no target: the cost is shown). */
const tracingSection = (dbs: ReadonlyArray<DbResult>): Array<string> => {
  const out: Array<string> = [
    "## With a recording tracer",
    "",
    "The nodes and the hand-written @effect/sql code (one Effect) with OpenTelemetry installed as an application installs it",
    "(`Tracer.layer` from @effect/opentelemetry over an SDK tracer provider; a `SimpleSpanProcessor` into an in-memory exporter,",
    "cleared after every run). With a tracer the nodes open a span per call and send their statements through @effect/sql's",
    "statement pipeline (an `sql.execute` span each; on PostgreSQL unnamed statements, as `sql.unsafe`). No target: the cost is shown.",
    "",
    "| database | workload | traced nodes ÷ nodes | traced nodes ÷ floor | traced @effect/sql ÷ @effect/sql | traced nodes ÷ traced @effect/sql | spans per operation (nodes / @effect/sql) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  ]
  for (const db of dbs) {
    const floor = floorOf(db)
    const spans = (label: string, key: string) => {
      const n = db.runners.find((r) => r.label === label)?.spansPerOp?.get(key)
      return n === undefined ? "–" : n.toFixed(1)
    }
    for (const { workload: w, samples } of db.results) {
      if (!isSingle(w)) continue
      const medians = medianMap(samples)
      const ratio = (a: string, b: string) => fmtRatio(timeRatio(medians, a, b))
      out.push(
        `| ${db.target.title} | ${w.title} | ${ratio(NODES_TRACED, NODES_ONE)} | ${ratio(NODES_TRACED, floor.one)} | ${
          ratio(HAND_TRACED, HAND_ONE)
        } | ${ratio(NODES_TRACED, HAND_TRACED)} | ${spans(NODES_TRACED, w.key)} / ${spans(HAND_TRACED, w.key)} |`
      )
    }
  }
  return [...out, ""]
}

export const render = (
  config: Config,
  argv: ReadonlyArray<string>,
  dbs: ReadonlyArray<DbResult>,
  skipped: ReadonlyArray<Skipped>,
  started: Date,
  seconds: number,
  loadAtStart: Load
): string => {
  const m = machine()
  const end = load()
  // the run itself keeps about one CPU busy, so only the load before it says whether other work competed
  const busy = loadAtStart.one > m.cpuCount * 0.5
  const lines: Array<string> = [
    `# effect-dataflow benchmark: ${config.label}`,
    "",
    `Run ${started.toISOString()} of commit ${commit()} with \`npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}\`, ${
      seconds.toFixed(0)
    } s in all.`,
    "",
    "## Machine",
    "",
    `- Node.js ${m.node} (V8 ${m.v8}), ${m.platform}`,
    `- CPU: ${m.cpus}`,
    `- Memory: ${m.memory}`,
    `- load average (1 / 5 / 15 minutes): ${fmtLoad(loadAtStart)} at the start, ${fmtLoad(end)} at the end (the run itself adds about 1)${
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
    `- ${config.rounds} timed rounds after a small untimed warm-up${config.budgetMs === 0 ? "" : " (two passes, the second sizes the single-row workloads)"}; every implementation runs every workload once per round, in rotating order${
      config.rounds < MIN_VERDICT_ROUNDS ? `; **fewer than ${MIN_VERDICT_ROUNDS} rounds: no verdicts**` : ""
    }`,
    `- read / list / count / update work on a table of ${config.seedRows.toLocaleString("en-US")} rows in 10 categories`,
    config.stream > 0
      ? `- bulkCreate streamed from a generator: ${config.stream.toLocaleString("en-US")} rows, the nodes only, once per database (not per round), in a fresh child process so that its peak RSS is its own`
      : "- bulkCreate streamed from a generator: left out (`--stream 0`)",
    config.walk > 0
      ? `- keyset walk: a table of ${config.walk.toLocaleString("en-US")} rows (${WALK_PRICES} distinct prices), seeded once, walked whole in every timed run in pages of ${WALK_PAGE.toLocaleString("en-US")} rows; the warm-up walks the first two pages`
      : "- keyset walk: left out (`--walk 0`)",
    "",
    ...howToRead,
    ""
  ]
  if (dbs.length > 0) lines.push(...targetsSection(dbs, config.rounds))
  for (const s of skipped) lines.push(`## ${s.title}`, "", `Skipped: ${s.reason}`, "")
  for (const db of dbs) lines.push(...databaseSection(db))
  return lines.join("\n")
}

const howToRead: ReadonlyArray<string> = [
  "## How to read the tables",
  "",
  "- **median**: operations (or rows, for bulk workloads) per second, median over the rounds. **spread**: half the",
  "  range between the slowest and the fastest round, relative to the median.",
  "- **time ÷ raw driver** and **time ÷ floor**: how long this row takes relative to the reference row, from the medians",
  "  (1.00× = as fast, 2.00× = twice as long, below 1.00× = faster). The floor is the hand-written row run the same way:",
  "  one Effect for \"one Effect\" rows, one runPromise per operation for \"runPromise per op\" rows, the raw driver and the",
  "  peers (one Promise per operation).",
  "- **the floor**: the nodes' statements written by hand (bench/sql.ts), prepared as the nodes prepare them. SQLite and",
  "  MySQL: on @effect/sql (`sql.unsafe(text, params)` on the SqlClient the nodes use; its SQLite client caches prepared",
  "  statements, its MySQL client uses `execute`). PostgreSQL: the nodes send named prepared statements, which",
  "  @effect/sql's public API cannot; the floor there is hand-written Effect code on a node-postgres pool (pg defaults, as",
  "  DataFlow.layer's) sending `{ name, text, values }` with `pool.query` inside `Effect.async`, transactions on a client",
  "  checked out with `Effect.acquireUseRelease` (BEGIN … COMMIT). The @effect/sql rows (unnamed statements) are still shown.",
  "- **one Effect**: the whole loop of operations is one Effect, run with one `runPromise`. **runPromise per op**:",
  "  each operation is its own `ManagedRuntime.runPromise`. bulkCreate and bulkUpsert are one operation, so the two",
  "  are the same there and only one row is shown (\"single runPromise\").",
  "- **peers**: Drizzle ORM with its query builder and, as its own row, with its documented fast path (`.prepare()` with",
  "  `sql.placeholder(...)`; on PostgreSQL `.prepare(name)`, a named prepared statement); Kysely (no prepared-statement API).",
  "  Verdicts compare the nodes with one `runPromise` per operation against each library's fastest row (one Promise per",
  "  operation): like for like.",
  "- **bulkCreate methods**: each bulkCreate row says how it writes. PostgreSQL: the nodes send",
  "  `INSERT … SELECT * FROM UNNEST($1::text[], …)` (one array parameter per column), 10,000 rows a statement; the raw",
  "  driver runs that and multi-row `INSERT … VALUES`; Drizzle and Kysely run their builder's multi-row insert in",
  "  1,000-row chunks (their fastest chunk: 500 and 2,000 took as long, 8,191 longer) and, as a second row, the nodes'",
  "  UNNEST statement in their `sql` template, 10,000 rows a statement. SQLite: Drizzle's prepared row inserts with its",
  "  prepared single-row insert once per row in one transaction. The targets compare the nodes with the fastest raw method.",
  "- Every implementation sends the same statements (the nodes' own SQL; the peers as close as their API",
  "  allows) and returns the same records; a check value (rows found, rows changed) must agree between them.",
  "- **walk**: each page is one operation (\"runPromise per op\": one `runPromise` per page); the nodes follow their",
  "  opaque `nextCursor`, the others pass the last row's (price, id). Check value: the rows walked, all in order.",
  "- **node spans off**: the nodes run with the layer `DataFlow.nodeSpans(false)`; single-row workloads only. No",
  "  tracer is installed, and with Effect's built-in tracer the nodes open no span either way: the two rows run",
  "  the same code, and their difference is the run's noise.",
  "- **OpenTelemetry tracer**: the nodes and the @effect/sql floor with a recording tracer installed (see \"With a recording",
  "  tracer\"); single-row workloads, one Effect. Each run must record at least one span per operation.",
  `- **verdicts** need at least ${MIN_VERDICT_ROUNDS} timed rounds; with fewer the report shows the ratios and says so.`,
  "- Timings are never asserted: this is a measurement, not a test (the \"target\" columns only report)."
]
