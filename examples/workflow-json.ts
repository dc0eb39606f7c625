/**
 * A workflow that arrives as JSON (stored, sent over the wire, written by a tool or a language
 * model): decoded, checked against the registry before any SQL runs, executed; a custom node
 * beside the generated ones; the results written back as JSON.
 *
 *   npx tsx examples/workflow-json.ts
 */
import { Console, Effect, Schema } from "effect"
import { DataFlow, Json, Model, Workflow } from "../src/index.js"

const Author = Model.make("Author", Schema.Struct({ id: Schema.Int, name: Schema.String }))
const Post = Model.make("Post", Schema.Struct({
  id: Schema.Int,
  authorId: Schema.Int,
  title: Schema.String,
  published: Schema.Boolean
}))

// A custom node: any Effect with an input and an output Schema
const Slugify = Workflow.node({
  type: "Slugify",
  input: Schema.Struct({ title: Schema.String }),
  output: Schema.Struct({ slug: Schema.String }),
  run: ({ title }) => Effect.succeed({ slug: title.toLowerCase().replace(/[^a-z0-9]+/g, "-") })
})

const registry = Workflow.registry([Author, Post], { nodes: [Slugify] })

// an author, two posts (their authorId filled from the author), the first published (its id
// from the bulk create's records), a slug of its title, the author's published posts counted
const text = `{
  "name": "publish",
  "nodes": [
    { "id": "author", "type": "AuthorCreateNode", "params": { "name": "Ada" } },
    { "id": "posts", "type": "PostBulkCreateNode", "params": {
      "records": [
        { "title": "Notes on the Engine", "published": false },
        { "title": "Sketch of the Analytical Engine", "published": false }
      ],
      "return_records": true
    } },
    { "id": "publish", "type": "PostUpdateNode", "params": { "fields": { "published": true } } },
    { "id": "slug", "type": "Slugify" },
    { "id": "count", "type": "PostCountNode", "params": { "filter": { "published": true } } }
  ],
  "connections": [
    { "from": "author", "output": "result.id", "to": "posts", "input": "records.0.authorId" },
    { "from": "author", "output": "result.id", "to": "posts", "input": "records.1.authorId" },
    { "from": "posts", "output": "result.records.0.id", "to": "publish", "input": "id" },
    { "from": "publish", "output": "result.title", "to": "slug", "input": "title" },
    { "from": "publish", "output": "result.authorId", "to": "count", "input": "filter.authorId" }
  ]
}`

const program = Effect.gen(function*() {
  const workflow = yield* Workflow.fromJson(text)
  yield* Workflow.validate(registry, workflow)
  const { results } = yield* Workflow.execute(registry, workflow)
  yield* Console.log("posts", results["posts"]!.result)
  // results hold typed records (dates as Date); Json.encode writes one as JSON
  yield* Console.log("published as JSON", Json.encode(Post, results["publish"]!.result as typeof Post.Type))
  yield* Console.log("slug", results["slug"]!.result, "count", results["count"]!.result)
  yield* Console.log("the workflow back as JSON:", Workflow.toJson(workflow).length, "bytes")

  // a bad workflow is refused before any SQL, naming the node and the parameter
  const bad = yield* Effect.flip(Workflow.fromJson(text.replace(`"fields"`, `"feilds"`)).pipe(
    Effect.flatMap((w) => Workflow.validate(registry, w))
  ))
  yield* Console.log(bad._tag, bad.message)
})

program.pipe(
  Effect.provide(DataFlow.layer({ url: process.env.DATABASE_URL ?? "sqlite::memory:" })),
  Effect.runPromise
).catch((error) => {
  console.error(error)
  process.exit(1)
})
