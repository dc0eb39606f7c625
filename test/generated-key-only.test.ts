/**
 * A model of a generated key alone (no other column to write): create and bulkCreate insert
 * rows of defaults — `DEFAULT VALUES` / `(id) VALUES (DEFAULT), …` on PostgreSQL, `(id) VALUES
 * (NULL), …` on SQLite, `() VALUES (), …` on MySQL — with and without the records back.
 */
import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { describe, it } from "vitest"
import type { Dialect as DialectType } from "../src/Dialect.js"
import { Dialect, Model } from "../src/index.js"
import { definitionOf } from "../src/internal/model/definition.js"
import * as Build from "../src/internal/sql/builders.js"
import { statementsFor } from "../src/internal/sql/statements.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

forEachDatabase("a model of a generated key alone", (it) => {
  it.effect("create, bulkCreate (records back or not, on a statement per chunk), count", () =>
    Effect.gen(function*() {
      const Ticket = Model.make("Ticket", Schema.Struct({ id: Schema.Int }), { table: uniqueTable("tickets"), timestamps: false })
      const one = yield* Ticket.create({})
      expect(typeof one.id).toBe("number")
      const back = yield* Ticket.bulkCreate([{}, {}, {}], { returnRecords: true })
      expect(back.inserted).toBe(3)
      const ids = back.records!.map((r) => r.id)
      expect(new Set([one.id, ...ids]).size).toBe(4)
      expect((yield* Ticket.bulkCreate(Array.from({ length: 1500 }, () => ({})))).inserted).toBe(1500)
      expect(yield* Ticket.count()).toBe(1504)
      expect((yield* Ticket.read(ids[2]!)).id).toBe(ids[2])
    }))
})

describe("the insert of a generated key alone, as text", () => {
  const Ticket = Model.make("Ticket", Schema.Struct({ id: Schema.Int }), { table: "tickets", timestamps: false })
  const statements = (d: DialectType) => statementsFor(definitionOf(Ticket), d, undefined)
  it("one row and three rows per dialect; bulk inserts without an array to bind", () => {
    const pg = statements(Dialect.pg)
    expect(Build.insertValues(pg, [], 1, false)).toBe(`INSERT INTO "tickets" DEFAULT VALUES`)
    expect(Build.insertValues(pg, [], 3, false)).toBe(`INSERT INTO "tickets" ("id") VALUES (DEFAULT), (DEFAULT), (DEFAULT)`)
    expect(Build.insertRows(pg, [], [], 2)).toEqual({ text: `INSERT INTO "tickets" ("id") VALUES (DEFAULT), (DEFAULT)`, params: [] })
    const sqlite = statements(Dialect.sqlite)
    expect(Build.insertValues(sqlite, [], 1, false)).toBe(`INSERT INTO "tickets" DEFAULT VALUES`)
    expect(Build.insertValues(sqlite, [], 2, false)).toBe(`INSERT INTO "tickets" ("id") VALUES (NULL), (NULL)`)
    const mysql = statements(Dialect.mysql)
    expect(Build.insertValues(mysql, [], 2, false)).toBe("INSERT INTO `tickets` () VALUES (), ()")
  })
})
