/**
 * The upserting nodes: upsert one record by a conflict target (the primary key or a unique
 * constraint), and bulkUpsert of many rows with exact inserted/updated counts. Where the
 * database says in one statement whether a row was inserted (PostgreSQL), that statement is
 * used; elsewhere a locking read in a transaction decides.
 * (Internal module: not part of the public API.)
 */
import type * as E from "effect/Effect"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { ConfigurationError } from "../../Errors.js"
import { DatabaseError, UniqueViolation, ValidationError } from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import type { DialectColumn } from "../sql/rows.js"
import { encodeRecord, stamp } from "../sql/rows.js"
import { isArith } from "../model/arith.js"
import { isRecord, prepareCreate, preparePatch, validation } from "../model/validate.js"
import { inOwnTransaction } from "../runtime/binding.js"
import { context } from "../runtime/context.js"
import type { NodeContext } from "../runtime/executor.js"
import { execute, executeRaw, transaction } from "../runtime/executor.js"
import * as Build from "../sql/builders.js"
import { Params } from "../sql/params.js"
import { where } from "../sql/where.js"
import { insertOne } from "./create.js"
import { selectOne } from "./read.js"
import type { Row } from "./shared.js"
import { compareKeys, conflictTarget, invalid, keyFieldsOf, keyText, now, traced, typedErrors, yieldToEventLoop } from "./shared.js"
import type { NodeErrors } from "./types.js"
import { updateById } from "./update.js"

/** @internal */
export interface UpsertNodes<R> {
  readonly upsert: (args: {
    readonly where?: unknown
    readonly create?: unknown
    readonly update?: unknown
    readonly conflictOn?: ReadonlyArray<string>
  }) => E.Effect<{ readonly record: Row; readonly created: boolean }, NodeErrors["upsert"] | ConfigurationError, R>
  readonly createIgnore: (
    input: unknown,
    options?: { readonly conflictOn?: ReadonlyArray<string> }
  ) => E.Effect<{ readonly record: Row; readonly created: boolean }, NodeErrors["upsert"] | ConfigurationError, R>
  readonly bulkUpsert: (
    rows: Iterable<unknown>,
    options?: { readonly conflictOn?: ReadonlyArray<string>; readonly returnRecords?: boolean }
  ) => E.Effect<
    { readonly inserted: number; readonly updated: number; readonly records?: ReadonlyArray<Row> },
    NodeErrors["bulkUpsert"] | ConfigurationError,
    R
  >
}

/**
 * A locking read followed by an insert can deadlock with a concurrent one (MySQL gap locks),
 * or — where a read locks no absent row (PostgreSQL) — lose the insert to a concurrent one
 * (a UniqueViolation on the conflict target). When the node owns its transaction, the loser
 * simply runs again: it then sees the winner's row. Inside a caller's transaction the error
 * goes to the caller.
 */
const retryDeadlocks = <A, E, R>(ctx: NodeContext, self: E.Effect<A, E, R>, target?: ReadonlyArray<string>): E.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) => {
    if (inOwnTransaction(fiber.currentContext as Context.Context<never>, ctx.sql)) return self
    const columns = target === undefined
      ? undefined
      : Build.conflictColumns(ctx.statements, target).map((c) => c.column.name).sort().join(",")
    const lostRace = (e: unknown) =>
      columns !== undefined && e instanceof UniqueViolation && [...e.columns].sort().join(",") === columns
    // no delay (and so no dependence on the Clock): the retry blocks on the winner's locks
    return Effect.retry(self, { times: 8, while: (e) => (e instanceof DatabaseError && e.retryable) || lostRace(e) })
  })

/** One row of a bulkUpsert, ready to write: its insert columns and parameters, its key. */
interface UpsertRow {
  readonly columns: ReadonlyArray<DialectColumn>
  readonly params: ReadonlyArray<unknown>
  /** The conflict key's values as the row gives them (duplicates in one input: last wins). */
  readonly key: ReadonlyArray<unknown>
}

