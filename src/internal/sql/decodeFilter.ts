/**
 * Untyped input (JSON from a request, a message) decoded into a model's typed input: filters,
 * with each value decoded by its field's own schema, then validated as the nodes validate them.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { sqlite } from "../dialect/sqlite.js"
import type { InvalidFilter } from "../../Errors.js"
import { compileFilter } from "./filter.js"
import { decodeValues } from "./filterValues.js"
import { Params } from "./params.js"
import { statementsFor } from "./statements.js"
import type { ModelDefinition } from "../model/definition.js"
import { fromJson } from "../model/json.js"

/** Decodes and validates an untyped filter against a model. @internal */
export const decodeFilter = (def: ModelDefinition, input: unknown): Effect.Effect<unknown, InvalidFilter> => {
  const decoders = new Map(def.columns.map((c) => [c.field, fromJson(c)] as const))
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
