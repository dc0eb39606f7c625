/**
 * Untyped input (JSON from a request, a message) decoded into a model's typed input: filters,
 * with each value decoded by its field's own schema, then validated as the nodes validate them.
 * (Internal module: not part of the public API.)
 */
import { Effect, Either, Schema } from "effect"
import type { Kind } from "../../Column.js"
import { sqlite } from "../dialect/sqlite.js"
import type { InvalidFilter } from "../../Errors.js"
import { compileFilter, decodeValues } from "./filter.js"
import { Params } from "./params.js"
import { statementsFor } from "./statements.js"
import type { ModelDefinition } from "../model/definition.js"

/**
 * For a field whose encoded side is not JSON (DateFromSelf, BigIntFromSelf, BigDecimalFromSelf),
 * the standard JSON forms: ISO text, digits, decimal text.
 */
const standard: Partial<Record<Kind["_tag"], (u: unknown) => unknown>> = {
  datetime: Schema.decodeUnknownSync(Schema.Date),
  bigint: Schema.decodeUnknownSync(Schema.BigInt),
  decimal: Schema.decodeUnknownSync(Schema.BigDecimal)
}

/** Decodes and validates an untyped filter against a model. @internal */
export const decodeFilter = (def: ModelDefinition, input: unknown): Effect.Effect<unknown, InvalidFilter> => {
  const decoders = new Map(def.columns.map((c) => {
    const fallback = standard[c.kind._tag]
    return [c.field, (u: unknown) => {
      try {
        return c.jsonDecode(u)
      } catch (error) {
        if (fallback === undefined || typeof u !== "string") throw error
        return fallback(u)
      }
    }] as const
  }))
  const decoded = decodeValues({ model: def.name, operation: "decodeFilter" }, (f) => decoders.get(f), input)
  if (Either.isLeft(decoded)) return Effect.fail(decoded.left)
  // validation only: compile against any dialect and drop the SQL
  const s = statementsFor(def, sqlite)
  const validated = compileFilter(
    { model: def.name, operation: "decodeFilter", dialect: s.dialect, field: s.filterField },
    decoded.right,
    new Params(s.dialect)
  )
  return Either.isLeft(validated) ? Effect.fail(validated.left) : Effect.succeed(decoded.right)
}
