/**
 * Request batching of `find` / `read` by primary key: each call is an Effect `Request`, and the
 * requests that run together under request batching (`Effect.forEach(ids, User.find,
 * { batching: true })`, `Effect.all([...], { batching: true })`) reach one resolver, which
 * reads each model's ids with one `WHERE pk IN (…)` statement and routes every row (or its
 * absence) back to its caller. Effect keeps requests made under different services (another
 * transaction, tenant, client) in different batches; the resolver also groups by model and by
 * `includeDeleted`. One request alone is the plain by-key read.
 * (Internal module: not part of the public API.)
 */
import type * as Types from "effect/Types"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import type { ConfigurationError } from "../../Errors.js"
import { NotFound } from "../../Errors.js"
import { limits } from "../../Filter.js"
import type { ListQuery, ReadOptions } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { checkId } from "../model/validate.js"
import type * as Read from "./read.js"
import type { Row } from "./shared.js"
import { idOf } from "./shared.js"
import type { NodeErrors } from "./types.js"

/**
 * Whether `find` / `read` go through the batching resolver. Default: no — a request alone
 * costs a fiber fork and a scheduler hop in Effect's request machinery (a lone in-memory
 * SQLite `find`: about 8 µs without, 200–450 µs with; scripts/batching-cost.ts). @internal
 */
export class RequestBatching extends Context.Reference<RequestBatching>()("effect-dataflow/RequestBatching", {
  defaultValue: () => false
}) {}

type FindError = NodeErrors["find"] | NodeErrors["list"] | ConfigurationError

interface FindById extends Request.Request<Option.Option<Row>, FindError> {
  readonly _tag: "FindById"
  readonly def: ModelDefinition
  readonly nodes: Read.ReadNodes<unknown>
  readonly id: unknown
  readonly includeDeleted: boolean
  /** The node asked (a request alone runs it: its span is the caller's node). */
  readonly operation: "read" | "find"
}

const FindById = Request.tagged<FindById>("FindById")

const keyOf = (v: unknown) => `${typeof v}:${String(v)}`

/** Ids per statement: inside the filter language's `$in` limit. */
const chunk = limits.list

const runGroup = (requests: ReadonlyArray<FindById>): Effect.Effect<void, never, unknown> => {
  const first = requests[0]!
  const ids = [...groupBy(requests, (r) => keyOf(r.id)).values()].map((rs) => rs[0]!.id)
  const options = first.includeDeleted ? { includeDeleted: true } : {}
  if (ids.length === 1) {
    const alone = first.operation === "find"
      ? first.nodes.find(ids[0], options)
      : first.nodes.read(ids[0], options).pipe(
        Effect.map(Option.some),
        Effect.catchTag("NotFound", () => Effect.succeed(Option.none<Row>()))
      )
    return Effect.exit(alone).pipe(
      Effect.flatMap((exit) => Effect.forEach(requests, (r) => Request.complete(r, exit), { discard: true }))
    )
  }
  const pk = first.def.pk.field
  const chunks: Array<ReadonlyArray<unknown>> = []
  for (let i = 0; i < ids.length; i += chunk) chunks.push(ids.slice(i, i + chunk))
  return Effect.forEach(chunks, (part) =>
    first.nodes.list({ where: { [pk]: { $in: part } } as unknown as NonNullable<ListQuery<Row>["where"]>, ...options })).pipe(
      Effect.exit,
      Effect.flatMap((exit) => {
        if (exit._tag === "Failure") {
          return Effect.forEach(requests, (r) => Request.completeEffect(r, Effect.failCause(exit.cause)), { discard: true })
        }
        const rows = new Map<string, Row>()
        for (const page of exit.value) for (const row of page.records) rows.set(keyOf(row[pk]), row)
        return Effect.forEach(requests, (r) => Request.succeed(r, Option.fromNullable(rows.get(keyOf(r.id)))), { discard: true })
      })
    )
}

