/**
 * The generated nodes, written once over a model's metadata.
 * @internal
 */
import type { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Option } from "effect"
import type { DatabaseError } from "../Errors.js"
import { ConflictTargetError, NotFound, UnsafeOperation, ValidationError } from "../Errors.js"
import type { Context, Def, WriteFailure } from "./core.js"
import {
  checkId,
  compileWhere,
  context,
  decodeRow,
  encodeRow,
  nowDate,
  prepareCreate,
  preparePatch,
  whereText,
  writeError
} from "./core.js"

type Row = Record<string, unknown>
type Eff<A, E> = Effect.Effect<A, E, SqlClient.SqlClient>

/** @internal */
export interface ListQuery {
  readonly where?: unknown
  readonly orderBy?: ReadonlyArray<string>
  readonly limit?: number
  readonly offset?: number
}

/** @internal */
export interface Nodes {
  readonly create: (input: unknown) => Eff<Row, unknown>
  readonly read: (id: unknown) => Eff<Row, unknown>
  readonly find: (id: unknown) => Eff<Option.Option<Row>, unknown>
  readonly update: (id: unknown, patch: unknown) => Eff<Row, unknown>
  readonly delete: (id: unknown) => Eff<{ readonly deleted: boolean }, unknown>
  readonly list: (query?: ListQuery) => Eff<{ readonly records: ReadonlyArray<Row> }, unknown>
  readonly count: (where?: unknown) => Eff<number, unknown>
  readonly upsert: (args: { readonly where: unknown; readonly create?: unknown; readonly update?: unknown }) => Eff<
    { readonly record: Row; readonly created: boolean },
    unknown
  >
  readonly bulkCreate: (
    rows: Iterable<unknown>,
    options?: { readonly returnRecords?: boolean }
  ) => Eff<{ readonly inserted: number; readonly records?: ReadonlyArray<Row> }, unknown>
  readonly bulkUpdate: (
    where: unknown,
    patch: unknown,
    options?: { readonly confirm?: boolean }
  ) => Eff<{ readonly updated: number }, unknown>
  readonly bulkDelete: (where: unknown, options?: { readonly confirm?: boolean }) => Eff<{ readonly deleted: number }, unknown>
  readonly bulkUpsert: (
    rows: Iterable<unknown>,
    options?: { readonly conflictOn?: ReadonlyArray<string> }
  ) => Eff<{ readonly inserted: number; readonly updated: number }, unknown>
}

const MAX_ROWS_PER_STATEMENT = 1000

