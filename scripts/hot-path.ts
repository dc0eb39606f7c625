/**
 * The hot path of a single-row node, profiled: N `read`s by id (one Effect, as `npm run bench`'s
 * "one Effect" rows) on the given database, with V8's CPU profiler started just before the loop
 * and stopped just after it (warm-up excluded), the profile written as a `.cpuprofile` and drawn
 * as a flame graph (scripts/flamegraph.ts). The pictures in docs/performance.md come from it.
 *
 * Run `npm run build` first: the profile is of `dist/` (without it, of the sources through tsx).
 *
 *   npx tsx scripts/hot-path.ts [sqlite | postgres://… | mysql://…] [N] [OUT prefix] [read | create | update]
 */
import { execFileSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import type * as Lib from "../src/index.js"

// the built package (npm run build), as users run it: tsx's transform adds a `__name` call to
// every function it compiles, which would show in the profile as the library's own cost
const { DataFlow, Model } = (await import(existsSync("dist/index.js") ? "../dist/index.js" : "../src/index.js")) as typeof Lib

const target = process.argv[2] ?? "sqlite"
const N = Number(process.argv[3] ?? 20000)
const out = process.argv[4] ?? "scratch/hot-path"
const op = process.argv[5] ?? "read"
const url = target === "sqlite" ? "sqlite::memory:" : target

const Item = Model.make(
  "Item",
  Schema.Struct({ id: Schema.Int, name: Schema.String, price: Schema.Number, hits: Schema.Int }),
  { table: `hot_path_${process.pid}` }
)

const loop = (ids: ReadonlyArray<number>) => {
  switch (op) {
    case "create":
      return Effect.forEach(ids, (i) => Item.create({ name: `n${i}`, price: i, hits: 0 }), { discard: true })
    case "update":
      return Effect.forEach(ids, (id) => Item.update(id, { price: id + 1 }), { discard: true })
    default:
      return Effect.forEach(ids, (id) => Item.read(id), { discard: true })
  }
}

const program = Effect.gen(function*() {
  const { records } = yield* Item.bulkCreate(Array.from({ length: 1000 }, (_, i) => ({ name: `n${i}`, price: i, hits: 0 })), {
    returnRecords: true
  })
  const ids = Array.from({ length: N }, (_, i) => records[i % records.length]!.id)
  yield* loop(ids.slice(0, Math.min(N, 5000))) // warm-up: compiled statements, JIT
  const session = new Session()
  session.connect()
  yield* Effect.promise(() => session.post("Profiler.enable"))
  yield* Effect.promise(() => session.post("Profiler.setSamplingInterval", { interval: 100 }))
  yield* Effect.promise(() => session.post("Profiler.start"))
  const start = performance.now()
  yield* loop(ids)
  const ms = performance.now() - start
  const { profile } = yield* Effect.promise(() => session.post("Profiler.stop"))
  session.disconnect()
  writeFileSync(`${out}.cpuprofile`, JSON.stringify(profile))
  process.stderr.write(`${op} × ${N} on ${target.replace(/:\/\/.*@/, "://…@")}: ${(ms * 1000 / N).toFixed(1)} µs per call (profiled)\n`)
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`DROP TABLE hot_path_${process.pid}`)
})

await Effect.runPromise(program.pipe(Effect.provide(DataFlow.layer({ url })), Effect.scoped))
execFileSync(process.execPath, [
  "node_modules/tsx/dist/cli.mjs",
  "scripts/flamegraph.ts",
  `${out}.cpuprofile`,
  `${out}.svg`,
  "--title",
  `${op === "create" ? "create" : `${op} by id`} × ${N}, one Effect, ${target === "sqlite" ? "in-memory SQLite" : target.split(":")[0]} — CPU profile of the loop`
], { stdio: "inherit" })
