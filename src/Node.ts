/**
 * The nodes every model has — their inputs, options and results — as types over a model's
 * record, key and input types (`Model.Model` instantiates them for each model). Their errors
 * come from one declaration, the one the implementation is checked against.
 *
 * @since 0.1.0
 */
import type * as BigDecimal from "effect/BigDecimal"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type * as Types from "effect/Types"
import type { OptimisticLockError } from "./Errors.js"
import type { Comparison, Filter } from "./Filter.js"
import type { NodeErrors } from "./internal/nodes/types.js"

/**
 * Sort order: field names, `-` in front for descending. The primary key is always appended
 * as the final tie-break. NULL sorts first ascending and last descending on every database.
 *
 * @since 0.1.0
 * @category models
 */
export type OrderBy<R> = ReadonlyArray<(keyof R & string) | `-${keyof R & string}`>

/**
 * @since 0.1.0
 * @category models
 */
export interface ReadOptions {
  /** Soft-delete models: also see deleted records. */
  readonly includeDeleted?: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ListQuery<R> extends ReadOptions {
  readonly where?: Filter<R>
  readonly orderBy?: OrderBy<R>
  readonly limit?: number
  readonly offset?: number
  /** Continue after the last row of a previous page (its `nextCursor`). */
  readonly cursor?: string
  /** Return only these fields. */
  readonly select?: ReadonlyArray<keyof R & string>
  /** Also return the number of records matching `where`. */
  readonly total?: boolean
}

/**
 * What `stream` reads: the records a `list` query would find, in its order, page after page.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamQuery<R> extends ReadOptions {
  readonly where?: Filter<R>
  readonly orderBy?: OrderBy<R>
  /** Return only these fields. */
  readonly select?: ReadonlyArray<keyof R & string>
  /** Stop after this many records. */
  readonly limit?: number
  /** Records read by one statement (a keyset page); default 1000, at most 100,000. */
  readonly pageSize?: number
}

/**
 * A record as a query's `select` projects it.
 *
 * @since 0.1.0
 * @category models
 */
export type Selected<R, Q> = Q extends { readonly select: ReadonlyArray<infer K extends keyof R> } ? Types.Simplify<Pick<R, K>>
  : R

/**
 * What `list` returns for a query.
 *
 * @since 0.1.0
 * @category models
 */
export type ListResult<R, Q> = Types.Simplify<
  & {
    readonly records: ReadonlyArray<
      Q extends { readonly select: ReadonlyArray<infer K extends keyof R> } ? Types.Simplify<Pick<R, K>> : R
    >
    /** Present when more rows follow this page (needs `limit`). */
    readonly nextCursor?: string
  }
  & (Q extends { readonly total: true } ? { readonly total: number } : {})
>

/** The fields of `R` whose values (NULL aside) are all of type `V`. */
type FieldsOf<R, V> = { readonly [K in keyof R]-?: [NonNullable<R[K]>] extends [V] ? K : never }[keyof R] & string

