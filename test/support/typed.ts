/**
 * What a caller of a node may see when something goes wrong: one of the library's tagged
 * errors (`Errors`), never a defect, never an `SqlError`, never an interruption it did not ask for.
 */
import { assert } from "@effect/vitest"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Exit, Option } from "effect"
import { Errors } from "../../src/index.js"

/** Every `_tag` the library's error classes carry (new classes join automatically). */
export const errorTags: ReadonlySet<string> = new Set(
  Object.values(Errors).flatMap((v) => (typeof v === "function" && "_tag" in v && typeof v._tag === "string" ? [v._tag] : []))
)

export const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : undefined

/** A field of an error by name (also for fields an error class may not declare yet). */
export const fieldOf = (error: unknown, name: string): unknown =>
  typeof error === "object" && error !== null && name in error ? (error as Record<string, unknown>)[name] : undefined

/** The library's error of a cause, or a description of why the cause is not one. */
export const typedError = <E>(cause: Cause.Cause<E>): { readonly error: E } | { readonly problem: string } => {
  if (Cause.isDie(cause)) return { problem: `a defect: ${Cause.pretty(cause)}` }
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) return { problem: `no typed failure: ${Cause.pretty(cause)}` }
  const error = failure.value
  if (error instanceof SqlError) return { problem: `an SqlError: ${Cause.pretty(cause)}` }
  if (!errorTags.has(tagOf(error) ?? "")) return { problem: `not an Errors error: ${Cause.pretty(cause)}` }
  return { error }
}

/** The failure of an exit, asserted to be one typed error of the library. */
export const typedFailure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail(`expected a typed failure, got success ${JSON.stringify(exit.value)}`)
  const typed = typedError(exit.cause)
  if ("problem" in typed) return assert.fail(typed.problem)
  return typed.error
}
