/**
 * Relations and aggregates over real HTTP (fetch on a loopback port) and MCP (the SDK's client
 * over HTTP, same server), on SQLite, PostgreSQL and MariaDB: include one and two levels deep,
 * each related record in its own model's JSON without its hidden fields; a relation to a model
 * the api does not serve refused like an unknown one; relation filters, refused on hidden
 * fields at any depth; the authorisation hook on the models a relation reaches; aggregates
 * (success, bad input, not exposed); the OpenAPI document with the new routes and schemas.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { HttpServerRequest } from "@effect/platform/HttpServerRequest"
import type { SqlClient } from "@effect/sql"
import { Effect, Layer, ManagedRuntime, Option, Schema } from "effect"
import { spawnSync } from "node:child_process"
import { createServer } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DataFlowHttp from "../src/http/DataFlowHttp.js"
import * as DataFlowMcp from "../src/mcp/DataFlowMcp.js"
import type { Relation } from "../src/index.js"
import { DataFlow, Model, Tenant } from "../src/index.js"
import { mysql, pg, privateUrl } from "./support/db.js"

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
  readonly score: import("effect").BigDecimal.BigDecimal
  readonly publishedAt: Date
  readonly views: bigint
}

const Author = Model.make("Author", Schema.Struct({
  id: Schema.Int,
  name: Schema.String.pipe(Schema.maxLength(40)),
  role: Schema.String.pipe(Schema.maxLength(20)),
  email: Schema.String.pipe(Schema.maxLength(80))
}), {
  table: "relh_authors",
  relations: {
    posts: Model.hasMany((): Relation.Target<PostRecord> => Post, { foreignKey: "authorId" }),
    profile: Model.hasOne(() => Profile, { foreignKey: "authorId" })
  }
})

const Post = Model.make("Post", Schema.Struct({
  id: Schema.Int,
  authorId: Schema.Int,
  title: Schema.String.pipe(Schema.maxLength(40)),
  score: Schema.BigDecimal,
  publishedAt: Schema.Date,
  views: Schema.BigIntFromSelf
}), {
  table: "relh_posts",
  relations: {
    author: Model.belongsTo(() => Author, { foreignKey: "authorId" }),
    comments: Model.hasMany(() => Comment, { foreignKey: "postId" })
  }
})

const Comment = Model.make("Comment", Schema.Struct({
  id: Schema.Int,
  postId: Schema.Int,
  body: Schema.String.pipe(Schema.maxLength(80)),
  ip: Schema.String.pipe(Schema.maxLength(40))
}), { table: "relh_comments" })

/** Not served: nothing of it may come out through a relation. */
const Profile = Model.make("Profile", Schema.Struct({
  id: Schema.Int,
  authorId: Schema.Int,
  bio: Schema.String.pipe(Schema.maxLength(80))
}), { table: "relh_profiles" })

const options = {
  expose: { Author: ["read", "list", "count", "aggregate"], Post: "all", Comment: "read" },
  hidden: { Author: ["email"], Comment: ["ip"] },
  maxLimit: 5
} as const

const api = DataFlowHttp.api([Author, Post, Comment], { ...options, workflows: true })

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

interface Reply {
  readonly status: number
  readonly body: any // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON read back in assertions
  readonly text: string
}

const q = (value: unknown) => encodeURIComponent(JSON.stringify(value))

/** Refuses any call that reaches Comment when the request says `x-deny: Comment`. */
const authorize = ({ model, node }: DataFlowHttp.AuthorizeCall) =>
  Effect.flatMap(Effect.serviceOption(HttpServerRequest), (request) =>
    Option.isSome(request) && request.value.headers["x-deny"] === model
      ? Effect.fail(new DataFlowHttp.Forbidden({ model, operation: node }))
      : Effect.void)