/**
 * Fields `sum` and `avg` take: integer, float, bigint and decimal fields.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type NumericField<R> = FieldsOf<R, number | bigint | BigDecimal.BigDecimal>

/**
 * Fields `min` and `max` take: numbers, text (and enums) and dates.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type OrderableField<R> = FieldsOf<R, number | bigint | BigDecimal.BigDecimal | string | Date>

/**
 * Fields `groupBy` and `countDistinct` take: every field but JSON ones.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type GroupableField<R> = FieldsOf<R, number | bigint | BigDecimal.BigDecimal | string | Date | boolean>

/**
 * The type of a sum: `bigint` for bigint fields, `BigDecimal` for decimal fields, `number`
 * for integer and float fields.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type SumOf<V> = [NonNullable<V>] extends [bigint] ? bigint
  : [NonNullable<V>] extends [BigDecimal.BigDecimal] ? BigDecimal.BigDecimal
  : number

/**
 * The type of an average: `BigDecimal` for decimal fields, `number` otherwise.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type AvgOf<V> = [NonNullable<V>] extends [BigDecimal.BigDecimal] ? BigDecimal.BigDecimal : number

/**
 * A condition on one value of an aggregate's result: the value (equality), `null` (it is
 * NULL) or the filter language's comparisons.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type AggregateCondition<V> = V | null | Comparison<V>

/**
 * A filter on the groups an aggregate finds, over the values of its results: group fields,
 * `_count` (with `count: true`) and `_count`, `_countDistinct`, `_sum`, `_avg`, `_min`, `_max`
 * per field, combined with `$and`, `$or`, `$not`. It may only name what the query asks for.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type Having<R> =
  & { readonly [K in GroupableField<R>]?: AggregateCondition<NonNullable<R[K]>> }
  & {
    readonly _count?: AggregateCondition<number> | { readonly [K in keyof R & string]?: AggregateCondition<number> }
    readonly _countDistinct?: { readonly [K in GroupableField<R>]?: AggregateCondition<number> }
    readonly _sum?: { readonly [K in NumericField<R>]?: AggregateCondition<SumOf<R[K]>> }
    readonly _avg?: { readonly [K in NumericField<R>]?: AggregateCondition<AvgOf<R[K]>> }
    readonly _min?: { readonly [K in OrderableField<R>]?: AggregateCondition<NonNullable<R[K]>> }
    readonly _max?: { readonly [K in OrderableField<R>]?: AggregateCondition<NonNullable<R[K]>> }
    readonly $and?: ReadonlyArray<Having<R>>
    readonly $or?: ReadonlyArray<Having<R>>
    readonly $not?: Having<R>
  }

/**
 * What the groups can be ordered by: a group field, `_count`, or an aggregate of a field
 * (`_sum.age`); `-` in front for descending.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type AggregateOrderKey<R> =
  | GroupableField<R>
  | "_count"
  | `_count.${keyof R & string}`
  | `_countDistinct.${GroupableField<R>}`
  | `_sum.${NumericField<R>}`
  | `_avg.${NumericField<R>}`
  | `_min.${OrderableField<R>}`
  | `_max.${OrderableField<R>}`

/**
 * An aggregate over the records a filter finds, per group of `groupBy` or over them all.
 *
 * @since 0.1.0
 * @category aggregates
 */
export interface AggregateQuery<R> extends ReadOptions {
  readonly where?: Filter<R>
  /** One result per distinct combination of these fields' values (NULL is one value). */
  readonly groupBy?: ReadonlyArray<GroupableField<R>>
  /** `true`: the records (`_count: number`); fields: their non-NULL values (`_count: { f: number }`). */
  readonly count?: true | ReadonlyArray<keyof R & string>
  /** The distinct non-NULL values of each field. */
  readonly countDistinct?: ReadonlyArray<GroupableField<R>>
  readonly sum?: ReadonlyArray<NumericField<R>>
  readonly avg?: ReadonlyArray<NumericField<R>>
  readonly min?: ReadonlyArray<OrderableField<R>>
  readonly max?: ReadonlyArray<OrderableField<R>>
  /** Keeps the groups whose results match (needs `groupBy`). */
  readonly having?: Having<R>
  /** The order of the groups (needs `groupBy`); the group fields ascending follow. */
  readonly orderBy?: ReadonlyArray<AggregateOrderKey<R> | `-${AggregateOrderKey<R>}`>
  /** Groups returned, after `offset` (needs `groupBy`). */
  readonly limit?: number
  readonly offset?: number
}

type Listed<Q, K extends string> = Q extends { readonly [k in K]: ReadonlyArray<infer F extends string> } ? F : never

/**
 * One result of an aggregate: the group's fields (with `groupBy`), then `_count`,
 * `_countDistinct`, `_sum`, `_avg`, `_min`, `_max` for what the query asks. A sum, average,
 * minimum or maximum over no non-NULL value is `null`; counts are numbers.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type AggregateResult<R, Q> = Types.Simplify<
  & (Q extends { readonly groupBy: ReadonlyArray<infer G extends keyof R> } ? Pick<R, G> : {})
  & (Q extends { readonly count: true } ? { readonly _count: number }
    : [Listed<Q, "count">] extends [never] ? {}
    : { readonly _count: { readonly [K in Listed<Q, "count">]: number } })
  & ([Listed<Q, "countDistinct">] extends [never] ? {}
    : { readonly _countDistinct: { readonly [K in Listed<Q, "countDistinct">]: number } })
  & ([Listed<Q, "sum">] extends [never] ? {}
    : { readonly _sum: { readonly [K in Listed<Q, "sum"> & keyof R]: SumOf<R[K]> | null } })
  & ([Listed<Q, "avg">] extends [never] ? {}
    : { readonly _avg: { readonly [K in Listed<Q, "avg"> & keyof R]: AvgOf<R[K]> | null } })
  & ([Listed<Q, "min">] extends [never] ? {}
    : { readonly _min: { readonly [K in Listed<Q, "min"> & keyof R]: NonNullable<R[K]> | null } })
  & ([Listed<Q, "max">] extends [never] ? {}
    : { readonly _max: { readonly [K in Listed<Q, "max"> & keyof R]: NonNullable<R[K]> | null } })
>

/**
 * What `aggregate` returns: with `groupBy`, the groups (in order); without, one result.
 *
 * @since 0.1.0
 * @category aggregates
 */
