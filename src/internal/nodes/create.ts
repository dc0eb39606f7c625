/**
 * The creating nodes: create, and bulkCreate of any number of rows (an array, any Iterable, a
 * Stream) validated and written chunk by chunk in one transaction. The common rows go through
 * the one-pass encoder; a chunk with a row that needs more (an error to word, an explicit
 * generated key, defaults, records to return) takes the record path. Both use the same checks
 * and stamping (`model/validate.ts`, `model/rows.ts`).
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as E from "effect/Effect"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ConfigurationError } from "../../Errors.js"
import type { BulkCreateOptions } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { DialectColumn } from "../sql/rows.js"
import { encodeRecord, stamp } from "../sql/rows.js"
import { prepareCreate } from "../model/validate.js"
import { context } from "../runtime/context.js"
import type { NodeContext } from "../runtime/executor.js"
import { execute, executeRaw, transaction } from "../runtime/executor.js"
import * as Build from "../sql/builders.js"
import { Params } from "../sql/params.js"
import { selectOne } from "./read.js"
import type { Row } from "./shared.js"
import { conflictTarget, invalid, keyFieldsOf, keyText, now, traced, typedErrors, yieldToEventLoop } from "./shared.js"
import type { NodeErrors } from "./types.js"

/** @internal */
export interface CreateNodes<R> {
  readonly create: (input: unknown) => E.Effect<Row, NodeErrors["create"] | ConfigurationError, R>
  readonly bulkCreate: <SE = never, SR = never, PE = never, PR = never>(
    rows: Iterable<unknown> | Stream.Stream<unknown, SE, SR>,
    options?: { readonly returnRecords?: boolean } & BulkCreateOptions<PE, PR> & SkipOptions
  ) => E.Effect<
    { readonly inserted: number; readonly skipped?: number; readonly records?: ReadonlyArray<Row> },
    NodeErrors["bulkCreate"] | ConfigurationError | SE | PE,
    R | SR | PR
  >
}

/** @internal */
export interface SkipOptions {
  readonly onConflict?: "fail" | "skip"
  readonly conflictOn?: ReadonlyArray<string>
}

const isStream = <A, E, R>(rows: Iterable<A> | Stream.Stream<A, E, R>): rows is Stream.Stream<A, E, R> =>
  typeof rows === "object" && rows !== null && Stream.StreamTypeId in rows

/** The insert columns of a record: with its key, or without a generated one. */
const insertColumns = (ctx: NodeContext, record: Row): ReadonlyArray<DialectColumn> =>
  ctx.statements.definition.autoIncrement && record[ctx.statements.definition.pk.field] === undefined
    ? ctx.statements.newColumns
    : ctx.statements.keyedColumns

/** A record's primary key: its value, or the object of a composite key's fields. @internal */
export const recordKey = (def: ModelDefinition, record: Row): unknown => {
  if (!def.compositeKey) return record[def.pk.field]
  const key: Row = {}
  for (const c of def.key) key[c.field] = record[c.field]
  return key
}

/** A record's primary key as one text: the identity of its row in memory. */
const keyTextOf = (def: ModelDefinition, record: Row): string =>
  def.compositeKey ? keyText(def.key.map((c) => record[c.field])) : String(record[def.pk.field])

/** Inserts one validated, stamped record and returns it as stored. @internal */
export const insertOne = (ctx: NodeContext, record: Row): E.Effect<Row, SqlError> => {
  const s = ctx.statements
  const columns = insertColumns(ctx, record)
  const params: Array<unknown> = []
  encodeRecord(columns, record, params)
  if (s.dialect.supportsReturning) {
    return Effect.map(execute(ctx, Build.insertValues(s, columns, 1, true), params), (rows) => s.decode.decode(rows[0]!))
  }
  // no RETURNING (MySQL): the key given, or the one the database generated, read back
  return executeRaw(ctx, Build.insertValues(s, columns, 1, false), params).pipe(
    Effect.flatMap((raw) =>
      selectOne(ctx, recordKey(s.definition, record) ?? s.pk.fromDb(s.dialect.insertId(raw)), true)
    ),
    Effect.map(Option.getOrThrow)
  )
}

/** Stored records by key, chunked under the parameter limit. */
const selectByIds = (ctx: NodeContext, ids: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const s = ctx.statements
    const found = new Map<string, Row>()
    const size = Build.rowsPerStatement(s, s.key.length)
    for (let start = 0; start < ids.length; start += size) {
      const params = new Params(s.dialect)
      const text = Build.selectByIds(s, params, ids.slice(start, start + size), ctx.tenant)
      for (const row of yield* execute(ctx, text, params.values)) {
        const record = s.decode.decode(row)
        found.set(keyTextOf(s.definition, record), record)
      }
    }
    return found
  })

/**
 * Inserts validated, stamped records in chunks; how many were inserted, and the stored records
 * when asked. With an `onConflict` clause (rows conflicting on a unique key left out) the
 * records are the inserted ones, in input order.
 */
