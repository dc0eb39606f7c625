/**
 * What the node metrics cost per call: `User.read(id)` and `User.count()` on the embedded
 * SQLite (in memory), where a node's own cost is most visible, with the metrics on (the
 * default) and off (`DataFlow.nodeMetrics(false)`), alternating rounds.
 *
 *   npx tsx bench/metrics.ts
 */
import type { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"

const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), { table: "bench_metric_users" })

const CALLS = 20_000
const ROUNDS = 7

const timed = (label: string, metrics: boolean, node: Effect.Effect<unknown, unknown, SqlClient.SqlClient>) =>
  Effect.gen(function*() {
    const start = performance.now()
    for (let i = 0; i < CALLS; i++) yield* node
    const micros = ((performance.now() - start) * 1000) / CALLS
    return { label, metrics, micros }
  }).pipe(Effect.provide(DataFlow.nodeMetrics(metrics)))

const program = Effect.gen(function*() {
  const ada = yield* User.create({ name: "Ada" })
  const results: Array<{ label: string; metrics: boolean; micros: number }> = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const metrics of [true, false]) {
      results.push(yield* timed("read", metrics, User.read(ada.id)))
      results.push(yield* timed("count", metrics, User.count()))
    }
  }
  const median = (xs: Array<number>) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  for (const label of ["read", "count"]) {
    const on = median(results.filter((r) => r.label === label && r.metrics).map((r) => r.micros))
    const off = median(results.filter((r) => r.label === label && !r.metrics).map((r) => r.micros))
    console.log(`${label}: metrics on ${on.toFixed(2)} µs/call, off ${off.toFixed(2)} µs/call, cost ${(on - off).toFixed(2)} µs`)
  }
})

program.pipe(Effect.provide(Layer.orDie(DataFlow.layer({ url: "sqlite::memory:" }))), Effect.runPromise)
