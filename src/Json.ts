/**
 * A model's inputs and records as JSON — what an HTTP body, a query string, a message or a
 * workflow's parameters carry. Decoders read each field with its own schema (dates, bigints and
 * decimals also from their standard JSON text) and validate the result exactly as the node
 * would, with the same typed errors; `encode` writes records as JSON (dates as ISO text,
 * bigints and decimals as text). Each has a Schema form for `HttpApi`, `Schema.decode`, OpenAPI.
 *
 * @since 0.1.0
 */
import * as BigDecimal from "effect/BigDecimal"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { InvalidFilter, ValidationError } from "./Errors.js"
import { definitionOf } from "./internal/model/definition.js"
import * as internal from "./internal/model/json.js"
import { decodeFilter as decodeFilterOf } from "./internal/sql/decodeFilter.js"
import { validation } from "./internal/model/validate.js"
import type * as Model from "./Model.js"
import type * as Node from "./Node.js"

/**
 * A model's create input from JSON: each field decoded with its own schema, the result
 * validated as `create` validates it (`ValidationError` naming the field).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Json, Model } from "effect-dataflow"
 *
 * declare const User: Model.Any & { readonly create: (input: { name: string }) => Effect.Effect<unknown> }
 * const created = Effect.flatMap(Json.decodeCreate(User, JSON.parse('{"name":"Ada"}')), User.create)
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeCreate = <M extends Model.Any>(model: M, input: unknown): Effect.Effect<Model.Input<M>, ValidationError> =>
  Either.map(internal.decodeCreate(definitionOf(model), input, "decodeCreate"), (row) => row as Model.Input<M>)

/**
 * A patch (`update`'s second argument) from JSON, validated as `update` validates it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodePatch = <M extends Model.Any>(
  model: M,
  input: unknown
): Effect.Effect<Partial<Model.Type<M>>, ValidationError> =>
  Either.map(internal.decodePatch(definitionOf(model), input, "decodePatch"), (row) => row as Partial<Model.Type<M>>)

/**
 * A primary key from JSON (a path segment, a query value): a number's decimal text for a
 * numeric key, `true` / `false` for a boolean one, text otherwise, checked as `read` checks it;
 * on a composite key an object of the key's fields, each decoded so.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeId = <M extends Model.Any>(model: M, input: unknown): Effect.Effect<Model.IdOfModel<M>, ValidationError> =>
  Either.map(internal.decodeId(definitionOf(model), input, "decodeId"), (id) => id as Model.IdOfModel<M>)

/**
 * An untyped filter — for example one parsed from a JSON query string, where dates, bigints
 * and decimals arrive as strings — decoded into the model's typed filter with each field's own
 * schema, and validated against the model. Fails with `InvalidFilter` naming the path.
 *
 * @example
 * ```ts
 * import { Json, Model } from "effect-dataflow"
 *
 * declare const User: Model.Any
 * const where = Json.decodeFilter(User, JSON.parse('{"createdAt":{"$gte":"2024-01-01T00:00:00Z"}}'))
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeFilter = <M extends Model.Any>(model: M, input: unknown): Effect.Effect<Model.FilterOf<M>, InvalidFilter> =>
  decodeFilterOf(definitionOf(model), input) as Effect.Effect<Model.FilterOf<M>, InvalidFilter>

/**
 * Rows for `bulkCreate` / `bulkUpsert` from JSON: an array of create inputs, each decoded and
 * validated as {@link decodeCreate} (the `ValidationError` names the row index).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeRows = <M extends Model.Any>(
  model: M,
  input: unknown
): Effect.Effect<ReadonlyArray<Model.Input<M>>, ValidationError> =>
  Either.map(internal.decodeRows(definitionOf(model), input, "decodeRows"), (rows) => rows as unknown as ReadonlyArray<Model.Input<M>>)

/**
 * The items of a per-record `bulkUpdate` from JSON — `[{ id | key, patch, expectedVersion? }]` —
 * ids, key fields and patches decoded with each field's schema (errors name the item's index and
 * the path, e.g. `patch.price`); the node checks the rest (exactly one of id and key, the key a
 * unique constraint).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeUpdateItems = <M extends Model.Any>(
  model: M,
  input: unknown
): Effect.Effect<
  ReadonlyArray<
    | { readonly id: Model.IdOfModel<M>; readonly patch: Partial<Model.Type<M>>; readonly expectedVersion?: number }
    | { readonly key: Partial<Model.Type<M>>; readonly patch: Partial<Model.Type<M>>; readonly expectedVersion?: number }
  >,
  ValidationError
> =>
  Either.map(
    internal.decodeUpdateItems(definitionOf(model), input, "decodeUpdateItems"),
    (items) => items as unknown as ReadonlyArray<{ readonly id: Model.IdOfModel<M>; readonly patch: Partial<Model.Type<M>> }>
  )

/**
 * `upsert`'s argument from JSON: `{ create, update?, conflictOn? }`, the create input and the
 * patch decoded and validated (errors at `create.<field>` / `update.<field>`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeUpsert = <M extends Model.Any>(
  model: M,
  input: unknown
): Effect.Effect<
  {
    readonly create: Model.Input<M>
    readonly update?: Partial<Model.Type<M>>
    readonly conflictOn?: ReadonlyArray<keyof Model.Input<M> & string>
  },
  ValidationError
> =>
  Either.map(internal.decodeUpsert(definitionOf(model), input, "decodeUpsert"), (args) => args as { readonly create: Model.Input<M> })

/**
 * A `list` / `stream` query from JSON: `where` decoded as {@link decodeFilter}; `orderBy` and
 * `select` must be arrays of the model's field names (`-field` for descending), `limit`,
 * `offset` and `pageSize` non-negative integers, `cursor` a string, `total` and
 * `includeDeleted` booleans; anything else is refused.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeQuery = <M extends Model.Any>(
  model: M,
  input: unknown
): Effect.Effect<Node.ListQuery<Model.Type<M>> & { readonly pageSize?: number }, InvalidFilter | ValidationError> =>
  Effect.suspend((): Effect.Effect<Node.ListQuery<Model.Type<M>>, InvalidFilter | ValidationError> => {
    const def = definitionOf(model)
    const bad = (path: string, reason: string) => Effect.fail(validation(def, "decodeQuery", path, reason))
    if (typeof input !== "object" || input === null || Array.isArray(input)) return bad("", "expected an object")
    const query = input as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue
      switch (key) {
        case "where":
          continue
        case "orderBy":
        case "select": {
          const fields = Array.isArray(value) ? value : undefined
          const unknown = fields === undefined
            ? value
            : fields.find((f) => typeof f !== "string" || !def.byField.has(key === "orderBy" ? f.replace(/^-/, "") : f))
          if (fields === undefined || unknown !== undefined) return bad(key, "expected an array of the model's field names")
          out[key] = fields
          continue
        }
        case "limit":
        case "offset":
        case "pageSize":
          if (!Number.isSafeInteger(value) || (value as number) < 0) return bad(key, "must be a non-negative integer")
          out[key] = value
          continue
        case "cursor":
          if (typeof value !== "string") return bad(key, "expected a string")
          out[key] = value
          continue
        case "total":
        case "includeDeleted":
          if (typeof value !== "boolean") return bad(key, "expected true or false")
          out[key] = value
          continue
        default:
          return bad(key, "unknown query option")
      }
    }
    if (query.where === undefined) return Effect.succeed(out as Node.ListQuery<Model.Type<M>>)
    return Effect.map(decodeFilter(model, query.where), (where) => ({ ...out, where }) as Node.ListQuery<Model.Type<M>>)
  })

/**
 * A record (or a `select` projection of one) as JSON: dates as ISO text, bigints and decimals
 * as text, JSON fields in their schema's encoded form.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = <M extends Model.Any>(model: M, record: Partial<Model.Type<M>>): Record<string, unknown> =>
  internal.encodeRecord(definitionOf(model), record as Record<string, unknown>)

/** A Schema from unknown JSON to a typed value, failing with the decoder's message. */
const fromDecoder = <A>(
  identifier: string,
  decode: (u: unknown) => Effect.Effect<A, { readonly message: string }>,
  encodeValue: (a: A) => unknown
): Schema.Schema<A, unknown> =>
  Schema.transformOrFail(
    Schema.Unknown,
    Schema.declare((u): u is A => u !== undefined, { identifier }),
    {
      strict: true,
      decode: (u, _, ast) => Effect.mapError(decode(u), (e) => new ParseResult.Type(ast, u, e.message)),
      encode: (a) => ParseResult.succeed(encodeValue(a))
    }
  )

