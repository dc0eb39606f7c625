/**
 * Declaring models. A model is an Effect Schema plus table options; every model carries its
 * generated nodes — `create`, `read`, `find`, `update`, `delete`, `list`, `count`, `upsert`,
 * `bulkCreate`, `bulkUpdate`, `bulkDelete`, `bulkUpsert` — each an ordinary `Effect` that
 * needs an `@effect/sql` `SqlClient`.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as BigDecimal from "effect/BigDecimal"
import type * as Types from "effect/Types"
import * as Schema from "effect/Schema"
import type * as Column from "./Column.js"
import type * as Effect from "effect/Effect"
import type { ConfigurationError } from "./Errors.js"
import type { Filter } from "./Filter.js"
import * as Definition from "./internal/model/definition.js"
import * as Nodes from "./internal/nodes/index.js"
import * as Relations from "./internal/model/relations.js"
import * as Relation from "./Relation.js"
import type { Binding } from "./internal/runtime/binding.js"
import type * as Node from "./Node.js"
import type * as Tenant from "./Tenant.js"

/**
 * The fields of a model.
 *
 * @since 0.1.0
 * @category models
 */
export type Fields = Schema.Struct.Fields

/**
 * A stored row's user-declared fields.
 *
 * @since 0.1.0
 * @category models
 */
export type Row<F extends Fields> = Schema.Struct.Type<F>

/**
 * Timestamps managed by the library.
 *
 * @since 0.1.0
 * @category models
 */
export interface Timestamps {
  readonly createdAt: Date
  readonly updatedAt: Date
}

/**
 * The soft-delete stamp, present on models declared with `softDelete: true`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SoftDeleted {
  readonly deletedAt: Date | null
}

/**
 * The optimistic-locking version, present on models declared with `versioned: true`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Versioned {
  readonly version: number
}

/**
 * Behaviours a model is declared with.
 *
 * @since 0.1.0
 * @category models
 */
export interface Behaviours {
  readonly timestamps: boolean
  readonly softDelete: boolean
  readonly versioned: boolean
  readonly appendOnly: boolean
  readonly tenantScoped: boolean
}

/**
 * The behaviours an options object declares.
 *
 * @since 0.1.0
 * @category models
 */
export type BehavioursOf<O> = {
  readonly timestamps: O extends { readonly timestamps: false } ? false : true
  readonly softDelete: O extends { readonly softDelete: true } ? true : false
  readonly versioned: O extends { readonly versioned: true } ? true : false
  readonly appendOnly: O extends { readonly appendOnly: true } ? true : false
  readonly tenantScoped: O extends { readonly tenantScoped: true } ? true : false
}

/**
 * What a model's nodes require: the default `SqlClient`, or the instance the model is bound to;
 * plus the current tenant on tenant-scoped models.
 *
 * @since 0.1.0
 * @category models
 */
export type RequirementsOf<O> =
  | (O extends { readonly instance: Effect.Effect<Binding, never, infer I> } ? I : SqlClient.SqlClient)
  | (O extends { readonly tenantScoped: true } ? Tenant.CurrentTenant : never)

/**
 * The setup error a model's nodes can fail with: `ConfigurationError` where the layers decide
 * how a model is stored (tenant-scoped models: the schema strategy on SQLite; instance models:
 * a database per tenant for a model that is not tenant-scoped).
 *
 * @since 0.1.0
 * @category models
 */
export type SetupErrorOf<O> = O extends { readonly tenantScoped: true } ? ConfigurationError
  : O extends { readonly instance: unknown } ? ConfigurationError
  : never

/**
 * The tenant column, present on tenant-scoped models.
 *
 * @since 0.1.0
 * @category models
 */
export interface TenantScoped {
  readonly tenantId: string
}

/**
 * What a node returns for one record: the declared fields plus the managed ones.
 *
 * @since 0.1.0
 * @category models
 */
export type RecordOf<F extends Fields, B extends Behaviours> = Types.Simplify<
  & Row<F>
  & (B["timestamps"] extends true ? Timestamps : {})
  & (B["softDelete"] extends true ? SoftDeleted : {})
  & (B["versioned"] extends true ? Versioned : {})
  & (B["tenantScoped"] extends true ? TenantScoped : {})
