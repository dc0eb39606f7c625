/**
 * The filter language of `list`, `count`, `findFirst`, `bulkUpdate` and `bulkDelete`:
 * a typed object per model, validated against the model before any SQL runs, compiled to a
 * bound-parameter SQL expression that gives the same answer on every database.
 *
 * ```ts
 * { age: { $gte: 18, $lt: 65 }, status: "active", $or: [{ name: { $startsWith: "A" } }, { vip: true }] }
 * ```
 *
 * @since 0.1.0
 */
import type { BigDecimal } from "effect"

/**
 * Operators every scalar field has. `$ne` and `$nin` also match NULL (a NULL is not equal to
 * the value), on every database.
 *
 * @since 0.1.0
 * @category models
 */
export interface Comparison<V> {
  readonly $eq?: V | null
  readonly $ne?: V | null
  readonly $gt?: V
  readonly $gte?: V
  readonly $lt?: V
  readonly $lte?: V
  readonly $in?: ReadonlyArray<V>
  readonly $nin?: ReadonlyArray<V>
  /** `true`: the field is NULL; `false`: it is not. */
  readonly $null?: boolean
}

/**
 * Operators of text fields. `$like` / `$ilike` take SQL patterns (`%` any run, `_` one
 * character, `\` escapes the next character); `$ilike` ignores the case of ASCII letters.
 * `$startsWith`, `$endsWith` and `$contains` match their text literally, case-sensitively.
 *
 * @since 0.1.0
 * @category models
 */
export interface TextOperators {
  readonly $like?: string
  readonly $ilike?: string
  readonly $startsWith?: string
  readonly $endsWith?: string
  readonly $contains?: string
}

type Scalar = string | number | boolean | bigint | Date | BigDecimal.BigDecimal

/**
 * The condition on one field: a value (equality; `null` means IS NULL) or operators. JSON
 * fields only support NULL checks.
 *
 * @since 0.1.0
 * @category models
 */
export type FieldFilter<V> = [NonNullable<V>] extends [Scalar] ?
    | NonNullable<V>
    | (null extends V ? null : never)
    | (Comparison<NonNullable<V>> & ([NonNullable<V>] extends [string] ? TextOperators : {}))
  : null | { readonly $null?: boolean }

/**
 * A filter over a record type: field conditions (all must hold) and the logical operators
 * `$and`, `$or`, `$not`, nested to any depth. `$and: []` matches every row, `$or: []` none.
 *
 * @since 0.1.0
 * @category models
 */
export type Filter<R> =
  & { readonly [K in keyof R]?: FieldFilter<R[K]> }
  & {
    readonly $and?: ReadonlyArray<Filter<R>>
    readonly $or?: ReadonlyArray<Filter<R>>
    readonly $not?: Filter<R>
  }

/**
 * Limits that keep every filter inside what all three databases accept (SQLite's expression
 * depth and pattern length, the bound-parameter limits): beyond them a filter is an
 * `InvalidFilter`, never a database error.
 *
 * @since 0.1.0
 * @category constants
 */
export const limits = {
  /** Nesting of `$and` / `$or` / `$not`. */
  depth: 32,
  /** Field conditions in one filter. */
  conditions: 500,
  /** Values in one `$in` / `$nin`. */
  list: 10_000,
  /** Bound values in one filter. */
  values: 20_000,
  /** Characters in a `$like` / `$ilike` pattern. */
  pattern: 10_000
} as const
