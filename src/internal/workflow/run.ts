/**
 * Running a planned workflow: level by level (each node after the nodes it reads from), the
 * independent nodes of a level concurrently up to a limit, connections copied from results into parameters (decoded
 * then, with the same decoders), a span per run and per node; optionally the whole run in one
 * transaction.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { NodeFailed, WorkflowError } from "../../Errors.js"
import type * as Transaction from "../../Transaction.js"
import { NodeSpans } from "../runtime/settings.js"
import { recording } from "../runtime/tracing.js"
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

/** A span, made only when a tracer that records spans is installed and node spans are on (as the nodes' own). */
const traced = (name: string, attributes: Record<string, unknown>) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.withFiberRuntime<A, E, R>((fiber) =>
    recording(fiber) && Context.get(fiber.currentContext, NodeSpans)
      ? Effect.withSpan(self, name, { captureStackTrace: false, attributes })
      : self
  )

/** The nodes in levels: a node's level is one more than the highest of the nodes it reads from. */
const levelsOf = <E, R>(plan: Plan<E, R>): ReadonlyArray<ReadonlyArray<PlannedNode<E, R>>> => {
  const level = new Map<string, number>()
  const levels: Array<Array<PlannedNode<E, R>>> = []
  for (const node of plan.order) {
    const at = node.incoming.reduce((max, c) => Math.max(max, level.get(c.from)! + 1), 0)
    level.set(node.id, at)
    ;(levels[at] ??= []).push(node)
  }
  return levels
}

const runNode = <E, R>(runId: string, planned: PlannedNode<E, R>, done: Map<string, unknown>) =>
  Effect.gen(function*() {
    let params: unknown = planned.params
    for (const c of planned.incoming) {
      params = Shape.set(params, Shape.segments(c.input), Shape.get(done.get(c.from), outputPath(c.output)))
    }
    const input = planned.input._tag === "Some"
      ? planned.input.value
      : yield* Effect.mapError(
        planned.node.decode(params as Readonly<Record<string, unknown>>),
        (e) => new WorkflowError({ ...e, nodeId: planned.id })
      )
    const result = yield* Effect.mapError(
      planned.node.run(input),
      (cause) => new NodeFailed({ runId, nodeId: planned.id, nodeType: planned.type, cause })
    )
    done.set(planned.id, result)
  }).pipe(traced("Workflow.node", { "workflow.node.id": planned.id, "workflow.node.type": planned.type }))

/** @internal */
export const run = <E, R>(plan: Plan<E, R>, options: RunOptions = {}) =>
  Effect.suspend(() => {
    const runId = crypto.randomUUID()
    return runWith(runId, plan, options).pipe(
      traced("Workflow.execute", { "workflow.run_id": runId, "workflow.nodes": plan.order.length })
    )
  })

const runWith = <E, R>(runId: string, plan: Plan<E, R>, options: RunOptions) =>
  Effect.gen(function*() {
    const transaction = options.transaction === undefined || options.transaction === false
      ? undefined
      : options.transaction === true
      ? {}
      : options.transaction
    const concurrency = transaction !== undefined ? 1 : options.concurrency ?? 4
    const done = new Map<string, unknown>()
    // level by level: the nodes of a level are independent; a level of one runs without a fiber of its own
    const all = Effect.forEach(levelsOf(plan), (level) =>
      level.length === 1 || concurrency === 1
        ? Effect.forEach(level, (node) => runNode(runId, node, done), { discard: true })
        : Effect.forEach(level, (node) => runNode(runId, node, done), { concurrency, discard: true }), { discard: true })
    yield* transaction === undefined ? all : Effect.flatMap(SqlClient.SqlClient, (sql) => inTransaction(sql, all, transaction))
    const results: Record<string, { readonly result: unknown }> = {}
    for (const node of plan.order) results[node.id] = { result: done.get(node.id) }
    return { runId, results } satisfies RunResult
  })
