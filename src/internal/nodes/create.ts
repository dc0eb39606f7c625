/**
 * The creating nodes: create, and bulkCreate of any number of rows (an array, any Iterable, a
 * Stream) validated and written chunk by chunk in one transaction. The common rows go through
 * the one-pass encoder; a chunk with a row that needs more (an error to word, an explicit
 * generated key, defaults, records to return) takes the record path. Both use the same checks
 * and stamping (`model/validate.ts`, `model/rows.ts`).
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import type { Effect as E } from "effect"
import { Chunk, Effect, Either, Option, Stream } from "effect"
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
import { invalid, now, traced, typedErrors, yieldToEventLoop } from "./shared.js"
import type { NodeErrors } from "./types.js"

/** @internal */
export interface CreateNodes<R> {
  readonly create: (input: unknown) => E.Effect<Row, NodeErrors["create"] | ConfigurationError, R>
  readonly bulkCreate: <SE = never, SR = never, PE = never, PR = never>(
    rows: Iterable<unknown> | Stream.Stream<unknown, SE, SR>,
    options?: { readonly returnRecords?: boolean } & BulkCreateOptions<PE, PR>
  ) => E.Effect<
    { readonly inserted: number; readonly records?: ReadonlyArray<Row> },
    NodeErrors["bulkCreate"] | ConfigurationError | SE | PE,
    R | SR | PR
  >
}

const isStream = <A, E, R>(rows: Iterable<A> | Stream.Stream<A, E, R>): rows is Stream.Stream<A, E, R> =>
  typeof rows === "object" && rows !== null && Stream.StreamTypeId in rows

/** The insert columns of a record: with its key, or without a generated one. */
const insertColumns = (ctx: NodeContext, record: Row): ReadonlyArray<DialectColumn> =>
  ctx.statements.definition.autoIncrement && record[ctx.statements.definition.pk.field] === undefined
    ? ctx.statements.newColumns
    : ctx.statements.keyedColumns

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
      selectOne(ctx, record[s.definition.pk.field] ?? s.pk.fromDb(s.dialect.insertId(raw)), true)
    ),
    Effect.map(Option.getOrThrow)
  )
}

/** Stored records by key, chunked under the parameter limit. */
const selectByIds = (ctx: NodeContext, ids: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const s = ctx.statements
    const found = new Map<string, Row>()
    const size = Build.rowsPerStatement(s, 1)
    for (let start = 0; start < ids.length; start += size) {
      const params = new Params(s.dialect)
      const text = Build.selectByIds(s, params, ids.slice(start, start + size), ctx.tenant)
      for (const row of yield* execute(ctx, text, params.values)) {
        const record = s.decode.decode(row)
        found.set(String(record[s.definition.pk.field]), record)
      }
    }
    return found
  })

/** Inserts validated, stamped records in chunks; the stored records when asked. */
const insertMany = (ctx: NodeContext, records: ReadonlyArray<Row>, returning: boolean) =>
  Effect.gen(function*() {
    const s = ctx.statements
    const pk = s.definition.pk.field
    const out: Array<Row | undefined> = returning ? new Array(records.length) : []
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
        const insert = Build.insertRows(s, columns, values, indices.length)
        yield* executeRaw(ctx, insert.text, insert.params)
        continue
      }
      const size = Build.rowsPerStatement(s, columns.length)
      for (let start = 0; start < indices.length; start += size) {
        const chunk = indices.slice(start, start + size)
        const params: Array<unknown> = []
        for (const i of chunk) encodeRecord(columns, records[i]!, params)
        const text = Build.insertValues(s, columns, chunk.length, useReturning)
        if (useReturning) {
          const rows = yield* execute(ctx, text, params)
          rows.forEach((r, k) => (out[chunk[k]!] = s.decode.decode(r)))
        } else {
          const raw = yield* executeRaw(ctx, text, params)
          if (returning) {
            // MySQL hands out consecutive AUTO_INCREMENT values to one multi-row INSERT
            const first = Number(s.dialect.insertId(raw))
            const explicit = columns === s.keyedColumns
            const ids = chunk.map((i, k) => (explicit ? records[i]![pk] : first + k))
            const found = yield* selectByIds(ctx, ids)
            chunk.forEach((i, k) => (out[i] = found.get(String(ids[k]))))
          }
        }
      }
    }
    return out as ReadonlyArray<Row>
  })

/** @internal */
export const make = <R>(def: ModelDefinition): CreateNodes<R> => {
  const createSpan = traced(def, "create")
  const create: CreateNodes<R>["create"] = (input) =>
    createSpan(Effect.gen(function*() {
      const record = prepareCreate(def, input, "create")
      if (Either.isLeft(record)) return yield* record.left
      const ctx = yield* context<R>(def, "create")
      const time = yield* now
      return yield* typedErrors(ctx.statements, "create")(insertOne(ctx, stamp(def, record.right, time, ctx.tenant)))
    }))

  const bulkSpan = traced(def, "bulkCreate")
  const bulkCreate: CreateNodes<R>["bulkCreate"] = (rows, options = {}) =>
    bulkSpan(Effect.gen(function*() {
      const returning = options.returnRecords === true
      if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
        return yield* invalid(def, "bulkCreate", "onProgress", "expected a function")
      }
      if (Array.isArray(rows) && rows.length === 0) {
        yield* Effect.annotateCurrentSpan("dataflow.rows", 0)
        return returning ? { inserted: 0, records: [] } : { inserted: 0 }
      }
      const ctx = yield* context<R>(def, "bulkCreate")
      const s = ctx.statements
      const time = yield* now
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
          if (!returning && encode !== undefined) {
            const params: Array<unknown> = []
            let encoded = 0
            while (encoded < chunk.length && encode(chunk[encoded], time, ctx.tenant, params)) encoded++
            if (encoded === chunk.length) {
              const insert = Build.insertRows(s, s.newColumns, params, encoded)
              yield* executeRaw(ctx, insert.text, insert.params)
              inserted += encoded
              if (options.onProgress !== undefined) yield* options.onProgress(inserted)
              return yield* yieldToEventLoop
            }
          }
          const records: Array<Row> = []
          for (const row of chunk) {
            const prepared = prepareCreate(def, row, "bulkCreate", inserted + records.length)
            if (Either.isLeft(prepared)) return yield* prepared.left
            records.push(stamp(def, prepared.right, time, ctx.tenant))
          }
          const out = yield* insertMany(ctx, records, returning)
          if (returning) for (const r of out) stored.push(r)
          inserted += records.length
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
      yield* transaction(ctx, typedErrors(s, "bulkCreate")(work))
      yield* Effect.annotateCurrentSpan("dataflow.rows", inserted)
      return returning ? { inserted, records: stored } : { inserted }
    }))

  return { create, bulkCreate }
}
