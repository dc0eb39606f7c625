/**
 * The nodes' fast paths against their general ones:
 * - on the library's own clients (what `DataFlow.layer` opens) statements go to the client's
 *   executor, whatever the tracer, unless a statement transformer is set; on any other client
 *   they take `@effect/sql`'s statement pipeline (its spans, its transformer);
 * - bulkCreate validates and encodes rows in one pass (no records) unless it must return
 *   records or a row needs the full path (an explicit generated key, an invalid row): both
 *   store the same rows, managed fields included.
 */
import { expect } from "@effect/vitest"
import { SqlClient, Statement } from "@effect/sql"
import { Deferred, Effect, Exit, Fiber, Schema, TestClock } from "effect"
import { DataFlow, Model, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { recordingTracer } from "./support/tracer.js"

const fields = {
  id: Schema.Int,
  sku: Schema.String.pipe(Schema.maxLength(40)),
  label: Schema.NullOr(Schema.String),
  note: Schema.optional(Schema.String),
  qty: Schema.Int,
  meta: Schema.Struct({ tags: Schema.Array(Schema.String) })
}

const rows = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    sku: `${prefix}-${i}`,
    label: i % 3 === 0 ? null : `label ${i}`,
    ...(i % 2 === 0 ? { note: `note ${i}` } : {}),
    qty: i,
    meta: { tags: i % 4 === 0 ? [] : [`t${i}`] }
  }))

/** Stored records without the generated key, in insertion order. */
const stored = <R extends { readonly id: number }>(records: ReadonlyArray<R>) =>
  records.map(({ id: _, ...rest }) => rest)

