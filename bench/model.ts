/**
 * The benchmark's model and its data. Three tables of the same shape: `bench_items` is seeded
 * once and serves read / list / count / update (its size never changes); `bench_writes` is
 * emptied (and seeded when a workload needs it) before every timed run of a write workload;
 * `bench_walk` is seeded once and only read, page by page, by the keyset walk.
 */
import { Schema } from "effect"
import { Model } from "../src/index.js"

const fields = {
  id: Schema.Int,
  sku: Schema.String.pipe(Schema.maxLength(64)),
  name: Schema.String.pipe(Schema.maxLength(100)),
  category: Schema.String.pipe(Schema.maxLength(16)),
  price: Schema.Number,
  qty: Schema.Int,
  active: Schema.Boolean
}

const options = { unique: ["sku"], indexes: [["category", "price"]] } as const

export const Items = Model.make("BenchItem", Schema.Struct(fields), { ...options, table: "bench_items" })
export const Writes = Model.make("BenchWrite", Schema.Struct(fields), { ...options, table: "bench_writes" })
export const Walk = Model.make("BenchWalk", Schema.Struct(fields), { ...options, table: "bench_walk" })

export type TableName = "bench_items" | "bench_writes" | "bench_walk"

/** Input of a create: what every implementation inserts. */
export interface NewItem {
  readonly sku: string
  readonly name: string
  readonly category: string
  readonly price: number
  readonly qty: number
  readonly active: boolean
}

/** A stored record, as every implementation returns it. */
export interface Item extends NewItem {
  readonly id: number
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** The patch of the update workload (neither the list filter nor its sort key changes). */
export interface ItemPatch {
  readonly name: string
  readonly qty: number
}

export const CATEGORIES = 10
export const LIST_LIMIT = 100
/** Rows per page of the keyset walk. */
export const WALK_PAGE = 1000
/**
 * Distinct prices in `bench_walk`. Few, so that most prices repeat and the primary-key
 * tie-break decides where a page ends; prime, so that page boundaries (every WALK_PAGE rows)
 * fall inside a run of equal prices rather than between two.
 */
export const WALK_PRICES = 317
export const categoryOf = (i: number) => `c${((i % CATEGORIES) + CATEGORIES) % CATEGORIES}`

/** A small deterministic PRNG (mulberry32), so every runner of a round gets the same inputs. */
export const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Row `i` of a set whose skus start with `prefix`. */
export const makeItem = (prefix: string, i: number): NewItem => ({
  sku: `${prefix}-${i}`,
  name: `Item ${i} of ${prefix}`,
  category: categoryOf(i),
  price: Math.round(((i * 7919) % 100_000) + 1) / 100,
  qty: i % 1000,
  active: i % 3 !== 0
})

export const makeItems = (prefix: string, count: number, start = 0): Array<NewItem> => {
  const out: Array<NewItem> = []
  for (let i = start; i < start + count; i++) out.push(makeItem(prefix, i))
  return out
}

/**
 * Row `i` of `bench_walk`: row `i` of set "w" with one of WALK_PRICES distinct prices instead
 * (`makeItem`'s prices are all distinct up to 100,000 rows). Multiples of 0.25: exact in
 * binary, so the price compared for equality in the keyset condition is the stored one on
 * every database.
 */
export const makeWalkItem = (i: number): NewItem => ({ ...makeItem("w", i), price: (((i * 7919) % WALK_PRICES) + 1) / 4 })

export const makeWalkItems = (count: number): Array<NewItem> => Array.from({ length: count }, (_, i) => makeWalkItem(i))