export type AggregateOutput<R, Q> = Q extends { readonly groupBy: ReadonlyArray<unknown> }
  ? ReadonlyArray<AggregateResult<R, Q>>
  : AggregateResult<R, Q>

/**
 * @since 0.1.0
 * @category models
 */
export interface BulkCreateOptions<E = never, R = never> {
  /** Also return the stored records (ids and timestamps filled). */
  readonly returnRecords?: boolean
  /** Called after every written chunk with the number of rows written so far. */
  readonly onProgress?: (inserted: number) => Effect.Effect<void, E, R>
}

/**
 * How `bulkCreate` treats rows that would violate a unique key.
 *
 * @since 0.1.0
 * @category models
 */
export interface SkipConflicts<Field extends string> {
  /**
   * `"fail"` (default): the whole call fails with `UniqueViolation` and writes nothing.
   * `"skip"`: rows whose key is already stored (live or soft-deleted), or repeats an earlier
   * row of the same call, are left out and counted as `skipped`; every other row is inserted,
   * all in one transaction. Other violations (NOT NULL, foreign keys) still fail the call.
   */
  readonly onConflict?: "fail" | "skip"
  /**
   * With `onConflict: "skip"`: skip only conflicts on this key (the primary key or a declared
   * unique constraint, exactly); a conflict on another key then fails the call. Default: every
   * unique key.
   */
  readonly conflictOn?: ReadonlyArray<Field>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BulkOptions {
  /** Required to run a bulk update or delete with an empty filter (every row). */
  readonly confirm?: boolean
}


/**
 * One item of a per-record `bulkUpdate`: the record, by `id` or by the values of a unique key
 * (`key`: exactly the fields of the primary key or of a declared unique constraint), its
 * patch, and on versioned models optionally the version it must still have.
 *
 * @since 0.1.0
 * @category models
 */
export type BulkUpdateItem<Id, Row, Patch> =
  | { readonly id: Id; readonly patch: Patch; readonly expectedVersion?: number }
  | { readonly key: Partial<Row>; readonly patch: Patch; readonly expectedVersion?: number }

/**
 * @since 0.1.0
 * @category models
 */
export interface BulkUpdateItemsOptions {
  /** Fail with `NotFound` (writing nothing) when an item's record does not exist. */
  readonly requireAll?: boolean
}

/**
 * The nodes every model has: creating and reading.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReadNodes<Id, Input, R, Requires, Setup = never, Keys = Partial<R>> {
  /** Inserts one record; returns it as stored (generated id, timestamps). */
  readonly create: (input: Input) => Effect.Effect<R, NodeErrors["create"] | Setup, Requires>
  /**
   * Inserts `input` unless a live record with the same values of `conflictOn` (the primary key
   * by default, or a declared unique constraint) exists: then that record, unchanged (its
   * `updatedAt` too). `created` says which. A soft-deleted match is replaced by the new record.
   */
  readonly createIgnore: (
    input: Input,
    options?: { readonly conflictOn?: ReadonlyArray<keyof R & string> }
  ) => Effect.Effect<{ readonly record: R; readonly created: boolean }, NodeErrors["upsert"] | Setup, Requires>
  /** The record with this primary key, or `NotFound`. */
  readonly read: (
    id: Id,
    options?: ReadOptions
  ) => Effect.Effect<R, NodeErrors["read"] | Setup, Requires>
  /** The record with this primary key, if any. */
  readonly find: (
    id: Id,
    options?: ReadOptions
  ) => Effect.Effect<Option.Option<R>, NodeErrors["find"] | Setup, Requires>
  /** Records matching a filter, ordered, paged (offset or cursor), optionally projected and counted. */
  readonly list: <const Q extends ListQuery<R> = {}>(
    query?: Q
  ) => Effect.Effect<ListResult<R, Q>, NodeErrors["list"] | Setup, Requires>
  /** The first record matching a filter (in `orderBy` order, then by primary key). */
  readonly findFirst: (
    where?: Filter<R>,
    options?: { readonly orderBy?: OrderBy<R> } & ReadOptions
  ) => Effect.Effect<Option.Option<R>, NodeErrors["list"] | Setup, Requires>
  /**
   * The records a query finds as a `Stream`, read in keyset pages of `pageSize` (one statement
   * each, pulled as the stream is consumed): memory holds one page, and a consumer that stops
   * (`Stream.take`, an interruption) reads no further page. Pages are separate statements: run
   * the stream inside `DataFlow.transaction` (repeatable read) for one snapshot.
   */
  readonly stream: <const Q extends StreamQuery<R> = {}>(
    query?: Q
  ) => Stream.Stream<Selected<R, Q>, NodeErrors["list"] | Setup, Requires>
  /** Whether a record matches a filter (`SELECT 1 … LIMIT 1`). */
  readonly exists: (
    where?: Filter<R>,
    options?: ReadOptions
  ) => Effect.Effect<boolean, NodeErrors["count"] | Setup, Requires>
  /**
   * The record with these values of a unique key — exactly the fields of the primary key or of
   * a declared unique constraint (`User.readBy({ email })`) — or `NotFound`.
   */
  readonly readBy: (key: Keys, options?: ReadOptions) => Effect.Effect<R, NodeErrors["read"] | Setup, Requires>
  /** The record with these values of a unique key, if any (see `readBy`). */
  readonly findBy: (key: Keys, options?: ReadOptions) => Effect.Effect<Option.Option<R>, NodeErrors["find"] | Setup, Requires>
  /**
   * Counts, distinct counts, sums, averages, minima and maxima over the records a filter
   * finds — over them all (one result), or per group of `groupBy` (a list, filtered by
   * `having`, ordered, paged). Sums of integer, bigint and decimal fields are exact on every
   * database; see docs/nodes.md for the types and the rounding of averages.
   */
  readonly aggregate: <const Q extends AggregateQuery<R> = {}>(
    query?: Q
  ) => Effect.Effect<AggregateOutput<R, Q>, NodeErrors["aggregate"] | Setup, Requires>
  /** Number of records matching a filter. */
  readonly count: (
    where?: Filter<R>,
    options?: ReadOptions
  ) => Effect.Effect<number, NodeErrors["count"] | Setup, Requires>
  /**
   * Inserts any number of rows atomically, from an array, any `Iterable` or a `Stream`: rows are
   * validated and written chunk by chunk (under the database's parameter limit) in one
   * transaction, so memory stays flat and a bad row anywhere writes nothing.
   */
  readonly bulkCreate: <
    O extends { readonly returnRecords?: boolean; readonly onConflict?: "fail" | "skip" } = {},
    SE = never,
    SR = never,
    PE = never,
    PR = never
  >(
    rows: Iterable<Input> | Stream.Stream<Input, SE, SR>,
    options?: O & BulkCreateOptions<PE, PR> & SkipConflicts<keyof R & string>
  ) => Effect.Effect<
    Types.Simplify<
      & { readonly inserted: number }
      & (O extends { readonly onConflict: "skip" } ? { readonly skipped: number } : {})
      & (O extends { readonly returnRecords: true } ? { readonly records: ReadonlyArray<R> } : {})
    >,
    NodeErrors["bulkCreate"] | Setup | SE | PE,
    Requires | SR | PR
  >
}

