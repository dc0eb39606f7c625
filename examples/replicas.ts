/**
 * Read replicas: reads go to a replica, writes and transactions to the primary, and
 * `DataFlow.primary` reads your own writes. Needs a PostgreSQL primary and a streaming
 * standby (`bash scripts/pg-standby.sh` makes one on this machine's port 5433):
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *   REPLICA_URL=postgres://postgres@127.0.0.1:5433/test npx tsx examples/replicas.ts
 */
import { SqlClient } from "@effect/sql"
import { Console, Effect, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"

const primaryUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const replicaUrl = process.env.REPLICA_URL ?? "postgres://postgres@127.0.0.1:5433/test"

const Visit = Model.make("Visit", Schema.Struct({ id: Schema.Int, page: Schema.String }), {
  table: `example_visits_${process.pid}`
})

const program = Effect.gen(function*() {
  yield* DataFlow.migrate([Visit])
  const visit = yield* Visit.create({ page: "/home" }) // a write: the primary
  // a read outside a transaction: a replica, which may not have replayed the write yet
  const onReplica = yield* Visit.find(visit.id)
  yield* Console.log("on a replica right after the write:", onReplica._tag === "Some" ? "already there" : "not yet (replica lag)")
  // reading one's own write: the primary
  const mine = yield* DataFlow.primary(Visit.read(visit.id))
  yield* Console.log("on the primary:", mine.page)
  // everything in a transaction runs on the primary
  const counted = yield* DataFlow.transaction(Visit.count())
  yield* Console.log("visits (transaction, primary):", counted)
  // the example's table goes again
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`DROP TABLE ${Visit.table}`)
})

program.pipe(
  Effect.provide(DataFlow.layer({ url: primaryUrl, replicas: [replicaUrl] })),
  Effect.runPromise
).then(() => process.exit(0), (e) => {
  console.error(e)
  process.exit(1)
})
