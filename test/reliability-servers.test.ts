/**
 * Reliability under pool pressure and locks on PostgreSQL and MariaDB (issue 9): DDL on first
 * use never waits for a connection the waiting work holds, waits for connections are
 * interruptible and bounded, interrupted statements are cancelled on the server, transaction
 * timeouts roll back, MySQL prepared statements are capped per connection.
 *
 * Each test opens clients of its own (a pool size of its choosing) on this run's private
 * schema/database, and holds row locks through a raw driver connection.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Schema } from "effect"
import MysqlRaw from "mysql2/promise"
import PgRaw from "pg"
import { inject } from "vitest"
import { DataFlow, Model } from "../src/index.js"
import { privateUrl, uniqueTable } from "./support/db.js"

type Server = "pg" | "mysql"

interface Client {
  readonly label: string
  readonly server: Server
  /** Does an interrupted statement stop on the server (so a timeout leaves nothing behind)? */
  readonly cancels: boolean
  /**
   * Can first-use DDL never wait for a pool connection? Not through `MysqlClient.layer`: MySQL
   * DDL would commit the transaction, so it needs a pool connection of its own (documented).
   */
  readonly ddlNeverWaits: boolean
  readonly layer: (url: string, max: number, acquireTimeout?: Duration.DurationInput) => Layer.Layer<SqlClient.SqlClient, unknown>
}

const generic = <E>(driver: Layer.Layer<SqlClient.SqlClient, E>) =>
  Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient).pipe(Layer.provide(driver))

const own = (server: Server): Client => ({
  label: server,
  server,
  cancels: true,
  ddlNeverWaits: true,
  layer: (url, max, acquireTimeout) =>
    DataFlow.layer({ url, pool: { max, ...(acquireTimeout === undefined ? {} : { acquireTimeout }) } })
})

const clients: ReadonlyArray<Client> = [
  own("pg"),
  {
    label: "pg, PgClient.layer",
    server: "pg",
    cancels: true,
    ddlNeverWaits: true,
    layer: (url, max) => generic(PgClient.layer({ url: Redacted.make(url), maxConnections: max }))
  },
  own("mysql"),
  {
    label: "mysql, MysqlClient.layer",
    server: "mysql",
    // @effect/sql-mysql2 has no canceller: an interrupted statement runs on (documented)
    cancels: false,
    ddlNeverWaits: false,
    layer: (url, max) => generic(MysqlClient.layer({ url: Redacted.make(url), maxConnections: max }))
  }
]

const makeDoc = () =>
  Model.make("Doc", Schema.Struct({ id: Schema.String, title: Schema.String }), { table: uniqueTable("rel_docs") })

/** A raw connection (not the library's) that holds row locks until released. */
const rawLocker = (server: Server, url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      if (server === "pg") {
        const c = new PgRaw.Client({ connectionString: url })
        await c.connect()
        return {
          lock: async (table: string) => {
            await c.query("BEGIN")
            await c.query(`SELECT * FROM "${table}" FOR UPDATE`)
          },
          release: async () => void (await c.query("COMMIT")),
          query: async (text: string) => (await c.query(text)).rows as Array<Record<string, unknown>>,
          end: () => c.end()
        }
      }
      const c = await MysqlRaw.createConnection({ uri: url })
      return {
        lock: async (table: string) => {
          await c.query("START TRANSACTION")
          await c.query(`SELECT * FROM \`${table}\` FOR UPDATE`)
        },
        release: async () => void (await c.query("COMMIT")),
        query: async (text: string) => (await c.query(text))[0] as Array<Record<string, unknown>>,
        end: () => c.end()
      }
    }),
    (c) => Effect.promise(() => c.end().catch(() => undefined))
  )

const tagOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) return (failure.value as { readonly _tag?: string })._tag ?? "untagged failure"
  return Cause.isInterruptedOnly(exit.cause) ? "interrupted" : `defect: ${Cause.pretty(exit.cause)}`
}

const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const exit = yield* Effect.exit(self)
    return { exit, ms: Date.now() - start }
  })

const available = (server: Server) => inject(server === "pg" ? "pgAvailable" : "mysqlAvailable")

