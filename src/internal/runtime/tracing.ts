/**
 * Spans: one per node call, and one per statement the library runs itself, made only when a
 * tracer that records spans is installed.
 * (Internal module: not part of the public API.)
 */
import type * as Fiber from "effect/Fiber"
import type * as Tracer from "effect/Tracer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { nodeRecorder } from "./metrics.js"
import { NodeMetrics, NodeSpans } from "./settings.js"

/**
 * The tracer of a runtime nothing was installed into, read through the public API once: the
 * spans it makes are recorded nowhere, so making them is pure cost (most of a node's own cost
 * on SQLite). Any other tracer (OpenTelemetry, DevTools, a test's) records them. Should Effect
 * ever hand out another default tracer, spans are simply always made — slower, never wrong
 * (test/paths.test.ts asserts which way the default runtime goes).
 */
const defaultTracer = Effect.runSync(Effect.tracer)

/** Is a tracer that records spans installed in this fiber? @internal */
export const recording = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean => fiber.currentTracer !== defaultTracer

/** @internal */
export interface NodeSpan {
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R>
}

/**
 * The span of a node's calls, `dataflow.<Model>.<node>` (attributes built once), and its
 * metrics (duration, failures by tag, rows written; see `metrics.ts`), unless switched off.
 * @internal
 */
export const nodeSpan = (model: string, table: string, node: string): NodeSpan => {
  const options: Tracer.SpanOptions = {
    kind: "client",
    captureStackTrace: false,
    attributes: { "dataflow.model": model, "dataflow.node": node, "db.collection.name": table }
  }
  const name = `dataflow.${model}.${node}`
  const record = nodeRecorder(model, node)
  return (self) =>
    Effect.withFiberRuntime((fiber) => {
      const services = fiber.currentContext
      const traced = recording(fiber) && Context.get(services, NodeSpans) ? Effect.withSpan(self, name, options) : self
      if (!Context.get(services, NodeMetrics)) return traced
      // wall-clock time: a test's TestClock never moves on its own
      const start = performance.now()
      return Effect.matchCauseEffect(traced, {
        onSuccess: (a) => {
          record.success(a, (performance.now() - start) / 1000)
          return Effect.succeed(a)
        },
        onFailure: (cause) => {
          record.failure(cause, (performance.now() - start) / 1000)
          return Effect.failCause(cause)
        }
      })
    })
}

/** The span of a statement the library runs itself, as `@effect/sql` names its own. @internal */
export const statementSpan = (system: string, operation: string, text: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.withSpan(self, "sql.execute", {
    kind: "client",
    captureStackTrace: false,
    attributes: { "db.system.name": system, "db.operation.name": operation, "db.query.text": text }
  })
