/**
 * The library's PostgreSQL client's DDL connections (src/internal/client/pgDdl.ts): kept
 * between uses (one connection for first uses one after the other), one each for concurrent
 * uses, never reused after a use that left a transaction open or was interrupted, closed with
 * the layer. Real server.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { randomBytes } from "node:crypto"
import Pg from "pg"
import { inject } from "vitest"
import type { DdlConnection } from "../src/internal/client/executor.js"
import { ClientExecutor } from "../src/internal/client/executor.js"
import * as PgOwnClient from "../src/internal/client/pg.js"
import { pgUrl } from "./support/servers.js"

const available = inject("pgAvailable")
const application = `df_ddl_${randomBytes(4).toString("hex")}`
const layer = PgOwnClient.layer({ url: pgUrl, applicationName: application })

const pidOf = (ddl: DdlConnection) =>
  Effect.map(ddl.execute("SELECT pg_backend_pid() AS pid", []), (rows) => Number(rows[0]!.pid))

const withDdl = <A, E>(f: (ddl: DdlConnection) => Effect.Effect<A, E>) =>
  Effect.flatMap(ClientExecutor, (executor) => Effect.scoped(Effect.flatMap(executor.ddlConnection!, f)))

/** The server processes of this test's client (by its application name), from a connection of its own. */
const serverProcesses = Effect.promise(async () => {
  const client = new Pg.Client({ connectionString: pgUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
      [application]
    )
    return rows.map((r) => r.pid)
  } finally {
    await client.end()
  }
})

describe.runIf(available)("the PostgreSQL client's DDL connections", () => {
  it.live("a named statement whose table changed type is prepared again under a new name", () =>
    Effect.gen(function*() {
      const executor = yield* ClientExecutor
      const table = `stale_${randomBytes(3).toString("hex")}`
      yield* withDdl((ddl) => ddl.executeRaw(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL)`, []))
      yield* withDdl((ddl) => ddl.executeRaw(`INSERT INTO ${table} VALUES (1, 5)`, []))
      const text = `SELECT v FROM ${table} WHERE id = $1`
      const select = () => executor.run(text, [1], "rows", { safeIntegers: false, transaction: undefined })!
      // named from its second use, then prepared on the connection that runs it
      for (let i = 0; i < 3; i++) expect(yield* select()).toEqual([{ v: 5 }])
      yield* withDdl((ddl) => ddl.executeRaw(`ALTER TABLE ${table} ALTER COLUMN v TYPE TEXT`, []))
      expect(yield* select()).toEqual([{ v: "5" }])
      expect(yield* select()).toEqual([{ v: "5" }])
      yield* withDdl((ddl) => ddl.executeRaw(`DROP TABLE ${table}`, []))
    }).pipe(Effect.provide(layer)))

  it.live("uses one after the other share one connection; concurrent uses each have their own", () =>
    Effect.gen(function*() {
      const first = yield* withDdl(pidOf)
      const second = yield* withDdl(pidOf)
      expect(second).toBe(first)
      // two uses at once: two connections, neither waits for the other
      const inside = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(withDdl((ddl) => Effect.zipLeft(pidOf(ddl), Deferred.await(inside))))
      const other = yield* withDdl(pidOf).pipe(Effect.timeout("5 seconds"))
      yield* Deferred.succeed(inside, undefined)
      const held = yield* Fiber.join(holder)
      expect(new Set([held, other]).size).toBe(2)
    }).pipe(Effect.provide(layer)))

  it.live("a use that leaves a transaction open or fails its transaction does not give its connection to the next", () =>
    Effect.gen(function*() {
      const first = yield* withDdl((ddl) => Effect.zipLeft(pidOf(ddl), ddl.executeRaw("BEGIN", [])))
      const second = yield* withDdl((ddl) =>
        Effect.gen(function*() {
          // a fresh connection: no transaction open on it
          const rows = yield* ddl.execute("SELECT now() = statement_timestamp() AS fresh", [])
          expect(rows[0]!.fresh).toBe(true)
          return yield* pidOf(ddl)
        })
      )
      expect(second).not.toBe(first)
      // a transaction rolled back: clean again, kept
      yield* withDdl((ddl) =>
        Effect.gen(function*() {
          yield* ddl.executeRaw("BEGIN", [])
          yield* Effect.ignore(ddl.executeRaw("SELECT * FROM no_such_table_at_all", []))
          yield* ddl.executeRaw("ROLLBACK", [])
        })
      )
      const third = yield* withDdl(pidOf)
      const fourth = yield* withDdl(pidOf)
      expect(fourth).toBe(third)
    }).pipe(Effect.provide(layer)))

  it.live("an interrupted use's connection is not kept; the layer closes the kept ones", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<number>()
      const fiber = yield* Effect.fork(withDdl((ddl) =>
        Effect.flatMap(pidOf(ddl), (pid) =>
          Effect.zipRight(Deferred.succeed(started, pid), ddl.executeRaw("SELECT pg_sleep(30)", [])))
      ))
      const interrupted = yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber).pipe(Effect.timeout("10 seconds"))
      const next = yield* withDdl(pidOf)
      expect(next).not.toBe(interrupted)
    }).pipe(
      Effect.provide(layer),
      Effect.zipRight(Effect.sleep("200 millis")),
      // the layer is closed: none of its connections is left on the server
      Effect.zipRight(serverProcesses),
      Effect.map((left) => expect(left).toEqual([]))
    ))
})
