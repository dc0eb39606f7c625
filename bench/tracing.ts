/**
 * A recording tracer for the traced rows: OpenTelemetry as an application installs it
 * (`Tracer.layer` from `@effect/opentelemetry` over an SDK tracer provider), with every span
 * handed to an in-memory exporter by a `SimpleSpanProcessor` (exported as it ends, none
 * dropped or sampled away). With it installed, Effect's tracer is no longer the built-in one,
 * so the nodes open their node spans and send their statements through `@effect/sql`'s
 * statement pipeline (which opens an `sql.execute` span per statement), as in production.
 */
import { Resource, Tracer } from "@effect/opentelemetry"
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import type { Effect } from "effect"
import { Effect as E, Layer } from "effect"

export interface RecordingTracer {
  /** Runs an effect with the tracer installed (the layer is built for each call: once per timed run). */
  readonly traced: <A, Err, R>(self: Effect.Effect<A, Err, R>) => Effect.Effect<A, Err, R>
  /** Spans recorded since the last `clear`. */
  readonly recorded: () => number
  /** Drops the recorded spans (between runs, so memory does not grow). */
  readonly clear: () => void
}

export const makeRecordingTracer = (): RecordingTracer => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const layer = Tracer.layer.pipe(
    Layer.provide(Resource.layer({ serviceName: "effect-dataflow-bench" })),
    Layer.provide(Layer.succeed(Tracer.OtelTracerProvider, provider))
  )
  return {
    traced: (self) => E.provide(self, layer),
    recorded: () => exporter.getFinishedSpans().length,
    clear: () => exporter.reset()
  }
}
