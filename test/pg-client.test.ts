/**
 * The library's own PostgreSQL client (src/internal/client/pg.ts) against the real server: user
 * statements as with `@effect/sql-pg`, cursor streams with bounded memory, the executor's named
 * statements and transaction connections, cancellation of interrupted statements, interruptible
 * and bounded waits for the pool, the DDL connection, lost connections.
 *
 * Every test opens a client of its own (a pool size of its choosing) on a schema private to this
 * file, and holds row locks through a raw `pg` connection.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient, Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import type { PgClient } from "@effect/sql-pg"
import type { Duration } from "effect"
import { Cause, Chunk, Deferred, Effect, Exit, Fiber, Layer, Option, Stream } from "effect"
import { randomBytes } from "node:crypto"
import type { AddressInfo, Server, Socket } from "node:net"
import { createServer } from "node:net"
import Pg from "pg"
import { afterAll, beforeAll, inject } from "vitest"
import { ClientExecutor } from "../src/internal/client/executor.js"
import * as PgOwnClient from "../src/internal/client/pg.js"
import { pgUrl } from "./support/servers.js"

const schema = `df_pgclient_${randomBytes(4).toString("hex")}`
const url = (() => {
  const u = new URL(pgUrl)
  u.searchParams.set("options", `-c search_path=${schema}`)
  return u.toString()
})()

/** A raw connection, not through the client under test. */
const rawClient = async () => {
  const client = new Pg.Client({ connectionString: url })
  client.on("error", () => {})
  await client.connect()
  return client
}

const available = inject("pgAvailable")

beforeAll(async () => {
  if (!available) return
  const admin = await rawClient()
  await admin.query(`CREATE SCHEMA "${schema}"`)
  await admin.query(`CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, doc JSONB)`)
  await admin.query(`CREATE TABLE counters (id INT PRIMARY KEY, v INT NOT NULL)`)
  await admin.query(`CREATE TABLE rows10k (id INT PRIMARY KEY, pad TEXT NOT NULL)`)
  await admin.query(`INSERT INTO rows10k SELECT g, repeat('x', 100) FROM generate_series(1, 10000) g`)
  await admin.end()
})

afterAll(async () => {
  if (!available) return
  const admin = await rawClient()
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await admin.end()
})

const clientLayer = (options: { readonly max?: number; readonly acquireTimeout?: Duration.DurationInput } = {}) =>
  PgOwnClient.layer({ url, maxConnections: options.max, acquireTimeout: options.acquireTimeout })

/** The `@effect/sql-pg` JSON fragment (`PgClient.json`), through the public `Statement.custom`. */
const pgJson = Statement.custom<PgClient.PgCustom>("PgJson")

const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const exit = yield* Effect.exit(self)
    return { exit, ms: Date.now() - start }
  })

const outcome = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) return (failure.value as { readonly _tag?: string })._tag ?? "untagged failure"
  return Cause.isInterruptedOnly(exit.cause) ? "interrupted" : `defect: ${Cause.pretty(exit.cause)}`
}

