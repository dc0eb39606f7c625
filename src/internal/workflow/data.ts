/**
 * A workflow as plain data: nodes (id, type, parameters) and connections (one node's output
 * path to another's input path), with a Schema so it round-trips through JSON; the builders.
 * (Internal module: not part of the public API.)
 */
import * as Function from "effect/Function"
import * as Schema from "effect/Schema"

/** @internal */
export const NodeSpec = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  /** Absent: no parameters. */
  params: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})

/** @internal */
export const Connection = Schema.Struct({
  /** The node whose result is read. */
  from: Schema.String,
  /** A dotted path in its result (`result.id`, or Kailash's `id`). */
  output: Schema.String,
  /** The node whose parameter is set. */
  to: Schema.String,
  /** A dotted path in its parameters (`id`, `data.authorId`). */
  input: Schema.String
})

/** @internal */
export const Workflow = Schema.Struct({
  name: Schema.optional(Schema.String),
  nodes: Schema.Array(NodeSpec),
  // a workflow of independent nodes may leave its connections out
  connections: Schema.optionalWith(Schema.Array(Connection), { default: () => [] })
})

/** @internal */
export type Workflow = typeof Workflow.Type
/** @internal */
export type NodeSpec = typeof NodeSpec.Type
/** @internal */
export type Connection = typeof Connection.Type

/** @internal */
export const make = (name?: string): Workflow => ({ ...(name === undefined ? {} : { name }), nodes: [], connections: [] })

/** @internal */
export const addNode: {
  (type: string, id: string, params?: Readonly<Record<string, unknown>>): (self: Workflow) => Workflow
  (self: Workflow, type: string, id: string, params?: Readonly<Record<string, unknown>>): Workflow
} = Function.dual(
  (args) => typeof args[0] === "object",
  (self: Workflow, type: string, id: string, params: Readonly<Record<string, unknown>> = {}): Workflow => ({
    ...self,
    nodes: [...self.nodes, { id, type, params }]
  })
)

/** @internal */
export const connect: {
  (from: string, output: string, to: string, input: string): (self: Workflow) => Workflow
  (self: Workflow, from: string, output: string, to: string, input: string): Workflow
} = Function.dual(
  5,
  (self: Workflow, from: string, output: string, to: string, input: string): Workflow => ({
    ...self,
    connections: [...self.connections, { from, output, to, input }]
  })
)

/** The Kailash-style builder: `add_node(type, id, params)`, `add_connection(…)`, `build()`. @internal */
export interface Builder {
  readonly add_node: (type: string, id: string, params?: Readonly<Record<string, unknown>>) => Builder
  readonly add_connection: (from: string, output: string, to: string, input: string) => Builder
  readonly addNode: (type: string, id: string, params?: Readonly<Record<string, unknown>>) => Builder
  readonly connect: (from: string, output: string, to: string, input: string) => Builder
  readonly build: () => Workflow
}

/** @internal */
export const builder = (name?: string): Builder => {
  let current = make(name)
  const self: Builder = {
    add_node: (type, id, params) => {
      current = addNode(current, type, id, params)
      return self
    },
    add_connection: (from, output, to, input) => {
      current = connect(current, from, output, to, input)
      return self
    },
    addNode: (type, id, params) => self.add_node(type, id, params),
    connect: (from, output, to, input) => self.add_connection(from, output, to, input),
    build: () => current
  }
  return self
}