/**
 * The Schema of a model's create input from JSON (see {@link decodeCreate}).
 *
 * @since 0.1.0
 * @category schemas
 */
export const createSchema = <M extends Model.Any>(model: M): Schema.Schema<Model.Input<M>, unknown> =>
  fromDecoder(`${model.name}CreateInput`, (u) => decodeCreate(model, u), (input) => encode(model, input as Partial<Model.Type<M>>))

/**
 * The Schema of a patch from JSON (see {@link decodePatch}).
 *
 * @since 0.1.0
 * @category schemas
 */
export const patchSchema = <M extends Model.Any>(model: M): Schema.Schema<Partial<Model.Type<M>>, unknown> =>
  fromDecoder(`${model.name}Patch`, (u) => decodePatch(model, u), (patch) => encode(model, patch))

/**
 * The Schema of an untyped filter (see {@link decodeFilter}).
 *
 * @since 0.1.0
 * @category schemas
 */
export const filterSchema = <M extends Model.Any>(model: M): Schema.Schema<Model.FilterOf<M>, unknown> =>
  fromDecoder(`${model.name}Filter`, (u) => decodeFilter(model, u), (filter) => filter)

/**
 * The Schema of a stored record and its JSON form: `Schema.encode` writes a record as JSON (as
 * {@link encode}), `Schema.decode` reads one back.
 *
 * @since 0.1.0
 * @category schemas
 */
