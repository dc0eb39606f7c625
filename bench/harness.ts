/**
 * Runs every workload through every implementation of one database, interleaved: round by
 * round, workload by workload, each implementation in turn (the order rotates every round).
 * Only the workload's loop is timed; resets and seeding happen outside it.
 */
import { Effect } from "effect"
import { DataFlow } from "../src/index.js"
import type { Config } from "./config.js"
import { checkStatements } from "./check-sql.js"
import { handWrittenOps, nodeOps, viaSqlClient } from "./impl/effect.js"
import { makeItems, makeWalkItems } from "./model.js"
import type { EffectOps, PromiseOps } from "./ops.js"
import { perOperation } from "./ops.js"
import { median } from "./stats.js"
import type { StreamResult } from "./stream.js"
import { runStreamed } from "./stream.js"
import type { Target } from "./targets.js"
import type { RecordingTracer } from "./tracing.js"
import { makeRecordingTracer } from "./tracing.js"
import type { RoundPlan, SingleKey, Sizes, Workload } from "./workloads.js"
import { isSingle, makeWorkloads, singleKeys } from "./workloads.js"

/**
 * What a row is: the raw driver; hand-written on `@effect/sql` (`sql.unsafe`); hand-written
 * Effect code with named prepared statements on node-postgres; the nodes; a peer library.
 */
export type Family = "raw" | "effect-sql" | "named-floor" | "nodes" | "peer"
export type Mode = "promise" | "runPromise" | "oneEffect"

export interface Runner {
  readonly label: string
  readonly family: Family
  readonly mode: Mode
  readonly applies: (w: Workload) => boolean
  readonly run: (plan: RoundPlan) => Promise<number>
  /** Untimed, after each run (the traced rows: check that spans were recorded, then drop them). */
  readonly after?: (w: Workload) => void
  /** The peer library a peer row belongs to, and which way of using it the row is. */
  readonly library?: string
  readonly variant?: string
  /** How the row's bulkCreate writes, when that is not the nodes' statements. */
  readonly bulkMethod?: string
  /** Traced rows: spans recorded per operation, per workload key (the last run). */
  readonly spansPerOp?: Map<string, number>
}

/** Row labels the report refers to. */
export const HAND_ONE = "@effect/sql hand-written, one Effect"
export const HAND_PER_OP = "@effect/sql hand-written, runPromise per op"
export const NAMED_ONE = "hand-written Effect on pg, named prepared statements, one Effect"
export const NAMED_PER_OP = "hand-written Effect on pg, named prepared statements, runPromise per op"
export const NODES_ONE = "effect-dataflow nodes, one Effect"
export const NODES_SPANS_OFF = "effect-dataflow nodes, one Effect, node spans off"
export const NODES_PER_OP = "effect-dataflow nodes, runPromise per op"
export const NODES_TRACED = "effect-dataflow nodes, one Effect, OpenTelemetry tracer"
export const HAND_TRACED = "@effect/sql hand-written, one Effect, OpenTelemetry tracer"

export interface WorkloadResult {
  readonly workload: Workload
  /** Throughput per round, per runner label. */
  readonly samples: Map<string, Array<number>>
}

export interface DbResult {
  readonly target: Target
  readonly runners: ReadonlyArray<Runner>
  readonly results: ReadonlyArray<WorkloadResult>
  readonly seconds: number
  /** Where the hand-written statements differ from the nodes' (empty: the same). */
  readonly sqlDifferences: ReadonlyArray<string>
  /** bulkCreate streamed from a generator (absent with --stream 0). */
  readonly streamed: StreamResult | undefined
}

/**
 * A row run with a recording OpenTelemetry tracer installed (one Effect, single-row
 * workloads). After each run it checks that every operation recorded spans (else the row
 * would not measure tracing) and drops them.
 */
const tracedRunner = (label: string, family: Family, tracer: RecordingTracer, effect: (plan: RoundPlan) => Promise<number>): Runner => {
  const spansPerOp = new Map<string, number>()
  return {
    label,
    family,
    mode: "oneEffect",
    applies: isSingle,
    run: effect,
    after: (w) => {
      const spans = tracer.recorded()
      tracer.clear()
      if (spans < w.amount) throw new Error(`"${label}" recorded ${spans} spans for ${w.amount} operations of ${w.key}`)
      spansPerOp.set(w.key, spans / w.amount)
    },
    spansPerOp
  }
}

