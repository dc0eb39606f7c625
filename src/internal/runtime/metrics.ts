/**
 * The nodes' metrics: a duration histogram per model and node, a failure counter per model,
 * node and error tag, and a counter of rows written. Labels are names (model, node, error tag),
 * never values. Recorded where the node span is made (`tracing.ts`), with the metrics' own
 * synchronous update (no Effect steps per call); the tagged metrics of a node are made once,
 * when the model is declared.
 * (Internal module: not part of the public API; `Metrics` exports the metrics.)
 */
import * as Cause from "effect/Cause"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"

/** Seconds a node call took (validation, statements, decoding), by `model` and `node`. @internal */
export const nodeDuration = Metric.histogram(
  "dataflow_node_duration_seconds",
  MetricBoundaries.fromIterable([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  "Duration of a node call, by model and node"
)

/** Node calls that failed, by `model`, `node` and `error` (the error's tag). @internal */
export const nodeErrors = Metric.counter("dataflow_node_errors_total", {
  description: "Node calls that failed, by model, node and error tag",
  incremental: true
})

/** Rows written (inserted, updated, deleted, restored), by `model` and `node`. @internal */
export const rowsWritten = Metric.counter("dataflow_rows_written_total", {
  description: "Rows written by the nodes, by model and node",
  incremental: true
})

/** How many rows a node's result says it wrote. */
const writtenBy: Record<string, (a: unknown) => number> = {
  create: () => 1,
  update: () => 1,
  upsert: () => 1,
  delete: (a) => (field(a, "deleted") === true ? 1 : 0),
  restore: (a) => (field(a, "restored") === true ? 1 : 0),
  bulkCreate: (a) => count(field(a, "inserted")),
  bulkUpdate: (a) => count(field(a, "updated")),
  bulkDelete: (a) => count(field(a, "deleted")),
  bulkUpsert: (a) => count(field(a, "inserted")) + count(field(a, "updated"))
}

const field = (a: unknown, key: string): unknown =>
  typeof a === "object" && a !== null ? (a as Record<string, unknown>)[key] : undefined
const count = (u: unknown) => (typeof u === "number" ? u : 0)

/** The tag of a failure: the error's `_tag`, or `defect` / `interrupted`. */
const failureTag = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const tag = field(failure.value, "_tag")
    return typeof tag === "string" && /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(tag) ? tag : "Error"
  }
  return Cause.isInterrupted(cause) ? "interrupted" : "defect"
}

/** Records one call of a node: made once per node, called once per call. @internal */
export const nodeRecorder = (model: string, node: string) => {
  const labels = [MetricLabel.make("model", model), MetricLabel.make("node", node)]
  const written = writtenBy[node]
  const errorLabels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  return {
    success: (a: unknown, seconds: number): void => {
      nodeDuration.unsafeUpdate(seconds, labels)
      if (written !== undefined) {
        const rows = written(a)
        if (rows > 0) rowsWritten.unsafeUpdate(rows, labels)
      }
    },
    failure: (cause: Cause.Cause<unknown>, seconds: number): void => {
      nodeDuration.unsafeUpdate(seconds, labels)
      const tag = failureTag(cause)
      let withTag = errorLabels.get(tag)
      if (withTag === undefined) errorLabels.set(tag, withTag = [...labels, MetricLabel.make("error", tag)])
      nodeErrors.unsafeUpdate(1, withTag)
    }
  }
}