/** Items grouped by a key, in the order the keys first appear. @internal */
export const groupBy = <A, K>(items: Iterable<A>, key: (item: A) => K): Map<K, Array<A>> => {
  const groups = new Map<K, Array<A>>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [item])
    else group.push(item)
  }
  return groups
}

/**
 * A resolver that splits each batch by model and by `split` (what one statement can serve)
 * and runs the groups together.
 * @internal
 */
export const splitResolver = <A extends Request.Request<unknown, unknown> & { readonly def: ModelDefinition }>(
  split: (request: A) => unknown,
  run: (requests: ReadonlyArray<A>) => Effect.Effect<void, never, unknown>
): RequestResolver.RequestResolver<A, unknown> =>
  RequestResolver.makeBatched((requests: Types.NoInfer<Array<A>>) =>
    Effect.forEach([...groupBy(requests, (r) => r.def).values()].flatMap((g) => [...groupBy(g, split).values()]), run, {
      concurrency: "unbounded",
      discard: true
    })
  )

/** The one resolver of by-key reads: a batch is split by model and `includeDeleted`. */
const resolver = splitResolver((r: FindById) => r.includeDeleted, runGroup)

/**
 * A resolver with the caller's services (its client, transaction, tenant, span): requests
 * made under equal services batch together, others apart. The span is one of them, so the
 * statement's span stays under its caller's: requests each wrapped in a span of their own are
 * not batched.
 * @internal
 */
export const withCallerServices = <A extends Request.Request<unknown, unknown>>(
  resolver: RequestResolver.RequestResolver<A, unknown>
): Effect.Effect<RequestResolver.RequestResolver<A, never>, never, unknown> => {
  const provided = new WeakMap<Context.Context<unknown>, RequestResolver.RequestResolver<A, never>>()
  return Effect.contextWith((services: Context.Context<unknown>) => {
    // the requests of one batch share their services' Context: one resolver for all of them,
    // not one per request (an allocation and a hash each, and an equality check when Effect
    // groups them)
    let withServices = provided.get(services)
    if (withServices === undefined) provided.set(services, withServices = RequestResolver.provideContext(resolver, services))
    return withServices
  })
}

const findResolver = withCallerServices(resolver)

/**
 * A model's `find` and `read` as batched requests (when `RequestBatching` is on); the other
 * nodes as they are. An id that is not a key fails at once, in its caller.
 * @internal
 */
export const withBatching = <R>(def: ModelDefinition, nodes: Read.ReadNodes<R>): Read.ReadNodes<R> => {
  // a composite key has no one-column `IN` list: its reads stay one statement each
  if (def.compositeKey) return nodes
  const unknownNodes = nodes as unknown as Read.ReadNodes<unknown>
  const batched = (operation: "read" | "find", id: unknown, options: ReadOptions) => {
    // an id that is not a key fails at once, in its caller, never in a batch
    const bad = checkId(def, id, operation)
    if (bad !== undefined) return Effect.fail(bad)
    // what the model's nodes require, the resolver requires: R
    return Effect.request(
      FindById({ def, nodes: unknownNodes, id, includeDeleted: options.includeDeleted === true, operation }),
      findResolver
    ) as Effect.Effect<Option.Option<Row>, NodeErrors["find"] | ConfigurationError, R>
  }
  // the setting is read synchronously: an unbatched read is the node as made, one step more
  const find: Read.ReadNodes<R>["find"] = (id, options = {}) =>
    Effect.withFiberRuntime((fiber) =>
      Context.get(fiber.currentContext, RequestBatching) ? batched("find", id, options) : nodes.find(id, options)
    )
  const read: Read.ReadNodes<R>["read"] = (id, options = {}) =>
    Effect.withFiberRuntime((fiber) =>
      Context.get(fiber.currentContext, RequestBatching)
        ? Effect.flatMap(batched("read", id, options), (found) =>
          Option.isNone(found)
            ? Effect.fail(new NotFound({ model: def.name, operation: "read", id: idOf(id) }))
            : Effect.succeed(found.value))
        : nodes.read(id, options)
    )
  return { ...nodes, find, read }
}
