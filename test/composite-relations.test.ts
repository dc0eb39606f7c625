/**
 * Relations whose referenced key is composite (issue 13), on every database and client: a
 * belongs-to over several fields to a composite primary key (or a composite unique set), its
 * has-many / has-one inverse over the same fields; `FOREIGN KEY (a, b) REFERENCES t (x, y)`
 * observed in the catalog, with its actions; include both ways and nested, one statement per
 * relation per level; relation filters against a JS evaluation; tenants; migrations. Nested
 * writes through them: test/composite-nested-writes.test.ts; many-to-many: test/composite-many-to-many.test.ts.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, expectTypeOf, it as vit } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { Relation } from "../src/index.js"
import { DataFlow, Introspect, Migration, Model, Tenant } from "../src/index.js"
import type { TestDb } from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { selects } from "./support/pipeline.js"

interface EditionRecord {
  readonly bookId: number
  readonly editionNo: number
  readonly title: string
}
interface PrintingRecord {
  readonly id: number
  readonly bookId: number | null
  readonly editionNo: number | null
  readonly copies: number
}

const models = (onDelete: Relation.ReferentialAction = "cascade", options: { readonly tenantScoped?: boolean } = {}) => {
  const tenantScoped = options.tenantScoped === true
  const Book = Model.make("Book", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
    table: uniqueTable("cpr_books"),
    relations: { editions: Model.hasMany((): Relation.Target<EditionRecord> => Edition, { foreignKey: "bookId" }) }
  })
  const Edition = Model.make("Edition", Schema.Struct({ bookId: Schema.Int, editionNo: Schema.Int, title: Schema.String }), {
    table: uniqueTable("cpr_editions"),
    primaryKey: ["bookId", "editionNo"],
    tenantScoped,
    relations: {
      printings: Model.hasMany((): Relation.Target<PrintingRecord> => Printing, { foreignKey: ["bookId", "editionNo"] }),
      latest: Model.hasOne((): Relation.Target<PrintingRecord> => Printing, { foreignKey: ["bookId", "editionNo"] })
    }
  })
  const Printing = Model.make(
    "Printing",
    Schema.Struct({
      id: Schema.Int,
      bookId: Schema.NullOr(Schema.Int),
      editionNo: Schema.NullOr(Schema.Int),
      copies: Schema.Int
    }),
    {
      table: uniqueTable("cpr_printings"),
      tenantScoped,
      relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"], onDelete }) }
    }
  )
  return { Book, Edition, Printing }
}

const q = (db: TestDb, id: string) => db.name === "mysql" ? `\`${id}\`` : `"${id}"`

/** The foreign keys of a table as the database's own catalog reports them: columns → table (columns), actions. */
const catalogForeignKeys = (db: TestDb, table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (db.name === "sqlite") {
      const rows = yield* sql.unsafe<{ id: number; from: string; table: string; to: string; on_delete: string; on_update: string }>(
        `SELECT id, "from", "table", "to", on_delete, on_update FROM pragma_foreign_key_list('${table}') ORDER BY id, seq`
      )
      return rows.map((r) => `${r.from}→${r.table}.${r.to} ${r.on_delete}/${r.on_update}`)
    }
    if (db.name === "pg") {
      const rows = yield* sql.unsafe<{ text: string }>(
        `SELECT pg_get_constraintdef(oid) AS text FROM pg_constraint WHERE contype = 'f' AND conrelid = to_regclass('"${table}"')`
      )
      return rows.map((r) => r.text)
    }
    const rows = yield* sql.unsafe<{ c: string; t: string; r: string; d: string; u: string }>(
      `SELECT k.COLUMN_NAME AS c, k.REFERENCED_TABLE_NAME AS t, k.REFERENCED_COLUMN_NAME AS r, x.DELETE_RULE AS d, x.UPDATE_RULE AS u
       FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS x
         ON x.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND x.CONSTRAINT_NAME = k.CONSTRAINT_NAME
       WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = '${table}' AND k.REFERENCED_TABLE_NAME IS NOT NULL
       ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION`
    )
    return rows.map((r) => `${r.c}→${r.t}.${r.r} ${r.d}/${r.u}`)
  })

