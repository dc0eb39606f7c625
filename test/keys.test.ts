/**
 * The filters selecting records by many keys (`nodes/keys.ts`), pure: one `$in` for a
 * one-field key; for a composite key an `$or` of the keys sharing all fields but the last, each
 * with an `$in` of the last, split under the filter language's condition limit. Include and the
 * many-to-many link writes read with them.
 */
import { describe, expect, it } from "vitest"
import { limits } from "../src/Filter.js"
import { fieldsEqual, keyFilters } from "../src/internal/nodes/keys.js"

describe("keyFilters", () => {
  it("one field: one $in of every key", () => {
    expect(keyFilters(["id"], [[1], [2], [3]])).toEqual([{ id: { $in: [1, 2, 3] } }])
  })

  it("several fields: keys sharing a prefix are one condition; one key alone is a plain object", () => {
    expect(keyFilters(["bookId", "editionNo"], [[1, 1], [1, 2], [2, 1]])).toEqual([
      { $or: [{ bookId: 1, editionNo: { $in: [1, 2] } }, { bookId: 2, editionNo: 1 }] }
    ])
    expect(keyFilters(["room", "slot"], [["A", 1]])).toEqual([{ room: "A", slot: 1 }])
    expect(keyFilters(["a", "b", "c"], [[1, "x", 1], [1, "x", 2], [1, "y", 1]])).toEqual([
      { $or: [{ a: 1, b: "x", c: { $in: [1, 2] } }, { a: 1, b: "y", c: 1 }] }
    ])
  })

  it("distinct prefixes: split where a filter would pass half the condition limit, every key kept once", () => {
    const keys = Array.from({ length: 300 }, (_, i) => [i, 1] as const)
    const filters = keyFilters(["bookId", "editionNo"], keys)
    const perFilter = filters.map((f) => ("$or" in f ? (f.$or as ReadonlyArray<unknown>).length : 1))
    expect(filters).toHaveLength(3)
    expect(perFilter.every((n) => n * 2 <= limits.conditions / 2)).toBe(true)
    expect(perFilter.reduce((a, b) => a + b, 0)).toBe(300)
  })

  it("fieldsEqual pairs fields with values in order", () => {
    expect(fieldsEqual(["room", "slot"], ["A", 2])).toEqual({ room: "A", slot: 2 })
  })
})
