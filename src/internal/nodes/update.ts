/**
 * The updating nodes: update one record by key (optimistic locking on versioned models), and
 * bulkUpdate of every record a filter matches (an always-true filter needs `confirm`).
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import type { Effect as E } from "effect"
import { Effect, Either, Option } from "effect"
import type { ConfigurationError } from "../../Errors.js"
import type { ConflictTargetError, ValidationError } from "../../Errors.js"
import { NotFound, OptimisticLockError, UnsafeOperation } from "../../Errors.js"
import type { BulkOptions } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { checkId, isRecord, preparePatch, validation, valueProblem } from "../model/validate.js"
import { context } from "../runtime/context.js"
import type { WriteFailure } from "../runtime/errors.js"
import type { NodeContext } from "../runtime/executor.js"
import { atomic, execute, executeRaw, transaction } from "../runtime/executor.js"
import type { ErrorsOf } from "../runtime/transaction.js"
import * as Build from "../sql/builders.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import { selectOne } from "./read.js"
import type { Row } from "./shared.js"
import { conflictTarget, idOf, invalid, now, traced, typedErrors, yieldToEventLoop } from "./shared.js"
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
  readonly bulkUpdateItems: (
    items: ReadonlyArray<unknown>,
    options?: { readonly requireAll?: boolean }
  ) => E.Effect<
    { readonly updated: number; readonly missing: ReadonlyArray<unknown> },
    NodeErrors["bulkUpdateItems"] | ConfigurationError,
    R
  >
}

/** Items of a per-record bulkUpdate between two yields to the event loop. */
const ITEMS_PER_YIELD = 500

/** One validated item of a per-record bulkUpdate. */
interface UpdateItem {
  /** The key's fields: the primary key, or a unique constraint's. */
  readonly by: ReadonlyArray<string>
  readonly key: ReadonlyArray<unknown>
  /** What the caller named the record by: its id, or its key as an object. */
  readonly named: unknown
  readonly patch: Row
  readonly expectedVersion: number | undefined
}

/** The id a NotFound / OptimisticLockError names for a record named by a unique key. */
const nameOf = (item: UpdateItem): string | number =>
  item.by.length === 1 && item.named === item.key[0]
    ? idOf(item.key[0])
    : item.by.map((f, i) => `${f}=${String(item.key[i])}`).join(",")

/** Checks the items of a per-record bulkUpdate: each names one record and carries a patch. */
const prepareItems = (
  def: ModelDefinition,
  items: ReadonlyArray<unknown>,
  operation: string
): Either.Either<ReadonlyArray<UpdateItem>, ValidationError | ConflictTargetError> => {
  const out: Array<UpdateItem> = []
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    const at = (path: string, reason: string) => Either.left(validation(def, operation, path, reason, i))
    if (!isRecord(item)) return at("", "expected { id, patch } or { key, patch }")
    const hasId = "id" in item && item.id !== undefined
    const hasKey = "key" in item && item.key !== undefined
    if (hasId === hasKey) return at("", "needs exactly one of id and key")
    const expected = item.expectedVersion
    if (expected !== undefined && (!def.versioned || !Number.isSafeInteger(expected))) {
      return at("expectedVersion", def.versioned ? "must be an integer" : "the model is not versioned")
    }
    const expectedVersion = expected as number | undefined
    const patch = preparePatch(def, item.patch ?? {}, operation)
    if (Either.isLeft(patch)) {
      const e = patch.left
      return at(e.path === "" ? "patch" : `patch.${e.path}`, e.reason)
    }
    if (hasId) {
      const bad = checkId(def, item.id, operation)
      if (bad !== undefined) return at("id", bad.reason)
      out.push({ by: [def.pk.field], key: [item.id], named: item.id, patch: patch.right, expectedVersion })
      continue
    }
    if (!isRecord(item.key)) return at("key", "expected an object of a unique key's fields")
    const target = conflictTarget(def, Object.keys(item.key), operation)
    if (Either.isLeft(target)) return Either.left(target.left)
    const key = target.right.map((f) => (item.key as Row)[f])
    const missingValue = target.right.find((_, k) => key[k] === null || key[k] === undefined)
    if (missingValue !== undefined) return at(`key.${missingValue}`, "a key needs a value")
    const problem = target.right.map((f, k) => valueProblem(def, f, key[k])).find((p) => p !== undefined)
    if (problem !== undefined) return at("key", problem)
    out.push({ by: target.right, key, named: item.key, patch: patch.right, expectedVersion })
  }
  return Either.right(out)
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

  const itemsSpan = traced(def, "bulkUpdate")
  const bulkUpdateItems: UpdateNodes<R>["bulkUpdateItems"] = (items, options = {}) =>
    itemsSpan(Effect.gen(function*() {
      const operation = "bulkUpdate"
      const prepared = prepareItems(def, items, operation)
      if (Either.isLeft(prepared)) return yield* prepared.left
      const ctx = yield* context<R>(def, operation)
      const s = ctx.statements
      const time = yield* now
      const tenant = ctx.tenant
      // one statement per record (the text cached per key and patch fields, prepared once), all
      // in one transaction: a stale version or, with requireAll, a missing record writes nothing
      const work = Effect.gen(function*() {
        let updated = 0
        const missing: Array<unknown> = []
        for (let i = 0; i < prepared.right.length; i++) {
          if (i > 0 && i % ITEMS_PER_YIELD === 0) yield* yieldToEventLoop
          const item = prepared.right[i]!
          const statement = Build.updateByKey(s, item.by, Object.keys(item.patch), item.expectedVersion !== undefined)
          const args = { key: item.key, tenant, patch: item.patch, now: time, expectedVersion: item.expectedVersion }
          const matched = statement === undefined
            ? 0
            : s.dialect.affectedRows(yield* executeRaw(ctx, statement.text, statement.params(args)))
          if (matched > 0) {
            updated++
            continue
          }
          // nothing matched: a stale version, or no such live record
          const lookup = Build.keyLookup(s, item.by)
          const exists = (yield* execute(ctx, lookup.text, lookup.params(args))).length > 0
          if (exists && statement === undefined) {
            updated++
          } else if (exists) {
            return yield* new OptimisticLockError({
              model: def.name,
              operation,
              id: nameOf(item),
              expectedVersion: item.expectedVersion!
            })
          } else if (options.requireAll === true) {
            return yield* new NotFound({ model: def.name, operation, id: nameOf(item) })
          } else {
            missing.push(item.named)
          }
        }
        return { updated, missing }
      })
      const result = yield* transaction(ctx, typedErrors(s, operation)(work))
      yield* Effect.annotateCurrentSpan("dataflow.rows", result.updated)
      return result
    }))

  return { update, bulkUpdate, bulkUpdateItems }
}
