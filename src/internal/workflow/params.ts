/**
 * Reading a node's JSON parameters: a name or one of its aliases (Kailash's `record_id`,
 * `conditions`, `confirmed` … beside this library's `id`, `where`, `confirm`), booleans,
 * counts, and the Json module's errors moved under the parameter they came from.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import type { WorkflowError } from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import { isRecord } from "../model/validate.js"
import type { Params } from "./nodeType.js"
import { paramError } from "./nodeType.js"

/** @internal */
export interface Given {
  readonly name: string
  readonly value: unknown
}

/** The one of `names` given (undefined when none is); two of them is an error. @internal */
export const oneOf = (params: Params, names: ReadonlyArray<string>): Effect.Effect<Given | undefined, WorkflowError> => {
  const given = names.filter((n) => params[n] !== undefined)
  if (given.length > 1) return Effect.fail(paramError(given[1]!, `give one of ${given.join(", ")}, not both`))
  return Effect.succeed(given.length === 0 ? undefined : { name: given[0]!, value: params[given[0]!] })
}

/** A boolean parameter under any of `names`. @internal */
export const flag = (params: Params, names: ReadonlyArray<string>): Effect.Effect<boolean | undefined, WorkflowError> =>
  Effect.flatMap(oneOf(params, names), (given) =>
    given === undefined || typeof given.value === "boolean"
      ? Effect.succeed(given?.value as boolean | undefined)
      : Effect.fail(paramError(given.name, "expected true or false")))

/** A non-negative integer parameter under any of `names`. @internal */
export const count = (params: Params, names: ReadonlyArray<string>, min = 0): Effect.Effect<number | undefined, WorkflowError> =>
  Effect.flatMap(oneOf(params, names), (given) =>
    given === undefined || (Number.isSafeInteger(given.value) && (given.value as number) >= min)
      ? Effect.succeed(given?.value as number | undefined)
      : Effect.fail(paramError(given.name, min > 0 ? "expected a positive integer" : "expected a non-negative integer")))

/** A field-name list parameter (`conflict_on`). @internal */
export const fieldList = (
  def: ModelDefinition,
  params: Params,
  names: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<string> | undefined, WorkflowError> =>
  Effect.flatMap(oneOf(params, names), (given) =>
    given === undefined
      ? Effect.void as Effect.Effect<undefined>
      : Array.isArray(given.value) && given.value.every((f) => typeof f === "string" && def.byField.has(f))
      ? Effect.succeed(given.value as ReadonlyArray<string>)
      : Effect.fail(paramError(given.name, "expected an array of the model's field names")))

/** A path under a parameter: `data` + `email` → `data.email`. @internal */
export const join = (...parts: ReadonlyArray<string | number | undefined>): string =>
  parts.filter((p) => p !== undefined && p !== "").join(".")

/**
 * A Json decoder's error (a `ValidationError` or an `InvalidFilter`: a path, a reason, perhaps
 * a row index) as a `WorkflowError` under the parameter it decoded. @internal
 */
export const under = (name: string) => (error: { readonly path: string; readonly reason: string; readonly rowIndex?: number | undefined }) =>
  paramError(join(name, error.rowIndex, error.path), error.reason, error)

/** An object parameter (`fields`, `filter`). @internal */
export const objectParam = (given: Given): Effect.Effect<Record<string, unknown>, WorkflowError> =>
  isRecord(given.value) ? Effect.succeed(given.value) : Effect.fail(paramError(given.name, "expected an object"))

/** An array parameter (`records`, `ids`). @internal */
export const arrayParam = (given: Given): Effect.Effect<ReadonlyArray<unknown>, WorkflowError> =>
  Array.isArray(given.value) ? Effect.succeed(given.value) : Effect.fail(paramError(given.name, "expected an array"))
