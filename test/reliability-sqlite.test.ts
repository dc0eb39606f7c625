/**
 * SQLite reliability (issue 9): better-sqlite3 is synchronous, so the library must never hold
 * the event loop — a lock held by another connection is waited for in short sleeps, a long
 * bulk write yields between chunks (a timeout interrupts it and it rolls back) — and the one
 * connection of the library's client is handed out in arrival order (no reader starves behind
 * a stream of transactions).
 */
import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import Sqlite from "better-sqlite3"
import { Cause, Effect, Exit, Fiber, Option, Schema } from "effect"
import { DataFlow, Model } from "../src/index.js"

const Doc = Model.make("Doc", Schema.Struct({ id: Schema.Int, title: Schema.String }), { table: "docs" })

/** A fresh database file, removed with the scope. */
const databaseFile = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "dataflow-rel-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => join(dir, "db.sqlite")))

/** Counts timer ticks while `self` runs: a blocked event loop ticks zero times. */
const ticking = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    let ticks = 0
    const start = Date.now()
    // the longest time the event loop ran no timer (from the start to the first tick, between
    // two ticks, from the last tick to the end)
    let last = start
    let longestBlock = 0
    const timer = setInterval(() => {
      const now = Date.now()
      longestBlock = Math.max(longestBlock, now - last)
      last = now
      ticks++
    }, 5)
    const exit = yield* Effect.exit(self)
    clearInterval(timer)
    const end = Date.now()
    return { exit, ticks, ms: end - start, longestBlock: Math.max(longestBlock, end - last) }
  })

const failureOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

describe("reliability [sqlite]", () => {
  it.live("a lock held by another connection is waited for without blocking the event loop", () =>
    Effect.scoped(Effect.gen(function*() {
      const file = yield* databaseFile
      const layer = DataFlow.layer({ url: `sqlite:${file}` })
      yield* DataFlow.migrate([Doc]).pipe(Effect.provide(layer))
      const other = new Sqlite(file)
      yield* Effect.addFinalizer(() => Effect.sync(() => other.close()))
      other.exec("BEGIN IMMEDIATE")
      setTimeout(() => other.exec("COMMIT"), 300)
      const run = yield* ticking(Doc.create({ title: "after the lock" }).pipe(Effect.provide(layer)))
      expect(Exit.isSuccess(run.exit)).toBe(true)
      expect(run.ms).toBeGreaterThanOrEqual(250)
      // the timer that releases the lock could run: so did others
      expect(run.ticks).toBeGreaterThan(10)
    })))

  it.live("past the busy timeout a statement fails with a retryable DatabaseError, and timers ran meanwhile", () =>
    Effect.scoped(Effect.gen(function*() {
      const file = yield* databaseFile
      const layer = DataFlow.layer({ url: `sqlite:${file}`, sqlite: { busyTimeout: "300 millis" } })
      yield* DataFlow.migrate([Doc]).pipe(Effect.provide(layer))
      const other = new Sqlite(file)
      yield* Effect.addFinalizer(() => Effect.sync(() => other.close()))
      other.exec("BEGIN IMMEDIATE")
      const run = yield* ticking(Doc.create({ title: "blocked" }).pipe(Effect.provide(layer)))
      other.exec("ROLLBACK")
      expect(failureOf(run.exit)).toMatchObject({ _tag: "DatabaseError", code: "SQLITE_BUSY", retryable: true })
      expect(run.ms).toBeLessThan(3000)
      expect(run.ticks).toBeGreaterThan(10)
      // and a timeout shorter than the busy wait interrupts it
      other.exec("BEGIN IMMEDIATE")
      const timed = yield* ticking(Doc.create({ title: "blocked" }).pipe(Effect.timeout("50 millis"), Effect.provide(layer)))
      other.exec("ROLLBACK")
      expect(failureOf(timed.exit)).toMatchObject({ _tag: "TimeoutException" })
      expect(timed.ms).toBeLessThan(250)
    })))

  it.live("a long bulkCreate yields between chunks: a timeout interrupts it and nothing is written", () =>
    Effect.scoped(Effect.gen(function*() {
      const file = yield* databaseFile
      const layer = DataFlow.layer({ url: `sqlite:${file}` })
      yield* DataFlow.migrate([Doc]).pipe(Effect.provide(layer))
      const rows = function*() {
        for (let i = 0; i < 300_000; i++) yield { title: `row ${i}` }
      }
      const run = yield* ticking(Doc.bulkCreate(rows()).pipe(Effect.timeout("100 millis"), Effect.provide(layer)))
      expect(failureOf(run.exit)).toMatchObject({ _tag: "TimeoutException" })
      expect(run.ms).toBeLessThan(1000)
      // timers ran while it wrote: the loop was never blocked for long (the whole write, not
      // yielding, blocks it for seconds); a loaded machine may run fewer ticks, not longer blocks
      expect(run.longestBlock).toBeLessThan(400)
      expect(yield* Doc.count().pipe(Effect.provide(layer))).toBe(0)
      // the same write, uninterrupted, is whole
      expect(yield* Doc.bulkCreate(rows()).pipe(Effect.provide(layer))).toEqual({ inserted: 300_000 })
    })), 60_000)

  it.live("a reader behind a fiber running transaction after transaction is served in turn", () =>
    Effect.scoped(Effect.gen(function*() {
      const file = yield* databaseFile
      const layer = DataFlow.layer({ url: `sqlite:${file}` })
      yield* Effect.gen(function*() {
        yield* DataFlow.migrate([Doc])
        let stop = false
        let transactions = 0
        const writer = yield* Effect.fork(Effect.gen(function*() {
          while (!stop) {
            yield* Effect.gen(function*() {
              yield* Doc.create({ title: "w" })
              yield* Effect.sleep("2 millis")
              yield* Doc.create({ title: "w" })
            }).pipe(DataFlow.transaction())
            transactions++
          }
        }))
        yield* Effect.sleep("100 millis")
        const latencies: Array<number> = []
        for (let i = 0; i < 5; i++) {
          const start = Date.now()
          yield* Doc.count()
          latencies.push(Date.now() - start)
          yield* Effect.sleep("20 millis")
        }
        stop = true
        yield* Fiber.join(writer)
        expect(transactions).toBeGreaterThan(5)
        // each read waits for at most the transaction in progress (a few ms), never the stream
        expect(Math.max(...latencies)).toBeLessThan(500)
      }).pipe(Effect.provide(layer))
    })), 60_000)
})
