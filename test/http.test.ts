/**
 * The HTTP API over real HTTP on a loopback port, called with `fetch`: every route, success and
 * each error status, on SQLite, PostgreSQL and MariaDB; a tenant trying to reach another's
 * rows; authentication and authorisation; 200 concurrent requests on PostgreSQL; graceful
 * shutdown with a request in flight.
 */
import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Context, Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import { createServer } from "node:net"
import PgRaw from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DataFlowHttp from "../src/http/DataFlowHttp.js"
import { fromError } from "../src/internal/serving/problem.js"
import { DataFlow, Errors, Model, Tenant } from "../src/index.js"
import { mysql, pg, privateUrl, sqlite } from "./support/db.js"
import type { TestDb } from "./support/db.js"

const Item = Model.make("Item", Schema.Struct({
  id: Schema.Int,
  name: Schema.String.pipe(Schema.maxLength(40)),
  price: Schema.Number,
  secret: Schema.String,
  madeAt: Schema.optional(Schema.Date)
}), { unique: ["name"], versioned: true, softDelete: true, table: "http_items" })

const Note = Model.make("Note", Schema.Struct({ id: Schema.Int, title: Schema.String }), { tenantScoped: true, table: "http_notes" })

const api = DataFlowHttp.api([Item, Note], {
  expose: { Item: "all", Note: "all" },
  hidden: { Item: ["secret"] },
  maxLimit: 50,
  maxBodySize: 64 * 1024
})

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

interface Reply {
  readonly status: number
  readonly body: any // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON read back in assertions
  readonly text: string
  readonly type: string | null
}

const client = (base: string) => async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
  const r = await fetch(base + path, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
  })
  const text = await r.text()
  let parsed: unknown = undefined
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: r.status, body: parsed, text, type: r.headers.get("content-type") }
}

/** A server of `api` on a free port for the tests of one describe block. */
const serving = (database: () => Layer.Layer<never, unknown, never> | Layer.Layer<import("@effect/sql").SqlClient.SqlClient, unknown>, extra: Layer.Layer<never> = Layer.empty) => {
  const state: { call: ReturnType<typeof client>; runtime?: ManagedRuntime.ManagedRuntime<never, unknown> } = {
    call: client("")
  }
  beforeAll(async () => {
    const port = await freePort()
    const layer = DataFlowHttp.serve(api, { port }).pipe(Layer.provide(extra), Layer.provide(database() as Layer.Layer<import("@effect/sql").SqlClient.SqlClient, unknown>))
    state.runtime = ManagedRuntime.make(layer)
    await state.runtime.runPromise(Effect.void)
    state.call = client(`http://127.0.0.1:${port}`)
  }, 60_000)
  afterAll(async () => {
    await state.runtime?.dispose()
  })
  return state
}

