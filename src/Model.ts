/**
 * Declaring models. A model is an Effect Schema plus table options; every model carries its
 * generated nodes — `create`, `read`, `find`, `update`, `delete`, `list`, `count`, `upsert`,
 * `bulkCreate`, `bulkUpdate`, `bulkDelete`, `bulkUpsert` — each an ordinary `Effect` that
 * needs an `@effect/sql` `SqlClient`.
 *
 * @since 0.1.0
 */
import type { SqlClient } from "@effect/sql"
import type { Effect, Option, Types } from "effect"
import { Schema } from "effect"
import type * as Column from "./Column.js"
import type {
  ConflictTargetError,
  DatabaseError,
  InvalidFilter,
  NotFound,
  UnsafeOperation,
  ValidationError,
  WriteError
} from "./Errors.js"
import * as core from "./internal/core.js"
import * as nodes from "./internal/nodes.js"

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
 * What a node returns for one record.
 *
 * @since 0.1.0
 * @category models
 */
export type RecordOf<F extends Fields, TS extends boolean> = TS extends true ? Types.Simplify<Row<F> & Timestamps>
  : Row<F>

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
 * A partial update: any field but the primary key.
 *
 * @since 0.1.0
 * @category models
 */
export type Patch<F extends Fields, PK extends keyof F> = {
  readonly [K in Exclude<keyof Row<F>, PK>]?: Row<F>[K]
}

/**
 * An equality filter: every given field must equal its value; `null` matches NULL.
 *
 * @since 0.1.0
 * @category models
 */
export type Filter<R> = { readonly [K in keyof R]?: R[K] | null }

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
export interface ListQuery<R> {
  readonly where?: Filter<R>
  readonly orderBy?: OrderBy<R>
  readonly limit?: number
  readonly offset?: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BulkCreateOptions {
  /** Also return the stored records (ids and timestamps filled). */
  readonly returnRecords?: boolean
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
}

/**
 * A model and its generated nodes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Model<
  Name extends string,
  F extends Fields,
  PK extends keyof F & string,
  TS extends boolean
> {
  readonly name: Name
  /** Table name. */
  readonly table: string
  readonly fields: F
  readonly primaryKey: PK
  /** The model's row schema (the declared fields). */
  readonly schema: Schema.Struct<F>
  /** Columns, in table order (managed timestamps last). */
  readonly columns: ReadonlyArray<Column.Column>