export const recordSchema = <M extends Model.Any>(model: M): Schema.Schema<Model.Type<M>, Record<string, unknown>> =>
  Schema.transformOrFail(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    Schema.declare((u): u is Model.Type<M> => typeof u === "object" && u !== null, { identifier: model.name }),
    {
      strict: true,
      decode: (u, _, ast) =>
        Either.match(internal.decodeRecord(definitionOf(model), u), {
          onLeft: (reason) => ParseResult.fail(new ParseResult.Type(ast, u, reason)),
          onRight: (row) => ParseResult.succeed(row as Model.Type<M>)
        }),
      encode: (record) => ParseResult.succeed(encode(model, record as Partial<Model.Type<M>>))
    }
  )

/** What JSON text a `having` operand of this result path is read from. */
type JsonKind = "bigint" | "decimal" | "date" | "as is"

const jsonKindOfColumn = (tag: string | undefined): JsonKind =>
  tag === "bigint" ? "bigint" : tag === "decimal" ? "decimal" : tag === "datetime" ? "date" : "as is"

/** One `having` operand from JSON: bigints and decimals from text (or a safe number), dates from ISO text. */
const havingOperand = (kind: JsonKind, v: unknown): unknown => {
  if (v === null || kind === "as is") return v
  if (Array.isArray(v)) return v.map((x) => havingOperand(kind, x))
  if (kind === "bigint" && (typeof v === "string" && /^-?\d{1,20}$/.test(v) || Number.isSafeInteger(v))) return BigInt(v as string | number)
  if (kind === "decimal" && (typeof v === "string" || typeof v === "number" && Number.isFinite(v))) {
    return BigDecimal.fromString(String(v)).pipe(Option.getOrElse(() => v))
  }
  if (kind === "date" && typeof v === "string") {
    const d = new Date(v)
    return Number.isNaN(d.getTime()) ? v : d
  }
  // anything else is left for the node, which refuses it naming its path
  return v
}

const isJsonObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * An aggregate query from JSON (see `aggregate`): `where` decoded as {@link decodeFilter},
 * `having` operands read for the result they compare with (a `_sum` of a bigint field from its
 * text, a decimal's from text, a date's from ISO text); field lists, `orderBy`, `limit`,
 * `offset` and `includeDeleted` as given — the node checks the whole query with its own typed
 * errors before touching the database.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeAggregate = <M extends Model.Any>(
  model: M,
  input: unknown
): Effect.Effect<Node.AggregateQuery<Model.Type<M>>, InvalidFilter | ValidationError> =>
  Effect.suspend((): Effect.Effect<Node.AggregateQuery<Model.Type<M>>, InvalidFilter | ValidationError> => {
    const def = definitionOf(model)
    if (!isJsonObject(input)) return Effect.fail(validation(def, "decodeAggregate", "", "expected an object"))
    const { having, where, ...rest } = input
    const kindOf = (key: string, field: string | undefined): JsonKind => {
      const column = field === undefined ? def.byField.get(key) : def.byField.get(field)
      const tag = column?.kind._tag
      switch (key) {
        case "_count":
        case "_countDistinct":
          return "as is"
        case "_sum":
          return tag === "bigint" || tag === "decimal" ? tag : "as is"
        case "_avg":
          return tag === "decimal" ? "decimal" : "as is"
        default:
          return jsonKindOfColumn(tag)
      }
    }
    const condition = (kind: JsonKind, cond: unknown): unknown =>
      isJsonObject(cond) && Object.keys(cond).every((k) => k.startsWith("$"))
        ? Object.fromEntries(Object.entries(cond).map(([op, o]) => [op, op === "$null" ? o : havingOperand(kind, o)]))
        : havingOperand(kind, cond)
    const walk = (h: unknown): unknown => {
      if (!isJsonObject(h)) return h
      const out: Record<string, unknown> = {}
      for (const [key, cond] of Object.entries(h)) {
        if (key === "$and" || key === "$or") out[key] = Array.isArray(cond) ? cond.map(walk) : cond
        else if (key === "$not") out[key] = walk(cond)
        else if (key.startsWith("_") && isJsonObject(cond) && !Object.keys(cond).every((k) => k.startsWith("$"))) {
          out[key] = Object.fromEntries(Object.entries(cond).map(([field, c]) => [field, condition(kindOf(key, field), c)]))
        } else out[key] = condition(kindOf(key, undefined), cond)
      }
      return out
    }
    const decodedWhere = where === undefined ? Effect.succeed(undefined) : decodeFilter(model, where)
    return Effect.map(decodedWhere, (w) => ({
      ...rest,
      ...(w === undefined ? {} : { where: w }),
      ...(having === undefined ? {} : { having: walk(having) })
    }) as Node.AggregateQuery<Model.Type<M>>)
  })
