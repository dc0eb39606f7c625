import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, FastCheck as fc } from "effect"
import { formatDecimal, sortableDecimal } from "../src/internal/model/storage.js"

const decimal = fc.tuple(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.integer({ min: -30, max: 30 }))
  .map(([value, scale]) => BigDecimal.make(value, scale))

describe("SQLite decimal text", () => {
  it("round-trips and sorts like the numbers", () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const ea = sortableDecimal.encode(a)
        const eb = sortableDecimal.encode(b)
        expect(BigDecimal.equals(sortableDecimal.decode(ea), a)).toBe(true)
        const byText = ea < eb ? -1 : ea > eb ? 1 : 0
        expect(byText).toBe(BigDecimal.Order(a, b))
      }),
      { numRuns: 2000 }
    )
  })

  it("still reads plain decimal text", () => {
    expect(formatDecimal(sortableDecimal.decode("-12.500"))).toBe("-12.5")
    expect(formatDecimal(sortableDecimal.decode("0"))).toBe("0")
  })

  it("formats without exponents", () => {
    expect(formatDecimal(BigDecimal.make(5n, -20))).toBe("500000000000000000000")
    expect(formatDecimal(BigDecimal.make(-5n, 20))).toBe("-0.00000000000000000005")
  })
})
