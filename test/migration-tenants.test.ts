/**
 * Migrations per tenant schema (the `schema` tenant strategy): Migration.applyTenants plans
 * and applies the tenant-scoped models in each tenant's schema (PostgreSQL) / database
 * (MySQL), reports per tenant, stops at a failure or goes on with continueOnFailure;
 * statusTenants; SQLite (no schemas) refuses.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { inject } from "vitest"
import { Dialect, Introspect, Migration, Model, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const tenantId = (name: string) => `df_${inject("runId")}_mt_${name}`

const noteV1 = (table: string) =>
  Model.make("Note", Schema.Struct({ id: Schema.Int, body: Schema.String }), { table, tenantScoped: true, timestamps: false })
const noteV2 = (table: string) =>
  Model.make("Note", Schema.Struct({ id: Schema.Int, body: Schema.String, pinned: Schema.NullOr(Schema.Boolean) }), {
    table,
    tenantScoped: true,
    timestamps: false
  })
/** A NOT NULL column: blocked where the tenant's table has rows. */
const noteV3 = (table: string) =>
  Model.make("Note", Schema.Struct({ id: Schema.Int, body: Schema.String, pinned: Schema.NullOr(Schema.Boolean), rank: Schema.Int }), {
    table,
    tenantScoped: true,
    timestamps: false
  })

forEachDatabase("migration per tenant schema", (it, db) => {
  it.effect("applyTenants: per tenant, in its schema; a failure stops the rest unless continueOnFailure; statusTenants", () =>
    Effect.gen(function*() {
      const table = uniqueTable("notes")
      const Shared = Model.make("Shared", Schema.Struct({ id: Schema.Int }), { table: uniqueTable("shared") })
      const [one, two] = [tenantId(`one_${db.label.length}`), tenantId(`two_${db.label.length}`)] as const
      if (db.name === "sqlite") {
        expect((yield* Effect.flip(Migration.applyTenants([noteV1(table)], [one])))._tag).toBe("ConfigurationError")
        return
      }
      expect((yield* Effect.flip(Migration.applyTenants([noteV1(table)], ["not a tenant id"])))._tag).toBe("ConfigurationError")
      const sql = yield* SqlClient.SqlClient
      const dialect = db.name === "pg" ? Dialect.pg : Dialect.mysql
      const drop = Effect.forEach([one, two], (t) => sql.unsafe(dialect.namespace!.drop(Tenant.storageName(t))), { discard: true })
      yield* Effect.ensuring(
        Effect.gen(function*() {
          const first = yield* Migration.applyTenants([noteV1(table), Shared], [one, two])
          expect(first.map((r) => [r.tenant, r.schema, r.result, r.plan?.operations.map((o) => `${o.kind} ${o.table}`)])).toEqual([
            [one, Tenant.storageName(one), "applied", [`createTable ${table}`]],
            [two, Tenant.storageName(two), "applied", [`createTable ${table}`]]
          ])
          // the shared model's table is not a tenant's
          expect(yield* Introspect.tables({ schema: Tenant.storageName(one), tables: [Shared.table] })).toEqual([])
          // the nodes find the tables the migration made (schema strategy)
          yield* noteV1(table).create({ body: "hello" }).pipe(Tenant.with(one), Effect.provide(Tenant.strategy("schema")))

          const again = yield* Migration.applyTenants([noteV1(table)], [one, two])
          expect(again.map((r) => r.result)).toEqual(["upToDate", "upToDate"])

          const second = yield* Migration.applyTenants([noteV2(table)], [one, two])
          expect(second.map((r) => [r.result, r.operations])).toEqual([["applied", 1], ["applied", 1]])

          // tenant one has a row: the NOT NULL column is blocked there, not in tenant two
          const stopped = yield* Migration.applyTenants([noteV3(table)], [one, two])
          expect(stopped.map((r) => r.result)).toEqual(["failed", "skipped"])
          expect(stopped[0]!.error?._tag).toBe("MigrationRefused")
          const status = yield* Migration.statusTenants([noteV3(table)], [one, two])
          expect(status.map((s) => [s.schema, s.status.pending.operations.map((o) => o.kind)])).toEqual([
            [Tenant.storageName(one), ["addColumn"]],
            [Tenant.storageName(two), ["addColumn"]]
          ])
          const continued = yield* Migration.applyTenants([noteV3(table)], [one, two], { continueOnFailure: true })
          expect(continued.map((r) => r.result)).toEqual(["failed", "applied"])
          const after = yield* Migration.statusTenants([noteV3(table)], [one, two])
          expect(after.map((s) => s.status.pending.operations.length)).toEqual([1, 0])
          // each tenant's history is its own
          expect(after.map((s) => s.status.applied.length)).toEqual([2, 3])
        }),
        Effect.ignore(drop)
      )
    }))
})
