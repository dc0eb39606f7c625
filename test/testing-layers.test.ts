/**
 * The testing kit's layers (effect-dataflow/testing): `layerMemory` is a fresh database per
 * build; `rollback` leaves nothing behind on every database, passes the work's result and
 * failure through, makes nested transactions savepoints, and keeps concurrent tests apart;
 * `layerIsolated` creates and drops a schema (PostgreSQL) / database (MySQL) of its own.
 */
import { expect, it as effectIt } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Exit, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { mysqlUrl, pgUrl } from "./support/servers.js"
import { inject } from "vitest"

const Note = Model.make("TestingNote", {
  id: Schema.Int,
  owner: Schema.String,
  text: Schema.String
}, { table: uniqueTable("testing_notes"), unique: [["owner", "text"]] })

class Boom extends Schema.TaggedError<Boom>()("Boom", {}) {}

forEachDatabase("testing kit: rollback", (it, db) => {
  it.effect("a test's writes are rolled back; its result comes out", () =>
    Effect.gen(function*() {
      const created = yield* Effect.gen(function*() {
        yield* Note.create({ owner: "a", text: "one" })
        yield* Note.bulkCreate([{ owner: "a", text: "two" }, { owner: "a", text: "three" }])
        expect(yield* Note.count({ owner: "a" })).toBe(3)
        return "done"
      }).pipe(Testing.rollback)
      expect(created).toBe("done")
      expect(yield* Note.count({ owner: "a" })).toBe(0)
    }))

  it.effect("a failing test is rolled back and fails with its own error", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.gen(function*() {
          yield* Note.create({ owner: "b", text: "one" })
          return yield* new Boom()
        }).pipe(Testing.rollback)
      )
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error instanceof Boom).toBe(true)
      expect(yield* Note.count({ owner: "b" })).toBe(0)
    }))

  it.effect("DataFlow.transaction inside is a savepoint: its rollback keeps the earlier writes", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* Note.create({ owner: "c", text: "kept" })
        yield* Effect.exit(DataFlow.transaction(Effect.zipRight(Note.create({ owner: "c", text: "undone" }), new Boom())))
        expect((yield* Note.list({ where: { owner: "c" } })).records.map((r) => r.text)).toEqual(["kept"])
        yield* DataFlow.transaction(Note.create({ owner: "c", text: "committed inside" }))
        expect(yield* Note.count({ owner: "c" })).toBe(2)
      }).pipe(Testing.rollback)
      expect(yield* Note.count({ owner: "c" })).toBe(0)
    }))

  it.effect("concurrent tests never see each other's writes", () =>
    Effect.gen(function*() {
      const tests = 5
      // on PostgreSQL and MySQL every test writes before any reads (each has its own
      // connection); SQLite's one connection lets them take turns, so none waits for another
      const written = yield* Deferred.make<void>()
      let count = 0
      const oneTest = (k: number) =>
        Effect.gen(function*() {
          yield* Note.bulkCreate([{ owner: "d", text: `mine ${k}` }, { owner: "d", text: `also ${k}` }])
          if (db.name !== "sqlite") {
            if (++count === tests) yield* Deferred.succeed(written, undefined)
            yield* Deferred.await(written)
          }
          return (yield* Note.list({ where: { owner: "d" }, orderBy: ["text"] })).records.map((r) => r.text)
        }).pipe(Testing.rollback)
      const seen = yield* Effect.all(Array.from({ length: tests }, (_, k) => oneTest(k)), { concurrency: "unbounded" })
      seen.forEach((texts, k) => expect(texts).toEqual([`also ${k}`, `mine ${k}`]))
      expect(yield* Note.count({ owner: "d" })).toBe(0)
    }))
})

effectIt.effect("layerMemory: every build is a fresh database", () =>
  Effect.gen(function*() {
    const first = yield* Effect.provide(Effect.zipRight(Note.create({ owner: "m", text: "x" }), Note.count()), Testing.layerMemory)
    const second = yield* Effect.provide(Note.count(), Testing.layerMemory)
    expect([first, second]).toEqual([1, 0])
  }))

for (const [name, url] of [["pg", pgUrl], ["mysql", mysqlUrl]] as const) {
  effectIt.effect.skipIf(!inject(name === "pg" ? "pgAvailable" : "mysqlAvailable"))(
    `layerIsolated [${name}]: a schema/database of its own, dropped at the end`,
    () =>
      Effect.gen(function*() {
        const schemaName = `df_${inject("runId")}_isolated_${name}`
        const exists = Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const rows = name === "pg"
            ? yield* sql`SELECT 1 FROM pg_namespace WHERE nspname = ${schemaName}`
            : yield* sql`SELECT 1 FROM information_schema.schemata WHERE schema_name = ${schemaName}`
          return rows.length === 1
        }).pipe(Effect.provide(DataFlow.layer({ url })))
        const count = yield* Effect.gen(function*() {
          yield* Note.create({ owner: "i", text: "x" })
          expect(yield* exists).toBe(true)
          return yield* Note.count()
        }).pipe(Effect.provide(Testing.layerIsolated({ url, name: schemaName })))
        expect(count).toBe(1)
        expect(yield* exists).toBe(false)
      }),
    60_000
  )
}