>

type Constructor<F extends Fields> = Schema.Struct.Constructor<F>

/**
 * The primary key's type.
 *
 * @since 0.1.0
 * @category models
 */
export type IdOf<F extends Fields, PK extends keyof F> = Row<F>[PK & keyof Row<F>]

/**
 * A composite primary key's value: an object of every field of the key.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyObject<F extends Fields, PK extends keyof F> = { readonly [K in PK & keyof Row<F>]: Row<F>[K] }

/**
 * The primary key's type: the field's value, or on a composite key ({@link Composite} true)
 * the object of its fields' values.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyOf<F extends Fields, PK extends keyof F, Composite extends boolean> = Composite extends true ? KeyObject<F, PK>
  : IdOf<F, PK>

/**
 * Whether an options object declares a composite primary key (`primaryKey: ["a", "b"]`).
 *
 * @since 0.1.0
 * @category models
 */
export type CompositeOf<O> = O extends { readonly primaryKey: ReadonlyArray<string> } ? true : false

/**
 * Input of `create`: fields with constructor defaults and optional fields may be left out,
 * and so may an integer primary key (the database generates it) — never the fields of a
 * composite key.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateInput<F extends Fields, PK extends keyof F, Composite extends boolean = false> = Composite extends true
  ? Types.Simplify<Constructor<F>>
  : Types.Simplify<
    & Omit<Constructor<F>, PK>
    & (Row<F>[PK & keyof Row<F>] extends number ? { readonly [K in PK & keyof Row<F>]?: Row<F>[K] }
      : Pick<Constructor<F>, PK & keyof Constructor<F>>)
  >

/**
 * An arithmetic update of a numeric field (a number, an integer, a bigint or a `BigDecimal`),
 * computed by the database in the UPDATE itself: `{ $increment: 1 }`, `{ $decrement: 1 }`,
 * `{ $multiply: 2 }` (a decimal field takes whole factors). A NULL stays NULL; a result out of
 * the column's range or against the field's schema is a `ValidationError`, nothing written.
 *
 * @since 0.1.0
 * @category models
 */
export type Arithmetic<V> = [NonNullable<V>] extends [number | bigint | BigDecimal.BigDecimal]
  ? { readonly $increment: NonNullable<V> } | { readonly $decrement: NonNullable<V> } | { readonly $multiply: NonNullable<V> }
  : never

type KeyOfEntry<F extends Fields, E> = E extends string ? { readonly [K in E & keyof Row<F>]: Row<F>[K] }
  : E extends ReadonlyArray<infer K extends string> ? { readonly [P in K & keyof Row<F>]: Row<F>[P] }
  : never

/**
 * The keys `readBy` / `findBy` take: the primary key, or the fields of one declared unique
 * constraint, as an object of their values.
 *
 * @since 0.1.0
 * @category models
 */
export type UniqueKeysOf<F extends Fields, PK extends keyof F, O> =
  | { readonly [K in PK & keyof Row<F>]: Row<F>[K] }
  | (O extends { readonly unique: ReadonlyArray<infer U> } ? KeyOfEntry<F, U> : never)

/**
 * The fields the library manages, present on models with the behaviour that adds them:
 * `createdAt` / `updatedAt` (timestamps), `deletedAt` (softDelete), `version` (versioned),
 * `tenantId` (tenantScoped).
 *
 * @since 0.1.0
 * @category models
 */
export type ManagedField = "createdAt" | "updatedAt" | "deletedAt" | "version" | "tenantId"

/**
 * A partial update: any declared field but the primary key; numeric fields also take an
 * {@link Arithmetic} update.
 *
 * @since 0.1.0
 * @category models
 */
export type Patch<F extends Fields, PK extends keyof F> = {
  readonly [K in Exclude<keyof Row<F>, PK>]?: Row<F>[K] | Arithmetic<Row<F>[K]>
}

