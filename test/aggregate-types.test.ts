/**
 * Type-level guarantees of `aggregate`, checked by `tsc --noEmit -p .`: the result types
 * (sums and averages per field type, minima keeping the field's type, groups as lists), and
 * `@ts-expect-error` lines that must stay errors (sums of text, unknown fields, orders by what
 * the query does not ask for). Nothing here touches a database.
 */
import { BigDecimal, Effect, Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { Errors } from "../src/index.js"
import { Model } from "../src/index.js"

const Order = Model.make(
  "Order",
  Schema.Struct({
    id: Schema.Int,
    status: Schema.Literal("open", "paid"),
    customer: Schema.String,
    items: Schema.Int,
    weight: Schema.NullOr(Schema.Number),
    total: Schema.BigDecimalFromSelf,
    cents: Schema.BigIntFromSelf,
    paid: Schema.Boolean,
    paidAt: Schema.NullOr(Schema.DateFromSelf),
    meta: Schema.NullOr(Schema.Struct({ note: Schema.String }))
  })
)

type Success<T> = T extends Effect.Effect<infer A, infer _E, infer _R> ? A : never

describe("aggregate result types", () => {
  it("without groupBy: one result", () => {
    const _all = Order.aggregate({ count: true, sum: ["items", "weight", "total", "cents"], avg: ["items", "total"] })
    type Result = Success<typeof _all>
    expectTypeOf<Result["_count"]>().toEqualTypeOf<number>()
    expectTypeOf<Result["_sum"]>().toEqualTypeOf<{
      readonly items: number | null
      readonly weight: number | null
      readonly total: BigDecimal.BigDecimal | null
      readonly cents: bigint | null
    }>()
    expectTypeOf<Result["_avg"]>().toEqualTypeOf<{ readonly items: number | null; readonly total: BigDecimal.BigDecimal | null }>()
    expectTypeOf<Result>().not.toHaveProperty("_min")
  })

  it("min and max keep the field's type; counts per field are numbers", () => {
    const _all = Order.aggregate({ min: ["paidAt", "customer"], max: ["cents"], count: ["weight"], countDistinct: ["customer"] })
    type Result = Success<typeof _all>
    expectTypeOf<Result["_min"]>().toEqualTypeOf<{ readonly paidAt: Date | null; readonly customer: string | null }>()
    expectTypeOf<Result["_max"]>().toEqualTypeOf<{ readonly cents: bigint | null }>()
    expectTypeOf<Result["_count"]>().toEqualTypeOf<{ readonly weight: number }>()
    expectTypeOf<Result["_countDistinct"]>().toEqualTypeOf<{ readonly customer: number }>()
  })

  it("with groupBy: a list of groups carrying the group fields", () => {
    const _groups = Order.aggregate({
      groupBy: ["status", "paid"],
      count: true,
      sum: ["total"],
      having: { _count: { $gte: 2 }, _sum: { total: { $gt: BigDecimal.fromBigInt(100n) } } },
      orderBy: ["-_sum.total", "status"],
      limit: 10
    })
    type Result = Success<typeof _groups>
    expectTypeOf<Result>().toMatchTypeOf<ReadonlyArray<unknown>>()
    type Group = Result[number]
    expectTypeOf<Group["status"]>().toEqualTypeOf<"open" | "paid">()
    expectTypeOf<Group["paid"]>().toEqualTypeOf<boolean>()
    expectTypeOf<Group["_count"]>().toEqualTypeOf<number>()
    expectTypeOf<Group["_sum"]["total"]>().toEqualTypeOf<BigDecimal.BigDecimal | null>()
  })

  it("fails with the aggregate's errors", () => {
    const _all = Order.aggregate({ count: true })
    type E = Effect.Effect.Error<typeof _all>
    expectTypeOf<E>().toEqualTypeOf<Errors.InvalidFilter | Errors.ValidationError | Errors.DatabaseError | Errors.SchemaMismatch>()
  })
})

describe("what does not compile", () => {
  it("sum and avg take numeric fields only", () => {
    // @ts-expect-error a text field has no sum
    void Order.aggregate({ sum: ["customer"] })
    // @ts-expect-error a boolean has no average
    void Order.aggregate({ avg: ["paid"] })
    // @ts-expect-error a date has no sum
    void Order.aggregate({ sum: ["paidAt"] })
  })

  it("min and max take ordered fields; groupBy no JSON; no unknown fields", () => {
    // @ts-expect-error booleans have no minimum
    void Order.aggregate({ min: ["paid"] })
    // @ts-expect-error JSON fields cannot be grouped
    void Order.aggregate({ groupBy: ["meta"] })
    // @ts-expect-error unknown field
    void Order.aggregate({ count: ["nope"] })
  })

  it("orderBy and having name group fields and aggregates", () => {
    // @ts-expect-error not an aggregate key
    void Order.aggregate({ groupBy: ["status"], orderBy: ["_total.items"] })
    // @ts-expect-error a sum of a text field cannot be ordered by
    void Order.aggregate({ groupBy: ["status"], orderBy: ["_sum.customer"] })
    // @ts-expect-error a count is a number
    void Order.aggregate({ groupBy: ["status"], count: true, having: { _count: { $gt: "2" } } })
    // @ts-expect-error a sum of a bigint field is a bigint
    void Order.aggregate({ groupBy: ["status"], sum: ["cents"], having: { _sum: { cents: { $gt: 2 } } } })
  })
})
