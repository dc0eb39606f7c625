/**
 * Checking a workflow before anything runs: node types known, ids unique, connections between
 * existing nodes from output paths the source's result has to parameters the target takes,
 * no cycles, parameters known and the required ones given, and the parameters of every node
 * no connection feeds decoded. The result is a plan in topological order.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { WorkflowError } from "../../Errors.js"
import type { Connection, Workflow } from "./data.js"
import type { NodeType } from "./nodeType.js"
import type { Registry } from "./registry.js"
import * as Shape from "./shape.js"

/** @internal */
export interface PlannedNode<E, R> {
  readonly id: string
  /** The type as the workflow names it. */
  readonly type: string
  readonly node: NodeType<E, R>
  readonly params: Readonly<Record<string, unknown>>
  /** Connections into this node, in workflow order. */
  readonly incoming: ReadonlyArray<Connection>
  /** The decoded input, when no connection feeds the node. */
  readonly input: Option.Option<unknown>
}

/** @internal */
export interface Plan<E, R> {
  /** The nodes, each after the nodes it reads from. */
  readonly order: ReadonlyArray<PlannedNode<E, R>>
}

const fail = (nodeId: string | undefined, path: string, reason: string) =>
  Effect.fail(new WorkflowError({ ...(nodeId === undefined ? {} : { nodeId }), path, reason }))

/** The path in a node's result a connection reads: `result.x`, or Kailash's `x` (inside `result`). @internal */
export const outputPath = (output: string): ReadonlyArray<string> => {
  const segments = Shape.segments(output)
  return segments[0] === "result" ? segments.slice(1) : segments
}

/** Topological order (Kahn, stable in workflow order), or a cycle. */
const order = (ids: ReadonlyArray<string>, connections: ReadonlyArray<Connection>) => {
  const indegree = new Map(ids.map((id) => [id, 0]))
  const next = new Map<string, Array<string>>(ids.map((id) => [id, []]))
  for (const c of connections) {
    indegree.set(c.to, indegree.get(c.to)! + 1)
    next.get(c.from)!.push(c.to)
  }
  const ready = ids.filter((id) => indegree.get(id) === 0)
  const out: Array<string> = []
  while (ready.length > 0) {
    const id = ready.shift()!
    out.push(id)
    for (const to of next.get(id)!) {
      indegree.set(to, indegree.get(to)! - 1)
      if (indegree.get(to) === 0) ready.push(to)
    }
  }
  if (out.length === ids.length) return Effect.succeed(out)
  // a cycle among the rest: walk back along connections until a node repeats
  const rest = new Set(ids.filter((id) => !out.includes(id)))
  const walk: Array<string> = [ids.find((id) => rest.has(id))!]
  for (;;) {
    const previous = connections.find((c) => c.to === walk[walk.length - 1] && rest.has(c.from))!.from
    const at = walk.indexOf(previous)
    if (at >= 0) {
      const cycle = [previous, ...walk.slice(at).reverse()]
      return fail(cycle[0], "", `cycle: ${cycle.join(" → ")}`)
    }
    walk.push(previous)
  }
}

const checkNode = <E, R>(
  spec: Workflow["nodes"][number],
  node: NodeType<E, R>,
  incoming: ReadonlyArray<Connection>
): Effect.Effect<Option.Option<unknown>, WorkflowError> =>
  Effect.gen(function*() {
    const params = spec.params ?? {}
    const given = new Set([...Object.keys(params), ...incoming.map((c) => Shape.segments(c.input)[0]!)])
    if (node.parameters !== undefined) {
      for (const name of given) {
        if (!node.parameters.includes(name)) {
          return yield* fail(spec.id, name, `unknown parameter of ${spec.type} (it takes ${node.parameters.join(", ")})`)
        }
      }
    }
    for (const group of node.required) {
      if (!group.some((name) => given.has(name))) {
        return yield* fail(spec.id, group[0]!, `missing parameter${group.length > 1 ? ` (one of ${group.join(", ")})` : ""}`)
      }
    }
    if (incoming.length > 0) return Option.none()
    return Option.some(yield* Effect.mapError(node.decode(params), (e) => new WorkflowError({ ...e, nodeId: spec.id })))
  })

/** @internal */
export const plan = <E, R>(registry: Registry<E, R>, workflow: Workflow): Effect.Effect<Plan<E, R>, WorkflowError> =>
  Effect.gen(function*() {
    const byId = new Map<string, { readonly spec: Workflow["nodes"][number]; readonly node: NodeType<E, R> }>()
    for (const spec of workflow.nodes) {
      if (spec.id === "") return yield* fail(undefined, "id", "a node id must not be empty")
      if (byId.has(spec.id)) return yield* fail(spec.id, "id", "duplicate node id")
      const node = registry.types.get(spec.type)
      if (node === undefined) return yield* fail(spec.id, "type", `unknown node type ${JSON.stringify(spec.type)}`)
      byId.set(spec.id, { spec, node })
    }
    const inputs = new Set<string>()
    for (const [i, c] of workflow.connections.entries()) {
      const from = byId.get(c.from)
      if (from === undefined) return yield* fail(c.from, "", `no such node (connection ${i} from "${c.from}" to "${c.to}")`)
      if (!byId.has(c.to)) return yield* fail(c.to, "", `no such node (connection ${i} from "${c.from}" to "${c.to}")`)
      const path = outputPath(c.output)
      const missing = Shape.missingSegment(from.node.output, path)
      if (missing !== undefined) {
        return yield* fail(c.from, c.output, `the result of ${from.spec.type} has no ${JSON.stringify(path.slice(0, missing + 1).join("."))}`)
      }
      if (c.input === "" || Shape.segments(c.input).includes("")) return yield* fail(c.to, c.input, "a connection must name a parameter")
      if (inputs.has(`${c.to}\u0000${c.input}`)) return yield* fail(c.to, c.input, "two connections set this parameter")
      inputs.add(`${c.to}\u0000${c.input}`)
    }
    const ids = workflow.nodes.map((n) => n.id)
    const sorted = yield* order(ids, workflow.connections)
    const planned: Array<PlannedNode<E, R>> = []
    for (const id of sorted) {
      const { node, spec } = byId.get(id)!
      const incoming = workflow.connections.filter((c) => c.to === id)
      const input = yield* checkNode(spec, node, incoming)
      planned.push({ id, type: spec.type, node, params: spec.params ?? {}, incoming, input })
    }
    return { order: planned }
  })
