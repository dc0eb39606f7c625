/**
 * The generated HTTP API against the same endpoints hand-written on `HttpApi` + `@effect/sql`
 * (`PgClient`), on PostgreSQL: create, read by id and list (10 rows), mixed 2:1:1 (reads:
 * creates: lists), N requests at a fixed concurrency from `fetch` on loopback; p50 / p99
 * latency and throughput per server; a warm-up round first (not counted), then rounds in
 * alternating order.
 *
 *   npx tsx bench/http.ts [--requests 4000] [--concurrency 32] [--rounds 3]
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import { createServer } from "node:http"
import * as DataFlowHttp from "../src/http/DataFlowHttp.js"
import { DataFlow, Model } from "../src/index.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const REQUESTS = arg("requests", 4000)
const CONCURRENCY = arg("concurrency", 32)
const ROUNDS = arg("rounds", 3)
const url = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const Item = Model.make("Item", Schema.Struct({ id: Schema.Int, name: Schema.String, price: Schema.Number }), {
  table: "bench_http_items",
  timestamps: false
})

// --- hand-written: the same three endpoints on HttpApi + @effect/sql --------------------------
const ItemSchema = Schema.Struct({ id: Schema.Int, name: Schema.String, price: Schema.Number })
const Api = HttpApi.make("hand").add(
  HttpApiGroup.make("items")
    .add(HttpApiEndpoint.post("create", "/hand_items").setPayload(Schema.Struct({ name: Schema.String, price: Schema.Number })).addSuccess(ItemSchema, { status: 201 }))
    .add(HttpApiEndpoint.get("read", "/hand_items/:id").setPath(Schema.Struct({ id: Schema.NumberFromString })).addSuccess(ItemSchema))
    .add(HttpApiEndpoint.get("list", "/hand_items").setUrlParams(Schema.Struct({ limit: Schema.NumberFromString })).addSuccess(Schema.Struct({ records: Schema.Array(ItemSchema) })))
)
const HandItems = HttpApiBuilder.group(Api, "items", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return handlers
      .handle("create", ({ payload }) =>
        sql<typeof ItemSchema.Type>`INSERT INTO bench_http_items (name, price) VALUES (${payload.name}, ${payload.price}) RETURNING id::int AS id, name, price`.pipe(
          Effect.map((rows) => rows[0]!),
          Effect.orDie
        ))
      .handle("read", ({ path }) =>
        sql<typeof ItemSchema.Type>`SELECT id::int AS id, name, price FROM bench_http_items WHERE id = ${path.id}`.pipe(
          Effect.map((rows) => rows[0]!),
          Effect.orDie
        ))
      .handle("list", ({ urlParams }) =>
        sql<typeof ItemSchema.Type>`SELECT id::int AS id, name, price FROM bench_http_items ORDER BY id LIMIT ${urlParams.limit}`.pipe(
          Effect.map((records) => ({ records })),
          Effect.orDie
        ))
  }))
const hand = (port: number) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide(HandItems))),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(createServer, { port })),
    Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 10 }))
  )

// --- generated ------------------------------------------------------------------------------
const generated = (port: number) =>
  DataFlowHttp.serve(DataFlowHttp.api([Item], { expose: { Item: "all" } }), { port }).pipe(
    Layer.provide(DataFlow.layer({ url, pool: { max: 10 } }))
  )

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

const load = async (paths: { create: string; read: (id: number) => string; list: string }, ids: ReadonlyArray<number>) => {
  const latencies: Array<number> = []
  let next = 0
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++
      const start = performance.now()
      const kind = i % 4
      const r = kind === 0
        ? await fetch(paths.create, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: `n${i}`, price: i }) })
        : kind === 3
        ? await fetch(paths.list)
        : await fetch(paths.read(ids[i % ids.length]!))
      const text = await r.text()
      if (!r.ok) throw new Error(`status ${r.status} (request kind ${kind}): ${text}`)
      latencies.push(performance.now() - start)
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const seconds = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), rps: REQUESTS / seconds }
}

const main = async () => {
  const setup = ManagedRuntime.make(DataFlow.layer({ url }))
  await setup.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe("DROP TABLE IF EXISTS bench_http_items")))
  await setup.runPromise(DataFlow.migrate([Item]))
  await setup.runPromise(Item.bulkCreate(Array.from({ length: 1000 }, (_, i) => ({ name: `seed ${i}`, price: i }))))
  await setup.dispose()
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1)
  const servers = [
    { name: "generated (DataFlowHttp)", layer: generated(39201), base: "http://127.0.0.1:39201/bench_http_items", list: "?limit=10" },
    { name: "hand-written (HttpApi + @effect/sql)", layer: hand(39202), base: "http://127.0.0.1:39202/hand_items", list: "?limit=10" }
  ]
  const results = new Map<string, Array<{ p50: number; p99: number; rps: number }>>()
  // round 0 warms both servers up (JIT, pools, the table's pages) and is not counted; the
  // order alternates between rounds so neither server always runs first
  for (let round = 0; round <= ROUNDS; round++) {
    for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
      const runtime = ManagedRuntime.make(s.layer as Layer.Layer<never, unknown>)
      await runtime.runPromise(Effect.void)
      const r = await load({ create: s.base, read: (id) => `${s.base}/${id}`, list: s.base + s.list }, ids)
      await runtime.dispose()
      if (round > 0) results.set(s.name, [...(results.get(s.name) ?? []), r])
    }
  }
  const median = (xs: Array<number>) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  console.log(`| server | p50 (ms) | p99 (ms) | requests/s |`)
  console.log(`|---|---|---|---|`)
  for (const [name, rs] of results) {
    console.log(`| ${name} | ${median(rs.map((r) => r.p50)).toFixed(2)} | ${median(rs.map((r) => r.p99)).toFixed(2)} | ${median(rs.map((r) => r.rps)).toFixed(0)} |`)
  }
  console.log(`\n${REQUESTS} requests per round at concurrency ${CONCURRENCY}, ${ROUNDS} rounds after a warm-up (medians), node ${process.version}`)
}

main().then(() => process.exit(0), (e) => {
  console.error(e)
  process.exit(1)
})