const seed = Effect.gen(function*() {
  yield* DataFlow.migrate([Author, Profile, Post, Comment])
  const ada = yield* Author.create({ name: "ada", role: "admin", email: "ada@secret.example" })
  const bob = yield* Author.create({ name: "bob", role: "writer", email: "bob@secret.example" })
  yield* Profile.create({ authorId: ada.id, bio: "private bio" })
  const posts = (yield* Post.bulkCreate([
    { authorId: ada.id, title: "engines", score: "1.50", publishedAt: "2024-01-01T00:00:00.000Z" },
    { authorId: ada.id, title: "looms", score: "2.25", publishedAt: "2024-02-01T00:00:00.000Z" },
    { authorId: bob.id, title: "notes", score: "10", publishedAt: "2024-03-01T00:00:00.000Z" },
    { authorId: bob.id, title: "poems", score: "0.125", publishedAt: "2024-04-01T00:00:00.000Z" },
    { authorId: bob.id, title: "songs", score: "3", publishedAt: "2024-05-01T00:00:00.000Z" },
    { authorId: bob.id, title: "tales", score: "4", publishedAt: "2024-06-01T00:00:00.000Z" }
  ].map((p, i) => ({
    ...p,
    score: Schema.decodeSync(Schema.BigDecimal)(p.score),
    publishedAt: new Date(p.publishedAt),
    views: i === 0 ? 9007199254740993n : 1n
  })), {
    returnRecords: true
  })).records
  yield* Comment.bulkCreate([
    { postId: posts[0]!.id, body: "first", ip: "10.0.0.1" },
    { postId: posts[0]!.id, body: "second", ip: "10.0.0.2" },
    { postId: posts[2]!.id, body: "third", ip: "10.0.0.3" }
  ])
  return { ada, bob, posts }
})

type Database = Layer.Layer<SqlClient.SqlClient, unknown>

const databases: ReadonlyArray<readonly [string, boolean, () => Promise<Database>]> = [
  ["sqlite", true, async () => DataFlow.layer({ url: "sqlite::memory:" })],
  ["pg", pg.available, async () => DataFlow.layer({ url: await Effect.runPromise(privateUrl("pg", "relhttp")) })],
  ["mysql", mysql.available, async () => DataFlow.layer({ url: await Effect.runPromise(privateUrl("mysql", "relhttp")) })]
]

