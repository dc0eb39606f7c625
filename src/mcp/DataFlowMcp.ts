/**
 * An MCP server generated from models (`@effect/ai`'s `McpServer`): each exposed node is a
 * tool (`User_create`, `User_list`, …) whose input JSON Schema is derived from the model,
 * whose result is the node's JSON, and whose failures are tool errors with the same problem
 * body (status, error tag, detail) as `DataFlowHttp`. Over stdio ({@link layerStdio}) or HTTP
 * ({@link layerHttp}, on an `HttpLayerRouter`, for example beside the HTTP API). Import it from
 * `effect-dataflow/mcp`.
 *
 * @since 0.1.0
 */
import * as McpServer from "@effect/ai/McpServer"
import type * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as NodeSink from "@effect/platform-node/NodeSink"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Layer from "effect/Layer"
import { register } from "../internal/mcp/tools.js"
import { servedAll } from "../internal/serving/operations.js"
import type { NodeName } from "../internal/serving/operations.js"
import type * as Model from "../Model.js"
import type * as Tenant from "../Tenant.js"

/**
 * Options of the MCP server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The server's name and version (the MCP handshake). */
  readonly name?: string | undefined
  readonly version?: string | undefined
  /**
   * Per model name: the nodes served as tools, `"read"` (read, list, count; the default), `"all"`
   * (with `aggregate`), or a list. Relations reach only models served with `list`.
   */
  readonly expose?: Readonly<Record<string, "read" | "all" | ReadonlyArray<NodeName>>> | undefined
  /** Per model name: fields never in a result, a filter, an order or a projection. */
  readonly hidden?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
  /** The tenant every tool call acts for, on tenant-scoped models (a tool argument never names it). */
  readonly tenant?: string | undefined
  /** The largest `limit` of a list (default 1000), the page size without one (default 100), rows per bulk call (default 10,000). */
  readonly maxLimit?: number | undefined
  readonly defaultLimit?: number | undefined
  readonly maxRows?: number | undefined
  /**
   * Also a `workflow_execute` tool: a JSON workflow (`{ workflow, transaction? }`, see
   * docs/workflows.md) over the exposed nodes only (default false).
   */
  readonly workflows?: boolean | undefined
}

/**
 * What the tools of models require, the tenant aside.
 *
 * @since 0.1.0
 * @category models
 */
export type RequirementsOf<M extends ReadonlyArray<Model.Any>> = Exclude<Model.Requirements<M[number]>, Tenant.CurrentTenant>

const servedOf = (models: ReadonlyArray<Model.Any>, options: Options) => servedAll(models, options, "DataFlowMcp")

/**
 * The models' tools, registered on the `McpServer` of the context (any transport).
 *
 * @since 0.1.0
 * @category layers
 */
export const tools = <const M extends ReadonlyArray<Model.Any>>(
  models: M,
  options: Options = {}
): Layer.Layer<never, never, McpServer.McpServer | RequirementsOf<M>> =>
  Layer.effectDiscard(register<RequirementsOf<M>>(servedOf(models, options), options.tenant, options.workflows === true))

const info = (options: Options) => ({ name: options.name ?? "effect-dataflow", version: options.version ?? "0.1.0" })

/**
 * An MCP server on standard input and output (nothing else may write to stdout meanwhile).
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Layer, Schema } from "effect"
 * import { DataFlow, Model } from "effect-dataflow"
 * import { DataFlowMcp } from "effect-dataflow/mcp"
 *
 * const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }))
 * DataFlowMcp.layerStdio([User], { expose: { User: "all" } }).pipe(
 *   Layer.provide(DataFlow.layer()),
 *   Layer.launch,
 *   NodeRuntime.runMain
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStdio = <const M extends ReadonlyArray<Model.Any>>(
  models: M,
  options: Options = {}
): Layer.Layer<never, never, RequirementsOf<M>> =>
  tools(models, options).pipe(
    Layer.provide(McpServer.layerStdio({ ...info(options), stdin: NodeStream.stdin, stdout: NodeSink.stdout }))
  )

/**
 * An MCP server over HTTP (streamable HTTP, JSON-RPC) at `path` of an `HttpLayerRouter`: give
 * it to `DataFlowHttp.serve`'s `routes` to serve MCP beside the HTTP API.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttp = <const M extends ReadonlyArray<Model.Any>>(
  models: M,
  options: Options & { readonly path?: `/${string}` | undefined } = {}
): Layer.Layer<never, never, HttpLayerRouter.HttpRouter | RequirementsOf<M>> =>
  tools(models, options).pipe(Layer.provide(McpServer.layerHttpRouter({ ...info(options), path: options.path ?? "/mcp" })))
