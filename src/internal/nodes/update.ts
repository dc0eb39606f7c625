/**
 * The updating nodes: update one record by key (optimistic locking on versioned models), and
 * bulkUpdate of every record a filter matches (an always-true filter needs `confirm`).
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as E from "effect/Effect"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { ConfigurationError } from "../../Errors.js"
import type { ConflictTargetError, ValidationError } from "../../Errors.js"
import { NotFound, OptimisticLockError, UnsafeOperation } from "../../Errors.js"
import type { BulkOptions } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Arith } from "../model/arith.js"
import { apply, currentRange, isArith } from "../model/arith.js"
import { isRecord, keyChecker, preparePatch, validation, valueProblem } from "../model/validate.js"
import { context } from "../runtime/context.js"
import type { WriteFailure } from "../runtime/errors.js"
import type { NodeContext } from "../runtime/executor.js"
import { atomic, execute, executeRaw, transaction } from "../runtime/executor.js"
import type { ErrorsOf } from "../runtime/transaction.js"
import * as Build from "../sql/builders.js"
import type { ModelStatements } from "../sql/statements.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import { selectOne } from "./read.js"
import type { Row } from "./shared.js"
import { conflictTarget, idOf, invalid, keyFieldsOf, now, traced, typedErrors, yieldToEventLoop } from "./shared.js"
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

/** Checks the items of a per-record bulkUpdate: each names one record and carries a patch (the testing reference checks with it too). @internal */
export const prepareItems = (
  def: ModelDefinition,
  items: ReadonlyArray<unknown>,
  operation: string
): Either.Either<ReadonlyArray<UpdateItem>, ValidationError | ConflictTargetError> => {
  const out: Array<UpdateItem> = []
  const checkId = keyChecker(def)
  const keyFields = keyFieldsOf(def)
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
      const bad = checkId(item.id, operation)
      if (bad !== undefined) return at(bad.path === "" || !def.compositeKey ? "id" : `id.${bad.path}`, bad.reason)
      const key = def.compositeKey ? keyFields.map((f) => (item.id as Row)[f]) : [item.id]
      out.push({ by: keyFields, key, named: item.id, patch: patch.right, expectedVersion })
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

/** Can the database do every arithmetic update of this patch, checked by range alone? */
const arithInSql = (s: ModelStatements, shape: Build.PatchShape): boolean =>
  [...shape.ops.keys()].every((k) =>
    s.definition.plainNumeric.has(k) && s.dialect.numericParam(s.byField.get(k)!.column.kind, "?") !== undefined
  )

/** Per arithmetically updated field, the range of current values whose result is storable. */
const rangesOf = (s: ModelStatements, patch: Row, shape: Build.PatchShape) => {
  const ranges: Record<string, readonly [unknown, unknown]> = {}
  for (const k of shape.ops.keys()) ranges[k] = currentRange(s.byField.get(k)!.column.kind, patch[k] as Arith)
  return ranges
}

/**
 * The values an arithmetic patch gives a row with these current values — or the
 * ValidationError of the first field whose result the field does not accept (out of the
 * column's range, or against the schema's refinements).
 * @internal
 */
export const applyArith = (
  def: ModelDefinition,
  patch: Row,
  current: Row,
  operation: string
): Either.Either<Row, ValidationError> => {
  const out: Row = {}
  for (const [k, v] of Object.entries(patch)) {
    if (!isArith(v)) {
      out[k] = v
      continue
    }
    const next = apply(v, current[k])
    if (next !== null && next !== undefined) {
      const problem = valueProblem(def, k, next)
      if (problem !== undefined) {
        return Either.left(validation(def, operation, k, `${v.written} gives a value the field does not accept: ${problem}`))
      }
    }
    out[k] = next
  }
  return Either.right(out)
}

/** The current values of a live row's arithmetically updated fields, locked; none when absent. */
const lockedRow = (ctx: NodeContext, id: unknown, fields: ReadonlyArray<string>, operation: string) => {
  const s = ctx.statements
  const params = new Params(s.dialect)
  const byId = s.definition.compositeKey ? id : { [s.definition.pk.field]: id }
  const filtered = where(s, byId, params, { operation, includeDeleted: false, tenant: ctx.tenant, relationTenant: ctx.relationTenant })
  if (Either.isLeft(filtered)) return Effect.die(filtered.left)
  return Effect.map(execute(ctx, Build.lockedValues(s, fields, filtered.right.sql), params.values), (rows) => {
    if (rows.length === 0) return Option.none<Row>()
    const current: Row = {}
    for (const f of fields) {
      const c = s.byField.get(f)!
      const raw = rows[0]![c.column.name]
      current[f] = raw === null || raw === undefined ? null : c.fromDb(raw)
    }
    return Option.some(current)
  })
}

/**
 * Updates one live row by key (and expected version) with a validated patch; the updated row,
 * or none when no row matched. Arithmetic updates (`{ n: { $increment: 1 } }`) run in the
 * statement where the database computes them exactly and only a range can make them fail (a
 * row out of range is then reported with a ValidationError); otherwise the row is locked, the
 * new values computed and validated, and written.
 * @internal
 */
export const updateById = (
  ctx: NodeContext,
  id: unknown,
  patch: Row,
  expectedVersion?: number
): E.Effect<Option.Option<Row>, SqlError | WriteFailure | ErrorsOf<{}> | ValidationError> =>
  Effect.flatMap(now, (time): E.Effect<Option.Option<Row>, SqlError | WriteFailure | ErrorsOf<{}> | ValidationError> => {
    const s = ctx.statements
    const def = s.definition
    const shape = Build.patchShape(patch)
    if (shape.ops.size > 0 && !arithInSql(s, shape)) {
      // compute in the application, on the locked row
      return atomic(
        ctx,
        typedErrors(s, "update")(Effect.gen(function*() {
          const current = yield* lockedRow(ctx, id, [...shape.ops.keys()], "update")
          if (Option.isNone(current)) return Option.none<Row>()
          const values = applyArith(def, patch, current.value, "update")
          if (Either.isLeft(values)) return yield* values.left
          return yield* updateById(ctx, id, values.right, expectedVersion)
        }))
      )
    }
    const statement = Build.updateById(s, shape, expectedVersion !== undefined)
    if (statement === undefined) return selectOne(ctx, id, false)
    const ranges = shape.ops.size === 0 ? undefined : rangesOf(s, patch, shape)
    const params = statement.params({ id, tenant: ctx.tenant, patch, now: time, expectedVersion, ranges })
    // no row matched: absent, a stale version — or an arithmetic result out of range (made
    // only then: its read is not built for every update)
    const unmatched = () => shape.ops.size === 0
      ? Effect.succeed(Option.none<Row>())
      : Effect.flatMap(selectOne(ctx, id, false), (found) => {
        if (Option.isNone(found) || (expectedVersion !== undefined && found.value.version !== expectedVersion)) {
          return Effect.succeed(Option.none<Row>())
        }
        const values = applyArith(def, patch, found.value, "update")
        return Either.isLeft(values) ? Effect.fail(values.left) : Effect.succeed(Option.none<Row>())
      })
    if (s.dialect.supportsReturning) {
      return Effect.flatMap(
        execute(ctx, statement.text, params),
        (rows) => (rows.length === 0 ? unmatched() : Effect.succeed(Option.some(s.decode.decode(rows[0]!))))
      )
    }
    // no RETURNING (MySQL): write and read back in one transaction; the client reports
    // matched rows, so 0 means no row matched
    return atomic(
      ctx,
      typedErrors(s, "update")(Effect.flatMap(
        executeRaw(ctx, statement.text, params),
        (raw) => s.dialect.affectedRows(raw) === 0 ? unmatched() : selectOne(ctx, id, false)
      ))
    )
  })

/**
 * A bulk update by filter with arithmetic updates, in the caller's transaction: the matching
 * rows are locked and every result checked before anything is written (one bad row fails the
 * whole update), then written — by the database's arithmetic where it can, else value by value.
 */
const bulkArith = (ctx: NodeContext, patch: Row, whereSql: string, whereParams: ReadonlyArray<unknown>, time: Date) =>
  Effect.gen(function*() {
    const s = ctx.statements
    const def = s.definition
    const shape = Build.patchShape(patch)
    const fields = [...shape.ops.keys()]
    const rows = yield* execute(ctx, Build.lockedValues(s, fields, whereSql), whereParams)
    const ids: Array<unknown> = []
    const computed: Array<Row> = []
    // every result is checked here; the database recomputes them where it can (same values)
    const inSql = fields.every((k) => s.dialect.numericParam(s.byField.get(k)!.column.kind, "?") !== undefined)
    for (const row of rows) {
      const current: Row = {}
      for (const f of fields) {
        const c = s.byField.get(f)!
        const raw = row[c.column.name]
        current[f] = raw === null || raw === undefined ? null : c.fromDb(raw)
      }
      const values = applyArith(def, patch, current, "bulkUpdate")
      if (Either.isLeft(values)) return yield* values.left
      ids.push(Build.keyOfRow(s, row, "__id"))
      if (!inSql) computed.push(values.right)
    }
    if (inSql) {
      const size = Build.rowsPerStatement(s, s.key.length)
      for (let start = 0; start < ids.length; start += size) {
        const params = new Params(s.dialect)
        const text = Build.updateByIds(s, params, patch, time, ids.slice(start, start + size), ctx.tenant)
        yield* executeRaw(ctx, text, params.values)
      }
    } else {
      for (let i = 0; i < ids.length; i++) yield* updateById(ctx, ids[i], computed[i]!)
    }
    return ids.length
  })

/** @internal */
export const make = <R>(def: ModelDefinition): UpdateNodes<R> => {
  const checkId = keyChecker(def)
  const keyFields = keyFieldsOf(def)
  const updateSpan = traced(def, "update")
  // the checks are synchronous and the statement's outcome is mapped in one step: no generator
  // per call (update is one of the hottest nodes)
  const update: UpdateNodes<R>["update"] = (id, patchInput, options = {}) =>
    updateSpan(Effect.suspend(() => {
      const operation = "update"
      const bad = checkId(id, operation)
      if (bad !== undefined) return Effect.fail(bad)
      const expected = options.expectedVersion
      if (expected !== undefined && (!def.versioned || !Number.isSafeInteger(expected))) {
        return Effect.fail(invalid(def, operation, "expectedVersion", def.versioned ? "must be an integer" : "the model is not versioned"))
      }
      const patch = preparePatch(def, patchInput, operation)
      if (Either.isLeft(patch)) return Effect.fail(patch.left)
      return Effect.flatMap(context<R>(def, operation), (ctx) => {
        const errors = typedErrors(ctx.statements, operation)
        return Effect.flatMap(errors(updateById(ctx, id, patch.right, expected)), (updated) => {
          if (Option.isSome(updated)) return Effect.succeed(updated.value)
          const notFound = new NotFound({ model: def.name, operation, id: idOf(id) })
          if (expected === undefined) return Effect.fail(notFound)
          // a live row under another version: the caller's copy is stale
          return Effect.flatMap(errors(selectOne(ctx, id, false)), (found) =>
            Effect.fail(
              Option.isSome(found)
                ? new OptimisticLockError({ model: def.name, operation, id: idOf(id), expectedVersion: expected })
                : notFound
            ))
        })
      })
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
      if (Object.values(patch.right).some(isArith)) {
        const params = new Params(s.dialect)
        const filtered = where(s, filter, params, { operation, includeDeleted: false, tenant: ctx.tenant, relationTenant: ctx.relationTenant })
        if (Either.isLeft(filtered)) return yield* filtered.left
        const unsafe = unconfirmed(def, filtered.right.condition, options.confirm, operation)
        if (unsafe !== undefined) return yield* unsafe
        const updated = yield* transaction(ctx, typedErrors(s, operation)(bulkArith(ctx, patch.right, filtered.right.sql, params.values, time)))
        yield* Effect.annotateCurrentSpan("dataflow.rows", updated)
        return { updated }
      }
      const params = new Params(s.dialect)
      const sets = Build.setList(
        s,
        Object.keys(patch.right),
        (k) => params.bind(s.byField.get(k)!.toDb(patch.right[k])),
        () => params.bind(s.byField.get("updatedAt")!.toDb(time))
      )
      const filtered = where(s, filter, params, { operation, includeDeleted: false, tenant: ctx.tenant, relationTenant: ctx.relationTenant })
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
          if (Object.values(item.patch).some(isArith)) {
            // arithmetic updates: by the record's key, with their range and schema checks
            const lookup = Build.keyLookup(s, item.by)
            const byPrimaryKey = item.by === keyFields || (!def.compositeKey && item.by.length === 1 && item.by[0] === def.pk.field)
            const id = byPrimaryKey
              ? Option.some(def.compositeKey ? item.named : item.key[0])
              : Option.map(
                Option.fromNullable((yield* execute(ctx, lookup.text, lookup.params({ key: item.key, tenant })))[0]),
                (row) => Build.keyOfRow(s, row, "id")
              )
            const done = Option.isNone(id) ? Option.none() : yield* updateById(ctx, id.value, item.patch, item.expectedVersion)
            if (Option.isSome(done)) {
              updated++
              continue
            }
            const exists = Option.isSome(id) && Option.isSome(yield* selectOne(ctx, id.value, false))
            if (exists) {
              return yield* new OptimisticLockError({ model: def.name, operation, id: nameOf(item), expectedVersion: item.expectedVersion! })
            }
            if (options.requireAll === true) return yield* new NotFound({ model: def.name, operation, id: nameOf(item) })
            missing.push(item.named)
            continue
          }
          const statement = Build.updateByKey(s, item.by, Build.patchShape(item.patch), item.expectedVersion !== undefined)
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