for (const [name, available, database] of databases) {
  describe.skipIf(!available)(`relations and aggregates over HTTP and MCP [${name}]`, () => {
    let base = ""
    let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown> | undefined
    let ids = { ada: 0, bob: 0, post: 0 }
    beforeAll(async () => {
      const port = await freePort()
      const db = await database()
      const layer = DataFlowHttp.serve(api, {
        port,
        authorize,
        routes: DataFlowMcp.layerHttp([Author, Post, Comment], { ...options, path: "/mcp" })
      }).pipe(Layer.provideMerge(db))
      runtime = ManagedRuntime.make(layer)
      const seeded = await runtime.runPromise(seed)
      ids = { ada: seeded.ada.id, bob: seeded.bob.id, post: seeded.posts[0]!.id }
      base = `http://127.0.0.1:${port}`
    }, 60_000)
    afterAll(() => runtime?.dispose())

    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
      const r = await fetch(base + path, {
        method,
        headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await r.text()
      return { status: r.status, body: text === "" ? undefined : JSON.parse(text), text }
    }

    it("include one level: read, list and search; related records in their own JSON, hidden fields out", async () => {
      const read = await call("GET", `/relh_posts/${ids.post}?include=${q({ author: true, comments: { orderBy: ["body"] } })}`)
      expect(read.status, read.text).toBe(200)
      expect(read.body).toMatchObject({ title: "engines", score: "1.5", publishedAt: "2024-01-01T00:00:00.000Z", views: "9007199254740993" })
      expect(read.body.author).toMatchObject({ id: ids.ada, name: "ada", role: "admin", createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })
      expect(read.body.author).not.toHaveProperty("email")
      expect(read.body.comments.map((c: { body: string }) => c.body)).toEqual(["first", "second"])
      expect(read.body.comments[0]).not.toHaveProperty("ip")
      expect(read.text).not.toContain("secret.example")
      expect(read.text).not.toContain("10.0.0")
      const list = await call("GET", `/relh_posts?orderBy=title&limit=2&include=${q({ author: { select: ["name"] } })}`)
      expect(list.body.records).toEqual([
        expect.objectContaining({ title: "engines", author: { name: "ada" } }),
        expect.objectContaining({ title: "looms", author: { name: "ada" } })
      ])
      const search = await call("POST", "/relh_posts/search", {
        where: { title: "notes" },
        include: { author: true, comments: { where: { body: { $startsWith: "th" } } } }
      })
      expect(search.body.records).toEqual([
        expect.objectContaining({ title: "notes", author: expect.objectContaining({ id: ids.bob, name: "bob" }), comments: [expect.objectContaining({ body: "third" })] })
      ])
      expect(search.text).not.toContain("10.0.0.3")
    })

    it("include two levels: authors → posts → comments, each level's codec and hidden fields", async () => {
      const r = await call("GET", `/relh_authors?orderBy=name&include=${q({ posts: { orderBy: ["title"], include: { comments: { orderBy: ["body"] }, author: true } } })}`)
      expect(r.status, r.text).toBe(200)
      const [ada, bob] = r.body.records
      expect(ada).not.toHaveProperty("email")
      expect(ada.posts.map((p: { title: string }) => p.title)).toEqual(["engines", "looms"])
      expect(ada.posts[1]).toMatchObject({ score: "2.25", publishedAt: "2024-02-01T00:00:00.000Z", views: "1", comments: [] })
      expect(ada.posts[0].views).toBe("9007199254740993")
      expect(ada.posts[0].comments).toMatchObject([{ postId: ids.post, body: "first" }, { postId: ids.post, body: "second" }])
      for (const c of ada.posts[0].comments) expect(c).not.toHaveProperty("ip")
      expect(ada.posts[0].author).toMatchObject({ id: ids.ada, name: "ada", role: "admin" })
      expect(ada.posts[0].author).not.toHaveProperty("email")
      expect(bob.posts).toHaveLength(4)
      expect(r.text).not.toContain("secret.example")
      expect(r.text).not.toContain("10.0.0")
    })

    it("a relation to a model the api does not serve, or bad include options: 400 naming the path", async () => {
      const profile = await call("GET", `/relh_authors/${ids.ada}?include=${q({ profile: true })}`)
      expect(profile.body).toMatchObject({ status: 400, error: "ValidationError", field: "include.profile", detail: expect.stringContaining("not a relation") })
      expect(profile.text).not.toContain("private bio")
      expect((await call("GET", `/relh_authors?include=${q({ posts: { include: { profile: true } } })}`)).body)
        .toMatchObject({ status: 400, field: "include.posts.include.profile" })
      expect((await call("GET", `/relh_authors?include=${q({ posts: { include: { author: { include: { profile: true } } } } })}`)).body)
        .toMatchObject({ status: 400, field: "include.posts.include.author.include.profile" })
      expect((await call("GET", `/relh_posts?include=${q({ nope: true })}`)).body).toMatchObject({ status: 400, field: "include.nope" })
      expect((await call("GET", `/relh_posts?include=${q({ author: { colour: 1 } })}`)).body).toMatchObject({ status: 400, field: "include.author.colour" })
      expect((await call("GET", `/relh_posts?include=${q({ author: 5 })}`)).body).toMatchObject({ status: 400, field: "include.author" })
      expect((await call("GET", "/relh_posts?include={bad")).body).toMatchObject({ status: 400, field: "include" })
      expect((await call("GET", `/relh_authors?include=${q({ posts: { select: "title" } })}`)).body).toMatchObject({ status: 400, field: "include.posts.select" })
      expect((await call("GET", `/relh_authors?include=${q({ posts: { includeDeleted: "yes" } })}`)).body).toMatchObject({ status: 400, field: "include.posts.includeDeleted" })
      expect((await call("GET", `/relh_posts?include=${q({ author: { select: ["email"] } })}`)).body).toMatchObject({ status: 400, field: "include.author.select" })
      expect((await call("GET", `/relh_posts?include=${q({ comments: { orderBy: ["-ip"] } })}`)).body).toMatchObject({ status: 400, field: "include.comments.orderBy" })
      expect((await call("GET", `/relh_posts?include=${q({ author: { where: { email: { $startsWith: "ada" } } } })}`)).body)
        .toMatchObject({ status: 400, error: "InvalidFilter", field: "include.author.where.email" })
      // Comment serves read only; its own relations are none, and counting is not a list either
      expect((await call("GET", `/relh_comments?include=${q({ post: true })}`)).body).toMatchObject({ status: 400 })
    })

    it("relation filters: belongs-to and some / none, values in their JSON form; hidden fields and unserved relations refused", async () => {
      const admins = await call("GET", `/relh_posts?orderBy=title&where=${q({ author: { role: "admin" } })}`)
      expect(admins.body.records.map((p: { title: string }) => p.title)).toEqual(["engines", "looms"])
      const recent = await call("POST", "/relh_authors/search", { where: { posts: { some: { publishedAt: { $gte: "2024-05-01T00:00:00Z" } } } } })
      expect(recent.body.records.map((a: { name: string }) => a.name)).toEqual(["bob"])
      const commented = await call("GET", `/relh_authors/count?where=${q({ posts: { some: { comments: { some: { body: "third" } } } } })}`)
      expect(commented.body).toEqual({ count: 1 })
      const none = await call("GET", `/relh_authors?where=${q({ posts: { none: { score: { $gt: "5" } } } })}`)
      expect(none.body.records.map((a: { name: string }) => a.name)).toEqual(["ada"])
      // probing a hidden field through a relation, at any depth
      expect((await call("GET", `/relh_posts?where=${q({ author: { email: { $startsWith: "ada" } } })}`)).body)
        .toMatchObject({ status: 400, error: "InvalidFilter", field: "author.email" })
      expect((await call("GET", `/relh_authors/count?where=${q({ posts: { some: { comments: { some: { ip: "10.0.0.3" } } } } })}`)).body)
        .toMatchObject({ status: 400, error: "InvalidFilter", field: "posts.some.comments.some.ip" })
      expect((await call("GET", `/relh_posts?where=${q({ $or: [{ author: { $not: { email: "x" } } }] })}`)).body)
        .toMatchObject({ status: 400, field: "$or[0].author.$not.email" })
      expect((await call("GET", `/relh_authors?where=${q({ profile: { bio: "private bio" } })}`)).body)
        .toMatchObject({ status: 400, error: "InvalidFilter", field: "profile" })
      expect((await call("GET", `/relh_authors?where=${q({ posts: { any: {} } })}`)).body).toMatchObject({ status: 400, field: "posts.any" })
      expect((await call("GET", `/relh_authors?where=${q({ posts: { some: 5 } })}`)).body).toMatchObject({ status: 400, field: "posts.some" })
      expect((await call("GET", `/relh_authors?where=${q({ posts: { some: { publishedAt: { $gt: "soon" } } } })}`)).body)
        .toMatchObject({ status: 400, error: "InvalidFilter", field: "posts.some.publishedAt.$gt" })
      // the node's bulk filters take them too
      expect((await call("PATCH", "/relh_posts/bulk", { where: { author: { email: "ada@secret.example" } }, patch: { title: "x" } })).body)
        .toMatchObject({ status: 400, field: "author.email" })
    })

    it("the authorize hook decides on the models a relation reaches (as their list)", async () => {
      const deny = { "x-deny": "Comment" }
      expect((await call("GET", `/relh_posts?include=${q({ comments: true })}`, undefined, deny)).body)
        .toMatchObject({ status: 403, error: "Forbidden", model: "Comment", operation: "list" })
      expect((await call("GET", `/relh_posts?where=${q({ comments: { some: {} } })}`, undefined, deny)).body)
        .toMatchObject({ status: 403, model: "Comment" })
      expect((await call("GET", `/relh_posts?include=${q({ author: true })}`, undefined, deny)).status).toBe(200)
    })

    it("aggregate: groups and totals as JSON, bad input 400, hidden fields refused, not exposed 404", async () => {
      const grouped = await call("POST", "/relh_posts/aggregate", {
        groupBy: ["authorId"],
        count: true,
        sum: ["score", "views"],
        max: ["publishedAt", "views"],
        orderBy: ["authorId"]
      })
      expect(grouped.status, grouped.text).toBe(200)
      expect(grouped.body).toEqual([
        { authorId: ids.ada, _count: 2, _sum: { score: "3.75", views: "9007199254740994" }, _max: { publishedAt: "2024-02-01T00:00:00.000Z", views: "9007199254740993" } },
        { authorId: ids.bob, _count: 4, _sum: { score: "17.125", views: "4" }, _max: { publishedAt: "2024-06-01T00:00:00.000Z", views: "1" } }
      ])
      const total = await call("POST", "/relh_posts/aggregate", { count: true, avg: ["score"], where: { author: { role: "admin" } } })
      expect(total.body).toEqual({ _count: 2, _avg: { score: "1.875" } })
      const having = await call("POST", "/relh_posts/aggregate", { groupBy: ["authorId"], sum: ["score"], having: { _sum: { score: { $gt: "4" } } } })
      expect(having.body).toEqual([{ authorId: ids.bob, _sum: { score: "17.125" } }])
      expect((await call("POST", "/relh_posts/aggregate", { sum: ["title"] })).body).toMatchObject({ status: 400, error: "ValidationError", field: "sum" })
      expect((await call("POST", "/relh_posts/aggregate", { colour: 1 })).body).toMatchObject({ status: 400, field: "colour" })
      expect((await call("POST", "/relh_posts/aggregate", { where: { nope: 1 } })).body).toMatchObject({ status: 400, error: "InvalidFilter" })
      expect((await call("POST", "/relh_posts/aggregate", { groupBy: ["id"], limit: 6 })).body).toMatchObject({ status: 400, field: "limit" })
      expect((await call("POST", "/relh_posts/aggregate", { groupBy: ["id"] })).body)
        .toMatchObject({ status: 400, field: "groupBy", detail: expect.stringContaining("more than 5 groups") })
      expect((await call("POST", "/relh_posts/aggregate", { groupBy: ["id"], limit: 2, offset: 4, orderBy: ["id"] })).body).toHaveLength(2)
      expect((await call("POST", "/relh_authors/aggregate", { countDistinct: ["email"] })).body).toMatchObject({ status: 400, field: "countDistinct" })
      expect((await call("POST", "/relh_authors/aggregate", { groupBy: ["email"] })).body).toMatchObject({ status: 400, field: "groupBy" })
      expect((await call("POST", "/relh_authors/aggregate", { count: ["email"] })).body).toMatchObject({ status: 400, field: "count" })
      expect((await call("POST", "/relh_authors/aggregate", { count: true, where: { email: "x" } })).body).toMatchObject({ status: 400, field: "email" })
      expect((await call("POST", "/relh_authors/aggregate", { groupBy: ["role"], count: true, orderBy: ["role"] })).body)
        .toEqual([{ role: "admin", _count: 1 }, { role: "writer", _count: 1 }])
      expect((await call("POST", "/relh_comments/aggregate", { count: true })).body).toMatchObject({ status: 404, error: "RouteNotFound" })
      expect((await call("POST", "/relh_posts/aggregate", { count: true }, { "x-deny": "Post" })).body).toMatchObject({ status: 403 })
    })

    it("OpenAPI: aggregate, include and relation filters, the workflow route; every reference resolves", async () => {
      const doc = (await call("GET", "/openapi.json")).body
      expect(doc.openapi).toBe("3.1.0")
      expect(doc.paths).toHaveProperty(["/relh_posts/aggregate", "post"])
      expect(doc.paths).toHaveProperty(["/relh_authors/aggregate", "post"])
      expect(doc.paths).not.toHaveProperty(["/relh_comments/aggregate"])
      const schemas = doc.components.schemas
      expect(schemas.Post.properties.author).toEqual({ anyOf: [{ $ref: "#/components/schemas/Author" }, { type: "null" }] })
      expect(schemas.Post.properties.comments).toEqual({ type: "array", items: { $ref: "#/components/schemas/Comment" } })
      expect(schemas.Author.properties).toHaveProperty("posts")
      expect(schemas.Author.properties).not.toHaveProperty("profile")
      expect(schemas.Author.properties).not.toHaveProperty("email")
      expect(schemas.Comment.properties).not.toHaveProperty("ip")
      expect(schemas.PostFilter.properties.author).toEqual({ $ref: "#/components/schemas/AuthorFilter" })
      expect(schemas.AuthorFilter.properties.posts.properties.some).toEqual({ $ref: "#/components/schemas/PostFilter" })
      expect(schemas.AuthorFilter.properties).not.toHaveProperty("profile")
      expect(schemas.AuthorFilter.properties).not.toHaveProperty("email")
      expect(schemas.PostInclude.properties).toHaveProperty("author")
      expect(schemas.AuthorInclude.properties).not.toHaveProperty("profile")
      expect(schemas.PostQuery.properties.include).toEqual({ $ref: "#/components/schemas/PostInclude" })
      const listParams = doc.paths["/relh_posts"].get.parameters.map((p: { name: string }) => p.name)
      expect(listParams).toContain("include")
      expect(doc.paths["/relh_posts/{id}"].get.parameters.map((p: { name: string }) => p.name)).toContain("include")
      const aggregate = doc.paths["/relh_posts/aggregate"].post
      expect(aggregate.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/PostAggregateArguments" })
      expect(schemas.PostAggregateArguments.properties.sum.items.enum).toEqual(["id", "authorId", "score", "views"])
      expect(schemas.AuthorAggregateArguments.properties.groupBy.items.enum).not.toContain("email")
      expect(Object.keys(aggregate.responses)).toEqual(expect.arrayContaining(["200", "400", "413", "500", "503"]))
      const workflow = doc.paths["/workflows/execute"].post
      expect(workflow.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/WorkflowRun" })
      expect(schemas.WorkflowRun.properties.workflow.properties.nodes.items.properties.type.enum).toContain("Post_Create")
      expect(schemas.WorkflowRun.properties.workflow.properties.nodes.items.properties.type.enum).not.toContain("Comment_Create")
      expect(workflow.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/WorkflowResult" })
      expect(workflow.responses["400"].content["application/problem+json"] ?? workflow.responses["400"].content["application/json"]).toBeDefined()
      // where Python's openapi-spec-validator is installed (Debian: python3-openapi-spec-validator), the
      // whole document is validated against the OpenAPI 3.1 schema (once: it is the same on every database)
      if (name === "sqlite") {
        const validator = spawnSync("python3", ["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))"], {
          input: JSON.stringify(doc)
        })
        if (validator.error === undefined && !String(validator.stderr).includes("ModuleNotFoundError")) {
          expect(validator.status, String(validator.stderr)).toBe(0)
        }
      }
      // the workflow route still runs
      const run = await call("POST", "/workflows/execute", { workflow: { nodes: [{ id: "n", type: "Post_Count", params: {} }] } })
      expect(run.status, run.text).toBe(200)
      // as the existing OpenAPI test: every reference resolves, every operation is named and described
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!)
      for (const ref of refs) expect(schemas, ref).toHaveProperty([ref])
      for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string; responses: Record<string, { description: string }> }>>)) {
        for (const [method, op] of Object.entries(item)) {
          expect(op.operationId, `${method} ${path}`).toMatch(/^\w+\.\w+$/)
          for (const response of Object.values(op.responses)) expect(typeof response.description).toBe("string")
        }
      }
    })

    it("MCP (the SDK's client over HTTP): a list tool with include, the aggregate tool", async () => {
      const client = new Client({ name: "test", version: "1.0.0" })
      await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)))
      try {
        const tools = (await client.listTools()).tools
        const names = tools.map((t) => t.name)
        expect(names).toEqual(expect.arrayContaining(["Post_list", "Post_aggregate", "Author_aggregate"]))
        expect(names).not.toContain("Comment_aggregate")
        const list = tools.find((t) => t.name === "Post_list")!
        expect(list.inputSchema.properties).toHaveProperty("include")
        expect(Object.keys((list.inputSchema as Record<string, unknown>).$defs as object)).toEqual(expect.arrayContaining(["PostFilter", "AuthorFilter", "PostInclude"]))
        expect(tools.find((t) => t.name === "Post_aggregate")!.annotations).toMatchObject({ readOnlyHint: true })
        const listed = await client.callTool({
          name: "Post_list",
          arguments: { where: { author: { role: "admin" } }, orderBy: ["title"], include: { author: true, comments: { orderBy: ["body"] } } }
        })
        expect(listed.isError, JSON.stringify(listed.content)).toBe(false)
        const records = (listed.structuredContent as { records: Array<Record<string, unknown>> }).records
        expect(records.map((r) => r.title)).toEqual(["engines", "looms"])
        expect(records[0]).toMatchObject({ score: "1.5", author: { name: "ada", role: "admin" }, comments: [{ body: "first" }, { body: "second" }] })
        expect(JSON.stringify(listed.content)).not.toContain("secret.example")
        expect(JSON.stringify(listed.content)).not.toContain("10.0.0")
        const refused = await client.callTool({ name: "Author_list", arguments: { include: { profile: true } } })
        expect(refused.isError).toBe(true)
        expect(refused.structuredContent).toMatchObject({ status: 400, field: "include.profile" })
        const probe = await client.callTool({ name: "Post_count", arguments: { where: { author: { email: "ada@secret.example" } } } })
        expect(probe.structuredContent).toMatchObject({ status: 400, error: "InvalidFilter", field: "author.email" })
        const aggregated = await client.callTool({ name: "Post_aggregate", arguments: { groupBy: ["authorId"], sum: ["score"], orderBy: ["-_sum.score"] } })
        expect(aggregated.isError, JSON.stringify(aggregated.content)).toBe(false)
        expect(aggregated.structuredContent).toEqual({
          result: [{ authorId: ids.bob, _sum: { score: "17.125" } }, { authorId: ids.ada, _sum: { score: "3.75" } }]
        })
        const bad = await client.callTool({ name: "Author_aggregate", arguments: { min: ["email"] } })
        expect(bad.structuredContent).toMatchObject({ status: 400, field: "min" })
      } finally {
        await client.close()
      }
    })
  })
}