const seed = (onDelete: Relation.ReferentialAction = "cascade") =>
  Effect.gen(function*() {
    const m = models(onDelete)
    yield* DataFlow.migrate([m.Printing, m.Edition, m.Book])
    const books = (yield* m.Book.bulkCreate([{ name: "Dune" }, { name: "Emma" }], { returnRecords: true })).records
    const [dune, emma] = [books[0]!.id, books[1]!.id]
    yield* m.Edition.bulkCreate([
      { bookId: dune, editionNo: 1, title: "Dune I" },
      { bookId: dune, editionNo: 2, title: "Dune II" },
      { bookId: emma, editionNo: 1, title: "Emma I" }
    ])
    yield* m.Printing.bulkCreate([
      { bookId: dune, editionNo: 1, copies: 10 },
      { bookId: dune, editionNo: 1, copies: 3 },
      { bookId: dune, editionNo: 2, copies: 7 },
      { bookId: emma, editionNo: 1, copies: 1 },
      // NULL in one column: no related edition (MATCH SIMPLE on every database)
      { bookId: emma, editionNo: null, copies: 2 },
      { bookId: null, editionNo: null, copies: 4 }
    ])
    return { ...m, dune, emma }
  })

forEachDatabase("composite relations", (it, db) => {
  it.effect("the foreign key is one multi-column constraint, with its actions, in the catalog; violations name the relation", () =>
    Effect.gen(function*() {
      const { Edition, Printing, dune } = yield* seed("cascade")
      const fks = yield* catalogForeignKeys(db, Printing.table)
      if (db.name === "pg") {
        expect(fks).toEqual([`FOREIGN KEY (book_id, edition_no) REFERENCES ${Edition.table}(book_id, edition_no) ON DELETE CASCADE`])
      } else {
        const action = db.name === "sqlite" ? "CASCADE/NO ACTION" : "CASCADE/NO ACTION"
        expect(fks).toEqual([`book_id→${Edition.table}.book_id ${action}`, `edition_no→${Edition.table}.edition_no ${action}`])
      }
      const introspected = (yield* Introspect.tables({ tables: [Printing.table] }))[0]!
      expect(introspected.foreignKeys.map((f) => [f.columns, f.referencedTable, f.referencedColumns])).toEqual([
        [["book_id", "edition_no"], Edition.table, ["book_id", "edition_no"]]
      ])
      // the index serving the key
      expect(introspected.indexes.some((i) => i.columns.join() === "book_id,edition_no") || db.name === "mysql").toBe(true)
      const missing = yield* Effect.flip(Printing.create({ bookId: dune, editionNo: 9, copies: 1 }))
      expect(missing._tag).toBe("ForeignKeyViolation")
      if (missing._tag === "ForeignKeyViolation") {
        expect(missing.columns).toEqual(["bookId", "editionNo"])
        expect(missing.relation).toBe("edition")
      }
      // one column NULL: not checked
      yield* Printing.create({ bookId: 12345, editionNo: null, copies: 1 })
    }))

  it.effect("cascade / restrict / setNull when the referenced edition goes (observed through raw SQL)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = (table: string) =>
        Effect.map(
          sql.unsafe<{ b: number | string | null; e: number | string | null }>(`SELECT book_id AS b, edition_no AS e FROM ${q(db, table)} ORDER BY id`),
          // PostgreSQL's BIGINT as text
          (rs) => rs.map((r) => ({ b: r.b === null ? null : Number(r.b), e: r.e === null ? null : Number(r.e) }))
        )

      const cascade = yield* seed("cascade")
      yield* cascade.Edition.delete({ bookId: cascade.dune, editionNo: 1 })
      expect((yield* rows(cascade.Printing.table)).filter((r) => r.b === cascade.dune).map((r) => r.e)).toEqual([2])

      const restrict = yield* seed("restrict")
      const refused = yield* Effect.flip(restrict.Edition.delete({ bookId: restrict.dune, editionNo: 1 }))
      expect(refused._tag).toBe("ForeignKeyViolation")
      expect(yield* restrict.Edition.count()).toBe(3)

      const setNull = yield* seed("setNull")
      yield* setNull.Edition.delete({ bookId: setNull.dune, editionNo: 1 })
      const after = yield* rows(setNull.Printing.table)
      expect(after.slice(0, 3)).toEqual([{ b: null, e: null }, { b: null, e: null }, { b: setNull.dune, e: 2 }])
    }))

  it.effect("include both ways and nested: one statement per relation per level; NULL in a key column loads nothing", () =>
    Effect.gen(function*() {
      const { Book, Edition, Printing, dune, emma } = yield* seed()
      const down = yield* selects(Printing.list({ orderBy: ["id"], include: { edition: { include: { printings: { orderBy: ["id"] } } } } }))
      expect(down.count).toBe(3)
      const printings = down.value.records
      expect(printings.map((p) => p.edition?.title ?? null)).toEqual(["Dune I", "Dune I", "Dune II", "Emma I", null, null])
      expect(printings[0]!.edition!.printings.map((p) => p.copies)).toEqual([10, 3])

      const up = yield* selects(Book.list({ orderBy: ["id"], include: { editions: { orderBy: ["editionNo"] } } }))
      expect(up.count).toBe(2)
      const editions = yield* selects(Edition.list({
        orderBy: ["bookId", "editionNo"],
        include: { printings: { orderBy: ["copies"] }, latest: true }
      }))
      expect(editions.count).toBe(3)
      expect(editions.value.records.map((e) => [e.bookId, e.editionNo, e.printings.map((p) => p.copies)])).toEqual([
        [dune, 1, [3, 10]],
        [dune, 2, [7]],
        [emma, 1, [1]]
      ])
      expect(editions.value.records.map((e) => e.latest?.bookId)).toEqual([dune, dune, emma])
      // a projection without the key fields still loads (they are read, then left out)
      const projected = yield* Printing.list({ select: ["copies"], orderBy: ["id"], include: { edition: { select: ["title"] } } })
      expect(projected.records[2]).toEqual({ copies: 7, edition: { title: "Dune II" } })
      // read by composite key with include
      const one = yield* Edition.read({ bookId: dune, editionNo: 2 }, { include: { printings: true } })
      expect(one.printings.map((p) => p.copies)).toEqual([7])
    }))

  it.effect("a page of many keys: keys sharing a book are one condition, so 600 editions of 3 books load in one statement", () =>
    Effect.gen(function*() {
      const { Edition, Printing } = models()
      yield* DataFlow.migrate([Printing, Edition])
      const keys = Array.from({ length: 600 }, (_, i) => ({ bookId: i % 3, editionNo: i }))
      yield* Edition.bulkCreate(keys.map((k) => ({ ...k, title: `t${k.editionNo}` })))
      yield* Printing.bulkCreate(keys.map((k) => ({ ...k, copies: k.editionNo })))
      const { count, value } = yield* selects(Printing.list({ limit: 1000, include: { edition: true } }))
      expect(count).toBe(2)
      expect(value.records.every((p) => p.edition?.title === `t${p.copies}`)).toBe(true)
      // distinct books: split where the filter's condition limit would be passed, never one per record
      const Other = models()
      yield* DataFlow.migrate([Other.Printing, Other.Edition])
      const distinct = Array.from({ length: 300 }, (_, i) => ({ bookId: i, editionNo: 1 }))
      yield* Other.Edition.bulkCreate(distinct.map((k) => ({ ...k, title: `t${k.bookId}` })))
      yield* Other.Printing.bulkCreate(distinct.map((k) => ({ ...k, copies: k.bookId })))
      const split = yield* selects(Other.Printing.list({ limit: 1000, include: { edition: true } }))
      expect(split.count).toBe(1 + 3)
      expect(split.value.records.every((p) => p.edition?.title === `t${p.copies}`)).toBe(true)
    }), { timeout: 60_000 })

  it.effect("relation filters (belongs-to, has-many some / every / none, has-one) agree with a JS evaluation", () =>
    Effect.gen(function*() {
      const { Edition, Printing } = yield* seed()
      const editions = (yield* Edition.list({ orderBy: ["bookId", "editionNo"] })).records
      const printings = (yield* Printing.list({ orderBy: ["id"] })).records
      const of = (e: EditionRecord) => printings.filter((p) => p.bookId === e.bookId && p.editionNo === e.editionNo)
      const editionOf = (p: PrintingRecord) => editions.find((e) => e.bookId === p.bookId && e.editionNo === p.editionNo)
      const ids = (rs: ReadonlyArray<{ readonly id: number }>) => rs.map((r) => r.id)
      const keys = (rs: ReadonlyArray<EditionRecord>) => rs.map((e) => `${e.bookId}/${e.editionNo}`)

      const byTitle = yield* Printing.list({ where: { edition: { title: { $startsWith: "Dune" } } }, orderBy: ["id"] })
      expect(ids(byTitle.records)).toEqual(ids(printings.filter((p) => editionOf(p)?.title.startsWith("Dune"))))
      const orphans = yield* Printing.list({ where: { $not: { edition: {} } }, orderBy: ["id"] })
      expect(ids(orphans.records)).toEqual(ids(printings.filter((p) => editionOf(p) === undefined)))

      const order = { orderBy: ["bookId", "editionNo"] } as const
      const some = yield* Edition.list({ where: { printings: { some: { copies: { $gte: 5 } } } }, ...order })
      expect(keys(some.records)).toEqual(keys(editions.filter((e) => of(e).some((p) => p.copies >= 5))))
      const every = yield* Edition.list({ where: { printings: { every: { copies: { $gte: 3 } } } }, ...order })
      expect(keys(every.records)).toEqual(keys(editions.filter((e) => of(e).every((p) => p.copies >= 3))))
      const none = yield* Edition.list({ where: { printings: { none: { copies: { $lt: 5 } } } }, ...order })
      expect(keys(none.records)).toEqual(keys(editions.filter((e) => !of(e).some((p) => p.copies < 5))))
      expect(yield* Edition.count({ latest: { copies: 7 } })).toBe(1)
    }))

  it.effect("Migration.plan creates the tables in order and then has nothing to do; toSource declares the relation", () =>
    Effect.gen(function*() {
      const { Book, Edition, Printing } = models("restrict")
      const plan = yield* Migration.plan([Printing, Edition, Book])
      const steps = plan.operations.map((o) => `${o.kind} ${o.table}`)
      expect(steps.indexOf(`createTable ${Edition.table}`)).toBeLessThan(steps.indexOf(`createTable ${Printing.table}`))
      yield* Migration.apply(plan)
      expect((yield* Migration.plan([Printing, Edition, Book])).operations).toEqual([])
      const source = Introspect.toSource(yield* Introspect.tables({ tables: [Edition.table, Printing.table] }))
      expect(source).toContain(`foreignKey: ["bookId", "editionNo"], onDelete: "restrict"`)
      // an action changed: a drop and an add of the two-column key (SQLite: a rebuild)
      const changed = yield* Migration.plan([models("cascade").Printing, Edition, Book].map((m, i) =>
        i === 0 ? Model.make("Printing", Schema.Struct({ id: Schema.Int, bookId: Schema.NullOr(Schema.Int), editionNo: Schema.NullOr(Schema.Int), copies: Schema.Int }), {
          table: Printing.table,
          relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"], onDelete: "cascade" }) }
        }) : m
      ))
      expect(changed.operations.map((o) => o.kind)).toEqual(db.name === "sqlite" ? ["rebuildTable"] : ["dropForeignKey", "addForeignKey"])
      if (db.name !== "sqlite") expect(changed.operations[1]!.description).toMatch(/\(book_id, edition_no\) → .*\(book_id, edition_no\), on delete cascade/)
    }))

  it.effect("a cycle through a composite foreign key is created on first use (the constraints added after both tables)", () =>
    Effect.gen(function*() {
      const Edition = Model.make(
        "Edition",
        Schema.Struct({ bookId: Schema.Int, editionNo: Schema.Int, featuredId: Schema.NullOr(Schema.Int) }),
        {
          table: uniqueTable("cpr_cyc_editions"),
          primaryKey: ["bookId", "editionNo"],
          relations: { featured: Model.belongsTo((): Relation.Target<PrintingRecord> => Printing, { foreignKey: "featuredId", onDelete: "setNull" }) }
        }
      )
      const Printing = Model.make(
        "Printing",
        Schema.Struct({ id: Schema.Int, bookId: Schema.NullOr(Schema.Int), editionNo: Schema.NullOr(Schema.Int), copies: Schema.Int }),
        {
          table: uniqueTable("cpr_cyc_printings"),
          relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"], onDelete: "cascade" }) }
        }
      )
      // the first use is the printing's: both tables are made, then both constraints
      expect((yield* Effect.flip(Printing.create({ bookId: 1, editionNo: 1, copies: 1 })))._tag).toBe("ForeignKeyViolation")
      yield* Edition.create({ bookId: 1, editionNo: 1, featuredId: null })
      const printing = yield* Printing.create({ bookId: 1, editionNo: 1, copies: 1 })
      yield* Edition.update({ bookId: 1, editionNo: 1 }, { featuredId: printing.id })
      expect(yield* catalogForeignKeys(db, Printing.table)).toHaveLength(db.name === "pg" ? 1 : 2)
      yield* Edition.delete({ bookId: 1, editionNo: 1 })
      expect(yield* Printing.count()).toBe(0)
    }))

  it.effect("tenant-scoped: the key includes the tenant, so nothing crosses tenants", () =>
    Effect.gen(function*() {
      const { Edition, Printing } = models("cascade", { tenantScoped: true })
      yield* Edition.create({ bookId: 1, editionNo: 1, title: "a's" }).pipe(Tenant.with("a"))
      yield* Edition.create({ bookId: 1, editionNo: 1, title: "b's" }).pipe(Tenant.with("b"))
      yield* Printing.create({ bookId: 1, editionNo: 1, copies: 1 }).pipe(Tenant.with("a"))
      yield* Printing.create({ bookId: 1, editionNo: 1, copies: 2 }).pipe(Tenant.with("b"))
      yield* Edition.create({ bookId: 2, editionNo: 1, title: "a only" }).pipe(Tenant.with("a"))
      const crossing = yield* Effect.flip(Printing.create({ bookId: 2, editionNo: 1, copies: 9 }).pipe(Tenant.with("b")))
      expect(crossing._tag).toBe("ForeignKeyViolation")
      const bs = yield* Printing.list({ include: { edition: true } }).pipe(Tenant.with("b"))
      expect(bs.records.map((p) => p.edition?.title)).toEqual(["b's"])
      const bEditions = yield* Edition.list({ include: { printings: true } }).pipe(Tenant.with("b"))
      expect(bEditions.records.map((e) => e.printings.map((p) => p.copies))).toEqual([[2]])
      expect(yield* Printing.count({ edition: { title: "a's" } }).pipe(Tenant.with("b"))).toBe(0)
      // cascade stays in the tenant
      yield* Edition.delete({ bookId: 1, editionNo: 1 }).pipe(Tenant.with("a"))
      expect(yield* Printing.count().pipe(Tenant.with("a"))).toBe(0)
      expect(yield* Printing.count().pipe(Tenant.with("b"))).toBe(1)
    }))

  it.effect("a composite unique set is referred to by a two-field key; bad tuples are ConfigurationErrors naming the fields", () =>
    Effect.gen(function*() {
      const Shelf = Model.make("Shelf", Schema.Struct({ id: Schema.Int, room: Schema.String, slot: Schema.Int }), {
        table: uniqueTable("cpr_shelves"),
        unique: [["room", "slot"]]
      })
      const Box = Model.make("Box", Schema.Struct({ id: Schema.Int, slotNo: Schema.Int, roomName: Schema.String }), {
        table: uniqueTable("cpr_boxes"),
        // given in another order than the unique set's: paired by name
        relations: { shelf: Model.belongsTo(() => Shelf, { foreignKey: ["slotNo", "roomName"], references: ["slot", "room"] }) }
      })
      yield* Shelf.create({ room: "A", slot: 1 })
      yield* Box.create({ slotNo: 1, roomName: "A" })
      expect((yield* Effect.flip(Box.create({ slotNo: 2, roomName: "A" })))._tag).toBe("ForeignKeyViolation")
      expect((yield* Box.list({ include: { shelf: true } })).records[0]!.shelf).toMatchObject({ room: "A", slot: 1 })

      const { Edition } = models()
      const cases = [
        [{ foreignKey: ["a"] }, /Mark\.a cannot refer to Edition\.\(bookId, editionNo\): foreignKey and the referenced key must name as many fields/],
        [{ foreignKey: ["a", "s"] }, /Mark\.s and Edition\.editionNo are not of the same type/],
        [{ foreignKey: ["a", "b"], references: ["bookId", "title"] }, /Edition\.\(bookId, title\) is not its primary key or a unique constraint/]
      ] as const
      for (const [options, reason] of cases) {
        const Mark = Model.make("Mark", Schema.Struct({ id: Schema.Int, a: Schema.Int, b: Schema.Int, s: Schema.String }), {
          table: uniqueTable("cpr_marks"),
          relations: { edition: Model.belongsTo((): Relation.Target => Edition, options) }
        })
        const error = yield* Effect.flip(Mark.list({ include: { edition: true } }))
        expect(error._tag).toBe("ConfigurationError")
        expect(error.message).toMatch(reason)
      }
    }))
})

