/**
 * Load (issue 9): many fibers for a bounded time on each database, through `DataFlow.layer`,
 * mixing create, bulkCreate, delete, list, count and counter increments (serializable
 * transactions with retry, and optimistic locking). Every success is counted; afterwards the
 * final contents are read through the raw driver (not through the library) and must agree
 * exactly with the successes: no lost insert, no extra row, counters exact. Every failure must
 * be one of the library's typed errors.
 *
 * LOAD_SECONDS (default below) sets the time per database; LOAD_FIBERS the number of fibers.
 */
import { describe, expect, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import type { Scope } from "effect"
import { Cause, Effect, Layer, Schedule, Schema } from "effect"
import type { SqlClient } from "@effect/sql"
import { randomBytes } from "node:crypto"
import { rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DataFlow, Model } from "../src/index.js"
import { mix, rngOf } from "./support/random.js"
import type { ServerName } from "./support/raw.js"
import { available, privateTarget } from "./support/raw.js"
import { tagOf, typedError } from "./support/typed.js"

/** Seconds of load per database in CI; raise with LOAD_SECONDS for a longer soak. */
const DEFAULT_SECONDS = 2.5
const SECONDS = Number(process.env.LOAD_SECONDS ?? DEFAULT_SECONDS)
const FIBERS = Number(process.env.LOAD_FIBERS ?? 100)
const COUNTERS = 12
const SEED = 0x10ad

const Entry = () =>
  Model.make("Entry", Schema.Struct({ id: Schema.Int, worker: Schema.Int, seq: Schema.Int, label: Schema.String }), {
    table: "load_entries",
    unique: ["label"],
    indexes: ["worker"]
  })
const SerialCounter = () =>
  Model.make("SerialCounter", Schema.Struct({ id: Schema.String, value: Schema.Int }), { table: "load_serial_counters" })
const VersionedCounter = () =>
  Model.make("VersionedCounter", Schema.Struct({ id: Schema.String, value: Schema.Int }), {
    table: "load_versioned_counters",
    versioned: true
  })

const counterIds = Array.from({ length: COUNTERS }, (_, i) => `c${i}`)

/** Backoff for conflicts: exponential from 2 ms, capped at 40 ms, jittered, at most 60 tries. */
const conflictRetry = Schedule.exponential("2 millis").pipe(
  Schedule.either(Schedule.spaced("40 millis")),
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(60))
)

type Op = "create" | "bulkCreate" | "delete" | "list" | "count" | "serialIncrement" | "optimisticIncrement"
const weights: ReadonlyArray<readonly [Op, number]> = [
  ["create", 20],
  ["bulkCreate", 6],
  ["delete", 10],
  ["list", 10],
  ["count", 8],
  ["serialIncrement", 14],
  ["optimisticIncrement", 14]
]
const totalWeight = weights.reduce((s, [, w]) => s + w, 0)

interface Tally {
  readonly successes: Record<Op, number>
  /** Typed failures by operation and tag. */
  readonly failures: Record<string, number>
  /** Runs of the increment bodies (more than their successes: conflicts were retried). */
  readonly attempts: { serial: number; optimistic: number }
  /** Anything that is not a typed failure, or a read that disagrees with the fiber's own writes. */
  readonly problems: Array<string>
}

interface Expected {
  /** Labels of the entries that must exist. */
  readonly labels: Set<string>
  readonly serial: Map<string, number>
  readonly versioned: Map<string, number>
}

