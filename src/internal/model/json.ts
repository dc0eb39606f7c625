/**
 * A model's values as JSON and back: what an HTTP body, a message or a workflow's parameters
 * carry. Each field is read with its own schema first (`Schema.Date` reads ISO text); where the
 * schema's encoded side is not JSON (`DateFromSelf`, `BigIntFromSelf`, `BigDecimalFromSelf`) the
 * standard JSON forms are read: ISO text, digits, decimal text. Writing gives those forms.
 * Decoded input is then validated as the nodes validate it, with the same errors.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { Column, Kind } from "../../Column.js"
import type { ValidationError } from "../../Errors.js"
import { isArithInput } from "./arith.js"
import type { ModelDefinition } from "./definition.js"
import { formatDecimal } from "./storage.js"
import { checkId, isRecord, prepareCreate, preparePatch, validation } from "./validate.js"

type Row = Record<string, unknown>

const standard: Partial<Record<Kind["_tag"], (u: unknown) => unknown>> = {
  datetime: Schema.decodeUnknownSync(Schema.Union(Schema.DateFromSelf, Schema.Date)),
  bigint: Schema.decodeUnknownSync(Schema.Union(Schema.BigIntFromSelf, Schema.BigInt, Schema.BigIntFromNumber)),
  decimal: Schema.decodeUnknownSync(Schema.Union(Schema.BigDecimalFromSelf, Schema.BigDecimal, Schema.BigDecimalFromNumber))
}

/** A column's value from JSON (throws when it is not one). @internal */
export const fromJson = (column: Column) => {
  const fallback = standard[column.kind._tag]
  return (u: unknown): unknown => {
    if (u === null) return null
    try {
      return column.jsonDecode(u)
    } catch (error) {
      if (fallback === undefined) throw error
      return fallback(u)
    }
  }
}

/** A column's value as JSON. @internal */
export const toJson = (column: Column) => {
  switch (column.kind._tag) {
    case "datetime":
      return (v: unknown) => (v instanceof Date ? v.toISOString() : v)
    case "bigint":
      return (v: unknown) => (typeof v === "bigint" ? v.toString() : v)
    case "decimal":
      return (v: unknown) => (BigDecimal.isBigDecimal(v) ? formatDecimal(v) : v)
    case "json":
      return (v: unknown) => (v === null || v === undefined ? v : column.jsonEncode(v))
    default:
      return (v: unknown) => v
  }
}

/** Each known field of a JSON object read with its column's reader; other keys as they are. */
const readFields = (
  def: ModelDefinition,
  input: Row,
  operation: string,
  rowIndex?: number
): Either.Either<Row, ValidationError> => {
  const out: Row = {}
  for (const [key, value] of Object.entries(input)) {
    const column = def.byField.get(key)
    if (column === undefined || value === undefined) {
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
      continue
    }
    try {
      // an arithmetic update ({ "$increment": "5" }): its operand in the field's JSON form
      out[key] = isArithInput(column.kind, value)
        ? Object.fromEntries(Object.entries(value).map(([op, operand]) => [op, fromJson(column)(operand)]))
        : fromJson(column)(value)
    } catch {
      return Either.left(validation(def, operation, key, "value does not match the field's type", rowIndex))
    }
  }
  return Either.right(out)
}

/** A create input from JSON, validated as `create` validates it. @internal */
export const decodeCreate = (def: ModelDefinition, input: unknown, operation: string, rowIndex?: number) => {
  if (!isRecord(input)) return Either.left(validation(def, operation, "", "expected an object", rowIndex))
  return Either.flatMap(readFields(def, input, operation, rowIndex), (row) =>
    Either.map(prepareCreate(def, row, operation, rowIndex), () => row))
}

/** A patch from JSON, validated as `update` validates it. @internal */
export const decodePatch = (def: ModelDefinition, input: unknown, operation: string) => {
  if (!isRecord(input)) return Either.left(validation(def, operation, "", "expected an object"))
  return Either.flatMap(readFields(def, input, operation), (row) => Either.map(preparePatch(def, row, operation), () => row))
}

/**
 * A key field's value from JSON: a path segment or query value carries a number as its decimal
 * text and a boolean as `true` / `false`.
 */
const decodeKeyValue = (column: Column, input: unknown): unknown => {
  if (typeof input === "string") {
    const tag = column.kind._tag
    if (tag === "integer" && /^-?\d{1,16}$/.test(input)) return Number(input)
    if (tag === "float" && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(input)) return Number(input)
    if (tag === "boolean" && (input === "true" || input === "false")) return input === "true"
  }
  return fromJson(column)(input)
}

/**
 * A primary key from JSON, checked as `read` checks it: a value, or on a composite key an
 * object of the key's fields (each decoded as its field).
 * @internal
 */
export const decodeId = (def: ModelDefinition, input: unknown, operation: string): Either.Either<unknown, ValidationError> => {
  let id: unknown = input
  let field = def.pk.field
  try {
    if (!def.compositeKey) {
      id = decodeKeyValue(def.pk, input)
    } else if (isRecord(input)) {
      const key: Row = { ...input }
      for (const c of def.key) {
        field = c.field
        const value = input[c.field]
        if (value !== undefined && value !== null) key[c.field] = decodeKeyValue(c, value)
      }
      id = key
    }
  } catch {
    return Either.left(validation(def, operation, field, "not a valid primary key"))
  }
  const bad = checkId(def, id, operation)
  return bad === undefined ? Either.right(id) : Either.left(bad)
}