describe("composite relations: types", () => {
  vit("include and filters are typed over composite relations; a single field cannot refer to a composite key", () => {
    const { Edition, Printing } = models()
    type Loaded = Effect.Effect.Success<ReturnType<typeof _loadPrintings>>
    const _loadPrintings = () => Printing.list({ include: { edition: { include: { printings: true } } } })
    expectTypeOf<Loaded["records"][number]["edition"]>().toMatchTypeOf<
      { readonly title: string; readonly printings: ReadonlyArray<PrintingRecord> } | null
    >()
    const _editions = () => Edition.list({ where: { printings: { some: { copies: { $gt: 1 } } } } })
    expectTypeOf<Effect.Effect.Success<ReturnType<typeof _editions>>["records"][number]["bookId"]>().toEqualTypeOf<number>()
    // @ts-expect-error a composite primary key is referred to by as many fields
    Model.belongsTo(() => Edition, { foreignKey: "bookId" })
    Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"] })
    // with `references` one field type-checks (whether it is a key of the target is checked on first use)
    Model.belongsTo(() => Edition, { foreignKey: "bookId", references: "bookId" })
    // a nested create's children take neither foreign key field: the parent sets both
    const Typed = Model.make("Edition", Schema.Struct({ bookId: Schema.Int, editionNo: Schema.Int }), {
      primaryKey: ["bookId", "editionNo"],
      relations: { printings: Model.hasMany(() => Printing, { foreignKey: ["bookId", "editionNo"] }) }
    })
    const _created = () => Typed.create({ bookId: 1, editionNo: 1, printings: { create: [{ copies: 1 }] } })
    expectTypeOf<Effect.Effect.Success<ReturnType<typeof _created>>["printings"][number]["editionNo"]>().toEqualTypeOf<number | null>()
    expectTypeOf(() =>
      // @ts-expect-error the parent sets editionNo
      Typed.create({ bookId: 1, editionNo: 1, printings: { create: [{ copies: 1, editionNo: 2 }] } })
    ).toBeFunction()
  })
})