export const makeRunners = (target: Target): Array<Runner> => {
  const hand = handWrittenOps(target.stmts, viaSqlClient)
  const handPerOp = perOperation(hand, target.rt)
  const nodesPerOp = perOperation(nodeOps, target.rt)
  const tracer = makeRecordingTracer()
  const all = () => true
  const multi = (w: Workload) => !w.singleOp
  const promiseRunner = (label: string, family: Family, ops: PromiseOps, applies: (w: Workload) => boolean): Runner => ({
    label,
    family,
    mode: family === "raw" || family === "peer" ? "promise" : "runPromise",
    applies,
    run: (plan) => plan.promise(ops)
  })
  const oneEffect = (label: string, family: Family, ops: EffectOps, applies: (w: Workload) => boolean): Runner => ({
    label,
    family,
    mode: "oneEffect",
    applies,
    run: (plan) => target.rt.runPromise(plan.effect(ops))
  })
  const bulkCreateOnly = (w: Workload) => w.op === "bulkCreate"
  const named = target.preparedFloor === undefined ? undefined : handWrittenOps(target.stmts, target.preparedFloor)
  return [
    promiseRunner(`raw ${target.rawName}`, "raw", target.raw, all),
    ...target.rawBulkCreates.map((v) => promiseRunner(v.label, "raw", { ...target.raw, bulkCreate: v.bulkCreate }, bulkCreateOnly)),
    oneEffect(HAND_ONE, "effect-sql", hand, all),
    promiseRunner(HAND_PER_OP, "effect-sql", handPerOp, multi),
    ...(named === undefined ? [] : [
      oneEffect(NAMED_ONE, "named-floor", named, all),
      promiseRunner(NAMED_PER_OP, "named-floor", perOperation(named, target.rt), multi)
    ]),
    oneEffect(NODES_ONE, "nodes", nodeOps, all),
    {
      label: NODES_SPANS_OFF,
      family: "nodes",
      mode: "oneEffect",
      applies: isSingle,
      // the layer an application adds to its runtime; the nodes read the setting per call
      run: (plan) => target.rt.runPromise(Effect.provide(plan.effect(nodeOps), DataFlow.nodeSpans(false)))
    },
    promiseRunner(NODES_PER_OP, "nodes", nodesPerOp, multi),
    tracedRunner(NODES_TRACED, "nodes", tracer, (plan) => target.rt.runPromise(tracer.traced(plan.effect(nodeOps)))),
    tracedRunner(HAND_TRACED, "effect-sql", tracer, (plan) => target.rt.runPromise(tracer.traced(plan.effect(hand)))),
    ...target.peers.map((p): Runner => ({
      ...promiseRunner(p.name, "peer", p.ops, p.applies),
      library: p.library,
      variant: p.variant,
      ...(p.bulkMethod === undefined ? {} : { bulkMethod: p.bulkMethod })
    }))
  ]
}

const processStart = performance.now()
const log = (message: string) => process.stderr.write(`${((performance.now() - processStart) / 1000).toFixed(1).padStart(6)}s ${message}\n`)

const execute = async (target: Target, w: Workload, runner: Runner, plan: RoundPlan): Promise<number> => {
  await plan.before()
  const start = performance.now()
  const check = await runner.run(plan)
  const ms = performance.now() - start
  if (check !== plan.expected) {
    throw new Error(
      `[${target.name}] ${w.key}: "${runner.label}" returned check value ${check}, expected ${plan.expected}`
    )
  }
  runner.after?.(w)
  return ms
}

const MIN_OPS = 10

/**
 * The operation count of each single-row workload: what its median implementation runs in the
 * budget (the slowest one takes longer; a single slow warm-up run does not shrink the count).
 */