/** A record (or a projection of one) as JSON: dates as ISO text, bigints and decimals as text. @internal */
export const encodeRecord = (def: ModelDefinition, record: Row): Row => {
  const out: Row = {}
  for (const [key, value] of Object.entries(record)) {
    const column = def.byField.get(key)
    out[key] = column === undefined ? value : toJson(column)(value)
  }
  return out
}

/** A stored record from its JSON form. @internal */
export const decodeRecord = (def: ModelDefinition, input: unknown): Either.Either<Row, string> => {
  if (!isRecord(input)) return Either.left("expected an object")
  const out: Row = {}
  for (const column of def.columns) {
    const value = input[column.field]
    if (value === undefined) {
      if (column.optional) continue
      return Either.left(`${column.field} is missing`)
    }
    try {
      out[column.field] = fromJson(column)(value)
    } catch {
      return Either.left(`${column.field} does not match the field's type`)
    }
  }
  return Either.right(out)
}

/** Rows (bulkCreate, bulkUpsert) from JSON: an array of create inputs, each validated. @internal */
export const decodeRows = (def: ModelDefinition, input: unknown, operation: string): Either.Either<Array<Row>, ValidationError> => {
  if (!Array.isArray(input)) return Either.left(validation(def, operation, "", "expected an array of rows"))
  const out: Array<Row> = []
  for (let i = 0; i < input.length; i++) {
    const row = decodeCreate(def, input[i], operation, i)
    if (Either.isLeft(row)) return Either.left(row.left)
    out.push(row.right)
  }
  return Either.right(out)
}

/** The key object of a per-record bulkUpdate item from JSON: each field with its own schema. */
const decodeKey = (def: ModelDefinition, input: unknown, operation: string, rowIndex: number) => {
  if (!isRecord(input)) return Either.left(validation(def, operation, "key", "expected an object of a unique key's fields", rowIndex))
  return Either.mapLeft(readFields(def, input, operation, rowIndex), (e) =>
    validation(def, operation, `key.${e.path}`, e.reason, rowIndex))
}

/** The items of a per-record bulkUpdate from JSON: `{ id | key, patch, expectedVersion? }`. @internal */
export const decodeUpdateItems = (
  def: ModelDefinition,
  input: unknown,
  operation: string
): Either.Either<Array<Row>, ValidationError> => {
  if (!Array.isArray(input)) return Either.left(validation(def, operation, "", "expected an array of { id | key, patch }"))
  const out: Array<Row> = []
  for (let i = 0; i < input.length; i++) {
    const item = input[i]
    if (!isRecord(item)) return Either.left(validation(def, operation, "", "expected { id, patch } or { key, patch }", i))
    const decoded: Row = {}
    if (item.id !== undefined) {
      const id = decodeId(def, item.id, operation)
      if (Either.isLeft(id)) return Either.left(validation(def, operation, "id", id.left.reason, i))
      decoded.id = id.right
    }
    if (item.key !== undefined) {
      const key = decodeKey(def, item.key, operation, i)
      if (Either.isLeft(key)) return Either.left(key.left)
      decoded.key = key.right
    }
    const patch = decodePatch(def, item.patch ?? {}, operation)
    if (Either.isLeft(patch)) {
      const e = patch.left
      return Either.left(validation(def, operation, e.path === "" ? "patch" : `patch.${e.path}`, e.reason, i))
    }
    decoded.patch = patch.right
    if (item.expectedVersion !== undefined) decoded.expectedVersion = item.expectedVersion
    out.push(decoded)
  }
  return Either.right(out)
}

/** An upsert's arguments from JSON: `{ create, update?, conflictOn? }`. @internal */
export const decodeUpsert = (def: ModelDefinition, input: unknown, operation: string): Either.Either<Row, ValidationError> => {
  if (!isRecord(input)) return Either.left(validation(def, operation, "", "expected { create, update?, conflictOn? }"))
  const create = decodeCreate(def, input.create, operation)
  if (Either.isLeft(create)) {
    const e = create.left
    return Either.left(validation(def, operation, e.path === "" ? "create" : `create.${e.path}`, e.reason))
  }
  const out: Row = { create: create.right }
  if (input.update !== undefined) {
    const update = decodePatch(def, input.update, operation)
    if (Either.isLeft(update)) {
      const e = update.left
      return Either.left(validation(def, operation, e.path === "" ? "update" : `update.${e.path}`, e.reason))
    }
    out.update = update.right
  }
  if (input.conflictOn !== undefined) {
    const fields = input.conflictOn
    if (!Array.isArray(fields) || fields.some((f) => typeof f !== "string" || !def.byField.has(f))) {
      return Either.left(validation(def, operation, "conflictOn", "expected an array of the model's field names"))
    }
    out.conflictOn = fields
  }
  return Either.right(out)
}
