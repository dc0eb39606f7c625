/**
 * The raw drivers: the same statements straight on better-sqlite3, pg and mysql2 (the
 * physical limit). Each gets its own connection.
 */
import type Database from "better-sqlite3"
import type { Connection as MysqlConnection } from "mysql2/promise"
import type pg from "pg"
import type { Item, NewItem } from "../model.js"
import { LIST_LIMIT } from "../model.js"
import type { PromiseOps, UpsertResult } from "../ops.js"
import { walkKey } from "../ops.js"
import type { SqlRow, Statements } from "../sql.js"
import { CHUNK, chunks } from "../sql.js"

const items = "bench_items" as const
const writes = "bench_writes" as const
const walk = "bench_walk" as const

/** better-sqlite3, statements prepared once and cached by text (as @effect/sql-sqlite-node does). */
export const sqliteRawOps = (db: Database.Database, s: Statements): Required<PromiseOps> => {
  const cache = new Map<string, Database.Statement>()
  const prep = (text: string) => {
    let st = cache.get(text)
    if (st === undefined) {
      st = db.prepare(text)
      cache.set(text, st)
    }
    return st
  }
  const all = (text: string, params: ReadonlyArray<unknown>) => prep(text).all(...params) as Array<SqlRow>
  const run = (text: string, params: ReadonlyArray<unknown>) => prep(text).run(...params)
  const tx = <A>(f: () => A): A => db.transaction(f)()
  return {
    create: async (row) => {
      const params: Array<unknown> = []
      s.encode(row, new Date(), params)
      return s.decode(all(s.insert(writes, 1, true), params)[0]!)
    },
    read: async (id) => {
      const rows = all(s.selectById(items), [id])
      return rows.length === 0 ? undefined : s.decode(rows[0]!)
    },
    list: async (category) => all(s.list(items), [category]).slice(0, LIST_LIMIT).map(s.decode),
    count: async (category) => Number(all(s.count(items), [category])[0]?.n ?? 0),
    update: async (id, patch) => s.decode(all(s.update(items), [patch.name, patch.qty, s.encodeDate(new Date()), id])[0]!),
    bulkCreate: async (rows) => {
      const now = new Date()
      tx(() => {
        for (const chunk of chunks(rows, s.bulkChunk)) {
          const b = s.bulkInsert(writes, chunk, now)
          run(b.text, b.params)
        }
      })
      return rows.length
    },
    walkPage: async (cursor) =>
      s.walkPage(cursor === undefined ? all(s.walkFirst(walk), []) : all(s.walkNext(walk), s.walkParams(walkKey(cursor)))),
    bulkUpdate: async (category, qty) => run(s.bulkUpdate(writes), [qty, s.encodeDate(new Date()), category]).changes,
    bulkDelete: async (category) => run(s.bulkDelete(writes), [category]).changes,
    bulkUpsert: async (rows) => {
      const now = new Date()
      return tx((): UpsertResult => {
        let existing = 0
        for (const chunk of chunks(rows)) {
          existing += all(s.existing(writes, chunk.length), chunk.map((r) => r.sku)).length
        }
        for (const chunk of chunks(rows, s.bulkChunk)) {
          const b = s.bulkUpsert(writes, chunk, now)
          run(b.text, b.params)
        }
        return { inserted: rows.length - existing, updated: existing }
      })
    }
  }
}

const pgTransaction = (client: pg.Client) => async <A>(f: () => Promise<A>): Promise<A> => {
  await client.query("BEGIN")
  try {
    const a = await f()
    await client.query("COMMIT")
    return a
  } catch (e) {
    await client.query("ROLLBACK")
    throw e
  }
}

/**
 * A statement as a named prepared statement (one name per text on each client or pool):
 * PostgreSQL parses and plans it once per connection, as the nodes' statements on
 * `DataFlow.layer`'s client. node-postgres prepares a name on a connection the first time
 * that connection sees it.
 */
const preparedNames = new WeakMap<pg.ClientBase | pg.Pool, Map<string, string>>()
export const namedStatements = (on: pg.ClientBase | pg.Pool, prefix = "raw") => {
  let names = preparedNames.get(on)
  if (names === undefined) preparedNames.set(on, names = new Map())
  const named = names
  return (text: string, params: ReadonlyArray<unknown>): pg.QueryConfig => {
    let name = named.get(text)
    if (name === undefined) named.set(text, name = `${prefix}_${named.size + 1}`)
    return { name, text, values: params as Array<unknown> }
  }
}

