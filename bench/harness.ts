/**
 * Runs every workload through every implementation of one database, interleaved: round by
 * round, workload by workload, each implementation in turn (the order rotates every round).
 * Only the workload's loop is timed; resets and seeding happen outside it.
 */
import { Effect } from "effect"
import { DataFlow } from "../src/index.js"
import type { Config } from "./config.js"
import { checkStatements } from "./check-sql.js"
import { handWrittenOps, nodeOps } from "./impl/effect.js"
import { makeItems, makeWalkItems } from "./model.js"
import type { PromiseOps } from "./ops.js"
import { perOperation } from "./ops.js"
import type { StreamResult } from "./stream.js"
import { runStreamed } from "./stream.js"
import type { Target } from "./targets.js"
import type { RoundPlan, SingleKey, Sizes, Workload } from "./workloads.js"
import { median } from "./report.js"
import { isSingle, makeWorkloads, singleKeys } from "./workloads.js"

export type Family = "raw" | "effect-sql" | "nodes" | "peer"
export type Mode = "promise" | "runPromise" | "oneEffect"

export interface Runner {
  readonly label: string
  readonly family: Family
  readonly mode: Mode
  readonly applies: (w: Workload) => boolean
  readonly run: (plan: RoundPlan) => Promise<number>
}

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

export const makeRunners = (target: Target): Array<Runner> => {
  const hand = handWrittenOps(target.stmts)
  const handPerOp = perOperation(hand, target.rt)
  const nodesPerOp = perOperation(nodeOps, target.rt)
  const all = () => true
  const multi = (w: Workload) => !w.singleOp
  const promiseRunner = (label: string, family: Family, ops: PromiseOps, applies: (w: Workload) => boolean): Runner => ({
    label,
    family,
    mode: family === "raw" || family === "peer" ? "promise" : "runPromise",
    applies,
    run: (plan) => plan.promise(ops)
  })
  const bulkCreateOnly = (w: Workload) => w.op === "bulkCreate"
  return [
    promiseRunner(`raw ${target.rawName}`, "raw", target.raw, all),
    ...target.rawBulkCreates.map((v) => promiseRunner(v.label, "raw", { ...target.raw, bulkCreate: v.bulkCreate }, bulkCreateOnly)),
    {
      label: "@effect/sql hand-written, one Effect",
      family: "effect-sql",
      mode: "oneEffect",
      applies: all,
      run: (plan) => target.rt.runPromise(plan.effect(hand))
    },
    promiseRunner("@effect/sql hand-written, runPromise per op", "effect-sql", handPerOp, multi),
    {
      label: "effect-dataflow nodes, one Effect",
      family: "nodes",
      mode: "oneEffect",
      applies: all,
      run: (plan) => target.rt.runPromise(plan.effect(nodeOps))
    },
    {
      label: "effect-dataflow nodes, one Effect, node spans off",
      family: "nodes",
      mode: "oneEffect",
      applies: isSingle,
      // the layer an application adds to its runtime; the nodes read the setting per call
      run: (plan) => target.rt.runPromise(Effect.provide(plan.effect(nodeOps), DataFlow.nodeSpans(false)))
    },
    promiseRunner("effect-dataflow nodes, runPromise per op", "nodes", nodesPerOp, multi),
    ...target.peers.map((p) => promiseRunner(p.name, "peer", p.ops, (w: Workload) => w.peers))
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
