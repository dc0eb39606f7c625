/**
 * A model's values as JSON and back: what an HTTP body, a message or a workflow's parameters
 * carry. Each field is read with its own schema first (`Schema.Date` reads ISO text); where the
 * schema's encoded side is not JSON (`DateFromSelf`, `BigIntFromSelf`, `BigDecimalFromSelf`) the
 * standard JSON forms are read: ISO text, digits, decimal text. Writing gives those forms.
 * Decoded input is then validated as the nodes validate it, with the same errors.
 * (Internal module: not part of the public API.)
 */
import { BigDecimal, Either, Schema } from "effect"
import type { Column, Kind } from "../../Column.js"
import type { ValidationError } from "../../Errors.js"
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
      out[key] = fromJson(column)(value)
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

/** A primary key from JSON, checked as `read` checks it. @internal */
export const decodeId = (def: ModelDefinition, input: unknown, operation: string): Either.Either<unknown, ValidationError> => {
  let id: unknown
  try {
    // a path segment or query value carries an integer key as digits
    id = def.pk.kind._tag === "integer" && typeof input === "string" && /^-?\d{1,16}$/.test(input)
      ? Number(input)
      : fromJson(def.pk)(input)
  } catch {
    return Either.left(validation(def, operation, def.pk.field, "not a valid primary key"))
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
