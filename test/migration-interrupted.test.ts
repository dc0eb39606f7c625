/**
 * An apply killed mid-way (SIGKILL of the CLI in a child process, during a slow operation):
 * status explains what is left — on PostgreSQL nothing was applied (the transaction died with
 * the session); on MariaDB/MySQL the operations that committed are there and status names
 * them — the lock is released once the dead session ends, and a second apply completes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule, Schema } from "effect"
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import { SqlClient } from "@effect/sql"
import { DataFlow, Dialect, Introspect, Migration, Model } from "../src/index.js"
import { privateUrl } from "./support/db.js"

const table = "interrupted_items"

const V1 = Model.make("Item", Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(40)) }), { table, timestamps: false })
const V2 = Model.make(
  "Item",
  Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(40)), a: Schema.NullOr(Schema.Int), b: Schema.NullOr(Schema.Int) }),
  { table, timestamps: false }
)

/** Starts `migrate apply --plan` and resolves once the operation `step` (1-based) has started, with the child. */
const startApply = (planFile: string, url: string, step: number) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "migrate", "apply", "--plan", planFile, "--url", url])
    let err = ""
    child.stderr.on("data", (chunk) => {
      err += String(chunk)
      if (err.includes(`[${step}/`) && err.includes(`] start`)) resolve(child)
    })
    child.on("close", (code) => reject(new Error(`the apply ended (${code}) before operation ${step} started:\n${err}`)))
  })

const servers = [
  ...(inject("pgAvailable") ? [["pg", "SELECT pg_sleep(4)"] as const] : []),
  ...(inject("mysqlAvailable") ? [["mysql", "SELECT SLEEP(4)"] as const] : [])
]

describe("an apply killed mid-way", () => {
  for (const [name] of servers) {
    it.live(`[${name}] status says whether a session holds the migration lock`, () =>
      Effect.gen(function*() {
        const url = yield* privateUrl(name, "locked")
        const layer = DataFlow.layer({ url })
        const lock = (name === "pg" ? Dialect.pg : Dialect.mysql).migrationLock
        const locked = Effect.map(Migration.status([V1]), (s) => s.locked)
        expect(yield* locked.pipe(Effect.provide(layer))).toBe(false)
        const held = yield* Effect.scoped(Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const connection = yield* sql.reserve
          yield* Effect.forEach([...lock.acquire, ...lock.begin], (s) => connection.executeRaw(s, []), { discard: true })
          const seen = yield* locked
          yield* Effect.forEach([...lock.rollback, ...lock.release], (s) => connection.executeRaw(s, []), { discard: true })
          return seen
        })).pipe(Effect.provide(layer))
        expect(held).toBe(true)
        expect(yield* locked.pipe(Effect.provide(layer))).toBe(false)
      }), 60_000)
  }

  for (const [name, slow] of servers) {
    it.live(`[${name}] status explains it, the lock is released with the session, a second apply completes`, () =>
      Effect.gen(function*() {
        const url = yield* privateUrl(name, "interrupted")
        const layer = DataFlow.layer({ url })
        yield* Effect.flatMap(Migration.plan([V1]), (p) => Migration.apply(p)).pipe(Effect.provide(layer))
        yield* V1.create({ title: "kept" }).pipe(Effect.provide(layer))
        const planned = yield* Migration.plan([V2], { name: "a and b" }).pipe(Effect.provide(layer))
        expect(planned.operations.map((o) => o.column)).toEqual(["a", "b"])
        // a slow operation between the two: the process is killed while it runs
        const plan: Migration.Plan = {
          ...planned,
          operations: [planned.operations[0]!, { ...planned.operations[0]!, column: undefined, description: "a slow step", up: [slow] }, planned.operations[1]!]
        }
        const planFile = join(mkdtempSync(join(tmpdir(), "df-interrupted-")), "plan.json")
        writeFileSync(planFile, Migration.toFiles(plan)["plan.json"]!)

        const child = yield* Effect.promise(() => startApply(planFile, url, 2))
        child.kill("SIGKILL")

        // the server ends the dead session when the slow statement returns: the lock goes with it
        const status = yield* Migration.status([V2]).pipe(
          Effect.provide(layer),
          Effect.filterOrFail((s) => !s.locked, () => "locked"),
          Effect.retry(Schedule.spaced("250 millis")),
          Effect.timeout("30 seconds")
        )
        const columns = (yield* Introspect.tables({ tables: [table] }).pipe(Effect.provide(layer)))[0]!.columns.map((c) => c.name)
        expect(status.applied.some((a) => a.id === plan.id)).toBe(false)
        if (name === "pg") {
          // transactional DDL: the killed transaction left nothing
          expect(columns).toEqual(["id", "title"])
          expect(status.interrupted).toEqual([])
          expect(status.pending.operations.map((o) => o.column)).toEqual(["a", "b"])
        } else {
          // each DDL statement committed: the first operation is there, and status says so
          expect(columns).toEqual(["id", "title", "a"])
          expect(status.interrupted.map((i) => [i.id, i.completed, i.operations.length])).toEqual([[plan.id, 1, 3]])
          expect(status.pending.operations.map((o) => o.column)).toEqual(["b"])
        }

        // the same plan again: from the start (PostgreSQL), from where it stopped (MySQL)
        const outcome = yield* Migration.apply(plan).pipe(Effect.provide(layer))
        expect(outcome).toEqual({ applied: true, operations: name === "pg" ? 3 : 2 })
        const after = yield* Migration.status([V2]).pipe(Effect.provide(layer))
        expect(after.pending.operations).toEqual([])
        expect(after.interrupted).toEqual([])
        expect(after.applied.map((a) => a.id)).toContain(plan.id)
        expect((yield* V2.list().pipe(Effect.provide(layer))).records.map((r) => [r.title, r.a, r.b])).toEqual([["kept", null, null]])
      }), 120_000)
  }
})