const routes = (db: TestDb) =>
  describe(`http [${db.label}]`, () => {
    const server = serving(() => db.layer("http"))
    const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => server.call(method, path, body, headers)

    it("create: 201 with the record (hidden fields left out); duplicate 409; invalid 400; malformed 400; too large 413", async () => {
      const created = await call("POST", "/http_items", { name: "chair", price: 10, secret: "s3cret", madeAt: "2024-01-02T03:04:05.000Z" })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({ id: 1, name: "chair", price: 10, madeAt: "2024-01-02T03:04:05.000Z", version: 1, deletedAt: null })
      expect(created.body).not.toHaveProperty("secret")
      const dup = await call("POST", "/http_items", { name: "chair", price: 1, secret: "s3cret" })
      expect(dup.status).toBe(409)
      expect(dup.type).toContain("application/problem+json")
      expect(dup.body).toMatchObject({ status: 409, error: "UniqueViolation", model: "Item", operation: "create", columns: ["name"] })
      expect(dup.text).not.toContain("chair")
      expect(dup.text).not.toContain("s3cret")
      const invalid = await call("POST", "/http_items", { name: "x".repeat(41), price: 1, secret: "" })
      expect(invalid.body).toMatchObject({ status: 400, error: "ValidationError", field: "name" })
      expect(invalid.text).not.toContain("xxxx")
      expect((await call("POST", "/http_items", { name: "t", price: 1, secret: "", id: "x", createdAt: "2020-01-01" })).status).toBe(400)
      expect((await call("POST", "/http_items", "{not json")).body).toMatchObject({ status: 400, error: "MalformedRequest", detail: "malformed request body: not valid JSON" })
      expect((await call("POST", "/http_items", { name: "a" }, { "content-type": "text/plain" })).body).toMatchObject({ status: 400, error: "MalformedRequest" })
      const large = await call("POST", "/http_items", { name: "big", price: 1, secret: "y".repeat(70_000) })
      expect(large.body).toMatchObject({ status: 413, error: "PayloadTooLarge" })
    })

    it("read: 200, missing 404, a bad id 400; update: 200, stale version 409, missing 404", async () => {
      await call("POST", "/http_items", { name: "table", price: 20, secret: "" })
      const table = (await call("GET", "/http_items?where=" + encodeURIComponent(JSON.stringify({ name: "table" })))).body.records[0]
      expect((await call("GET", `/http_items/${table.id}`)).body).toMatchObject({ name: "table", price: 20 })
      const missing = await call("GET", "/http_items/9999")
      expect(missing.body).toMatchObject({ status: 404, error: "NotFound", model: "Item" })
      expect(missing.text).not.toContain("9999")
      expect((await call("GET", "/http_items/abc")).body).toMatchObject({ status: 400, error: "ValidationError", field: "id" })
      const updated = await call("PATCH", `/http_items/${table.id}`, { price: 25 })
      expect(updated.body).toMatchObject({ price: 25, version: 2 })
      expect((await call("PATCH", `/http_items/${table.id}?expectedVersion=1`, { price: 26 })).body).toMatchObject({ status: 409, error: "OptimisticLockError" })
      expect((await call("PATCH", `/http_items/${table.id}?expectedVersion=2`, { price: 26 })).body).toMatchObject({ version: 3 })
      expect((await call("PATCH", "/http_items/9999", { price: 1 })).body).toMatchObject({ status: 404, error: "NotFound" })
      expect((await call("PATCH", `/http_items/${table.id}`, { secret: 5 })).body).toMatchObject({ status: 400, field: "secret" })
    })

    it("list (query string) and search (body): where, orderBy, limit, cursor, select, total; errors 400", async () => {
      await call("POST", "/http_items/bulk", { rows: [1, 2, 3, 4, 5].map((i) => ({ name: `lamp ${i}`, price: i, secret: "" })) })
      const where = encodeURIComponent(JSON.stringify({ name: { $startsWith: "lamp" } }))
      const page = await call("GET", `/http_items?where=${where}&orderBy=-price&limit=2&select=name,price&total=true`)
      expect(page.body.records).toEqual([{ name: "lamp 5", price: 5 }, { name: "lamp 4", price: 4 }])
      expect(page.body.total).toBe(5)
      const next = await call("GET", `/http_items?where=${where}&orderBy=-price&limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`)
      expect(next.body.records.map((r: { name: string }) => r.name)).toEqual(["lamp 3", "lamp 2"])
      const search = await call("POST", "/http_items/search", { where: { price: { $gte: 4 }, name: { $startsWith: "lamp" } }, orderBy: ["price"] })
      expect(search.body.records.map((r: { price: number }) => r.price)).toEqual([4, 5])
      expect((await call("GET", "/http_items?where={bad")).body).toMatchObject({ status: 400, error: "InvalidFilter" })
      expect((await call("GET", `/http_items?where=${encodeURIComponent('{"secret":"x"}')}`)).body).toMatchObject({ status: 400, error: "InvalidFilter", field: "secret" })
      expect((await call("GET", `/http_items?where=${encodeURIComponent('{"price":{"$gt":"cheap"}}')}`)).body).toMatchObject({ status: 400, error: "InvalidFilter" })
      expect((await call("GET", "/http_items?orderBy=secret")).body).toMatchObject({ status: 400, field: "orderBy" })
      expect((await call("GET", "/http_items?limit=51")).body).toMatchObject({ status: 400, error: "ValidationError", field: "limit" })
      expect((await call("GET", "/http_items?cursor=garbage&limit=2")).body).toMatchObject({ status: 400, error: "InvalidCursor" })
      expect((await call("GET", "/http_items?colour=red")).body).toMatchObject({ status: 400, error: "MalformedRequest" })
      expect((await call("GET", "/http_items?limit=1&limit=2")).body).toMatchObject({ status: 400, error: "MalformedRequest" })
    })

    it("count, upsert, bulk update / upsert / delete with confirm", async () => {
      expect((await call("GET", `/http_items/count?where=${encodeURIComponent('{"name":{"$startsWith":"lamp"}}')}`)).body).toEqual({ count: 5 })
      const first = await call("POST", "/http_items/upsert", { where: { name: "sofa" }, create: { price: 100, secret: "" }, update: { price: 90 } })
      expect(first.body).toMatchObject({ created: true, record: { name: "sofa", price: 100 } })
      const second = await call("POST", "/http_items/upsert", { where: { name: "sofa" }, create: { price: 100, secret: "" }, update: { price: 90 } })
      expect(second.body).toMatchObject({ created: false, record: { price: 90 } })
      expect((await call("POST", "/http_items/upsert", { where: { price: 1 }, create: { name: "z", secret: "" } })).body).toMatchObject({ status: 409, error: "ConflictTargetError" })
      const badRow = await call("POST", "/http_items/bulk", { rows: [{ name: "ok", price: 1, secret: "" }, { name: "bad", price: "1", secret: "" }] })
      expect(badRow.body).toMatchObject({ status: 400, error: "ValidationError", rowIndex: 1 })
      expect((await call("GET", `/http_items/count?where=${encodeURIComponent('{"name":"ok"}')}`)).body).toEqual({ count: 0 })
      expect((await call("PATCH", "/http_items/bulk", { where: {}, patch: { price: 0 } })).body).toMatchObject({ status: 400, error: "UnsafeOperation" })
      expect((await call("PATCH", "/http_items/bulk", { where: { name: { $startsWith: "lamp" } }, patch: { price: 7 } })).body).toEqual({ updated: 5 })
      expect((await call("PUT", "/http_items/bulk", { rows: [{ name: "lamp 1", price: 1, secret: "" }, { name: "rug", price: 3, secret: "" }], conflictOn: ["name"] })).body)
        .toEqual({ inserted: 1, updated: 1 })
      expect((await call("POST", "/http_items/bulk-delete", { where: {} })).body).toMatchObject({ status: 400, error: "UnsafeOperation" })
      expect((await call("POST", "/http_items/bulk-delete", { where: { name: { $startsWith: "lamp" } } })).body).toEqual({ deleted: 5 })
    })

    it("delete: 200, then 404; restore brings it back", async () => {
      const rug = (await call("GET", `/http_items?where=${encodeURIComponent('{"name":"rug"}')}`)).body.records[0]
      expect((await call("DELETE", `/http_items/${rug.id}`)).body).toEqual({ deleted: true })
      expect((await call("DELETE", `/http_items/${rug.id}`)).body).toMatchObject({ status: 404, error: "NotFound" })
      expect((await call("GET", `/http_items/${rug.id}?includeDeleted=true`)).body).toMatchObject({ name: "rug" })
      expect((await call("POST", `/http_items/${rug.id}/restore`)).body).toEqual({ restored: true })
      expect((await call("GET", `/http_items/${rug.id}`)).status).toBe(200)
    })

    it("tenancy: the tenant from the header only; one tenant never reaches another's rows", async () => {
      expect((await call("POST", "/http_notes", { title: "a" })).body).toMatchObject({ status: 400, error: "MissingTenant" })
      expect((await call("POST", "/http_notes", { title: "a" }, { "x-tenant-id": "Not Valid!" })).body).toMatchObject({ status: 400, error: "InvalidTenantId" })
      const acme = { "x-tenant-id": "acme" }
      const evil = { "x-tenant-id": "evil" }
      const note = (await call("POST", "/http_notes", { title: "acme's plan" }, acme)).body
      expect(note).toMatchObject({ title: "acme's plan", tenantId: "acme" })
      // the body never names the tenant
      expect((await call("POST", "/http_notes", { title: "x", tenantId: "acme" }, evil)).body).toMatchObject({ status: 400, field: "tenantId" })
      expect((await call("GET", `/http_notes/${note.id}`, undefined, evil)).body).toMatchObject({ status: 404 })
      expect((await call("GET", "/http_notes", undefined, evil)).body.records).toEqual([])
      expect((await call("GET", `/http_notes?where=${encodeURIComponent('{"tenantId":"acme"}')}`, undefined, evil)).body.records ?? []).toEqual([])
      expect((await call("GET", "/http_notes/count", undefined, evil)).body).toEqual({ count: 0 })
      expect((await call("PATCH", `/http_notes/${note.id}`, { title: "pwned" }, evil)).body).toMatchObject({ status: 404 })
      expect((await call("DELETE", `/http_notes/${note.id}`, undefined, evil)).body).toMatchObject({ status: 404 })
      expect((await call("POST", "/http_notes/bulk-delete", { where: {}, confirm: true }, evil)).body).toEqual({ deleted: 0 })
      expect((await call("PATCH", "/http_notes/bulk", { where: {}, patch: { title: "pwned" }, confirm: true }, evil)).body).toEqual({ updated: 0 })
      expect((await call("GET", `/http_notes/${note.id}`, undefined, acme)).body).toMatchObject({ title: "acme's plan" })
    })

    it("unknown routes 404, /health, /metrics, /openapi.json (OpenAPI 3.1, schemas valid), /docs", async () => {
      const unknown = await call("GET", "/nowhere")
      expect(unknown.body).toMatchObject({ status: 404, error: "RouteNotFound" })
      expect((await call("PUT", "/http_items/1")).status).toBe(404)
      expect((await call("GET", "/health")).body).toEqual({ status: "ok" })
      const metrics = await call("GET", "/metrics")
      expect(metrics.type).toContain("text/plain")
      expect(metrics.text).toMatch(/dataflow_node_duration_seconds_count\{model="Item",node="create"\} \d+/)
      expect(metrics.text).toMatch(/dataflow_node_errors_total\{error="UniqueViolation",model="Item",node="create"\} \d+|dataflow_node_errors_total\{model="Item",node="create",error="UniqueViolation"\} \d+/)
      expect(metrics.text).toMatch(/dataflow_rows_written_total\{model="Item",node="bulkCreate"\} \d+/)
      expect(metrics.text).not.toContain("s3cret")
      const doc = (await call("GET", "/openapi.json")).body
      expect(doc.openapi).toBe("3.1.0")
      expect(Object.keys(doc.paths).sort()).toEqual([
        "/http_items", "/http_items/aggregate", "/http_items/bulk", "/http_items/bulk-delete", "/http_items/count", "/http_items/search", "/http_items/upsert",
        "/http_items/{id}", "/http_items/{id}/restore",
        "/http_notes", "/http_notes/aggregate", "/http_notes/bulk", "/http_notes/bulk-delete", "/http_notes/count", "/http_notes/search", "/http_notes/upsert",
        "/http_notes/{id}"
      ])
      expect(doc.paths["/http_items/{id}"].patch.responses).toHaveProperty("409")
      expect(doc.components.schemas.Item.properties).not.toHaveProperty("secret")
      expect(doc.components.schemas.ItemFilter.properties.$and.items).toEqual({ $ref: "#/components/schemas/ItemFilter" })
      // every reference resolves; every operation has an id, responses with a description
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!)
      for (const ref of refs) expect(doc.components.schemas).toHaveProperty([ref])
      for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string; responses: Record<string, { description: string }> }>>)) {
        for (const [method, op] of Object.entries(item)) {
          expect(op.operationId, `${method} ${path}`).toMatch(/^\w+\.\w+$/)
          for (const response of Object.values(op.responses)) expect(typeof response.description).toBe("string")
        }
      }
      const docs = await call("GET", "/docs")
      expect(docs.type).toContain("text/html")
      expect(docs.text).toContain("swagger-ui")
    })
  })