  /** Inserts one record; returns it as stored (generated id, timestamps). */
  readonly create: (
    input: CreateInput<F, PK>
  ) => Effect.Effect<RecordOf<F, TS>, ValidationError | WriteError, SqlClient.SqlClient>
  /** The record with this primary key, or `NotFound`. */
  readonly read: (
    id: IdOf<F, PK>
  ) => Effect.Effect<RecordOf<F, TS>, NotFound | ValidationError | DatabaseError, SqlClient.SqlClient>
  /** The record with this primary key, if any. */
  readonly find: (
    id: IdOf<F, PK>
  ) => Effect.Effect<Option.Option<RecordOf<F, TS>>, ValidationError | DatabaseError, SqlClient.SqlClient>
  /** Applies a partial update and returns the updated record; bumps `updatedAt`. */
  readonly update: (
    id: IdOf<F, PK>,
    patch: Patch<F, PK>
  ) => Effect.Effect<RecordOf<F, TS>, NotFound | ValidationError | WriteError, SqlClient.SqlClient>
  /** Deletes by primary key; `deleted` says whether a row was there. */
  readonly delete: (
    id: IdOf<F, PK>
  ) => Effect.Effect<{ readonly deleted: boolean }, ValidationError | WriteError, SqlClient.SqlClient>
  /** Records matching a filter, ordered and paged. */
  readonly list: (
    query?: ListQuery<RecordOf<F, TS>>
  ) => Effect.Effect<
    { readonly records: ReadonlyArray<RecordOf<F, TS>> },
    InvalidFilter | ValidationError | DatabaseError,
    SqlClient.SqlClient
  >
  /** Number of records matching a filter. */
  readonly count: (
    where?: Filter<RecordOf<F, TS>>
  ) => Effect.Effect<number, InvalidFilter | DatabaseError, SqlClient.SqlClient>
  /**
   * Inserts `{ ...where, ...create }`, or applies `update` to the record matching `where`.
   * The keys of `where` must be the primary key or a unique constraint.
   */
  readonly upsert: <W extends Partial<Row<F>>>(args: {
    readonly where: W
    readonly create: Types.Simplify<Omit<CreateInput<F, PK>, keyof W> & Partial<CreateInput<F, PK>>>
    readonly update?: Patch<F, PK>
  }) => Effect.Effect<
    { readonly record: RecordOf<F, TS>; readonly created: boolean },
    ConflictTargetError | ValidationError | InvalidFilter | WriteError,
    SqlClient.SqlClient
  >
  /** Inserts any number of rows atomically (chunked under the database's parameter limit). */
  readonly bulkCreate: <O extends BulkCreateOptions = {}>(
    rows: Iterable<CreateInput<F, PK>>,
    options?: O
  ) => Effect.Effect<
    O extends { readonly returnRecords: true }
      ? { readonly inserted: number; readonly records: ReadonlyArray<RecordOf<F, TS>> }
      : { readonly inserted: number },
    ValidationError | WriteError,
    SqlClient.SqlClient
  >
  /** Applies a patch to every record matching the filter; an empty filter needs `confirm`. */
  readonly bulkUpdate: (
    where: Filter<RecordOf<F, TS>>,
    patch: Patch<F, PK>,
    options?: BulkOptions
  ) => Effect.Effect<
    { readonly updated: number },
    UnsafeOperation | InvalidFilter | ValidationError | WriteError,
    SqlClient.SqlClient
  >
  /** Deletes every record matching the filter; an empty filter needs `confirm`. */
  readonly bulkDelete: (
    where: Filter<RecordOf<F, TS>>,
    options?: BulkOptions
  ) => Effect.Effect<{ readonly deleted: number }, UnsafeOperation | InvalidFilter | WriteError, SqlClient.SqlClient>
  /**
   * Inserts or updates rows by a conflict target (default: the primary key). Duplicate keys
   * inside one input: the last row wins. Reports exact counts.
   */
  readonly bulkUpsert: (
    rows: Iterable<CreateInput<F, PK>>,
    options?: { readonly conflictOn?: ReadonlyArray<keyof F & string> }
  ) => Effect.Effect<
    { readonly inserted: number; readonly updated: number },
    ConflictTargetError | ValidationError | WriteError,
    SqlClient.SqlClient
  >
}

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
}

/** @internal */
export const defOf = (model: Any): core.Def => (model as unknown as { readonly [DefKey]: core.Def })[DefKey]
const DefKey = Symbol.for("effect-dataflow/Model/Def")

/**
 * Declares a model from an Effect Schema (`Schema.Struct` or `Schema.Class`) or from its fields.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
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
  TS extends boolean = true
>(
  name: Name,
  schema: { readonly fields: F } | F,
  options: Options<F, PK> & { readonly timestamps?: TS } = {}
): Model<Name, F, PK, TS> => {
  const fields = (Schema.isSchema(schema) || "fields" in schema && typeof schema.fields === "object"
    ? (schema as { readonly fields: F }).fields
    : schema) as F
  const def = core.makeDef(name, fields, options)
  const generated = nodes.make(def)
  const model = {
    name,
    table: def.table,
    fields,
    primaryKey: def.pk.field as PK,
    schema: def.schema as unknown as Schema.Struct<F>,
    columns: def.columns,
    [DefKey]: def,
    ...generated
  }
  return model as unknown as Model<Name, F, PK, TS>
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