const countsFrom = (config: Config, msPerOp: ReadonlyMap<SingleKey, ReadonlyArray<number>>): Record<SingleKey, number> => {
  const out = {} as Record<SingleKey, number>
  for (const k of singleKeys) {
    const times = msPerOp.get(k)
    const per = times === undefined || times.length === 0 ? undefined : median(times)
    out[k] = config.budgetMs === 0 || per === undefined || per <= 0
      ? config.n
      : Math.max(Math.min(MIN_OPS, config.n), Math.min(config.n, Math.floor(config.budgetMs / per)))
  }
  return out
}

export const runDatabase = async (target: Target, config: Config): Promise<DbResult> => {
  const started = performance.now()
  log(`[${target.name}] seeding ${config.seedRows} rows`)
  await target.seed("bench_items", makeItems("seed", config.seedRows))
  if (config.walk > 0) {
    log(`[${target.name}] seeding ${config.walk} rows to walk`)
    await target.seed("bench_walk", makeWalkItems(config.walk))
  }
  const ids = await target.itemIds()
  const runners = makeRunners(target)
  const sqlDifferences = await checkStatements(target, ids[0]!)
  for (const d of sqlDifferences) log(`[${target.name}] WARNING: statements differ: ${d}`)

  // once per run, in a fresh child process (see bench/stream.ts)
  let streamed: StreamResult | undefined
  if (config.stream > 0) {
    log(`[${target.name}] bulkCreate streamed from a generator: ${config.stream} rows`)
    streamed = await runStreamed(target, config.stream)
    log(
      `[${target.name}]   ${streamed.seconds.toFixed(1)} s, ${Math.round(streamed.rowsPerSecond)} rows/s, peak RSS +${
        (streamed.peakRssMb - streamed.baselineRssMb).toFixed(0)
      } MB`
    )
  }

  // warm-up, untimed: every runner through every workload, small; when the single-row
  // workloads are sized by time, a second pass over them measures their speed
  const warmSizes: Sizes = {
    n: { create: config.warmup, read: config.warmup, list: config.warmup, count: config.warmup, update: config.warmup },
    bulk: [Math.min(config.bulk[0]!, 2_000)],
    bulkAll: false,
    seedRows: config.seedRows,
    // the first two pages
    walk: config.walk,
    walkPages: 2
  }
  const msPerOp = new Map<SingleKey, Array<number>>()
  const passes = config.budgetMs === 0 ? 1 : 2
  for (let pass = 1; pass <= passes; pass++) {
    log(`[${target.name}] warm-up ${pass}/${passes}`)
    for (const w of makeWorkloads(target, warmSizes, ids)) {
      if (pass === 2 && !(singleKeys as ReadonlyArray<string>).includes(w.key)) continue
      const plan = w.plan(0)
      for (const r of runners) {
        if (!r.applies(w)) continue
        const ms = await execute(target, w, r, plan)
        if (pass === 2) {
          const key = w.key as SingleKey
          msPerOp.set(key, [...(msPerOp.get(key) ?? []), ms / w.amount])
        }
      }
    }
  }
  const n = countsFrom(config, msPerOp)
  log(`[${target.name}] operations per run: ${singleKeys.map((k) => `${k} ${n[k]}`).join(", ")}`)
  const workloads = makeWorkloads(
    target,
    { n, bulk: config.bulk, bulkAll: config.bulkAll, seedRows: config.seedRows, walk: config.walk },
    ids
  )

  const results: Array<WorkloadResult> = workloads.map((workload) => ({ workload, samples: new Map() }))
  for (let round = 1; round <= config.rounds; round++) {
    log(`[${target.name}] round ${round}/${config.rounds}`)
    for (const result of results) {
      const w = result.workload
      const plan = w.plan(round)
      const applicable = runners.filter((r) => r.applies(w))
      const shift = (round - 1) % applicable.length
      const order = [...applicable.slice(shift), ...applicable.slice(0, shift)]
      const workloadStart = performance.now()
      for (const r of order) {
        const ms = await execute(target, w, r, plan)
        const list = result.samples.get(r.label) ?? []
        list.push(w.amount / (ms / 1000))
        result.samples.set(r.label, list)
      }
      log(`[${target.name}]   ${w.key}: ${((performance.now() - workloadStart) / 1000).toFixed(1)} s`)
    }
  }
  return { target, runners, results, seconds: (performance.now() - started) / 1000, sqlDifferences, streamed }
}
