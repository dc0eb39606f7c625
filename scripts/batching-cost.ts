/**
 * What request batching costs a single `find` (no batch to join): N sequential finds on an
 * in-memory SQLite (the fastest statement, so the overhead shows most), batching on and off,
 * and what it saves when N finds run together.
 *
 *   npx tsx scripts/batching-cost.ts [database URL, default sqlite::memory:]
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { DataFlow, Model, Relation } from "../src/index.js"

const url = process.argv[2] ?? "sqlite::memory:"
const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), { table: `batching_cost_${Date.now()}` })
const N = url.startsWith("sqlite") ? 20_000 : 2_000
const rounds = 5

const time = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* self
    return performance.now() - start
  })

const program = Effect.gen(function*() {
  const { records } = yield* User.bulkCreate(Array.from({ length: 1000 }, (_, i) => ({ name: `u${i}` })), { returnRecords: true })
  const ids = Array.from({ length: N }, (_, i) => records[i % records.length]!.id)
  const off = Effect.forEach(ids, (id) => User.find(id), { discard: true })
  const sequential = Relation.batched(off)
  const batched = Relation.batched(Effect.forEach(ids.slice(0, 1000), (id) => User.find(id), { batching: true, discard: true }))
  const oneByOne = Effect.forEach(ids.slice(0, 1000), (id) => User.find(id), { discard: true })
  const best = { on: Infinity, off: Infinity, batched: Infinity, oneByOne: Infinity }
  for (let r = 0; r < rounds; r++) {
    best.off = Math.min(best.off, yield* time(off))
    best.on = Math.min(best.on, yield* time(sequential))
    best.batched = Math.min(best.batched, yield* time(batched))
    best.oneByOne = Math.min(best.oneByOne, yield* time(oneByOne))
  }
  const us = (ms: number, n: number) => `${((ms * 1000) / n).toFixed(2)} µs`
  console.log(`single find, batching off (default): ${us(best.off, N)} per call`)
  console.log(`single find, batching on:  ${us(best.on, N)} per call (${((best.on / best.off - 1) * 100).toFixed(1)}%)`)
  console.log(`1000 finds one after another: ${best.oneByOne.toFixed(1)} ms; batched: ${best.batched.toFixed(1)} ms`)
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`DROP TABLE ${User.table}`)
})

Effect.runPromise(program.pipe(Effect.provide(DataFlow.layer({ url }))))
