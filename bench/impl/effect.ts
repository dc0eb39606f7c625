/**
 * The Effect implementations: the generated nodes, and the same statements written by hand
 * (the floor: what any Effect code pays to send that SQL). The hand-written code is one
 * piece of code over a `StatementRunner`, the only part that differs between the floors:
 * `@effect/sql`'s `sql.unsafe` (every database), or node-postgres named prepared statements
 * in `Effect.async` (PostgreSQL: `@effect/sql`'s public API has no named statements).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type pg from "pg"
import { Items, Walk, Writes } from "../model.js"
import { LIST_LIMIT, WALK_PAGE } from "../model.js"
import type { Eff, EffectOps, WalkCursor } from "../ops.js"
import { walkKey } from "../ops.js"
import type { SqlRow, Statements } from "../sql.js"
import { chunks } from "../sql.js"
import { namedStatements } from "./raw.js"

/** The cursor a nodes page was given (the hand-written implementations pass sort keys instead). */
const nodesCursor = (cursor: WalkCursor): string => {
  if (typeof cursor !== "string") throw new Error("a sort key given to the nodes' walk")
  return cursor
}

/** The generated nodes. */
export const nodeOps: EffectOps = {
  create: (row) => Writes.create(row),
  read: (id) => Items.read(id),
  list: (category) =>
    Effect.map(Items.list({ where: { category }, orderBy: ["-price"], limit: LIST_LIMIT }), (r) => r.records),
  count: (category) => Items.count({ category }),
  update: (id, patch) => Items.update(id, patch),
  bulkCreate: (rows) => Effect.map(Writes.bulkCreate(rows), (r) => r.inserted),
  walkPage: (cursor) =>
    Effect.map(
      Walk.list({
        orderBy: ["-price"],
        limit: WALK_PAGE,
        ...(cursor === undefined ? {} : { cursor: nodesCursor(cursor) })
      }),
      (r) => ({ records: r.records, next: r.nextCursor })
    ),
  bulkUpdate: (category, qty) => Effect.map(Writes.bulkUpdate({ category }, { qty }), (r) => r.updated),
  bulkDelete: (category) => Effect.map(Writes.bulkDelete({ category }), (r) => r.deleted),
  bulkUpsert: (rows) => Writes.bulkUpsert(rows, { conflictOn: ["sku"] })
}

/** How hand-written code sends a statement and opens a transaction. */
export interface StatementRunner {
  readonly rows: (text: string, params: ReadonlyArray<unknown>) => Eff<ReadonlyArray<SqlRow>>
  /** The driver's result (rows changed, insert id). */
  readonly raw: (text: string, params: ReadonlyArray<unknown>) => Eff<unknown>
  /** Runs `body` in one transaction; its statements go through the runner it is given. */
  readonly transaction: <A>(body: (tx: StatementRunner) => Eff<A>) => Eff<A>
}

/** `@effect/sql`: `sql.unsafe(text, params)` on the SqlClient the nodes use, `sql.withTransaction`. */
export const viaSqlClient: StatementRunner = {
  rows: (text, params) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<SqlRow>(text, params)),
  raw: (text, params) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(text, params).raw),
  transaction: (body) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.withTransaction(body(viaSqlClient)))
}

const send = (on: pg.Pool | pg.ClientBase, query: pg.QueryConfig) =>
  Effect.async<pg.QueryResult<SqlRow>, Error>((resume) => {
    on.query<SqlRow>(query, (error, result) => resume(error ? Effect.fail(error) : Effect.succeed(result)))
  })

const connect = (pool: pg.Pool) =>
  Effect.async<pg.PoolClient, Error>((resume) => {
    pool.connect((error, client) =>
      resume(error !== undefined || client === undefined ? Effect.fail(error ?? new Error("no client")) : Effect.succeed(client))
    )
  })

/**
 * Hand-written Effect code on node-postgres, no `@effect/sql`: every statement is sent as
 * `{ name, text, values }` (one name per text, so each connection parses and plans it once)
 * with `pool.query` in `Effect.async`; a transaction checks one client out of the pool
 * (`Effect.acquireUseRelease`) and sends BEGIN, its statements and COMMIT (ROLLBACK on
 * failure) on it. What the nodes do on `DataFlow.layer`'s PostgreSQL client, written by hand.
 */
