/**
 * Read replicas against a real streaming-replication standby of the test PostgreSQL
 * (scripts/pg-standby.sh, run by .ci/run: port 5433). Replay is paused to make the replica's
 * lag visible on purpose, so where each read went is observed, not guessed: a read that sees
 * the stale count ran on the standby.
 */
import { Effect, Layer, Schema } from "effect"
import PgRaw from "pg"
import { afterAll, describe, expect, inject, it } from "vitest"
import { DataFlow, Model } from "../src/index.js"
import { uniqueTable } from "./support/db.js"
import { pgUrl } from "./support/servers.js"
import { recordingTracer } from "./support/tracer.js"
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"

const standbyUrl = process.env.TEST_PG_STANDBY_URL ?? (() => {
  const u = new URL(pgUrl)
  u.port = "5433"
  return u.toString()
})()
const runId = inject("runId")
const schema = `df_${runId}_replicas`

const query = async (url: string, text: string) => {
  const client = new PgRaw.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return (await client.query(text)).rows as Array<Record<string, unknown>>
  } finally {
    await client.end()
  }
}
const standbyUp = async () => {
  try {
    return (await query(standbyUrl, "SELECT pg_is_in_recovery() AS r"))[0]!.r === true
  } catch {
    return false
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** Waits until the standby has replayed everything the primary has written so far. */
const caughtUp = async () => {
  const [{ lsn }] = (await query(pgUrl, "SELECT pg_current_wal_lsn()::text AS lsn")) as [{ lsn: string }]
  for (let i = 0; i < 200; i++) {
    const [{ done }] = (await query(standbyUrl, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS done`)) as [{ done: boolean }]
    if (done) return
    await sleep(50)
  }
  throw new Error("the standby did not catch up in 10 s")
}
const cluster = (action: "start" | "stop") => {
  const version = readdirSync("/etc/postgresql").sort().at(-1)!
  const r = spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "standby", action, ...(action === "stop" ? ["-m", "fast"] : [])])
  if (r.status !== 0) throw new Error(`pg_ctlcluster ${action}: ${r.stderr}`)
}

const Note = Model.make("Note", Schema.Struct({ id: Schema.Int, text: Schema.String }), { table: uniqueTable("rep_notes") })

const available = inject("pgAvailable") && (await standbyUp())

describe("read replicas: options", () => {
  it("refused where they cannot work: SQLite, or a replica of another kind", async () => {
    const fails = (options: DataFlow.LayerOptions) =>
      Effect.runPromise(Effect.flip(Layer.build(DataFlow.layer(options)).pipe(Effect.scoped)))
    expect(String(await fails({ url: "sqlite::memory:", replicas: ["sqlite::memory:"] }))).toContain("not SQLite")
    expect(String(await fails({ url: pgUrl, replicas: ["mysql://root@127.0.0.1/x"] }))).toContain("replicas[0]")
  })
})

if (available) {
  describe("read replicas: a PostgreSQL standby", () => {
    const { tracer, spans } = recordingTracer()
    const routeOf = (node: string) => spans.filter((s) => s.name === `dataflow.Note.${node}`).at(-1)?.attributes.get("dataflow.route")
    const layer = (replicas: ReadonlyArray<string>) =>
      DataFlow.layer({ url: pgUrl, schema, replicas, replicaCheck: { interval: "200 millis", timeout: "500 millis" } })
    const run = <A, E>(effect: Effect.Effect<A, E, import("@effect/sql").SqlClient.SqlClient>, replicas = [standbyUrl]) =>
      Effect.runPromise(effect.pipe(Effect.provide(layer(replicas)), Effect.withTracer(tracer)))

    afterAll(async () => {
      // whatever happened, the standby replays and runs again
      if (!(await standbyUp())) cluster("start")
      await query(standbyUrl, "SELECT pg_wal_replay_resume()").catch(() => undefined)
    })

    it("reads go to the replica; writes, transactions and DataFlow.primary to the primary", async () => {
      await run(Effect.gen(function*() {
        yield* DataFlow.migrate([Note])
        yield* Note.bulkCreate([{ text: "a" }, { text: "b" }])
      }))
      await caughtUp()
      await query(standbyUrl, "SELECT pg_wal_replay_pause()")
      try {
        const seen = await run(Effect.gen(function*() {
          yield* Note.create({ text: "c" })
          return {
            replica: yield* Note.count(),
            listed: (yield* Note.list()).records.length,
            exists: yield* Note.exists({ text: "c" }),
            primary: yield* DataFlow.primary(Note.count()),
            transaction: yield* DataFlow.transaction(Note.count())
          }
        }))
        expect(seen).toEqual({ replica: 2, listed: 2, exists: false, primary: 3, transaction: 3 })
        expect(routeOf("list")).toBe("replica:0")
      } finally {
        await query(standbyUrl, "SELECT pg_wal_replay_resume()")
      }
      await caughtUp()
      expect(await run(Note.count())).toBe(3)
      expect(routeOf("count")).toBe("replica:0")
      await run(DataFlow.primary(Note.count()))
      expect(routeOf("count")).toBe("primary")
    }, 60_000)

    it("an instance's layerUrl takes replicas too", async () => {
      class Reporting extends DataFlow.Instance<Reporting>()("Reporting") {}
      const Entry = Model.make("Entry", Schema.Struct({ id: Schema.Int, text: Schema.String }), {
        table: uniqueTable("rep_entries"),
        instance: Reporting
      })
      const live = Reporting.layerUrl({ url: pgUrl, schema, replicas: [standbyUrl] })
      const go = <A, E>(effect: Effect.Effect<A, E, Reporting>) =>
        Effect.runPromise(effect.pipe(Effect.provide(live), Effect.withTracer(tracer)))
      await go(Effect.asVoid(Entry.create({ text: "x" })))
      await caughtUp()
      await query(standbyUrl, "SELECT pg_wal_replay_pause()")
      try {
        const seen = await go(Effect.gen(function*() {
          yield* Entry.create({ text: "y" })
          return [yield* Entry.count(), yield* DataFlow.primary(Entry.count()), yield* Reporting.transaction(Entry.count())]
        }))
        expect(seen).toEqual([1, 2, 2])
      } finally {
        await query(standbyUrl, "SELECT pg_wal_replay_resume()")
      }
    }, 60_000)

    it("several replicas are read in turn", async () => {
      await run(Effect.gen(function*() {
        const routes: Array<unknown> = []
        for (let i = 0; i < 4; i++) {
          yield* Note.find(1)
          routes.push(routeOf("find"))
        }
        expect(routes).toEqual(["replica:0", "replica:1", "replica:0", "replica:1"])
      }), [standbyUrl, standbyUrl])
    }, 30_000)

    it("a replica that stops answering is left out (reads go to the primary) and taken back when it answers", async () => {
      await run(Effect.gen(function*() {
        const wall = (ms: number) => Effect.promise(() => sleep(ms))
        expect(yield* Note.count()).toBe(3)
        expect(routeOf("count")).toBe("replica:0")
        cluster("stop")
        try {
          yield* wall(1500)
          // the health check has taken it out: reads are served, by the primary
          expect(yield* Note.count()).toBe(3)
          expect(routeOf("count")).toBe("primary")
        } finally {
          cluster("start")
        }
        for (let i = 0; i < 100 && !(yield* Effect.promise(standbyUp)); i++) yield* wall(100)
        yield* wall(1500)
        expect(yield* Note.count()).toBe(3)
        expect(routeOf("count")).toBe("replica:0")
      }))
    }, 60_000)
  })
} else if (process.env.CI === "true") {
  it("the PostgreSQL standby on port 5433 answers (CI=true: .ci/run starts it with scripts/pg-standby.sh)", () => {
    expect(available).toBe(true)
  })
} else {
  describe.skipIf(true)("read replicas (no standby on port 5433: run scripts/pg-standby.sh)", () => {
    it("needs the standby", () => {})
  })
}
