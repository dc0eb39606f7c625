import { assert, expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Exit, Schedule, Schema, TestServices } from "effect"
import { DataFlow, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const makeAccount = () =>
  Model.make("Account", Schema.Struct({ id: Schema.String, balance: Schema.Int }), { table: uniqueTable("accounts") })
const makeLog = () => Model.make("Log", Schema.Struct({ id: Schema.Int, line: Schema.String }), { table: uniqueTable("logs") })

class Boom extends Schema.TaggedError<Boom>()("Boom", {}) {}

forEachDatabase("transaction", (it, db) => {
  it.effect("a rolled-back transaction leaves nothing visible, across models", () =>
    Effect.gen(function*() {
      const Account = makeAccount()
      const Log = makeLog()
      yield* DataFlow.migrate([Account, Log])
      const exit = yield* Effect.exit(
        Effect.gen(function*() {
          yield* Account.create({ id: "a", balance: 10 })
          yield* Log.bulkCreate([{ line: "x" }, { line: "y" }])
          yield* Account.update("a", { balance: 20 })
          return yield* new Boom()
        }).pipe(DataFlow.transaction())
      )
      assert.isTrue(Exit.isFailure(exit))
      expect(yield* Account.count()).toBe(0)
      expect(yield* Log.count()).toBe(0)
    }))

  it.effect("many transactions in one fiber leave its FiberRefs as they were (no growth per transaction)", () =>
    Effect.gen(function*() {
      const Account = makeAccount()
      yield* DataFlow.migrate([Account])
      yield* Account.create({ id: "a", balance: 0 })
      // the longest value stack of the fiber's FiberRefs (FiberRefs.locals is public)
      const longest = Effect.map(Effect.getFiberRefs, (refs) => Math.max(...[...refs.locals.values()].map((stack) => stack.length)))
      const before = yield* longest
      // a MySQL update is a transaction of its own; explicit transactions on every database
      for (let i = 0; i < 50; i++) {
        yield* Account.update("a", { balance: i }).pipe(DataFlow.transaction())
      }
      // each transaction grew every stack by two entries before (a daemon fiber's FiberRefs merged)
      expect(yield* longest).toBeLessThanOrEqual(before + 2)
    }))

  it.effect("commits what succeeded; nested failure rolls back only the inner work", () =>
    Effect.gen(function*() {
      const Account = makeAccount()
      const Log = makeLog()
      yield* DataFlow.migrate([Account, Log])
      const result = yield* Effect.gen(function*() {
        yield* Account.create({ id: "outer", balance: 1 })
        const inner = yield* Effect.exit(
          Effect.gen(function*() {
            yield* Account.create({ id: "inner", balance: 2 })
            yield* Log.create({ line: "inner" })
            return yield* new Boom()
          }).pipe(DataFlow.transaction())
        )
        assert.isTrue(Exit.isFailure(inner))
        // a second nested level that succeeds
        yield* Log.create({ line: "kept" }).pipe(DataFlow.transaction(), DataFlow.transaction())
        return "done"
      }).pipe(DataFlow.transaction())
      expect(result).toBe("done")
      expect((yield* Account.list()).records.map((a) => a.id)).toEqual(["outer"])
      expect((yield* Log.list()).records.map((l) => l.line)).toEqual(["kept"])
    }))

  it.effect("a unique violation inside is typed and rolls back everything", () =>
    Effect.gen(function*() {
      const Account = makeAccount()
      yield* Account.create({ id: "a", balance: 1 })
      const error = yield* Effect.flip(
        Effect.gen(function*() {
          yield* Account.create({ id: "b", balance: 1 })
          yield* Account.create({ id: "a", balance: 1 })
        }).pipe(DataFlow.transaction())
      )
      expect(error._tag).toBe("UniqueViolation")
      expect(yield* Account.count()).toBe(1)
    }))

  // PostgreSQL reports the level of the current transaction; what each level does is observed
  // on every database in test/isolation.test.ts
  if (db.name === "pg") {
    it.effect("the isolation level is applied (PostgreSQL reports it)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const level = yield* sql<{ l: string }>`SELECT current_setting('transaction_isolation') AS l`.pipe(
          DataFlow.transaction({ isolation: "serializable" })
        )
        expect(level[0]!.l).toBe("serializable")
        const rr = yield* sql<{ l: string }>`SELECT current_setting('transaction_isolation') AS l`.pipe(
          DataFlow.transaction({ isolation: "repeatable read" })
        )
        expect(rr[0]!.l).toBe("repeatable read")
      }))
  }

  it.effect("retry re-runs only retryable failures", () =>
    Effect.gen(function*() {
      const Account = makeAccount()
      let attempts = 0
      const error = yield* Effect.flip(
        Effect.gen(function*() {
          attempts++
          yield* Account.create({ id: "same", balance: 1 })
          yield* Account.create({ id: "same", balance: 1 })
        }).pipe(DataFlow.transaction({ retry: Schedule.recurs(5) }))
      )
      expect(error._tag).toBe("UniqueViolation")
      expect(attempts).toBe(1)
    }))

  it.effect("concurrent transfers under serializable isolation with retry preserve the total", () =>
    TestServices.provideLive(Effect.gen(function*() {
      const Account = makeAccount()
      const ids = ["a", "b", "c", "d", "e", "f"]
      yield* Account.bulkCreate(ids.map((id) => ({ id, balance: 1000 })))
      const transfers = Array.from({ length: 48 }, (_, i) => ({
        from: ids[i % ids.length]!,
        to: ids[(i * 7 + 1) % ids.length]!,
        amount: 1 + (i % 13)
      })).filter((t) => t.from !== t.to)
      const transfer = (t: (typeof transfers)[number]) =>
        Effect.gen(function*() {
          const from = yield* Account.read(t.from)
          const to = yield* Account.read(t.to)
          yield* Account.update(t.from, { balance: from.balance - t.amount })
          yield* Account.update(t.to, { balance: to.balance + t.amount })
        }).pipe(
          DataFlow.transaction({
            isolation: "serializable",
            retry: Schedule.exponential("5 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(60)))
          })
        )
      yield* Effect.forEach(transfers, transfer, { concurrency: 12, discard: true })
      const expected = new Map(ids.map((id) => [id, 1000]))
      for (const t of transfers) {
        expected.set(t.from, expected.get(t.from)! - t.amount)
        expected.set(t.to, expected.get(t.to)! + t.amount)
      }
      const rows = (yield* Account.list()).records
      expect(rows.reduce((s, r) => s + r.balance, 0)).toBe(ids.length * 1000)
      expect(Object.fromEntries(rows.map((r) => [r.id, r.balance]))).toEqual(Object.fromEntries(expected))
    })), 120_000)
})