/**
 * Options of a model.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<F extends Fields, PK extends keyof F & string> {
  /** Table name; default: the model name in snake_case, pluralised (`OrderStatus` -> `order_statuses`). */
  readonly table?: string
  /**
   * Primary key field; default `"id"`. Several fields make a composite key
   * (`["followerId", "followingId"]`): given on create, never generated, and a key is then an
   * object of their values.
   */
  readonly primaryKey?: PK | readonly [PK, PK, ...ReadonlyArray<PK>]
  /**
   * Unique constraints: a field, or several for a composite constraint. Managed fields
   * (`createdAt`, `deletedAt`, …) may take part when the model has them.
   */
  readonly unique?: ReadonlyArray<(keyof F & string) | ManagedField | ReadonlyArray<(keyof F & string) | ManagedField>>
  /**
   * Indexes: a field, or several for a composite index; managed fields too
   * (`indexes: ["createdAt"]` for a `-createdAt` sort).
   */
  readonly indexes?: ReadonlyArray<(keyof F & string) | ManagedField | ReadonlyArray<(keyof F & string) | ManagedField>>
  /** Manage `createdAt` / `updatedAt`; default `true`. */
  readonly timestamps?: boolean
  /** `delete` stamps `deletedAt` instead of removing the row; reads skip deleted rows. */
  readonly softDelete?: boolean
  /** A `version` column, incremented on every update, for optimistic locking. */
  readonly versioned?: boolean
  /** Only create, read, find, list, findFirst, count and bulkCreate exist on the model. */
  readonly appendOnly?: boolean
  /** Records belong to a tenant: the nodes require `Tenant.CurrentTenant`. */
  readonly tenantScoped?: boolean
  /** Bind the model to a database instance (`DataFlow.Instance`): the nodes require it instead of `SqlClient`. */
  readonly instance?: Effect.Effect<Binding, never, unknown> & { readonly key: string }
  /**
   * Relations to other models, by name (`Model.belongsTo`, `Model.hasMany`, `Model.hasOne`):
   * foreign keys in the table, and `include` on the reading nodes. See docs/relations.md.
   */
  readonly relations?: Relation.Relations
}

/**
 * The relations an options object declares.
 *
 * @since 0.1.0
 * @category models
 */
export type RelationsOf<O> = O extends { readonly relations: infer X extends Relation.Relations } ? X : {}


/**
 * A model and its generated nodes. The nodes present follow the model's behaviours:
 * append-only models have no mutation nodes; soft-delete models have `restore`.
 *
 * @since 0.1.0
 * @category models
 */
export type Model<
  Name extends string,
  F extends Fields,
  PK extends keyof F & string,
  B extends Behaviours,
  Requires = SqlClient.SqlClient,
  Setup = never,
  Keys = { readonly [K in PK & keyof Row<F>]: Row<F>[K] },
  Rels = {},
  Composite extends boolean = false
