/**
 * Tracing: every node call is one span `dataflow.<Model>.<node>` carrying the model, the node
 * and the table (and `dataflow.rows` for bulk nodes), with the SQL it runs nested inside. No
 * span attribute or event ever carries a field value.
 */
import { expect } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Schema, Tracer } from "effect"
import { Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import type { RecordedSpan } from "./support/tracer.js"
import { recordingTracer } from "./support/tracer.js"

// ---------------------------------------------------------------------------
// a tracer that records everything
// ---------------------------------------------------------------------------

const makeRecorder = () => {
  const { tracer, spans } = recordingTracer()
  /** Runs an effect under the recorder, returning what it produced and the spans it opened. */
  const record = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      spans.length = 0
      const exit = yield* Effect.exit(self.pipe(Effect.withTracer(tracer)))
      return { exit, spans: [...spans] }
    })
  return { record }
}

const render = (value: unknown): string => {
  if (typeof value === "string") return value
  if (typeof value === "bigint") return value.toString()
  if (value instanceof Date) return value.toISOString()
  try {
    return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value)
  } catch {
    return String(value)
  }
}

/** Everything a span exporter would ship: name, attribute keys and values, events. */
const exported = (span: RecordedSpan): ReadonlyArray<string> => [
  span.name,
  ...[...span.attributes].flatMap(([k, v]) => [k, render(v)]),
  ...span.events.flatMap(([name, attributes]) => [name, render(attributes)]),
  ...span.links.map((l) => render(l.attributes))
]

const expectNoValues = (spans: ReadonlyArray<RecordedSpan>, values: ReadonlyArray<string>) => {
  for (const span of spans) {
    for (const text of exported(span)) {
      for (const value of values) {
        expect(text, `span ${span.name} exports a field value`).not.toContain(value)
      }
    }
  }
}

/** Node spans: `dataflow.<Model>.<node>` (not the library's other spans, e.g. `dataflow.transaction`). */
const nodeSpans = (spans: ReadonlyArray<RecordedSpan>) => spans.filter((s) => /^dataflow\.[^.]+\.[^.]+$/.test(s.name))

const attributesOf = (span: RecordedSpan) => Object.fromEntries(span.attributes)

/** Whether `span` has `ancestor` somewhere up its parent chain. */
const descendsFrom = (span: Tracer.AnySpan, ancestor: Tracer.AnySpan): boolean => {
  let current: Tracer.AnySpan = span
  while (current._tag === "Span" && Option.isSome(current.parent)) {
    current = current.parent.value
    if (current.spanId === ancestor.spanId) return true
  }
  return false
}

/** The one node span a call opened; every SQL statement ran inside it. */
const theNodeSpan = (spans: ReadonlyArray<RecordedSpan>, name: string) => {
  const nodes = nodeSpans(spans)
  expect(nodes.map((s) => s.name)).toEqual([name])
  const span = nodes[0]!
  expect(span.status._tag).toBe("Ended")
  for (const sql of spans.filter((s) => s.name.startsWith("sql."))) {
    expect(descendsFrom(sql, span), `${sql.name} runs inside ${name}`).toBe(true)
  }
  return span
}

// ---------------------------------------------------------------------------
// the model and the values that must never leak
// ---------------------------------------------------------------------------

const secretEmail = "zelda.secret.7d1e@example.com"
const secretName = "Zelda Secretname"
const secretAge = 918273
const renamed = "Renamed Secretly"
const bulkEmails = ["bulk.secret.a91@example.com", "bulk.secret.b82@example.com", "bulk.secret.c73@example.com"]
const secrets = [secretEmail, secretName, String(secretAge), renamed, ...bulkEmails, "secret"]

const makePerson = () =>
  Model.make(
    "Person",
    Schema.Struct({
      id: Schema.Int,
      email: Schema.String,
      name: Schema.String,
      age: Schema.NullOr(Schema.Int)
    }),
    { table: uniqueTable("people"), unique: ["email"] }
  )

