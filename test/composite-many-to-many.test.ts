/**
 * Many-to-many relations over composite keys (issue 13), on every database and client: a
 * junction holding the composite keys of both sides (editions ↔ shelves), or of one side
 * (readers → editions); its DDL (two multi-column foreign keys) from the junction model; include
 * both ways and nested, two statements per relation per level, chunked under the filter's
 * limits; `some` / `every` / `none` against a JS evaluation; `connect` / `disconnect`, nested
 * `create` / `connect` / `set` / `disconnect`, observed through the junction's raw rows.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { Relation } from "../src/index.js"
import { DataFlow, Introspect, Model, Tenant } from "../src/index.js"
import type { TestDb } from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { onPipeline } from "./support/pipeline.js"

interface EditionRecord {
  readonly bookId: number
  readonly editionNo: number
  readonly title: string
}
interface ShelfRecord {
  readonly room: string
  readonly slot: number
}

const models = (options: { readonly tenantScoped?: boolean; readonly softDelete?: boolean } = {}) => {
  const tenantScoped = options.tenantScoped === true
  const Edition = Model.make("Edition", Schema.Struct({ bookId: Schema.Int, editionNo: Schema.Int, title: Schema.String }), {
    table: uniqueTable("cmm_editions"),
    primaryKey: ["bookId", "editionNo"],
    timestamps: false,
    tenantScoped,
    relations: {
      shelves: Model.manyToMany((): Relation.Target<ShelfRecord> => Shelf, {
        through: (): Relation.Target => Placement,
        foreignKey: ["bookId", "editionNo"],
        otherKey: ["room", "slot"]
      }),
      readers: Model.manyToMany((): Relation.Target<{ readonly id: number; readonly name: string }> => Reader, {
        through: (): Relation.Target => Loan,
        foreignKey: ["bookId", "editionNo"],
        otherKey: "readerId"
      })
    }
  })
  const Shelf = Model.make("Shelf", Schema.Struct({ room: Schema.String, slot: Schema.Int }), {
    table: uniqueTable("cmm_shelves"),
    primaryKey: ["room", "slot"],
    timestamps: false,
    tenantScoped,
    relations: {
      editions: Model.manyToMany(() => Edition, {
        through: (): Relation.Target => Placement,
        foreignKey: ["room", "slot"],
        otherKey: ["bookId", "editionNo"]
      })
    }
  })
  const Placement = Model.make(
    "Placement",
    Schema.Struct({ id: Schema.Int, bookId: Schema.Int, editionNo: Schema.Int, room: Schema.String, slot: Schema.Int }),
    {
      table: uniqueTable("cmm_placements"),
      timestamps: false,
      tenantScoped,
      softDelete: options.softDelete === true,
      // with soft delete a pair may be linked again after its link was removed
      ...(options.softDelete === true ? {} : { unique: [["bookId", "editionNo", "room", "slot"]] }),
      relations: {
        edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"], onDelete: "cascade" }),
        shelf: Model.belongsTo(() => Shelf, { foreignKey: ["room", "slot"], onDelete: "cascade" })
      }
    }
  )
  const Reader = Model.make("Reader", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
    table: uniqueTable("cmm_readers"),
    timestamps: false,
    tenantScoped,
    relations: {
      editions: Model.manyToMany(() => Edition, {
        through: (): Relation.Target => Loan,
        foreignKey: "readerId",
        otherKey: ["bookId", "editionNo"]
      })
    }
  })
  const Loan = Model.make("Loan", Schema.Struct({ id: Schema.Int, readerId: Schema.Int, bookId: Schema.Int, editionNo: Schema.Int }), {
    table: uniqueTable("cmm_loans"),
    timestamps: false,
    tenantScoped,
    unique: [["readerId", "bookId", "editionNo"]],
    relations: {
      reader: Model.belongsTo(() => Reader, { foreignKey: "readerId", onDelete: "cascade" }),
      edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"], onDelete: "cascade" })
    }
  })
  return { Edition, Shelf, Placement, Reader, Loan }
}

const q = (db: TestDb, id: string) => db.name === "mysql" ? `\`${id}\`` : `"${id}"`

/** The junction's rows as the database holds them: `book/edition→room/slot`, sorted. */
const placements = (db: TestDb, table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ b: number | string; e: number | string; r: string; s: number | string }>(
      `SELECT book_id AS b, edition_no AS e, room AS r, slot AS s FROM ${q(db, table)}`
    )
    return rows.map((x) => `${Number(x.b)}/${Number(x.e)}→${x.r}/${Number(x.s)}`).sort()
  })