/** node-postgres on one dedicated client, every statement prepared. */
export const pgRawOps = (client: pg.Client, s: Statements): Required<PromiseOps> => {
  const prepared = namedStatements(client)
  const rows = async (text: string, params: ReadonlyArray<unknown>) =>
    (await client.query<SqlRow>(prepared(text, params))).rows
  const tx = pgTransaction(client)
  return {
    create: async (row) => {
      const params: Array<unknown> = []
      s.encode(row, new Date(), params)
      return s.decode((await rows(s.insert(writes, 1, true), params))[0]!)
    },
    read: async (id) => {
      const found = await rows(s.selectById(items), [id])
      return found.length === 0 ? undefined : s.decode(found[0]!)
    },
    list: async (category) => (await rows(s.list(items), [category])).slice(0, LIST_LIMIT).map(s.decode),
    count: async (category) => Number((await rows(s.count(items), [category]))[0]?.n ?? 0),
    update: async (id, patch) =>
      s.decode((await rows(s.update(items), [patch.name, patch.qty, s.encodeDate(new Date()), id]))[0]!),
    bulkCreate: async (input) => {
      const now = new Date()
      await tx(async () => {
        for (const chunk of chunks(input, s.bulkChunk)) {
          const b = s.bulkInsert(writes, chunk, now)
          await client.query(prepared(b.text, b.params))
        }
      })
      return input.length
    },
    walkPage: async (cursor) =>
      s.walkPage(
        cursor === undefined ? await rows(s.walkFirst(walk), []) : await rows(s.walkNext(walk), s.walkParams(walkKey(cursor)))
      ),
    bulkUpdate: async (category, qty) =>
      s.affected(await client.query(prepared(s.bulkUpdate(writes), [qty, s.encodeDate(new Date()), category]))),
    bulkDelete: async (category) => s.affected(await client.query(prepared(s.bulkDelete(writes), [category]))),
    bulkUpsert: async (input) => {
      const now = new Date()
      return tx(async () => {
        let inserted = 0
        for (const chunk of chunks(input, s.bulkChunk)) {
          const b = s.bulkUpsert(writes, chunk, now)
          for (const r of await rows(b.text, b.params)) if (r.__created === true) inserted++
        }
        return { inserted, updated: input.length - inserted }
      })
    }
  }
}

/**
 * bulkCreate on node-postgres as multi-row `INSERT … VALUES` of CHUNK (1000) rows, in one
 * transaction: what the nodes sent before they bound whole columns as arrays (UNNEST), kept
 * as the second raw-driver method. Returns the rows the server reports inserted.
 */
export const pgValuesBulkCreate = (client: pg.Client, s: Statements) => {
  const tx = pgTransaction(client)
  const prepared = namedStatements(client)
  return (input: ReadonlyArray<NewItem>): Promise<number> => {
    const now = new Date()
    return tx(async () => {
      let inserted = 0
      for (const chunk of chunks(input, CHUNK)) {
        const b = s.valuesInsert(writes, chunk, now)
        inserted += s.affected(await client.query(prepared(b.text, b.params)))
      }
      return inserted
    })
  }
}

/** mysql2 on one dedicated connection, prepared statements (`execute`, as @effect/sql-mysql2 does). */
export const mysqlRawOps = (conn: MysqlConnection, s: Statements): Required<PromiseOps> => {
  const exec = async (text: string, params: ReadonlyArray<unknown>): Promise<unknown> => {
    const [result] = await conn.execute(text, params as Array<string | number | boolean | null>)
    return result
  }
  const rows = async (text: string, params: ReadonlyArray<unknown>) => (await exec(text, params)) as Array<SqlRow>
  const tx = async <A>(f: () => Promise<A>): Promise<A> => {
    await conn.query("BEGIN")
    try {
      const a = await f()
      await conn.query("COMMIT")
      return a
    } catch (e) {
      await conn.query("ROLLBACK")
      throw e
    }
  }
  const readBack = async (id: number, table: typeof items | typeof writes): Promise<Item> =>
    s.decode((await rows(s.selectById(table), [id]))[0]!)
  return {
    create: async (row: NewItem) => {
      const params: Array<unknown> = []
      s.encode(row, new Date(), params)
      const raw = await exec(s.insert(writes, 1, false), params)
      return readBack(s.insertId(raw), writes)
    },
    read: async (id) => {
      const found = await rows(s.selectById(items), [id])
      return found.length === 0 ? undefined : s.decode(found[0]!)
    },
    list: async (category) => (await rows(s.list(items), [category])).slice(0, LIST_LIMIT).map(s.decode),
    count: async (category) => Number((await rows(s.count(items), [category]))[0]?.n ?? 0),
    update: (id, patch) =>
      tx(async () => {
        await exec(s.update(items), [patch.name, patch.qty, s.encodeDate(new Date()), id])
        return readBack(id, items)
      }),
    bulkCreate: async (input) => {
      const now = new Date()
      await tx(async () => {
        for (const chunk of chunks(input, s.bulkChunk)) {
          const b = s.bulkInsert(writes, chunk, now)
          await exec(b.text, b.params)
        }
      })
      return input.length
    },
    walkPage: async (cursor) =>
      s.walkPage(
        cursor === undefined ? await rows(s.walkFirst(walk), []) : await rows(s.walkNext(walk), s.walkParams(walkKey(cursor)))
      ),
    bulkUpdate: async (category, qty) =>
      s.affected(await exec(s.bulkUpdate(writes), [qty, s.encodeDate(new Date()), category])),
    bulkDelete: async (category) => s.affected(await exec(s.bulkDelete(writes), [category])),
    bulkUpsert: async (input) => {
      const now = new Date()
      return tx(async () => {
        let existing = 0
        for (const chunk of chunks(input)) {
          existing += (await rows(s.existing(writes, chunk.length), chunk.map((r) => r.sku))).length
        }
        for (const chunk of chunks(input, s.bulkChunk)) {
          const b = s.bulkUpsert(writes, chunk, now)
          await exec(b.text, b.params)
        }
        return { inserted: input.length - existing, updated: existing }
      })
    }
  }
}
