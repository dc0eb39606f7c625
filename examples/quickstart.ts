/**
 * Quickstart: a model, every basic node, on the embedded SQLite default (no server needed).
 *
 *   npm run example
 */
import { Console, Effect, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"

// 1. Declare a model as an Effect Schema. Table: "users"; an integer id the database generates;
//    createdAt / updatedAt managed by the library.
const User = Model.make(
  "User",
  Schema.Struct({
    id: Schema.Int,
    email: Schema.String.pipe(Schema.maxLength(320)),
    name: Schema.String,
    age: Schema.NullOr(Schema.Int),
    role: Schema.Literal("admin", "member"),
    tags: Schema.Array(Schema.String)
  }),
  { unique: ["email"], indexes: ["name"] }
)

// 2. Nodes are ordinary Effects that need a SqlClient.
const program = Effect.gen(function*() {
  const ada = yield* User.create({ email: "ada@example.com", name: "Ada", age: 36, role: "admin", tags: ["math"] })
  yield* Console.log("created", ada)

  yield* User.bulkCreate([
    { email: "alan@example.com", name: "Alan", age: 41, role: "member", tags: [] },
    { email: "grace@example.com", name: "Grace", age: null, role: "member", tags: ["navy", "cobol"] }
  ])

  yield* Console.log("read", yield* User.read(ada.id))
  yield* Console.log("updated", yield* User.update(ada.id, { age: 37 }))
  const { records } = yield* User.list({ where: { role: "member" }, orderBy: ["-name"], limit: 10 })
  yield* Console.log("members", records.map((u) => u.name))
  yield* Console.log("count", yield* User.count())

  const { created } = yield* User.upsert({
    where: { email: "ada@example.com" },
    create: { name: "Ada", age: 37, role: "admin", tags: [] },
    update: { name: "Ada Lovelace" }
  })
  yield* Console.log("upsert created a new row?", created)

  // typed errors: a duplicate email is a UniqueViolation naming the field, never the value
  const dup = yield* Effect.flip(User.create({ email: "ada@example.com", name: "X", age: null, role: "member", tags: [] }))
  yield* Console.log("duplicate:", dup._tag, dup.message)

  yield* Console.log("deleted", yield* User.delete(ada.id))
  yield* Console.log("left", yield* User.count())
  yield* User.bulkDelete({}, { confirm: true })
})

// 3. Provide a database. No URL: an embedded SQLite file (dataflow.sqlite). Try
//    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run example
program.pipe(
  Effect.provide(DataFlow.layer({ url: process.env.DATABASE_URL })),
  Effect.runPromise
).catch((error) => {
  console.error(error)
  process.exit(1)
})
