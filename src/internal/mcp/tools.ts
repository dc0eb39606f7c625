/**
 * The served nodes as MCP tools: one tool per exposed node (`User_create`, `User_list`, …),
 * its input JSON Schema derived from the model (`serving/jsonSchema.ts`, with the model's
 * record, input, patch and filter schemas under `$defs`), its result the node's JSON, its
 * failures tool errors carrying the same problem body as HTTP.
 * (Internal module: not part of the public API.)
 */
import * as McpSchema from "@effect/ai/McpSchema"
import * as McpServer from "@effect/ai/McpServer"
import * as Effect from "effect/Effect"
import * as Tenant from "../../Tenant.js"
import { MissingTenant } from "../serving/errors.js"
import * as JS from "../serving/jsonSchema.js"
import type { NodeName, Served } from "../serving/operations.js"
import { prepare, readOnlyNodes } from "../serving/operations.js"
import { servedRelations } from "../serving/relations.js"
import * as Problem from "../serving/problem.js"
import * as Workflows from "../serving/workflows.js"
import { registryOf } from "../serving/workflows.js"

/** The name of a node's tool. @internal */
export const toolName = (s: Served, node: NodeName) => `${s.def.name}_${node}`

const descriptions: Record<NodeName, (model: string) => string> = {
  create: (m) => `Create a ${m}; returns the stored record.`,
  read: (m) => `Read a ${m} by its primary key.`,
  update: (m) => `Apply a partial update to a ${m}; returns the updated record.`,
  delete: (m) => `Delete a ${m} by its primary key.`,
  restore: (m) => `Restore a deleted ${m}.`,
  list: (m) => `List ${m} records: filter (where), order (orderBy), page (limit, cursor), project (select), count (total).`,
  count: (m) => `Count ${m} records matching a filter.`,
  upsert: (m) => `Create a ${m}, or update the one with the same unique key.`,
  bulkCreate: (m) => `Create many ${m} records atomically.`,
  bulkUpdate: (m) => `Update every ${m} matching a filter (an empty filter needs confirm).`,
  bulkDelete: (m) => `Delete every ${m} matching a filter (an empty filter needs confirm).`,
  bulkUpsert: (m) => `Create or update many ${m} records by a unique key.`,
  aggregate: (m) =>
    `Aggregate ${m} records: count, countDistinct, sum, avg, min, max of fields over the records matching where, per group of groupBy (having, orderBy, limit, offset apply to the groups).`
}

/** Where a model's schema is in a tool's input schema: its own `$defs`. */
const refs: JS.Refs = (s, part) => `#/$defs/${s.def.name}${part}`

/**
 * A node's input schema, self-contained: the model's create input, patch, filter and include
 * under `$defs`, and the filters and includes of every served model its relations reach.
 * @internal
 */
export const inputSchema = (s: Served, node: NodeName): JS.JsonSchema => {
  const defs: Record<string, JS.JsonSchema> = {
    [`${s.def.name}Create`]: JS.createSchema(s),
    [`${s.def.name}Patch`]: JS.patchSchema(s)
  }
  for (const m of JS.reachable(s)) {
    defs[`${m.def.name}Filter`] = JS.filterSchema(m, refs)
    if (servedRelations(m).length > 0) defs[`${m.def.name}Include`] = JS.includeSchema(m, refs)
  }
  return { ...JS.argumentsSchema(s, node, refs), $defs: defs }
}

const text = (value: unknown) => ({ type: "text" as const, text: JSON.stringify(value) })

/** Registers a tool per exposed node of each served model. @internal */
export const register = <R>(served: ReadonlyArray<Served>, tenant: string | undefined, workflows = false) =>
  Effect.gen(function*() {
    const server = yield* McpServer.McpServer
    const context = yield* Effect.context<R>()
    const respond = (effect: Effect.Effect<unknown, unknown, R>) =>
      effect.pipe(
        Effect.provide(context),
        Effect.match({
          onSuccess: (result) =>
            new McpSchema.CallToolResult({
              isError: false,
              content: [text(result)],
              // structured content is an object: a list of groups (aggregate) goes under `result`
              structuredContent: typeof result === "object" && result !== null && !Array.isArray(result) ? result : { result }
            }),
          onFailure: (error) => {
            const problem = Problem.fromError(error)
            return new McpSchema.CallToolResult({ isError: true, content: [text(problem)], structuredContent: problem })
          }
        }),
        Effect.catchAllCause(() =>
          Effect.succeed(
            new McpSchema.CallToolResult({ isError: true, content: [text(Problem.internal)], structuredContent: Problem.internal })
          )
        )
      )
    if (workflows) {
      const registry = registryOf(served)
      yield* server.addTool({
        tool: new McpSchema.Tool({
          name: "workflow_execute",
          description:
            "Run a workflow of the exposed nodes: { workflow: { nodes: [{ id, type, params }], connections: [{ from, output, to, input }] }, transaction?: boolean }; node types are <Model>_<Node> (e.g. User_Create) or <Model><Node>Node. Returns { runId, results: { [nodeId]: { result } } }.",
          inputSchema: {
            type: "object",
            properties: { workflow: { type: "object" }, transaction: { type: "boolean" } },
            required: ["workflow"],
            additionalProperties: false
          },
          annotations: new McpSchema.ToolAnnotations({ title: "Run a workflow", readOnlyHint: false, destructiveHint: true })
        }),
        handle: (payload) =>
          respond(Workflows.execute<unknown, never>(served, registry, payload, {
            tenant: (s, node) =>
              tenant === undefined
                ? Effect.fail(new MissingTenant({ model: s.def.name, operation: node, source: "the server's tenant option" }))
                : Tenant.make(tenant),
            authorize: () => Effect.void
          }))
      })
    }
    for (const s of served) {
      for (const node of s.nodes) {
        const readOnly = readOnlyNodes.includes(node)
        const tool = new McpSchema.Tool({
          name: toolName(s, node),
          description: descriptions[node](s.def.name),
          inputSchema: inputSchema(s, node),
          annotations: new McpSchema.ToolAnnotations({
            title: `${s.def.name} ${node}`,
            readOnlyHint: readOnly,
            destructiveHint: node === "delete" || node === "bulkDelete" || node === "update" || node === "bulkUpdate",
            idempotentHint: readOnly || node === "delete" || node === "update"
          })
        })
        // the server's tenant for the model and every tenant-scoped model its relations reach
        const call = (payload: unknown): Effect.Effect<unknown, unknown, R> =>
          Effect.flatMap(prepare<R>(s, node, payload), ({ reached, run }) => {
            const scoped = [s, ...reached].find((m) => m.def.tenantScoped)
            if (scoped === undefined) return run
            if (tenant === undefined) {
              return Effect.fail(new MissingTenant({ model: scoped.def.name, operation: node, source: "the server's tenant option" }))
            }
            return Effect.flatMap(Tenant.make(tenant), (id) => Effect.provideService(run, Tenant.CurrentTenant, id))
          })
        yield* server.addTool({ tool, handle: (payload) => respond(call(payload)) })
      }
    }
  })
