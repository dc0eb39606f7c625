/**
 * The metrics the library records, as Effect `Metric`s, and their Prometheus text. Every node
 * call is timed and counted (`nodeDuration`, by model and node), its failures counted by error
 * tag (`nodeErrors`), the rows it wrote counted (`rowsWritten`); the library's PostgreSQL pools
 * report their connections (`poolConnections`). Labels are names, never values. Switch the
 * node metrics off with `DataFlow.nodeMetrics(false)`.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as E from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as MetricPair from "effect/MetricPair"
import { poolConnections as pool } from "./internal/client/poolMetrics.js"
import { toPrometheus } from "./internal/runtime/prometheus.js"
import * as internal from "./internal/runtime/metrics.js"

/**
 * Seconds a node call took, a histogram labelled `model` and `node`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const nodeDuration = internal.nodeDuration

/**
 * Failed node calls, a counter labelled `model`, `node` and `error` (the error's tag,
 * `defect` or `interrupted`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const nodeErrors = internal.nodeErrors

/**
 * Rows written by the nodes (inserted, updated, deleted, restored), a counter labelled `model`
 * and `node`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const rowsWritten = internal.rowsWritten

/**
 * Connections of the library's PostgreSQL pools, a gauge labelled `database` and `state`
 * (`total`, `idle`, `waiting`). (`mysql2` exposes no pool counts; SQLite has one connection.)
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolConnections = pool

/**
 * Metrics as Prometheus text (exposition format 0.0.4), from any set of metric pairs.
 *
 * @since 0.1.0
 * @category prometheus
 */
export const toPrometheusText: (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>) => string = toPrometheus

/**
 * Every metric of the process (the library's and the application's) as Prometheus text:
 * what `/metrics` of `DataFlowHttp` serves.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Metrics } from "effect-dataflow"
 *
 * const text = Effect.runSync(Metrics.prometheus)
 * ```
 *
 * @since 0.1.0
 * @category prometheus
 */
export const prometheus: Effect.Effect<string> = E.map(Metric.snapshot, toPrometheus)