/**
 * Validates and encodes upsert rows: in one pass without records when every row allows it,
 * else through records (constructor defaults, explicit generated keys, the error of a bad row).
 */
const prepareRows = (
  ctx: NodeContext,
  input: ReadonlyArray<unknown>,
  keys: ReadonlyArray<string>,
  time: Date,
  operation: string
): Either.Either<ReadonlyArray<UpsertRow>, ValidationError> => {
  const s = ctx.statements
  const def = s.definition
  const keyOf = (row: Row, rowIndex: number) => {
    const key: Array<unknown> = []
    for (const k of keys) {
      const v = row[k]
      if (v === undefined || v === null) return validation(def, operation, k, "a conflict key needs a value", rowIndex)
      key.push(v)
    }
    return key
  }
  const encode = s.encodeNew
  if (encode !== undefined) {
    const out: Array<UpsertRow> = []
    for (let i = 0; i < input.length; i++) {
      const params: Array<unknown> = []
      if (!encode(input[i], time, ctx.tenant, params)) break
      const key = keyOf(input[i] as Row, i)
      if (key instanceof ValidationError) return Either.left(key)
      out.push({ columns: s.newColumns, params, key })
    }
    if (out.length === input.length) return Either.right(out)
  }
  const out: Array<UpsertRow> = []
  for (let i = 0; i < input.length; i++) {
    const prepared = prepareCreate(def, input[i], operation, i)
    if (Either.isLeft(prepared)) return Either.left(prepared.left)
    const record = stamp(def, prepared.right, time, ctx.tenant)
    const key = keyOf(record, i)
    if (key instanceof ValidationError) return Either.left(key)
    const columns = def.autoIncrement && record[def.pk.field] === undefined ? s.newColumns : s.keyedColumns
    const params: Array<unknown> = []
    encodeRecord(columns, record, params)
    out.push({ columns, params, key })
  }
  return Either.right(out)
}