const insertMany = (ctx: NodeContext, records: ReadonlyArray<Row>, returning: boolean, onConflict = "") =>
  Effect.gen(function*() {
    const s = ctx.statements
    const def = s.definition
    const out: Array<Row | undefined> = returning && onConflict === "" ? new Array(records.length) : []
    let inserted = 0
    const useReturning = returning && s.dialect.supportsReturning
    // rows naming their key and rows without a generated one have different column lists
    const groups = new Map<ReadonlyArray<DialectColumn>, Array<number>>()
    records.forEach((r, i) => {
      const columns = insertColumns(ctx, r)
      const group = groups.get(columns)
      if (group === undefined) groups.set(columns, [i])
      else group.push(i)
    })
    for (const [columns, indices] of groups) {
      if (!returning && s.dialect.arrayInsert !== undefined) {
        // one array parameter per column: the whole chunk in one statement
        const values: Array<unknown> = []
        for (const i of indices) encodeRecord(columns, records[i]!, values)
        const insert = Build.insertRows(s, columns, values, indices.length, onConflict)
        inserted += s.dialect.affectedRows(yield* executeRaw(ctx, insert.text, insert.params))
        continue
      }
      const size = Build.rowsPerStatement(s, columns.length)
      for (let start = 0; start < indices.length; start += size) {
        const chunk = indices.slice(start, start + size)
        const params: Array<unknown> = []
        for (const i of chunk) encodeRecord(columns, records[i]!, params)
        const text = Build.insertValues(s, columns, chunk.length, useReturning, onConflict)
        if (useReturning) {
          const rows = yield* execute(ctx, text, params)
          inserted += rows.length
          // every row comes back unless conflicting rows were left out: then the ones inserted
          if (onConflict === "") rows.forEach((r, k) => (out[chunk[k]!] = s.decode.decode(r)))
          else for (const r of rows) out.push(s.decode.decode(r))
        } else {
          const raw = yield* executeRaw(ctx, text, params)
          inserted += s.dialect.affectedRows(raw)
          if (returning) {
            // MySQL hands out consecutive AUTO_INCREMENT values to one multi-row INSERT
            const first = Number(s.dialect.insertId(raw))
            const explicit = columns === s.keyedColumns
            const ids = chunk.map((i, k) => (explicit ? recordKey(def, records[i]!) : first + k))
            const found = yield* selectByIds(ctx, ids)
            chunk.forEach((i, k) => (out[i] = found.get(explicit ? keyTextOf(def, records[i]!) : String(ids[k]))))
          }
        }
      }
    }
    return { inserted, records: out as ReadonlyArray<Row> }
  })

/**
 * The rows of a chunk that would not conflict on any of `targets` (each a unique key's
 * columns), where the database cannot leave conflicting rows out itself: the keys already
 * stored are read with a locking read (live and soft-deleted rows alike), and of rows sharing a
 * key inside the chunk the first is kept. Rows with a NULL in a key never conflict on it.
 */
const withoutConflicts = (ctx: NodeContext, records: ReadonlyArray<Row>, targets: ReadonlyArray<ReadonlyArray<DialectColumn>>) =>
  Effect.gen(function*() {
    const s = ctx.statements
    let kept = records
    for (const conflict of targets) {
      const keyed: Array<{ readonly record: Row; readonly key: ReadonlyArray<unknown> }> = []
      const open: Array<Row> = []
      for (const record of kept) {
        const key = conflict.map((c) => record[c.column.field])
        if (key.some((v) => v === undefined || v === null)) open.push(record)
        else keyed.push({ record, key })
      }
      const stored = new Set<string>()
      const size = Build.rowsPerStatement(s, conflict.length)
      for (let start = 0; start < keyed.length; start += size) {
        const params = new Params(s.dialect)
        const text = Build.conflictingKeys(s, params, conflict, keyed.slice(start, start + size).map((k) => k.key))
        for (const row of yield* execute(ctx, text, params.values)) {
          stored.add(keyText(conflict.map((c) => c.fromDb(row[c.column.name]))))
        }
      }
      const seen = new Set<string>()
      const next = new Set<Row>(open)
      for (const { key, record } of keyed) {
        const text = keyText(key)
        if (stored.has(text) || seen.has(text)) continue
        seen.add(text)
        next.add(record)
      }
      // input order
      kept = kept.filter((r) => next.has(r))
    }
    return kept
  })

