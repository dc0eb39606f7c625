/**
 * The generated nodes, written once over a model's metadata.
 * (Internal module: not part of the public API.)
 */
import { SqlError } from "@effect/sql/SqlError"
import type { Context as EffectContext } from "effect"
import type { Tracer } from "effect"
import { BigDecimal, Chunk, Context, Effect, Either, Option, Stream } from "effect"
import {
  ConflictTargetError,
  DatabaseError,
  InvalidCursor,
  NotFound,
  OptimisticLockError,
  UnsafeOperation,
  ValidationError
} from "../Errors.js"
import type { NodeContext, Def, WriteFailure } from "./core.js"
import {
  checkId,
  compileWhere,
  context,
  decodePlanOf,
  decodeRow,
  encodeRow,
  nowDate,
  prepareCreate,
  preparePatch,
  valueProblem,
  writeError
} from "./core.js"
import { builtInTracer, CursorKey, inOwnTransaction, NodeSpans } from "./client.js"
import * as Cursor from "./cursor.js"
import type { TransactionError } from "../Transaction.js"

type Row = Record<string, unknown>
// requirements are the model's (SqlClient or an instance, and the tenant): typed in Model.ts
type Eff<A, E = unknown> = Effect.Effect<A, E, unknown>

/** @internal */
export interface ReadOptions {
  readonly includeDeleted?: boolean
}

/** @internal */
export interface ListQuery extends ReadOptions {
  readonly where?: unknown
  readonly orderBy?: ReadonlyArray<string>
  readonly limit?: number
  readonly offset?: number
  readonly cursor?: string
  readonly select?: ReadonlyArray<string>
  readonly total?: boolean
}

/** @internal */
export interface ListResult {
  readonly records: ReadonlyArray<Row>
  readonly nextCursor?: string
  readonly total?: number
}

/** @internal */
export interface Nodes {
  readonly create: (input: unknown) => Eff<Row>
  readonly read: (id: unknown, options?: ReadOptions) => Eff<Row>
  readonly find: (id: unknown, options?: ReadOptions) => Eff<Option.Option<Row>>
  readonly list: (query?: ListQuery) => Eff<ListResult>
  readonly findFirst: (where?: unknown, options?: Omit<ListQuery, "where" | "limit" | "cursor">) => Eff<Option.Option<Row>>
  readonly count: (where?: unknown, options?: ReadOptions) => Eff<number>
  readonly bulkCreate: (
    rows: Iterable<unknown> | Stream.Stream<unknown, unknown, unknown>,
    options?: {
      readonly returnRecords?: boolean
      readonly onProgress?: (inserted: number) => Effect.Effect<void, unknown, unknown>
    }
  ) => Eff<{ readonly inserted: number; readonly records?: ReadonlyArray<Row> }>
  readonly update: (id: unknown, patch: unknown, options?: { readonly expectedVersion?: number }) => Eff<Row>
  readonly delete: (id: unknown) => Eff<{ readonly deleted: boolean }>
  readonly restore: (id: unknown) => Eff<{ readonly restored: boolean }>
  readonly upsert: (args: { readonly where: unknown; readonly create?: unknown; readonly update?: unknown }) => Eff<
    { readonly record: Row; readonly created: boolean }
  >
  readonly bulkUpdate: (
    where: unknown,
    patch: unknown,
    options?: { readonly confirm?: boolean }
  ) => Eff<{ readonly updated: number }>
  readonly bulkDelete: (where: unknown, options?: { readonly confirm?: boolean }) => Eff<{ readonly deleted: number }>
  readonly bulkUpsert: (
    rows: Iterable<unknown>,
    options?: { readonly conflictOn?: ReadonlyArray<string> }
  ) => Eff<{ readonly inserted: number; readonly updated: number }>
}

const MAX_ROWS_PER_STATEMENT = 1000

/**
 * Lets the event loop run (timers, I/O, other fibers) between the chunks of a bulk write: on a
 * synchronous driver (SQLite) a long write would otherwise hold it for its whole length, and
 * an interruption (a timeout) would only be seen at its end. Interrupted here, the write's
 * transaction rolls back.
 */
const yieldToEventLoop = Effect.async<void>((resume) => {
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

/** A total order of conflict keys (the same in every process). */
const compareKeys = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>): number => {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i])
    if (c !== 0) return c
  }
  return 0
}


