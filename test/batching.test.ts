import { expect } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { Effect, Either, Option, Schema } from "effect"
import { DataFlow, Model, Relation, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { selects } from "./support/pipeline.js"

const makeUser = (options: { readonly softDelete?: boolean } = {}) =>
  Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(50)) }), {
    table: uniqueTable("batch_users"),
    ...options
  })

forEachDatabase("batching", (it_) => {
  // batching is opt-in: every test runs with it on (the last one also shows it off)
  const it = { effect: <A, E>(name: string, body: () => Effect.Effect<A, E, SqlClient.SqlClient>) => it_.effect(name, () => Relation.batched(body())) }
  it.effect("concurrent finds become one statement; results, absences and duplicates routed to each caller", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const users = (yield* User.bulkCreate(["a", "b", "c", "d"].map((name) => ({ name })), { returnRecords: true })).records
      const ids = [users[2]!.id, 999_999, users[0]!.id, users[2]!.id, users[3]!.id]
      const batched = yield* selects(Effect.forEach(ids, (id) => User.find(id), { batching: true }))
      expect(batched.count).toBe(1)
      const oneByOne = yield* Effect.forEach(ids, (id) => User.find(id))
      expect(batched.value).toEqual(oneByOne)
      expect(batched.value.map((o) => Option.getOrNull(o)?.name ?? null)).toEqual(["c", null, "a", "c", "d"])
      const reads = yield* selects(Effect.forEach(ids, (id) => Effect.either(User.read(id)), { batching: true }))
      expect(reads.count).toBe(1)
      expect(reads.value.map((e) => Either.isLeft(e) ? e.left._tag : e.right.name)).toEqual(["c", "NotFound", "a", "c", "d"])
      const notFound = reads.value[1]!
      if (Either.isLeft(notFound) && notFound.left._tag === "NotFound") expect(notFound.left.id).toBe(999_999)
    }))

  it.effect("reads of two models in one batch: one statement per model; an invalid id fails only its caller", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const Deleted = makeUser({ softDelete: true })
      const u = yield* User.create({ name: "u" })
      const [d1, d2] = (yield* Deleted.bulkCreate([{ name: "d1" }, { name: "d2" }], { returnRecords: true })).records
      yield* Deleted.delete(d2!.id)
      const { count, value } = yield* selects(Effect.all([
        User.find(u.id),
        Deleted.find(d1!.id),
        Deleted.find(d2!.id),
        Effect.either(User.find("x" as unknown as number))
      ], { batching: true }))
      expect(count).toBe(2)
      expect(Option.getOrNull(value[0])?.name).toBe("u")
      expect(Option.getOrNull(value[1])?.name).toBe("d1")
      expect(Option.isNone(value[2])).toBe(true)
      expect(Either.isLeft(value[3]) && value[3].left._tag).toBe("ValidationError")
      const withDeleted = yield* Effect.all([Deleted.find(d1!.id), Deleted.find(d2!.id, { includeDeleted: true })], { batching: true })
      expect(withDeleted.map(Option.isSome)).toEqual([true, true])
    }))

  it.effect("a batch inside a transaction reads on the transaction's connection (its uncommitted rows)", () =>
    Effect.gen(function*() {
      const User = makeUser()
      const existing = yield* User.create({ name: "before" })
      const { count, value } = yield* selects(
        Effect.gen(function*() {
          const fresh = yield* User.create({ name: "inside" })
          return yield* Effect.forEach([existing.id, fresh.id], (id) => User.read(id), { batching: true })
        }).pipe(DataFlow.transaction())
      )
      expect(value.map((u) => u.name)).toEqual(["before", "inside"])
      expect(count).toBeGreaterThanOrEqual(1)
    }))

  it.effect("tenants never share a batch; batching can be switched off", () =>
    Effect.gen(function*() {
      const Scoped = Model.make("Scoped", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
        table: uniqueTable("batch_scoped"),
        tenantScoped: true
      })
      const a = yield* Scoped.create({ name: "a" }).pipe(Tenant.with("a"))
      const b = yield* Scoped.create({ name: "b" }).pipe(Tenant.with("b"))
      const found = yield* Effect.all([
        Scoped.find(a.id).pipe(Tenant.with("a")),
        Scoped.find(b.id).pipe(Tenant.with("b")),
        Scoped.find(b.id).pipe(Tenant.with("a"))
      ], { batching: true })
      expect(found.map((o) => Option.getOrNull(o)?.name ?? null)).toEqual(["a", "b", null])

      const User = makeUser()
      const users = (yield* User.bulkCreate([{ name: "x" }, { name: "y" }], { returnRecords: true })).records
      const off = yield* selects(
        Effect.forEach(users, (u) => User.read(u.id), { batching: true }).pipe(Effect.provideService(Relation.RequestBatching, false))
      )
      expect(off.count).toBe(2)
      expect(off.value.map((u) => u.name)).toEqual(["x", "y"])
    }))
})
