/**
 * Foreign keys in Migration.plan, on every database: tables created after the tables they
 * reference, a cycle of two tables closed by ALTER TABLE … ADD CONSTRAINT (SQLite: in CREATE
 * TABLE, checked when rows are written), foreign keys added to and dropped from existing tables
 * (SQLite: by a rebuild in the migration's transaction), a changed action as drop + add, down
 * SQL, and introspect → source → model → empty plan with the relations.
 */
import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { Relation } from "../src/index.js"
import { DataFlow, Introspect, Migration, Model } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const authorOf = (table: string) => Model.make("Author", Schema.Struct({ id: Schema.Int, name: Schema.String }), { table, timestamps: false })

const bookOf = (
  table: string,
  author: Relation.Target<{ readonly id: number }>,
  action?: "cascade" | "restrict"
) =>
  Model.make("Book", Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String }), {
    table,
    timestamps: false,
    ...(action === undefined ? {} : { relations: { author: Model.belongsTo(() => author, { foreignKey: "authorId", onDelete: action }) } })
  })

forEachDatabase("migration: foreign keys", (it, db) => {
  it.effect("new tables after the tables they reference; a cycle of two: both tables, then ADD CONSTRAINT; rollback", () =>
    Effect.gen(function*() {
      const [authors, books, teams, players] = ["authors", "books", "teams", "players"].map(uniqueTable)
      const Author = authorOf(authors!)
      const Book = bookOf(books!, Author, "cascade")
      interface PlayerRecord { readonly id: number; readonly teamId: number | null }
      const Team = Model.make("Team", Schema.Struct({ id: Schema.Int, captainId: Schema.NullOr(Schema.Int) }), {
        table: teams,
        timestamps: false,
        relations: { captain: Model.belongsTo((): Relation.Target<PlayerRecord> => Player, { foreignKey: "captainId", onDelete: "setNull" }) }
      })
      const Player = Model.make("Player", Schema.Struct({ id: Schema.Int, teamId: Schema.NullOr(Schema.Int) }), {
        table: players,
        timestamps: false,
        relations: { team: Model.belongsTo(() => Team, { foreignKey: "teamId" }) }
      })
      const plan = yield* Migration.plan([Book, Team, Player, Author])
      const steps = plan.operations.map((o) => `${o.kind} ${o.table}`)
      expect(steps.indexOf(`createTable ${authors}`)).toBeLessThan(steps.indexOf(`createTable ${books}`))
      if (db.name === "sqlite") {
        expect(plan.operations.map((o) => o.kind)).toEqual(["createTable", "createTable", "createTable", "createTable"])
      } else {
        // the first table of the cycle is created without its foreign key, added after both
        expect(steps.slice(-1)).toEqual([`addForeignKey ${teams}`])
        expect(plan.operations.at(-1)!.description).toMatch(/captain_id.*on delete set null/)
        expect(plan.operations.at(-1)!.down?.[0]).toMatch(/DROP (CONSTRAINT|FOREIGN KEY)/)
      }
      expect(plan.operations.every((o) => !o.destructive && o.down !== undefined)).toBe(true)
      yield* Migration.apply(plan)
      expect((yield* Migration.plan([Book, Team, Player, Author])).operations).toEqual([])
      const fks = (yield* Introspect.tables({ tables: [teams!] }))[0]!.foreignKeys
      expect(fks.map((f) => [f.columns, f.referencedTable, f.onDelete, f.onUpdate])).toEqual([[["captain_id"], players, "setNull", "noAction"]])

      // the constraints hold: a missing author is refused, a deleted one takes its books
      const ada = yield* Author.create({ name: "Ada" })
      yield* Book.create({ authorId: ada.id, title: "Notes" })
      expect((yield* Effect.flip(Book.create({ authorId: ada.id + 100, title: "x" })))._tag).toBe("ForeignKeyViolation")
      yield* Author.delete(ada.id)
      expect(yield* Book.count()).toBe(0)
      const team = yield* Team.create({ captainId: null })
      const player = yield* Player.create({ teamId: team.id })
      yield* Team.update(team.id, { captainId: player.id })
      yield* Player.delete(player.id)
      expect((yield* Team.read(team.id)).captainId).toBeNull()

      // down: constraints dropped before the tables, in reverse order
      yield* Team.delete(team.id)
      const undone = yield* Migration.rollback()
      expect(undone?.id).toBe(plan.id)
      expect(yield* Introspect.tables({ tables: [authors!] })).toEqual([])
    }))

  it.effect("a foreign key added to a table with rows (SQLite: a rebuild), an action changed (drop + add), dropped", () =>
    Effect.gen(function*() {
      const [authors, books] = ["authors", "books"].map(uniqueTable)
      const Author = authorOf(authors!)
      yield* DataFlow.migrate([Author, bookOf(books!, Author)])
      const ada = yield* Author.create({ name: "Ada" })
      yield* bookOf(books!, Author).create({ authorId: ada.id, title: "Notes" })

      const Cascading = bookOf(books!, Author, "cascade")
      const added = yield* Migration.plan([Author, Cascading], { name: "book author" })
      expect(added.operations.map((o) => o.kind)).toEqual(db.name === "sqlite" ? ["rebuildTable"] : ["addIndex", "addForeignKey"])
      expect(added.operations.some((o) => o.destructive)).toBe(false)
      yield* Migration.apply(added)
      expect((yield* Migration.plan([Author, Cascading])).operations).toEqual([])
      expect((yield* Cascading.list()).records.map((r) => r.title)).toEqual(["Notes"])

      const Restricting = bookOf(books!, Author, "restrict")
      const changed = yield* Migration.plan([Author, Restricting])
      expect(changed.operations.map((o) => o.kind)).toEqual(db.name === "sqlite" ? ["rebuildTable"] : ["dropForeignKey", "addForeignKey"])
      yield* Migration.apply(changed)
      expect((yield* Migration.plan([Author, Restricting])).operations).toEqual([])
      expect((yield* Effect.flip(Author.delete(ada.id)))._tag).toBe("ForeignKeyViolation")
      if (db.name !== "sqlite") {
        // reversible: back to cascade
        yield* Migration.rollback()
        expect((yield* Migration.plan([Author, Cascading])).operations).toEqual([])
      }

      const Plain = bookOf(books!, Author)
      const dropped = yield* Migration.plan([Author, Plain])
      expect(dropped.operations.map((o) => o.kind)).toEqual(db.name === "sqlite" ? ["rebuildTable"] : ["dropForeignKey", "dropIndex"])
      yield* Migration.apply(dropped)
      expect((yield* Migration.plan([Author, Plain])).operations).toEqual([])
      expect((yield* Introspect.tables({ tables: [books!] }))[0]!.foreignKeys).toEqual([])
    }))

  it.effect("introspect → toSource → models → plan is empty, relations included", () =>
    Effect.gen(function*() {
      const [authors, books] = ["authors", "books"].map(uniqueTable)
      const Author = authorOf(authors!)
      yield* DataFlow.migrate([Author, bookOf(books!, Author, "cascade")])
      const source = Introspect.toSource(yield* Introspect.tables({ tables: [authors!, books!] }))
      expect(source).toMatch(/author: Model\.belongsTo\(\(\) => \w+, \{ foreignKey: "authorId", onDelete: "cascade" \}\)/)
      const body = source.replace(/^import .*$/gm, "").replace(/export const (\w+) =/g, "exports.$1 =").replace(/\(\) => (\w+),/g, "() => exports.$1,")
      const { Column } = yield* Effect.promise(() => import("../src/index.js"))
      const exports: Record<string, Model.Any> = {}
      new Function("exports", "Schema", "Column", "Model", body)(exports, Schema, Column, Model)
      expect(Object.values(exports).length).toBe(2)
      expect((yield* Migration.plan(Object.values(exports))).operations).toEqual([])
    }))

  if (db.name === "sqlite") {
    it.effect("SQLite: a rebuild of a table that foreign keys refer to is blocked, not run", () =>
      Effect.gen(function*() {
        const [authors, books] = ["authors", "books"].map(uniqueTable)
        const Author = authorOf(authors!)
        yield* DataFlow.migrate([Author, bookOf(books!, Author, "cascade")])
        const Narrower = Model.make("Author", Schema.Struct({ id: Schema.Int }), { table: authors, timestamps: false })
        const p = yield* Migration.plan([Narrower, bookOf(books!, Narrower, "cascade")])
        expect(p.operations.map((o) => o.kind)).toEqual(["rebuildTable"])
        expect(p.operations[0]!.blocked).toMatch(/foreign keys of .* refer to it/)
        expect((yield* Effect.flip(Migration.apply(p, { allowDestructive: true })))._tag).toBe("MigrationRefused")
      }))
  }
})