export const pgNamedStatements = (pool: pg.Pool): StatementRunner => {
  const named = namedStatements(pool, "floor")
  const on = (client: pg.Pool | pg.ClientBase, transaction: StatementRunner["transaction"]): StatementRunner => ({
    rows: (text, params) => Effect.map(send(client, named(text, params)), (result) => result.rows),
    raw: (text, params) => send(client, named(text, params)),
    transaction
  })
  const transaction: StatementRunner["transaction"] = (body) =>
    Effect.acquireUseRelease(connect(pool), (client) => {
      // nested: the same transaction (the workloads never nest)
      const tx: StatementRunner = on(client, (inner) => inner(tx))
      return send(client, { text: "BEGIN" }).pipe(
        Effect.zipRight(body(tx)),
        Effect.zipLeft(send(client, { text: "COMMIT" })),
        Effect.tapErrorCause(() => Effect.ignore(send(client, { text: "ROLLBACK" })))
      )
    }, (client) => Effect.sync(() => client.release()))
  return on(pool, transaction)
}

/** The nodes' statements, hand-written (bench/sql.ts), sent through `run`. */
export const handWrittenOps = (s: Statements, run: StatementRunner): EffectOps => {
  const items = "bench_items" as const
  const writes = "bench_writes" as const
  const selectItem = s.selectById(items)
  const selectWrite = s.selectById(writes)
  const listText = s.list(items)
  const countText = s.count(items)
  const updateText = s.update(items)
  const bulkUpdateText = s.bulkUpdate(writes)
  const bulkDeleteText = s.bulkDelete(writes)
  const walkFirstText = s.walkFirst("bench_walk")
  const walkNextText = s.walkNext("bench_walk")
  const first = (rows: ReadonlyArray<SqlRow>) => s.decode(rows[0]!)

  return {
    create: (row) => {
      const params: Array<unknown> = []
      s.encode(row, new Date(), params)
      if (s.returning) return Effect.map(run.rows(s.insert(writes, 1, true), params), first)
      // MySQL: no RETURNING; insert, then read the row back by its generated id
      return Effect.flatMap(
        run.raw(s.insert(writes, 1, false), params),
        (raw) => Effect.map(run.rows(selectWrite, [s.insertId(raw)]), first)
      )
    },
    read: (id) => Effect.map(run.rows(selectItem, [id]), (rows) => (rows.length === 0 ? undefined : s.decode(rows[0]!))),
    list: (category) => Effect.map(run.rows(listText, [category]), (rows) => rows.slice(0, LIST_LIMIT).map(s.decode)),
    count: (category) => Effect.map(run.rows(countText, [category]), (rows) => Number(rows[0]?.n ?? 0)),
    update: (id, patch) => {
      const params = [patch.name, patch.qty, s.encodeDate(new Date()), id]
      if (s.returning) return Effect.map(run.rows(updateText, params), first)
      return run.transaction((tx) => Effect.zipRight(tx.raw(updateText, params), Effect.map(tx.rows(selectItem, [id]), first)))
    },
    bulkCreate: (rows) => {
      const now = new Date()
      return run.transaction((tx) =>
        Effect.forEach(chunks(rows, s.bulkChunk), (chunk) => {
          const b = s.bulkInsert(writes, chunk, now)
          return tx.raw(b.text, b.params)
        }, { discard: true })
      ).pipe(Effect.as(rows.length))
    },
    walkPage: (cursor) =>
      Effect.map(
        cursor === undefined ? run.rows(walkFirstText, []) : run.rows(walkNextText, s.walkParams(walkKey(cursor))),
        s.walkPage
      ),
    bulkUpdate: (category, qty) => Effect.map(run.raw(bulkUpdateText, [qty, s.encodeDate(new Date()), category]), s.affected),
    bulkDelete: (category) => Effect.map(run.raw(bulkDeleteText, [category]), s.affected),
    bulkUpsert: (rows) => {
      const now = new Date()
      return run.transaction((tx) =>
        Effect.gen(function*() {
          let existing = 0
          if (s.dialect !== "pg") {
            for (const chunk of chunks(rows)) {
              const found = yield* tx.rows(s.existing(writes, chunk.length), chunk.map((r) => r.sku))
              existing += found.length
            }
          }
          let inserted = 0
          for (const chunk of chunks(rows, s.bulkChunk)) {
            const b = s.bulkUpsert(writes, chunk, now)
            if (s.dialect === "pg") {
              for (const r of yield* tx.rows(b.text, b.params)) if (r.__created === true) inserted++
            } else {
              yield* tx.raw(b.text, b.params)
            }
          }
          return s.dialect === "pg"
            ? { inserted, updated: rows.length - inserted }
            : { inserted: rows.length - existing, updated: existing }
        })
      )
    }
  }
}
