import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Exit, Layer, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"
import * as Db from "./support/db.js"

class Main extends DataFlow.Instance<Main>()("Main") {}
class Analytics extends DataFlow.Instance<Analytics>()("Analytics") {}

const Order = Model.make("Order", Schema.Struct({ id: Schema.Int, total: Schema.Int }), { instance: Main })
const Event = Model.make("Event", Schema.Struct({ id: Schema.Int, kind: Schema.String }), { instance: Analytics })
const Plain = Model.make("Note", Schema.Struct({ id: Schema.Int, body: Schema.String }))

class Boom extends Schema.TaggedError<Boom>()("Boom", {}) {}

describe("instances", () => {
  it("node types name the instance they need", () => {
    expectTypeOf(Order.create({ total: 1 })).toEqualTypeOf<
      Effect.Effect<{ readonly id: number; readonly total: number; readonly createdAt: Date; readonly updatedAt: Date }, Effect.Effect.Error<ReturnType<typeof Order.create>>, Main>
    >()
    expectTypeOf<Effect.Effect.Context<ReturnType<typeof Event.count>>>().toEqualTypeOf<Analytics>()
    expectTypeOf<Effect.Effect.Context<ReturnType<typeof Plain.count>>>().toEqualTypeOf<SqlClient.SqlClient>()
  })

  // Main on every database of the suite, Analytics always on its own SQLite, plus the default client
  for (const db of Db.databases) {
    if (!db.available) continue
    const layer = Layer.mergeAll(
      Main.layer(db.layer("instances_main")),
      Analytics.layer(SqliteClient.layer({ filename: ":memory:" })),
      Db.sqlite.layer("instances_default")
    )
    it.effect(`[${db.label}] two instances never share a connection or a transaction`, () =>
      Effect.gen(function*() {
        yield* DataFlow.migrate([Order, Event, Plain])
        const exit = yield* Effect.exit(
          Effect.gen(function*() {
            yield* Order.create({ total: 10 })
            yield* Event.create({ kind: "order-created" })   // Analytics: outside Main's transaction
            yield* Plain.create({ body: "default client" })   // default client: outside too
            return yield* new Boom()
          }).pipe(Main.transaction())
        )
        expect(Exit.isFailure(exit)).toBe(true)
        expect(yield* Order.count()).toBe(0)                  // rolled back with Main
        expect(yield* Event.count()).toBe(1)                  // Analytics' write stays
        expect(yield* Plain.count()).toBe(1)

        // the other way round, and the default client's own transaction
        yield* Effect.exit(
          Effect.gen(function*() {
            yield* Event.create({ kind: "inside analytics tx" })
            yield* Order.create({ total: 5 })
            return yield* new Boom()
          }).pipe(Analytics.transaction())
        )
        expect(yield* Event.count()).toBe(1)
        expect(yield* Order.count()).toBe(1)
        yield* Effect.exit(
          Effect.gen(function*() {
            yield* Plain.create({ body: "rolled back" })
            yield* Order.create({ total: 7 })
            yield* Event.create({ kind: "kept" })
            return yield* new Boom()
          }).pipe(DataFlow.transaction())
        )
        expect(yield* Plain.count()).toBe(1)
        expect(yield* Order.count()).toBe(2)
        expect(yield* Event.count()).toBe(2)

        // nested: an inner Main transaction inside an Analytics one is Main's own, not a savepoint
        yield* Effect.gen(function*() {
          yield* Event.create({ kind: "outer" })
          yield* Order.create({ total: 1 }).pipe(Main.transaction())
        }).pipe(Analytics.transaction())
        expect(yield* Order.count()).toBe(3)
      }).pipe(Effect.provide(layer)))
  }
})
