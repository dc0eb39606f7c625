/**
 * What `DataFlow.transaction({ isolation })` promises, observed: two transactions (fibers on
 * their own connections) whose steps are put in order with Deferreds.
 *
 * PostgreSQL and MariaDB/MySQL:
 * - "read committed": a second read sees a row another transaction committed in between;
 *   "repeatable read": it does not (the transaction reads one snapshot).
 * - write skew (two on-call doctors; each reads how many are on call, then takes itself off
 *   if two are): under "serializable" one of the two fails with a retryable DatabaseError
 *   (PostgreSQL: serialization failure 40001; MariaDB/MySQL: its SERIALIZABLE reads take
 *   shared locks, the two updates deadlock, ER_LOCK_DEADLOCK), and with `retry` the loser runs
 *   again and keeps the rule. Under "repeatable read" both commit and nobody is on call: that
 *   level does not promise to prevent write skew, on either database.
 *
 * SQLite (transactions are serializable, one writer at a time; the option changes nothing):
 * - one connection (`:memory:`, both clients): a transaction holds the connection, so a write
 *   outside waits until it commits, and a second transaction starts only after the first
 *   ended — it reads what the first wrote, so write skew cannot happen;
 * - a file opened by two clients (two connections, WAL): a transaction reads one snapshot; of
 *   two transactions that both read and then write, the second writer fails with a retryable
 *   SQLITE_BUSY while the first holds the write lock, or SQLITE_BUSY_SNAPSHOT once the first
 *   has committed (its snapshot is stale).
 */
import { describe, expect, it } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import type { Context } from "effect"
import { Cause, Deferred, Effect, Exit, Option, Schedule, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"
import type { Transaction } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { sqliteFileClients, twoConnections } from "./support/sqlite-file.js"

const makeDoctors = () =>
  Model.make("Doctor", Schema.Struct({ id: Schema.String, onCall: Schema.Boolean }), {
    table: uniqueTable("doctors"),
    timestamps: false
  })
type Doctors = ReturnType<typeof makeDoctors>

/**
 * What a transaction failed with — the error's tag, code and retryability (the whole error
 * holds the driver's error, too big to print) — or undefined when it succeeded.
 */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): unknown => {
  if (Exit.isSuccess(exit)) return undefined
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return { defect: Cause.pretty(exit.cause).split("\n")[0] }
  const { _tag, code, retryable } = failure.value as { _tag?: unknown; code?: unknown; retryable?: unknown }
  return { _tag, code, retryable }
}

/** A row is committed by another transaction between the reader's two counts. */
const readTwice = (D: Doctors, isolation: Transaction.Isolation) =>
  Effect.gen(function*() {
    const firstRead = yield* Deferred.make<void>()
    const committed = yield* Deferred.make<void>()
    const reader = Effect.gen(function*() {
      const before = yield* D.count()
      yield* Deferred.succeed(firstRead, undefined)
      yield* Deferred.await(committed)
      return [before, yield* D.count()] as const
    }).pipe(DataFlow.transaction({ isolation }))
    const writer = Deferred.await(firstRead).pipe(
      Effect.zipRight(D.create({ id: `w-${isolation}`, onCall: false })),
      Effect.zipRight(Deferred.succeed(committed, undefined))
    )
    const [reads] = yield* Effect.all([reader, writer], { concurrency: "unbounded" })
    return reads
  })

/**
 * Doctor `me` goes off call if the count says two are on call. `mine` is completed after the
 * read, `other` (the other doctor's read) is awaited before the write.
 */
const goOffCall = (
  D: Doctors,
  me: string,
  mine: Deferred.Deferred<void>,
  other: Deferred.Deferred<void>,
  options: Transaction.Options,
  attempts: { n: number }
) =>
  Effect.gen(function*() {
    attempts.n++
    const onCall = yield* D.count({ onCall: true })
    yield* Deferred.succeed(mine, undefined)
    yield* Deferred.await(other)
    if (onCall >= 2) yield* D.update(me, { onCall: false })
    return onCall
  }).pipe(DataFlow.transaction(options))

