/**
 * The updating nodes: update one record by key (optimistic locking on versioned models), and
 * bulkUpdate of every record a filter matches (an always-true filter needs `confirm`).
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import type { Effect as E } from "effect"
import { Effect, Either, Option } from "effect"
import type { ConfigurationError } from "../../Errors.js"
import { NotFound, OptimisticLockError, UnsafeOperation } from "../../Errors.js"
import type { BulkOptions } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { checkId, preparePatch } from "../model/validate.js"
import { context } from "../runtime/context.js"
import type { WriteFailure } from "../runtime/errors.js"
import type { NodeContext } from "../runtime/executor.js"
import { atomic, execute, executeRaw } from "../runtime/executor.js"
import type { ErrorsOf } from "../runtime/transaction.js"
import * as Build from "../sql/builders.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import { selectOne } from "./read.js"
import type { Row } from "./shared.js"
import { idOf, invalid, now, traced, typedErrors } from "./shared.js"
import type { NodeErrors } from "./types.js"

/** @internal */
export interface UpdateNodes<R> {
  readonly update: (
    id: unknown,
    patch: unknown,
    options?: { readonly expectedVersion?: number }
  ) => E.Effect<Row, NodeErrors["update"] | ConfigurationError, R>
  readonly bulkUpdate: (
    where: unknown,
    patch: unknown,
    options?: BulkOptions
  ) => E.Effect<{ readonly updated: number }, NodeErrors["bulkUpdate"] | ConfigurationError, R>
}

/** The UnsafeOperation of a bulk write whose filter holds for every row, without `confirm`. @internal */
export const unconfirmed = (def: ModelDefinition, condition: string | undefined, confirm: unknown, operation: string) =>
  condition === undefined && confirm !== true
    ? new UnsafeOperation({
      model: def.name,
      operation,
      reason: "the filter matches every row; pass { confirm: true } to do that"
    })
    : undefined

/**
 * Updates one live row by key (and expected version) with a validated patch; the updated row,
 * or none when no row matched.
 * @internal
 */
export const updateById = (
  ctx: NodeContext,
  id: unknown,
  patch: Row,
  expectedVersion?: number
): E.Effect<Option.Option<Row>, SqlError | WriteFailure | ErrorsOf<{}>> =>
  Effect.flatMap(now, (time): E.Effect<Option.Option<Row>, SqlError | WriteFailure | ErrorsOf<{}>> => {
    const s = ctx.statements
    const statement = Build.updateById(s, Object.keys(patch), expectedVersion !== undefined)
    if (statement === undefined) return selectOne(ctx, id, false)
    const params = statement.params({ id, tenant: ctx.tenant, patch, now: time, expectedVersion })
    if (s.dialect.supportsReturning) {
      return Effect.map(
        execute(ctx, statement.text, params),
        (rows) => (rows.length === 0 ? Option.none() : Option.some(s.decode.decode(rows[0]!)))
      )
    }
    // no RETURNING (MySQL): write and read back in one transaction; the client reports
    // matched rows, so 0 means no row matched
    return atomic(
      ctx,
      typedErrors(s, "update")(Effect.gen(function*() {
        const raw = yield* executeRaw(ctx, statement.text, params)
        if (s.dialect.affectedRows(raw) === 0) return Option.none<Row>()
        return yield* selectOne(ctx, id, false)
      }))
    )
  })

/** @internal */
export const make = <R>(def: ModelDefinition): UpdateNodes<R> => {
  const updateSpan = traced(def, "update")
  const update: UpdateNodes<R>["update"] = (id, patchInput, options = {}) =>
    updateSpan(Effect.gen(function*() {
      const operation = "update"
      const bad = checkId(def, id, operation)
      if (bad !== undefined) return yield* bad
      const expected = options.expectedVersion
      if (expected !== undefined && (!def.versioned || !Number.isSafeInteger(expected))) {
        return yield* invalid(def, operation, "expectedVersion", def.versioned ? "must be an integer" : "the model is not versioned")
      }
      const patch = preparePatch(def, patchInput, operation)
      if (Either.isLeft(patch)) return yield* patch.left
      const ctx = yield* context<R>(def, operation)
      const errors = typedErrors(ctx.statements, operation)
      const updated = yield* errors(updateById(ctx, id, patch.right, expected))
      if (Option.isSome(updated)) return updated.value
      if (expected !== undefined && Option.isSome(yield* errors(selectOne(ctx, id, false)))) {
        return yield* new OptimisticLockError({ model: def.name, operation, id: idOf(id), expectedVersion: expected })
      }
      return yield* new NotFound({ model: def.name, operation, id: idOf(id) })
    }))

  const bulkSpan = traced(def, "bulkUpdate")
  const bulkUpdate: UpdateNodes<R>["bulkUpdate"] = (filter, patchInput, options = {}) =>
    bulkSpan(Effect.gen(function*() {
      const operation = "bulkUpdate"
      const patch = preparePatch(def, patchInput, operation)
      if (Either.isLeft(patch)) return yield* patch.left
      const ctx = yield* context<R>(def, operation)
      const s = ctx.statements
      const time = yield* now
      // SET values first: the text binds them before the WHERE clause's
      const params = new Params(s.dialect)
      const sets = Build.setList(
        s,
        Object.keys(patch.right),
        (k) => params.bind(s.byField.get(k)!.toDb(patch.right[k])),
        () => params.bind(s.byField.get("updatedAt")!.toDb(time))
      )
      const filtered = where(s, filter, params, { operation, includeDeleted: false, tenant: ctx.tenant })
      if (Either.isLeft(filtered)) return yield* filtered.left
      const unsafe = unconfirmed(def, filtered.right.condition, options.confirm, operation)
      if (unsafe !== undefined) return yield* unsafe
      if (sets.length === 0) return { updated: 0 }
      const raw = yield* typedErrors(s, operation)(executeRaw(ctx, Build.updateWhere(s, sets, filtered.right.sql), params.values))
      const updated = s.dialect.affectedRows(raw)
      yield* Effect.annotateCurrentSpan("dataflow.rows", updated)
      return { updated }
    }))

  return { update, bulkUpdate }
}
