/**
 * Declaring models. A model is an Effect Schema plus table options; every model carries its
 * generated nodes — `create`, `read`, `find`, `update`, `delete`, `list`, `count`, `upsert`,
 * `bulkCreate`, `bulkUpdate`, `bulkDelete`, `bulkUpsert` — each an ordinary `Effect` that
 * needs an `@effect/sql` `SqlClient`.
 *
 * @since 0.1.0
 */
import type { SqlClient } from "@effect/sql"
import type { Option, Stream, Types } from "effect"
import { Effect, ParseResult, Schema } from "effect"
import type * as Column from "./Column.js"
import type { ConfigurationError, InvalidFilter, OptimisticLockError } from "./Errors.js"
import type { Filter } from "./Filter.js"
import { decodeFilter as decodeFilterOf } from "./internal/model/decode.js"
import * as Definition from "./internal/model/definition.js"
import * as Nodes from "./internal/nodes/index.js"
import type { NodeErrors } from "./internal/nodes/types.js"
import type { Binding } from "./internal/runtime/binding.js"
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
 * Input of `create`: fields with constructor defaults and optional fields may be left out,
 * and so may an integer primary key (the database generates it).
 *
 * @since 0.1.0
 * @category models
 */
export type CreateInput<F extends Fields, PK extends keyof F> = Types.Simplify<
  & Omit<Constructor<F>, PK>
  & (Row<F>[PK & keyof Row<F>] extends number ? { readonly [K in PK & keyof Row<F>]?: Row<F>[K] }
    : Pick<Constructor<F>, PK & keyof Constructor<F>>)
>

/**
 * A partial update: any declared field but the primary key.
 *
 * @since 0.1.0
 * @category models
 */
export type Patch<F extends Fields, PK extends keyof F> = {
  readonly [K in Exclude<keyof Row<F>, PK>]?: Row<F>[K]
}

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
 * @since 0.1.0
 * @category models
 */
export interface BulkOptions {
  /** Required to run a bulk update or delete with an empty filter (every row). */
  readonly confirm?: boolean
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
  /** Primary key field; default `"id"`. */
  readonly primaryKey?: PK
  /** Unique constraints: a field, or several for a composite constraint. */
  readonly unique?: ReadonlyArray<(keyof F & string) | ReadonlyArray<keyof F & string>>
  /** Indexes: a field, or several for a composite index. */
  readonly indexes?: ReadonlyArray<(keyof F & string) | ReadonlyArray<keyof F & string>>
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
}


