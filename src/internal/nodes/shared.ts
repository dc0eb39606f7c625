/**
 * What every node family uses: the node's span (and scope, for instance models), SQL errors as
 * typed errors, the clock, argument guards for untyped callers, and the pacing of bulk writes.
 * (Internal module: not part of the public API.)
 */
import { SqlError } from "@effect/sql/SqlError"
import type * as Scope from "effect/Scope"
import * as BigDecimal from "effect/BigDecimal"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { DatabaseError, ValidationError } from "../../Errors.js"
import { ConflictTargetError } from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import { validation } from "../model/validate.js"
import type { WriteFailure } from "../runtime/errors.js"
import { toDatabaseError, writeError } from "../runtime/errors.js"
import type { ModelStatements } from "../sql/statements.js"
import { nodeSpan } from "../runtime/tracing.js"

/** @internal */
export type Row = Record<string, unknown>

/** The current time, from Effect's Clock (TestClock controls it). @internal */
export const now: Effect.Effect<Date> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

/**
 * A node's span; an instance model's node also holds its client (a tenant's own, under the
 * database strategy) for its whole run.
 * @internal
 */
export const traced = (def: ModelDefinition, node: string) => {
  const span = nodeSpan(def.name, def.table, node)
  return def.instance === undefined
    ? span
    : <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope>> => span(Effect.scoped(self))
}

/** Maps a failed statement (or BEGIN/COMMIT of a node's own transaction) to its typed error. @internal */
export const typedErrors = (s: ModelStatements, operation: string) =>
<A, E, R>(self: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, Exclude<E, SqlError> | WriteFailure, R> =>
  Effect.catchIf(
    self,
    (e): e is SqlError => e instanceof SqlError,
    (e) => Effect.fail(writeError(s, operation)(e))
  ) as Effect.Effect<A, Exclude<E, SqlError> | WriteFailure, R>

/** Maps a failed read statement to a DatabaseError (a read violates no constraint). @internal */
export const readErrors = (s: ModelStatements, operation: string) =>
<A, E, R>(self: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, Exclude<E, SqlError> | DatabaseError, R> =>
  Effect.catchIf(
    self,
    (e): e is SqlError => e instanceof SqlError,
    (e) => Effect.fail(toDatabaseError(s.dialect, s.definition.name, operation, e))
  ) as Effect.Effect<A, Exclude<E, SqlError> | DatabaseError, R>

/** The id a NotFound / OptimisticLockError names (`a=1,b=2` for a composite key). @internal */
export const idOf = (id: unknown): string | number =>
  typeof id === "number"
    ? id
    : typeof id === "object" && id !== null && !(id instanceof Date)
    ? Object.entries(id).map(([f, v]) => `${f}=${String(v)}`).join(",")
    : String(id)

/** The fields of a model's primary key, in key order. @internal */
export const keyFieldsOf = (def: ModelDefinition): ReadonlyArray<string> => def.key.map((c) => c.field)

/** @internal */
export const invalid = (def: ModelDefinition, operation: string, path: string, reason: string): ValidationError =>
  validation(def, operation, path, reason)

/**
 * Lets the event loop run (timers, I/O, other fibers) between the chunks of a bulk write: on a
 * synchronous driver (SQLite) a long write would otherwise hold it for its whole length, and
 * an interruption (a timeout) would only be seen at its end. Interrupted here, the write's
 * transaction rolls back.
 * @internal
 */
export const yieldToEventLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const compareValues = (a: unknown, b: unknown): number => {
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime()
  if (BigDecimal.isBigDecimal(a) && BigDecimal.isBigDecimal(b)) return BigDecimal.Order(a, b)
  if ((typeof a === "number" || typeof a === "bigint") && (typeof b === "number" || typeof b === "bigint")) {
    return a < b ? -1 : a > b ? 1 : 0
  }
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * A key's values as one text, equal exactly when the database's binary comparison finds them
 * equal (dates by instant, decimals by value): the identity of a unique key in memory.
 * @internal
 */
export const keyText = (values: ReadonlyArray<unknown>): string =>
  values.map((v) =>
    v instanceof Date
      ? `d${v.getTime()}`
      : BigDecimal.isBigDecimal(v)
      ? `n${BigDecimal.format(BigDecimal.normalize(v))}`
      : typeof v === "number" || typeof v === "bigint"
      ? `n${v}`
      : typeof v === "boolean"
      ? `b${v}`
      : `s${String(v)}`
  ).join("\u0000")

/** A total order of conflict keys, the same in every process. @internal */
export const compareKeys = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>): number => {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i])
    if (c !== 0) return c
  }
  return 0
}

/**
 * Guards the options arguments of a node (at `positions`): callers without types (JSON,
 * workflows) may pass anything, and a value that is not an object is a ValidationError naming
 * the argument, never a TypeError.
 * @internal
 */
export const withObjectArguments = <Args extends ReadonlyArray<unknown>, A, E, R>(
  def: ModelDefinition,
  operation: string,
  positions: ReadonlyArray<readonly [index: number, name: string]>,
  node: (...args: Args) => Effect.Effect<A, E, R>
) =>
(...args: Args): Effect.Effect<A, E | ValidationError, R> => {
  for (const [index, name] of positions) {
    const value = args[index]
    if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
      return Effect.fail(invalid(def, operation, name, "expected an object"))
    }
  }
  return node(...args)
}

/** The conflict target must be the primary key or a declared unique constraint, exactly. @internal */
export const conflictTarget = (def: ModelDefinition, fields: ReadonlyArray<unknown>, operation: string) => {
  const pk = keyFieldsOf(def)
  const unknown = fields.find((f) => typeof f !== "string" || !def.byField.has(f))
  const same = (set: ReadonlyArray<string>) => set.length === fields.length && set.every((f) => fields.includes(f))
  const columns = fields.map(String)
  if (def.tenantScoped && def.autoIncrement && same(pk)) {
    return Either.left(
      new ConflictTargetError({
        model: def.name,
        operation,
        columns,
        reason: "is a generated key, global across tenants; upsert tenant-scoped records by a unique constraint"
      })
    )
  }
  if (unknown !== undefined || fields.length === 0 || !(same(pk) || def.uniqueSets.some(same))) {
    return Either.left(
      new ConflictTargetError({
        model: def.name,
        operation,
        columns,
        reason: unknown !== undefined
          ? `names unknown field ${String(unknown)}`
          : "is not the primary key or a unique constraint of the model"
      })
    )
  }
  return Either.right(columns)
}

const isTagged = (e: unknown): e is { readonly _tag: string } => typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string"

/**
 * Errors that cannot come from the arguments a node writes itself (its own filters, no
 * conflict target): defects.
 * @internal
 */
export const dieOn = <const T extends string>(...tags: ReadonlyArray<T>) =>
<A, Err, R>(self: Effect.Effect<A, Err, R>): Effect.Effect<A, Exclude<Err, { readonly _tag: T }>, R> =>
  Effect.catchIf(
    self,
    (e): e is Extract<Err, { readonly _tag: T }> => isTagged(e) && tags.includes(e._tag as T),
    (e) => Effect.die(e)
  ) as Effect.Effect<A, Exclude<Err, { readonly _tag: T }>, R>

/** A filter the node made itself cannot be invalid: a defect if it is. @internal */
export const orDieFilter = dieOn("InvalidFilter", "InvalidCursor")
