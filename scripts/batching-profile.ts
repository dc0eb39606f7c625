/**
 * Where batched `find`s spend their time on PostgreSQL: N finds one after another, the same N
 * batched (one statement), the one `list` by `$in` a batch runs, and Effect's request machinery
 * alone (`floor`: as many requests to a resolver that reads nothing), in interleaved rounds
 * (the machine is shared: compare within a round, never single runs). Run with `--cpu-prof`
 * to see the profile of the batched rounds.
 *
 *   npx tsx scripts/batching-profile.ts [postgres URL] [N] [rounds] [only: sequential|batched|list|floor|all]
 */
import { SqlClient } from "@effect/sql"
import { Effect, Request, RequestResolver, Schema } from "effect"
import { DataFlow, Model, Relation } from "../src/index.js"

const url = process.argv[2] ?? "postgres://postgres@127.0.0.1:5432/test"
const N = Number(process.argv[3] ?? 100)
const rounds = Number(process.argv[4] ?? 15)
const only = process.argv[5] ?? "all"
const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), { table: `batching_profile_${Date.now()}` })

/** Effect's request machinery alone: the same number of requests to a resolver that reads nothing. */
interface Get extends Request.Request<number> {
  readonly _tag: "Get"
  readonly id: number
}
const Get = Request.tagged<Get>("Get")
const nothing = RequestResolver.makeBatched((requests: Array<Get>) =>
  Effect.forEach(requests, (r) => Request.succeed(r, r.id), { discard: true })
)

const time = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* self
    return performance.now() - start
  })

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const program = Effect.gen(function*() {
  const { records } = yield* User.bulkCreate(Array.from({ length: N }, (_, i) => ({ name: `u${i}` })), { returnRecords: true })
  const ids = records.map((r) => r.id)
  const cases = {
    sequential: Effect.forEach(ids, (id) => User.find(id), { discard: true }),
    batched: Relation.batched(Effect.forEach(ids, (id) => User.find(id), { batching: true, discard: true })),
    list: User.list({ where: { id: { $in: ids } } }),
    floor: Effect.forEach(ids, (id) => Effect.request(Get({ id }), nothing), { batching: true, discard: true })
  }
  const names = only === "all" ? (Object.keys(cases) as Array<keyof typeof cases>) : [only as keyof typeof cases]
  const samples: Record<string, Array<number>> = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds + 3; r++) {
    for (const name of names) {
      const ms = yield* time(cases[name])
      if (r >= 3) samples[name]!.push(ms)
    }
  }
  for (const name of names) console.log(`${name}: median ${median(samples[name]!).toFixed(2)} ms`)
  if (only === "all") {
    const ratios = samples.sequential!.map((s, i) => s / samples.batched![i]!)
    console.log(`sequential / batched, per round: median ${median(ratios).toFixed(2)}× (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`)
  }
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`DROP TABLE ${User.table}`)
})

Effect.runPromise(program.pipe(Effect.provide(DataFlow.layer({ url }))))
