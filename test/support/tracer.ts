/** A tracer that records every span (name, attributes, events, links, status) for tests. */
import { Option, Tracer } from "effect"

export interface RecordedSpan extends Tracer.Span {
  readonly events: ReadonlyArray<readonly [name: string, attributes: Record<string, unknown>]>
}

export const recordingTracer = (
  onAttribute: (span: string, key: string, value: unknown) => void = () => {}
): { readonly tracer: Tracer.Tracer; readonly spans: Array<RecordedSpan> } => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      const attributes = new Map<string, unknown>()
      const events: Array<readonly [string, Record<string, unknown>]> = []
      const linkList: Array<Tracer.SpanLink> = [...links]
      const span: RecordedSpan = {
        _tag: "Span",
        name,
        spanId: crypto.randomUUID(),
        traceId: Option.isSome(parent) ? parent.value.traceId : crypto.randomUUID(),
        parent,
        context,
        get status() {
          return status
        },
        attributes,
        events,
        links: linkList,
        sampled: true,
        kind,
        end: (endTime, exit) => {
          status = { _tag: "Ended", startTime, endTime, exit }
        },
        attribute: (key, value) => {
          attributes.set(key, value)
          onAttribute(name, key, value)
        },
        event: (eventName, _time, eventAttributes) => {
          events.push([eventName, eventAttributes ?? {}])
        },
        addLinks: (more) => {
          linkList.push(...more)
        }
      }
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  return { tracer, spans }
}
