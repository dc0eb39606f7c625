/**
 * Schema lifecycle: a model changes, the table follows. Runs on the embedded SQLite file.
 *
 *   npx tsx examples/migrate.ts
 */
import { Console, Effect, Schema } from "effect"
import { DataFlow, Introspect, Migration, Model } from "../src/index.js"

// version 1 of the model, in production for a while
const UserV1 = Model.make(
  "User",
  Schema.Struct({ id: Schema.Int, email: Schema.String.pipe(Schema.maxLength(120)), nickname: Schema.NullOr(Schema.String) }),
  { table: "example_users", unique: ["email"] }
)

// version 2: a new nullable field and an index — the `auto` policy adds them on first use
const UserV2 = Model.make(
  "User",
  Schema.Struct({
    id: Schema.Int,
    email: Schema.String.pipe(Schema.maxLength(120)),
    nickname: Schema.NullOr(Schema.String),
    age: Schema.NullOr(Schema.Int)
  }),
  { table: "example_users", unique: ["email"], indexes: ["age"] }
)

// version 3: `nickname` is gone and `email` is wider — not additive: an explicit migration
const UserV3 = Model.make(
  "User",
  Schema.Struct({ id: Schema.Int, email: Schema.String.pipe(Schema.maxLength(320)), age: Schema.NullOr(Schema.Int) }),
  { table: "example_users", unique: ["email"], indexes: ["age"] }
)

const program = Effect.gen(function*() {
  yield* UserV1.create({ email: "ada@example.com", nickname: "ada" })

  // 1. additive change on first use: the column and the index are added, the old row keeps its values
  yield* UserV2.create({ email: "alan@example.com", nickname: null, age: 41 })
  yield* Console.log("v2 rows", (yield* UserV2.list({ orderBy: ["id"] })).records.map((u) => [u.email, u.age]))

  // 2. a change that can lose data: plan it, read it, apply it
  const plan = yield* Migration.plan([UserV3], { name: "drop nickname" })
  yield* Console.log(`plan ${plan.id}:\n${Migration.describe(plan)}`)
  for (const op of plan.operations) for (const statement of op.up) yield* Console.log(`  ${statement};`)
  const refused = yield* Effect.flip(Migration.apply(plan))
  yield* Console.log("without allowDestructive:", refused._tag)
  yield* Migration.apply(plan, { allowDestructive: true })
  yield* Migration.apply(plan, { allowDestructive: true }) // again: a no-op, the history has it

  // 3. where things stand
  const status = yield* Migration.status([UserV3])
  yield* Console.log("applied", status.applied.map((a) => a.name), "pending", status.pending.operations.length)
  yield* Console.log("v3 rows", (yield* UserV3.list({ orderBy: ["id"] })).records.map((u) => [u.email, u.age]))

  // 4. the table as model source (what `effect-dataflow pull` prints)
  yield* Console.log(Introspect.toSource(yield* Introspect.tables({ tables: ["example_users"] })))
})

program.pipe(Effect.provide(DataFlow.layer({ url: "sqlite::memory:" })), Effect.runPromise).catch((error) => {
  console.error(error)
  process.exit(1)
})
