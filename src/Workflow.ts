/**
 * Workflows as data — Kailash's workflow API over the same nodes. A registry gives every node
 * of every model a string type (`UserCreateNode`, `User_Create`, …) whose parameters decode
 * from JSON with the nodes' own validation; a workflow is plain data (nodes and connections)
 * with a Schema, so it is stored, sent and generated as JSON; `execute` checks it before any
 * SQL runs, then runs the nodes in dependency order and returns `results[nodeId].result`.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Eff from "effect/Effect"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { NodeFailed } from "./Errors.js"
import { WorkflowError } from "./Errors.js"
import type { NodeErrors } from "./internal/nodes/types.js"
import * as data from "./internal/workflow/data.js"
import * as nodeType from "./internal/workflow/nodeType.js"
import * as planner from "./internal/workflow/plan.js"
import * as internalRegistry from "./internal/workflow/registry.js"
import * as runner from "./internal/workflow/run.js"
import type * as Model from "./Model.js"
import type * as Transaction from "./Transaction.js"

/**
 * A workflow: nodes (`{ id, type, params }`) and connections (`{ from, output, to, input }`:
 * the value at `output` in node `from`'s result becomes parameter `input` of node `to`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Workflow {
  readonly name?: string | undefined
  readonly nodes: ReadonlyArray<NodeSpec>
  readonly connections: ReadonlyArray<Connection>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface NodeSpec {
  readonly id: string
  readonly type: string
  /** Absent: no parameters. */
  readonly params?: { readonly [name: string]: unknown } | undefined
}

/**
 * A connection: the value at the dotted path `output` of node `from`'s output (`result.id`;
 * Kailash's spelling `id` reads inside `result`) set at the dotted path `input` of node `to`'s
 * parameters (`id`, `data.authorId`, `filter.userId.$in`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Connection {
  readonly from: string
  readonly output: string
  readonly to: string
  readonly input: string
}

/**
 * The Schema of a workflow: `Schema.encode` / `Schema.decode` (or {@link toJson} /
 * {@link fromJson}) round-trip it through JSON exactly.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema: Schema.Schema<Workflow, Omit<Workflow, "connections"> & { readonly connections?: ReadonlyArray<Connection> | undefined }> =
  data.Workflow

/**
 * A node type: the names it answers to, the parameters it takes, a decoder from JSON
 * parameters to its typed input, the Effect that runs it (failing with `E`, needing `R`).
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeType<E = unknown, R = unknown> extends nodeType.NodeType<E, R> {}

/**
 * The node types a workflow can use, by name; `E` and `R` are what running them can fail with
 * and needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Registry<E = unknown, R = unknown> extends internalRegistry.Registry<E, R> {}

type NodeKey =
  | "create"
  | "read"
  | "update"
  | "delete"
  | "restore"
  | "list"
  | "count"
  | "upsert"
  | "bulkUpdate"
  | "bulkDelete"
  | "bulkUpsert"

type ErrorOfNode<F> = F extends (...args: ReadonlyArray<never>) => Eff.Effect<infer _A, infer E, infer _R> ? E : never

/**
 * What the nodes of a model can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ModelErrors<M> =
  | { readonly [K in keyof M & NodeKey]: ErrorOfNode<M[K]> }[keyof M & NodeKey]
  // generic or overloaded nodes: their errors as declared
  | (M extends { readonly bulkCreate: unknown } ? NodeErrors["bulkCreate"] : never)
  | (M extends { readonly bulkUpdate: unknown } ? NodeErrors["bulkUpdateItems"] : never)

/**
 * What a node type can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type NodeTypeError<T> = T extends NodeType<infer E, infer _R> ? E : never

/**
 * What a node type needs.
 *
 * @since 0.1.0
 * @category models
 */
export type NodeTypeRequirements<T> = T extends NodeType<infer _E, infer R> ? R : never

