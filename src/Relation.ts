/**
 * Relations between models: a belongs-to (the model holds a foreign key, declared in its
 * table with referential actions), has-many and has-one (the other side), and the types of
 * `include`, which loads related records with one statement per relation per page.
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type * as Types from "effect/Types"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Batch from "./internal/nodes/batch.js"
import type { ConfigurationError, InvalidFilter, NotFound, OptimisticLockError, ValidationError, WriteError } from "./Errors.js"
import type { Filter } from "./Filter.js"
import * as Internal from "./internal/model/relations.js"
import type { NodeErrors } from "./internal/nodes/types.js"
import type { ListQuery, ListResult, OrderBy, ReadOptions, Selected, StreamQuery } from "./Node.js"

/**
 * What the database does to the referencing rows when the referenced record is deleted or its
 * key updated: `cascade` (delete / update them too), `restrict` (refuse), `setNull` (clear the
 * foreign key; its fields must be nullable), `noAction` (refuse at the end of the statement;
 * the default).
 *
 * @since 0.1.0
 * @category models
 */
export type ReferentialAction = Internal.ReferentialAction

/**
 * A model as a relation target: anything with a record type. Every model is one; a thunk
 * annotated with it (`(): Relation.Target<Category> => Category`) breaks the circle TypeScript
 * sees when two models refer to each other, or a model to itself (as with `Schema.suspend`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Target<R = unknown, I = unknown> {
  readonly Type: R
  /** The target's `create` input (nested creates); a model has it, an annotated thunk may give it. */
  readonly Input?: I
}

/**
 * A relation declaration (made by {@link belongsTo}, {@link hasMany}, {@link hasOne}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Relation<Kind extends Internal.RelationKind, M> {
  readonly kind: Kind
  readonly target: () => M
  readonly foreignKey: ReadonlyArray<string>
  readonly references: ReadonlyArray<string> | undefined
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BelongsTo<M, K extends string = string> extends Relation<"belongsTo", M> {
  /** Type-level only: the foreign key fields. */
  readonly "~foreignKey"?: K
}
/**
 * @since 0.1.0
 * @category models
 */
export interface HasMany<M, K extends string = string> extends Relation<"hasMany", M> {
  /** Type-level only: the target's foreign key fields (set by a nested create). */
  readonly "~foreignKey"?: K
}
/**
 * @since 0.1.0
 * @category models
 */
