/**
 * Foreign keys in a cycle (A → B → A, A → B → C → A) and self-references on first use and
 * through DataFlow.migrate: the tables are created and the constraints exist (read from the
 * catalog through the driver, and a violating row refused by raw SQL), on every database.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { DataFlow, Model, Relation } from "../src/index.js"
import type { DbName } from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface AuthorRecord {
  readonly id: number
  readonly name: string
  readonly favoriteBookId: number | null
}

const authorsAndBooks = () => {
  const Author = Model.make(
    "Author",
    Schema.Struct({ id: Schema.Int, name: Schema.String, favoriteBookId: Schema.NullOr(Schema.Int) }),
    {
      table: uniqueTable("cyc_authors"),
      timestamps: false,
      relations: {
        favoriteBook: Model.belongsTo((): Relation.Target<{ readonly id: number; readonly title: string }> => Book, {
          foreignKey: "favoriteBookId",
          onDelete: "setNull"
        })
      }
    }
  )
  const Book = Model.make("Book", Schema.Struct({ id: Schema.Int, title: Schema.String, authorId: Schema.Int }), {
    table: uniqueTable("cyc_books"),
    timestamps: false,
    relations: { author: Model.belongsTo((): Relation.Target<AuthorRecord> => Author, { foreignKey: "authorId", onDelete: "cascade" }) }
  })
  return { Author, Book }
}

/** The names of the foreign keys of a table, from the database's catalog. */
const foreignKeyNames = (db: DbName, table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = db === "sqlite"
      ? yield* sql.unsafe<{ name: string }>(`SELECT "table" || '.' || "from" AS name FROM pragma_foreign_key_list('${table}')`)
      : db === "pg"
      ? yield* sql.unsafe<{ name: string }>(
        `SELECT conname AS name FROM pg_constraint WHERE contype = 'f' AND conrelid = to_regclass('"${table}"')`
      )
      : yield* sql.unsafe<{ name: string }>(
        `SELECT CONSTRAINT_NAME AS name FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'`
      )
    return rows.map((r) => r.name).sort()
  })

/** Inserts a row by raw SQL; its failure, if any, as text. */
const rawInsert = (db: DbName, table: string, columns: ReadonlyArray<string>, values: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const q = (id: string) => (db === "mysql" ? `\`${id}\`` : `"${id}"`)
    return yield* sql.unsafe(`INSERT INTO ${q(table)} (${columns.map(q).join(", ")}) VALUES (${values.join(", ")})`).pipe(
      Effect.as("inserted"),
      Effect.catchAll((e) => Effect.succeed(`refused: ${String(e.cause)}`))
    )
  })

/** A raw insert refused by a foreign key (not by anything else). */
const refusedByForeignKey = (outcome: string) =>
  expect(outcome).toMatch(/^refused: .*(FOREIGN KEY constraint failed|violates foreign key constraint|a foreign key constraint fails)/)

forEachDatabase("relation-cycles", (it, db) => {
  it.effect("a cycle of two on first use: both tables, both constraints, rows written both ways", () =>
    Effect.gen(function*() {
      const { Author, Book } = authorsAndBooks()
      const ada = yield* Author.create({ name: "Ada", favoriteBookId: null })
      const book = yield* Book.create({ title: "Notes", authorId: ada.id })
      const updated = yield* Author.update(ada.id, { favoriteBookId: book.id })
      expect(updated.favoriteBookId).toBe(book.id)
      const loaded = yield* Author.read(ada.id, { include: { favoriteBook: true } })
      expect(loaded.favoriteBook?.title).toBe("Notes")

      const orphanBook = yield* Effect.flip(Book.create({ title: "x", authorId: ada.id + 100 }))
      expect(orphanBook._tag).toBe("ForeignKeyViolation")
      if (orphanBook._tag === "ForeignKeyViolation") expect(orphanBook.relation).toBe("author")
      const badFavorite = yield* Effect.flip(Author.update(ada.id, { favoriteBookId: book.id + 100 }))
      expect(badFavorite._tag).toBe("ForeignKeyViolation")
      if (badFavorite._tag === "ForeignKeyViolation") {
        expect(badFavorite.relation).toBe("favoriteBook")
        expect(badFavorite.columns).toEqual(["favoriteBookId"])
      }

      expect(yield* foreignKeyNames(db.name, Author.table)).toHaveLength(1)
      expect(yield* foreignKeyNames(db.name, Book.table)).toHaveLength(1)
      refusedByForeignKey(yield* rawInsert(db.name, Author.table, ["name", "favorite_book_id"], ["'raw'", "987654"]))

      // the referential actions of both constraints: cascade deletes the book, setNull clears the favourite
      yield* Author.delete(ada.id)
      expect(yield* Book.count()).toBe(0)
    }))

  it.effect("concurrent first uses of both models of a cycle create each table once", () =>
    Effect.gen(function*() {
      const { Author, Book } = authorsAndBooks()
      const [authors, books] = yield* Effect.all([Author.count(), Book.count(), Author.count(), Book.count()], {
        concurrency: "unbounded"
      })
      expect([authors, books]).toEqual([0, 0])
      expect(yield* foreignKeyNames(db.name, Author.table)).toHaveLength(1)
      expect(yield* foreignKeyNames(db.name, Book.table)).toHaveLength(1)
    }))

  it.effect("a cycle of three through DataFlow.migrate, in any order given; a self-reference beside it", () =>
    Effect.gen(function*() {
      type Row = { readonly id: number; readonly nextId: number | null }
      const fields = Schema.Struct({ id: Schema.Int, nextId: Schema.NullOr(Schema.Int) })
      const next = (target: () => Relation.Target<Row>) => ({ next: Model.belongsTo(target, { foreignKey: "nextId" }) })
      const X = Model.make("X", fields, { table: uniqueTable("cyc_x"), timestamps: false, relations: next((): Relation.Target<Row> => Y) })
      const Y = Model.make("Y", fields, { table: uniqueTable("cyc_y"), timestamps: false, relations: next((): Relation.Target<Row> => Z) })
      const Z = Model.make("Z", fields, { table: uniqueTable("cyc_z"), timestamps: false, relations: next((): Relation.Target<Row> => X) })
      const Node = Model.make("Node", fields, { table: uniqueTable("cyc_node"), timestamps: false, relations: next((): Relation.Target<Row> => Node) })
      yield* DataFlow.migrate([Y, Node, Z, X])
      for (const m of [X, Y, Z, Node]) expect(yield* foreignKeyNames(db.name, m.table)).toHaveLength(1)
      const x = yield* X.create({ nextId: null })
      const z = yield* Z.create({ nextId: x.id })
      const y = yield* Y.create({ nextId: z.id })
      yield* X.update(x.id, { nextId: y.id })
      const root = yield* Node.create({ nextId: null })
      yield* Node.create({ nextId: root.id })
      expect((yield* Effect.flip(Y.create({ nextId: z.id + 100 })))._tag).toBe("ForeignKeyViolation")
      expect((yield* Effect.flip(Node.create({ nextId: root.id + 100 })))._tag).toBe("ForeignKeyViolation")
      refusedByForeignKey(yield* rawInsert(db.name, Z.table, ["next_id"], ["987654"]))
      refusedByForeignKey(yield* rawInsert(db.name, Node.table, ["next_id"], ["987654"]))
    }))
})