const failureOf = <E>(exit: Exit.Exit<unknown, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/** A raw connection that holds a row lock of `counters` until released. */
const locker = Effect.acquireRelease(
  Effect.promise(async () => {
    const client = await rawClient()
    return {
      lock: async (id: number) => {
        await client.query("BEGIN")
        await client.query("SELECT * FROM counters WHERE id = $1 FOR UPDATE", [id])
      },
      release: async () => void (await client.query("COMMIT")),
      query: async (text: string, values: Array<unknown> = []) =>
        (await client.query(text, values)).rows as Array<Record<string, unknown>>,
      end: () => client.end()
    }
  }),
  (c) => Effect.promise(() => c.end().catch(() => undefined))
)

/** The fiber's transaction connection (undefined outside a transaction). */
const transactionConnection = Effect.map(
  Effect.serviceOption(SqlClient.TransactionConnection),
  (current) => Option.getOrUndefined(current)?.[0]
)

const pidOf = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`, (rows) => rows[0]!.pid)

describe.runIf(available)("the library's PostgreSQL client", () => {
  it.live("runs user statements as @effect/sql-pg does: select, insert RETURNING, json, in, values, raw", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql<{ n: number }>`SELECT 1::int AS n`).toEqual([{ n: 1 }])
      const insert = sql<{ id: number; name: string; doc: unknown }>`INSERT INTO items (name, doc) VALUES (${"json"}, ${
        pgJson({ tags: ["a", "b"], n: 1 })
      }) RETURNING id, name, doc`
      // compiled by @effect/sql-pg's compiler: numbered placeholders, the JSON value as one parameter
      expect(insert.compile()).toEqual([
        "INSERT INTO items (name, doc) VALUES ($1, $2) RETURNING id, name, doc",
        ["json", { tags: ["a", "b"], n: 1 }]
      ])
      const [row] = yield* insert
      expect(row).toMatchObject({ name: "json", doc: { tags: ["a", "b"], n: 1 } })
      const [second] = yield* sql<{ id: number }>`INSERT INTO items ${sql.insert({ name: "plain" })} RETURNING id`
      const names = yield* sql<{ name: string }>`SELECT name FROM items WHERE id IN ${sql.in([row!.id, second!.id])} ORDER BY id`
      expect(names.map((r) => r.name)).toEqual(["json", "plain"])
      expect(yield* sql`SELECT ${"a"}::text AS a, 2::int AS b`.values).toEqual([["a", 2]])
      const raw = yield* sql`UPDATE items SET name = name WHERE id IN ${sql.in([row!.id, second!.id])}`.raw
      expect(raw).toMatchObject({ command: "UPDATE", rowCount: 2 })
      // several statements in one text, without parameters: one row list per statement
      expect(yield* sql.unsafe("SELECT 1::int AS a; SELECT 2::int AS b")).toEqual([[{ a: 1 }], [{ b: 2 }]])
      const error = yield* Effect.flip(sql`SELECT * FROM no_such_table`)
      expect(error).toBeInstanceOf(SqlError)
      expect(error.message).toBe("Failed to execute statement")
      expect(error.cause).toMatchObject({ code: "42P01" })
    }).pipe(Effect.provide(clientLayer())))

  it.live("withTransaction commits, rolls back, and nests as savepoints", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const add = (name: string) => sql`INSERT INTO items (name) VALUES (${name})`
      yield* sql.withTransaction(add("tx-committed"))
      yield* Effect.flip(sql.withTransaction(Effect.zipRight(add("tx-rolled-back"), Effect.fail("boom"))))
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* add("tx-outer")
        yield* Effect.ignore(sql.withTransaction(Effect.zipRight(add("tx-inner"), Effect.fail("inner"))))
        yield* sql.withTransaction(add("tx-inner-kept"))
      }))
      const rows = yield* sql<{ name: string }>`SELECT name FROM items WHERE name LIKE 'tx-%' ORDER BY name`
      expect(rows.map((r) => r.name)).toEqual(["tx-committed", "tx-inner-kept", "tx-outer"])
    }).pipe(Effect.provide(clientLayer())))

  it.live("sql.stream reads 10,000 rows through a cursor, at most 128 rows at a time", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const sizes = yield* sql<{ id: number }>`SELECT id FROM rows10k ORDER BY id`.stream.pipe(
        Stream.chunks,
        Stream.runFold([] as Array<number>, (acc, chunk) => [...acc, Chunk.size(chunk)])
      )
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000)
      expect(Math.max(...sizes)).toBe(128)
      expect(sizes.length).toBe(Math.ceil(10_000 / 128))
      const sum = yield* sql<{ id: number }>`SELECT id FROM rows10k`.stream.pipe(
        Stream.runFold(0, (acc, row) => acc + row.id)
      )
      expect(sum).toBe(10_000 * 10_001 / 2)
      // inside a transaction, on its connection
      const inTransaction = yield* sql.withTransaction(sql`SELECT id FROM rows10k`.stream.pipe(Stream.runCount))
      expect(inTransaction).toBe(10_000)
    }).pipe(Effect.provide(clientLayer())))

  it.live("a stream stopped early closes its cursor and gives its connection back", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pid = yield* pidOf(sql)
      const taken = yield* sql<{ id: number }>`SELECT id FROM rows10k ORDER BY id`.stream.pipe(
        Stream.take(300),
        Stream.runCollect
      )
      expect(Chunk.toReadonlyArray(taken).map((r) => r.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
      // the pool's one connection is back (else this would wait), outside any transaction, no cursor left
      const after = yield* sql<{ pid: number; cursors: number; idle: boolean }>`
        SELECT pg_backend_pid() AS pid, (SELECT count(*)::int FROM pg_cursors) AS cursors,
               now() = statement_timestamp() AS idle`.pipe(Effect.timeout("5 seconds"))
      expect(after).toEqual([{ pid, cursors: 0, idle: true }])
      // inside a transaction: the cursor is closed, the transaction goes on
      const inside = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT id FROM rows10k ORDER BY id`.stream.pipe(Stream.take(200), Stream.runDrain)
        return yield* sql<{ cursors: number }>`SELECT count(*)::int AS cursors FROM pg_cursors`
      }))
      expect(inside).toEqual([{ cursors: 0 }])
      // a stream that fails midway: a SqlError, and the connection is usable again
      const failure = yield* Effect.flip(
        sql`SELECT 1 / (id - 500) AS x FROM rows10k ORDER BY id`.stream.pipe(Stream.runDrain)
      )
      expect(failure).toBeInstanceOf(SqlError)
      expect(failure.cause).toMatchObject({ code: "22012" })
      expect(yield* pidOf(sql).pipe(Effect.timeout("5 seconds"))).toBe(pid)
    }).pipe(Effect.provide(clientLayer({ max: 1 }))))

  it.live("a stream interrupted while it is read ends its transaction and gives its connection back", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pid = yield* pidOf(sql)
      const started = yield* Deferred.make<void>()
      const reader = yield* Effect.fork(
        sql<{ id: number }>`SELECT id FROM rows10k ORDER BY id`.stream.pipe(
          Stream.tap(() => Effect.zipRight(Deferred.succeed(started, undefined), Effect.sleep("10 millis"))),
          Stream.runDrain
        )
      )
      yield* Deferred.await(started)
      const interrupted = yield* elapsed(Fiber.interrupt(reader))
      expect(outcome(interrupted.exit)).toBe("success")
      expect(interrupted.ms).toBeLessThan(2000)
      const after = yield* sql<{ pid: number; cursors: number; idle: boolean }>`
        SELECT pg_backend_pid() AS pid, (SELECT count(*)::int FROM pg_cursors) AS cursors,
               now() = statement_timestamp() AS idle`.pipe(Effect.timeout("5 seconds"))
      expect(after).toEqual([{ pid, cursors: 0, idle: true }])
    }).pipe(Effect.provide(clientLayer({ max: 1 }))))

  it.live("the executor runs a statement as a named prepared statement from its second use", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const executor = yield* ClientExecutor
      expect(executor.client).toBe(sql)
      const prepared = (text: string) =>
        Effect.map(
          sql<{ name: string; plans: number }>`SELECT name, (generic_plans + custom_plans)::int AS plans
            FROM pg_prepared_statements WHERE statement = ${text}`,
          (rows) => rows
        )
      const text = "SELECT id, name FROM items WHERE name = $1"
      yield* sql.withTransaction(Effect.gen(function*() {
        const connection = yield* transactionConnection
        expect(connection).toBeDefined()
        const run = () => executor.run(text, ["nobody"], "rows", { safeIntegers: false, transaction: connection })!
        expect(yield* run()).toEqual([])
        expect(yield* prepared(text)).toEqual([])
        yield* run()
        const [statement] = yield* prepared(text)
        expect(statement?.name).toMatch(/^dataflow_\d+$/)
        yield* run()
        expect(yield* prepared(text)).toEqual([{ name: statement!.name, plans: 2 }])
      }))
      // on the pool (one connection here): the same name, prepared on that connection
      const other = "SELECT count(*)::int AS n FROM items WHERE id > $1"
      const run = () => executor.run(other, [0], "rows", { safeIntegers: false, transaction: undefined })!
      yield* run()
      expect(yield* prepared(other)).toEqual([])
      expect(yield* run()).toEqual([{ n: expect.any(Number) }])
      expect((yield* prepared(other))[0]?.name).toMatch(/^dataflow_\d+$/)
      const raw = yield* executor.run("UPDATE counters SET v = v WHERE id < 0", [], "raw", {
        safeIntegers: false,
        transaction: undefined
      })!
      expect(raw).toMatchObject({ command: "UPDATE", rowCount: 0 })
    }).pipe(Effect.provide(clientLayer({ max: 1 }))))

  it.live("the executor on a transaction connection takes part in the transaction", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const executor = yield* ClientExecutor
      const insert = (name: string) =>
        Effect.flatMap(transactionConnection, (connection) =>
          executor.run("INSERT INTO items (name) VALUES ($1)", [name], "raw", { safeIntegers: false, transaction: connection })!)
      const rolledBack = yield* Effect.exit(sql.withTransaction(Effect.zipRight(insert("ex-rolled-back"), Effect.fail("boom"))))
      expect(outcome(rolledBack)).toBe("untagged failure")
      const committed = yield* sql.withTransaction(insert("ex-committed"))
      expect(committed).toMatchObject({ rowCount: 1 })
      const rows = yield* sql<{ name: string }>`SELECT name FROM items WHERE name LIKE 'ex-%' ORDER BY name`
      expect(rows.map((r) => r.name)).toEqual(["ex-committed"])
      // a transaction connection of another client: its own public API runs the statement
      const calls: Array<string> = []
      const foreign: Connection = {
        execute: (text) => Effect.sync(() => (calls.push(`execute ${text}`), [])),
        executeRaw: (text) => Effect.sync(() => (calls.push(`raw ${text}`), {})),
        executeValues: () => Effect.succeed([]),
        executeUnprepared: () => Effect.succeed([]),
        executeStream: () => Stream.empty
      }
      yield* executor.run("SELECT 1", [], "rows", { safeIntegers: false, transaction: foreign })!
      yield* executor.run("SELECT 2", [], "raw", { safeIntegers: false, transaction: foreign })!
      expect(calls).toEqual(["execute SELECT 1", "raw SELECT 2"])
    }).pipe(Effect.provide(clientLayer())))

  it.live("an interrupted statement blocked on a lock returns at once and is never applied", () =>
    Effect.scoped(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const executor = yield* ClientExecutor
      yield* sql`INSERT INTO counters (id, v) VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET v = 0`
      const raw = yield* locker
      const bump = "UPDATE counters SET v = v + 1 WHERE id = 1"
      const attempts = {
        "sql on the pool": sql.unsafe(bump),
        "executor on the pool": executor.run(bump, [], "raw", { safeIntegers: false, transaction: undefined })!,
        "sql in a transaction": sql.withTransaction(sql.unsafe(bump)),
        "executor in a transaction": sql.withTransaction(Effect.flatMap(transactionConnection, (connection) =>
          executor.run(bump, [], "raw", { safeIntegers: false, transaction: connection })!))
      }
      yield* Effect.promise(() => raw.lock(1))
      for (const [label, attempt] of Object.entries(attempts)) {
        const result = yield* elapsed(attempt.pipe(Effect.timeout("300 millis")))
        expect(outcome(result.exit), label).toBe("TimeoutException")
        expect(result.ms, label).toBeLessThan(2000)
      }
      // nothing of them is left on the server
      const waiting = yield* Effect.promise(() =>
        raw.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1 AND state = 'active'", [bump])
      )
      expect(waiting).toEqual([{ n: 0 }])
      yield* Effect.promise(() => raw.release())
      yield* Effect.sleep("300 millis")
      expect(yield* sql<{ v: number }>`SELECT v FROM counters WHERE id = 1`).toEqual([{ v: 0 }])
    })).pipe(Effect.provide(clientLayer())))

  it.live("with its only connection blocked, an interrupted statement is still cancelled", () =>
    Effect.scoped(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO counters (id, v) VALUES (2, 0) ON CONFLICT (id) DO UPDATE SET v = 0`
      const raw = yield* locker
      yield* Effect.promise(() => raw.lock(2))
      const result = yield* elapsed(sql`UPDATE counters SET v = v + 1 WHERE id = 2`.pipe(Effect.timeout("300 millis")))
      expect(outcome(result.exit)).toBe("TimeoutException")
      expect(result.ms).toBeLessThan(2000)
      yield* Effect.promise(() => raw.release())
      yield* Effect.sleep("300 millis")
      expect(yield* sql<{ v: number }>`SELECT v FROM counters WHERE id = 2`.pipe(Effect.timeout("5 seconds"))).toEqual([
        { v: 0 }
      ])
    })).pipe(Effect.provide(clientLayer({ max: 1 }))))

  it.live("waiting for a pool of one is interruptible, for a transaction or a statement, and the pool stays usable", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const holding = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        sql.withTransaction(Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release)))
      )
      yield* Deferred.await(holding)
      const transaction = yield* elapsed(sql.withTransaction(sql`SELECT 1`).pipe(Effect.timeout("300 millis")))
      expect(outcome(transaction.exit)).toBe("TimeoutException")
      expect(transaction.ms).toBeLessThan(2000)
      const statement = yield* elapsed(sql`SELECT 1`.pipe(Effect.timeout("300 millis")))
      expect(outcome(statement.exit)).toBe("TimeoutException")
      expect(statement.ms).toBeLessThan(2000)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      // the one connection came back, and the abandoned waits did not keep it
      for (const round of [1, 2, 3]) {
        const rows = yield* sql.withTransaction(sql<{ n: number }>`SELECT ${round}::int AS n`).pipe(Effect.timeout("5 seconds"))
        expect(rows).toEqual([{ n: round }])
      }
      expect(yield* sql<{ n: number }>`SELECT 1::int AS n`.pipe(Effect.timeout("5 seconds"))).toEqual([{ n: 1 }])
    }).pipe(Effect.provide(clientLayer({ max: 1 }))))

  it.live("acquireTimeout fails a wait for the pool with a SqlError within the bound", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const executor = yield* ClientExecutor
      const holding = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        sql.withTransaction(Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release)))
      )
      yield* Deferred.await(holding)
      const attempts = {
        statement: sql`SELECT 1`,
        transaction: sql.withTransaction(sql`SELECT 1`),
        executor: executor.run("SELECT 1", [], "rows", { safeIntegers: false, transaction: undefined })!,
        stream: sql`SELECT 1`.stream.pipe(Stream.runDrain)
      }
      for (const [label, attempt] of Object.entries(attempts)) {
        const result = yield* elapsed(attempt)
        const error = failureOf(result.exit)
        expect(error, label).toBeInstanceOf(SqlError)
        expect((error as SqlError).cause, label).toMatchObject({ message: expect.stringMatching(/timeout/i) })
        expect(result.ms, label).toBeLessThan(2000)
      }
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      expect(yield* sql<{ n: number }>`SELECT 1::int AS n`).toEqual([{ n: 1 }])
    }).pipe(Effect.provide(clientLayer({ max: 1, acquireTimeout: "200 millis" }))))

  it.live("the DDL connection runs outside the pool and outside any transaction", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const executor = yield* ClientExecutor
      const table = `ddl_${randomBytes(3).toString("hex")}`
      const exit = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
        // the transaction holds the pool's one connection: DDL must not wait for it
        yield* Effect.scoped(Effect.flatMap(executor.ddlConnection!, (ddl) =>
          Effect.zipRight(
            ddl.executeRaw(`CREATE TABLE ${table} (id INT PRIMARY KEY)`, []),
            ddl.executeRaw(`INSERT INTO ${table} (id) VALUES ($1)`, [7])
          ))).pipe(Effect.timeout("5 seconds"))
        return yield* Effect.fail("roll back")
      })))
      expect(outcome(exit)).toBe("untagged failure")
      // the rollback did not touch what the DDL connection did
      expect(yield* sql<{ id: number }>`SELECT id FROM ${sql(table)}`).toEqual([{ id: 7 }])
      const failure = yield* Effect.flip(Effect.scoped(Effect.flatMap(executor.ddlConnection!, (ddl) => ddl.executeRaw("CREATE TABLE", []))))
      expect(failure).toBeInstanceOf(SqlError)
    }).pipe(Effect.provide(clientLayer({ max: 1 }))))

  it.live("a connection that was lost is never handed out again", () =>
    Effect.scoped(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const raw = yield* locker
      const terminate = (pid: number) => Effect.promise(() => raw.query("SELECT pg_terminate_backend($1)", [pid]))
      // lost inside a transaction: the transaction fails, its connection is destroyed
      const exit = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
        const pid = yield* pidOf(sql)
        yield* terminate(pid)
        yield* Effect.sleep("100 millis")
        yield* sql`SELECT 1`
        return pid
      })))
      expect(Exit.isFailure(exit)).toBe(true)
      const first = yield* pidOf(sql).pipe(Effect.timeout("5 seconds"))
      expect(yield* pidOf(sql)).toBe(first)
      // lost while idle in the pool
      yield* terminate(first)
      yield* Effect.sleep("200 millis")
      const second = yield* pidOf(sql).pipe(Effect.timeout("5 seconds"))
      expect(second).not.toBe(first)
      // lost while a statement runs on it
      const running = yield* Effect.fork(sql`SELECT pg_sleep(5)`)
      yield* Effect.sleep("200 millis")
      yield* terminate(second)
      const error = failureOf(yield* Fiber.await(running))
      expect(error).toBeInstanceOf(SqlError)
      const third = yield* pidOf(sql).pipe(Effect.timeout("5 seconds"))
      expect([first, second]).not.toContain(third)
    })).pipe(Effect.provide(clientLayer({ max: 1 }))))

  it.live("the layer fails when the server does not answer", () =>
    Effect.gen(function*() {
      const unreachable = new URL(url)
      unreachable.port = "1"
      const result = yield* elapsed(Layer.build(PgOwnClient.layer({ url: unreachable.toString() })).pipe(Effect.scoped))
      const error = failureOf(result.exit)
      expect(error).toBeInstanceOf(SqlError)
      expect(error?.message).toBe("PgClient: Failed to connect")
      expect(result.ms).toBeLessThan(5500)
    }))

  it.live("the layer fails within 5 seconds when the server accepts the connection but never answers", () =>
    Effect.scoped(Effect.gen(function*() {
      const sockets = new Set<Socket>()
      const silent = yield* Effect.acquireRelease(
        Effect.async<Server>((resume) => {
          const server = createServer((socket) => void sockets.add(socket))
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.sync(() => {
            for (const socket of sockets) socket.destroy()
            server.close()
          })
      )
      const u = new URL(url)
      u.port = String((silent.address() as AddressInfo).port)
      const result = yield* elapsed(Layer.build(PgOwnClient.layer({ url: u.toString() })).pipe(Effect.scoped))
      const error = failureOf(result.exit)
      expect(error).toBeInstanceOf(SqlError)
      expect(error?.message).toBe("PgClient: Connection timed out")
      expect(result.ms).toBeLessThan(5500)
    })))
})
