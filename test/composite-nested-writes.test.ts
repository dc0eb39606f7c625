/**
 * Nested writes through relations whose foreign key is composite (issue 13), on every database
 * and client: belongs-to `create` / `connect` (by the composite key or a unique set) /
 * `connectOrCreate` / `disconnect` setting or clearing both fields; has-many / has-one `create`
 * of children whose two-field foreign key the parent sets; nested `update` of such children
 * (by filter, and named: has-many `update` / `disconnect` by id, has-one `update` / `delete`).
 * Observed through the raw rows; failures are typed and leave nothing written.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { Relation } from "../src/index.js"
import { Model } from "../src/index.js"
import type { TestDb } from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface PrintingRecord {
  readonly id: number
  readonly bookId: number | null
  readonly editionNo: number | null
  readonly copies: number
}
interface CoverRecord {
  readonly id: number
  readonly bookId: number
  readonly editionNo: number
  readonly art: string
}

const models = () => {
  const Edition = Model.make(
    "Edition",
    Schema.Struct({ bookId: Schema.Int, editionNo: Schema.Int, title: Schema.String, isbn: Schema.String }),
    {
      table: uniqueTable("cnw_editions"),
      primaryKey: ["bookId", "editionNo"],
      unique: ["isbn"],
      relations: {
        printings: Model.hasMany((): Relation.Target<PrintingRecord> => Printing, { foreignKey: ["bookId", "editionNo"] }),
        cover: Model.hasOne((): Relation.Target<CoverRecord> => Cover, { foreignKey: ["bookId", "editionNo"] })
      }
    }
  )
  const Printing = Model.make(
    "Printing",
    Schema.Struct({
      id: Schema.Int,
      bookId: Schema.NullOr(Schema.Int),
      editionNo: Schema.NullOr(Schema.Int),
      copies: Schema.Int.pipe(Schema.positive())
    }),
    {
      table: uniqueTable("cnw_printings"),
      relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"], onDelete: "cascade" }) }
    }
  )
  const Cover = Model.make("Cover", Schema.Struct({ id: Schema.Int, bookId: Schema.Int, editionNo: Schema.Int, art: Schema.String }), {
    table: uniqueTable("cnw_covers"),
    unique: [["bookId", "editionNo"]],
    relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"], onDelete: "cascade" }) }
  })
  return { Edition, Printing, Cover }
}

const q = (db: TestDb, id: string) => db.name === "mysql" ? `\`${id}\`` : `"${id}"`

/** A table's (book_id, edition_no) pairs as the database holds them, by id: `book/edition` or `null`. */
const keysIn = (db: TestDb, table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ b: number | string | null; e: number | string | null }>(
      `SELECT book_id AS b, edition_no AS e FROM ${q(db, table)} ORDER BY id`
    )
    return rows.map((r) => r.b === null && r.e === null ? null : `${Number(r.b)}/${Number(r.e)}`)
  })