/** Both doctors at once; their exits and how many are on call afterwards. */
const writeSkew = (D: Doctors, options: Transaction.Options) =>
  Effect.gen(function*() {
    yield* D.bulkDelete({}, { confirm: true })
    yield* D.bulkCreate([{ id: "a", onCall: true }, { id: "b", onCall: true }])
    const readA = yield* Deferred.make<void>()
    const readB = yield* Deferred.make<void>()
    const attempts = { n: 0 }
    const exits = yield* Effect.all(
      [
        Effect.exit(goOffCall(D, "a", readA, readB, options, attempts)),
        Effect.exit(goOffCall(D, "b", readB, readA, options, attempts))
      ],
      { concurrency: "unbounded" }
    )
    return { exits, attempts: attempts.n, onCall: yield* D.count({ onCall: true }) }
  })

forEachDatabase("isolation", (it, db) => {
  if (db.name === "sqlite") {
    it.effect("one connection: a write outside a transaction waits until it commits; the transaction's reads do not change", () =>
      Effect.gen(function*() {
        const D = makeDoctors()
        yield* D.create({ id: "a", onCall: true })
        const firstRead = yield* Deferred.make<void>()
        const written = yield* Deferred.make<void>()
        const reader = Effect.gen(function*() {
          const before = yield* D.count()
          yield* Deferred.succeed(firstRead, undefined)
          // the writer gets every chance to run: it is in-process, nothing but the
          // transaction's hold on the connection can stop it
          for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
          const writerDone = yield* Deferred.isDone(written)
          return { before, after: yield* D.count(), writerDone }
        }).pipe(DataFlow.transaction({ isolation: "serializable" }))
        const writer = Deferred.await(firstRead).pipe(
          Effect.zipRight(D.create({ id: "b", onCall: true })),
          Effect.zipRight(Deferred.succeed(written, undefined))
        )
        const [seen] = yield* Effect.all([reader, writer], { concurrency: "unbounded" })
        expect(seen).toEqual({ before: 1, after: 1, writerDone: false })
        expect(yield* D.count()).toBe(2)
      }))

    it.effect("one connection: two serializable transactions run one after the other, so write skew cannot happen", () =>
      Effect.gen(function*() {
        const D = makeDoctors()
        yield* D.bulkCreate([{ id: "a", onCall: true }, { id: "b", onCall: true }])
        const readA = yield* Deferred.make<void>()
        const readB = yield* Deferred.make<void>()
        const first = Effect.gen(function*() {
          const onCall = yield* D.count({ onCall: true })
          yield* Deferred.succeed(readA, undefined)
          for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
          const secondHasRead = yield* Deferred.isDone(readB)
          if (onCall >= 2) yield* D.update("a", { onCall: false })
          return { onCall, secondHasRead }
        }).pipe(DataFlow.transaction({ isolation: "serializable" }))
        // starts once the first has read: it cannot read before the first has committed
        const second = Deferred.await(readA).pipe(
          Effect.zipRight(goOffCall(D, "b", readB, readA, { isolation: "serializable" }, { n: 0 }))
        )
        const [a, b] = yield* Effect.all([first, second], { concurrency: "unbounded" })
        expect(a).toEqual({ onCall: 2, secondHasRead: false })
        expect(b).toBe(1)
        expect((yield* D.list({ orderBy: ["id"] })).records).toEqual([{ id: "a", onCall: false }, { id: "b", onCall: true }])
      }))
    return
  }

  const deadlockOrSerialization = db.name === "pg" ? "40001" : "ER_LOCK_DEADLOCK"

  it.effect("read committed: a second read sees a row committed in between", () =>
    Effect.gen(function*() {
      const D = makeDoctors()
      yield* D.create({ id: "a", onCall: true })
      expect(yield* readTwice(D, "read committed")).toEqual([1, 2])
    }))

  it.effect("repeatable read: a second read does not see a row committed in between", () =>
    Effect.gen(function*() {
      const D = makeDoctors()
      yield* D.create({ id: "a", onCall: true })
      expect(yield* readTwice(D, "repeatable read")).toEqual([1, 1])
      expect(yield* D.count()).toBe(2)
    }))

  it.effect(`serializable: of two write-skewed transactions one fails, retryable (${deadlockOrSerialization})`, () =>
    Effect.gen(function*() {
      const D = makeDoctors()
      const { exits, onCall } = yield* writeSkew(D, { isolation: "serializable" })
      const failures = exits.map(failureOf).filter((e) => e !== undefined)
      expect(failures).toHaveLength(1)
      expect(failures[0]).toEqual({ _tag: "DatabaseError", retryable: true, code: deadlockOrSerialization })
      expect(onCall).toBe(1)
    }))

  it.effect("serializable with retry: the loser runs again, sees the winner's write and keeps one doctor on call", () =>
    Effect.gen(function*() {
      const D = makeDoctors()
      const { exits, attempts, onCall } = yield* writeSkew(D, { isolation: "serializable", retry: Schedule.recurs(10) })
      expect(exits.map(failureOf)).toEqual([undefined, undefined])
      // at least one re-run; on PostgreSQL a re-run that reads before the winner has committed
      // fails again
      expect(attempts).toBeGreaterThanOrEqual(3)
      expect(onCall).toBe(1)
    }))

  it.effect("repeatable read does not prevent write skew: both commit, nobody is on call", () =>
    Effect.gen(function*() {
      const D = makeDoctors()
      const { exits, onCall } = yield* writeSkew(D, { isolation: "repeatable read" })
      expect(exits.map(failureOf)).toEqual([undefined, undefined])
      expect(onCall).toBe(0)
    }))
})

