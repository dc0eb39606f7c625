/**
 * A user's property test with the testing kit (effect-dataflow/testing): a small program —
 * transfers between accounts — checked on many generated data sets and transfer lists, each
 * run in a transaction rolled back at its end; then the nodes themselves checked against the
 * in-memory reference. Runs with `npm test` (on an in-memory SQLite; give `Testing.layerIsolated`
 * a PostgreSQL or MySQL URL to run the same tests there).
 *
 * In an application: `import * as Testing from "effect-dataflow/testing"`.
 */
import { expect, layer } from "@effect/vitest"
import { BigDecimal, Data, Effect, FastCheck as fc, Schema } from "effect"
import { Column, DataFlow, Model } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"

// --- the application ---------------------------------------------------------------

const Account = Model.make("Account", {
  id: Schema.String.pipe(Schema.maxLength(12)),
  owner: Schema.String.pipe(Schema.maxLength(40)),
  balance: Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 12, scale: 2 }))
}, { table: "example_accounts", unique: ["owner"], versioned: true })

class InsufficientFunds extends Data.TaggedError("InsufficientFunds")<{ readonly account: string }> {}

/** Moves `amount` from one account to another, all or nothing; never below zero. */
const transfer = (from: string, to: string, amount: BigDecimal.BigDecimal) =>
  DataFlow.transaction(Effect.gen(function*() {
    const source = yield* Account.read(from)
    if (BigDecimal.lessThan(source.balance, amount)) return yield* new InsufficientFunds({ account: from })
    yield* Account.update(from, { balance: { $decrement: amount } })
    yield* Account.update(to, { balance: { $increment: amount } })
  }))

// --- the tests -----------------------------------------------------------------------

const cents = (max: number) => fc.integer({ min: 0, max }).map((n) => BigDecimal.make(BigInt(n), 2))
const total = Effect.map(
  Account.list({ limit: 1000 }),
  (page) => page.records.reduce((sum, a) => BigDecimal.sum(sum, a.balance), BigDecimal.fromBigInt(0n))
)

layer(Testing.layerMemory)("transfers", (it) => {
  it.effect.prop(
    "transfers keep the total and never overdraw",
    [
      // accounts with unique ids and owners, balances overridden to whole cents up to 1,000.00
      Testing.rows(Account, { size: { min: 2, max: 6 }, overrides: { balance: cents(100_000) } }),
      fc.array(fc.record({ from: fc.nat(), to: fc.nat(), amount: cents(50_000) }), { maxLength: 10 })
    ],
    ([accounts, transfers]) =>
      Effect.gen(function*() {
        yield* Account.bulkCreate(accounts)
        const before = yield* total
        for (const t of transfers) {
          const from = accounts[t.from % accounts.length]!.id
          const to = accounts[t.to % accounts.length]!.id
          // a refused transfer changes nothing
          yield* Effect.catchTag(transfer(from, to, t.amount), "InsufficientFunds", () => Effect.void)
        }
        expect(BigDecimal.equals(yield* total, before)).toBe(true)
        const page = yield* Account.list({ where: { balance: { $lt: BigDecimal.fromBigInt(0n) } } })
        expect(page.records).toEqual([])
      }).pipe(Testing.rollback),
    { fastCheck: { numRuns: 30 } }
  )

  it.effect("the nodes agree with the reference model on random call sequences", () =>
    Effect.gen(function*() {
      const { runs } = yield* Testing.commands([Account], { numRuns: 10, maxCommands: 15 })
      expect(runs).toBe(10)
    }))
})