forEachDatabase("composite nested writes", (it, db) => {
  it.effect("belongs-to: create, connect by key or unique set, connectOrCreate set both foreign key fields", () =>
    Effect.gen(function*() {
      const { Edition, Printing } = models()
      const first = yield* Printing.create({ copies: 5, edition: { create: { bookId: 7, editionNo: 1, title: "Seven", isbn: "i7" } } })
      expect(first.edition).toMatchObject({ bookId: 7, editionNo: 1, title: "Seven" })
      expect([first.bookId, first.editionNo]).toEqual([7, 1])
      const byKey = yield* Printing.create({ copies: 1, edition: { connect: { bookId: 7, editionNo: 1 } } })
      expect(byKey.edition.title).toBe("Seven")
      const byIsbn = yield* Printing.create({ copies: 2, edition: { connect: { isbn: "i7" } } })
      expect(byIsbn.edition.bookId).toBe(7)
      const found = yield* Printing.create({
        copies: 3,
        edition: { connectOrCreate: { where: { bookId: 7, editionNo: 1 }, create: { bookId: 7, editionNo: 1, title: "dup", isbn: "dup" } } }
      })
      expect(found.edition.title).toBe("Seven")
      const made = yield* Printing.create({
        copies: 4,
        edition: { connectOrCreate: { where: { bookId: 7, editionNo: 2 }, create: { bookId: 7, editionNo: 2, title: "Seven II", isbn: "i7b" } } }
      })
      expect(made.edition.title).toBe("Seven II")
      expect(yield* keysIn(db, Printing.table)).toEqual(["7/1", "7/1", "7/1", "7/1", "7/2"])
      expect(yield* Edition.count()).toBe(2)
    }))

  it.effect("belongs-to: a missing target is a NotFound naming the relation; bad shapes are ValidationErrors; nothing written", () =>
    Effect.gen(function*() {
      const { Edition, Printing } = models()
      yield* Edition.create({ bookId: 1, editionNo: 1, title: "One", isbn: "i1" })
      const missing = yield* Effect.flip(Printing.create({ copies: 1, edition: { connect: { bookId: 1, editionNo: 9 } } }))
      expect(missing._tag).toBe("NotFound")
      if (missing._tag === "NotFound") {
        expect(missing.model).toBe("Edition")
        expect(missing.relation).toBe("Printing.edition")
        expect(missing.id).toBe("bookId=1,editionNo=9")
      }
      const partial = yield* Effect.flip(Printing.create({ copies: 1, edition: { connect: { bookId: 1 } } }))
      expect(partial._tag).toBe("ValidationError")
      if (partial._tag === "ValidationError") expect(partial.path).toBe("edition.connect")
      const both = yield* Effect.flip(Printing.create({ copies: 1, editionNo: 1, edition: { connect: { bookId: 1, editionNo: 1 } } } as never))
      expect(both._tag).toBe("ValidationError")
      if (both._tag === "ValidationError") expect(both.path).toBe("edition")
      // the parent created, then the record fails its own check: the parent goes too
      const rolledBack = yield* Effect.flip(Printing.create({ copies: -1, edition: { create: { bookId: 2, editionNo: 1, title: "Two", isbn: "i2" } } }))
      expect(rolledBack._tag).toBe("ValidationError")
      expect(yield* Edition.count()).toBe(1)
      expect(yield* keysIn(db, Printing.table)).toEqual([])
    }))

  it.effect("update: connect another edition, disconnect clears both fields (a non-nullable key refuses)", () =>
    Effect.gen(function*() {
      const { Cover, Edition, Printing } = models()
      yield* Edition.bulkCreate([{ bookId: 1, editionNo: 1, title: "One", isbn: "i1" }, { bookId: 1, editionNo: 2, title: "Two", isbn: "i2" }])
      const p = yield* Printing.create({ copies: 1, edition: { connect: { bookId: 1, editionNo: 1 } } })
      const moved = yield* Printing.update(p.id, { copies: 2, edition: { connect: { isbn: "i2" } } })
      expect([moved.editionNo, moved.edition.title]).toEqual([2, "Two"])
      expect(yield* keysIn(db, Printing.table)).toEqual(["1/2"])
      const cleared = yield* Printing.update(p.id, { edition: { disconnect: true } })
      expect(cleared.edition).toBeNull()
      expect(yield* keysIn(db, Printing.table)).toEqual([null])
      const cover = yield* Cover.create({ art: "x", edition: { connect: { bookId: 1, editionNo: 1 } } })
      const refused = yield* Effect.flip(Cover.update(cover.id, { edition: { disconnect: true } } as never))
      expect(refused._tag).toBe("ValidationError")
      if (refused._tag === "ValidationError") expect(refused.path).toBe("edition.disconnect")
      expect(yield* keysIn(db, Cover.table)).toEqual(["1/1"])
    }))

  it.effect("has-many / has-one: children created with the parent's two key fields; a child naming one is refused", () =>
    Effect.gen(function*() {
      const { Cover, Edition, Printing } = models()
      const edition = yield* Edition.create({
        bookId: 8,
        editionNo: 3,
        title: "Eight",
        isbn: "i8",
        printings: { create: [{ copies: 1 }, { copies: 2 }] },
        cover: { create: { art: "blue" } }
      })
      expect(edition.printings.map((p) => [p.bookId, p.editionNo, p.copies])).toEqual([[8, 3, 1], [8, 3, 2]])
      expect(edition.cover).toMatchObject({ bookId: 8, editionNo: 3, art: "blue" })
      expect(yield* keysIn(db, Printing.table)).toEqual(["8/3", "8/3"])
      expect(yield* keysIn(db, Cover.table)).toEqual(["8/3"])
      // a child setting one of the key fields: a ValidationError at its path, nothing written
      const own = yield* Effect.flip(Edition.create({
        bookId: 9,
        editionNo: 1,
        title: "Nine",
        isbn: "i9",
        printings: { create: [{ copies: 1, editionNo: 2 } as never] }
      }))
      expect(own._tag).toBe("ValidationError")
      if (own._tag === "ValidationError") expect(own.path).toBe("printings.create.0.editionNo")
      // a bad child rolls the parent back
      const bad = yield* Effect.flip(Edition.create({ bookId: 9, editionNo: 1, title: "Nine", isbn: "i9", printings: { create: [{ copies: 0 }] } }))
      expect(bad._tag).toBe("ValidationError")
      expect(yield* Edition.count()).toBe(1)
      // a second has-one child: the unique key refuses it, the update's own fields roll back
      const second = yield* Effect.flip(Edition.update({ bookId: 8, editionNo: 3 }, { title: "x", cover: { create: { art: "red" } } }))
      expect(second._tag).toBe("UniqueViolation")
      expect((yield* Edition.read({ bookId: 8, editionNo: 3 })).title).toBe("Eight")
    }))

  it.effect("update of has-many children over a composite key: delete, deleteMany, updateMany, create stay within the parent", () =>
    Effect.gen(function*() {
      const { Edition, Printing } = models()
      const a = yield* Edition.create({ bookId: 1, editionNo: 1, title: "A", isbn: "a", printings: { create: [{ copies: 1 }, { copies: 2 }, { copies: 3 }] } })
      yield* Edition.create({ bookId: 1, editionNo: 2, title: "B", isbn: "b", printings: { create: [{ copies: 1 }, { copies: 2 }] } })
      const key = { bookId: 1, editionNo: 1 }
      const updated = yield* Edition.update(key, {
        printings: {
          delete: [a.printings[0]!.id],
          deleteMany: { copies: 2 },
          updateMany: { data: { copies: 30 } },
          create: [{ copies: 4 }]
        }
      })
      expect(updated.printings.map((p) => p.copies)).toEqual([4])
      const rows = (yield* Printing.list({ orderBy: ["id"] })).records.map((p) => `${p.bookId}/${p.editionNo}:${p.copies}`)
      expect(rows.filter((r) => r.startsWith("1/1"))).toEqual(["1/1:30", "1/1:4"])
      expect(rows.filter((r) => r.startsWith("1/2"))).toEqual(["1/2:1", "1/2:2"])
      // a printing of the other edition is not a child of this one
      const other = (yield* Printing.list({ where: { editionNo: 2 } })).records[0]!
      const notMine = yield* Effect.flip(Edition.update(key, { printings: { delete: [other.id] } }))
      expect(notMine._tag).toBe("NotFound")
      if (notMine._tag === "NotFound") expect(notMine.relation).toBe("Edition.printings")
    }))

  it.effect("update of named children over a composite key: has-many update / disconnect by id, has-one update / delete", () =>
    Effect.gen(function*() {
      const { Cover, Edition, Printing } = models()
      const key = { bookId: 2, editionNo: 5 }
      const e = yield* Edition.create({ ...key, title: "E", isbn: "e", printings: { create: [{ copies: 1 }, { copies: 2 }] }, cover: { create: { art: "red" } } })
      yield* Edition.create({ bookId: 2, editionNo: 6, title: "F", isbn: "f", printings: { create: [{ copies: 9 }] } })
      const [first, second] = [e.printings[0]!.id, e.printings[1]!.id]
      const updated = yield* Edition.update(key, {
        printings: { update: [{ where: first, data: { copies: 10 } }], disconnect: [second] },
        cover: { update: { art: "green" } }
      })
      expect(updated.printings.map((p) => p.copies)).toEqual([10])
      expect(updated.cover).toMatchObject({ ...key, art: "green" })
      // the disconnected printing: both key fields cleared; the other edition's untouched
      expect(yield* keysIn(db, Printing.table)).toEqual(["2/5", null, "2/6"])
      const other = (yield* Printing.list({ where: { editionNo: 6 } })).records[0]!
      const notMine = yield* Effect.flip(Edition.update(key, { printings: { update: [{ where: other.id, data: { copies: 1 } }] } }))
      expect(notMine._tag).toBe("NotFound")
      yield* Edition.update(key, { cover: { delete: true } })
      expect(yield* keysIn(db, Cover.table)).toEqual([])
      const none = yield* Effect.flip(Edition.update(key, { cover: { delete: true } }))
      expect(none._tag).toBe("NotFound")
      if (none._tag === "NotFound") expect(none.id).toBe("bookId=2,editionNo=5")
    }))
})