forEachDatabase("fast paths", (it, db) => {
  // DataFlow.layer's PostgreSQL client: the nodes' statements are named prepared statements
  if (db.label === "pg") {
    it.effect("a statement used twice is a named prepared statement of the connection", () =>
      Effect.gen(function*() {
        const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
        const created = yield* Thing.create(rows("p", 1)[0]!)
        const sql = yield* SqlClient.SqlClient
        const prepared = yield* Effect.gen(function*() {
          yield* Thing.read(created.id)
          expect(yield* Thing.read(created.id)).toEqual(created)
          return yield* sql.unsafe<{ name: string; statement: string }>(
            "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'dataflow\\_%'"
          ).withoutTransform
        }).pipe(DataFlow.transaction())
        expect(prepared.some((p) => p.statement.startsWith("SELECT") && p.statement.includes("WHERE"))).toBe(true)
      }))
  }

  // on DataFlow.layer's client and on PgClient.layer alike
  if (db.name === "pg") {
    it.effect("an interrupted statement is cancelled on the server, not applied later", () =>
      Effect.gen(function*() {
        const table = uniqueTable("things")
        const Thing = Model.make("Thing", fields, { table, timestamps: false })
        const created = yield* Thing.create(rows("i", 1)[0]!)
        const sql = yield* SqlClient.SqlClient
        const locked = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        // another transaction holds the row
        const locker = yield* Effect.fork(DataFlow.transaction(Effect.gen(function*() {
          yield* Thing.update(created.id, { qty: 1 })
          yield* Deferred.succeed(locked, undefined)
          yield* Deferred.await(release)
        })))
        yield* Deferred.await(locked)
        const blocked = yield* Effect.fork(Thing.update(created.id, { qty: 2 }))
        const waiting = sql.unsafe<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
          [`UPDATE "${table}"%`]
        ).withoutTransform.pipe(Effect.map((r) => r[0]!.n))
        while ((yield* waiting) === 0) yield* Effect.yieldNow()
        yield* Fiber.interrupt(blocked)
        while ((yield* waiting) > 0) yield* Effect.yieldNow()
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(locker)
        expect((yield* Thing.read(created.id)).qty).toBe(1)
      }))

    it.effect("past 500 prepared texts, statements still run (unprepared)", () =>
      Effect.gen(function*() {
        const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
        yield* Thing.bulkCreate(rows("q", 10))
        // a different text per list length, each used twice
        for (let n = 1; n <= 520; n++) {
          const qty = Array.from({ length: n }, (_, i) => i)
          expect(yield* Thing.count({ qty: { $in: qty } })).toBe(Math.min(n, 10))
          expect(yield* Thing.count({ qty: { $in: qty } })).toBe(Math.min(n, 10))
        }
      }), 60_000)
  }

  // which path runs, told apart through public spans: @effect/sql's pipeline names its rows
  // statements "executeWithoutTransform", the executor of the library's clients "execute"
  const ownClient = db.label === "sqlite" || db.label === "pg" || db.label === "mysql"
  it.effect(`statements run on ${ownClient ? "the client's executor" : "@effect/sql's statement pipeline"} (${db.label})`, () =>
    Effect.gen(function*() {
      const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
      const created = yield* Thing.create(rows("a", 1)[0]!)
      const { spans, tracer } = recordingTracer()
      yield* Effect.all([Thing.read(created.id), Thing.create(rows("b", 1)[0]!), Thing.bulkDelete({ sku: "none" })]).pipe(
        Effect.withTracer(tracer)
      )
      const operations = new Set(spans.filter((s) => s.name === "sql.execute").map((s) => s.attributes.get("db.operation.name")))
      if (ownClient) expect([...operations].every((o) => o === "execute" || o === "executeRaw")).toBe(true)
      else expect(operations.has("executeWithoutTransform")).toBe(true)
      expect(operations.size).toBeGreaterThan(0)
    }))

  it.effect("statements take @effect/sql's pipeline when a statement transformer is set", () =>
    Effect.gen(function*() {
      const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
      const created = yield* Thing.create(rows("a", 1)[0]!)
      const seen: Array<string> = []
      const read = yield* Thing.read(created.id).pipe(
        Statement.withTransformer((statement, _sql, _refs, _span) =>
          Effect.sync(() => {
            seen.push(statement.compile()[0])
            return statement
          })
        )
      )
      expect(read).toEqual(created)
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatch(/^SELECT .* WHERE /)
    }))

  it.effect("statements open @effect/sql's sql.execute spans under a recording tracer", () =>
    Effect.gen(function*() {
      const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
      const created = yield* Thing.create(rows("a", 1)[0]!)
      const { spans, tracer } = recordingTracer()
      yield* Thing.read(created.id).pipe(Effect.withTracer(tracer))
      yield* Thing.count({ qty: 0 }).pipe(Effect.withTracer(tracer))
      const statements = spans.filter((s) => s.name === "sql.execute")
      expect(statements).toHaveLength(2)
      for (const s of statements) expect(s.attributes.get("db.query.text")).toMatch(/^SELECT /)
    }))

  it.effect("a statement outside waits for another fiber's transaction and is not part of it", () =>
    Effect.gen(function*() {
      const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
      const [first, second] = rows("w", 2)
      yield* DataFlow.migrate([Thing])
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const inside = yield* Effect.fork(DataFlow.transaction(Effect.gen(function*() {
        yield* Thing.create(first!)
        yield* Deferred.succeed(started, undefined)
        yield* Deferred.await(release)
        return yield* Effect.fail("roll back" as const)
      })))
      yield* Deferred.await(started)
      const outside = yield* Effect.fork(Thing.create(second!))
      for (let i = 0; i < 50; i++) yield* Effect.yieldNow()
      yield* Deferred.succeed(release, undefined)
      expect(Exit.isFailure(yield* Fiber.await(inside))).toBe(true)
      const written = yield* Fiber.join(outside)
      expect((yield* Thing.list()).records).toEqual([written])
    }))

  it.effect("bulkCreate stores the same rows on its fast path and with returned records", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2025, 4, 6, 7, 8, 9, 123))
      const make = () =>
        Model.make("Ledger", fields, {
          table: uniqueTable("ledgers"),
          unique: ["sku"],
          softDelete: true,
          versioned: true,
          tenantScoped: true
        })
      const Fast = make()
      const Slow = make()
      const input = rows("r", 1500)
      const program = Effect.gen(function*() {
        expect(yield* Fast.bulkCreate(input)).toEqual({ inserted: 1500 })
        const returned = yield* Slow.bulkCreate(input, { returnRecords: true })
        expect(returned.inserted).toBe(1500)
        const fast = (yield* Fast.list({ orderBy: ["id"] })).records
        const slow = (yield* Slow.list({ orderBy: ["id"] })).records
        expect(stored(fast)).toEqual(stored(slow))
        expect(stored(slow)).toEqual(stored(returned.records ?? []))
        expect(fast[0]).toMatchObject({
          version: 1,
          createdAt: new Date(Date.UTC(2025, 4, 6, 7, 8, 9, 123)),
          updatedAt: new Date(Date.UTC(2025, 4, 6, 7, 8, 9, 123))
        })
        expect(fast[0]).not.toHaveProperty("deletedAt", expect.anything())
      })
      yield* program.pipe(Tenant.with("acme"))
      // the tenant column was written: another tenant sees nothing
      expect(yield* Fast.count().pipe(Tenant.with("globex"))).toBe(0)
    }))

  it.effect("bulkUpsert: the one-pass path and the record path (a constructor default) agree", () =>
    Effect.gen(function*() {
      const options = { unique: ["sku"], softDelete: true, versioned: true, tenantScoped: true } as const
      const Fast = Model.make("Stock", fields, { ...options, table: uniqueTable("stocks") })
      const Slow = Model.make("Stock", {
        ...fields,
        origin: Schema.String.pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "default"))
      }, { ...options, table: uniqueTable("stocks") })
      const first = rows("u", 1200)
      // half of them exist, one was deleted (it comes back), and a key repeats (the last wins)
      const second = [...rows("u", 2400).slice(600), { ...rows("u", 1)[0]!, sku: "u-700", qty: -7 }]
      const run = <M extends typeof Fast | typeof Slow>(M: M) =>
        Effect.gen(function*() {
          yield* TestClock.setTime(Date.UTC(2025, 0, 1))
          expect(yield* (M as typeof Fast).bulkUpsert(first, { conflictOn: ["sku"] })).toEqual({ inserted: 1200, updated: 0 })
          const gone = (yield* (M as typeof Fast).findFirst({ sku: "u-650" })).pipe((o) => o._tag === "Some" ? o.value : undefined)
          yield* (M as typeof Fast).delete(gone!.id)
          yield* TestClock.setTime(Date.UTC(2025, 0, 2))
          const result = yield* (M as typeof Fast).bulkUpsert(second, { conflictOn: ["sku"] })
          const { records } = yield* (M as typeof Fast).list({ orderBy: ["sku"] })
          return { result, records: records.map(({ id: _, origin: __, ...r }: Record<string, unknown>) => r) }
        }).pipe(Tenant.with("acme"))
      const fast = yield* run(Fast)
      const slow = yield* run(Slow)
      // the deleted row comes back: counted as inserted (it was not there)
      expect(fast.result).toEqual({ inserted: 1201, updated: 599 })
      expect(slow.result).toEqual(fast.result)
      expect(fast.records).toEqual(slow.records)
      expect(fast.records).toHaveLength(2400)
      const repeated = fast.records.find((r) => r.sku === "u-700")
      expect(repeated).toMatchObject({ qty: -7, version: 2, createdAt: new Date(Date.UTC(2025, 0, 1)), updatedAt: new Date(Date.UTC(2025, 0, 2)) })
      // a revived row comes back as a new record, as upsert revives one: version 1, created anew
      expect(fast.records.find((r) => r.sku === "u-650")).toMatchObject({
        version: 1,
        createdAt: new Date(Date.UTC(2025, 0, 2)),
        deletedAt: null
      })
    }))

  it.effect("bulkCreate: rows naming their generated key and rows without it, in one call", () =>
    Effect.gen(function*() {
      const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
      const input: Array<ReturnType<typeof rows>[number] & { readonly id?: number }> = rows("k", 6).map((r, i) =>
        i % 2 === 0 ? { ...r, id: 1000 + i } : r
      )
      expect(yield* Thing.bulkCreate(input)).toEqual({ inserted: 6 })
      const all = (yield* Thing.list({ orderBy: ["sku"] })).records
      expect(all.map((r) => r.sku)).toEqual(input.map((r) => r.sku))
      expect(all.filter((_, i) => i % 2 === 0).map((r) => r.id)).toEqual([1000, 1002, 1004])
      expect(stored(all)).toEqual(input.map(({ id: _, ...r }) => r))
    }))

  it.effect("bulkCreate: a bad row late in a chunk fails naming it; nothing is written", () =>
    Effect.gen(function*() {
      const Thing = Model.make("Thing", fields, { table: uniqueTable("things"), timestamps: false })
      const input: Array<unknown> = rows("b", 1200)
      input[1100] = { ...rows("b", 1)[0], qty: 1.5 }
      const error = yield* Effect.flip(Thing.bulkCreate(input as never))
      expect(error).toMatchObject({ _tag: "ValidationError", operation: "bulkCreate", path: "qty", rowIndex: 1100 })
      const excess = yield* Effect.flip(Thing.bulkCreate([...rows("c", 3), { ...rows("c", 1)[0], extra: 1 }] as never))
      expect(excess).toMatchObject({ _tag: "ValidationError", rowIndex: 3 })
      expect(yield* Thing.count()).toBe(0)
      // and through raw SQL, not the model
      const sql = yield* SqlClient.SqlClient
      const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
      const raw = yield* sql.unsafe<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(Thing.table)}`).withoutTransform
      expect(Number(raw[0]!.n)).toBe(0)
    }))
})

/**
 * One rule for both paths: every input — valid or not, of every field type — gets the same
 * answer from `create` (the general path: Schema validation when the quick check fails, then
 * storage checks, stamping, record encoding), from `bulkCreate` (the one-pass encoder, which
 * falls back to the general path to word an error) and from `bulkUpsert`: the same stored
 * record, or the same ValidationError (path and reason).
 */
forEachDatabase("one rule", (it) => {
  const Typed = () =>
    Model.make("Typed", {
      id: Schema.Int,
      name: Schema.String.pipe(Schema.maxLength(8)),
      code: Schema.optional(Schema.String),
      count: Schema.Int,
      ratio: Schema.NullOr(Schema.Number),
      big: Schema.BigIntFromSelf,
      at: Schema.DateFromSelf,
      flag: Schema.Boolean,
      kind: Schema.Literal("a", "b"),
      meta: Schema.Struct({ tags: Schema.Array(Schema.String) })
    }, { table: uniqueTable("typed"), unique: ["name"] })

  const valid = {
    name: "ok",
    count: 1,
    ratio: 0.5,
    big: 5n,
    at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
    flag: true,
    kind: "a" as const,
    meta: { tags: ["x"] }
  }
  // one change at a time to a valid row, each either valid or refused for one reason
  const variants: ReadonlyArray<Record<string, unknown>> = [
    {},
    { code: "c" },
    { ratio: null },
    { name: "123456789" },
    { name: "a\u0000b" },
    { name: "a\uD800" },
    { name: 5 },
    { count: 1.5 },
    { count: Number.NaN },
    { ratio: Number.POSITIVE_INFINITY },
    { ratio: -0 },
    { big: 2n ** 64n },
    { big: 5 },
    { at: new Date(Date.UTC(10000, 0, 1)) },
    { at: new Date(Number.NaN) },
    { at: "2024-01-01" },
    { flag: "yes" },
    { kind: "c" },
    { meta: { tags: [1] } },
    { meta: { tags: ["a\u0000"] } },
    { meta: JSON.parse("{\"tags\": [], \"__proto__\": 1}") },
    { extra: 1 },
    { createdAt: new Date() },
    { code: undefined },
    { count: undefined },
    { id: 7 }
  ]

  it.effect("create, bulkCreate and bulkUpsert store or refuse every input alike", () =>
    Effect.gen(function*() {
      const results: Array<readonly [string, ReadonlyArray<unknown>]> = []
      for (const [i, change] of variants.entries()) {
        const row = { ...valid, name: `n${i}`, ...change }
        const viaCreate = Typed()
        const viaBulk = Typed()
        const viaUpsert = Typed()
        const outcome = <A>(self: Effect.Effect<A, unknown, SqlClient.SqlClient>) =>
          Effect.map(Effect.either(self), (e) =>
            e._tag === "Left"
              ? { error: (e.left as { _tag?: string })._tag, path: (e.left as { path?: string }).path, reason: (e.left as { reason?: string }).reason }
              : "stored")
        const created = yield* outcome(viaCreate.create(row as never))
        const bulk = yield* outcome(viaBulk.bulkCreate([row as never]))
        const upserted = yield* outcome(viaUpsert.bulkUpsert([row as never], { conflictOn: ["name"] }))
        const storedOf = (m: ReturnType<typeof Typed>) =>
          Effect.map(m.list(), (r) => r.records.map(({ id: _, createdAt: _c, updatedAt: _u, ...rest }) => rest))
        results.push([JSON.stringify(change, (_, v) => (typeof v === "bigint" ? `${v}n` : v)), [
          created,
          bulk,
          upserted,
          yield* storedOf(viaCreate),
          yield* storedOf(viaBulk),
          yield* storedOf(viaUpsert)
        ]])
      }
      for (const [change, [created, bulk, upserted, a, b, c]] of results) {
        expect(bulk, change).toEqual(created)
        expect(upserted, change).toEqual(created)
        expect(b, change).toEqual(a)
        expect(c, change).toEqual(a)
      }
      // the variants really cover both answers
      expect(results.filter(([, [created]]) => created === "stored").length).toBeGreaterThan(3)
      expect(results.filter(([, [created]]) => created !== "stored").length).toBeGreaterThan(15)
    }), 60_000)
})
