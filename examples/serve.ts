/**
 * The quick-start models served over HTTP (and MCP at /mcp) on the embedded SQLite default.
 *
 *   npx tsx examples/serve.ts            # http://127.0.0.1:3000 (PORT=… to change)
 *   curl -s -X POST localhost:3000/users -H 'content-type: application/json' \
 *     -d '{"email":"ada@example.com","name":"Ada","age":36,"role":"admin","tags":["math"]}'
 *   curl -s 'localhost:3000/users?where={"role":"admin"}&orderBy=-age&limit=10'
 *   curl -s 'localhost:3000/posts?include={"author":true}&where={"author":{"role":"admin"}}'
 *   curl -s -X POST localhost:3000/users/aggregate -H 'content-type: application/json' -d '{"groupBy":["role"],"count":true,"avg":["age"]}'
 *   open http://127.0.0.1:3000/docs      # Swagger UI; /openapi.json, /health, /metrics
 */
import { NodeRuntime } from "@effect/platform-node"
import { Layer, Schema } from "effect"
import * as DataFlowHttp from "../src/http/DataFlowHttp.js"
import { DataFlow, Model } from "../src/index.js"
import * as DataFlowMcp from "../src/mcp/DataFlowMcp.js"

export const User = Model.make(
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

export const Post = Model.make(
  "Post",
  Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String, body: Schema.String }),
  { indexes: ["authorId"], softDelete: true, relations: { author: Model.belongsTo(() => User, { foreignKey: "authorId" }) } }
)

// every node of User; Post read-only (the default)
const expose = { User: "all" } as const

export const Server = DataFlowHttp.serve(DataFlowHttp.api([User, Post], { expose, title: "Quick start" }), {
  port: Number(process.env.PORT ?? 3000),
  log: true,
  routes: DataFlowMcp.layerHttp([User, Post], { expose })
}).pipe(Layer.provide(DataFlow.layer({ url: process.env.DATABASE_URL })))

if (process.argv[1]?.endsWith("serve.ts")) Layer.launch(Server).pipe(NodeRuntime.runMain)
