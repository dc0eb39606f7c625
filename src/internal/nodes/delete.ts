/**
 * The removing nodes: delete one record by key (a soft-delete model stamps `deletedAt`),
 * restore a soft-deleted one, bulkDelete every record a filter matches (an always-true filter
 * needs `confirm`).
 * (Internal module: not part of the public API.)
 */
import type * as E from "effect/Effect"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { ConfigurationError } from "../../Errors.js"
import type { BulkOptions } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { keyChecker } from "../model/validate.js"
import { context } from "../runtime/context.js"
import { executeRaw } from "../runtime/executor.js"
import * as Build from "../sql/builders.js"
import type { Plan } from "../sql/params.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import { now, traced, typedErrors } from "./shared.js"
import type { NodeErrors } from "./types.js"
import { unconfirmed } from "./update.js"

/** @internal */
export interface DeleteNodes<R> {
  readonly delete: (id: unknown) => E.Effect<{ readonly deleted: boolean }, NodeErrors["delete"] | ConfigurationError, R>
  readonly restore: (id: unknown) => E.Effect<{ readonly restored: boolean }, NodeErrors["restore"] | ConfigurationError, R>
  readonly bulkDelete: (
    where: unknown,
    options?: BulkOptions
  ) => E.Effect<{ readonly deleted: number }, NodeErrors["bulkDelete"] | ConfigurationError, R>
}

/** @internal */
export const make = <R>(def: ModelDefinition): DeleteNodes<R> => {
  const checkId = keyChecker(def)
  const deleteSpan = traced(def, "delete")
  // no generator per call (see docs/performance.md): the checks, then the statement mapped
  const del: DeleteNodes<R>["delete"] = (id) =>
    deleteSpan(Effect.suspend((): E.Effect<{ readonly deleted: boolean }, NodeErrors["delete"] | ConfigurationError, R> => {
      const bad = checkId(id, "delete")
      if (bad !== undefined) return Effect.fail(bad)
      return Effect.flatMap(context<R>(def, "delete"), (ctx) =>
        Effect.flatMap(now, (time) => {
          const s = ctx.statements
          const statement: Plan<Build.StampArgs> = def.softDelete ? Build.softDeleteById(s) : Build.deleteById(s)
          const params = statement.params({ id, tenant: ctx.tenant, now: time })
          return Effect.map(typedErrors(s, "delete")(executeRaw(ctx, statement.text, params)), (raw) => ({
            deleted: s.dialect.affectedRows(raw) > 0
          }))
        }))
    }))

  const restoreSpan = traced(def, "restore")
  const restore: DeleteNodes<R>["restore"] = (id) =>
    restoreSpan(Effect.suspend((): E.Effect<{ readonly restored: boolean }, NodeErrors["restore"] | ConfigurationError, R> => {
      const bad = checkId(id, "restore")
      if (bad !== undefined) return Effect.fail(bad)
      return Effect.flatMap(context<R>(def, "restore"), (ctx) =>
        Effect.flatMap(now, (time) => {
          const s = ctx.statements
          const statement = Build.restoreById(s)
          const params = statement.params({ id, tenant: ctx.tenant, now: time })
          return Effect.map(typedErrors(s, "restore")(executeRaw(ctx, statement.text, params)), (raw) => ({
            restored: s.dialect.affectedRows(raw) > 0
          }))
        }))
    }))

  const bulkSpan = traced(def, "bulkDelete")
  const bulkDelete: DeleteNodes<R>["bulkDelete"] = (filter, options = {}) =>
    bulkSpan(Effect.gen(function*() {
      const operation = "bulkDelete"
      const ctx = yield* context<R>(def, operation)
      const s = ctx.statements
      const params = new Params(s.dialect)
      // a soft delete's SET values are bound before the WHERE clause's
      const sets = def.softDelete ? Build.softDeleteSets(s, params, yield* now) : undefined
      const filtered = where(s, filter, params, { operation, includeDeleted: false, tenant: ctx.tenant, relationTenant: ctx.relationTenant })
      if (Either.isLeft(filtered)) return yield* filtered.left
      const unsafe = unconfirmed(def, filtered.right.condition, options.confirm, operation)
      if (unsafe !== undefined) return yield* unsafe
      const text = sets === undefined
        ? Build.deleteWhere(s, filtered.right.sql)
        : Build.updateWhere(s, sets, filtered.right.sql)
      const raw = yield* typedErrors(s, operation)(executeRaw(ctx, text, params.values))
      const deleted = s.dialect.affectedRows(raw)
      yield* Effect.annotateCurrentSpan("dataflow.rows", deleted)
      return { deleted }
    }))

  return { delete: del, restore, bulkDelete }
}
