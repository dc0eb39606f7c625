/**
 * The Kailash quick start as a workflow: a model, its nodes addressed by name, one node's
 * output connected to another's input, a run, its results read by node id. Embedded SQLite
 * by default (no server needed).
 *
 *   npx tsx examples/workflow.ts
 */
import { Console, Effect, Schema } from "effect"
import { DataFlow, Model, Workflow } from "../src/index.js"

// Define the model (every node of it gets a name: UserCreateNode / User_Create, UserReadNode, …)
const User = Model.make(
  "User",
  Schema.Struct({
    id: Model.UuidId, // string ids, as given (a UUID when left out)
    name: Schema.String,
    email: Schema.String
  }),
  { unique: ["email"] }
)

const registry = Workflow.registry([User])

// Use the generated nodes in a workflow
const workflow = Workflow.builder("quick start")
  .add_node("User_Create", "create_user", { data: { name: "John", email: "john@example.com" } })
  .add_node("UserReadNode", "read_user", {})
  .add_connection("create_user", "result.id", "read_user", "id")
  .add_node("UserListNode", "list_users", { filter: { name: { $like: "J%" } }, order_by: ["-name"], limit: 10 })
  .add_connection("create_user", "result.email", "list_users", "filter.email")
  .build()

const program = Effect.gen(function*() {
  // Execute: the Effect needs what the nodes need (a SqlClient here)
  const { results, runId } = yield* Workflow.execute(registry, workflow)
  const created = results["create_user"]!.result as typeof User.Type
  yield* Console.log("run", runId)
  yield* Console.log("user id", created.id) // the access pattern: results[node id].result
  yield* Console.log("read back", results["read_user"]!.result)
  yield* Console.log("listed", results["list_users"]!.result)

  // A failing node names itself and carries the node's typed error
  const again = yield* Effect.flip(Workflow.execute(registry, workflow))
  yield* Console.log(again._tag, again.message)

  // All or nothing: Jane is created, then her duplicate fails: the transaction undoes both
  const pair = Workflow.builder()
    .add_node("UserCreateNode", "jane", { name: "Jane", email: "jane@example.com" })
    .add_node("UserCreateNode", "jane_again", { name: "Jane", email: "jane@example.com" })
    .build()
  const failed = yield* Effect.flip(Workflow.execute(registry, pair, { transaction: true }))
  yield* Console.log("in a transaction:", failed.message, "— users now:", yield* User.count())
})

program.pipe(
  Effect.provide(DataFlow.layer({ url: process.env.DATABASE_URL ?? "sqlite::memory:" })),
  Effect.runPromise
).catch((error) => {
  console.error(error)
  process.exit(1)
})