/** The SELECT statements an effect ran. */
const selects = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const pipeline = onPipeline()
    const value = yield* pipeline.run(self)
    const count = pipeline.spans.filter((s) =>
      s.name === "sql.execute" && /^\s*SELECT /i.test(String(s.attributes.get("db.query.text") ?? ""))
    ).length
    return { value, count }
  })

const seed = Effect.gen(function*() {
  const m = models()
  // the junctions' DDL makes every table they refer to
  yield* DataFlow.migrate([m.Placement, m.Loan])
  yield* m.Edition.bulkCreate([
    { bookId: 1, editionNo: 1, title: "Dune I" },
    { bookId: 1, editionNo: 2, title: "Dune II" },
    { bookId: 2, editionNo: 1, title: "Emma I" },
    { bookId: 3, editionNo: 1, title: "Odd I" }
  ])
  yield* m.Shelf.bulkCreate([{ room: "A", slot: 1 }, { room: "A", slot: 2 }, { room: "B", slot: 1 }])
  const readers = (yield* m.Reader.bulkCreate([{ name: "Ada" }, { name: "Bob" }, { name: "Cy" }], { returnRecords: true })).records
  // Dune I: A/1, B/1; Dune II: A/1; Emma I: A/2; Odd I: (none)
  yield* m.Placement.bulkCreate([
    { bookId: 1, editionNo: 1, room: "A", slot: 1 },
    { bookId: 1, editionNo: 1, room: "B", slot: 1 },
    { bookId: 1, editionNo: 2, room: "A", slot: 1 },
    { bookId: 2, editionNo: 1, room: "A", slot: 2 }
  ])
  // Ada: Dune I, Emma I; Bob: Dune II; Cy: (none)
  yield* m.Loan.bulkCreate([
    { readerId: readers[0]!.id, bookId: 1, editionNo: 1 },
    { readerId: readers[0]!.id, bookId: 2, editionNo: 1 },
    { readerId: readers[1]!.id, bookId: 1, editionNo: 2 }
  ])
  return { ...m, readers }
})

const key = (e: { readonly bookId: number; readonly editionNo: number }) => `${e.bookId}/${e.editionNo}`
const spot = (s: ShelfRecord) => `${s.room}/${s.slot}`

