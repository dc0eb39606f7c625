/** Json.decodeAggregate: an aggregate query from JSON gives what the typed query gives, on every database. */
import { expect } from "@effect/vitest"
import { BigDecimal, Effect, Schema } from "effect"
import { Json, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const Sale = () =>
  Model.make("Sale", Schema.Struct({
    id: Schema.Int,
    region: Schema.String,
    big: Schema.BigIntFromSelf,
    amount: Schema.BigDecimalFromSelf,
    at: Schema.DateFromSelf
  }), { table: uniqueTable("agg_json_sales") })

const dec = (s: string) => BigDecimal.unsafeFromString(s)

forEachDatabase("aggjson", (it) => {
  it.effect("having on bigint, decimal and date results from JSON text", () =>
    Effect.gen(function*() {
      const S = Sale()
      yield* S.bulkCreate([
        { region: "north", big: 9007199254740993n, amount: dec("10.25"), at: new Date("2026-01-01T00:00:00Z") },
        { region: "north", big: 1n, amount: dec("1.00"), at: new Date("2026-03-01T00:00:00Z") },
        { region: "south", big: 5n, amount: dec("2.50"), at: new Date("2026-02-01T00:00:00Z") }
      ])
      const json = JSON.parse(`{
        "where": { "big": { "$gt": "0" } },
        "groupBy": ["region"],
        "count": true,
        "sum": ["big", "amount"],
        "max": ["at"],
        "having": { "_sum": { "big": { "$gt": "9007199254740993" }, "amount": { "$gte": "11.25" } }, "_max": { "at": { "$gt": "2026-02-15T00:00:00Z" } } },
        "orderBy": ["-_count"]
      }`)
      const query = yield* Json.decodeAggregate(S, json)
      const fromJson = yield* S.aggregate(query as never)
      expect(fromJson).toEqual([
        { region: "north", _count: 2, _sum: { big: 9007199254740994n, amount: dec("11.25") }, _max: { at: new Date("2026-03-01T00:00:00Z") } }
      ].map((r) => ({ ...r, _sum: { big: r._sum.big, amount: expect.anything() } })))
      expect(BigDecimal.equals((fromJson as Array<{ _sum: { amount: BigDecimal.BigDecimal } }>)[0]!._sum.amount, dec("11.25"))).toBe(true)
      // a bad where or a having on what the query does not ask: typed errors
      expect((yield* Effect.flip(Json.decodeAggregate(S, { where: { nope: 1 } })))._tag).toBe("InvalidFilter")
      const badHaving = yield* Json.decodeAggregate(S, { groupBy: ["region"], having: { _avg: { big: { $gt: 1 } } } })
      expect((yield* Effect.flip(S.aggregate(badHaving as never)))._tag).toBe("InvalidFilter")
      expect((yield* Effect.flip(Json.decodeAggregate(S, 5)))._tag).toBe("ValidationError")
    }))
})
