/**
 * `POST /workflows/execute` over real HTTP on SQLite and PostgreSQL: a workflow of exposed nodes
 * runs (results as JSON, hidden fields left out), nodes that are not exposed are refused before
 * anything runs, a failing node names itself with its error's status, a transaction workflow
 * leaves nothing behind, a tenant-scoped workflow acts for the header's tenant only.
 */
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { createServer } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DataFlowHttp from "../src/http/DataFlowHttp.js"
import { DataFlow, Model } from "../src/index.js"
import { privateUrl } from "./support/db.js"

const Account = Model.make("Account", Schema.Struct({
  id: Schema.Int,
  owner: Schema.String,
  balance: Schema.BigDecimal,
  pin: Schema.String
}), { unique: ["owner"], table: "wf_http_accounts" })
const Memo = Model.make("Memo", Schema.Struct({ id: Schema.Int, text: Schema.String }), { tenantScoped: true, table: "wf_http_memos" })
const Audit = Model.make("Audit", Schema.Struct({ id: Schema.Int, text: Schema.String }), { table: "wf_http_audits" })

const api = DataFlowHttp.api([Account, Memo, Audit], {
  expose: { Account: "all", Memo: "all", Audit: "read" },
  hidden: { Account: ["pin"] },
  workflows: true
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const databases: ReadonlyArray<readonly [string, () => Promise<Layer.Layer<import("@effect/sql").SqlClient.SqlClient, unknown>>]> = [
  ["sqlite", async () => DataFlow.layer({ url: "sqlite::memory:" })],
  ["pg", async () => DataFlow.layer({ url: await Effect.runPromise(privateUrl("pg", "wfhttp")) })]
]

for (const [name, database] of databases) {
  describe(`workflows over HTTP [${name}]`, () => {
    let base = ""
    let runtime: ManagedRuntime.ManagedRuntime<never, unknown> | undefined
    beforeAll(async () => {
      const port = await freePort()
      runtime = ManagedRuntime.make(DataFlowHttp.serve(api, { port }).pipe(Layer.provide(await database())))
      await runtime.runPromise(Effect.void)
      base = `http://127.0.0.1:${port}`
    }, 60_000)
    afterAll(() => runtime?.dispose())

    const post = async (body: unknown, headers: Record<string, string> = {}) => {
      const r = await fetch(`${base}/workflows/execute`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body)
      })
      return { status: r.status, body: (await r.json()) as any } // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON read back
    }

    it("runs a workflow of exposed nodes: connections, JSON results, hidden fields out", async () => {
      const r = await post({
        workflow: {
          nodes: [
            { id: "open", type: "AccountCreateNode", params: { owner: "ada", balance: "10.50", pin: "1234" } },
            { id: "credit", type: "Account_Update", params: { fields: { balance: "12.25" } } },
            { id: "all", type: "AccountListNode", params: {} }
          ],
          // "all" after "credit" (nodes of one level run concurrently: without it the list races the create)
          connections: [{ from: "open", output: "id", to: "credit", input: "id" }, { from: "credit", output: "id", to: "all", input: "filter.id" }]
        }
      })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      expect(r.body.results.open.result).toMatchObject({ owner: "ada", balance: "10.5" })
      expect(r.body.results.open.result.pin).toBeUndefined()
      expect(r.body.results.credit.result).toMatchObject({ owner: "ada", balance: "12.25", updated: true })
      expect(r.body.results.all.result.records.map((a: { owner: string }) => a.owner)).toEqual(["ada"])
      expect(JSON.stringify(r.body)).not.toContain("1234")
    })

    it("a node that is not exposed, or no such type: 400 naming the node, nothing run", async () => {
      const r = await post({
        workflow: {
          nodes: [
            { id: "first", type: "AccountCreateNode", params: { owner: "bob", balance: "1", pin: "0" } },
            { id: "sneaky", type: "AuditCreateNode", params: { text: "x" } }
          ]
        }
      })
      expect(r.status).toBe(400)
      expect(r.body).toMatchObject({ error: "WorkflowError", node: "sneaky" })
      const after = await post({ workflow: { nodes: [{ id: "n", type: "AccountCountNode", params: { filter: { owner: "bob" } } }] } })
      expect(after.body.results.n.result.count).toBe(0)
      expect((await post({ workflow: { nodes: [] }, extra: 1 })).status).toBe(400)
      expect((await post({ nope: 1 })).status).toBe(400)
    })

    it("a hidden field cannot be probed: filters, orders and connections naming it are refused", async () => {
      const probe = (node: Record<string, unknown>, connections: ReadonlyArray<unknown> = []) =>
        post({ workflow: { nodes: [{ id: "open", type: "AccountCreateNode", params: { owner: "probe", balance: "1", pin: "4321" } }, node], connections } })
      for (
        const node of [
          { id: "p", type: "AccountCountNode", params: { filter: { pin: "4321" } } },
          { id: "p", type: "AccountListNode", params: { filter: { $or: [{ owner: "x" }, { $not: { pin: "4321" } }] } } },
          { id: "p", type: "AccountListNode", params: { order_by: ["pin"] } },
          { id: "p", type: "Account_BulkDelete", params: { filter: { pin: { $startsWith: "4" } } } }
        ]
      ) {
        const r = await probe(node)
        expect(r.status, JSON.stringify(node)).toBe(400)
        expect(r.body).toMatchObject({ error: "WorkflowError", node: "p" })
        expect(JSON.stringify(r.body)).not.toContain("4321")
      }
      // a connection filling in the hidden field's condition
      const connected = await probe({ id: "p", type: "AccountCountNode", params: { filter: {} } }, [{ from: "open", output: "owner", to: "p", input: "filter.pin" }])
      expect(connected.body).toMatchObject({ status: 400, error: "WorkflowError", node: "p" })
    })

    it("a failing node: its error's status, naming the node; with transaction nothing stays", async () => {
      const plain = await post({
        workflow: {
          nodes: [
            { id: "a", type: "AccountCreateNode", params: { owner: "carl", balance: "1", pin: "0" } },
            { id: "b", type: "AccountCreateNode", params: { owner: "carl", balance: "2", pin: "0" } }
          ]
        },
        transaction: true
      })
      expect(plain.status).toBe(409)
      expect(plain.body).toMatchObject({ error: "UniqueViolation" })
      expect(["a", "b"]).toContain(plain.body.node)
      const count = await post({ workflow: { nodes: [{ id: "n", type: "AccountCountNode", params: { filter: { owner: "carl" } } }] } })
      expect(count.body.results.n.result.count).toBe(0)
    })

    it("tenant-scoped nodes act for the header's tenant; without one: 400", async () => {
      const create = (tenant: string, text: string) =>
        post({ workflow: { nodes: [{ id: "m", type: "MemoCreateNode", params: { text } }] } }, { "x-tenant-id": tenant })
      expect((await create("acme", "one")).status).toBe(200)
      expect((await create("globex", "two")).status).toBe(200)
      const listed = await post({ workflow: { nodes: [{ id: "l", type: "MemoListNode", params: {} }] } }, { "x-tenant-id": "acme" })
      expect(listed.body.results.l.result.records.map((m: { text: string }) => m.text)).toEqual(["one"])
      const missing = await post({ workflow: { nodes: [{ id: "l", type: "MemoListNode", params: {} }] } })
      expect(missing.status).toBe(400)
      expect(missing.body.error).toBe("MissingTenant")
    })
  })
}
