/**
 * Opaque keyset cursors: base64url JSON of the model, the ordering and the last row's sort
 * values (tagged so dates, bigints and decimals survive), optionally signed.
 *
 * A cursor is user input that travels through URLs: decoding does bounded work (a length
 * limit, plain decimal and integer text only — no exponent that would make a number of a
 * billion digits), and the caller then checks every value as it checks a filter operand.
 * With a signing key (`DataFlow.cursorKey`) a cursor the library did not make is refused
 * before anything in it is read.
 * (Internal module: not part of the public API.)
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import * as BigDecimal from "effect/BigDecimal"
import * as Either from "effect/Either"
import { formatDecimal } from "../model/storage.js"

/** Longest cursor accepted (characters); real cursors are far shorter. @internal */
export const maxLength = 8192

const toJson = (v: unknown): unknown => {
  if (v instanceof Date) return { $d: v.toISOString() }
  if (typeof v === "bigint") return { $b: v.toString() }
  if (BigDecimal.isBigDecimal(v)) return { $n: formatDecimal(v) }
  return v
}

const decimalText = /^-?\d{1,100}(\.\d{1,100})?$/
const integerText = /^-?\d{1,20}$/

class Malformed {}

const fromJson = (v: unknown): unknown => {
  if (typeof v !== "object" || v === null) return v
  if (Array.isArray(v)) throw new Malformed()
  const o = v as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length !== 1) throw new Malformed()
  if (typeof o.$d === "string" && o.$d.length <= 40) return new Date(o.$d)
  if (typeof o.$b === "string" && integerText.test(o.$b)) return BigInt(o.$b)
  if (typeof o.$n === "string" && decimalText.test(o.$n)) return BigDecimal.unsafeFromString(o.$n)
  throw new Malformed()
}

const signatureOf = (key: string, payload: string) => createHmac("sha256", key).update(payload).digest("base64url").slice(0, 32)

/** @internal */
export const encode = (model: string, order: string, values: ReadonlyArray<unknown>, key: string | undefined): string => {
  const payload = Buffer.from(JSON.stringify({ m: model, o: order, v: values.map(toJson) })).toString("base64url")
  return key === undefined ? payload : `${payload}.${signatureOf(key, payload)}`
}

/** The values of a cursor, or why it cannot be used (the caller still checks each value). @internal */
export const decode = (
  cursor: unknown,
  model: string,
  order: string,
  key: string | undefined
): Either.Either<ReadonlyArray<unknown>, string> => {
  if (typeof cursor !== "string" || cursor.length > maxLength || !/^[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)?$/.test(cursor)) {
    return Either.left("malformed")
  }
  const dot = cursor.indexOf(".")
  const payload = dot < 0 ? cursor : cursor.slice(0, dot)
  if (key !== undefined) {
    const given = Buffer.from(dot < 0 ? "" : cursor.slice(dot + 1))
    const expected = Buffer.from(signatureOf(key, payload))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return Either.left("not signed by this application")
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))
  } catch {
    return Either.left("malformed")
  }
  if (typeof parsed !== "object" || parsed === null) return Either.left("malformed")
  const { m, o, v } = parsed as { m?: unknown; o?: unknown; v?: unknown }
  if (m !== model) return Either.left("made by another model")
  if (o !== order) return Either.left("made for another ordering")
  if (!Array.isArray(v)) return Either.left("malformed")
  try {
    return Either.right(v.map(fromJson))
  } catch {
    return Either.left("malformed")
  }
}