/**
 * The registry of these models' nodes and of custom nodes: `UserCreateNode` and `User_Create`,
 * `UserReadNode` / `User_Read`, … for `Create`, `Read`, `Update`, `Delete`, `List`, `Count`,
 * `Upsert`, `BulkCreate`, `BulkUpdate`, `BulkDelete`, `BulkUpsert` (and `Restore` on soft-delete
 * models; append-only models have only their reading nodes, `Create` and `BulkCreate`). Two
 * types with one name throw.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Model, Workflow } from "effect-dataflow"
 *
 * const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }))
 * const registry = Workflow.registry([User])
 * // registry.types.get("UserCreateNode"), registry.types.get("User_Create")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const registry = <
  const Models extends ReadonlyArray<Model.Any>,
  const Custom extends ReadonlyArray<NodeType<unknown, unknown>> = []
>(
  models: Models,
  options?: { readonly nodes?: Custom }
): Registry<
  ModelErrors<Models[number]> | NodeTypeError<Custom[number]>,
  Model.Requirements<Models[number]> | NodeTypeRequirements<Custom[number]>
> => internalRegistry.make(models, options?.nodes ?? []) as never

/**
 * A custom node: any Effect with an input and an output Schema, registered under `type` with
 * `Workflow.registry(models, { nodes: [...] })`. Its parameters are decoded by `input` (from
 * JSON: the Schema's encoded side); its result's paths, for connections, come from `output`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const node: <I, IE, A, AE, E, R>(options: {
  readonly type: string
  readonly aliases?: ReadonlyArray<string>
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<A, AE>
  readonly run: (input: I) => Eff.Effect<A, E, R>
}) => NodeType<E, R> = internalRegistry.custom

/**
 * The Schema of a node type's parameters: JSON in, the node's decoded input out (errors name
 * the parameter path). `undefined` for a name the registry does not have.
 *
 * @since 0.1.0
 * @category schemas
 */
export const parametersSchema = (registry: Registry, type: string): Schema.Schema<unknown, unknown> | undefined => {
  const found = registry.types.get(type)
  return found === undefined ? undefined : nodeType.paramsSchema(found)
}

/**
 * An empty workflow.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (name?: string) => Workflow = data.make

/**
 * Adds a node: its type (a registry name), its id (unique in the workflow) and its parameters.
 *
 * @example
 * ```ts
 * import { pipe } from "effect"
 * import { Workflow } from "effect-dataflow"
 *
 * const workflow = pipe(
 *   Workflow.make(),
 *   Workflow.addNode("UserCreateNode", "create_user", { name: "Ada", email: "ada@example.com" }),
 *   Workflow.addNode("UserReadNode", "read_user", {}),
 *   Workflow.connect("create_user", "result.id", "read_user", "id")
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const addNode: {
  (type: string, id: string, params?: { readonly [name: string]: unknown }): (self: Workflow) => Workflow
  (self: Workflow, type: string, id: string, params?: { readonly [name: string]: unknown }): Workflow
} = data.addNode

/**
 * Connects the value at `output` in node `from`'s result to parameter `input` of node `to`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect: {
  (from: string, output: string, to: string, input: string): (self: Workflow) => Workflow
  (self: Workflow, from: string, output: string, to: string, input: string): Workflow
} = data.connect

/**
 * Kailash's builder spelling: `builder().add_node(type, id, params).add_connection(from,
 * output, to, input).build()` (also `addNode` / `connect`).
 *
 * @since 0.1.0
 * @category constructors
 */
export interface Builder extends data.Builder {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const builder: (name?: string) => Builder = data.builder

const fromJsonSchema = Schema.parseJson(data.Workflow)

const decodeError = (error: ParseResult.ParseError) => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  return new WorkflowError({ path: (issue?.path ?? []).map(String).join("."), reason: issue?.message ?? error.message, cause: error })
}

/**
 * A workflow from JSON text (or an already parsed value): a `WorkflowError` naming the path
 * (`nodes.1.params`) when it is not one.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromJson = (input: unknown): Eff.Effect<Workflow, WorkflowError> =>
  Effect.mapError(
    typeof input === "string" ? Schema.decodeUnknown(fromJsonSchema)(input) : Schema.decodeUnknown(data.Workflow)(input),
    decodeError
  )

/**
 * A workflow as JSON text.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (workflow: Workflow, space?: number): string =>
  JSON.stringify(Schema.encodeSync(data.Workflow)(workflow), null, space)

/**
 * Checks a workflow against a registry without running anything: unknown node types,
 * duplicate ids, connections to missing nodes or output paths, cycles, unknown or missing
 * parameters, parameters that do not decode (those no connection feeds) — a `WorkflowError`
 * naming the node and the parameter path.
 *
 * @since 0.1.0
 * @category running
 */
