/**
 * Composite primary keys over real HTTP (fetch on a loopback port) and MCP (the SDK's client
 * over HTTP): read / update / delete / restore at `/<table>/{followerId}/{followingId}`, each
 * segment decoded as its field (a bad one a 400 naming it), 404, upsert and bulk nodes keyed by
 * the whole key, list pages walked by cursor, the OpenAPI document's path parameters, the MCP
 * tools' key arguments, and the hidden-field rule at construction.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { SqlClient } from "@effect/sql"
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { createServer } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DataFlowHttp from "../src/http/DataFlowHttp.js"
import * as DataFlowMcp from "../src/mcp/DataFlowMcp.js"
import { DataFlow, Model } from "../src/index.js"
import { mysql, pg, privateUrl } from "./support/db.js"

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const Follow = Model.make("Follow", Schema.Struct({
  followerId: Schema.Int,
  followingId: Schema.Int,
  note: Schema.NullOr(Schema.String),
  score: Schema.Int
}), { table: "cpkh_follows", primaryKey: ["followerId", "followingId"], softDelete: true })

const Tagging = Model.make("Tagging", Schema.Struct({
  articleId: Schema.String,
  tag: Schema.String,
  weight: Schema.Int
}), { table: "cpkh_taggings", primaryKey: ["articleId", "tag"] })

const Reading = Model.make("Reading", Schema.Struct({
  sensor: Schema.String,
  active: Schema.Boolean,
  at: Schema.Date,
  level: Schema.Number,
  value: Schema.Int
}), { table: "cpkh_readings", primaryKey: ["sensor", "active", "at", "level"] })

const Membership = Model.make("Membership", Schema.Struct({
  groupId: Schema.String,
  userId: Schema.Int,
  role: Schema.String
}), { table: "cpkh_memberships", primaryKey: ["groupId", "userId"], tenantScoped: true })

const expose = { Follow: "all", Tagging: "all", Reading: "all", Membership: "all" } as const
const api = DataFlowHttp.api([Follow, Tagging, Reading, Membership], { expose })

interface Reply {
  readonly status: number
  readonly body: any // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON read back in assertions
  readonly text: string
}

type Database = Layer.Layer<SqlClient.SqlClient, unknown>

const databases: ReadonlyArray<readonly [string, boolean, () => Promise<Database>]> = [
  ["sqlite", true, async () => DataFlow.layer({ url: "sqlite::memory:" })],
  ["pg", pg.available, async () => DataFlow.layer({ url: await Effect.runPromise(privateUrl("pg", "cpkhttp")) })],
  ["mysql", mysql.available, async () => DataFlow.layer({ url: await Effect.runPromise(privateUrl("mysql", "cpkhttp")) })]
]

const follow = (followerId: number, followingId: number, score = 0) => ({ followerId, followingId, note: null, score })

for (const [name, available, database] of databases) {
  describe.skipIf(!available)(`composite keys over HTTP and MCP [${name}]`, () => {
    let base = ""
    let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown> | undefined
    beforeAll(async () => {
      const port = await freePort()
      const layer = DataFlowHttp.serve(api, { port, routes: DataFlowMcp.layerHttp([Follow, Tagging, Reading, Membership], { expose, path: "/mcp", tenant: "acme" }) }).pipe(
        Layer.provideMerge(await database())
      )
      runtime = ManagedRuntime.make(layer)
      await runtime.runPromise(Effect.void)
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

    it("create, read, patch, delete and restore by the key's path segments; 404; a bad segment 400 naming its field", async () => {
      expect((await call("POST", "/cpkh_follows", follow(1, 2, 5))).status).toBe(201)
      expect((await call("POST", "/cpkh_follows", follow(2, 1))).status).toBe(201)
      const duplicate = await call("POST", "/cpkh_follows", follow(1, 2))
      expect(duplicate.body).toMatchObject({ status: 409, error: "UniqueViolation" })
      const read = await call("GET", "/cpkh_follows/1/2")
      expect(read.status, read.text).toBe(200)
      expect(read.body).toMatchObject(follow(1, 2, 5))
      expect((await call("GET", "/cpkh_follows/2/1")).body).toMatchObject(follow(2, 1))
      const patched = await call("PATCH", "/cpkh_follows/1/2", { note: "close", score: 6 })
      expect(patched.status, patched.text).toBe(200)
      expect(patched.body).toMatchObject({ followerId: 1, followingId: 2, note: "close", score: 6 })
      // the key cannot be changed through the patch
      expect((await call("PATCH", "/cpkh_follows/1/2", { followingId: 3 })).body).toMatchObject({ status: 400, error: "ValidationError" })
      const missing = await call("GET", "/cpkh_follows/1/3")
      expect(missing.body).toMatchObject({ status: 404, error: "NotFound", model: "Follow" })
      expect(missing.text).not.toContain("followingId=3") // a problem never shows a value
      expect((await call("PATCH", "/cpkh_follows/9/9", { score: 1 })).status).toBe(404)
      const bad = await call("GET", "/cpkh_follows/1/x")
      expect(bad.body).toMatchObject({ status: 400, error: "ValidationError", field: "followingId" })
      expect((await call("DELETE", "/cpkh_follows/x/1")).body).toMatchObject({ status: 400, field: "followerId" })
      expect((await call("GET", "/cpkh_follows/1")).status).toBe(404)
      expect((await call("DELETE", "/cpkh_follows/2/1")).body).toEqual({ deleted: true })
      expect((await call("GET", "/cpkh_follows/2/1")).status).toBe(404)
      const again = await call("DELETE", "/cpkh_follows/2/1")
      expect(again.body).toMatchObject({ status: 404, error: "NotFound" })
      expect((await call("POST", "/cpkh_follows/2/1/restore")).status).toBe(200)
      expect((await call("GET", "/cpkh_follows/2/1")).body).toMatchObject(follow(2, 1))
    })

    it("text key fields: segments URL-decoded, each field its own", async () => {
      expect((await call("POST", "/cpkh_taggings", { articleId: "a/1", tag: "x y", weight: 1 })).status).toBe(201)
      const read = await call("GET", `/cpkh_taggings/${encodeURIComponent("a/1")}/${encodeURIComponent("x y")}`)
      expect(read.status, read.text).toBe(200)
      expect(read.body).toMatchObject({ articleId: "a/1", tag: "x y", weight: 1 })
      expect((await call("GET", "/cpkh_taggings/a/1")).status).toBe(404)
      // a first segment equal to a static route's name still reaches the record
      expect((await call("POST", "/cpkh_taggings", { articleId: "count", tag: "bulk", weight: 2 })).status).toBe(201)
      expect((await call("GET", "/cpkh_taggings/count/bulk")).body).toMatchObject({ articleId: "count", tag: "bulk", weight: 2 })
      expect((await call("PATCH", "/cpkh_taggings/bulk/x", { weight: 3 })).status).toBe(404)
    })

    it("a tenant-scoped composite key: each tenant reaches its own record by the same key", async () => {
      const acme = { "x-tenant-id": "acme" }
      const globex = { "x-tenant-id": "globex" }
      expect((await call("POST", "/cpkh_memberships", { groupId: "g", userId: 1, role: "owner" }, acme)).status).toBe(201)
      expect((await call("POST", "/cpkh_memberships", { groupId: "g", userId: 1, role: "guest" }, globex)).status).toBe(201)
      expect((await call("GET", "/cpkh_memberships/g/1", undefined, acme)).body).toMatchObject({ role: "owner" })
      expect((await call("PATCH", "/cpkh_memberships/g/1", { role: "admin" }, globex)).body).toMatchObject({ role: "admin" })
      expect((await call("GET", "/cpkh_memberships/g/1", undefined, acme)).body).toMatchObject({ role: "owner" })
      expect((await call("GET", "/cpkh_memberships/g/1")).body).toMatchObject({ status: 400, error: "MissingTenant" })
      expect((await call("DELETE", "/cpkh_memberships/g/1", undefined, globex)).body).toEqual({ deleted: true })
      expect((await call("GET", "/cpkh_memberships/g/1", undefined, globex)).status).toBe(404)
      expect((await call("GET", "/cpkh_memberships/g/1", undefined, acme)).status).toBe(200)
    })

    it("boolean, date and float key fields from their path segments' text", async () => {
      const at = "2024-01-02T03:04:05.000Z"
      expect((await call("POST", "/cpkh_readings", { sensor: "s1", active: true, at, level: 1.5, value: 7 })).status).toBe(201)
      const path = `/cpkh_readings/s1/true/${encodeURIComponent(at)}/1.5`
      const read = await call("GET", path)
      expect(read.status, read.text).toBe(200)
      expect(read.body).toMatchObject({ sensor: "s1", active: true, at, level: 1.5, value: 7 })
      expect((await call("PATCH", path, { value: 8 })).body).toMatchObject({ value: 8 })
      expect((await call("GET", `/cpkh_readings/s1/false/${encodeURIComponent(at)}/1.5`)).status).toBe(404)
      expect((await call("GET", `/cpkh_readings/s1/yes/${encodeURIComponent(at)}/1.5`)).body).toMatchObject({ status: 400, field: "active" })
      expect((await call("GET", `/cpkh_readings/s1/true/yesterday/1.5`)).body).toMatchObject({ status: 400, field: "at" })
      expect((await call("GET", `/cpkh_readings/s1/true/${encodeURIComponent(at)}/1.5x`)).body).toMatchObject({ status: 400, field: "level" })
      expect((await call("DELETE", path)).body).toEqual({ deleted: true })
    })

    it("upsert and bulk nodes keyed by the whole key", async () => {
      const created = await call("POST", "/cpkh_follows/upsert", { where: { followerId: 3, followingId: 1 }, create: { note: null, score: 1 }, update: { score: 2 } })
      expect(created.status, created.text).toBe(200)
      expect(created.body).toMatchObject({ created: true, record: follow(3, 1, 1) })
      const updated = await call("POST", "/cpkh_follows/upsert", { where: { followerId: 3, followingId: 1 }, create: { note: null, score: 1 }, update: { score: 2 } })
      expect(updated.body).toMatchObject({ created: false, record: follow(3, 1, 2) })
      const rows = [follow(4, 1, 1), follow(4, 2, 2), follow(3, 1, 9)]
      const upserted = await call("PUT", "/cpkh_follows/bulk", { rows })
      expect(upserted.status, upserted.text).toBe(200)
      expect((await call("GET", "/cpkh_follows/3/1")).body).toMatchObject({ score: 9 })
      expect((await call("POST", "/cpkh_follows/bulk", { rows: [follow(5, 1), follow(5, 2)] })).body).toEqual({ inserted: 2 })
      expect((await call("PATCH", "/cpkh_follows/bulk", { where: { followerId: 5 }, patch: { score: 7 } })).body).toEqual({ updated: 2 })
      expect((await call("GET", "/cpkh_follows/5/2")).body).toMatchObject({ score: 7 })
      expect((await call("POST", "/cpkh_follows/bulk-delete", { where: { followerId: 5 } })).body).toEqual({ deleted: 2 })
      expect((await call("GET", "/cpkh_follows/count")).body).toEqual({ count: 5 })
    })

    it("list pages walked by cursor in key order", async () => {
      const keys: Array<string> = []
      let cursor: string | undefined = undefined
      for (let page = 0; page < 10; page++) {
        const q: string = cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`
        const listed: Reply = await call("GET", `/cpkh_follows?limit=2${q}`)
        expect(listed.status, listed.text).toBe(200)
        for (const r of listed.body.records as Array<{ followerId: number; followingId: number }>) keys.push(`${r.followerId}/${r.followingId}`)
        cursor = listed.body.nextCursor
        if (cursor === undefined) break
      }
      expect(keys).toEqual(["1/2", "2/1", "3/1", "4/1", "4/2"])
    })

    it("the OpenAPI document: a path parameter per key field with its schema; every reference resolves", async () => {
      const doc = (await call("GET", "/openapi.json")).body
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
        "/cpkh_follows/{followerId}/{followingId}",
        "/cpkh_follows/{followerId}/{followingId}/restore",
        "/cpkh_taggings/{articleId}/{tag}"
      ]))
      const get = doc.paths["/cpkh_follows/{followerId}/{followingId}"].get
      const params = (get.parameters as Array<{ name: string; in: string; required: boolean; schema: unknown }>).filter((p) => p.in === "path")
      expect(params.map((p) => [p.name, p.required, p.schema])).toEqual([
        ["followerId", true, { type: "integer" }],
        ["followingId", true, { type: "integer" }]
      ])
      expect(get.responses).toHaveProperty("404")
      expect(doc.components.schemas.FollowPatch.properties).not.toHaveProperty("followerId")
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!)
      for (const ref of refs) expect(doc.components.schemas).toHaveProperty([ref])
      for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string; responses: Record<string, { description: string }> }>>)) {
        for (const [method, op] of Object.entries(item)) {
          expect(op.operationId, `${method} ${path}`).toMatch(/^\w+\.\w+$/)
          for (const response of Object.values(op.responses)) expect(typeof response.description).toBe("string")
        }
      }
    })

    it("MCP: read / update / delete tools take the key's fields, required", async () => {
      const client = new Client({ name: "test", version: "1.0.0" })
      await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)))
      try {
        const tools = (await client.listTools()).tools
        const read = tools.find((t) => t.name === "Follow_read")!
        expect(read.inputSchema.properties).toMatchObject({ followerId: { type: "integer" }, followingId: { type: "integer" } })
        expect(read.inputSchema.properties).not.toHaveProperty("id")
        expect(read.inputSchema.required).toEqual(["followerId", "followingId"])
        expect(tools.find((t) => t.name === "Follow_update")!.inputSchema.required).toEqual(["followerId", "followingId", "patch"])
        expect(tools.find((t) => t.name === "Follow_delete")!.inputSchema.required).toEqual(["followerId", "followingId"])
        const found = await client.callTool({ name: "Follow_read", arguments: { followerId: 1, followingId: 2 } })
        expect(found.isError, JSON.stringify(found.content)).toBe(false)
        expect(found.structuredContent).toMatchObject({ followerId: 1, followingId: 2, note: "close", score: 6 })
        const updated = await client.callTool({ name: "Follow_update", arguments: { followerId: 1, followingId: 2, patch: { score: 8 } } })
        expect(updated.structuredContent).toMatchObject({ score: 8 })
        const partial = await client.callTool({ name: "Follow_read", arguments: { followerId: 1 } })
        expect(partial.isError).toBe(true)
        expect(partial.structuredContent).toMatchObject({ status: 400, error: "ValidationError", field: "followingId" })
        const unknown = await client.callTool({ name: "Follow_read", arguments: { followerId: 1, followingId: 2, id: 1 } })
        expect(unknown.structuredContent).toMatchObject({ status: 400, field: "id" })
        const missing = await client.callTool({ name: "Follow_read", arguments: { followerId: 7, followingId: 7 } })
        expect(missing.structuredContent).toMatchObject({ status: 404, error: "NotFound" })
        expect((await client.callTool({ name: "Follow_delete", arguments: { followerId: 4, followingId: 2 } })).structuredContent).toEqual({ deleted: true })
        const restored = await client.callTool({ name: "Follow_restore", arguments: { followerId: 4, followingId: 2 } })
        expect(restored.isError, JSON.stringify(restored.content)).toBe(false)
        expect((await client.callTool({ name: "Follow_read", arguments: { followerId: 4, followingId: 2 } })).isError).toBe(false)
        // a tenant-scoped model acts for the server's tenant
        const member = await client.callTool({ name: "Membership_read", arguments: { groupId: "g", userId: 1 } })
        expect(member.structuredContent).toMatchObject({ groupId: "g", userId: 1, role: "owner" })
      } finally {
        await client.close()
      }
    })
  })
}

describe("composite keys: serving rules at construction", () => {
  it("a key field cannot be hidden; a key field named as a node argument cannot be served", () => {
    expect(() => DataFlowHttp.api([Follow], { hidden: { Follow: ["followingId"] } })).toThrow(/primary key cannot be hidden \("followingId"/)
    expect(() => DataFlowMcp.tools([Follow], { hidden: { Follow: ["followerId"] } })).toThrow(/primary key cannot be hidden/)
    const Clash = Model.make("Clash", Schema.Struct({ patch: Schema.Int, b: Schema.Int }), { table: "cpkh_clash", primaryKey: ["patch", "b"] })
    expect(() => DataFlowHttp.api([Clash])).toThrow(/key field "patch" is also the name of a node argument/)
  })
})
