/**
 * The MCP server through a real MCP client (`@modelcontextprotocol/sdk`), over stdio and over
 * HTTP, both started by the `serve` command: the handshake, the tools listed with input
 * schemas derived from the model, create / list / count, and an error as a tool error.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { spawn } from "node:child_process"
import { createServer } from "node:net"
import { describe, expect, it } from "vitest"

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const cliArgs = (port: number, mcp: "stdio" | "http") => [
  "tsx",
  "test/support/cli.ts",
  "serve",
  "--models",
  "test/support/serve-models.ts",
  "--url",
  "sqlite::memory:",
  "--port",
  String(port),
  "--mcp",
  mcp,
  "--expose",
  "all",
  "--workflows"
]

const exercise = async (client: Client) => {
  const tools = await client.listTools()
  const names = tools.tools.map((t) => t.name).sort()
  expect(names).toContain("Task_create")
  expect(names).toContain("Task_list")
  expect(names).toContain("Task_count")
  const create = tools.tools.find((t) => t.name === "Task_create")!
  expect(create.inputSchema.properties).toHaveProperty("title")
  expect(create.inputSchema.required).toEqual(["title", "done"])

  const created = await client.callTool({ name: "Task_create", arguments: { title: "write tests", done: false } })
  expect(created.isError).toBe(false)
  expect(created.structuredContent).toMatchObject({ id: 1, title: "write tests", done: false })
  await client.callTool({ name: "Task_create", arguments: { title: "ship", done: true } })

  const listed = await client.callTool({ name: "Task_list", arguments: { where: { done: false }, orderBy: ["title"] } })
  expect(listed.isError).toBe(false)
  expect((listed.structuredContent as { records: Array<{ title: string }> }).records.map((r) => r.title)).toEqual(["write tests"])

  const counted = await client.callTool({ name: "Task_count", arguments: {} })
  expect(counted.structuredContent).toEqual({ count: 2 })

  // a duplicate title: a tool error with the HTTP wording, never the value
  const duplicate = await client.callTool({ name: "Task_create", arguments: { title: "ship", done: false } })
  expect(duplicate.isError).toBe(true)
  expect(duplicate.structuredContent).toMatchObject({ status: 409, error: "UniqueViolation", columns: ["title"] })
  expect(JSON.stringify(duplicate.content)).not.toContain("ship")
  // invalid input
  const invalid = await client.callTool({ name: "Task_create", arguments: { title: 5, done: false } })
  expect(invalid.isError).toBe(true)
  expect(invalid.structuredContent).toMatchObject({ status: 400, error: "ValidationError", field: "title" })
}

describe("MCP", () => {
  it("over stdio: handshake, tools, create / list / count, a tool error", async () => {
    const transport = new StdioClientTransport({ command: "npx", args: cliArgs(await freePort(), "stdio"), stderr: "pipe" })
    const client = new Client({ name: "test", version: "1.0.0" })
    await client.connect(transport)
    try {
      expect(client.getServerVersion()).toMatchObject({ name: "effect-dataflow" })
      await exercise(client)
    } finally {
      await client.close()
    }
  }, 60_000)

  it("over HTTP at /mcp beside the HTTP API", async () => {
    const port = await freePort()
    const child = spawn("npx", cliArgs(port, "http"), { stdio: ["ignore", "pipe", "pipe"] })
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => d.toString().includes("serving") && resolve())
        child.on("exit", (code) => reject(new Error(`serve exited with ${code}`)))
      })
      // the server listens once its layer is built: wait for /health
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)
        if (ok) break
        await new Promise((r) => setTimeout(r, 100))
      }
      const client = new Client({ name: "test", version: "1.0.0" })
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)))
      try {
        await exercise(client)
        // a workflow of the exposed nodes as one tool call
        const run = await client.callTool({
          name: "workflow_execute",
          arguments: {
            workflow: {
              nodes: [
                { id: "add", type: "TaskCreateNode", params: { title: "from a workflow", done: false } },
                { id: "open", type: "Task_Count", params: { filter: { done: false } } }
              ]
            }
          }
        })
        expect(run.isError).toBe(false)
        expect((run.structuredContent as { results: Record<string, { result: unknown }> }).results.add!.result).toMatchObject({ title: "from a workflow" })
        const refused = await client.callTool({
          name: "workflow_execute",
          arguments: { workflow: { nodes: [{ id: "x", type: "NopeNode", params: {} }] } }
        })
        expect(refused.isError).toBe(true)
        expect(refused.structuredContent).toMatchObject({ error: "WorkflowError", node: "x" })
        await client.callTool({ name: "Task_delete", arguments: { id: (run.structuredContent as { results: { add: { result: { id: number } } } }).results.add.result.id } })
        // the HTTP API serves the same table
        const count = await (await fetch(`http://127.0.0.1:${port}/tasks/count`)).json()
        expect(count).toEqual({ count: 2 })
      } finally {
        await client.close()
      }
    } finally {
      child.kill("SIGTERM")
    }
  }, 60_000)
})