/** @internal */
export const make = <R>(def: ModelDefinition): UpsertNodes<R> => {
  const pk = def.pk.field
  const keyFields = keyFieldsOf(def)

  /**
   * upsert, and createIgnore (`keep`: an existing record is returned as it is, not updated —
   * not even its `updatedAt`).
   */
  const upsertOrKeep = (args: Parameters<UpsertNodes<R>["upsert"]>[0], keep: boolean) =>
    Effect.gen(function*() {
      const operation = keep ? "createIgnore" : "upsert"
      if (!isRecord(args)) return yield* invalid(def, operation, "", "expected an object")
      const keys: Row = {}
      let created: Either.Either<Row, ValidationError>
      if (args.where !== undefined) {
        // the spelling before `conflictOn` (deprecated): `where` names the target and its values,
        // plain or { $eq: value }
        if (!isRecord(args.where)) return yield* invalid(def, operation, "where", "expected an object")
        if (args.conflictOn !== undefined) return yield* invalid(def, operation, "conflictOn", "cannot be combined with where")
        for (const [k, v] of Object.entries(args.where)) {
          const value = isRecord(v) && Object.keys(v).length === 1 && "$eq" in v ? v.$eq : v
          if (value === null || value === undefined) return yield* invalid(def, operation, `where.${k}`, "a conflict key needs a value")
          keys[k] = value
        }
        const target = conflictTarget(def, Object.keys(keys), operation)
        if (Either.isLeft(target)) return yield* target.left
        created = prepareCreate(def, { ...(isRecord(args.create) ? args.create : {}), ...keys }, operation)
        if (Either.isLeft(created)) return yield* created.left
      } else {
        // `conflictOn` names the target (default: the primary key); `create` holds its values
        if (args.conflictOn !== undefined && !Array.isArray(args.conflictOn)) {
          return yield* invalid(def, operation, "conflictOn", "expected an array of field names")
        }
        const target = conflictTarget(def, args.conflictOn ?? keyFields, operation)
        if (Either.isLeft(target)) return yield* target.left
        created = prepareCreate(def, args.create, operation)
        if (Either.isLeft(created)) return yield* created.left
        for (const k of target.right) {
          const value = created.right[k]
          if (value === null || value === undefined) return yield* invalid(def, operation, `create.${k}`, "a conflict key needs a value")
          keys[k] = value
        }
      }
      const patch = preparePatch(def, args.update ?? {}, operation)
      if (Either.isLeft(patch)) return yield* patch.left
      const ctx = yield* context<R>(def, operation)
      const s = ctx.statements
      const time = yield* now
      const record = stamp(def, created.right, time, ctx.tenant)
      const errors = typedErrors(s, operation)
      // one statement where the database says what it did; arithmetic updates go the other way,
      // where updateById checks their results
      if (!keep && s.dialect.upsertInsertedFlag !== undefined && !def.softDelete && !Object.values(patch.right).some(isArith)) {
        const params = new Params(s.dialect)
        const text = Build.upsertReturningFlag(s, params, {
          columns: def.autoIncrement && record[pk] === undefined ? s.newColumns : s.keyedColumns,
          record,
          conflict: Build.conflictColumns(s, Object.keys(keys)),
          patch: patch.right,
          now: time
        })
        const rows = yield* errors(execute(ctx, text, params.values))
        return { record: s.decode.decode(rows[0]!), created: rows[0]!.__created === true }
      }
      // read-then-write in one transaction: the locking read makes it atomic on MySQL and
      // PostgreSQL, SQLite's single writer makes it atomic there. A soft-deleted match is
      // replaced by the new record (reported as created).
      const params = new Params(s.dialect)
      const matching = where(s, keys, params, { operation, includeDeleted: true, tenant: ctx.tenant, relationTenant: ctx.relationTenant })
      if (Either.isLeft(matching)) return yield* matching.left
      const lookup = Build.lockingLookup(s, matching.right.sql)
      return yield* retryDeadlocks(
        ctx,
        transaction(
          ctx,
          errors(Effect.gen(function*() {
            const existing = yield* execute(ctx, lookup, params.values)
            if (existing.length === 0) return { record: yield* insertOne(ctx, record), created: true }
            const id = Build.keyOfRow(s, existing[0]!, "id")
            if (existing[0]!.deleted !== null && existing[0]!.deleted !== undefined) {
              // revive: the whole new record replaces the deleted one
              const replacement = { ...record }
              for (const f of keyFields) delete replacement[f]
              const revive = new Params(s.dialect)
              yield* executeRaw(ctx, Build.revive(s, revive, { id, tenant: ctx.tenant }, replacement), revive.values)
              return { record: Option.getOrThrow(yield* selectOne(ctx, id, false)), created: true }
            }
            const updated = keep ? yield* selectOne(ctx, id, false) : yield* updateById(ctx, id, patch.right)
            return { record: Option.getOrThrow(updated), created: false }
          }))
        ),
        Object.keys(keys)
      )
    })

  const upsertSpan = traced(def, "upsert")
  const upsert: UpsertNodes<R>["upsert"] = (args) => upsertSpan(upsertOrKeep(args, false))

  const ignoreSpan = traced(def, "createIgnore")
  const createIgnore: UpsertNodes<R>["createIgnore"] = (input, options = {}) =>
    ignoreSpan(upsertOrKeep({ create: input, ...(options.conflictOn === undefined ? {} : { conflictOn: options.conflictOn }) }, true))

  const bulkSpan = traced(def, "bulkUpsert")
  const bulkUpsert: UpsertNodes<R>["bulkUpsert"] = (rows, options = {}) =>
    bulkSpan(Effect.gen(function*() {
      const operation = "bulkUpsert"
      if (options.conflictOn !== undefined && !Array.isArray(options.conflictOn)) {
        return yield* invalid(def, operation, "conflictOn", "expected an array of field names")
      }
      const target = conflictTarget(def, options.conflictOn ?? keyFields, operation)
      if (Either.isLeft(target)) return yield* target.left
      const keys = target.right
      const ctx = yield* context<R>(def, operation)
      const s = ctx.statements
      const time = yield* now
      const prepared = prepareRows(ctx, Array.isArray(rows) ? rows : [...rows], keys, time, operation)
      if (Either.isLeft(prepared)) return yield* prepared.left
      // last row wins for duplicate keys inside one input
      const byKey = new Map<unknown, UpsertRow>()
      for (const r of prepared.right) {
        const key = keys.length === 1 && typeof r.key[0] !== "object" ? r.key[0] : keyText(r.key)
        byKey.delete(key)
        byKey.set(key, r)
      }
      // one order of keys for every writer: concurrent upserts of overlapping keys then lock
      // rows in the same order instead of deadlocking
      const unique = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key))
      yield* Effect.annotateCurrentSpan("dataflow.rows", unique.length)
      const returning = options.returnRecords === true
      if (unique.length === 0) return returning ? { inserted: 0, updated: 0, records: [] } : { inserted: 0, updated: 0 }
      const conflict = Build.conflictColumns(s, keys)
      const withTenant = (key: ReadonlyArray<unknown>) => (ctx.tenant === undefined ? key : [ctx.tenant, ...key])
      const flag = s.dialect.upsertInsertedFlag !== undefined && !def.softDelete
      const work = Effect.gen(function*() {
        let existing = 0
        if (!flag) {
          const size = Build.rowsPerStatement(s, conflict.length)
          for (let start = 0; start < unique.length; start += size) {
            const params = new Params(s.dialect)
            const text = Build.existingKeys(s, params, conflict, unique.slice(start, start + size).map((r) => withTenant(r.key)))
            existing += (yield* execute(ctx, text, params.values)).length
          }
        }
        let inserted = 0
        // one group per insert column list (rows naming a generated key or not)
        for (const columns of new Set(unique.map((r) => r.columns))) {
          const group = unique.filter((r) => r.columns === columns)
          const size = Build.rowsPerInsert(s, columns.length)
          for (let start = 0; start < group.length; start += size) {
            if (start > 0) yield* yieldToEventLoop
            const chunk = group.slice(start, start + size)
            const values: Array<unknown> = []
            for (const r of chunk) for (const v of r.params) values.push(v)
            const statement = Build.upsertRows(s, { columns, values, rows: chunk.length, conflict, flag })
            if (flag) {
              const out = yield* execute(ctx, statement.text, statement.params)
              inserted += out.filter((r) => r.__created === true).length
            } else {
              yield* executeRaw(ctx, statement.text, statement.params)
            }
          }
        }
        const counts = flag
          ? { inserted, updated: unique.length - inserted }
          : { inserted: unique.length - existing, updated: existing }
        if (!returning) return counts
        // the stored records, read back by key in the same transaction, in input order (the
        // row that won for a repeated key)
        const stored = new Map<string, Row>()
        const size = Build.rowsPerStatement(s, conflict.length)
        for (let start = 0; start < unique.length; start += size) {
          const params = new Params(s.dialect)
          const text = Build.selectByKeys(s, params, conflict, unique.slice(start, start + size).map((r) => withTenant(r.key)))
          for (const row of yield* execute(ctx, text, params.values)) {
            const record = s.decode.decode(row)
            stored.set(keyText(keys.map((k) => record[k])), record)
          }
        }
        return { ...counts, records: [...byKey.values()].map((r) => stored.get(keyText(r.key))!) }
      })
      return yield* retryDeadlocks(ctx, transaction(ctx, typedErrors(s, operation)(work)))
    }))

  return { upsert, createIgnore, bulkUpsert }
}