// --- a tenant-scoped model reached through a relation of a global one ----------------------

interface NoteRecord {
  readonly id: number
  readonly categoryId: number
  readonly text: string
}

const Category = Model.make("Category", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(40)) }), {
  table: "relh_categories",
  relations: { notes: Model.hasMany((): Relation.Target<NoteRecord> => Note, { foreignKey: "categoryId" }) }
})
const Note = Model.make("Note", Schema.Struct({ id: Schema.Int, categoryId: Schema.Int, text: Schema.String.pipe(Schema.maxLength(40)) }), {
  table: "relh_notes",
  tenantScoped: true
})

describe("relations over HTTP: a tenant-scoped target of a global model [sqlite]", () => {
  let base = ""
  let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown> | undefined
  beforeAll(async () => {
    const port = await freePort()
    const layer = DataFlowHttp.serve(DataFlowHttp.api([Category, Note], { expose: { Category: "read", Note: "read" } }), { port }).pipe(
      Layer.provideMerge(DataFlow.layer({ url: "sqlite::memory:" }))
    )
    runtime = ManagedRuntime.make(layer)
    await runtime.runPromise(Effect.gen(function*() {
      const c = yield* Category.create({ name: "plans" })
      yield* Note.create({ categoryId: c.id, text: "acme's" }).pipe(Tenant.with("acme"))
      yield* Note.create({ categoryId: c.id, text: "globex's" }).pipe(Tenant.with("globex"))
    }))
    base = `http://127.0.0.1:${port}`
  }, 60_000)
  afterAll(() => runtime?.dispose())

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(base + path, { headers })
    return { status: r.status, body: await r.json() as any } // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON read back
  }

  it("the tenant comes from the header for the included records; without it: 400; one tenant never sees another's", async () => {
    expect((await get(`/relh_categories`)).body.records).toHaveLength(1)
    expect((await get(`/relh_categories?include=${q({ notes: true })}`)).body).toMatchObject({ status: 400, error: "MissingTenant", model: "Note" })
    const acme = await get(`/relh_categories?include=${q({ notes: true })}`, { "x-tenant-id": "acme" })
    expect(acme.body.records[0].notes.map((n: { text: string }) => n.text)).toEqual(["acme's"])
    const filtered = await get(`/relh_categories/count?where=${q({ notes: { some: { text: "globex's" } } })}`, { "x-tenant-id": "acme" })
    expect(filtered.body).toEqual({ count: 0 })
    // the tenant's own rows are reached through the global model's relation filter
    const own = await get(`/relh_categories/count?where=${q({ notes: { some: { text: "acme's" } } })}`, { "x-tenant-id": "acme" })
    expect(own.body).toEqual({ count: 1 })
    const theirs = await get(`/relh_categories/count?where=${q({ notes: { some: { text: "acme's" } } })}`, { "x-tenant-id": "globex" })
    expect(theirs.body).toEqual({ count: 0 })
  })
})
