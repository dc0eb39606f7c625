/**
 * Running a planned workflow: each node once the nodes it reads from are done, independent
 * nodes concurrently up to a limit, connections copied from results into parameters (decoded
 * then, with the same decoders), a span per run and per node; optionally the whole run in one
 * transaction.
 * (Internal module: not part of the public API.)
 */
import { SqlClient } from "@effect/sql"
import { Deferred, Effect } from "effect"
import { NodeFailed, WorkflowError } from "../../Errors.js"
import type * as Transaction from "../../Transaction.js"
import { run as inTransaction } from "../runtime/transaction.js"
import type { Plan, PlannedNode } from "./plan.js"
import { outputPath } from "./plan.js"
import * as Shape from "./shape.js"

/** @internal */
export interface RunOptions {
  /** Run the whole workflow in one transaction (`true`, or the transaction's options). */
  readonly transaction?: boolean | Transaction.Options
  /** How many independent nodes run at once; default 4 (1 in a transaction: one connection). */
  readonly concurrency?: number | "unbounded"
}

/** @internal */
export interface RunResult {
  readonly runId: string
  readonly results: Readonly<Record<string, { readonly result: unknown }>>
}

const runNode = <E, R>(
  runId: string,
  planned: PlannedNode<E, R>,
  done: ReadonlyMap<string, Deferred.Deferred<unknown>>,
  permits: Effect.Semaphore
) =>
  Effect.gen(function*() {
    let params: unknown = planned.params
    for (const c of planned.incoming) {
      const result = yield* Deferred.await(done.get(c.from)!)
      params = Shape.set(params, Shape.segments(c.input), Shape.get(result, outputPath(c.output)))
    }
    const input = planned.input._tag === "Some"
      ? planned.input.value
      : yield* Effect.mapError(
        planned.node.decode(params as Readonly<Record<string, unknown>>),
        (e) => new WorkflowError({ ...e, nodeId: planned.id })
      )
    const result = yield* permits.withPermits(1)(
      Effect.mapError(planned.node.run(input), (cause) => new NodeFailed({ runId, nodeId: planned.id, nodeType: planned.type, cause }))
    )
    yield* Deferred.succeed(done.get(planned.id)!, result)
    return result
  }).pipe(Effect.withSpan("Workflow.node", { attributes: { "workflow.node.id": planned.id, "workflow.node.type": planned.type } }))

/** @internal */
export const run = <E, R>(plan: Plan<E, R>, options: RunOptions = {}) =>
  Effect.gen(function*() {
    const runId = crypto.randomUUID()
    yield* Effect.annotateCurrentSpan("workflow.run_id", runId)
    const transaction = options.transaction === undefined || options.transaction === false
      ? undefined
      : options.transaction === true
      ? {}
      : options.transaction
    const limit = transaction !== undefined ? 1 : options.concurrency ?? 4
    const permits = yield* Effect.makeSemaphore(limit === "unbounded" ? Number.MAX_SAFE_INTEGER : Math.max(1, limit))
    const done = new Map<string, Deferred.Deferred<unknown>>()
    for (const node of plan.order) done.set(node.id, yield* Deferred.make<unknown>())
    const all = Effect.forEach(plan.order, (node) => runNode(runId, node, done, permits), { concurrency: "unbounded" })
    const values = transaction === undefined
      ? yield* all
      : yield* Effect.flatMap(SqlClient.SqlClient, (sql) => inTransaction(sql, all, transaction))
    const results: Record<string, { readonly result: unknown }> = {}
    plan.order.forEach((node, i) => {
      results[node.id] = { result: values[i] }
    })
    return { runId, results } satisfies RunResult
  }).pipe(Effect.withSpan("Workflow.execute", { attributes: { "workflow.nodes": plan.order.length } }))