/** @internal */
export const make = <R>(def: ModelDefinition): CreateNodes<R> => {
  const createSpan = traced(def, "create")
  const create: CreateNodes<R>["create"] = (input) =>
    // no generator per call: a single-row node's Effect steps are its cost (see docs/performance.md)
    createSpan(Effect.suspend((): E.Effect<Row, NodeErrors["create"] | ConfigurationError, R> => {
      const record = prepareCreate(def, input, "create")
      if (Either.isLeft(record)) return Effect.fail(record.left)
      return Effect.flatMap(context<R>(def, "create"), (ctx) =>
        Effect.flatMap(now, (time) =>
          typedErrors(ctx.statements, "create")(insertOne(ctx, stamp(def, record.right, time, ctx.tenant)))))
    }))

  const bulkSpan = traced(def, "bulkCreate")
  const bulkCreate: CreateNodes<R>["bulkCreate"] = (rows, options = {}) =>
    bulkSpan(Effect.gen(function*() {
      const operation = "bulkCreate"
      const returning = options.returnRecords === true
      if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
        return yield* invalid(def, operation, "onProgress", "expected a function")
      }
      if (options.onConflict !== undefined && options.onConflict !== "fail" && options.onConflict !== "skip") {
        return yield* invalid(def, operation, "onConflict", `expected "fail" or "skip"`)
      }
      const skip = options.onConflict === "skip"
      if (options.conflictOn !== undefined && !skip) {
        return yield* invalid(def, operation, "conflictOn", `needs onConflict: "skip"`)
      }
      if (options.conflictOn !== undefined && !Array.isArray(options.conflictOn)) {
        return yield* invalid(def, operation, "conflictOn", "expected an array of field names")
      }
      const target = options.conflictOn === undefined ? undefined : conflictTarget(def, options.conflictOn, operation)
      if (target !== undefined && Either.isLeft(target)) return yield* target.left
      const counts = (inserted: number, skipped: number, records: ReadonlyArray<Row>) => ({
        inserted,
        ...(skip ? { skipped } : {}),
        ...(returning ? { records } : {})
      })
      if (Array.isArray(rows) && rows.length === 0) {
        yield* Effect.annotateCurrentSpan("dataflow.rows", 0)
        return counts(0, 0, [])
      }
      const ctx = yield* context<R>(def, operation)
      const s = ctx.statements
      const time = yield* now
      // skipping conflicts: the dialect's clause (ON CONFLICT DO NOTHING), or a check of the
      // keys before the insert (every unique key of the model, or the one named)
      const targetColumns = target === undefined ? undefined : Build.conflictColumns(s, target.right)
      const clause = skip ? Build.skipConflicts(s, targetColumns) : ""
      const checks = skip && clause === undefined
        ? targetColumns !== undefined
          ? [targetColumns]
          : [keyFieldsOf(def), ...def.uniqueSets].map((fields) => Build.conflictColumns(s, fields))
        : undefined
      let skipped = 0
      // rows are validated and written chunk by chunk inside one transaction: memory stays
      // flat for any number of rows, and a bad row anywhere rolls back everything
      const size = returning ? Build.rowsPerStatement(s, s.columns.length) : Build.rowsPerInsert(s, s.columns.length)
      const stored: Array<Row> = []
      let inserted = 0
      const writeChunk = (chunk: ReadonlyArray<unknown>) =>
        Effect.gen(function*() {
          // the common case: every row valid, none naming its generated key — validated and
          // encoded in one pass, no records built
          const encode = s.encodeNew
          if (!returning && checks === undefined && encode !== undefined) {
            const params: Array<unknown> = []
            let encoded = 0
            while (encoded < chunk.length && encode(chunk[encoded], time, ctx.tenant, params)) encoded++
            if (encoded === chunk.length) {
              const insert = Build.insertRows(s, s.newColumns, params, encoded, clause)
              const raw = yield* executeRaw(ctx, insert.text, insert.params)
              const written = skip ? s.dialect.affectedRows(raw) : encoded
              inserted += written
              skipped += encoded - written
              if (options.onProgress !== undefined) yield* options.onProgress(inserted)
              return yield* yieldToEventLoop
            }
          }
          const records: Array<Row> = []
          for (const row of chunk) {
            const prepared = prepareCreate(def, row, operation, inserted + skipped + records.length)
            if (Either.isLeft(prepared)) return yield* prepared.left
            records.push(stamp(def, prepared.right, time, ctx.tenant))
          }
          const kept = checks === undefined ? records : yield* withoutConflicts(ctx, records, checks)
          const out = yield* insertMany(ctx, kept, returning, clause)
          if (returning) for (const r of out.records) stored.push(r)
          // without a conflict clause every row was inserted (a driver may count a row twice)
          const written = clause === "" ? kept.length : out.inserted
          inserted += written
          skipped += records.length - written
          if (options.onProgress !== undefined) yield* options.onProgress(inserted)
          yield* yieldToEventLoop
        })
      const work = isStream(rows)
        ? Stream.runForEachChunk(Stream.rechunk(rows, size), (chunk) => writeChunk(Chunk.toReadonlyArray(chunk)))
        : Effect.gen(function*() {
          let chunk: Array<unknown> = []
          for (const row of rows) {
            chunk.push(row)
            if (chunk.length === size) {
              yield* writeChunk(chunk)
              chunk = []
            }
          }
          if (chunk.length > 0) yield* writeChunk(chunk)
        })
      // errors are classified inside the transaction, so that it sees a lost connection as one
      yield* transaction(ctx, typedErrors(s, operation)(work))
      yield* Effect.annotateCurrentSpan("dataflow.rows", inserted)
      return counts(inserted, skipped, stored)
    }))

  return { create, bulkCreate }
}