/** The load itself, on the ambient client; returns what the database must now contain. */
const runLoad = Effect.gen(function*() {
  const Entries = Entry()
  const Serial = SerialCounter()
  const Versioned = VersionedCounter()
  yield* DataFlow.migrate([Entries, Serial, Versioned])
  yield* Serial.bulkCreate(counterIds.map((id) => ({ id, value: 0 })))
  yield* Versioned.bulkCreate(counterIds.map((id) => ({ id, value: 0 })))

  const expected: Expected = {
    labels: new Set(),
    serial: new Map(counterIds.map((id) => [id, 0])),
    versioned: new Map(counterIds.map((id) => [id, 0]))
  }
  const tally: Tally = {
    successes: { create: 0, bulkCreate: 0, delete: 0, list: 0, count: 0, serialIncrement: 0, optimisticIncrement: 0 },
    failures: {},
    attempts: { serial: 0, optimistic: 0 },
    problems: []
  }
  const deadline = Date.now() + SECONDS * 1000

  const worker = (w: number) =>
    Effect.gen(function*() {
      const rng = rngOf(mix(SEED, w))
      // this fiber's live entries (only it deletes them): id -> label
      const own = new Map<number, string>()
      let seq = 0
      const label = () => `w${w}-${seq++}`
      const check = (ok: boolean, what: string) => {
        if (!ok) tally.problems.push(`fiber ${w}: ${what}`)
      }

      const ops: Record<Op, () => Effect.Effect<unknown, unknown, SqlClient.SqlClient>> = {
        create: () =>
          Effect.tap(Entries.create({ worker: w, seq, label: label() }), (r) => {
            own.set(r.id, r.label)
            expected.labels.add(r.label)
          }),
        bulkCreate: () => {
          const batch = Array.from({ length: rng.int(2, 25) }, () => ({ worker: w, seq, label: label() }))
          return Effect.tap(Entries.bulkCreate(batch, { returnRecords: true }), (r) => {
            check(r.inserted === batch.length, `bulkCreate inserted ${r.inserted} of ${batch.length}`)
            for (const record of r.records) {
              own.set(record.id, record.label)
              expected.labels.add(record.label)
            }
          })
        },
        delete: () => {
          const ids = [...own.keys()]
          if (ids.length === 0) return Effect.void
          const id = rng.pick(ids)
          return Effect.tap(Entries.delete(id), (r) => {
            check(r.deleted, `delete of its own entry ${id} found nothing`)
            expected.labels.delete(own.get(id)!)
            own.delete(id)
          })
        },
        list: () =>
          Effect.tap(Entries.list({ where: { worker: w }, limit: 30 }), (r) => {
            for (const record of r.records) check(own.get(record.id) === record.label, `list returned ${record.label}`)
            check(r.records.length === Math.min(30, own.size), `list returned ${r.records.length} of ${own.size}`)
          }),
        count: () =>
          Effect.tap(Entries.count({ worker: w }), (n) => check(n === own.size, `count ${n}, expected ${own.size}`)),
        serialIncrement: () => {
          const id = rng.pick(counterIds)
          return Effect.gen(function*() {
            tally.attempts.serial++
            const counter = yield* Serial.read(id)
            yield* Serial.update(id, { value: counter.value + 1 })
          }).pipe(
            DataFlow.transaction({ isolation: "serializable", retry: conflictRetry }),
            Effect.tap(() => expected.serial.set(id, expected.serial.get(id)! + 1))
          )
        },
        optimisticIncrement: () => {
          const id = rng.pick(counterIds)
          return Effect.gen(function*() {
            tally.attempts.optimistic++
            const counter = yield* Versioned.read(id)
            yield* Versioned.update(id, { value: counter.value + 1 }, { expectedVersion: counter.version })
          }).pipe(
            Effect.retry({ schedule: conflictRetry, while: (e) => e._tag === "OptimisticLockError" }),
            Effect.tap(() => expected.versioned.set(id, expected.versioned.get(id)! + 1))
          )
        }
      }

      const pick = (): Op => {
        let r = rng.int(0, totalWeight - 1)
        for (const [op, weight] of weights) {
          if (r < weight) return op
          r -= weight
        }
        return "count"
      }

      while (Date.now() < deadline) {
        const op = pick()
        yield* ops[op]().pipe(
          Effect.matchCause({
            onSuccess: () => {
              tally.successes[op]++
            },
            onFailure: (cause) => {
              const typed = typedError(cause)
              if ("problem" in typed) tally.problems.push(`fiber ${w} ${op}: ${typed.problem}`)
              else {
                const key = `${op}: ${tagOf(typed.error)}`
                tally.failures[key] = (tally.failures[key] ?? 0) + 1
              }
            }
          })
        )
      }
    })

  yield* Effect.forEach(Array.from({ length: FIBERS }, (_, w) => w), worker, { concurrency: "unbounded", discard: true })
  return { expected, tally, tables: { entries: Entries.table, serial: Serial.table, versioned: Versioned.table } }
})

type LoadResult = Effect.Effect.Success<typeof runLoad>