export interface HasOne<M, K extends string = string> extends Relation<"hasOne", M> {
  /** Type-level only: the target's foreign key fields (set by a nested create). */
  readonly "~foreignKey"?: K
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ManyToMany<M> extends Relation<"manyToMany", M> {}

/**
 * Any relation.
 *
 * @since 0.1.0
 * @category models
 */
export type Any = BelongsTo<Target> | HasMany<Target> | HasOne<Target> | ManyToMany<Target>

/**
 * A model's relations, by name.
 *
 * @since 0.1.0
 * @category models
 */
export type Relations = { readonly [name: string]: Any }

/**
 * This model holds a foreign key (`foreignKey`: its field or fields) to `target`'s primary key
 * (or `references`: a unique key of the target). The table gets the constraint, named
 * `fk_<table>_<columns>` (a `ForeignKeyViolation` names its fields), and an index.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Model } from "effect-dataflow"
 *
 * const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }))
 * const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String }), {
 *   relations: { author: Model.belongsTo(() => User, { foreignKey: "authorId", onDelete: "cascade" }) }
 * })
 * // Post.list({ include: { author: true } }): records with author: User | null
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const belongsTo = <M extends Target, const K extends string>(
  target: () => M,
  options: KeyOptions<M, K> & {
    readonly onDelete?: ReferentialAction
    readonly onUpdate?: ReferentialAction
  }
): BelongsTo<M, K> => Internal.spec("belongsTo", target, options) as BelongsTo<M, K>

/**
 * The key options of a relation to or from `M`: a model with a composite primary key is
 * referred to by a list of fields (as many as its key, paired in its order), or `references`
 * names another key of it (a unique set).
 */
type KeyOptions<M, K extends string> =
  | {
    readonly foreignKey: M extends { readonly primaryKey: ReadonlyArray<string> } ? readonly [K, K, ...ReadonlyArray<K>]
      : K | ReadonlyArray<K>
    readonly references?: undefined
  }
  | { readonly foreignKey: K | ReadonlyArray<K>; readonly references: string | ReadonlyArray<string> }

/**
 * The target holds a foreign key (`foreignKey`: the target's field or fields) to this model's
 * primary key (or `references`: a unique key of this model). The constraint is the target's
 * (its belongs-to); this side only loads.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hasMany = <M extends Target, const K extends string>(
  target: () => M,
  options: { readonly foreignKey: K | ReadonlyArray<K>; readonly references?: string | ReadonlyArray<string> }
): HasMany<M, K> => Internal.spec("hasMany", target, options) as HasMany<M, K>

/**
 * As {@link hasMany}, for at most one related record.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hasOne = <M extends Target, const K extends string>(
  target: () => M,
  options: { readonly foreignKey: K | ReadonlyArray<K>; readonly references?: string | ReadonlyArray<string> }
): HasOne<M, K> => Internal.spec("hasOne", target, options) as HasOne<M, K>

/**
 * Records of this model and of `target` linked through a junction model (`through`):
 * `foreignKey` is the junction's field holding this model's primary key, `otherKey` the one
 * holding the target's. The junction declares its own belongs-to relations (its foreign keys).
 * Loads as an array with two statements per page (the junction rows, then the records); filters
 * with `some` / `every` / `none`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const manyToMany = <M extends Target>(
  target: () => M,
  options: { readonly through: () => Target; readonly foreignKey: string; readonly otherKey: string }
): ManyToMany<M> => Internal.spec("manyToMany", target, options) as ManyToMany<M>

type RecordOfTarget<M> = M extends Target<infer R> ? R : never
type RelationsOfTarget<M> = M extends { readonly "~relations"?: infer X } ? ([X] extends [undefined] ? {} : NonNullable<X>) : {}
type TargetOf<Rel> = Rel extends Relation<Internal.RelationKind, infer M> ? M : never

/**
 * How one relation is loaded: `true`, or its own filter, order, projection, limit (per parent
 * record, has-many) and nested includes.
 *
 * @since 0.1.0
 * @category models
 */
export interface IncludeOptions<M> extends ReadOptions {
  readonly where?: WhereOfTarget<M>
  readonly orderBy?: OrderBy<RecordOfTarget<M>>
  readonly select?: ReadonlyArray<keyof RecordOfTarget<M> & string>
  /** Has-many: at most this many related records per parent record. */
  readonly limit?: number
  readonly include?: Include<RelationsOfTarget<M>>
}

/**
 * The `include` option of a model with relations `Rels`.
 *
 * @since 0.1.0
 * @category models
 */
export type Include<Rels> = { readonly [K in keyof Rels]?: true | IncludeOptions<TargetOf<Rels[K]>> }

type LoadedRecord<M, O> = O extends { readonly include: infer I } ? With<Selected<RecordOfTarget<M>, O>, RelationsOfTarget<M>, I>
  : Selected<RecordOfTarget<M>, O>

type Loaded<Rel, O> = Rel extends HasMany<infer M> | ManyToMany<infer M> ? ReadonlyArray<LoadedRecord<M, O>>
  : Rel extends Relation<Internal.RelationKind, infer M> ? LoadedRecord<M, O> | null
  : never

/**
 * A record with the relations `I` includes.
 *
 * @since 0.1.0
 * @category models
 */
export type With<R, Rels, I> = [I] extends [undefined] ? R
  : Types.Simplify<R & { readonly [K in keyof I & keyof Rels]: Loaded<Rels[K], I[K]> }>

type RequirementsOfTarget<M> = M extends { readonly "~requirements"?: infer R } ? R : never

/**
 * What loading the relations `I` requires (a related model bound to another client, or
 * tenant-scoped, requires what its own nodes do).
 *
 * @since 0.1.0
 * @category models
 */
export type IncludeRequirements<Rels, I> = [I] extends [undefined] ? never : {
  [K in keyof I & keyof Rels]:
    | RequirementsOfTarget<TargetOf<Rels[K]>>
    | (I[K] extends { readonly include: infer J } ? IncludeRequirements<RelationsOfTarget<TargetOf<Rels[K]>>, J> : never)
}[keyof I & keyof Rels]

/**
 * Conditions on relations in a filter: a belongs-to or has-one takes a filter of the related
 * record (such a record exists), a has-many `some` / `every` / `none` of one — EXISTS
 * subqueries. Combine with the model's own fields: `{ title: "x", author: { name: "Ada" } }`.
 *
 * @since 0.1.0
 * @category models
 */
export type RelationWhere<Rels> = {
  readonly [K in keyof Rels]?: Rels[K] extends HasMany<infer M> | ManyToMany<infer M> ? {
      readonly some?: WhereOfTarget<M>
      readonly every?: WhereOfTarget<M>
      readonly none?: WhereOfTarget<M>
    }
    : WhereOfTarget<TargetOf<Rels[K]>>
}

type WhereOfTarget<M> = Where<RecordOfTarget<M>, RelationsOfTarget<M>>

/**
 * A filter of a model with relations: its fields and its relations, and `$and` / `$or` /
 * `$not` of such filters (relation keys are accepted at any depth, as at run time).
 *
 * @since 0.1.0
 * @category models
 */
export type Where<R, Rels> =
  & Omit<Filter<R>, "$and" | "$or" | "$not">
  & RelationWhere<Rels>
  & {
    readonly $and?: ReadonlyArray<Where<R, Rels>>
    readonly $or?: ReadonlyArray<Where<R, Rels>>
    readonly $not?: Where<R, Rels>
  }

type IncludeOf<Q> = Q extends { readonly include: infer I } ? I : undefined

/**
 * The reading nodes of a model with relations: `read`, `find`, `list`, `findFirst` and
 * `stream` take `include`; `list`, `findFirst`, `stream`, `count` and `exists` relation filters.
 *
 * @since 0.1.0
 * @category models
 */
export interface IncludeNodes<Id, R, Rels, Requires, Setup> {
  /** The record with this primary key, or `NotFound`; with the relations `include` names. */
  readonly read: <const Q extends ReadOptions & { readonly include?: Include<Rels> } = {}>(
    id: Id,
    options?: Q
  ) => Effect.Effect<
    With<R, Rels, IncludeOf<Q>>,
    NodeErrors["read"] | NodeErrors["list"] | ConfigurationError | Setup,
    Requires | IncludeRequirements<Rels, IncludeOf<Q>>
  >
  /** The record with this primary key, if any; with the relations `include` names. */
  readonly find: <const Q extends ReadOptions & { readonly include?: Include<Rels> } = {}>(
    id: Id,
    options?: Q
  ) => Effect.Effect<
    Option.Option<With<R, Rels, IncludeOf<Q>>>,
    NodeErrors["list"] | ConfigurationError | Setup,
    Requires | IncludeRequirements<Rels, IncludeOf<Q>>
  >
  /** Records matching a filter (see `Node.ReadNodes.list`); with the relations `include` names. */
  readonly list: <
    const Q extends Omit<ListQuery<R>, "where"> & { readonly where?: Where<R, Rels>; readonly include?: Include<Rels> } = {}
  >(
    query?: Q
  ) => Effect.Effect<
    Types.Simplify<
      & Omit<ListResult<R, Q>, "records">
      & { readonly records: ReadonlyArray<With<Selected<R, Q>, Rels, IncludeOf<Q>>> }
    >,
    NodeErrors["list"] | ConfigurationError | Setup,
    Requires | IncludeRequirements<Rels, IncludeOf<Q>>
  >
  /** The first record matching a filter; with the relations `include` names. */
  readonly findFirst: <const O extends { readonly orderBy?: OrderBy<R>; readonly include?: Include<Rels> } & ReadOptions = {}>(
    where?: Where<R, Rels>,
    options?: O
  ) => Effect.Effect<
    Option.Option<With<R, Rels, IncludeOf<O>>>,
    NodeErrors["list"] | ConfigurationError | Setup,
    Requires | IncludeRequirements<Rels, IncludeOf<O>>
  >
  /** The number of records matching a filter (relation keys included). */
  readonly count: (where?: Where<R, Rels>, options?: ReadOptions) => Effect.Effect<number, NodeErrors["count"] | Setup, Requires>
  /** Whether a record matches a filter (relation keys included). */
  readonly exists: (where?: Where<R, Rels>, options?: ReadOptions) => Effect.Effect<boolean, NodeErrors["count"] | Setup, Requires>
  /** The records of a query as a Stream; relations loaded page by page. */
  readonly stream: <
    const Q extends Omit<StreamQuery<R>, "where"> & { readonly where?: Where<R, Rels>; readonly include?: Include<Rels> } = {}
  >(
    query?: Q
  ) => Stream.Stream<
    With<Selected<R, Q>, Rels, IncludeOf<Q>>,
    NodeErrors["list"] | ConfigurationError | Setup,
    Requires | IncludeRequirements<Rels, IncludeOf<Q>>
  >
}

/**
 * Whether `find` / `read` by primary key go through the batching resolver (default `false`:
 * Effect's request machinery costs a lone read a fiber fork and a scheduler hop, some
 * hundred microseconds). When on, reads that run together under request batching —
 * `Effect.forEach(ids, User.find, { batching: true })`, `Effect.all([...], { batching: true })`
 * — become one `WHERE pk IN (…)` statement per model, each caller getting its own record,
 * `None` or `NotFound`.
 *
 * @since 0.1.0
 * @category settings
 */
export const RequestBatching: typeof Batch.RequestBatching = Batch.RequestBatching

/**
 * Switches request batching of `find` / `read` on or off for a whole program (see
 * {@link RequestBatching}).
 *
 * @example
 * ```ts
 * import { Relation } from "effect-dataflow"
 *
 * const batchedReads = Relation.requestBatching(true)
 * ```
 *
 * @since 0.1.0
 * @category settings
 */
export const requestBatching = (enabled: boolean): Layer.Layer<never> => Layer.succeed(Batch.RequestBatching, enabled)

/**
 * Runs an effect with request batching of `find` / `read` on: concurrent reads by id inside
 * it, under Effect's request batching, become one statement per model.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Relation } from "effect-dataflow"
 *
 * declare const find: (id: number) => Effect.Effect<unknown>
 * // one SELECT … WHERE id IN (…) for all of them
 * const users = Effect.forEach([1, 2, 3], find, { batching: true }).pipe(Relation.batched)
 * ```
 *
 * @since 0.1.0
 * @category settings
 */
export const batched = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(self, Batch.RequestBatching, true)

type InputOfTarget<M> = M extends { readonly Input?: infer I } ? (unknown extends I ? Partial<RecordOfTarget<M>> : I)
  : Partial<RecordOfTarget<M>>
type ForeignKeyOf<Rel> = Rel extends { readonly "~foreignKey"?: infer K extends string } ? (string extends K ? never : K) : never
type IdOfTarget<M> = M extends { readonly primaryKey: infer P } ? P extends keyof RecordOfTarget<M> ? RecordOfTarget<M>[P] : unknown
  : unknown

/**
 * A child's input in a nested create: its own input without the foreign key the parent sets,
 * its belong-to writes (but the one to the parent), and its other nested writes.
 */
type ChildInput<M, K extends PropertyKey> =
  & { readonly [F in K]?: never }
  & BelongsToInput<Types.Simplify<Omit<InputOfTarget<M>, K>>, ExceptParent<RelationsOfTarget<M>, K>>
  & NestedCreate<RelationsOfTarget<M>>

type NestedWrite<Rel> = Rel extends ManyToMany<infer M> ? {
    readonly create?: ReadonlyArray<ChildInput<M, never>>
    readonly connect?: ReadonlyArray<IdOfTarget<M>>
  }
  : Rel extends HasMany<infer M> ? { readonly create: ReadonlyArray<ChildInput<M, ForeignKeyOf<Rel>>> }
  : Rel extends HasOne<infer M> ? { readonly create: ChildInput<M, ForeignKeyOf<Rel>> }
  : never

/**
 * The nested writes `create` takes for a model's has-many, has-one and many-to-many relations:
 * `{ create: [...] }` for a has-many (the children's foreign key is set from the new record),
 * `{ create: {...} }` for a has-one, `{ create?: [...], connect?: [ids] }` for a many-to-many
 * (links through the junction). Belongs-to writes are {@link BelongsToInput}'s.
 *
 * @since 0.1.0
 * @category models
 */
export type NestedCreate<Rels> = {
  readonly [K in keyof Rels as Rels[K] extends BelongsTo<Target> ? never : K]?: NestedWrite<Rels[K]>
}

type NestedUpdateWrite<Rel> = Rel extends ManyToMany<infer M> ? 
    | {
      readonly create?: ReadonlyArray<ChildInput<M, never>>
      readonly connect?: ReadonlyArray<IdOfTarget<M>>
      readonly disconnect?: ReadonlyArray<IdOfTarget<M>>
      readonly set?: never
    }
    | {
      readonly create?: ReadonlyArray<ChildInput<M, never>>
      readonly set: ReadonlyArray<IdOfTarget<M>>
      readonly connect?: never
      readonly disconnect?: never
    }
  : Rel extends HasMany<infer M> ? ChildrenUpdate<M, ForeignKeyOf<Rel>>
  : NestedWrite<Rel>

/**
 * The nested writes `update` takes: those of {@link NestedCreate}; for a has-many, `delete`
 * (children by key), `deleteMany` (children matching a filter) and `updateMany`; for a
 * many-to-many, `disconnect` and `set` (replace the links).
 *
 * @since 0.1.0
 * @category models
 */
export type NestedUpdate<Rels> = {
  readonly [K in keyof Rels as Rels[K] extends BelongsTo<Target> ? never : K]?: NestedUpdateWrite<Rels[K]>
}

type CreatedOf<Rel, W> = Rel extends BelongsTo<infer M> ? ParentWritten<M, W>
  : Rel extends ManyToMany<infer M> ? ReadonlyArray<RecordOfTarget<M>>
  : Rel extends HasMany<infer M> ? ReadonlyArray<Created<M, W extends { readonly create: ReadonlyArray<infer C> } ? C : {}>>
  : Rel extends HasOne<infer M> ? Created<M, W extends { readonly create: infer C } ? C : {}>
  : never

type Created<M, C> = WithCreated<RecordOfTarget<M>, RelationsOfTarget<M>, C>

/**
 * What a nested create returns: the record with each relation it wrote — a has-many's
 * children (`ReadonlyArray`), a has-one's child, a many-to-many's records (created, then
 * connected, in the order given) — nested alike.
 *
 * @since 0.1.0
 * @category models
 */
export type WithCreated<R, Rels, I> = [keyof I & keyof Rels] extends [never] ? R
  : Types.Simplify<R & { readonly [K in keyof I & keyof Rels]: CreatedOf<Rels[K], I[K]> }>

/**
 * `update` of a model with relations: the record's own fields, and nested writes of its
 * relations (`posts: { create: [...] }`, `tags: { connect: [3], disconnect: [1] }`) in one
 * transaction; returns the record with what each relation wrote.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateNodes<Id, Patch, R, Rels, Versioned extends boolean, Requires, Setup> {
  readonly update: <const P extends BelongsToPatch<Patch, R, Rels> & NestedUpdate<Rels>>(
    id: Id,
    patch: P & { readonly [K in Exclude<keyof P, keyof Patch | keyof NestedUpdate<Rels> | BelongsToNames<Rels>>]: never },
    ...options: Versioned extends true ? [options?: { readonly expectedVersion?: number }] : []
  ) => Effect.Effect<
    WithCreated<R, Rels, P>,
    | Exclude<NodeErrors["update"], Versioned extends true ? never : OptimisticLockError>
    | ([keyof P & keyof Rels] extends [never] ? never : NodeErrors["create"] | InvalidFilter | ConfigurationError)
    | Setup,
    Requires | NestedRequirements<Rels, P>
  >
}

type ManyToManyName<Rels> = { [K in keyof Rels]: Rels[K] extends ManyToMany<Target> ? K : never }[keyof Rels] & string

type NestedRequirements<Rels, I> = [keyof I & keyof Rels] extends [never] ? never
  : { [K in keyof I & keyof Rels]: RequirementsOfTarget<TargetOf<Rels[K]>> }[keyof I & keyof Rels]

/**
 * The writing nodes of a model with relations: `create` with nested writes, and `connect` /
 * `disconnect` of many-to-many links. Each runs in one transaction: nothing is half-written.
 *
 * @since 0.1.0
 * @category models
 */
export interface WriteNodes<Id, Input, R, Rels, Requires, Setup> {
  /**
   * Inserts one record; with nested writes of its relations (`posts: { create: [...] }`,
   * `tags: { connect: [1, 2] }`) the related records too, in one transaction, and returns the
   * record with what each relation wrote.
   */
  readonly create: <const I extends BelongsToInput<Input, Rels> & NestedCreate<Rels>>(
    input: I & { readonly [K in Exclude<keyof I, keyof Input | keyof NestedCreate<Rels> | BelongsToNames<Rels>>]: never }
  ) => Effect.Effect<
    WithCreated<R, Rels, I>,
    NodeErrors["create"] | ([keyof I & keyof Rels] extends [never] ? never : NotFound) | ConfigurationError | Setup,
    Requires | NestedRequirements<Rels, I>
  >
  /**
   * Links the record `id` to the records `ids` of a many-to-many relation (junction rows;
   * links already there are kept): `connected` counts the new ones. The record must exist
   * (`NotFound`) and so must every target (`ForeignKeyViolation` naming the relation and the
   * junction's field); nothing is written otherwise.
   */
  readonly connect: <K extends ManyToManyName<Rels>>(
    relation: K,
    id: Id,
    ids: ReadonlyArray<IdOfTarget<TargetOf<Rels[K]>>>
  ) => Effect.Effect<
    { readonly connected: number },
    NotFound | ValidationError | WriteError | ConfigurationError | Setup,
    Requires | RequirementsOfTarget<TargetOf<Rels[K]>>
  >
  /** Removes the links of the record `id` to the records `ids` of a many-to-many relation; `disconnected` counts them. */
  readonly disconnect: <K extends ManyToManyName<Rels>>(
    relation: K,
    id: Id,
    ids: ReadonlyArray<IdOfTarget<TargetOf<Rels[K]>>>
  ) => Effect.Effect<
    { readonly disconnected: number },
    ValidationError | WriteError | ConfigurationError | Setup,
    Requires | RequirementsOfTarget<TargetOf<Rels[K]>>
  >
}

// ---------------------------------------------------------------------------------------------
// Nested writes through belongs-to relations, and replacing / deleting children (nested
// `update`). Kept in one block.
// ---------------------------------------------------------------------------------------------

/** The belongs-to relations of `Rels` whose foreign key the types know. */
type BelongsToNames<Rels> = {
  [K in keyof Rels]-?: Rels[K] extends BelongsTo<Target> ? ([ForeignKeyOf<Rels[K]>] extends [never] ? never : K) : never
}[keyof Rels]

type BelongsToKeys<Rels> = { [K in BelongsToNames<Rels>]: ForeignKeyOf<Rels[K]> }[BelongsToNames<Rels>]

/** The relations of a child but its belongs-to to the parent (whose key the parent sets). */
type ExceptParent<Rels, K extends PropertyKey> = {
  [N in keyof Rels as Rels[N] extends BelongsTo<Target> ? ([ForeignKeyOf<Rels[N]> & K] extends [never] ? N : never) : N]: Rels[N]
}

/** The intersection of the `v`s of a union of boxes (one box per relation, so that each relation's union stays whole). */
type AllOf<U> = [U] extends [never] ? unknown
  : ((U extends unknown ? (u: U) => void : never) extends (u: infer I) => void ? I : never) extends { readonly v: infer T } ? T
  : never

/** A record of `M` named by a unique key: its id, or an object of a unique key's fields (checked at run time). */
type UniqueOfTarget<M> = IdOfTarget<M> | { readonly [F in keyof RecordOfTarget<M>]?: RecordOfTarget<M>[F] }

/**
 * A belongs-to's nested write: exactly one of `create` (the referenced record, with nested
 * writes of its own), `connect` (an existing one by a unique key) and `connectOrCreate`; in an
 * update of a nullable foreign key, `disconnect: true` too.
 *
 * @since 0.1.0
 * @category models
 */
export type BelongsToWrite<M, Disconnect extends boolean = false> =
  | { readonly create: ChildInput<M, never>; readonly connect?: never; readonly connectOrCreate?: never; readonly disconnect?: never }
  | { readonly connect: UniqueOfTarget<M>; readonly create?: never; readonly connectOrCreate?: never; readonly disconnect?: never }
  | {
    readonly connectOrCreate: { readonly where: UniqueOfTarget<M>; readonly create: ChildInput<M, never> }
    readonly create?: never
    readonly connect?: never
    readonly disconnect?: never
  }
  | (Disconnect extends true ? { readonly disconnect: true; readonly create?: never; readonly connect?: never; readonly connectOrCreate?: never }
    : never)

type CreateChoice<Input, K extends PropertyKey, Rel> = Rel extends BelongsTo<infer M> ?
    | (Pick<Input, ForeignKeyOf<Rel> & keyof Input> & { readonly [N in K]?: never })
    | ({ readonly [F in ForeignKeyOf<Rel>]?: never } & { readonly [N in K]: BelongsToWrite<M> })
  : never

/**
 * A `create` input's belongs-to part: for each belongs-to relation, either its foreign key
 * (as the model's input has it) or a nested write of the relation ({@link BelongsToWrite}) —
 * not both.
 *
 * @since 0.1.0
 * @category models
 */
export type BelongsToInput<Input, Rels> = [BelongsToKeys<Rels>] extends [never] ? Input
  :
    & Omit<Input, BelongsToKeys<Rels>>
    & AllOf<{ [K in BelongsToNames<Rels>]: { readonly v: CreateChoice<Input, K, Rels[K]> } }[BelongsToNames<Rels>]>

type Nullable<R, F> = [F & keyof R] extends [never] ? false : null extends R[F & keyof R] ? true : false

type PatchChoice<Patch, R, K extends PropertyKey, Rel> = Rel extends BelongsTo<infer M> ?
    | (Pick<Patch, ForeignKeyOf<Rel> & keyof Patch> & { readonly [N in K]?: never })
    | ({ readonly [F in ForeignKeyOf<Rel>]?: never } & { readonly [N in K]: BelongsToWrite<M, Nullable<R, ForeignKeyOf<Rel>>> })
  : never

/**
 * An `update` patch's belongs-to part: the foreign key or a nested write of the relation, not
 * both; `disconnect: true` only where the foreign key is nullable.
 *
 * @since 0.1.0
 * @category models
 */
export type BelongsToPatch<Patch, R, Rels> = [BelongsToKeys<Rels>] extends [never] ? Patch
  :
    & Omit<Patch, BelongsToKeys<Rels>>
    & AllOf<{ [K in BelongsToNames<Rels>]: { readonly v: PatchChoice<Patch, R, K, Rels[K]> } }[BelongsToNames<Rels>]>

/** What a belongs-to write returns: the record created or connected, `null` after `disconnect`. */
type ParentWritten<M, W> = W extends { readonly disconnect: true } ? null
  : W extends { readonly create: infer C } ? Created<M, C>
  : RecordOfTarget<M>

/** A filter of a has-many's children, without the foreign key the relation holds. */
type ChildWhere<M, K extends PropertyKey> = Omit<WhereOfTarget<M>, K> & { readonly [F in K]?: never }

/**
 * A has-many's nested `update`: children created (`create`), deleted by key (`delete`: each
 * must be a child of the record, else `NotFound`), deleted by filter (`deleteMany`), updated
 * by filter (`updateMany: { where?, data }`). Deletes soft-delete on a soft-delete model.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChildrenUpdate<M, K extends PropertyKey> {
  readonly create?: ReadonlyArray<ChildInput<M, K>>
  readonly delete?: ReadonlyArray<IdOfTarget<M>>
  readonly deleteMany?: ChildWhere<M, K>
  readonly updateMany?: {
    readonly where?: ChildWhere<M, K>
    readonly data: Partial<Omit<InputOfTarget<M>, K>> & { readonly [F in K]?: never }
  }
}