/**
 * The nodes that change or remove records (absent on append-only models).
 *
 * @since 0.1.0
 * @category models
 */
export interface MutationNodes<
  Id,
  Input,
  Patch,
  Row,
  Field extends string,
  R,
  Versioned extends boolean,
  Requires,
  Setup = never,
  /** The filter of `bulkUpdate` / `bulkDelete` (with relation keys on a model that has relations). */
  Where = Filter<R>
> {
  /** Applies a partial update and returns the updated record; bumps `updatedAt` (and `version`). */
  readonly update: (
    id: Id,
    patch: Patch,
    ...options: Versioned extends true ? [options?: { readonly expectedVersion?: number }] : []
  ) => Effect.Effect<
    R,
    Exclude<NodeErrors["update"], Versioned extends true ? never : OptimisticLockError> | Setup,
    Requires
  >
  /** Deletes by primary key (stamps `deletedAt` on soft-delete models); `deleted` says whether a row was there. */
  readonly delete: (id: Id) => Effect.Effect<{ readonly deleted: boolean }, NodeErrors["delete"] | Setup, Requires>
  readonly upsert: {
    /**
     * Inserts `create`, or — when a record with the same values of the conflict target exists —
     * applies `update` to it (nothing, when absent). `conflictOn` names the target, as in
     * `bulkUpsert`: the primary key (default) or a declared unique constraint, exactly; its
     * values come from `create`. A soft-deleted match is replaced by the new record.
     */
    (args: {
      readonly create: Input
      readonly update?: Patch
      readonly conflictOn?: ReadonlyArray<Field>
    }): Effect.Effect<{ readonly record: R; readonly created: boolean }, NodeErrors["upsert"] | Setup, Requires>
    /**
     * Inserts `{ ...create, ...where }`, or applies `update` to the record matching `where`;
     * the keys of `where` are the conflict target.
     *
     * @deprecated Name the target with `conflictOn` and give its values in `create` (the
     * spelling `bulkUpsert` uses); `where` keeps working until 0.2.
     */
    <W extends Partial<Row>>(args: {
      readonly where: W
      readonly create: Types.Simplify<Omit<Input, keyof W> & Partial<Input>>
      readonly update?: Patch
    }): Effect.Effect<{ readonly record: R; readonly created: boolean }, NodeErrors["upsert"] | Setup, Requires>
  }
  readonly bulkUpdate: {
    /**
     * Applies each item's own patch to the record it names (by id, or by the values of a unique
     * key), in one transaction. `updated` counts the items applied; items whose record does not
     * exist (or is soft-deleted) are listed in `missing` — or, with `requireAll`, fail the call
     * with `NotFound` and nothing is written. A stale `expectedVersion` fails the call with
     * `OptimisticLockError`, nothing written. Items apply in order.
     */
    (
      items: ReadonlyArray<BulkUpdateItem<Id, Row, Patch>>,
      options?: BulkUpdateItemsOptions
    ): Effect.Effect<
      { readonly updated: number; readonly missing: ReadonlyArray<Id | Partial<Row>> },
      Exclude<NodeErrors["bulkUpdateItems"], Versioned extends true ? never : OptimisticLockError> | Setup,
      Requires
    >
    /** Applies one patch to every record matching the filter; an empty filter needs `confirm`. */
    (
      where: Where,
      patch: Patch,
      options?: BulkOptions
    ): Effect.Effect<{ readonly updated: number }, NodeErrors["bulkUpdate"] | Setup, Requires>
  }
  /** Deletes every record matching the filter; an empty filter needs `confirm`. */
  readonly bulkDelete: (
    where: Where,
    options?: BulkOptions
  ) => Effect.Effect<{ readonly deleted: number }, NodeErrors["bulkDelete"] | Setup, Requires>
  /**
   * Inserts or updates rows by a conflict target (default: the primary key). Duplicate keys
   * inside one input: the last row wins. Reports exact counts; with `returnRecords: true` also
   * the stored records, one per distinct key, in input order.
   */
  readonly bulkUpsert: <O extends { readonly conflictOn?: ReadonlyArray<Field>; readonly returnRecords?: boolean } = {}>(
    rows: Iterable<Input>,
    options?: O
  ) => Effect.Effect<
    Types.Simplify<
      & { readonly inserted: number; readonly updated: number }
      & (O extends { readonly returnRecords: true } ? { readonly records: ReadonlyArray<R> } : {})
    >,
    NodeErrors["bulkUpsert"] | Setup,
    Requires
  >
}

/**
 * `restore`, on soft-delete models.
 *
 * @since 0.1.0
 * @category models
 */
export interface RestoreNode<Id, Requires, Setup = never> {
  /** Clears `deletedAt`; `restored` says whether a deleted row was there. */
  readonly restore: (id: Id) => Effect.Effect<{ readonly restored: boolean }, NodeErrors["restore"] | Setup, Requires>
}

