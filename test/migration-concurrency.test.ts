/**
 * Several clients (as several processes would be) applying the same plan at once: the
 * migration lock serialises them, the plan runs once, one history row, every apply succeeds.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import { DataFlow, Migration, Model } from "../src/index.js"
import { privateUrl } from "./support/db.js"

const Thing = Model.make(
  "Thing",
  Schema.Struct({ id: Schema.Int, label: Schema.String.pipe(Schema.maxLength(40)), size: Schema.NullOr(Schema.Int) }),
  { table: "things", indexes: ["label"] }
)

const urls: ReadonlyArray<readonly [string, () => Effect.Effect<string>]> = [
  ["sqlite", () => Effect.sync(() => `sqlite:${join(mkdtempSync(join(tmpdir(), "df-mig-")), "db.sqlite")}`)],
  ...(inject("pgAvailable") ? [["pg", () => privateUrl("pg", "migration_concurrency")] as const] : []),
  ...(inject("mysqlAvailable") ? [["mysql", () => privateUrl("mysql", "migration_concurrency")] as const] : [])
]

describe("concurrent Migration.apply", () => {
  for (const [name, url] of urls) {
    it.live(`[${name}] four clients apply one plan at once: it runs once`, () =>
      Effect.gen(function*() {
        const target = yield* url()
        const layer = () => DataFlow.layer({ url: target })
        const plan = yield* Migration.plan([Thing]).pipe(Effect.provide(layer()))
        expect(plan.operations.map((o) => o.kind)).toEqual(["createTable"])
        const outcomes = yield* Effect.all(
          Array.from({ length: 4 }, () => Migration.apply(plan).pipe(Effect.provide(layer()))),
          { concurrency: "unbounded" }
        )
        expect(outcomes.filter((o) => o.applied).length).toBe(1)
        const check = Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql.unsafe<{ n: number }>(`SELECT COUNT(*) AS n FROM dataflow_migrations WHERE checksum = '${plan.checksum}'`)
          expect(Number(rows[0]!.n)).toBe(1)
          expect((yield* Migration.plan([Thing])).operations).toEqual([])
          yield* Thing.create({ label: "x", size: null })
          // a second change, applied concurrently too
          const Bigger = Model.make(
            "Thing",
            Schema.Struct({ id: Schema.Int, label: Schema.String.pipe(Schema.maxLength(40)), size: Schema.NullOr(Schema.Int), tag: Schema.NullOr(Schema.String) }),
            { table: "things", indexes: ["label", "size"] }
          )
          const next = yield* Migration.plan([Bigger])
          const again = yield* Effect.all(
            Array.from({ length: 3 }, () => Migration.apply(next).pipe(Effect.provide(layer()))),
            { concurrency: "unbounded" }
          )
          expect(again.filter((o) => o.applied).length).toBe(1)
          expect((yield* Migration.status([Bigger])).applied.length).toBe(2)
          yield* sql.unsafe("DROP TABLE things")
          yield* sql.unsafe("DROP TABLE dataflow_migrations")
        })
        yield* check.pipe(Effect.provide(layer()))
        if (name === "sqlite") rmSync(target.slice("sqlite:".length), { force: true })
      }), 60_000)
  }
})