/** @internal */
export const make = (def: Def): Nodes => {
  // one span per node call, its options built once per node
  const spanOptions = new Map<string, Tracer.SpanOptions>()
  const withSpan = <A, E, R>(node: string, self: Effect.Effect<A, E, R>) => {
    let options = spanOptions.get(node)
    if (options === undefined) {
      options = {
        kind: "client",
        captureStackTrace: false,
        attributes: { "dataflow.model": def.name, "dataflow.node": node, "db.collection.name": def.table }
      }
      spanOptions.set(node, options)
    }
    const traced = Effect.withSpan(self, `dataflow.${def.name}.${node}`, options)
    // Effect's built-in tracer records nothing anyone can read from outside the node, so the
    // span (most of a node's own cost on SQLite) is only made when a real tracer is installed
    // (OpenTelemetry, DevTools, a test's recording tracer)
    return Effect.tracerWith((tracer) =>
      tracer === builtInTracer
        ? self
        : Effect.withFiberRuntime<A, E, R>((fiber) =>
          Context.get(fiber.currentContext as Context.Context<never>, NodeSpans) ? traced : self
        )
    )
  }
  // an instance may hand out a client per tenant, held for the duration of the node
  const span = (node: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
    def.instance === undefined ? withSpan(node, self) : withSpan(node, Effect.scoped(self))
  const pk = def.pk.field
  const idOf = (id: unknown): string | number => (typeof id === "number" ? id : String(id))
  const fail = <E>(e: E) => Effect.fail(e)
  const invalid = (operation: string, path: string, reason: string) =>
    new ValidationError({ model: def.name, operation, path, reason })

  /** Stamps managed fields on a validated create record. */
  const stamp = (record: Row, now: Date, tenant: string | undefined): Row => {
    // records come fresh from validation: stamped in place
    const out = record
    if (def.tenantScoped) out.tenantId = tenant
    if (def.timestamps) {
      out.createdAt = now
      out.updatedAt = now
    }
    if (def.softDelete) out.deletedAt = null
    if (def.versioned) out.version = 1
    return out
  }

  /** Maps the SqlError a transaction adds (BEGIN/COMMIT/savepoints), keeping domain errors. */
  const mapSqlError = (ctx: NodeContext, operation: string) =>
  <A, E, R>(self: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, E | WriteFailure, R> =>
    Effect.catchIf(
      self,
      (e): e is SqlError => e instanceof SqlError,
      (e) => Effect.fail(writeError(def, ctx.c, operation)(e))
    )

  /** Parameters of the by-id statements: the key, then the tenant on tenant-scoped models. */
  const idParams = (ctx: NodeContext, id: unknown): ReadonlyArray<unknown> =>
    ctx.tenant === undefined ? [ctx.c.pk.toDb(id)] : [ctx.c.pk.toDb(id), ctx.tenant]

  const selectOne = (ctx: NodeContext, id: unknown, includeDeleted = false) =>
    Effect.map(
      ctx.query(includeDeleted ? ctx.c.selectById : ctx.c.selectLiveById, idParams(ctx, id)),
      (rows) => (rows.length === 0 ? Option.none<Row>() : Option.some(decodeRow(ctx.c, rows[0]!)))
    )

  const insertColumns = (ctx: NodeContext, explicitKey: boolean) =>
    explicitKey ? ctx.c.all : ctx.c.all.filter((c) => c !== ctx.c.pk)
  const hasKey = (record: Row) => !(def.autoIncrement && record[pk] === undefined)

  /** Inserts one validated, stamped record and returns it as stored. */
  const insertOne = (ctx: NodeContext, record: Row): Eff<Row, SqlError> => {
    const columns = insertColumns(ctx, hasKey(record))
    const params: Array<unknown> = []
    encodeRow(columns, record, params)
    if (ctx.c.dialect.supportsReturning) {
      return Effect.map(ctx.query(ctx.c.insertText(columns, 1, true), params), (rows) => decodeRow(ctx.c, rows[0]!))
    }
    return ctx.raw(ctx.c.insertText(columns, 1, false), params).pipe(
      Effect.flatMap((raw) => selectOne(ctx, record[pk] ?? ctx.c.pk.fromDb(ctx.c.dialect.insertId(raw)), true)),
      Effect.map(Option.getOrThrow)
    )
  }

  /** SET list for a validated patch plus the managed updatedAt / version. */
  const setClause = (ctx: NodeContext, patch: Row, now: Date, params: Array<unknown>) => {
    const sets: Array<string> = []
    const set = (field: string, value: unknown) => {
      const col = ctx.c.byField.get(field)!
      params.push(col.toDb(value))
      sets.push(`${col.quoted} = ${ctx.c.dialect.placeholder(params.length)}`)
    }
    for (const key of Object.keys(patch)) set(key, patch[key])
    if (def.timestamps) set("updatedAt", now)
    if (def.versioned) {
      const v = ctx.c.byField.get("version")!.quoted
      sets.push(`${v} = ${ctx.c.table}.${v} + 1`)
    }
    return sets
  }

  // -------------------------------------------------------------------------
  // reads
  // -------------------------------------------------------------------------

  // read and find are the hottest nodes: plain combinators, no generator
  const findRow = (id: unknown, operation: string, includeDeleted: boolean): Eff<Option.Option<Row>> => {
    const bad = checkId(def, id, operation)
    if (bad !== undefined) return Effect.fail(bad)
    return Effect.flatMap(
      context(def, operation),
      (ctx) => mapSqlError(ctx, operation)(selectOne(ctx, id, includeDeleted))
    )
  }

  const find: Nodes["find"] = (id, options = {}) =>
    findRow(id, "find", options.includeDeleted === true).pipe(span("find"))

  const read: Nodes["read"] = (id, options = {}) =>
    Effect.flatMap(
      findRow(id, "read", options.includeDeleted === true),
      (found) =>
        Option.isNone(found)
          ? Effect.fail(new NotFound({ model: def.name, operation: "read", id: idOf(id) }))
          : Effect.succeed(found.value)
    ).pipe(span("read"))

  interface OrderTerm {
    readonly field: string
    readonly quoted: string
    readonly direction: "asc" | "desc"
    readonly nullable: boolean
  }

  const orderTerms = (ctx: NodeContext, orderBy: ReadonlyArray<string> | undefined, operation: string) => {
    const terms: Array<OrderTerm> = []
    if (orderBy !== undefined && !Array.isArray(orderBy)) {
      return Either.left(invalid(operation, "orderBy", "expected an array of field names"))
    }
    for (const entry of orderBy ?? []) {
      const desc = typeof entry === "string" && entry.startsWith("-")
      const field = typeof entry === "string" ? (desc ? entry.slice(1) : entry) : ""
      const col = ctx.c.byField.get(field)
      if (col === undefined) return Either.left(invalid(operation, "orderBy", `unknown field ${JSON.stringify(field)}`))
      if (col.column.kind._tag === "json") return Either.left(invalid(operation, "orderBy", `cannot sort by JSON field ${field}`))
      if (terms.some((t) => t.field === field)) continue
      terms.push({
        field,
        quoted: col.quoted,
        direction: desc ? "desc" : "asc",
        nullable: col.column.nullable || col.column.optional
      })
    }
    // the primary key breaks ties, so pages are stable
    if (!terms.some((t) => t.field === pk)) terms.push({ field: pk, quoted: ctx.c.pk.quoted, direction: "asc", nullable: false })
    return Either.right(terms)
  }

  const checkPaging = (value: number | undefined, name: string, operation: string) =>
    value === undefined || (Number.isSafeInteger(value) && value >= 0)
      ? undefined
      : invalid(operation, name, "must be a non-negative integer")

  /** `(a, b, pk) > (…)` for any mix of directions and NULLs, matching the ORDER BY. */
  const keysetCondition = (ctx: NodeContext, terms: ReadonlyArray<OrderTerm>, values: ReadonlyArray<unknown>, params: Array<unknown>) => {
    const bind = (field: string, v: unknown) => {
      params.push(ctx.c.byField.get(field)!.toDb(v))
      return ctx.c.dialect.placeholder(params.length)
    }
    // a redundant bound on the first sort field, read first: with an index on it, the
    // database scans a range instead of every row before the page
    const first = terms[0]!
    const lead = terms.length > 1 && !first.nullable && values[0] !== null
      ? `${first.quoted} ${first.direction === "asc" ? ">=" : "<="} ${bind(first.field, values[0])} AND `
      : ""
    const ors: Array<string> = []
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!
      const v = values[i]
      // NULL sorts first ascending and last descending: nothing sorts after a NULL descending
      if (v === null && t.direction === "desc") continue
      // placeholders may be positional: bind in the order the text reads
      const eqs = terms.slice(0, i).map((e, j) =>
        values[j] === null ? `${e.quoted} IS NULL` : `${e.quoted} = ${bind(e.field, values[j])}`
      )
      const after = v === null
        ? `${t.quoted} IS NOT NULL`
        : t.direction === "asc"
        ? `${t.quoted} > ${bind(t.field, v)}`
        : t.nullable
        ? `(${t.quoted} < ${bind(t.field, v)} OR ${t.quoted} IS NULL)`
        : `${t.quoted} < ${bind(t.field, v)}`
      ors.push(eqs.length === 0 ? after : `(${[...eqs, after].join(" AND ")})`)
    }
    return ors.length === 0 ? "1=0" : `${lead}(${ors.join(" OR ")})`
  }

  const list: Nodes["list"] = (query = {}) =>
    Effect.gen(function*() {
      const operation = "list"
      const badPage = checkPaging(query.limit, "limit", operation) ?? checkPaging(query.offset, "offset", operation)
      if (badPage !== undefined) return yield* fail(badPage)
      if (query.cursor !== undefined && query.offset !== undefined) {
        return yield* fail(invalid(operation, "offset", "cannot be combined with a cursor"))
      }
      const ctx = yield* context(def, operation)
      const terms = orderTerms(ctx, query.orderBy, operation)
      if (Either.isLeft(terms)) return yield* fail(terms.left)
      const selected = query.select
      if (selected !== undefined) {
        const unknown = Array.isArray(selected) ? selected.find((f) => !ctx.c.byField.has(f)) : "select"
        if (unknown !== undefined) return yield* fail(invalid(operation, "select", `unknown field ${JSON.stringify(unknown)}`))
      }
      const params: Array<unknown> = []
      const where = compileWhere(def, ctx.c, query.where, operation, params, query.includeDeleted === true, ctx.tenant)
      if (Either.isLeft(where)) return yield* fail(where.left)
      const countParams = [...params]
      const orderSignature = terms.right.map((t) => `${t.direction === "desc" ? "-" : ""}${t.field}`).join(",")
      let whereSql = where.right.sql
      const cursorKey = yield* CursorKey
      if (query.cursor !== undefined) {
        const decoded = Cursor.decode(query.cursor, def.name, orderSignature, cursorKey)
        if (Either.isLeft(decoded)) {
          return yield* fail(new InvalidCursor({ model: def.name, operation, reason: decoded.left }))
        }
        const values = decoded.right
        // every value passes the checks a filter operand gets before it is bound
        const usable = values.length === terms.right.length && terms.right.every((t, i) =>
          values[i] === null
            ? ctx.c.byField.get(t.field)!.column.nullable || t.field === "deletedAt"
            : valueProblem(def, t.field, values[i]) === undefined
        )
        if (!usable) {
          return yield* fail(new InvalidCursor({ model: def.name, operation, reason: "values do not match the ordering" }))
        }
        const keyset = keysetCondition(ctx, terms.right, values, params)
        whereSql = whereSql === "" ? ` WHERE ${keyset}` : `${whereSql} AND ${keyset}`
      }
      const columns = selected === undefined
        ? ctx.c.all
        : ctx.c.all.filter((c) => selected.includes(c.column.field) || terms.right.some((t) => t.field === c.column.field))
      const order = ` ORDER BY ${terms.right.map((t) => ctx.c.dialect.orderTerm(t.quoted, t.direction, t.nullable)).join(", ")}`
      const fetch = query.limit === undefined ? undefined : query.limit + 1
      const selectList = selected === undefined ? ctx.c.selectList : columns.map((c) => ctx.c.dialect.selectExpr(c.column)).join(", ")
      const text = `SELECT ${selectList} FROM ${ctx.c.table}${whereSql}${order}${ctx.c.dialect.limitOffset(fetch, query.offset)}`
      const run = Effect.gen(function*() {
        const rows = yield* ctx.query(text, params)
        const more = query.limit !== undefined && rows.length > query.limit
        const page = more ? rows.slice(0, query.limit) : rows
        const plan = columns === ctx.c.all ? ctx.c.decodePlan : decodePlanOf(columns)
        const full = page.map(plan.decode)
        const last = full[full.length - 1]
        const nextCursor = more && last !== undefined
          ? Cursor.encode(def.name, orderSignature, terms.right.map((t) => last[t.field] ?? null), cursorKey)
          : undefined
        const records = selected === undefined ? full : full.map((r) => pick(r, selected))
        const total = query.total === true
          ? Number((yield* ctx.query(`SELECT COUNT(*) AS n FROM ${ctx.c.table}${where.right.sql}`, countParams))[0]?.n ?? 0)
          : undefined
        return {
          records,
          ...(nextCursor === undefined ? {} : { nextCursor }),
          ...(total === undefined ? {} : { total })
        }
      })
      return yield* mapSqlError(ctx, operation)(run)
    }).pipe(span("list"))

  const pick = (record: Row, fields: ReadonlyArray<string>): Row => {
    const out: Row = {}
    for (const f of fields) if (f in record) out[f] = record[f]
    return out
  }

  const findFirst: Nodes["findFirst"] = (where, options = {}) =>
    Effect.map(list({ ...options, where, limit: 1 }), (r) => Option.fromNullable(r.records[0]))

  const count: Nodes["count"] = (whereInput, options = {}) =>
    Effect.gen(function*() {
      const ctx = yield* context(def, "count")
      const params: Array<unknown> = []
      const where = compileWhere(def, ctx.c, whereInput, "count", params, options.includeDeleted === true, ctx.tenant)
      if (Either.isLeft(where)) return yield* fail(where.left)
      const rows = yield* mapSqlError(ctx, "count")(ctx.query(`SELECT COUNT(*) AS n FROM ${ctx.c.table}${where.right.sql}`, params))
      return Number(rows[0]?.n ?? 0)
    }).pipe(span("count"))

  // -------------------------------------------------------------------------
  // create
  // -------------------------------------------------------------------------

  const create: Nodes["create"] = (input) =>
    Effect.gen(function*() {
      const record = prepareCreate(def, input, "create")
      if (Either.isLeft(record)) return yield* fail(record.left)
      const ctx = yield* context(def, "create")
      const now = yield* nowDate
      return yield* mapSqlError(ctx, "create")(insertOne(ctx, stamp(record.right, now, ctx.tenant)))
    }).pipe(span("create"))

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

  const rowsPerStatement = (ctx: NodeContext, columns: number) =>
    Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(ctx.c.dialect.maxParams / columns)))

  /** Rows with and without an explicit generated key are inserted with different column lists. */
  const byColumnList = (ctx: NodeContext, records: ReadonlyArray<Row>) => {
    const withKey: Array<number> = []
    const withoutKey: Array<number> = []
    records.forEach((r, i) => (hasKey(r) ? withKey : withoutKey).push(i))
    return [
      { columns: insertColumns(ctx, true), explicit: true, indices: withKey },
      { columns: insertColumns(ctx, false), explicit: false, indices: withoutKey }
    ].filter((g) => g.indices.length > 0)
  }

  const selectByIds = (ctx: NodeContext, ids: ReadonlyArray<unknown>) =>
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

  /**
   * The INSERT (no RETURNING) of `rows` rows in `columns`, from their encoded values row after
   * row: multi-row VALUES, or where the dialect binds arrays one array parameter per column
   * (`INSERT … SELECT * FROM UNNEST`).
   */
  const insertStatement = (
    ctx: NodeContext,
    columns: ReadonlyArray<NodeContext["c"]["all"][number]>,
    values: ReadonlyArray<unknown>,
    rows: number
  ): { readonly text: string; readonly params: ReadonlyArray<unknown> } => {
    const arrayInsert = ctx.c.dialect.arrayInsert
    if (arrayInsert === undefined) return { text: ctx.c.insertText(columns, rows, false), params: values }
    const width = columns.length
    const arrays = columns.map((_, k) => {
      const column = new Array<unknown>(rows)
      for (let r = 0; r < rows; r++) column[r] = values[r * width + k]
      return column
    })
    return { text: arrayInsert.text(ctx.c.table, columns.map((c) => ({ quoted: c.quoted, kind: c.column.kind }))), params: arrays }
  }

  /** Inserts records in chunks; returns the stored records when asked. */
  const insertMany = (ctx: NodeContext, records: ReadonlyArray<Row>, returning: boolean) =>
    Effect.gen(function*() {
      const out: Array<Row | undefined> = returning ? new Array(records.length) : []
      const useReturning = returning && ctx.c.dialect.supportsReturning
      for (const { columns, explicit, indices } of byColumnList(ctx, records)) {
        if (!returning && ctx.c.dialect.arrayInsert !== undefined) {
          // one array parameter per column: one statement for the whole chunk
          const values: Array<unknown> = []
          for (const i of indices) encodeRow(columns, records[i]!, values)
          const insert = insertStatement(ctx, columns, values, indices.length)
          yield* ctx.raw(insert.text, insert.params)
          continue
        }
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
              // MySQL hands out consecutive AUTO_INCREMENT values to one multi-row INSERT
              const first = Number(ctx.c.dialect.insertId(raw))
              const ids = chunk.map((i, k) => (explicit ? records[i]![pk] : first + k))
              const found = yield* selectByIds(ctx, ids)
              chunk.forEach((i, k) => (out[i] = found.get(String(ids[k]))))
            }
          }
        }
      }
      return out as ReadonlyArray<Row>
    })

  const bulkCreate: Nodes["bulkCreate"] = (rows, options = {}) =>
    Effect.gen(function*() {
      const returning = options.returnRecords === true
      if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
        return yield* fail(invalid("bulkCreate", "onProgress", "expected a function"))
      }
      const empty = returning ? { inserted: 0, records: [] } : { inserted: 0 }
      if (Array.isArray(rows) && rows.length === 0) {
        yield* Effect.annotateCurrentSpan("dataflow.rows", 0)
        return empty
      }
      const ctx = yield* context(def, "bulkCreate")
      const now = yield* nowDate
      // rows are validated and written chunk by chunk inside one transaction: memory stays
      // flat for any number of rows, and a bad row anywhere rolls back everything
      // chunks of at most 1000 rows a statement; 10,000 where a chunk is one UNNEST statement
      const size = ctx.c.dialect.arrayInsert !== undefined && !returning
        ? ctx.c.dialect.arrayInsert.rows
        : rowsPerStatement(ctx, ctx.c.all.length)
      const stored: Array<Row> = []
      let inserted = 0
      const writeChunk = (chunk: ReadonlyArray<unknown>) =>
        Effect.gen(function*() {
          // the common case: every row valid, none naming its generated key — validated and
          // encoded in one pass, no records built
          const encode = ctx.c.encodeNew
          if (!returning && encode !== undefined) {
            const params: Array<unknown> = []
            let encoded = 0
            while (encoded < chunk.length && encode(chunk[encoded], now, ctx.tenant, params)) encoded++
            if (encoded === chunk.length) {
              const insert = insertStatement(ctx, ctx.c.newColumns, params, encoded)
              yield* ctx.raw(insert.text, insert.params)
              inserted += encoded
              if (options.onProgress !== undefined) yield* options.onProgress(inserted)
              return yield* yieldToEventLoop
            }
          }
          const records: Array<Row> = []
          for (const row of chunk) {
            const prepared = prepareCreate(def, row, "bulkCreate", inserted + records.length)
            if (Either.isLeft(prepared)) return yield* fail(prepared.left)
            records.push(stamp(prepared.right, now, ctx.tenant))
          }
          const out = yield* insertMany(ctx, records, returning)
          if (returning) for (const r of out) stored.push(r)
          inserted += records.length
          if (options.onProgress !== undefined) yield* options.onProgress(inserted)
          yield* yieldToEventLoop
        })
      const work = Stream.StreamTypeId in (rows as object)
        ? Stream.runForEachChunk(Stream.rechunk(rows as Stream.Stream<unknown, unknown, unknown>, size), (chunk) =>
          writeChunk(Chunk.toReadonlyArray(chunk)))
        : Effect.gen(function*() {
          let chunk: Array<unknown> = []
          for (const row of rows as Iterable<unknown>) {
            chunk.push(row)
            if (chunk.length === size) {
              yield* writeChunk(chunk)
              chunk = []
            }
          }
          if (chunk.length > 0) yield* writeChunk(chunk)
        })
      // errors are classified inside the transaction, so that it sees a lost connection as one
      yield* ctx.transaction(mapSqlError(ctx, "bulkCreate")(work))
      yield* Effect.annotateCurrentSpan("dataflow.rows", inserted)
      return returning ? { inserted, records: stored } : { inserted }
    }).pipe(span("bulkCreate"))

  // -------------------------------------------------------------------------
  // mutations
  // -------------------------------------------------------------------------

  /**
   * Updates one live row by key (and expected version); returns the updated row, or none
   * when no row matched.
   */
  /** UPDATE texts by patch shape: the SET list and conditions depend only on the keys. */
  const updateTexts = new WeakMap<object, Map<string, string>>()
  const updateText = (ctx: NodeContext, keys: ReadonlyArray<string>, versioned: boolean): string | undefined => {
    let byShape = updateTexts.get(ctx.c)
    if (byShape === undefined) updateTexts.set(ctx.c, byShape = new Map())
    const shape = `${versioned ? "v" : ""}|${keys.join(",")}`
    let text = byShape.get(shape)
    if (text === undefined) {
      const { dialect } = ctx.c
      let n = 0
      const sets = keys.map((k) => `${ctx.c.byField.get(k)!.quoted} = ${dialect.placeholder(++n)}`)
      if (def.timestamps) sets.push(`${ctx.c.byField.get("updatedAt")!.quoted} = ${dialect.placeholder(++n)}`)
      if (def.versioned) {
        const v = ctx.c.byField.get("version")!.quoted
        sets.push(`${v} = ${ctx.c.table}.${v} + 1`)
      }
      if (sets.length === 0) return undefined
      const conditions = [`${ctx.c.pk.quoted} = ${dialect.placeholder(++n)}`]
      if (ctx.c.live !== undefined) conditions.push(ctx.c.live)
      if (versioned) conditions.push(`${ctx.c.byField.get("version")!.quoted} = ${dialect.placeholder(++n)}`)
      if (ctx.c.tenantColumn !== undefined) conditions.push(`${ctx.c.tenantColumn} = ${dialect.placeholder(++n)}`)
      text = `UPDATE ${ctx.c.table} SET ${sets.join(", ")} WHERE ${conditions.join(" AND ")}${
        dialect.supportsReturning ? ` RETURNING ${ctx.c.selectList}` : ""
      }`
      if (byShape.size < 256) byShape.set(shape, text)
    }
    return text
  }

  /**
   * Updates one live row by key (and expected version); returns the updated row, or none
   * when no row matched.
   */
  const updateById = (
    ctx: NodeContext,
    id: unknown,
    patch: Row,
    expectedVersion?: number
  ): Eff<Option.Option<Row>, SqlError | WriteFailure | TransactionError> =>
    Effect.flatMap(nowDate, (now) => {
      const keys = Object.keys(patch)
      const text = updateText(ctx, keys, expectedVersion !== undefined)
      if (text === undefined) return selectOne(ctx, id)
      // parameters in the order of the text: SET values, updatedAt, key, version, tenant
      const params: Array<unknown> = []
      for (const k of keys) params.push(ctx.c.byField.get(k)!.toDb(patch[k]))
      if (def.timestamps) params.push(ctx.c.byField.get("updatedAt")!.toDb(now))
      params.push(ctx.c.pk.toDb(id))
      if (expectedVersion !== undefined) params.push(expectedVersion)
      if (ctx.c.tenantColumn !== undefined) params.push(ctx.tenant)
      if (ctx.c.dialect.supportsReturning) {
        return Effect.map(
          ctx.query(text, params),
          (rows) => (rows.length === 0 ? Option.none() : Option.some(decodeRow(ctx.c, rows[0]!)))
        )
      }
      // no RETURNING on MySQL: write and read back in one transaction; the client reports
      // matched rows, so 0 means no row matched
      return ctx.atomic(mapSqlError(ctx, "update")(Effect.gen(function*() {
        const raw = yield* ctx.raw(text, params)
        if (ctx.c.dialect.affectedRows(raw) === 0) return Option.none<Row>()
        return yield* selectOne(ctx, id)
      })))
    })

  const update: Nodes["update"] = (id, patchInput, options = {}) =>
    Effect.gen(function*() {
      const operation = "update"
      const bad = checkId(def, id, operation)
      if (bad !== undefined) return yield* fail(bad)
      const expected = options.expectedVersion
      if (expected !== undefined && (!def.versioned || !Number.isSafeInteger(expected))) {
        return yield* fail(invalid(operation, "expectedVersion", def.versioned ? "must be an integer" : "the model is not versioned"))
      }
      const patch = preparePatch(def, patchInput, operation)
      if (Either.isLeft(patch)) return yield* fail(patch.left)
      const ctx = yield* context(def, operation)
      const updated = yield* mapSqlError(ctx, operation)(updateById(ctx, id, patch.right, expected))
      if (Option.isSome(updated)) return updated.value
      if (expected !== undefined) {
        const exists = yield* mapSqlError(ctx, operation)(selectOne(ctx, id))
        if (Option.isSome(exists)) {
          return yield* fail(new OptimisticLockError({ model: def.name, operation, id: idOf(id), expectedVersion: expected }))
        }
      }
      return yield* fail(new NotFound({ model: def.name, operation, id: idOf(id) }))
    }).pipe(span("update"))

  const del: Nodes["delete"] = (id) =>
    Effect.gen(function*() {
      const bad = checkId(def, id, "delete")
      if (bad !== undefined) return yield* fail(bad)
      const ctx = yield* context(def, "delete")
      const now = yield* nowDate
      const { dialect } = ctx.c
      const tenant = ctx.c.tenantColumn === undefined ? "" : ` AND ${ctx.c.tenantColumn} = ${dialect.placeholder(3)}`
      const text = def.softDelete
        ? `UPDATE ${ctx.c.table} SET ${ctx.c.byField.get("deletedAt")!.quoted} = ${dialect.placeholder(1)} WHERE ${ctx.c.pk.quoted} = ${
          dialect.placeholder(2)
        }${tenant} AND ${ctx.c.live}`
        : ctx.c.deleteById
      const params = def.softDelete ? [ctx.c.byField.get("deletedAt")!.toDb(now), ...idParams(ctx, id)] : idParams(ctx, id)
      const raw = yield* mapSqlError(ctx, "delete")(ctx.raw(text, params))
      return { deleted: ctx.c.dialect.affectedRows(raw) > 0 }
    }).pipe(span("delete"))

  const restore: Nodes["restore"] = (id) =>
    Effect.gen(function*() {
      const bad = checkId(def, id, "restore")
      if (bad !== undefined) return yield* fail(bad)
      const ctx = yield* context(def, "restore")
      const deletedAt = ctx.c.byField.get("deletedAt")!.quoted
      const tenant = ctx.c.tenantColumn === undefined ? "" : ` AND ${ctx.c.tenantColumn} = ${ctx.c.dialect.placeholder(2)}`
      const raw = yield* mapSqlError(ctx, "restore")(ctx.raw(
        `UPDATE ${ctx.c.table} SET ${deletedAt} = NULL WHERE ${ctx.c.pk.quoted} = ${
          ctx.c.dialect.placeholder(1)
        }${tenant} AND ${deletedAt} IS NOT NULL`,
        idParams(ctx, id)
      ))
      return { restored: ctx.c.dialect.affectedRows(raw) > 0 }
    }).pipe(span("restore"))

  /** The conflict target must be the primary key or a declared unique constraint, exactly. */
  const conflictTarget = (fields: ReadonlyArray<string>, operation: string) => {
    const unknown = fields.find((f) => typeof f !== "string" || !def.byField.has(f))
    const same = (set: ReadonlyArray<string>) => set.length === fields.length && set.every((f) => fields.includes(f))
    if (def.tenantScoped && def.autoIncrement && same([pk])) {
      return Either.left(
        new ConflictTargetError({
          model: def.name,
          operation,
          columns: [...fields],
          reason: "is a generated key, global across tenants; upsert tenant-scoped records by a unique constraint"
        })
      )
    }
    if (unknown !== undefined || fields.length === 0 || !(same([pk]) || def.uniqueSets.some(same))) {
      return Either.left(
        new ConflictTargetError({
          model: def.name,
          operation,
          columns: [...fields],
          reason: unknown !== undefined
            ? `names unknown field ${unknown}`
            : "is not the primary key or a unique constraint of the model"
        })
      )
    }
    return Either.right(fields)
  }

  /** The columns of an ON CONFLICT target: per tenant on tenant-scoped models. */
  const conflictFields = (fields: ReadonlyArray<string>) => (def.tenantScoped ? ["tenantId", ...fields] : fields)

  const upsert: Nodes["upsert"] = (args) =>
    Effect.gen(function*() {
      const operation = "upsert"
      if (typeof args !== "object" || args === null || typeof args.where !== "object" || args.where === null) {
        return yield* fail(invalid(operation, "where", "expected an object"))
      }
      // `where` names the conflict target: plain values or { $eq: value }
      const where: Row = {}
      for (const [k, v] of Object.entries(args.where as Row)) {
        const value = typeof v === "object" && v !== null && Object.keys(v).length === 1 && "$eq" in v ? (v as Row).$eq : v
        if (value === null || value === undefined) return yield* fail(invalid(operation, `where.${k}`, "a conflict key needs a value"))
        where[k] = value
      }
      const target = conflictTarget(Object.keys(where), operation)
      if (Either.isLeft(target)) return yield* fail(target.left)
      const created = prepareCreate(def, { ...(args.create as Row | undefined), ...where }, operation)
      if (Either.isLeft(created)) return yield* fail(created.left)
      const patch = preparePatch(def, args.update ?? {}, operation)
      if (Either.isLeft(patch)) return yield* fail(patch.left)
      const ctx = yield* context(def, operation)
      const now = yield* nowDate
      const record = stamp(created.right, now, ctx.tenant)
      const { dialect } = ctx.c
      if (dialect.upsertInsertedFlag !== undefined && !def.softDelete) {
        const columns = insertColumns(ctx, hasKey(record))
        const params: Array<unknown> = []
        encodeRow(columns, record, params)
        const sets = setClause(ctx, patch.right, now, params)
        const conflict = conflictFields(target.right).map((f) => ctx.c.byField.get(f)!.quoted)
        if (sets.length === 0) sets.push(`${conflict[0]} = EXCLUDED.${conflict[0]}`)
        const text = `${ctx.c.insertText(columns, 1, false)} ON CONFLICT (${conflict.join(", ")}) DO UPDATE SET ${
          sets.join(", ")
        } RETURNING ${ctx.c.selectList}, ${dialect.upsertInsertedFlag} AS "__created"`
        const rows = yield* mapSqlError(ctx, operation)(ctx.query(text, params))
        return { record: decodeRow(ctx.c, rows[0]!), created: rows[0]!.__created === true }
      }
      // read-then-write in one transaction: the locking read makes it atomic on MySQL and
      // PostgreSQL, SQLite's single writer makes it atomic there. A soft-deleted match is
      // replaced by the new record (reported as created).
      const params: Array<unknown> = []
      const clauses = compileWhere(def, ctx.c, where, operation, params, true, ctx.tenant)
      if (Either.isLeft(clauses)) return yield* fail(clauses.left)
      const deletedAt = ctx.c.byField.get("deletedAt")
      const lookup = `SELECT ${ctx.c.pk.quoted} AS id${deletedAt === undefined ? "" : `, ${deletedAt.quoted} AS deleted`} FROM ${
        ctx.c.table
      }${clauses.right.sql}${dialect.limitOffset(1, undefined)}${dialect.lockingRead}`
      return yield* retryDeadlocks(ctx, ctx.transaction(mapSqlError(ctx, operation)(
        Effect.gen(function*() {
          const existing = yield* ctx.query(lookup, params)
          if (existing.length === 0) return { record: yield* insertOne(ctx, record), created: true }
          const id = ctx.c.pk.fromDb(existing[0]!.id)
          if (existing[0]!.deleted !== null && existing[0]!.deleted !== undefined) {
            // revive: the whole new record replaces the deleted one
            const { [pk]: _key, ...replacement } = record
            const params: Array<unknown> = []
            const sets: Array<string> = []
            for (const [field, value] of Object.entries(replacement)) {
              const col = ctx.c.byField.get(field)!
              params.push(col.toDb(value))
              sets.push(`${col.quoted} = ${dialect.placeholder(params.length)}`)
            }
            for (const col of ctx.c.all) {
              if (col !== ctx.c.pk && !(col.column.field in replacement)) sets.push(`${col.quoted} = NULL`)
            }
            params.push(ctx.c.pk.toDb(id))
            yield* ctx.raw(
              `UPDATE ${ctx.c.table} SET ${sets.join(", ")} WHERE ${ctx.c.pk.quoted} = ${dialect.placeholder(params.length)}`,
              params
            )
            return { record: Option.getOrThrow(yield* selectOne(ctx, id)), created: true }
          }
          const updated = yield* updateById(ctx, id, patch.right)
          return { record: Option.getOrThrow(updated), created: false }
        })
      )))
    }).pipe(span("upsert"))

  /**
   * A locking read followed by an insert can deadlock with a concurrent one (MySQL gap locks).
   * When the node owns its transaction, the loser simply runs again — it then sees the winner's
   * row; inside a caller's transaction the retryable error goes to the caller.
   */
  const retryDeadlocks = <A, E, R>(ctx: NodeContext, self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiberRuntime((fiber) =>
      inOwnTransaction(fiber.currentContext as EffectContext.Context<never>, ctx.sql)
        ? self
        // no delay (and so no dependence on the Clock): the retry blocks on the winner's locks
        : Effect.retry(self, { times: 8, while: (e) => e instanceof DatabaseError && e.retryable })
    )

  const guardEmpty = (condition: string | undefined, confirm: boolean | undefined, operation: string) =>
    condition === undefined && confirm !== true
      ? new UnsafeOperation({
        model: def.name,
        operation,
        reason: "an empty filter would touch every row; pass { confirm: true } to do that"
      })
      : undefined

  const bulkUpdate: Nodes["bulkUpdate"] = (whereInput, patchInput, options = {}) =>
    Effect.gen(function*() {
      const operation = "bulkUpdate"
      const patch = preparePatch(def, patchInput, operation)
      if (Either.isLeft(patch)) return yield* fail(patch.left)
      const ctx = yield* context(def, operation)
      const now = yield* nowDate
      const params: Array<unknown> = []
      const sets = setClause(ctx, patch.right, now, params)
      const where = compileWhere(def, ctx.c, whereInput, operation, params, false, ctx.tenant)
      if (Either.isLeft(where)) return yield* fail(where.left)
      const unsafe = guardEmpty(where.right.condition, options.confirm, operation)
      if (unsafe !== undefined) return yield* fail(unsafe)
      if (sets.length === 0) return { updated: 0 }
      const raw = yield* mapSqlError(ctx, operation)(
        ctx.raw(`UPDATE ${ctx.c.table} SET ${sets.join(", ")}${where.right.sql}`, params)
      )
      const updated = ctx.c.dialect.affectedRows(raw)
      yield* Effect.annotateCurrentSpan("dataflow.rows", updated)
      return { updated }
    }).pipe(span("bulkUpdate"))

  const bulkDelete: Nodes["bulkDelete"] = (whereInput, options = {}) =>
    Effect.gen(function*() {
      const operation = "bulkDelete"
      const ctx = yield* context(def, operation)
      const params: Array<unknown> = []
      if (def.softDelete) params.push(ctx.c.byField.get("deletedAt")!.toDb(yield* nowDate))
      const where = compileWhere(def, ctx.c, whereInput, operation, params, false, ctx.tenant)
      if (Either.isLeft(where)) return yield* fail(where.left)
      const unsafe = guardEmpty(where.right.condition, options.confirm, operation)
      if (unsafe !== undefined) return yield* fail(unsafe)
      const text = def.softDelete
        ? `UPDATE ${ctx.c.table} SET ${ctx.c.byField.get("deletedAt")!.quoted} = ${ctx.c.dialect.placeholder(1)}${where.right.sql}`
        : `DELETE FROM ${ctx.c.table}${where.right.sql}`
      const raw = yield* mapSqlError(ctx, operation)(ctx.raw(text, params))
      const deleted = ctx.c.dialect.affectedRows(raw)
      yield* Effect.annotateCurrentSpan("dataflow.rows", deleted)
      return { deleted }
    }).pipe(span("bulkDelete"))

  /** One row of a bulkUpsert, ready to write: its insert columns and parameters, its key. */
  interface UpsertRow {
    readonly columns: ReadonlyArray<NodeContext["c"]["all"][number]>
    readonly params: ReadonlyArray<unknown>
    /** The conflict key's values as the row gives them (duplicates in one input: last wins). */
    readonly key: ReadonlyArray<unknown>
  }

  /**
   * Validates and encodes upsert rows: in one pass without records when every row allows it,
   * else through records (constructor defaults, explicit generated keys, the error of a bad row).
   */
  const prepareUpsertRows = (
    ctx: NodeContext,
    rows: Iterable<unknown>,
    keys: ReadonlyArray<string>,
    now: Date,
    operation: string
  ): Either.Either<ReadonlyArray<UpsertRow>, ValidationError> => {
    const input = Array.isArray(rows) ? rows : [...rows]
    const keyOf = (row: Row, rowIndex: number) => {
      const key: Array<unknown> = []
      for (const k of keys) {
        const v = row[k]
        if (v === undefined || v === null) {
          return new ValidationError({ model: def.name, operation, path: k, rowIndex, reason: "a conflict key needs a value" })
        }
        key.push(v)
      }
      return key
    }
    const encode = ctx.c.encodeNew
    if (encode !== undefined) {
      const out: Array<UpsertRow> = []
      for (let i = 0; i < input.length; i++) {
        const params: Array<unknown> = []
        if (!encode(input[i], now, ctx.tenant, params)) break
        const key = keyOf(input[i] as Row, i)
        if (key instanceof ValidationError) return Either.left(key)
        out.push({ columns: ctx.c.newColumns, params, key })
      }
      if (out.length === input.length) return Either.right(out)
    }
    const prepared = prepareRows(input, operation)
    if (Either.isLeft(prepared)) return Either.left(prepared.left)
    const out: Array<UpsertRow> = []
    const withKey = insertColumns(ctx, true)
    const withoutKey = insertColumns(ctx, false)
    for (let i = 0; i < prepared.right.length; i++) {
      const record = stamp(prepared.right[i]!, now, ctx.tenant)
      const key = keyOf(record, i)
      if (key instanceof ValidationError) return Either.left(key)
      const columns = hasKey(record) ? withKey : withoutKey
      const params: Array<unknown> = []
      encodeRow(columns, record, params)
      out.push({ columns, params, key })
    }
    return Either.right(out)
  }

  const bulkUpsert: Nodes["bulkUpsert"] = (rows, options = {}) =>
    Effect.gen(function*() {
      const operation = "bulkUpsert"
      if (options.conflictOn !== undefined && !Array.isArray(options.conflictOn)) {
        return yield* fail(invalid(operation, "conflictOn", "expected an array of field names"))
      }
      const target = conflictTarget(options.conflictOn ?? [pk], operation)
      if (Either.isLeft(target)) return yield* fail(target.left)
      const keys = target.right
      const ctx = yield* context(def, operation)
      const now = yield* nowDate
      const prepared = prepareUpsertRows(ctx, rows, keys, now, operation)
      if (Either.isLeft(prepared)) return yield* fail(prepared.left)
      // last row wins for duplicate keys inside one input
      const byKey = new Map<unknown, UpsertRow>()
      for (const r of prepared.right) {
        const key = keys.length === 1 && typeof r.key[0] !== "object" ? r.key[0] : JSON.stringify(r.key.map(String))
        byKey.delete(key)
        byKey.set(key, r)
      }
      // one order of keys for every writer: concurrent upserts of overlapping keys then lock
      // rows in the same order instead of deadlocking
      const unique = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key))
      yield* Effect.annotateCurrentSpan("dataflow.rows", unique.length)
      if (unique.length === 0) return { inserted: 0, updated: 0 }
      const { dialect } = ctx.c
      const keyCols = conflictFields(keys).map((k) => ctx.c.byField.get(k)!)
      /** The conflict key of a row as statement parameters, in `keyCols` order. */
      const tenantKey = def.tenantScoped ? ctx.c.byField.get("tenantId")!.toDb(ctx.tenant) : undefined
      const keyColumns = keys.map((k) => ctx.c.byField.get(k)!)
      const keyParams = (r: UpsertRow, into: Array<unknown>) => {
        if (def.tenantScoped) into.push(tenantKey)
        for (let k = 0; k < keyColumns.length; k++) into.push(keyColumns[k]!.toDb(r.key[k]))
      }
      // on conflict: every column but the keys, the primary key and createdAt takes the new
      // value (a soft-deleted row comes back to life); the version is bumped
      const updateCols = ctx.c.all.filter((c) =>
        !keyCols.includes(c) && c !== ctx.c.pk && c.column.field !== "createdAt" && c.column.field !== "version"
      ).map((c) => c.column.name)
      const conflictNames = keyCols.map((c) => c.column.name)
      const exactFromStatement = dialect.upsertInsertedFlag !== undefined && !def.softDelete
      const work = Effect.gen(function*() {
        let existing = 0
        if (!exactFromStatement) {
          const size = rowsPerStatement(ctx, keyCols.length)
          const lhs = keyCols.length === 1 ? keyCols[0]!.quoted : `(${keyCols.map((c) => c.quoted).join(", ")})`
          const live = ctx.c.live === undefined ? "" : ` AND ${ctx.c.live}`
          for (let start = 0; start < unique.length; start += size) {
            const chunk = unique.slice(start, start + size)
            const params: Array<unknown> = []
            const tuples = chunk.map((r) => {
              const from = params.length
              keyParams(r, params)
              const marks = keyCols.map((_, k) => dialect.placeholder(from + k + 1))
              return keyCols.length === 1 ? marks[0]! : `(${marks.join(", ")})`
            })
            const found = yield* ctx.query(
              `SELECT ${ctx.c.pk.quoted} AS k FROM ${ctx.c.table} WHERE ${lhs} IN (${tuples.join(", ")})${live}${dialect.lockingRead}`,
              params
            )
            existing += found.length
          }
        }
        let inserted = 0
        const upsertClause = dialect.upsertConflict(
          ctx.c.table,
          conflictNames,
          updateCols,
          def.versioned ? ctx.c.byField.get("version")!.column.name : undefined
        )
        // one group per insert column list (rows naming a generated key or not)
        for (const columns of new Set(unique.map((r) => r.columns))) {
          const group = unique.filter((r) => r.columns === columns)
          const size = dialect.arrayInsert !== undefined ? dialect.arrayInsert.rows : rowsPerStatement(ctx, columns.length)
          for (let start = 0; start < group.length; start += size) {
            if (start > 0) yield* yieldToEventLoop
            const chunk = group.slice(start, start + size)
            const values: Array<unknown> = []
            for (const r of chunk) for (const v of r.params) values.push(v)
            const insert = insertStatement(ctx, columns, values, chunk.length)
            const text = insert.text + upsertClause
            const params = insert.params
            if (exactFromStatement) {
              const out = yield* ctx.query(`${text} RETURNING ${ctx.c.dialect.upsertInsertedFlag} AS "__created"`, params)
              inserted += out.filter((r) => r.__created === true).length
            } else {
              yield* ctx.raw(text, params)
            }
          }
        }
        return exactFromStatement
          ? { inserted, updated: unique.length - inserted }
          : { inserted: unique.length - existing, updated: existing }
      })
      return yield* retryDeadlocks(ctx, ctx.transaction(mapSqlError(ctx, operation)(work)))
    }).pipe(span("bulkUpsert"))

  // Callers without types (JSON, workflows) may pass anything: an argument that is not what
  // the node takes is a ValidationError naming it, never a TypeError.
  const options = <Args extends ReadonlyArray<unknown>, A>(
    operation: string,
    positions: ReadonlyArray<readonly [index: number, name: string]>,
    node: (...args: Args) => Eff<A>
  ) =>
  (...args: Args): Eff<A> => {
    for (const [index, name] of positions) {
      const value = args[index]
      if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
        return Effect.fail(invalid(operation, name, "expected an object"))
      }
    }
    return node(...args)
  }
  const rowsOf = <Args extends [unknown, ...ReadonlyArray<unknown>], A>(
    operation: string,
    streams: boolean,
    node: (...args: Args) => Eff<A>
  ) =>
  (...args: Args): Eff<A> => {
    const rows = args[0]
    const ok = typeof rows === "object" && rows !== null &&
      (Symbol.iterator in rows || (streams && Stream.StreamTypeId in rows))
    return ok
      ? node(...args)
      : Effect.fail(invalid(operation, "", streams ? "expected an array, an iterable or a Stream of rows" : "expected an array or an iterable of rows"))
  }

  return {
    create,
    read: options("read", [[1, "options"]], read),
    find: options("find", [[1, "options"]], find),
    list: options("list", [[0, "query"]], list),
    findFirst: options("findFirst", [[1, "options"]], findFirst),
    count: options("count", [[1, "options"]], count),
    bulkCreate: rowsOf("bulkCreate", true, options("bulkCreate", [[1, "options"]], bulkCreate)),
    update: options("update", [[2, "options"]], update),
    delete: del,
    restore,
    upsert,
    bulkUpdate: options("bulkUpdate", [[2, "options"]], bulkUpdate),
    bulkDelete: options("bulkDelete", [[1, "options"]], bulkDelete),
    bulkUpsert: rowsOf("bulkUpsert", false, options("bulkUpsert", [[1, "options"]], bulkUpsert))
  }
}
