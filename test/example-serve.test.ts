/** examples/serve.ts runs: the quick-start models over HTTP and MCP on SQLite. */
import { Effect, ManagedRuntime } from "effect"
import { createServer } from "node:net"
import { expect, it } from "vitest"

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

it("examples/serve.ts: create and list users over HTTP, tools listed over MCP", async () => {
  const port = await freePort()
  process.env.PORT = String(port)
  process.env.DATABASE_URL = "sqlite::memory:"
  const { Server } = await import("../examples/serve.js")
  const runtime = ManagedRuntime.make(Server)
  await runtime.runPromise(Effect.void)
  try {
    const base = `http://127.0.0.1:${port}`
    const created = await fetch(`${base}/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "ada@example.com", name: "Ada", age: 36, role: "admin", tags: ["math"] })
    })
    expect(created.status).toBe(201)
    const list = (await (await fetch(`${base}/users?where=${encodeURIComponent('{"role":"admin"}')}&orderBy=-age&limit=10`)).json()) as { records: Array<{ name: string }> }
    expect(list.records.map((u) => u.name)).toEqual(["Ada"])
    expect((await fetch(`${base}/posts`, { method: "POST", body: "{}" })).status).toBe(404)
    expect((await fetch(`${base}/posts?include=${encodeURIComponent('{"author":true}')}`)).status).toBe(200)
    const groups = await fetch(`${base}/users/aggregate`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"groupBy":["role"],"count":true}' })
    expect(await groups.json()).toEqual([{ role: "admin", _count: 1 }])
    const mcp = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} })
    })
    expect(await mcp.text()).toContain("User_create")
  } finally {
    await runtime.dispose()
    delete process.env.PORT
    delete process.env.DATABASE_URL
  }
}, 60_000)