/** @internal */
export const make = (def: Def): Nodes => {
  const span = (node: string, extra?: Record<string, unknown>) =>
    Effect.withSpan(`dataflow.${def.name}.${node}`, {
      kind: "client",
      captureStackTrace: false,
      attributes: { "dataflow.model": def.name, "dataflow.node": node, "db.collection.name": def.table, ...extra }
    })
  const pk = def.pk.field
  const idOf = (id: unknown): string | number => (typeof id === "number" ? id : String(id))

  const fail = <E>(e: E) => Effect.fail(e)

  /** Stamps the managed timestamps on a validated create record. */
  const stamp = (record: Row, now: Date): Row =>
    def.timestamps ? { ...record, createdAt: now, updatedAt: now } : record

  const selectOne = (ctx: Context, id: unknown) =>
    Effect.map(ctx.query(ctx.c.selectById, [ctx.c.pk.toDb(id)]), (rows) =>
      rows.length === 0 ? Option.none<Row>() : Option.some(decodeRow(ctx.c, rows[0]!)))

  const insertableColumns = (ctx: Context, record: Row) =>
    def.autoIncrement && record[pk] === undefined ? ctx.c.all.filter((c) => c !== ctx.c.pk) : ctx.c.all

  /** Inserts one validated, stamped record and returns it as stored. */
  const insertOne = (ctx: Context, record: Row, operation: string): Eff<Row, WriteFailure> => {
    const columns = insertableColumns(ctx, record)
    const params: Array<unknown> = []
    encodeRow(columns, record, params)
    if (ctx.c.dialect.supportsReturning) {
      return ctx.query(ctx.c.insertText(columns, 1, true), params).pipe(
        Effect.map((rows) => decodeRow(ctx.c, rows[0]!)),
        Effect.mapError(writeError(def, ctx.c, operation))
      )
    }
    return ctx.raw(ctx.c.insertText(columns, 1, false), params).pipe(
      Effect.flatMap((raw) => {
        const id = record[pk] ?? ctx.c.pk.fromDb(ctx.c.dialect.insertId(raw))
        return selectOne(ctx, id)
      }),
      Effect.map(Option.getOrThrow),
      Effect.mapError(writeError(def, ctx.c, operation))
    )
  }

  const create: Nodes["create"] = (input) =>
    Effect.gen(function*() {
      const record = prepareCreate(def, input, "create")
      if (Either.isLeft(record)) return yield* fail(record.left)
      const ctx = yield* context(def, "create")
      const now = yield* nowDate
      return yield* insertOne(ctx, stamp(record.right, now), "create")
    }).pipe(span("create"))

  const find: Nodes["find"] = (id) =>
    Effect.gen(function*() {
      const invalid = checkId(def, id, "find")
      if (invalid !== undefined) return yield* fail(invalid)
      const ctx = yield* context(def, "find")
      return yield* selectOne(ctx, id).pipe(Effect.mapError(writeError(def, ctx.c, "find")))
    }).pipe(span("find"))

  const read: Nodes["read"] = (id) =>
    Effect.gen(function*() {
      const invalid = checkId(def, id, "read")
      if (invalid !== undefined) return yield* fail(invalid)
      const ctx = yield* context(def, "read")
      const found = yield* selectOne(ctx, id).pipe(Effect.mapError(writeError(def, ctx.c, "read")))
      if (Option.isNone(found)) return yield* fail(new NotFound({ model: def.name, operation: "read", id: idOf(id) }))
      return found.value
    }).pipe(span("read"))

  /** SET list for a validated patch, plus the bumped updatedAt. */
  const setClause = (ctx: Context, patch: Row, now: Date, params: Array<unknown>) => {
    const sets: Array<string> = []
    for (const key of Object.keys(patch)) {
      const col = ctx.c.byField.get(key)!
      params.push(col.toDb(patch[key]))
      sets.push(`${col.quoted} = ${ctx.c.dialect.placeholder(params.length)}`)
    }
    if (def.timestamps) {
      const col = ctx.c.byField.get("updatedAt")!
      params.push(col.toDb(now))
      sets.push(`${col.quoted} = ${ctx.c.dialect.placeholder(params.length)}`)
    }
    return sets
  }

  const updateById = (ctx: Context, id: unknown, patch: Row, operation: string): Eff<Option.Option<Row>, WriteFailure> =>
    Effect.gen(function*() {
      const now = yield* nowDate
      const params: Array<unknown> = []
      const sets = setClause(ctx, patch, now, params)
      if (sets.length === 0) return yield* selectOne(ctx, id)
      params.push(ctx.c.pk.toDb(id))
      const text = `UPDATE ${ctx.c.table} SET ${sets.join(", ")} WHERE ${ctx.c.pk.quoted} = ${
        ctx.c.dialect.placeholder(params.length)
      }`
      if (ctx.c.dialect.supportsReturning) {
        const rows = yield* ctx.query(`${text} RETURNING ${ctx.c.selectList}`, params)
        return rows.length === 0 ? Option.none() : Option.some(decodeRow(ctx.c, rows[0]!))
      }
      // no RETURNING on MySQL: write and read back in one transaction
      return yield* ctx.sql.withTransaction(Effect.zipRight(ctx.raw(text, params), selectOne(ctx, id)))
    }).pipe(Effect.mapError(writeError(def, ctx.c, operation)))

  const update: Nodes["update"] = (id, patchInput) =>
    Effect.gen(function*() {
      const invalid = checkId(def, id, "update")
      if (invalid !== undefined) return yield* fail(invalid)
      const patch = preparePatch(def, patchInput, "update")
      if (Either.isLeft(patch)) return yield* fail(patch.left)
      const ctx = yield* context(def, "update")
      const updated = yield* updateById(ctx, id, patch.right, "update")
      if (Option.isNone(updated)) {
        return yield* fail(new NotFound({ model: def.name, operation: "update", id: idOf(id) }))
      }
      return updated.value
    }).pipe(span("update"))

  const del: Nodes["delete"] = (id) =>
    Effect.gen(function*() {
      const invalid = checkId(def, id, "delete")
      if (invalid !== undefined) return yield* fail(invalid)
      const ctx = yield* context(def, "delete")
      const raw = yield* ctx.raw(ctx.c.deleteById, [ctx.c.pk.toDb(id)]).pipe(
        Effect.mapError(writeError(def, ctx.c, "delete"))
      )
      return { deleted: ctx.c.dialect.affectedRows(raw) > 0 }
    }).pipe(span("delete"))

  const orderClause = (ctx: Context, orderBy: ReadonlyArray<string> | undefined, operation: string) => {
    const terms: Array<string> = []
    let hasPk = false
    for (const entry of orderBy ?? []) {
      const desc = typeof entry === "string" && entry.startsWith("-")
      const field = typeof entry === "string" ? (desc ? entry.slice(1) : entry) : ""
      const col = ctx.c.byField.get(field)
      if (col === undefined) {
        return Either.left(new ValidationError({ model: def.name, operation, path: "orderBy", reason: `unknown field ${JSON.stringify(field)}` }))
      }
      if (col === ctx.c.pk) hasPk = true
      terms.push(ctx.c.dialect.orderTerm(col.quoted, desc ? "desc" : "asc"))
    }
    // the primary key breaks ties, so pages are stable
    if (!hasPk) terms.push(ctx.c.dialect.orderTerm(ctx.c.pk.quoted, "asc"))
    return Either.right(` ORDER BY ${terms.join(", ")}`)
  }

  const checkPaging = (value: number | undefined, name: string, operation: string) =>
    value === undefined || (Number.isSafeInteger(value) && value >= 0)
      ? undefined
      : new ValidationError({ model: def.name, operation, path: name, reason: "must be a non-negative integer" })

  const list: Nodes["list"] = (query = {}) =>
    Effect.gen(function*() {
      const badPage = checkPaging(query.limit, "limit", "list") ?? checkPaging(query.offset, "offset", "list")
      if (badPage !== undefined) return yield* fail(badPage)
      const ctx = yield* context(def, "list")
      const params: Array<unknown> = []
      const where = compileWhere(def, ctx.c, query.where, "list", params)
      if (Either.isLeft(where)) return yield* fail(where.left)
      const order = orderClause(ctx, query.orderBy, "list")
      if (Either.isLeft(order)) return yield* fail(order.left)
      const text = `SELECT ${ctx.c.selectList} FROM ${ctx.c.table}${whereText(where.right)}${order.right}${
        ctx.c.dialect.limitOffset(query.limit, query.offset)
      }`
      const rows = yield* ctx.query(text, params).pipe(Effect.mapError(writeError(def, ctx.c, "list")))
      return { records: rows.map((r) => decodeRow(ctx.c, r)) }
    }).pipe(span("list"))

  const count: Nodes["count"] = (whereInput) =>
    Effect.gen(function*() {
      const ctx = yield* context(def, "count")
      const params: Array<unknown> = []
      const where = compileWhere(def, ctx.c, whereInput, "count", params)
      if (Either.isLeft(where)) return yield* fail(where.left)
      const rows = yield* ctx.query(`SELECT COUNT(*) AS n FROM ${ctx.c.table}${whereText(where.right)}`, params).pipe(
        Effect.mapError(writeError(def, ctx.c, "count"))
      )
      return Number(rows[0]?.n ?? 0)
    }).pipe(span("count"))

  /** The conflict target must be the primary key or a declared unique constraint, exactly. */
  const conflictTarget = (fields: ReadonlyArray<string>, operation: string) => {
    const unknown = fields.find((f) => !def.byField.has(f))
    if (unknown !== undefined) {
      return Either.left(
        new ConflictTargetError({ model: def.name, operation, columns: [...fields], reason: `names unknown field ${unknown}` })
      )
    }
    const same = (set: ReadonlyArray<string>) => set.length === fields.length && set.every((f) => fields.includes(f))
    if (fields.length === 0 || !(same([pk]) || def.uniqueSets.some(same))) {
      return Either.left(
        new ConflictTargetError({
          model: def.name,
          operation,
          columns: [...fields],
          reason: "is not the primary key or a unique constraint of the model"
        })
      )
    }
    return Either.right(fields)
  }

  const upsert: Nodes["upsert"] = (args) =>
    Effect.gen(function*() {
      const whereInput = args.where
      if (typeof whereInput !== "object" || whereInput === null) {
        return yield* fail(new ValidationError({ model: def.name, operation: "upsert", path: "where", reason: "expected an object" }))
      }
      const where = whereInput as Row
      const target = conflictTarget(Object.keys(where), "upsert")
      if (Either.isLeft(target)) return yield* fail(target.left)
      for (const f of target.right) {
        if (where[f] === null || where[f] === undefined) {
          return yield* fail(new ValidationError({ model: def.name, operation: "upsert", path: `where.${f}`, reason: "a conflict key needs a value" }))
        }
      }
      const created = prepareCreate(def, { ...(args.create as Row | undefined), ...where }, "upsert")
      if (Either.isLeft(created)) return yield* fail(created.left)
      const patch = preparePatch(def, args.update ?? {}, "upsert")
      if (Either.isLeft(patch)) return yield* fail(patch.left)
      const ctx = yield* context(def, "upsert")
      const now = yield* nowDate
      const record = stamp(created.right, now)
      const { dialect } = ctx.c
      if (dialect.upsertReportsCreated) {
        const columns = insertableColumns(ctx, record)
        const params: Array<unknown> = []
        encodeRow(columns, record, params)
        const sets = setClause(ctx, patch.right, now, params)
        const conflict = target.right.map((f) => ctx.c.byField.get(f)!.quoted)
        if (sets.length === 0) sets.push(`${conflict[0]} = EXCLUDED.${conflict[0]}`)
        const text = `${ctx.c.insertText(columns, 1, false)} ON CONFLICT (${conflict.join(", ")}) DO UPDATE SET ${
          sets.join(", ")
        } RETURNING ${ctx.c.selectList}, (xmax = 0) AS "__created"`
        const rows = yield* ctx.query(text, params).pipe(Effect.mapError(writeError(def, ctx.c, "upsert")))
        return { record: decodeRow(ctx.c, rows[0]!), created: rows[0]!.__created === true }
      }
      // read-then-write in one transaction; the locking read makes it atomic on MySQL,
      // SQLite's single writer makes it atomic there
      const params: Array<unknown> = []
      const clauses = compileWhere(def, ctx.c, where, "upsert", params)
      if (Either.isLeft(clauses)) return yield* fail(clauses.left)
      const lookup = `SELECT ${ctx.c.pk.quoted} AS id FROM ${ctx.c.table}${whereText(clauses.right)}${
        dialect.limitOffset(1, undefined)
      }${dialect.lockingRead}`
      return yield* ctx.sql.withTransaction(
        Effect.gen(function*() {
          const existing = yield* ctx.query(lookup, params)
          if (existing.length > 0) {
            const id = ctx.c.pk.fromDb(existing[0]!.id)
            const updated = yield* updateById(ctx, id, patch.right, "upsert")
            return { record: Option.getOrThrow(updated), created: false }
          }
          return { record: yield* insertOne(ctx, record, "upsert"), created: true }
        })
      ).pipe(mapTxError(ctx, "upsert"))
    }).pipe(span("upsert"))

  /** Validates every row before anything is written; the error names the row. */
  const prepareRows = (rows: Iterable<unknown>, operation: string) => {
    const out: Array<Row> = []
    let index = 0
    for (const row of rows) {
      const prepared = prepareCreate(def, row, operation, index)
      if (Either.isLeft(prepared)) return Either.left(prepared.left)
      out.push(prepared.right)
      index++
    }
    return Either.right(out)
  }

  const rowsPerStatement = (ctx: Context, columns: number) =>
    Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(ctx.c.dialect.maxParams / columns)))

  /** Inserts records in chunks; returns the stored records when asked. */
  const insertMany = (ctx: Context, records: ReadonlyArray<Row>, returning: boolean, operation: string) =>
    Effect.gen(function*() {
      const out: Array<Row | undefined> = returning ? new Array(records.length) : []
      const useReturning = returning && ctx.c.dialect.supportsReturning
      for (const { columns, explicit, indices } of byColumnList(ctx, records)) {
        const size = rowsPerStatement(ctx, columns.length)
        for (let start = 0; start < indices.length; start += size) {
          const chunk = indices.slice(start, start + size)
          const params: Array<unknown> = []
          for (const i of chunk) encodeRow(columns, records[i]!, params)
          const text = ctx.c.insertText(columns, chunk.length, useReturning)
          if (useReturning) {
            const rows = yield* ctx.query(text, params)
            rows.forEach((r, k) => (out[chunk[k]!] = decodeRow(ctx.c, r)))
          } else {
            const raw = yield* ctx.raw(text, params)
            if (returning) {
              const first = ctx.c.dialect.insertId(raw)
              const ids = chunk.map((i, k) => explicit ? records[i]![pk] : Number(first) + k)
              const found = yield* selectByIds(ctx, ids)
              chunk.forEach((i, k) => (out[i] = found.get(String(ids[k]))))
            }
          }
        }
      }
      return out as ReadonlyArray<Row>
    }).pipe(Effect.mapError(writeError(def, ctx.c, operation)))

  /** Rows with and without an explicit generated key are inserted with different column lists. */
  const byColumnList = (ctx: Context, records: ReadonlyArray<Row>) => {
    const withKey: Array<number> = []
    const withoutKey: Array<number> = []
    records.forEach((r, i) => (def.autoIncrement && r[pk] === undefined ? withoutKey : withKey).push(i))
    return [
      { columns: ctx.c.all, explicit: true, indices: withKey },
      { columns: ctx.c.all.filter((c) => c !== ctx.c.pk), explicit: false, indices: withoutKey }
    ].filter((g) => g.indices.length > 0)
  }

  const selectByIds = (ctx: Context, ids: ReadonlyArray<unknown>) =>
    Effect.gen(function*() {
      const found = new Map<string, Row>()
      const size = rowsPerStatement(ctx, 1)
      for (let start = 0; start < ids.length; start += size) {
        const chunk = ids.slice(start, start + size)
        const marks = chunk.map((_, k) => ctx.c.dialect.placeholder(k + 1)).join(", ")
        const rows = yield* ctx.query(
          `SELECT ${ctx.c.selectList} FROM ${ctx.c.table} WHERE ${ctx.c.pk.quoted} IN (${marks})`,
          chunk.map((id) => ctx.c.pk.toDb(id))
        )
        for (const r of rows) {
          const rec = decodeRow(ctx.c, r)
          found.set(String(rec[pk]), rec)
        }
      }
      return found
    })

  const bulkCreate: Nodes["bulkCreate"] = (rows, options = {}) =>
    Effect.gen(function*() {
      const prepared = prepareRows(rows, "bulkCreate")
      if (Either.isLeft(prepared)) return yield* fail(prepared.left)
      yield* Effect.annotateCurrentSpan("dataflow.rows", prepared.right.length)
      if (prepared.right.length === 0) return options.returnRecords === true ? { inserted: 0, records: [] } : { inserted: 0 }
      const ctx = yield* context(def, "bulkCreate")
      const now = yield* nowDate
      const records = prepared.right.map((r) => stamp(r, now))
      const stored = yield* ctx.sql.withTransaction(insertMany(ctx, records, options.returnRecords === true, "bulkCreate"))
        .pipe(mapTxError(ctx, "bulkCreate"))
      return options.returnRecords === true ? { inserted: records.length, records: stored } : { inserted: records.length }
    }).pipe(span("bulkCreate"))

  /** Maps the SqlError a transaction adds (BEGIN/COMMIT), keeping the domain errors inside. */
  const mapTxError = (ctx: Context, operation: string) =>
  <A, E>(self: Effect.Effect<A, E | SqlError, SqlClient.SqlClient>) =>
    Effect.catchIf(self, (e): e is SqlError => e instanceof SqlError, (e) => Effect.fail(writeError(def, ctx.c, operation)(e)))

  const guardEmpty = (where: unknown, confirm: boolean | undefined, operation: string) => {
    const empty = where === undefined || where === null ||
      (typeof where === "object" && Object.values(where).every((v) => v === undefined))
    return empty && confirm !== true
      ? new UnsafeOperation({
        model: def.name,
        operation,
        reason: "an empty filter would touch every row; pass { confirm: true } to do that"
      })
      : undefined
  }

  const bulkUpdate: Nodes["bulkUpdate"] = (whereInput, patchInput, options = {}) =>
    Effect.gen(function*() {
      const unsafe = guardEmpty(whereInput, options.confirm, "bulkUpdate")
      if (unsafe !== undefined) return yield* fail(unsafe)
      const patch = preparePatch(def, patchInput, "bulkUpdate")
      if (Either.isLeft(patch)) return yield* fail(patch.left)
      const ctx = yield* context(def, "bulkUpdate")
      const now = yield* nowDate
      const params: Array<unknown> = []
      const sets = setClause(ctx, patch.right, now, params)
      const where = compileWhere(def, ctx.c, whereInput ?? undefined, "bulkUpdate", params)
      if (Either.isLeft(where)) return yield* fail(where.left)
      if (sets.length === 0) return { updated: 0 }
      const raw = yield* ctx.raw(`UPDATE ${ctx.c.table} SET ${sets.join(", ")}${whereText(where.right)}`, params).pipe(
        Effect.mapError(writeError(def, ctx.c, "bulkUpdate"))
      )
      const updated = ctx.c.dialect.affectedRows(raw)
      yield* Effect.annotateCurrentSpan("dataflow.rows", updated)
      return { updated }
    }).pipe(span("bulkUpdate"))

  const bulkDelete: Nodes["bulkDelete"] = (whereInput, options = {}) =>
    Effect.gen(function*() {
      const unsafe = guardEmpty(whereInput, options.confirm, "bulkDelete")
      if (unsafe !== undefined) return yield* fail(unsafe)
      const ctx = yield* context(def, "bulkDelete")
      const params: Array<unknown> = []
      const where = compileWhere(def, ctx.c, whereInput ?? undefined, "bulkDelete", params)
      if (Either.isLeft(where)) return yield* fail(where.left)
      const raw = yield* ctx.raw(`DELETE FROM ${ctx.c.table}${whereText(where.right)}`, params).pipe(
        Effect.mapError(writeError(def, ctx.c, "bulkDelete"))
      )
      const deleted = ctx.c.dialect.affectedRows(raw)
      yield* Effect.annotateCurrentSpan("dataflow.rows", deleted)
      return { deleted }
    }).pipe(span("bulkDelete"))

  const bulkUpsert: Nodes["bulkUpsert"] = (rows, options = {}) =>
    Effect.gen(function*() {
      const target = conflictTarget(options.conflictOn ?? [pk], "bulkUpsert")
      if (Either.isLeft(target)) return yield* fail(target.left)
      const prepared = prepareRows(rows, "bulkUpsert")
      if (Either.isLeft(prepared)) return yield* fail(prepared.left)
      const keys = target.right
      // last row wins for duplicate keys inside one input
      const byKey = new Map<string, Row>()
      for (let i = 0; i < prepared.right.length; i++) {
        const r = prepared.right[i]!
        const missing = keys.find((k) => r[k] === undefined || r[k] === null)
        if (missing !== undefined) {
          return yield* fail(new ValidationError({ model: def.name, operation: "bulkUpsert", path: missing, rowIndex: i, reason: "a conflict key needs a value" }))
        }
        const key = JSON.stringify(keys.map((k) => String(r[k])))
        byKey.delete(key)
        byKey.set(key, r)
      }
      const unique = [...byKey.values()]
      yield* Effect.annotateCurrentSpan("dataflow.rows", unique.length)
      if (unique.length === 0) return { inserted: 0, updated: 0 }
      const ctx = yield* context(def, "bulkUpsert")
      const now = yield* nowDate
      const records = unique.map((r) => stamp(r, now))
      const { dialect } = ctx.c
      const keyCols = keys.map((k) => ctx.c.byField.get(k)!)
      // on conflict: every column but the keys, the primary key and createdAt takes the new value
      const updateCols = ctx.c.all.filter((c) =>
        !keyCols.includes(c) && c !== ctx.c.pk && c.column.field !== "createdAt"
      ).map((c) => c.column.name)
      const conflictNames = keyCols.map((c) => c.column.name)
      const work = Effect.gen(function*() {
        let existing = 0
        if (!dialect.upsertReportsCreated) {
          const size = rowsPerStatement(ctx, keyCols.length)
          for (let start = 0; start < records.length; start += size) {
            const chunk = records.slice(start, start + size)
            const params: Array<unknown> = []
            let n = 0
            const tuples = chunk.map((r) => {
              for (const c of keyCols) params.push(c.toDb(r[c.column.field]))
              return `(${keyCols.map(() => dialect.placeholder(++n)).join(", ")})`
            })
            const lhs = keyCols.length === 1 ? keyCols[0]!.quoted : `(${keyCols.map((c) => c.quoted).join(", ")})`
            const found = yield* ctx.query(
              `SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ${ctx.c.table} WHERE ${lhs} IN (${
                tuples.join(", ")
              })${dialect.lockingRead}) AS existing_rows`,
              params
            )
            existing += Number(found[0]?.n ?? 0)
          }
        }
        let inserted = 0
        for (const { columns, indices } of byColumnList(ctx, records)) {
          const size = rowsPerStatement(ctx, columns.length)
          for (let start = 0; start < indices.length; start += size) {
            const chunk = indices.slice(start, start + size)
            const params: Array<unknown> = []
            for (const i of chunk) encodeRow(columns, records[i]!, params)
            const text = ctx.c.insertText(columns, chunk.length, false) +
              dialect.upsertFromInserted(conflictNames, updateCols)
            if (dialect.upsertReportsCreated) {
              const out = yield* ctx.query(`${text} RETURNING (xmax = 0) AS "__created"`, params)
              inserted += out.filter((r) => r.__created === true).length
            } else {
              yield* ctx.raw(text, params)
            }
          }
        }
        return dialect.upsertReportsCreated
          ? { inserted, updated: records.length - inserted }
          : { inserted: records.length - existing, updated: existing }
      })
      return yield* ctx.sql.withTransaction(work).pipe(Effect.mapError(writeError(def, ctx.c, "bulkUpsert")))
    }).pipe(span("bulkUpsert"))

  return { create, read, find, update, delete: del, list, count, upsert, bulkCreate, bulkUpdate, bulkDelete, bulkUpsert }
}

export type { DatabaseError }