for (const client of sqliteFileClients) {
  describe(`isolation [${client.label}, a file database, two connections]`, () => {
    /** Runs `f` with the same model on two clients of one fresh database file. */
    const withTwo = <A, E>(
      f: (
        D: Doctors,
        on: (ctx: Context.Context<SqlClient.SqlClient>) => <B, E2>(self: Effect.Effect<B, E2, SqlClient.SqlClient>) => Effect.Effect<B, E2>,
        a: Context.Context<SqlClient.SqlClient>,
        b: Context.Context<SqlClient.SqlClient>
      ) => Effect.Effect<A, E>
    ) =>
      Effect.scoped(Effect.gen(function*() {
        const [a, b] = yield* twoConnections(client)
        const D = makeDoctors()
        const on = (ctx: Context.Context<SqlClient.SqlClient>) => <B, E2>(self: Effect.Effect<B, E2, SqlClient.SqlClient>) =>
          Effect.provide(self, ctx)
        yield* DataFlow.migrate([D]).pipe(on(a))
        yield* DataFlow.migrate([D]).pipe(on(b))
        return yield* f(D, on, a, b)
      }))

    it.effect("a transaction reads one snapshot: a row the other connection commits meanwhile is not seen", () =>
      withTwo((D, on, a, b) =>
        Effect.gen(function*() {
          yield* D.create({ id: "a", onCall: true }).pipe(on(a))
          const firstRead = yield* Deferred.make<void>()
          const committed = yield* Deferred.make<void>()
          const reader = Effect.gen(function*() {
            const before = yield* D.count()
            yield* Deferred.succeed(firstRead, undefined)
            yield* Deferred.await(committed)
            return [before, yield* D.count()] as const
          }).pipe(DataFlow.transaction({ isolation: "serializable" }), on(a))
          const writer = Deferred.await(firstRead).pipe(
            Effect.zipRight(D.create({ id: "b", onCall: true }).pipe(on(b))),
            Effect.zipRight(Deferred.succeed(committed, undefined))
          )
          const [reads] = yield* Effect.all([reader, writer], { concurrency: "unbounded" })
          expect(reads).toEqual([1, 1])
          expect(yield* D.count().pipe(on(a))).toBe(2)
        })
      ))

    it.effect("write skew: the second writer fails with a retryable SQLITE_BUSY while the first holds the write lock", () =>
      withTwo((D, on, a, b) =>
        Effect.gen(function*() {
          yield* D.bulkCreate([{ id: "a", onCall: true }, { id: "b", onCall: true }]).pipe(on(a))
          const readA = yield* Deferred.make<void>()
          const readB = yield* Deferred.make<void>()
          const wroteA = yield* Deferred.make<void>()
          const doneB = yield* Deferred.make<void>()
          const first = Effect.gen(function*() {
            const onCall = yield* D.count({ onCall: true })
            yield* Deferred.succeed(readA, undefined)
            yield* Deferred.await(readB)
            if (onCall >= 2) yield* D.update("a", { onCall: false })
            yield* Deferred.succeed(wroteA, undefined)
            // commits only after the second has tried to write
            yield* Deferred.await(doneB)
          }).pipe(DataFlow.transaction({ isolation: "serializable" }), on(a))
          const second = Effect.gen(function*() {
            const onCall = yield* D.count({ onCall: true })
            yield* Deferred.succeed(readB, undefined)
            yield* Deferred.await(wroteA)
            if (onCall >= 2) yield* D.update("b", { onCall: false })
          }).pipe(
            DataFlow.transaction({ isolation: "serializable" }),
            on(b),
            Effect.ensuring(Deferred.succeed(doneB, undefined))
          )
          const exits = yield* Effect.all([Effect.exit(first), Effect.exit(second)], { concurrency: "unbounded" })
          expect(failureOf(exits[0])).toBeUndefined()
          expect(failureOf(exits[1])).toEqual({ _tag: "DatabaseError", retryable: true, code: "SQLITE_BUSY" })
          expect(yield* D.count({ onCall: true }).pipe(on(b))).toBe(1)
        })
      ))

    /** The first commits between the second's read and its write: the second's snapshot is stale. */
    const staleWrite = (D: Doctors, on: (ctx: Context.Context<SqlClient.SqlClient>) => <B, E2>(self: Effect.Effect<B, E2, SqlClient.SqlClient>) => Effect.Effect<B, E2>, a: Context.Context<SqlClient.SqlClient>, b: Context.Context<SqlClient.SqlClient>, retry: boolean) =>
      Effect.gen(function*() {
        yield* D.bulkCreate([{ id: "a", onCall: true }, { id: "b", onCall: true }]).pipe(on(a))
        const readA = yield* Deferred.make<void>()
        const readB = yield* Deferred.make<void>()
        const committedA = yield* Deferred.make<void>()
        const first = goOffCall(D, "a", readA, readB, { isolation: "serializable" }, { n: 0 }).pipe(
          on(a),
          Effect.ensuring(Deferred.succeed(committedA, undefined))
        )
        const attempts = { n: 0 }
        const second = goOffCall(D, "b", readB, committedA, {
          isolation: "serializable",
          ...(retry ? { retry: Schedule.recurs(3) } : {})
        }, attempts).pipe(on(b))
        const exits = yield* Effect.all([Effect.exit(first), Effect.exit(second)], { concurrency: "unbounded" })
        return { exits, attempts: attempts.n, onCall: yield* D.count({ onCall: true }).pipe(on(a)) }
      })

    it.effect("write skew: a write from a stale snapshot fails with a retryable SQLITE_BUSY_SNAPSHOT", () =>
      withTwo((D, on, a, b) =>
        Effect.gen(function*() {
          const { exits, onCall } = yield* staleWrite(D, on, a, b, false)
          expect(failureOf(exits[0])).toBeUndefined()
          expect(failureOf(exits[1])).toEqual({ _tag: "DatabaseError", code: "SQLITE_BUSY_SNAPSHOT", retryable: true })
          expect(onCall).toBe(1)
        })
      ))

    it.effect("write skew with retry: the stale transaction runs again, sees the first's write and keeps one doctor on call", () =>
      withTwo((D, on, a, b) =>
        Effect.gen(function*() {
          const { exits, attempts, onCall } = yield* staleWrite(D, on, a, b, true)
          expect(exits.map(failureOf)).toEqual([undefined, undefined])
          expect(attempts).toBe(2)
          expect(onCall).toBe(1)
        })
      ))
  })
}
