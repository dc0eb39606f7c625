/**
 * The traced statement path. With a recording tracer installed, every statement of a node has
 * a `sql.execute` span: on the library's own clients (DataFlow.layer) it is their executor's
 * traced path (the span made by the executor, no `@effect/sql` pipeline); on any other
 * `@effect/sql` client (`PgClient.layer`, `SqliteClient.layer`, `MysqlClient.layer`) it is
 * `@effect/sql`'s statement pipeline (span, transformer, Scope). A suite runs on those paths by
 * wrapping its test bodies in `onPipeline`, and proves it did with `pipelineProblems`.
 */
import { Effect, Option } from "effect"
import type { RecordedSpan } from "./tracer.js"
import { recordingTracer } from "./tracer.js"

/** A recording tracer for one test: every statement run under `run` takes the pipeline. */
export const onPipeline = () => {
  const { tracer, spans } = recordingTracer()
  return {
    spans,
    run: <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => Effect.withTracer(self, tracer)
  }
}

/** An effect's value and the number of SELECT statements it ran (counted by their spans). */
export const selects = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const pipeline = onPipeline()
    const value = yield* pipeline.run(self)
    const count = pipeline.spans.filter((s) =>
      s.name === "sql.execute" && /^\s*SELECT /i.test(String(s.attributes.get("db.query.text") ?? ""))
    ).length
    return { value, count }
  })

const isNodeSpan = (span: RecordedSpan) => /^dataflow\.[^.]+\.[^.]+$/.test(span.name)

/**
 * What shows that the statements did not take the pipeline: no `sql.execute` span at all, or
 * a node call that succeeded without one inside it (a node that fails validation runs no SQL).
 */
export const pipelineProblems = (spans: ReadonlyArray<RecordedSpan>): ReadonlyArray<string> => {
  const statements = spans.filter((s) => s.name === "sql.execute")
  if (statements.length === 0) return ["no sql.execute span: no statement took the pipeline"]
  const withStatement = new Set<string>()
  for (const s of statements) {
    let parent = s.parent
    while (Option.isSome(parent)) {
      withStatement.add(parent.value.spanId)
      parent = parent.value._tag === "Span" ? parent.value.parent : Option.none()
    }
  }
  const succeeded = spans.filter((s) => isNodeSpan(s) && s.status._tag === "Ended" && s.status.exit._tag === "Success")
  const bypassed = succeeded.filter((s) => !withStatement.has(s.spanId)).map((s) => s.name)
  if (succeeded.length === 0) return ["no node span: the nodes ran without the recording tracer"]
  return bypassed.length === 0
    ? []
    : [`${bypassed.length} of ${succeeded.length} successful node calls ran no sql.execute span (${[...new Set(bypassed)].join(", ")})`]
}
