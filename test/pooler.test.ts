/**
 * PostgreSQL behind PgBouncer in transaction mode (three server connections shared by up to
 * twenty client connections): with `pooler: "transaction"` the nodes, transactions, streams,
 * bulk nodes and the schema-per-tenant strategy work; without it, named prepared statements
 * collide on shared server connections and the error says what to do.
 */
import { SqlClient } from "@effect/sql"
import { Chunk, Effect, Either, Layer, Schema, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { DataFlow, Model, Tenant } from "../src/index.js"
import * as Migration from "../src/Migration.js"
import { poolerOfUrl } from "../src/internal/client/layer.js"
import { uniqueTable } from "./support/db.js"
import * as PgBouncer from "./support/pgbouncer.js"

const runId = inject("runId")
const pgUp = inject("pgAvailable")

describe("pooler URL parameters", () => {
  it("?pooler=transaction and ?pgbouncer=true ask for the pooler mode and leave the URL", () => {
    expect(poolerOfUrl("postgres://u@h:6432/db?pooler=transaction")).toEqual({ url: "postgres://u@h:6432/db", pooler: "transaction" })
    expect(poolerOfUrl("postgres://u@h/db?sslmode=require&pgbouncer=true")).toEqual({
      url: "postgres://u@h/db?sslmode=require",
      pooler: "transaction"
    })
    expect(poolerOfUrl("postgres://u@h/db?pgbouncer=false")).toEqual({ url: "postgres://u@h/db", pooler: undefined })
    expect(poolerOfUrl("postgres://u@h/db")).toEqual({ url: "postgres://u@h/db", pooler: undefined })
    expect(poolerOfUrl("postgres://u@h/db?pooler=session").invalid).toBe("pooler=session")
  })

  it("refused where it cannot work: a bad value, MySQL or SQLite, with statementTimeout", async () => {
    const fails = (options: DataFlow.LayerOptions) =>
      Effect.runPromise(Effect.flip(Layer.build(DataFlow.layer(options)).pipe(Effect.scoped)))
    expect(String(await fails({ url: "postgres://u@127.0.0.1:1/db?pooler=session" }))).toContain("pooler=session")
    expect(String(await fails({ url: "mysql://root@127.0.0.1:1/db", pooler: "transaction" }))).toContain("PostgreSQL")
    expect(String(await fails({ url: "sqlite::memory:", pooler: "transaction" }))).toContain("PostgreSQL")
    expect(String(await fails({ url: "postgres://u@127.0.0.1:1/db?pgbouncer=true", statementTimeout: "1 second" }))).toContain(
      "ALTER ROLE"
    )
  })
})

const Item = Model.make("Item", Schema.Struct({ id: Schema.Int, name: Schema.String, n: Schema.Int }), {
  table: uniqueTable("pool_items"),
  unique: ["name"],
  versioned: true
})
const Page = Model.make("Page", Schema.Struct({ id: Schema.Int, slug: Schema.String }), {
  table: uniqueTable("pool_pages"),
  tenantScoped: true
})

if (PgBouncer.binary !== undefined && pgUp) {
  describe("behind PgBouncer in transaction mode", () => {
    let bouncer: PgBouncer.Bouncer
    beforeAll(async () => {
      bouncer = await PgBouncer.start(3)
    }, 30_000)
    afterAll(() => bouncer?.stop())

    const schema = `df_${runId}_pooler`
    const pooled = () => DataFlow.layer({ url: bouncer.url, pooler: "transaction", schema, pool: { max: 20 } })
    const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>, layer = pooled()): Promise<A> =>
      Effect.runPromise(Effect.provide(effect, layer))

    it("the nodes, concurrently on shared server connections, with exact results", async () => {
      const result = await run(Effect.gen(function*() {
        yield* Item.bulkCreate(Array.from({ length: 50 }, (_, i) => ({ name: `seed${i}`, n: 0 })))
        // 400 calls of every kind, 20 at a time, the same statement texts over and over
        yield* Effect.forEach(Array.from({ length: 400 }, (_, i) => i), (i): Effect.Effect<unknown, unknown, SqlClient.SqlClient> => {
          switch (i % 8) {
            case 0:
              return Item.create({ name: `c${i}`, n: i })
            case 1:
              return Item.read(1 + (i % 50))
            case 2:
              return Item.update(1 + (i % 50), { n: { $increment: 1 } })
            case 3:
              return Item.list({ where: { n: { $gte: 0 } }, orderBy: ["-n"], limit: 5, total: true })
            case 4:
              return Item.count({ name: { $startsWith: "c" } })
            case 5:
              return Item.upsert({ create: { name: `u${i % 16}`, n: 1 }, update: { n: { $increment: 1 } }, conflictOn: ["name"] })
            case 6:
              return Item.bulkUpsert([{ name: `b${i % 24}`, n: i }, { name: `b${(i + 1) % 24}`, n: i }], { conflictOn: ["name"] })
            default:
              return Item.exists({ n: { $gt: 1000 } })
          }
        }, { concurrency: 20, discard: true })
        const sql = yield* SqlClient.SqlClient
        const increments = yield* sql.unsafe<{ s: string }>(`SELECT SUM(n)::text AS s FROM "${schema}"."${Item.table}" WHERE name LIKE 'seed%'`)
        const upserts = yield* sql.unsafe<{ s: string }>(`SELECT SUM(n)::text AS s FROM "${schema}"."${Item.table}" WHERE name LIKE 'u%'`)
        return {
          created: yield* Item.count({ name: { $startsWith: "c" } }),
          increments: Number(increments[0]!.s),
          upserts: Number(upserts[0]!.s),
          bulk: yield* Item.count({ name: { $startsWith: "b" } })
        }
      }))
      expect(result).toEqual({ created: 50, increments: 50, upserts: 50, bulk: 6 })
    }, 60_000)

    it("transactions: all or nothing, concurrently, and a stream inside one", async () => {
      const outcome = await run(Effect.gen(function*() {
        const before = yield* Item.count()
        const results = yield* Effect.forEach(Array.from({ length: 30 }, (_, i) => i), (i) =>
          Effect.either(DataFlow.transaction(Effect.gen(function*() {
            yield* Item.create({ name: `t${i}a`, n: i })
            yield* Item.create({ name: `t${i}b`, n: i })
            // every third transaction fails after writing: rolled back
            if (i % 3 === 0) yield* Item.create({ name: `t${i}a`, n: i })
          }))), { concurrency: 10 })
        const streamed = yield* DataFlow.transaction(
          Stream.runCollect(Item.stream({ where: { name: { $startsWith: "t" } }, pageSize: 7 }))
        )
        return {
          failed: results.filter(Either.isLeft).length,
          added: (yield* Item.count()) - before,
          streamed: Chunk.size(streamed)
        }
      }))
      expect(outcome).toEqual({ failed: 10, added: 40, streamed: 40 })
    }, 60_000)

    it("a schema per tenant", async () => {
      const one = `df_${runId}_pool1`
      const two = `df_${runId}_pool2`
      const titles = await run(Effect.gen(function*() {
        yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) =>
          Page.create({ slug: `p${i}` }).pipe(Tenant.with(i % 2 === 0 ? one : two)), { concurrency: 10, discard: true })
        return [yield* Page.count().pipe(Tenant.with(one)), yield* Page.count().pipe(Tenant.with(two))]
      }).pipe(Effect.provide(Tenant.strategy("schema"))))
      expect(titles).toEqual([10, 10])
    }, 60_000)

    it("schema lifecycle through the pooler: first-use column adds, DataFlow.migrate, Migration plan / apply / status", async () => {
      // in the database's own schema (Migration reads the connection's schema): named after the run
      const table = `pool_mig_${runId}`
      const V1 = Model.make("Mig", Schema.Struct({ id: Schema.Int, name: Schema.String }), { table })
      const V2 = Model.make("Mig", Schema.Struct({ id: Schema.Int, name: Schema.String, note: Schema.NullOr(Schema.String) }), {
        table,
        indexes: ["id"]
      })
      const pooledPublic = () => DataFlow.layer({ url: bouncer.url, pooler: "transaction", pool: { max: 5 } })
      const outcome = await run(Effect.gen(function*() {
        yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP TABLE IF EXISTS "${table}"`))
        yield* DataFlow.migrate([V1])
        yield* V1.create({ name: "a" })
        const planned = yield* Migration.plan([V2], { name: "add note" })
        const applied = yield* Migration.apply(planned)
        const after = yield* Migration.status([V2])
        yield* V2.create({ name: "b", note: "n" })
        const count = yield* V2.count()
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(`DROP TABLE "${table}"`)
        return { operations: planned.operations.length, applied, pending: after, count }
      }), pooledPublic())
      expect(outcome.operations).toBeGreaterThan(0)
      expect(outcome.count).toBe(2)
    }, 60_000)

    it("without the option, named statements collide on shared server connections: the error says what to do", async () => {
      const error = await run(
        Effect.flip(Effect.forEach(Array.from({ length: 300 }, (_, i) => i), (i) => Item.read(1 + (i % 50)), { concurrency: 20 })),
        DataFlow.layer({ url: bouncer.url, schema, pool: { max: 20 } })
      )
      expect(error._tag).toBe("DatabaseError")
      expect(error.message).toContain(`pooler: "transaction"`)
    }, 60_000)
  })
} else if (process.env.CI === "true" && pgUp) {
  // under CI the pooler is part of the suite: .ci/run installs it
  it("PgBouncer is installed (CI=true)", () => {
    expect(PgBouncer.binary, "pgbouncer is not installed: apt-get install pgbouncer").toBeDefined()
  })
} else {
  describe.skipIf(true)(`behind PgBouncer (${PgBouncer.binary === undefined ? "pgbouncer not installed" : "PostgreSQL not reachable"})`, () => {
    it("needs pgbouncer and PostgreSQL", () => {})
  })
}