export const validate = (registry: Registry, workflow: Workflow): Eff.Effect<void, WorkflowError> =>
  Effect.asVoid(planner.plan(registry, workflow))

/**
 * Options of {@link execute}.
 *
 * @since 0.1.0
 * @category running
 */
export interface ExecuteOptions {
  /**
   * Run the whole workflow in one `DataFlow.transaction` on the default `SqlClient` (`true`, or
   * the transaction's options): all or nothing. Nodes then run one at a time.
   */
  readonly transaction?: boolean | Transaction.Options
  /** How many independent nodes may run at once; default 4. */
  readonly concurrency?: number | "unbounded"
}

/**
 * What a run returns: its id and each node's result, `results[nodeId].result`.
 *
 * @since 0.1.0
 * @category running
 */
export interface RunResult {
  readonly runId: string
  readonly results: { readonly [nodeId: string]: { readonly result: unknown } }
}

/**
 * A node's failure with its typed error.
 *
 * @since 0.1.0
 * @category errors
 */
export type NodeFailure<E> = NodeFailed & { readonly cause: E }

type TransactionErrors<O> = O extends { readonly transaction: true } ? Transaction.ErrorsOf<{}>
  : O extends { readonly transaction: infer T extends Transaction.Options } ? Transaction.ErrorsOf<T>
  : never

/**
 * Checks a workflow (see {@link validate}; nothing runs when it fails), then runs it level by
 * level — each node after the nodes it reads from, the nodes of a level concurrently (up to
 * `concurrency`) — parameters fed by connections decoded just before their node runs. Each run
 * is a span (`Workflow.execute`) with a child span per node (`Workflow.node`). A node's failure
 * is a `NodeFailed` naming the node and carrying its typed error; with `transaction` nothing
 * of the run stays.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { DataFlow, Model, Workflow } from "effect-dataflow"
 *
 * const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }))
 * const workflow = Workflow.builder()
 *   .add_node("UserCreateNode", "create_user", { name: "Ada" })
 *   .build()
 * const program = Effect.map(
 *   Workflow.execute(Workflow.registry([User]), workflow),
 *   ({ results }) => results["create_user"]!.result
 * )
 * Effect.runPromise(Effect.provide(program, DataFlow.layer({ url: "sqlite::memory:" })))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const execute = <E, R, const O extends ExecuteOptions = {}>(
  registry: Registry<E, R>,
  workflow: Workflow,
  options?: O
): Eff.Effect<
  RunResult,
  WorkflowError | NodeFailure<E> | TransactionErrors<O>,
  R | (O extends { readonly transaction: true | Transaction.Options } ? SqlClient.SqlClient : never)
> =>
  Effect.flatMap(planner.plan(registry, workflow), (plan) => runner.run(plan, options)) as Eff.Effect<
    RunResult,
    WorkflowError | NodeFailure<E> | TransactionErrors<O>,
    R | (O extends { readonly transaction: true | Transaction.Options } ? SqlClient.SqlClient : never)
  >

/**
 * Kailash's `LocalRuntime` spelling: `Workflow.runtime(registry).execute(workflow)`.
 *
 * @since 0.1.0
 * @category running
 */
export const runtime = <E, R>(registry: Registry<E, R>) => ({
  execute: <const O extends ExecuteOptions = {}>(workflow: Workflow, options?: O) => execute(registry, workflow, options)
})

/**
 * What a registry offers, for a tool or a language model that writes workflows: each node
 * type once, with its other names, the parameters it takes (`undefined`: any its decoder
 * accepts) and the groups of which one name must be given.
 *
 * @since 0.1.0
 * @category models
 */
export const catalog = (registry: Registry): ReadonlyArray<{
  readonly type: string
  readonly aliases: ReadonlyArray<string>
  readonly parameters: ReadonlyArray<string> | undefined
  readonly required: ReadonlyArray<ReadonlyArray<string>>
}> =>
  [...new Set(registry.types.values())].map(({ aliases, parameters, required, type }) => ({ type, aliases, parameters, required }))