for (const client of clients) {
  describe.runIf(available(client.server))(`reliability under pressure [${client.label}]`, () => {
    const tag = `rel_${client.label.replace(/[^a-z]+/gi, "_")}`

    if (client.ddlNeverWaits) it.live("a burst of transactions as large as the pool, each the first use of a table, completes", () =>
      Effect.gen(function*() {
        const url = yield* privateUrl(client.server, tag)
        for (const round of [1, 2]) {
          const Doc = makeDoc()
          const burst = Effect.forEach(
            [0, 1, 2],
            (i) => Doc.create({ id: `r${round}-${i}`, title: "t" }).pipe(DataFlow.transaction()),
            { concurrency: "unbounded" }
          )
          const result = yield* elapsed(burst.pipe(Effect.timeout("20 seconds"), Effect.provide(client.layer(url, 3))))
          expect(tagOf(result.exit), `round ${round}`).toBe("success")
          expect(yield* Doc.count().pipe(Effect.provide(client.layer(url, 3)))).toBe(3)
        }
      }), 60_000)

    it.live("waiting for a transaction's connection is interruptible, and the connection is not lost", () =>
      Effect.scoped(Effect.gen(function*() {
        const url = yield* privateUrl(client.server, tag)
        const Doc = makeDoc()
        const layer = client.layer(url, 1)
        yield* Effect.gen(function*() {
          yield* DataFlow.migrate([Doc])
          const holding = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          const holder = yield* Effect.fork(
            Effect.gen(function*() {
              yield* Doc.create({ id: "holder", title: "t" })
              yield* Deferred.succeed(holding, undefined)
              yield* Deferred.await(release)
            }).pipe(DataFlow.transaction())
          )
          yield* Deferred.await(holding)
          const waiter = yield* elapsed(Doc.create({ id: "waiter", title: "t" }).pipe(DataFlow.transaction(), Effect.timeout("300 millis")))
          expect(tagOf(waiter.exit)).toBe("TimeoutException")
          expect(waiter.ms).toBeLessThan(3000)
          yield* Deferred.succeed(release, undefined)
          yield* Fiber.join(holder)
          // the one connection came back: more transactions run
          yield* Doc.create({ id: "after-1", title: "t" }).pipe(DataFlow.transaction())
          yield* Doc.create({ id: "after-2", title: "t" }).pipe(DataFlow.transaction())
          expect((yield* Doc.list({ orderBy: ["id"] })).records.map((d) => d.id)).toEqual(["after-1", "after-2", "holder"])
        }).pipe(Effect.provide(layer))
      })), 60_000)

    if (client.label === client.server) {
      it.live("pool.acquireTimeout bounds the wait for a connection with a retryable DatabaseError", () =>
        Effect.gen(function*() {
          const url = yield* privateUrl(client.server, tag)
          const Doc = makeDoc()
          yield* Effect.gen(function*() {
            yield* DataFlow.migrate([Doc])
            const holding = yield* Deferred.make<void>()
            const release = yield* Deferred.make<void>()
            const holder = yield* Effect.fork(
              Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release)).pipe(
                Effect.zipLeft(Doc.count()),
                DataFlow.transaction()
              )
            )
            yield* Deferred.await(holding)
            const statement = yield* elapsed(Doc.count())
            expect(Exit.isFailure(statement.exit) && Cause.failureOption(statement.exit.cause)).toMatchObject(
              Option.some({ _tag: "DatabaseError", retryable: true, code: "POOL_TIMEOUT" })
            )
            expect(statement.ms).toBeLessThan(3000)
            const transaction = yield* Effect.exit(Doc.create({ id: "x", title: "t" }).pipe(DataFlow.transaction()))
            expect(Exit.isFailure(transaction) && Cause.failureOption(transaction.cause)).toMatchObject(
              Option.some({ _tag: "DatabaseError", retryable: true })
            )
            yield* Deferred.succeed(release, undefined)
            yield* Fiber.join(holder)
            expect(yield* Doc.count()).toBe(0)
          }).pipe(Effect.provide(client.layer(url, 1, "200 millis")))
        }), 60_000)
    }

    if (client.cancels) {
      it.live("a node interrupted while blocked on a lock has not happened, and returns at once", () =>
        Effect.scoped(Effect.gen(function*() {
          const url = yield* privateUrl(client.server, tag)
          const Doc = makeDoc()
          const layer = client.layer(url, 4)
          yield* Doc.bulkCreate([{ id: "a", title: "before" }, { id: "b", title: "before" }]).pipe(Effect.provide(layer))
          const locker = yield* rawLocker(client.server, url)
          yield* Effect.promise(() => locker.lock(Doc.table))
          const runs = yield* Effect.all([
            elapsed(Doc.bulkUpdate({}, { title: "bulk" }, { confirm: true }).pipe(Effect.timeout("400 millis"))),
            elapsed(Doc.update("a", { title: "single" }).pipe(Effect.timeout("400 millis"))),
            elapsed(Doc.delete("b").pipe(Effect.timeout("400 millis")))
          ], { concurrency: "unbounded" }).pipe(Effect.provide(layer))
          for (const run of runs) {
            expect(tagOf(run.exit)).toBe("TimeoutException")
            expect(run.ms).toBeLessThan(5000)
          }
          yield* Effect.promise(() => locker.release())
          yield* Effect.sleep("500 millis")
          const rows = yield* Effect.promise(() => locker.query(`SELECT id, title FROM ${client.server === "pg" ? `"${Doc.table}"` : `\`${Doc.table}\``} ORDER BY id`))
          expect(rows.map((r) => [r.id, r.title])).toEqual([["a", "before"], ["b", "before"]])
        })), 60_000)

      it.live("transaction({ timeout }) rolls back before COMMIT with TransactionTimeout", () =>
        Effect.scoped(Effect.gen(function*() {
          const url = yield* privateUrl(client.server, tag)
          const Doc = makeDoc()
          const layer = client.layer(url, 4)
          yield* Doc.create({ id: "a", title: "before" }).pipe(Effect.provide(layer))
          const locker = yield* rawLocker(client.server, url)
          yield* Effect.promise(() => locker.lock(Doc.table))
          const run = yield* elapsed(
            Effect.gen(function*() {
              yield* Doc.create({ id: "new", title: "t" })
              yield* Doc.update("a", { title: "changed" })
            }).pipe(DataFlow.transaction({ timeout: "400 millis" }), Effect.provide(layer))
          )
          expect(tagOf(run.exit)).toBe("TransactionTimeout")
          expect(run.ms).toBeLessThan(5000)
          yield* Effect.promise(() => locker.release())
          yield* Effect.sleep("300 millis")
          const rows = yield* Effect.promise(() => locker.query(`SELECT id, title FROM ${client.server === "pg" ? `"${Doc.table}"` : `\`${Doc.table}\``} ORDER BY id`))
          expect(rows.map((r) => [r.id, r.title])).toEqual([["a", "before"]])
          // without a lock in the way, the same transaction commits within its timeout
          yield* Doc.create({ id: "new", title: "t" }).pipe(DataFlow.transaction({ timeout: "5 seconds" }), Effect.provide(layer))
        })), 60_000)
    }

    if (client.label === "mysql") {
      it.live("prepared statements are capped per connection (filters of a thousand shapes)", () =>
        Effect.scoped(Effect.gen(function*() {
          const url = yield* privateUrl(client.server, tag)
          const Doc = makeDoc()
          const layer = client.layer(url, 1)
          const locker = yield* rawLocker("mysql", url)
          const count = Effect.map(
            Effect.promise(() => locker.query("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'")),
            (rows) => Number(rows[0]!.Value)
          )
          yield* DataFlow.migrate([Doc]).pipe(Effect.provide(layer))
          const before = yield* count
          yield* Effect.forEach(
            Array.from({ length: 1000 }, (_, k) => k + 1),
            (k) => Doc.count({ id: { $in: Array.from({ length: k }, (_, i) => `id${i}`) } }),
            { discard: true }
          ).pipe(Effect.provide(layer))
          const after = yield* count
          // without a cap the one connection would keep a thousand
          expect(after - before).toBeLessThan(500)
        })), 120_000)
    }

    if (client.label === "pg") {
      it.live("overlapping bulkUpserts of the same keys in different orders all succeed", () =>
        Effect.gen(function*() {
          const url = yield* privateUrl(client.server, tag)
          const Item = Model.make("Item", Schema.Struct({ id: Schema.Int, sku: Schema.String, n: Schema.Int }), {
            table: uniqueTable("rel_items"),
            unique: ["sku"]
          })
          const keys = Array.from({ length: 2000 }, (_, i) => `sku-${i}`)
          const shuffled = (seed: number) =>
            [...keys].sort((a, b) => ((a.length * seed + a.charCodeAt(a.length - 1) * 31) % 97) - ((b.length * seed + b.charCodeAt(b.length - 1) * 31) % 97))
          const result = yield* Effect.forEach(
            Array.from({ length: 8 }, (_, w) => w),
            (w) => Item.bulkUpsert(shuffled(w + 1).map((sku) => ({ sku, n: w })), { conflictOn: ["sku"] }),
            { concurrency: "unbounded" }
          ).pipe(Effect.timeout("60 seconds"), Effect.provide(client.layer(url, 8)))
          expect(result.reduce((n, r) => n + r.inserted, 0)).toBe(2000)
          expect(yield* Item.count().pipe(Effect.provide(client.layer(url, 2)))).toBe(2000)
        }), 90_000)
    }
  })
}