routes(sqlite)
if (pg.available) routes(pg)
if (mysql.available) routes(mysql)

describe("http: error statuses of the library's errors", () => {
  it("DatabaseError 500 (retryable 503), TransactionTimeout 503, TransactionOutcomeUnknown 500, InvalidTenantId 400, ConfigurationError 500", () => {
    const db = (retryable: boolean) => new Errors.DatabaseError({ model: "Item", operation: "create", retryable, cause: new Error("secret text"), code: "40001" })
    expect(fromError(db(false))).toMatchObject({ status: 500, error: "DatabaseError", retryable: false })
    expect(fromError(db(true))).toMatchObject({ status: 503, error: "DatabaseError", retryable: true })
    expect(JSON.stringify(fromError(db(true)))).not.toContain("secret text")
    expect(fromError(new Errors.TransactionTimeout({ timeout: 5 }))).toMatchObject({ status: 503, retryable: true })
    expect(fromError(new Errors.TransactionOutcomeUnknown({ model: "Item", operation: "create", cause: null }))).toMatchObject({ status: 500 })
    expect(fromError(new Errors.InvalidTenantId({ reason: "r" }))).toMatchObject({ status: 400 })
    expect(fromError(new Errors.ConfigurationError({ model: "Item", operation: "read", reason: "r" }))).toMatchObject({ status: 500 })
    expect(fromError(new Error("boom"))).toMatchObject({ status: 500, error: "InternalError", detail: "internal error" })
  })

  describe("a real ConfigurationError: the schema strategy on SQLite", () => {
    const server = serving(() => DataFlow.layer({ url: "sqlite::memory:" }), Tenant.strategy("schema"))
    it("500 with no detail of the setup", async () => {
      expect((await server.call("GET", "/http_notes", undefined, { "x-tenant-id": "acme" })).body).toMatchObject({ status: 500, error: "ConfigurationError" })
    })
  })
})