> =
  & {
    readonly name: Name
    /** Table name. */
    readonly table: string
    readonly fields: F
    /** The primary key's field, or its fields on a composite key. */
    readonly primaryKey: Composite extends true ? ReadonlyArray<PK> : PK
    /** The model's row schema (the declared fields). */
    readonly schema: Schema.Struct<F>
    /** Columns, in table order (managed columns last). */
    readonly columns: ReadonlyArray<Column.Column>
    readonly behaviours: B
    /** Type-level only: what the nodes require. */
    readonly "~requirements"?: Requires
    /** Type-level only: the model's relations. */
    readonly "~relations"?: Rels
    /** Type-level only (`typeof User.Type`): the record type; undefined at run time. */
    readonly Type: RecordOf<F, B>
    /** Type-level only (`typeof User.Input`): `create`'s input type; undefined at run time. */
    readonly Input: CreateInput<F, PK, Composite>
  }
  & ([keyof Rels] extends [never] ? Node.ReadNodes<KeyOf<F, PK, Composite>, CreateInput<F, PK, Composite>, RecordOf<F, B>, Requires, Setup, Keys>
    : 
      & Omit<
        Node.ReadNodes<KeyOf<F, PK, Composite>, CreateInput<F, PK, Composite>, RecordOf<F, B>, Requires, Setup, Keys>,
        "read" | "find" | "list" | "findFirst" | "stream" | "count" | "exists" | "create"
      >
      & Relation.IncludeNodes<KeyOf<F, PK, Composite>, RecordOf<F, B>, Rels, Requires, Setup>
      & Relation.WriteNodes<KeyOf<F, PK, Composite>, CreateInput<F, PK, Composite>, RecordOf<F, B>, Rels, Requires, Setup>)
  & (B["appendOnly"] extends true ? {}
    : [keyof Rels] extends [never] ? Node.MutationNodes<
        KeyOf<F, PK, Composite>,
        CreateInput<F, PK, Composite>,
        Patch<F, PK>,
        Row<F>,
        keyof F & string,
        RecordOf<F, B>,
        B["versioned"],
        Requires,
        Setup
      >
    : 
      & Omit<
        Node.MutationNodes<
          KeyOf<F, PK, Composite>,
          CreateInput<F, PK, Composite>,
          Patch<F, PK>,
          Row<F>,
          keyof F & string,
          RecordOf<F, B>,
          B["versioned"],
          Requires,
          Setup,
          Relation.Where<RecordOf<F, B>, Rels>
        >,
        "update"
      >
      & Relation.UpdateNodes<KeyOf<F, PK, Composite>, Patch<F, PK>, RecordOf<F, B>, Rels, B["versioned"], Requires, Setup>)
  & (B["softDelete"] extends true ? (B["appendOnly"] extends true ? {} : Node.RestoreNode<KeyOf<F, PK, Composite>, Requires, Setup>) : {})

/**
 * Any model.
 *
 * @since 0.1.0
 * @category models
 */
export interface Any {
  readonly name: string
  readonly table: string
  readonly columns: ReadonlyArray<Column.Column>
  readonly "~requirements"?: unknown
}

/**
 * What a model's nodes require.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements<M extends Any> = M extends { readonly "~requirements"?: infer R } ? R : never

/**
 * Declares a model from an Effect Schema (`Schema.Struct` or `Schema.Class`) or from its fields.
 *
 * @example
 * ```ts
 * import { Effect as E, ParseResult, Schema } from "effect"
 * import { Model } from "effect-dataflow"
 *
 * const User = Model.make("User", Schema.Struct({
 *   id: Schema.Int,
 *   email: Schema.String.pipe(Schema.maxLength(320)),
 *   name: Schema.String,
 *   age: Schema.NullOr(Schema.Int)
 * }), { unique: ["email"] })
 *
 * // User.create({ email: "ada@example.com", name: "Ada", age: 36 }): Effect<User record, …, SqlClient>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <
  const Name extends string,
  F extends Fields,
  PK extends keyof F & string = "id" & keyof F,
  const O extends Options<F, PK> = {}
>(
  name: Name,
  schema: { readonly fields: F } | F,
  options?: O & Options<F, PK>
): Model<
  Name,
  F,
  PK,
  BehavioursOf<O>,
  RequirementsOf<O>,
  SetupErrorOf<O>,
  UniqueKeysOf<F, PK, O>,
  RelationsOf<O>,
  CompositeOf<O>
> => {
  const fields = (Schema.isSchema(schema) || "fields" in schema && typeof schema.fields === "object"
    ? (schema as { readonly fields: F }).fields
    : schema) as F
  const definition = Definition.make(name, fields, (options ?? {}) as Definition.DefinitionOptions)
  Relations.declare(definition, options?.relations)
  const { update, delete: del, upsert, bulkUpdate, bulkDelete, bulkUpsert, restore, ...reads } = Nodes.make<
    RequirementsOf<O>
  >(definition)
  const model = {
    name,
    table: definition.table,
    fields,
    primaryKey: definition.compositeKey ? definition.key.map((c) => c.field) : definition.pk.field,
    schema: Schema.Struct(fields),
    columns: definition.columns,
    behaviours: {
      timestamps: definition.timestamps,
      softDelete: definition.softDelete,
      versioned: definition.versioned,
      appendOnly: definition.appendOnly,
      tenantScoped: definition.tenantScoped
    },
    [Definition.DefinitionKey]: definition,
    Type: undefined,
    Input: undefined,
    ...reads,
    // append-only models do not have the mutating nodes at all, at run time as in their type
    ...(definition.appendOnly ? {} : { update, delete: del, upsert, bulkUpdate, bulkDelete, bulkUpsert }),
    ...(definition.softDelete && !definition.appendOnly ? { restore } : {})
  }
  // The internal nodes take and return plain records and have the errors of NodeErrors (from
  // which the public types are derived) plus ConfigurationError; the public types name the
  // schema's record types and keep ConfigurationError where it can happen (SetupErrorOf).
  return model as unknown as Model<
    Name,
    F,
    PK,
    BehavioursOf<O>,
    RequirementsOf<O>,
    SetupErrorOf<O>,
    UniqueKeysOf<F, PK, O>,
    RelationsOf<O>,
    CompositeOf<O>
  >
}

/**
 * A belongs-to relation: this model's `foreignKey` refers to the target (see `Relation.belongsTo`).
 *
 * @since 0.1.0
 * @category relations
 */