/**
 * The nodes every model has: creating and reading.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReadNodes<F extends Fields, PK extends keyof F & string, R, Requires, Setup = never> {
  /** Inserts one record; returns it as stored (generated id, timestamps). */
  readonly create: (input: CreateInput<F, PK>) => Effect.Effect<R, NodeErrors["create"] | Setup, Requires>
  /** The record with this primary key, or `NotFound`. */
  readonly read: (
    id: IdOf<F, PK>,
    options?: ReadOptions
  ) => Effect.Effect<R, NodeErrors["read"] | Setup, Requires>
  /** The record with this primary key, if any. */
  readonly find: (
    id: IdOf<F, PK>,
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
    O extends { readonly returnRecords?: boolean } = {},
    SE = never,
    SR = never,
    PE = never,
    PR = never
  >(
    rows: Iterable<CreateInput<F, PK>> | Stream.Stream<CreateInput<F, PK>, SE, SR>,
    options?: O & BulkCreateOptions<PE, PR>
  ) => Effect.Effect<
    O extends { readonly returnRecords: true } ? { readonly inserted: number; readonly records: ReadonlyArray<R> }
      : { readonly inserted: number },
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
export interface MutationNodes<F extends Fields, PK extends keyof F & string, R, B extends Behaviours, Requires, Setup = never> {
  /** Applies a partial update and returns the updated record; bumps `updatedAt` (and `version`). */
  readonly update: (
    id: IdOf<F, PK>,
    patch: Patch<F, PK>,
    ...options: B["versioned"] extends true ? [options?: { readonly expectedVersion?: number }] : []
  ) => Effect.Effect<
    R,
    Exclude<NodeErrors["update"], B["versioned"] extends true ? never : OptimisticLockError> | Setup,
    Requires
  >
  /** Deletes by primary key (stamps `deletedAt` on soft-delete models); `deleted` says whether a row was there. */
  readonly delete: (id: IdOf<F, PK>) => Effect.Effect<{ readonly deleted: boolean }, NodeErrors["delete"] | Setup, Requires>
  /**
   * Inserts `{ ...create, ...where }`, or applies `update` to the record matching `where`.
   * The keys of `where` must be the primary key or a unique constraint.
   */
  readonly upsert: <W extends Partial<Row<F>>>(args: {
    readonly where: W
    readonly create: Types.Simplify<Omit<CreateInput<F, PK>, keyof W> & Partial<CreateInput<F, PK>>>
    readonly update?: Patch<F, PK>
  }) => Effect.Effect<
    { readonly record: R; readonly created: boolean },
    NodeErrors["upsert"] | Setup,
    Requires
  >
  /** Applies a patch to every record matching the filter; an empty filter needs `confirm`. */
  readonly bulkUpdate: (
    where: Filter<R>,
    patch: Patch<F, PK>,
    options?: BulkOptions
  ) => Effect.Effect<{ readonly updated: number }, NodeErrors["bulkUpdate"] | Setup, Requires>
  /** Deletes every record matching the filter; an empty filter needs `confirm`. */
  readonly bulkDelete: (
    where: Filter<R>,
    options?: BulkOptions
  ) => Effect.Effect<{ readonly deleted: number }, NodeErrors["bulkDelete"] | Setup, Requires>
  /**
   * Inserts or updates rows by a conflict target (default: the primary key). Duplicate keys
   * inside one input: the last row wins. Reports exact counts.
   */
  readonly bulkUpsert: (
    rows: Iterable<CreateInput<F, PK>>,
    options?: { readonly conflictOn?: ReadonlyArray<keyof F & string> }
  ) => Effect.Effect<
    { readonly inserted: number; readonly updated: number },
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
export interface RestoreNode<F extends Fields, PK extends keyof F & string, Requires, Setup = never> {
  /** Clears `deletedAt`; `restored` says whether a deleted row was there. */
  readonly restore: (id: IdOf<F, PK>) => Effect.Effect<{ readonly restored: boolean }, NodeErrors["restore"] | Setup, Requires>
}

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
  Setup = never
> =
  & {
    readonly name: Name
    /** Table name. */
    readonly table: string
    readonly fields: F
    readonly primaryKey: PK
    /** The model's row schema (the declared fields). */
    readonly schema: Schema.Struct<F>
    /** Columns, in table order (managed columns last). */
    readonly columns: ReadonlyArray<Column.Column>
    readonly behaviours: B
    /** Type-level only: what the nodes require. */
    readonly "~requirements"?: Requires
  }
  & ReadNodes<F, PK, RecordOf<F, B>, Requires, Setup>
  & (B["appendOnly"] extends true ? {} : MutationNodes<F, PK, RecordOf<F, B>, B, Requires, Setup>)
  & (B["softDelete"] extends true ? (B["appendOnly"] extends true ? {} : RestoreNode<F, PK, Requires, Setup>) : {})

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
): Model<Name, F, PK, BehavioursOf<O>, RequirementsOf<O>, SetupErrorOf<O>> => {
  const fields = (Schema.isSchema(schema) || "fields" in schema && typeof schema.fields === "object"
    ? (schema as { readonly fields: F }).fields
    : schema) as F
  const definition = Definition.make(name, fields, (options ?? {}) as Definition.DefinitionOptions)
  const { update, delete: del, upsert, bulkUpdate, bulkDelete, bulkUpsert, restore, ...reads } = Nodes.make<
    RequirementsOf<O>
  >(definition)
  const model = {
    name,
    table: definition.table,
    fields,
    primaryKey: definition.pk.field as PK,
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
    ...reads,
    // append-only models do not have the mutating nodes at all, at run time as in their type
    ...(definition.appendOnly ? {} : { update, delete: del, upsert, bulkUpdate, bulkDelete, bulkUpsert }),
    ...(definition.softDelete && !definition.appendOnly ? { restore } : {})
  }
  // The internal nodes take and return plain records and have the errors of NodeErrors (from
  // which the public types are derived) plus ConfigurationError; the public types name the
  // schema's record types and keep ConfigurationError where it can happen (SetupErrorOf).
  return model as unknown as Model<Name, F, PK, BehavioursOf<O>, RequirementsOf<O>, SetupErrorOf<O>>
}

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
 * Decodes an untyped filter — for example one parsed from a JSON query string, where dates,
 * bigints and decimals arrive as strings — into the model's typed filter, using each field's
 * own schema, and validates it against the model. Fails with `InvalidFilter` naming the path.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Model } from "effect-dataflow"
 *
 * declare const User: Model.Any
 * const where = Model.decodeFilter(User, JSON.parse('{"createdAt":{"$gte":"2024-01-01T00:00:00Z"}}'))
 * ```
 *
 * @since 0.1.0
 * @category filters
 */
export const decodeFilter = <M extends Any>(
  model: M,
  input: unknown
): Effect.Effect<FilterOf<M>, InvalidFilter> =>
  decodeFilterOf(Definition.definitionOf(model), input) as Effect.Effect<FilterOf<M>, InvalidFilter>

/**
 * A Schema from an untyped filter (JSON) to the model's typed filter; see {@link decodeFilter}.
 *
 * @since 0.1.0
 * @category filters
 */
export const filterSchema = <M extends Any>(model: M): Schema.Schema<FilterOf<M>, unknown> =>
  Schema.transformOrFail(
    Schema.Unknown,
    Schema.declare((u): u is FilterOf<M> => typeof u === "object" && u !== null, { identifier: `${model.name}Filter` }),
    {
      strict: true,
      decode: (u, _, ast) =>
        decodeFilterOf(Definition.definitionOf(model), u).pipe(
          Effect.mapError((e) => new ParseResult.Type(ast, u, e.message))
        ) as Effect.Effect<FilterOf<M>, ParseResult.ParseIssue>,
      encode: (f) => ParseResult.succeed(f as unknown)
    }
  )

/**
 * The filter type of a model.
 *
 * @since 0.1.0
 * @category filters
 */
export type FilterOf<M> = M extends { readonly read: (...args: ReadonlyArray<never>) => Effect.Effect<infer R, infer _E, infer _C> }
  ? Filter<R>
  : Filter<Record<string, unknown>>