// --- authentication (a bearer token middleware) and authorisation (per model and node) -------

class CurrentUser extends Context.Tag("test/CurrentUser")<CurrentUser, { readonly name: string; readonly admin: boolean }>() {}

class Authentication extends HttpApiMiddleware.Tag<Authentication>()("test/Authentication", {
  provides: CurrentUser,
  failure: DataFlowHttp.UnauthorizedProblem,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const tokens: Record<string, { name: string; admin: boolean }> = { "admin-token": { name: "ada", admin: true }, "user-token": { name: "bob", admin: false } }

const AuthenticationLive = Layer.succeed(Authentication, {
  bearer: (token) => {
    const user = tokens[Redacted.value(token)]
    return user === undefined
      ? Effect.fail(DataFlowHttp.unauthorized("unknown token"))
      : Effect.succeed(user)
  }
})

describe("http: bearer authentication and an authorize hook", () => {
  const securedApi = DataFlowHttp.api([Item], { expose: { Item: "all" }, workflows: true }).middleware(Authentication)
  const state: { call: ReturnType<typeof client>; runtime?: ManagedRuntime.ManagedRuntime<never, unknown> } = { call: client("") }
  beforeAll(async () => {
    const port = await freePort()
    const layer = DataFlowHttp.serve(securedApi, {
      port,
      authorize: ({ model, node }) =>
        Effect.flatMap(CurrentUser, (user) =>
          user.admin || ["read", "list", "count"].includes(node)
            ? Effect.void
            : Effect.fail(new DataFlowHttp.Forbidden({ model, operation: node, reason: "only admins write" })))
    }).pipe(Layer.provide(AuthenticationLive), Layer.provide(DataFlow.layer({ url: "sqlite::memory:" })))
    state.runtime = ManagedRuntime.make(layer)
    await state.runtime.runPromise(Effect.void)
    state.call = client(`http://127.0.0.1:${port}`)
  }, 60_000)
  afterAll(() => state.runtime?.dispose())

  it("no token 401, a reader may read but not write (403), an admin may write", async () => {
    const { call } = state
    const anonymous = await call("GET", "/http_items")
    expect(anonymous.status).toBe(401)
    expect(anonymous.body).toMatchObject({ error: "Unauthorized" })
    const reader = { authorization: "Bearer user-token" }
    const admin = { authorization: "Bearer admin-token" }
    expect((await call("GET", "/http_items", undefined, reader)).status).toBe(200)
    expect((await call("POST", "/http_items", { name: "n", price: 1, secret: "" }, reader)).body).toMatchObject({ status: 403, error: "Forbidden", model: "Item", operation: "create" })
    expect((await call("POST", "/http_items", { name: "n", price: 1, secret: "" }, admin)).status).toBe(201)
    const doc = (await call("GET", "/openapi.json")).body
    expect(doc.components.securitySchemes).toHaveProperty("bearer")
    // the workflow route is one of the api's: the authentication middleware and the hook apply
    const workflow = { workflow: { nodes: [{ id: "c", type: "Item_Create", params: { name: "w", price: 1, secret: "" } }] } }
    expect((await call("POST", "/workflows/execute", workflow)).status).toBe(401)
    expect((await call("POST", "/workflows/execute", workflow, reader)).body).toMatchObject({ status: 403, error: "Forbidden" })
    expect((await call("POST", "/workflows/execute", workflow, admin)).status).toBe(200)
  })
})

// --- PostgreSQL: 200 concurrent requests; graceful shutdown ----------------------------------

if (pg.available) {
  describe("http [pg]: load and shutdown", () => {
    it("200 concurrent requests mixing reads and writes: every response right, no row lost", async () => {
      const url = await Effect.runPromise(privateUrl("pg", "http_load"))
      const port = await freePort()
      const runtime = ManagedRuntime.make(DataFlowHttp.serve(api, { port }).pipe(Layer.provide(DataFlow.layer({ url, pool: { max: 10 } }))))
      await runtime.runPromise(Effect.void)
      const call = client(`http://127.0.0.1:${port}`)
      try {
        const requests = Array.from({ length: 200 }, (_, i) =>
          i % 4 === 0
            ? call("GET", "/http_items/count").then((r) => expect(r.status).toBe(200))
            : i % 4 === 1
            ? call("GET", "/http_items?limit=10").then((r) => expect(r.status).toBe(200))
            : call("POST", "/http_items", { name: `load ${i}`, price: i, secret: "" }).then((r) => {
              expect(r.status).toBe(201)
              expect(r.body.name).toBe(`load ${i}`)
            }))
        await Promise.all(requests)
        expect((await call("GET", "/http_items/count")).body).toEqual({ count: 100 })
      } finally {
        await runtime.dispose()
      }
    }, 60_000)

    it("graceful shutdown: a request in flight finishes, then the pool closes", async () => {
      const url = await Effect.runPromise(privateUrl("pg", "http_shutdown"))
      const port = await freePort()
      // a name of its own: other test files use the default one on the same database meanwhile
      const applicationName = `df-shutdown-${port}`
      const runtime = ManagedRuntime.make(DataFlowHttp.serve(api, { port }).pipe(Layer.provide(DataFlow.layer({ url, applicationName }))))
      await runtime.runPromise(Effect.void)
      const call = client(`http://127.0.0.1:${port}`)
      const created = (await call("POST", "/http_items", { name: "locked", price: 1, secret: "" })).body
      const locker = new PgRaw.Client({ connectionString: url })
      await locker.connect()
      await locker.query("BEGIN")
      await locker.query("SELECT * FROM http_items WHERE id = $1 FOR UPDATE", [created.id])
      const inFlight = call("PATCH", `/http_items/${created.id}`, { price: 2 })
      await new Promise((r) => setTimeout(r, 300))
      let disposed = false
      const shutdown = runtime.dispose().then(() => (disposed = true))
      await new Promise((r) => setTimeout(r, 300))
      expect(disposed).toBe(false)
      // new connections are refused while the request in flight goes on
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow()
      await locker.query("COMMIT")
      const reply = await inFlight
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({ price: 2 })
      await shutdown
      expect(disposed).toBe(true)
      const left = await locker.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName])
      await locker.end()
      expect(left.rows[0].n).toBe(0)
    }, 60_000)
  })
}
