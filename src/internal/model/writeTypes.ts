/**
 * The types of nested writes: `create` / `update` with writes of a model's relations
 * (children created, many-to-many links connected, belongs-to parents created or connected),
 * and what they return. Re-exported by `Relation`. (Internal module: not part of the public API.)
 */
import type * as Effect from "effect/Effect"
import type * as Types from "effect/Types"
import type { ConfigurationError, InvalidFilter, NotFound, OptimisticLockError, ValidationError, WriteError } from "../../Errors.js"
import type { BelongsTo, HasMany, HasOne, ManyToMany, Target } from "../../Relation.js"
import type { NodeErrors } from "../nodes/types.js"
import type { RecordOfTarget, RelationsOfTarget, RequirementsOfTarget, TargetOf, WhereOfTarget } from "./targets.js"

type InputOfTarget<M> = M extends { readonly Input?: infer I } ? (unknown extends I ? Partial<RecordOfTarget<M>> : I)
  : Partial<RecordOfTarget<M>>
type ForeignKeyOf<Rel> = Rel extends { readonly "~foreignKey"?: infer K extends string } ? (string extends K ? never : K) : never
type IdOfTarget<M> = M extends { readonly primaryKey: infer P } ? P extends keyof RecordOfTarget<M> ? RecordOfTarget<M>[P]
  : P extends ReadonlyArray<infer K extends keyof RecordOfTarget<M>> ? { readonly [F in K]: RecordOfTarget<M>[F] }
  : unknown
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
  : Rel extends HasMany<infer M> ? ChildrenUpdate<M, ForeignKeyOf<Rel>, Nullable<RecordOfTarget<M>, ForeignKeyOf<Rel>>>
  : Rel extends HasOne<infer M> ? ChildUpdate<M, ForeignKeyOf<Rel>, Nullable<RecordOfTarget<M>, ForeignKeyOf<Rel>>>
  : never

/**
 * The nested writes `update` takes: those of {@link NestedCreate}; for a has-many, `delete`
 * (children by key), `deleteMany` (children matching a filter), `updateMany`, `update` (children
 * by key) and `disconnect`; for a has-one, `update`, `delete` and `disconnect` of its child
 * ({@link ChildUpdate}); for a many-to-many, `disconnect` and `set` (replace the links).
 *
 * @since 0.1.0
 * @category models
 */
export type NestedUpdate<Rels> = {
  readonly [K in keyof Rels as Rels[K] extends BelongsTo<Target> ? never : K]?: NestedUpdateWrite<Rels[K]>
}

type CreatedOf<Rel, W> = Rel extends BelongsTo<infer M> ? ParentWritten<M, W>
  : Rel extends ManyToMany<infer M> ? ReadonlyArray<RecordOfTarget<M>>
  : Rel extends HasMany<infer M> ? ReadonlyArray<
      | (W extends { readonly update: ReadonlyArray<unknown> } ? RecordOfTarget<M> : never)
      | Created<M, W extends { readonly create: ReadonlyArray<infer C> } ? C : {}>
    >
  : Rel extends HasOne<infer M> ? W extends { readonly create: infer C } ? Created<M, C>
    : W extends { readonly update: unknown } ? RecordOfTarget<M>
    : null
  : never

type Created<M, C> = WithCreated<RecordOfTarget<M>, RelationsOfTarget<M>, C>

/**
 * What a nested create returns: the record with each relation it wrote — a has-many's
 * children (`ReadonlyArray`; in an update the children updated by key, then those created), a
 * has-one's child (created or updated; `null` after only `delete` / `disconnect`), a
 * many-to-many's records (created, then connected, in the order given) — nested alike.
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

/** Whether every field of a foreign key is nullable (`disconnect` clears them all). */
type Nullable<R, F> = [F & keyof R] extends [never] ? false
  : { [K in F & keyof R]: null extends R[K] ? true : false }[F & keyof R] extends true ? true
  : false

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

/** A patch of a child: its own fields but the foreign key the relation holds. */
type ChildPatch<M, K extends PropertyKey> = Partial<Omit<InputOfTarget<M>, K>> & { readonly [F in K]?: never }

/** A child named by its id or by a unique key of its own fields (not the foreign key the relation holds). */
type ChildKey<M, K extends PropertyKey> =
  | IdOfTarget<M>
  | ({ readonly [F in Exclude<keyof RecordOfTarget<M>, K>]?: RecordOfTarget<M>[F] } & { readonly [F in K]?: never })

/**
 * A has-many's nested `update`: children created (`create`), deleted by key (`delete`: each
 * must be a child of the record, else `NotFound`), deleted by filter (`deleteMany`), updated
 * by filter (`updateMany: { where?, data }`), updated by key (`update: [{ where, data }]`, each
 * a child of the record, else `NotFound`), and — where the children's foreign key is nullable —
 * detached (`disconnect`: ids, their key cleared). Deletes soft-delete on a soft-delete model.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChildrenUpdate<M, K extends PropertyKey, NullableKey extends boolean = false> {
  readonly create?: ReadonlyArray<ChildInput<M, K>>
  readonly delete?: ReadonlyArray<IdOfTarget<M>>
  readonly deleteMany?: ChildWhere<M, K>
  readonly updateMany?: {
    readonly where?: ChildWhere<M, K>
    readonly data: ChildPatch<M, K>
  }
  readonly update?: ReadonlyArray<{ readonly where: ChildKey<M, K>; readonly data: ChildPatch<M, K> }>
  readonly disconnect?: NullableKey extends true ? ReadonlyArray<IdOfTarget<M>> : never
}

/**
 * A has-one's nested `update`: its child created (`create`), updated (`update`: a patch; the
 * child must exist, else `NotFound`), deleted (`delete: true`: soft on a soft-delete model; the
 * child must exist) or — where its foreign key is nullable — detached (`disconnect: true`, its
 * key cleared). `delete` / `disconnect` with `create` replace the child; `update` goes alone.
 *
 * @since 0.1.0
 * @category models
 */
export type ChildUpdate<M, K extends PropertyKey, NullableKey extends boolean = false> =
  | {
    readonly create?: ChildInput<M, K>
    readonly delete?: true
    readonly disconnect?: never
    readonly update?: never
  }
  | {
    readonly create?: ChildInput<M, K>
    readonly disconnect: NullableKey extends true ? true : never
    readonly delete?: never
    readonly update?: never
  }
  | { readonly update: ChildPatch<M, K>; readonly create?: never; readonly delete?: never; readonly disconnect?: never }
