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
import type { ConfigurationError } from "./Errors.js"
import type { Filter } from "./Filter.js"
import * as Internal from "./internal/model/relations.js"
import type { JunctionKey, RecordOfTarget, RelationsOfTarget, RequirementsOfTarget, TargetOf, WhereOfTarget } from "./internal/model/targets.js"
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
 * holding the target's — on a composite primary key, a list of the junction's fields, one per
 * key field in the key's order. The junction declares its own belongs-to relations (its
 * foreign keys). Loads as an array with two statements per page (the junction rows, then the
 * records); filters with `some` / `every` / `none`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const manyToMany = <M extends Target>(
  target: () => M,
  options: {
    readonly through: () => Target
    readonly foreignKey: string | readonly [string, string, ...ReadonlyArray<string>]
    readonly otherKey: JunctionKey<M>
  }
): ManyToMany<M> => Internal.spec("manyToMany", target, options) as ManyToMany<M>


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
 * Whether `find` / `read` by primary key, and `list` / `findFirst` by one equality on one
 * field, go through the batching resolvers (default `false`: Effect's request machinery costs a
 * lone read a fiber fork and a scheduler hop, some hundred microseconds). When on, reads that run together
 * under request batching — `Effect.forEach(ids, User.find, { batching: true })`,
 * `Effect.all([...], { batching: true })` — become one `WHERE pk IN (…)` statement per model,
 * each caller getting its own record, `None` or `NotFound`; lists such as
 * `Comment.list({ where: { postId } })` with the same order and paging become one
 * `WHERE post_id IN (…)` statement, each caller getting its own page (see docs/relations.md).
 *
 * @since 0.1.0
 * @category settings
 */
export const RequestBatching: typeof Batch.RequestBatching = Batch.RequestBatching

/**
 * Switches request batching of `find` / `read` and of lists by one field on or off for a whole
 * program (see {@link RequestBatching}).
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
 * Runs an effect with request batching of `find` / `read` and of lists by one field on:
 * concurrent reads by id inside it, under Effect's request batching, become one statement per
 * model, and concurrent lists by one field one statement per model and query shape.
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


export type {
  BelongsToInput,
  BelongsToPatch,
  BelongsToWrite,
  ChildrenUpdate,
  ChildUpdate,
  NestedCreate,
  NestedUpdate,
  UpdateNodes,
  WithCreated,
  WriteNodes
} from "./internal/model/writeTypes.js"