forEachDatabase("composite many-to-many", (it, db) => {
  it.effect("the junction's DDL: one multi-column foreign key to each side, in the catalog", () =>
    Effect.gen(function*() {
      const { Edition, Placement, Shelf } = yield* seed
      const [table] = yield* Introspect.tables({ tables: [Placement.table] })
      const fks = table!.foreignKeys.map((f) => `${f.columns.join(",")}→${f.referencedTable}(${f.referencedColumns.join(",")})`).sort()
      expect(fks).toEqual(
        [`book_id,edition_no→${Edition.table}(book_id,edition_no)`, `room,slot→${Shelf.table}(room,slot)`].sort()
      )
      const missing = yield* Effect.flip(Placement.create({ bookId: 1, editionNo: 9, room: "A", slot: 1 }))
      expect(missing._tag).toBe("ForeignKeyViolation")
    }))

  it.effect("include both ways and nested: two statements per relation per level", () =>
    Effect.gen(function*() {
      const { Edition, Reader, Shelf, readers } = yield* seed
      const editions = yield* selects(Edition.list({
        orderBy: ["bookId", "editionNo"],
        include: { shelves: { orderBy: ["-room", "slot"] }, readers: { select: ["name"], orderBy: ["name"] } }
      }))
      expect(editions.count).toBe(1 + 2 + 2)
      expect(editions.value.records.map((e) => [key(e), e.shelves.map(spot), e.readers.map((r) => r.name)])).toEqual([
        ["1/1", ["B/1", "A/1"], ["Ada"]],
        ["1/2", ["A/1"], ["Bob"]],
        ["2/1", ["A/2"], ["Ada"]],
        ["3/1", [], []]
      ])
      const shelves = yield* selects(Shelf.list({
        orderBy: ["room", "slot"],
        include: { editions: { orderBy: ["bookId", "editionNo"], include: { readers: { orderBy: ["name"] } } } }
      }))
      expect(shelves.count).toBe(1 + 2 + 2)
      expect(shelves.value.records.map((s) => [spot(s), s.editions.map((e) => `${key(e)}:${e.readers.map((r) => r.name).join("+")}`)]))
        .toEqual([
          ["A/1", ["1/1:Ada", "1/2:Bob"]],
          ["A/2", ["2/1:Ada"]],
          ["B/1", ["1/1:Ada"]]
        ])
      const ada = yield* Reader.read(readers[0]!.id, { include: { editions: { select: ["title"], orderBy: ["title"] } } })
      expect(ada.editions).toEqual([{ title: "Dune I" }, { title: "Emma I" }])
      const one = yield* Edition.read({ bookId: 1, editionNo: 1 }, { include: { shelves: { where: { room: "B" } } } })
      expect(one.shelves).toEqual([{ room: "B", slot: 1 }])
    }))

  it.effect("a page of many composite keys: the junction read is split under the filter's limits, never one per record", () =>
    Effect.gen(function*() {
      const { Edition, Placement, Shelf } = models()
      yield* DataFlow.migrate([Placement])
      const keys = Array.from({ length: 300 }, (_, i) => ({ bookId: i, editionNo: 1 }))
      yield* Edition.bulkCreate(keys.map((k) => ({ ...k, title: `t${k.bookId}` })))
      yield* Shelf.bulkCreate([{ room: "A", slot: 1 }, { room: "A", slot: 2 }])
      yield* Placement.bulkCreate(keys.map((k) => ({ ...k, room: "A", slot: 1 + (k.bookId % 2) })))
      const { count, value } = yield* selects(Edition.list({ limit: 1000, include: { shelves: true } }))
      // 300 distinct books: 3 junction reads (at most 125 two-field keys each), 1 read of the 2 shelves
      expect(count).toBe(1 + 3 + 1)
      expect(value.records.every((e) => e.shelves.length === 1 && e.shelves[0]!.slot === 1 + (e.bookId % 2))).toBe(true)
    }), { timeout: 60_000 })

  it.effect("some / every / none over composite junctions agree with a JS evaluation", () =>
    Effect.gen(function*() {
      const { Edition, Loan, Placement, Reader, Shelf } = yield* seed
      const editions = (yield* Edition.list({ orderBy: ["bookId", "editionNo"] })).records
      const shelves = (yield* Shelf.list({ orderBy: ["room", "slot"] })).records
      const links = (yield* Placement.list()).records
      const shelvesOf = (e: EditionRecord) =>
        shelves.filter((s) => links.some((l) => key(l) === key(e) && l.room === s.room && l.slot === s.slot))
      const keys = (where: unknown) => Effect.map(Edition.list({ where: where as never, orderBy: ["bookId", "editionNo"] }), (r) => r.records.map(key))
      const expected = (p: (e: EditionRecord) => boolean) => editions.filter(p).map(key)
      expect(yield* keys({ shelves: { some: { room: "B" } } })).toEqual(expected((e) => shelvesOf(e).some((s) => s.room === "B")))
      expect(yield* keys({ shelves: { none: {} } })).toEqual(expected((e) => shelvesOf(e).length === 0))
      expect(yield* keys({ shelves: { every: { slot: 1 } } })).toEqual(expected((e) => shelvesOf(e).every((s) => s.slot === 1)))
      expect(yield* keys({ $not: { shelves: { some: { room: "A", slot: 1 } } } })).toEqual(
        expected((e) => !shelvesOf(e).some((s) => s.room === "A" && s.slot === 1))
      )
      // nested: editions on a shelf holding Emma I; readers of an edition on shelf B
      expect(yield* keys({ shelves: { some: { editions: { some: { title: "Emma I" } } } } })).toEqual(["2/1"])
      const loans = (yield* Loan.list()).records
      const readers = (yield* Reader.list({ orderBy: ["id"] })).records
      const names = (where: unknown) => Effect.map(Reader.list({ where: where as never, orderBy: ["id"] }), (r) => r.records.map((x) => x.name))
      const onB = new Set(editions.filter((e) => shelvesOf(e).some((s) => s.room === "B")).map(key))
      expect(yield* names({ editions: { some: { shelves: { some: { room: "B" } } } } })).toEqual(
        readers.filter((r) => loans.some((l) => l.readerId === r.id && onB.has(key(l)))).map((r) => r.name)
      )
      expect(yield* names({ editions: { none: {} } })).toEqual(["Cy"])
      expect(yield* Reader.count({ editions: { every: { bookId: 1 } } })).toBe(2)
    }))

  it.effect("connect / disconnect by composite keys: links observed in the junction; typed errors; nothing half-written", () =>
    Effect.gen(function*() {
      const { Edition, Placement, Reader, Shelf, readers } = yield* seed
      const odd = { bookId: 3, editionNo: 1 }
      expect(yield* Edition.connect("shelves", odd, [{ room: "A", slot: 1 }, { room: "B", slot: 1 }, { room: "A", slot: 1 }])).toEqual({ connected: 2 })
      expect(yield* Edition.connect("shelves", odd, [{ room: "A", slot: 1 }])).toEqual({ connected: 0 })
      expect((yield* placements(db, Placement.table)).filter((p) => p.startsWith("3/1"))).toEqual(["3/1→A/1", "3/1→B/1"])
      // one read of the record, one of the targets, one of the existing links, whatever the number of ids
      const counted = yield* selects(Edition.connect("shelves", { bookId: 2, editionNo: 1 }, [{ room: "A", slot: 1 }, { room: "A", slot: 2 }, { room: "B", slot: 1 }]))
      expect(counted).toEqual({ value: { connected: 2 }, count: 3 })
      expect(yield* Shelf.disconnect("editions", { room: "B", slot: 1 }, [odd, { bookId: 1, editionNo: 2 }])).toEqual({ disconnected: 1 })
      expect((yield* placements(db, Placement.table)).filter((p) => p.startsWith("3/1"))).toEqual(["3/1→A/1"])
      // a target that does not exist: the relation and the junction's fields, nothing linked
      const before = yield* placements(db, Placement.table)
      const missing = yield* Effect.flip(Edition.connect("shelves", odd, [{ room: "A", slot: 2 }, { room: "Z", slot: 9 }]))
      expect(missing._tag).toBe("ForeignKeyViolation")
      if (missing._tag === "ForeignKeyViolation") {
        expect(missing.relation).toBe("shelves")
        expect(missing.columns).toEqual(["room", "slot"])
      }
      expect(yield* placements(db, Placement.table)).toEqual(before)
      // the record itself missing; a key that is not the target's key
      const noRecord = yield* Effect.flip(Edition.connect("shelves", { bookId: 9, editionNo: 9 }, [{ room: "A", slot: 1 }]))
      expect(noRecord._tag).toBe("NotFound")
      const badKey = yield* Effect.flip(Edition.connect("shelves", odd, [{ room: "A" } as never]))
      expect(badKey._tag).toBe("ValidationError")
      // a single-key side and a composite side
      expect(yield* Reader.connect("editions", readers[2]!.id, [odd, { bookId: 1, editionNo: 1 }])).toEqual({ connected: 2 })
      const cy = yield* Reader.read(readers[2]!.id, { include: { editions: { orderBy: ["bookId"] } } })
      expect(cy.editions.map(key)).toEqual(["1/1", "3/1"])
      expect(yield* Edition.disconnect("readers", odd, [readers[2]!.id])).toEqual({ disconnected: 1 })
    }))

  it.effect("nested create / connect / set / disconnect through a composite junction, in one transaction", () =>
    Effect.gen(function*() {
      const { Edition, Placement, Shelf } = yield* seed
      const created = yield* Edition.create({
        bookId: 4,
        editionNo: 1,
        title: "New I",
        shelves: { create: [{ room: "C", slot: 1 }], connect: [{ room: "A", slot: 2 }] }
      })
      expect(created.shelves.map(spot)).toEqual(["C/1", "A/2"])
      expect((yield* placements(db, Placement.table)).filter((p) => p.startsWith("4/1"))).toEqual(["4/1→A/2", "4/1→C/1"])
      // from the other side, a target with a composite key created and linked
      const shelf = yield* Shelf.create({ room: "D", slot: 1, editions: { create: [{ bookId: 5, editionNo: 2, title: "Five II" }] } })
      expect(shelf.editions.map(key)).toEqual(["5/2"])
      expect((yield* placements(db, Placement.table)).filter((p) => p.startsWith("5/2"))).toEqual(["5/2→D/1"])

      // set replaces the links (the others read and removed: no NOT IN of tuples), create adds to it
      const updated = yield* Edition.update({ bookId: 1, editionNo: 1 }, {
        title: "Dune I (rev)",
        shelves: { set: [{ room: "A", slot: 2 }, { room: "B", slot: 1 }], create: [{ room: "E", slot: 3 }] }
      })
      expect(updated.title).toBe("Dune I (rev)")
      expect(updated.shelves.map(spot)).toEqual(["E/3", "A/2", "B/1"])
      expect((yield* placements(db, Placement.table)).filter((p) => p.startsWith("1/1"))).toEqual(["1/1→A/2", "1/1→B/1", "1/1→E/3"])
      yield* Edition.update({ bookId: 1, editionNo: 1 }, { shelves: { connect: [{ room: "A", slot: 1 }], disconnect: [{ room: "E", slot: 3 }] } })
      expect((yield* placements(db, Placement.table)).filter((p) => p.startsWith("1/1"))).toEqual(["1/1→A/1", "1/1→A/2", "1/1→B/1"])

      // a missing target rolls back everything: the record's own fields, the shelf created, the links
      const before = yield* placements(db, Placement.table)
      const shelves = yield* Shelf.count()
      const failed = yield* Effect.flip(Edition.update({ bookId: 1, editionNo: 1 }, {
        title: "lost",
        shelves: { create: [{ room: "F", slot: 1 }], connect: [{ room: "Z", slot: 0 }] }
      }))
      expect(failed._tag).toBe("ForeignKeyViolation")
      expect((yield* Edition.read({ bookId: 1, editionNo: 1 })).title).toBe("Dune I (rev)")
      expect(yield* Shelf.count()).toBe(shelves)
      expect(yield* placements(db, Placement.table)).toEqual(before)
      // a bad key in a nested list is a ValidationError at its path
      const bad = yield* Effect.flip(Edition.update({ bookId: 1, editionNo: 1 }, { shelves: { disconnect: [{ room: "A" } as never] } }))
      expect(bad._tag).toBe("ValidationError")
      if (bad._tag === "ValidationError") expect(bad.path).toBe("shelves.disconnect.0")
    }))

  it.effect("a junction or key that does not fit the sides is a ConfigurationError naming the relation", () =>
    Effect.gen(function*() {
      const { Edition, Placement } = models()
      const cases = [
        [["bookId"], /relation editions: otherKey must name as many fields of Placement as Edition's primary key has \(bookId, editionNo\)/],
        [["bookId", "room"], /Placement\.room and Edition\.editionNo are not of the same type/],
        [["bookId", "nope"], /Placement has no field nope/]
      ] as const
      for (const [foreignKey, reason] of cases) {
        const Stack = Model.make("Stack", Schema.Struct({ id: Schema.Int }), {
          table: uniqueTable("cmm_stacks"),
          relations: {
            editions: Model.manyToMany((): Relation.Target => Edition, {
              through: (): Relation.Target => Placement,
              foreignKey: "slot",
              otherKey: foreignKey as never
            })
          }
        })
        const error = yield* Effect.flip(Stack.list({ include: { editions: true } }))
        expect(error._tag).toBe("ConfigurationError")
        expect(error.message).toMatch(reason)
      }
    }))

  it.effect("tenant-scoped sides and a soft-delete junction: links stay in their tenant; a removed link is soft-deleted", () =>
    Effect.gen(function*() {
      const { Edition, Placement, Shelf } = models({ tenantScoped: true, softDelete: true })
      const dune = { bookId: 1, editionNo: 1 }
      for (const tenant of ["a", "b"]) {
        yield* Edition.create({ ...dune, title: `Dune ${tenant}` }).pipe(Tenant.with(tenant))
        yield* Shelf.bulkCreate([{ room: "A", slot: 1 }, { room: "A", slot: 2 }]).pipe(Tenant.with(tenant))
      }
      yield* Edition.connect("shelves", dune, [{ room: "A", slot: 1 }, { room: "A", slot: 2 }]).pipe(Tenant.with("a"))
      yield* Edition.connect("shelves", dune, [{ room: "A", slot: 2 }]).pipe(Tenant.with("b"))
      const shelvesOf = (tenant: string) =>
        Effect.map(Edition.read(dune, { include: { shelves: { orderBy: ["slot"] } } }).pipe(Tenant.with(tenant)), (e) => e.shelves.map(spot))
      expect(yield* shelvesOf("a")).toEqual(["A/1", "A/2"])
      expect(yield* shelvesOf("b")).toEqual(["A/2"])
      expect(yield* Shelf.count({ editions: { some: { title: "Dune b" } } }).pipe(Tenant.with("b"))).toBe(1)
      expect(yield* Shelf.count({ editions: { some: { title: "Dune b" } } }).pipe(Tenant.with("a"))).toBe(0)
      // the removed link is soft-deleted: gone from include and filters, its row still there
      expect(yield* Edition.disconnect("shelves", dune, [{ room: "A", slot: 1 }]).pipe(Tenant.with("a"))).toEqual({ disconnected: 1 })
      expect(yield* shelvesOf("a")).toEqual(["A/2"])
      expect(yield* Placement.count(undefined, { includeDeleted: true }).pipe(Tenant.with("a"))).toBe(2)
      expect(yield* Edition.count({ shelves: { some: { slot: 1 } } }).pipe(Tenant.with("a"))).toBe(0)
      // and linked again
      expect(yield* Edition.connect("shelves", dune, [{ room: "A", slot: 1 }]).pipe(Tenant.with("a"))).toEqual({ connected: 1 })
      expect(yield* shelvesOf("a")).toEqual(["A/1", "A/2"])
      expect(yield* shelvesOf("b")).toEqual(["A/2"])
    }))
})