export const belongsTo = Relation.belongsTo

/**
 * A has-many relation: the target's `foreignKey` refers to this model (see `Relation.hasMany`).
 *
 * @since 0.1.0
 * @category relations
 */
export const hasMany = Relation.hasMany

/**
 * A has-one relation: the target's `foreignKey` refers to this model (see `Relation.hasOne`).
 *
 * @since 0.1.0
 * @category relations
 */
export const hasOne = Relation.hasOne

/**
 * A many-to-many relation through a junction model (see `Relation.manyToMany`).
 *
 * @since 0.1.0
 * @category relations
 */
export const manyToMany = Relation.manyToMany

/**
 * A string primary key generated by the application: a random UUID (v4) unless given.
 *
 * @since 0.1.0
 * @category fields
 */
export const UuidId = Schema.String.pipe(
  Schema.propertySignature,
  Schema.withConstructorDefault(() => crypto.randomUUID())
)

const ulidAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

/**
 * A ULID: 26 characters, sortable by creation time.
 *
 * @since 0.1.0
 * @category fields
 */
export const ulid = (now: number = Date.now()): string => {
  let time = ""
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ulidAlphabet[t % 32] + time
    t = Math.floor(t / 32)
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let random = ""
  for (let i = 0; i < 16; i++) random += ulidAlphabet[bytes[i]! % 32]
  return time + random
}

/**
 * A string primary key generated by the application: a ULID unless given.
 *
 * @since 0.1.0
 * @category fields
 */
export const UlidId = Schema.String.pipe(
  Schema.propertySignature,
  Schema.withConstructorDefault(() => ulid())
)

/**
 * The record type of a model: `Model.Type<typeof User>`.
 *
 * @since 0.1.0
 * @category models
 */
export type Type<M> = M extends { readonly read: (...args: ReadonlyArray<never>) => Effect.Effect<infer R, infer _E, infer _C> } ? R
  : never

/**
 * The input type of a model's `create`: `Model.Input<typeof User>`.
 *
 * @since 0.1.0
 * @category models
 */
export type Input<M> = M extends { readonly create: (input: infer I) => Effect.Effect<infer _A, infer _E, infer _C> } ? I
  : never

/**
 * The primary key type of a model.
 *
 * @since 0.1.0
 * @category models
 */
export type IdOfModel<M> = M extends { readonly read: (id: infer I, ...rest: ReadonlyArray<never>) => Effect.Effect<infer _A, infer _E, infer _C> }
  ? I
  : never

/**
 * The primary key type of a model: `Model.Key<typeof User>` (a scalar), or the object of a
 * composite key's fields (`Model.Key<typeof Follow>` is `{ followerId, followingId }`).
 *
 * @since 0.1.0
 * @category models
 */
export type Key<M> = IdOfModel<M>

/**
 * The filter type of a model.
 *
 * @since 0.1.0
 * @category filters
 */
export type FilterOf<M> = Filter<Type<M> extends never ? Record<string, unknown> : Type<M>>