forEachDatabase("observability", (it) => {
  it.effect("create, read, find, update, list, count, delete: one span each, model/node/table, no values", () =>
    Effect.gen(function*() {
      const Person = makePerson()
      const { record } = makeRecorder()
      const expectSpan = (spans: ReadonlyArray<RecordedSpan>, node: string) => {
        const span = theNodeSpan(spans, `dataflow.Person.${node}`)
        expect(attributesOf(span)).toMatchObject({
          "dataflow.model": "Person",
          "dataflow.node": node,
          "db.collection.name": Person.table
        })
        expect(span.kind).toBe("client")
        expectNoValues(spans, secrets)
        return span
      }

      // first use: the table is created inside the create span
      const created = yield* record(Person.create({ email: secretEmail, name: secretName, age: secretAge }))
      expect(Exit.isSuccess(created.exit)).toBe(true)
      expectSpan(created.spans, "create")
      const person = yield* Exit.match(created.exit, { onFailure: Effect.failCause, onSuccess: Effect.succeed })

      expectSpan((yield* record(Person.read(person.id))).spans, "read")
      expectSpan((yield* record(Person.find(person.id))).spans, "find")
      expectSpan((yield* record(Person.update(person.id, { name: renamed }))).spans, "update")
      expectSpan((yield* record(Person.list({ where: { email: secretEmail }, orderBy: ["-name"] }))).spans, "list")
      expectSpan((yield* record(Person.count({ email: secretEmail, age: secretAge }))).spans, "count")
      expectSpan(
        (yield* record(Person.upsert({ where: { email: secretEmail }, create: { name: secretName, age: 1 }, update: { age: 2 } })))
          .spans,
        "upsert"
      )
      expectSpan((yield* record(Person.delete(person.id))).spans, "delete")
    }))

  it.effect("bulk nodes: one span each with dataflow.rows, no values", () =>
    Effect.gen(function*() {
      const Person = makePerson()
      const { record } = makeRecorder()
      const rows = bulkEmails.map((email, i) => ({ email, name: secretName, age: secretAge + i }))
      const expectBulk = (spans: ReadonlyArray<RecordedSpan>, node: string, count: number) => {
        const span = theNodeSpan(spans, `dataflow.Person.${node}`)
        expect(attributesOf(span)).toMatchObject({
          "dataflow.model": "Person",
          "dataflow.node": node,
          "db.collection.name": Person.table,
          "dataflow.rows": count
        })
        expectNoValues(spans, secrets)
      }

      expectBulk((yield* record(Person.bulkCreate(rows))).spans, "bulkCreate", 3)
      expectBulk((yield* record(Person.bulkCreate([], { returnRecords: true }))).spans, "bulkCreate", 0)
      expectBulk(
        (yield* record(Person.bulkCreate([{ email: "x.secret@example.com", name: secretName, age: null }], { returnRecords: true })))
          .spans,
        "bulkCreate",
        1
      )
      expectBulk((yield* record(Person.bulkUpdate({ name: secretName }, { name: renamed }))).spans, "bulkUpdate", 4)
      expectBulk(
        (yield* record(Person.bulkUpsert(rows.map((r) => ({ ...r, name: secretName })), { conflictOn: ["email"] })))
          .spans,
        "bulkUpsert",
        3
      )
      expectBulk((yield* record(Person.bulkDelete({ name: renamed }))).spans, "bulkDelete", 1)
      expect(yield* Person.count()).toBe(3)
    }))

  it.effect("node spans nest under the caller's span and failures carry no values", () =>
    Effect.gen(function*() {
      const Person = makePerson()
      const { record } = makeRecorder()
      yield* Person.create({ email: secretEmail, name: "a", age: 1 })

      // nested under the caller's own span
      const nested = yield* record(Person.count().pipe(Effect.withSpan("request")))
      const request = nested.spans.find((s) => s.name === "request")!
      const count = theNodeSpan(nested.spans, "dataflow.Person.count")
      expect(Option.map(count.parent, (p) => p.spanId)).toEqual(Option.some(request.spanId))

      // a unique violation: the span ends failed, and neither the span nor the error it ended
      // with mentions the duplicated value
      const duplicate = yield* record(Person.create({ email: secretEmail, name: secretName, age: secretAge }))
      expect(Exit.isFailure(duplicate.exit)).toBe(true)
      const span = theNodeSpan(duplicate.spans, "dataflow.Person.create")
      expectNoValues(duplicate.spans, secrets)
      if (span.status._tag !== "Ended" || Exit.isSuccess(span.status.exit)) {
        expect.fail("the create span did not end with a failure")
        return
      }
      const failure = Cause.failureOption(span.status.exit.cause)
      expect(Option.map(failure, (e) => (e as { readonly _tag?: unknown })._tag)).toEqual(Option.some("UniqueViolation"))
      const pretty = Cause.pretty(span.status.exit.cause)
      for (const value of secrets) expect(pretty).not.toContain(value)

      // a validation failure is still one span, and still value-free
      const invalid = yield* record(Person.create({ email: secretEmail, name: secretName, age: 1.5 }))
      expect(Exit.isFailure(invalid.exit)).toBe(true)
      theNodeSpan(invalid.spans, "dataflow.Person.create")
      expectNoValues(invalid.spans, secrets)
    }))
})
