/**
 * The two Effect implementations: the generated nodes, and the same statements written by
 * hand on `@effect/sql` (the floor: what any Effect code pays to send that SQL).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Items, Walk, Writes } from "../model.js"
import { LIST_LIMIT, WALK_PAGE } from "../model.js"
import type { EffectOps, WalkCursor } from "../ops.js"
import { walkKey } from "../ops.js"
import type { SqlRow, Statements } from "../sql.js"
import { chunks } from "../sql.js"

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

/** The same statements, hand-written on `@effect/sql`. */
export const handWrittenOps = (s: Statements): EffectOps => {
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
  const withSql = <A, E>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) => Effect.flatMap(SqlClient.SqlClient, f)
  const first = (rows: ReadonlyArray<SqlRow>) => s.decode(rows[0]!)

  return {
    create: (row) =>
      withSql((sql) => {
        const params: Array<unknown> = []
        s.encode(row, new Date(), params)
        if (s.returning) return Effect.map(sql.unsafe<SqlRow>(s.insert(writes, 1, true), params), first)
        // MySQL: no RETURNING; insert, then read the row back by its generated id
        return Effect.flatMap(
          sql.unsafe(s.insert(writes, 1, false), params).raw,
          (raw) => Effect.map(sql.unsafe<SqlRow>(selectWrite, [s.insertId(raw)]), first)
        )
      }),
    read: (id) =>
      withSql((sql) =>
        Effect.map(sql.unsafe<SqlRow>(selectItem, [id]), (rows) => (rows.length === 0 ? undefined : s.decode(rows[0]!)))
      ),
    list: (category) =>
      withSql((sql) => Effect.map(sql.unsafe<SqlRow>(listText, [category]), (rows) => rows.slice(0, LIST_LIMIT).map(s.decode))),
    count: (category) =>
      withSql((sql) => Effect.map(sql.unsafe<{ n: unknown }>(countText, [category]), (rows) => Number(rows[0]?.n ?? 0))),
    update: (id, patch) =>
      withSql((sql) => {
        const params = [patch.name, patch.qty, s.encodeDate(new Date()), id]
        if (s.returning) return Effect.map(sql.unsafe<SqlRow>(updateText, params), first)
        return sql.withTransaction(
          Effect.zipRight(sql.unsafe(updateText, params).raw, Effect.map(sql.unsafe<SqlRow>(selectItem, [id]), first))
        )
      }),
    bulkCreate: (rows) =>
      withSql((sql) => {
        const now = new Date()
        return sql.withTransaction(
          Effect.forEach(chunks(rows, s.bulkChunk), (chunk) => {
            const b = s.bulkInsert(writes, chunk, now)
            return sql.unsafe(b.text, b.params).raw
          }, { discard: true })
        ).pipe(Effect.as(rows.length))
      }),
    walkPage: (cursor) =>
      withSql((sql) =>
        Effect.map(
          cursor === undefined
            ? sql.unsafe<SqlRow>(walkFirstText, [])
            : sql.unsafe<SqlRow>(walkNextText, s.walkParams(walkKey(cursor))),
          s.walkPage
        )
      ),
    bulkUpdate: (category, qty) =>
      withSql((sql) =>
        Effect.map(sql.unsafe(bulkUpdateText, [qty, s.encodeDate(new Date()), category]).raw, s.affected)
      ),
    bulkDelete: (category) => withSql((sql) => Effect.map(sql.unsafe(bulkDeleteText, [category]).raw, s.affected)),
    bulkUpsert: (rows) =>
      withSql((sql) => {
        const now = new Date()
        return sql.withTransaction(Effect.gen(function*() {
          let existing = 0
          if (s.dialect !== "pg") {
            for (const chunk of chunks(rows)) {
              const found = yield* sql.unsafe(s.existing(writes, chunk.length), chunk.map((r) => r.sku))
              existing += found.length
            }
          }
          let inserted = 0
          for (const chunk of chunks(rows, s.bulkChunk)) {
            const b = s.bulkUpsert(writes, chunk, now)
            if (s.dialect === "pg") {
              const out = yield* sql.unsafe<{ __created: unknown }>(b.text, b.params)
              for (const r of out) if (r.__created === true) inserted++
            } else {
              yield* sql.unsafe(b.text, b.params).raw
            }
          }
          return s.dialect === "pg"
            ? { inserted, updated: rows.length - inserted }
            : { inserted: rows.length - existing, updated: existing }
        }))
      })
  }
}
