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
import type * as BigDecimal from "effect/BigDecimal"

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
 * The number of elements of a JSON array: a count, or comparisons with one.
 *
 * @since 0.1.0
 * @category models
 */
export type SizeFilter = number | {
  readonly $eq?: number
  readonly $gt?: number
  readonly $gte?: number
  readonly $lt?: number
  readonly $lte?: number
}

/**
 * Operators of JSON fields holding an array of strings, numbers or booleans
 * (`Schema.Array(Schema.String)`): `$has` (the array holds the element), `$hasAny` (at
 * least one of them), `$hasAll` (every one of them), `$size` (its number of elements). A NULL
 * array matches none of them. `$hasAny: []` matches no row, `$hasAll: []` every non-NULL array.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonArrayOperators<E> {
  readonly $has?: E
  readonly $hasAny?: ReadonlyArray<E>
  readonly $hasAll?: ReadonlyArray<E>
  readonly $size?: SizeFilter
  /** `true`: the field is NULL; `false`: it is not. */
  readonly $null?: boolean
}

/** The element type of an array (not a tuple) of one scalar type; never for anything else. */
type ArrayElement<V> = [V] extends [ReadonlyArray<infer E>] ? number extends (V & ReadonlyArray<E>)["length"] ?
    [E] extends [string] ? E
  : [E] extends [number] ? E
    : [E] extends [boolean] ? E
    : never
  : never
  : never

/** A JSON scalar as a path operand. */
type JsonScalar = string | number | boolean

/** A record type whose keys a path can name (not an array, a date or another class). */
type PathObject<V> = V extends ReadonlyArray<unknown> | Date | BigDecimal.BigDecimal | bigint ? never
  : V extends object ? V
  : never

/** Tuples of keys naming a value inside `V`, at most four deep; any keys where `V` says nothing. */
type PathsOf<V, Depth extends ReadonlyArray<unknown> = []> = Depth["length"] extends 4 ? ReadonlyArray<string>
  : unknown extends V ? ReadonlyArray<string>
  : [PathObject<V>] extends [never] ? never
  : [keyof V] extends [never] ? ReadonlyArray<string>
  : {
    [K in keyof PathObject<V> & string]-?:
      | readonly [K]
      | ([PathsOf<NonNullable<PathObject<V>[K]>, [...Depth, 0]>] extends [never] ? never
        : readonly [K, ...PathsOf<NonNullable<PathObject<V>[K]>, [...Depth, 0]>])
  }[keyof PathObject<V> & string]

/** The value a path names inside `V`. */
type AtPath<V, P> = P extends readonly [infer K, ...infer Rest]
  ? K extends keyof PathObject<V> ? AtPath<NonNullable<PathObject<V>[K]>, Rest> : unknown
  : V

/** What a path's operands may be: the scalar type stored there, or any JSON scalar. */
type PathOperand<V> = [V] extends [string] ? V : [V] extends [number] ? V : [V] extends [boolean] ? V : JsonScalar

/**
 * A comparison at a path of object keys inside a JSON field: `{ $path: ["address", "city"],
 * $eq: "Paris" }`. The value there is compared by the operand's JSON type — text in code-point
 * order, numbers as doubles, booleans by equality — as it is stored (a field's encoded JSON). A
 * path holding nothing, JSON null or a value of another type meets no comparison (`$ne` and
 * `$nin` match it); `$null: true` matches exactly those rows with nothing there.
 *
 * @since 0.1.0
 * @category models
 */
export type JsonPathFilter<V> = PathsOf<V> extends infer P ? P extends ReadonlyArray<string> ? {
      readonly $path: P
      readonly $eq?: PathOperand<AtPath<V, P>> | null
      readonly $ne?: PathOperand<AtPath<V, P>> | null
      readonly $gt?: Exclude<PathOperand<AtPath<V, P>>, boolean>
      readonly $gte?: Exclude<PathOperand<AtPath<V, P>>, boolean>
      readonly $lt?: Exclude<PathOperand<AtPath<V, P>>, boolean>
      readonly $lte?: Exclude<PathOperand<AtPath<V, P>>, boolean>
      readonly $in?: ReadonlyArray<PathOperand<AtPath<V, P>>>
      readonly $nin?: ReadonlyArray<PathOperand<AtPath<V, P>>>
      /** `true`: nothing (or JSON null) at the path; `false`: a value is there. */
      readonly $null?: boolean
    }
  : never
  : never

/**
 * The condition on one field: a value (equality; `null` means IS NULL) or operators. JSON
 * fields support NULL checks and comparisons at a path ({@link JsonPathFilter}), JSON arrays
 * of strings, numbers or booleans the {@link JsonArrayOperators}.
 *
 * @since 0.1.0
 * @category models
 */
export type FieldFilter<V> = [NonNullable<V>] extends [Scalar] ?
    | NonNullable<V>
    | (null extends V ? null : never)
    | (Comparison<NonNullable<V>> & ([NonNullable<V>] extends [string] ? TextOperators : {}))
  : [ArrayElement<NonNullable<V>>] extends [never] ? null | { readonly $null?: boolean } | JsonPathFilter<NonNullable<V>>
  : null | JsonArrayOperators<ArrayElement<NonNullable<V>>>

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
 * depth and pattern length) and its memory bounded: beyond them a filter is an
 * `InvalidFilter`, never a database error. A list longer than a few values is bound as one
 * parameter (an array on PostgreSQL, JSON on SQLite and MySQL), so the databases' limits on
 * bound parameters never apply.
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
  list: 1_000_000,
  /**
   * Elements in one `$hasAny` / `$hasAll` (meant for a few tags: MySQL and MariaDB read the list
   * again for every row they test).
   */
  elements: 1_000,
  /** Values in one filter, the values of every list counted. */
  values: 1_000_000,
  /** Characters in a `$like` / `$ilike` pattern. */
  pattern: 10_000,
  /** Keys in a JSON `$path`. */
  pathKeys: 16
} as const