/** The final contents, read through a raw connection. */
const readBack = (query: (text: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>>, result: LoadResult) =>
  Effect.gen(function*() {
    const { tables } = result
    const entries = yield* query(`SELECT label FROM ${tables.entries}`)
    const serial = yield* query(`SELECT id, value FROM ${tables.serial}`)
    const versioned = yield* query(`SELECT id, value FROM ${tables.versioned}`)
    const counters = (rows: ReadonlyArray<Record<string, unknown>>) =>
      Object.fromEntries(rows.map((r) => [String(r.id), Number(r.value)]))
    return {
      labels: entries.map((r) => String(r.label)).sort(),
      serial: counters(serial),
      versioned: counters(versioned)
    }
  })

const verify = (result: LoadResult, actual: Effect.Effect.Success<ReturnType<typeof readBack>>, label: string) => {
  const { expected, tally } = result
  const failures = Object.values(tally.failures).reduce((s, n) => s + n, 0)
  const successes = Object.values(tally.successes).reduce((s, n) => s + n, 0)
  console.log(
    `[load ${label}] ${FIBERS} fibers, ${SECONDS} s: ${successes} successes ${JSON.stringify(tally.successes)}; ` +
      `${failures} typed failures ${JSON.stringify(tally.failures)}; increment attempts ${JSON.stringify(tally.attempts)}; ` +
      `${expected.labels.size} entries`
  )
  expect(tally.problems).toEqual([])
  // every fiber did some work: the pool and the transactions let all of them through
  expect(tally.successes.create).toBeGreaterThan(0)
  expect(tally.successes.serialIncrement).toBeGreaterThan(0)
  expect(tally.successes.optimisticIncrement).toBeGreaterThan(0)
  expect(actual.labels).toEqual([...expected.labels].sort())
  expect(actual.serial).toEqual(Object.fromEntries(expected.serial))
  expect(actual.versioned).toEqual(Object.fromEntries(expected.versioned))
  // the increments that succeeded are exactly what the counters hold
  const sum = (m: Record<string, number>) => Object.values(m).reduce((s, n) => s + n, 0)
  expect(sum(actual.serial)).toBe(tally.successes.serialIncrement)
  expect(sum(actual.versioned)).toBe(tally.successes.optimisticIncrement)
}

const timeout = SECONDS * 1000 + 60_000

const onServer = (server: ServerName): Effect.Effect<void> =>
  Effect.scoped(Effect.gen(function*() {
    const target = yield* privateTarget(server, "load")
    const result = yield* Effect.provide(runLoad, Layer.orDie(DataFlow.layer({ url: target.url })))
    verify(result, yield* readBack((text) => target.raw.query(text), result), server)
  })).pipe(Effect.catchAllCause((cause) => Effect.die(new Error(Cause.pretty(cause)))))

const sqliteFile = (): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => join(tmpdir(), `df-load-${randomBytes(6).toString("hex")}.sqlite`)),
    (file) => Effect.sync(() => {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true })
    })
  )

const onSqlite: Effect.Effect<void> = Effect.scoped(Effect.gen(function*() {
  const file = yield* sqliteFile()
  const layer: Layer.Layer<SqlClient.SqlClient> = Layer.orDie(DataFlow.layer({ url: `sqlite:${file}` }))
  // the library's connection is closed before the raw one reads the file
  const result = yield* Effect.provide(runLoad, layer)
  const db = yield* Effect.acquireRelease(Effect.sync(() => new Sqlite(file, { readonly: true })), (db) => Effect.sync(() => db.close()))
  const query = (text: string) => Effect.sync(() => db.prepare(text).all() as ReadonlyArray<Record<string, unknown>>)
  verify(result, yield* readBack(query, result), "sqlite")
})).pipe(Effect.catchAllCause((cause) => Effect.die(new Error(Cause.pretty(cause)))))

describe("load", () => {
  it.live("sqlite: concurrent fibers, final contents exact", () => onSqlite, timeout)
  describe.skipIf(!available("pg"))("pg", () => {
    it.live("PostgreSQL: concurrent fibers, final contents exact", () => onServer("pg"), timeout)
  })
  describe.skipIf(!available("mysql"))("mysql", () => {
    it.live("MariaDB: concurrent fibers, final contents exact", () => onServer("mysql"), timeout)
  })
})
