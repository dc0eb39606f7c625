/**
 * "bulkCreate streamed from a generator": the generated node inserts rows that a generator
 * makes one at a time (never an array), with an `onProgress` callback, while the process's
 * memory is sampled. Runs once per database per run (1,000,000 rows at full size is too slow
 * for several rounds).
 *
 * The workload runs in a fresh child process (this file, started with the same Node.js
 * options, so under tsx as well) on the database the harness opened: in the harness process
 * the heap has already been grown by the other workloads and databases, and a workload can
 * reuse that room without the resident set growing, which would understate its peak. The
 * child opens `DataFlow.layer` on the same URL, forces a full garbage collection, takes the
 * baseline, runs the node, and prints its measurements as JSON; the harness empties the table
 * before and counts the rows after (untimed).
 *
 * Memory: `process.memoryUsage()` every 50 ms and at every progress call (SQLite runs
 * synchronously and may not let the timer fire), plus `process.resourceUsage().maxRSS` (the
 * process's lifetime peak) before and after.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect, ManagedRuntime } from "effect"
import { DataFlow } from "../src/index.js"
import type { NewItem } from "./model.js"
import { makeItem, Writes } from "./model.js"
import type { Target } from "./targets.js"

export interface StreamResult {
  readonly rows: number
  /** What the node returned, and the last value the progress callback saw. */
  readonly inserted: number
  readonly lastProgress: number
  readonly seconds: number
  readonly rowsPerSecond: number
  readonly progressCalls: number
  /** Most rows the generator had produced beyond those reported written (about one chunk when the input is pulled lazily). */
  readonly maxAhead: number
  readonly baselineRssMb: number
  readonly peakRssMb: number
  /** RSS above the baseline when a tenth of the rows were written: with flat memory not far from the peak. */
  readonly tenthRssDeltaMb: number
  readonly peakHeapDeltaMb: number
  /**
   * V8 heap in use after a full GC at the last progress call, above the baseline's (also after
   * a full GC): what the node still holds with every row written. The GC is not timed.
   */
  readonly retainedHeapMb: number | undefined
  /** `process.resourceUsage().maxRSS` before and after: the process's peak since it started. */
  readonly maxRssBeforeMb: number
  readonly maxRssAfterMb: number
  readonly samples: number
  /** True when a full garbage collection could be forced before the baseline. */
  readonly gcBeforeBaseline: boolean
}

const MB = 1024 * 1024

/** The child is started with --expose-gc. */
const forceGc: (() => void) | undefined = (() => {
  const gc = globalThis.gc
  return typeof gc === "function" ? () => void gc() : undefined
})()

const sampler = () => {
  const base = process.memoryUsage()
  let peakRss = base.rss
  let peakHeap = base.heapUsed
  let samples = 0
  const sample = () => {
    const m = process.memoryUsage()
    samples++
    if (m.rss > peakRss) peakRss = m.rss
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed
    return m.rss
  }
  const timer = setInterval(sample, 50)
  return {
    baseRss: base.rss,
    sample,
    stop: () => {
      clearInterval(timer)
      sample()
      return { peakRss, peakHeapDelta: peakHeap - base.heapUsed, samples }
    }
  }
}

const maxRssMb = () => process.resourceUsage().maxRSS / 1024

/** In the child: open the library on `url`, then measure the workload. */
const measure = async (url: string, rows: number): Promise<StreamResult> => {
  const rt = ManagedRuntime.make(DataFlow.layer({ url }))
  try {
    // connects and checks the table (the harness created it), outside the measurement
    await rt.runPromise(DataFlow.migrate([Writes]))
    let produced = 0
    let progressCalls = 0
    let lastProgress = 0
    let maxAhead = 0
    let tenthRss: number | undefined
    // lazy: each row is made when bulkCreate pulls it
    function* generate(): Generator<NewItem> {
      for (let i = 0; i < rows; i++) {
        produced++
        if (produced - lastProgress > maxAhead) maxAhead = produced - lastProgress
        yield makeItem("stream", i)
      }
    }

    if (forceGc !== undefined) {
      forceGc()
      forceGc()
    }
    const baseHeap = process.memoryUsage().heapUsed
    let retainedHeap: number | undefined
    let untimedMs = 0
    const maxRssBefore = maxRssMb()
    const memory = sampler()
    const start = performance.now()
    const result = await rt.runPromise(Writes.bulkCreate(generate(), {
      onProgress: (inserted) =>
        Effect.sync(() => {
          progressCalls++
          lastProgress = inserted
          const rss = memory.sample()
          if (tenthRss === undefined && inserted >= rows / 10) tenthRss = rss
          if (inserted === rows && forceGc !== undefined) {
            const t = performance.now()
            forceGc()
            retainedHeap = process.memoryUsage().heapUsed - baseHeap
            untimedMs += performance.now() - t
          }
        })
    }))
    const seconds = (performance.now() - start - untimedMs) / 1000
    const mem = memory.stop()
    return {
      rows,
      inserted: result.inserted,
      lastProgress,
      seconds,
      rowsPerSecond: rows / seconds,
      progressCalls,
      maxAhead,
      baselineRssMb: memory.baseRss / MB,
      peakRssMb: mem.peakRss / MB,
      tenthRssDeltaMb: ((tenthRss ?? mem.peakRss) - memory.baseRss) / MB,
      peakHeapDeltaMb: mem.peakHeapDelta / MB,
      retainedHeapMb: retainedHeap === undefined ? undefined : retainedHeap / MB,
      maxRssBeforeMb: maxRssBefore,
      maxRssAfterMb: maxRssMb(),
      samples: mem.samples,
      gcBeforeBaseline: forceGc !== undefined
    }
  } finally {
    await rt.dispose()
  }
}

const self = fileURLToPath(import.meta.url)

/** In the harness: run the workload in a child process on the target's database, then check the table. */
export const runStreamed = async (target: Target, rows: number): Promise<StreamResult> => {
  await target.resetWrites()
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [...process.execArgv, "--expose-gc", self, String(rows)],
      // the URL through the environment: it may hold a password
      { maxBuffer: 1024 * 1024, env: { ...process.env, BENCH_STREAM_URL: target.url } },
      (error, out, err) => (error === null ? resolve(out) : reject(new Error(`${error.message}\n${err}`)))
    )
  })
  const result = JSON.parse(stdout.trim().split("\n").pop()!) as StreamResult
  const inTable = await target.countWrites()
  if (result.inserted !== rows || result.lastProgress !== rows || inTable !== rows) {
    throw new Error(
      `[${target.name}] streamed bulkCreate: ${rows} rows generated, the node reported ${result.inserted}, the last progress call ${result.lastProgress}, the table holds ${inTable}`
    )
  }
  await target.resetWrites()
  return result
}

// the child: `BENCH_STREAM_URL=<url> node <options> --expose-gc bench/stream.ts <rows>`
if (process.argv[1] === self) {
  measure(process.env.BENCH_STREAM_URL ?? "", Number(process.argv[2])).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      console.error("[bench stream child] failed:", error)
      process.exit(1)
    }
  )
}
