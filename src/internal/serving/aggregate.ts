/**
 * The `aggregate` node served: the query from JSON (`Json.decodeAggregate`, the filter through
 * the served relations), hidden fields refused as aggregate or group targets, the groups paged
 * under the api's page ceiling, and the results as JSON (bigints and decimals as text, dates
 * as ISO text — each value with its field's codec).
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import type { InvalidFilter } from "../../Errors.js"
import { ValidationError } from "../../Errors.js"
import * as Json from "../../Json.js"
import type { At, ServedModel } from "./relations.js"
import { prepareFilter } from "./relations.js"

/** The query keys naming fields of the model. */
const fieldLists = ["groupBy", "countDistinct", "sum", "avg", "min", "max"] as const

type Row = Record<string, unknown>

const isObject = (u: unknown): u is Row => typeof u === "object" && u !== null && !Array.isArray(u)

/** A served aggregate query: what the node takes, and how many groups to expect at most. @internal */
export interface PreparedAggregate {
  readonly query: unknown
  /** With `groupBy` and no `limit`: more groups than this is refused rather than cut. */
  readonly ceiling: number | undefined
}

/**
 * An aggregate query from JSON for a served model. Hidden fields are refused wherever a field
 * is named (`having` and `orderBy` may only name what the query asks for: the node refuses
 * the rest); `limit` is at most `maxLimit`; without one, a query with more than `maxLimit`
 * groups is refused (see {@link checkGroups}), never cut silently.
 * @internal
 */
export const prepareAggregate = <S extends ServedModel>(
  at: At,
  s: S,
  maxLimit: number,
  args: Row,
  reached: Set<S>
): Effect.Effect<PreparedAggregate, ValidationError | InvalidFilter> =>
  Effect.gen(function*() {
    const invalid = (path: string, reason: string) => new ValidationError({ model: at.model, operation: at.operation, path, reason })
    for (const key of [...fieldLists, "count"] as const) {
      const fields = args[key]
      if (!Array.isArray(fields)) continue
      const hidden = fields.find((f) => typeof f === "string" && s.hidden.has(f))
      if (hidden !== undefined) return yield* invalid(key, `unknown field ${JSON.stringify(hidden)}`)
    }
    const limit = args.limit
    if (typeof limit === "number" && limit > maxLimit) return yield* invalid("limit", `at most ${maxLimit}`)
    const { where, ...rest } = args
    const decoded = yield* Json.decodeAggregate(s.model, rest)
    const filter = where === undefined ? undefined : yield* prepareFilter(at, s, where, reached)
    const grouped = args.groupBy !== undefined
    const ceiling = grouped && limit === undefined ? maxLimit : undefined
    return {
      query: {
        ...decoded,
        ...(filter === undefined ? {} : { where: filter }),
        ...(ceiling === undefined ? {} : { limit: ceiling + 1 })
      },
      ceiling
    }
  })

/** Refuses more groups than the ceiling (a query without `limit`). @internal */
export const checkGroups = (at: At, prepared: PreparedAggregate, result: unknown): ValidationError | undefined =>
  prepared.ceiling !== undefined && Array.isArray(result) && result.length > prepared.ceiling
    ? new ValidationError({
      model: at.model,
      operation: at.operation,
      path: "groupBy",
      reason: `more than ${prepared.ceiling} groups: page them with limit and offset`
    })
    : undefined

/** One result as JSON: group fields, minima and maxima with their field's codec; sums and averages too (bigints, decimals as text). */
const encodeResult = (s: ServedModel, result: unknown): Row => {
  if (!isObject(result)) return {}
  const out: Row = {}
  const group: Row = {}
  for (const [key, value] of Object.entries(result)) {
    if (key === "_count" || key === "_countDistinct") out[key] = value
    else if (key.startsWith("_") && isObject(value)) out[key] = Json.encode(s.model, value as never)
    else group[key] = value
  }
  return { ...Json.encode(s.model, group as never), ...out }
}

/** An aggregate's output as JSON: one result, or the groups. @internal */
export const encodeAggregate = (s: ServedModel, output: unknown): unknown =>
  Array.isArray(output) ? output.map((r) => encodeResult(s, r)) : encodeResult(s, output)
