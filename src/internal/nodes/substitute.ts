/**
 * The one hook that lets node calls run somewhere other than a database: when the fiber's
 * context holds a {@link Substitute} (the testing kit's reference layer provides one), every
 * node of every model hands its call, as its name and arguments, to it. Without one (the
 * default), a node call costs one context lookup more.
 * (Internal module: not part of the public API.)
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { ModelDefinition } from "../model/definition.js"

/**
 * Runs node calls in place of the nodes. Its answers must be what the node returns (the same
 * value shapes and the node's own typed errors): the caller's types are the node's.
 * @internal
 */
export interface Substitute {
  readonly call: (def: ModelDefinition, node: string, args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>
  readonly stream: (def: ModelDefinition, args: ReadonlyArray<unknown>) => Stream.Stream<unknown, unknown>
}

/** The substitute of the fiber's context; none by default. @internal */
export class NodeSubstitute extends Context.Reference<NodeSubstitute>()("effect-dataflow/internal/NodeSubstitute", {
  defaultValue: (): Substitute | undefined => undefined
}) {}

type AnyNode = (...args: ReadonlyArray<never>) => unknown

const substituteEffect = <Args extends ReadonlyArray<unknown>, A, E, R>(
  def: ModelDefinition,
  name: string,
  node: (...args: Args) => Effect.Effect<A, E, R>
) =>
(...args: Args): Effect.Effect<A, E, R> =>
  // the fiber's context read directly: the cheapest of the ways measured (contextWithEffect,
  // yielding the tag)
  Effect.withFiberRuntime<A, E, R>((fiber) => {
    const substitute = Context.get(fiber.currentContext as Context.Context<never>, NodeSubstitute)
    // the substitute answers as the node does (its contract): the node's types stand
    return substitute === undefined ? node(...args) : (substitute.call(def, name, args) as Effect.Effect<A, E>)
  })

const substituteStream = <Args extends ReadonlyArray<unknown>, A, E, R>(
  def: ModelDefinition,
  node: (...args: Args) => Stream.Stream<A, E, R>
) =>
(...args: Args): Stream.Stream<A, E, R> =>
  Stream.unwrap(Effect.contextWith((ctx: Context.Context<never>) => {
    const substitute = Context.get(ctx, NodeSubstitute)
    return substitute === undefined ? node(...args) : (substitute.stream(def, args) as Stream.Stream<A, E>)
  }))

/**
 * A model's nodes, each checking first for a substitute in the fiber's context.
 * @internal
 */
export const substitutable = <N extends { readonly [K in keyof N]: AnyNode }>(def: ModelDefinition, nodes: N): N => {
  const out: Record<string, unknown> = {}
  for (const [name, node] of Object.entries(nodes) as Array<[string, (...args: ReadonlyArray<unknown>) => unknown]>) {
    out[name] = name === "stream"
      ? substituteStream(def, node as (...args: ReadonlyArray<unknown>) => Stream.Stream<unknown, unknown, unknown>)
      : substituteEffect(def, name, node as (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown, unknown>)
  }
  // the same names with the same signatures: each wrapper has its node's type
  return out as N
}
