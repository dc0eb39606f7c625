/**
 * The testing kit's reference as a layer (effect-dataflow/testing): an unchanged program —
 * its own `Model` node calls and `DataFlow.transaction` — runs on the in-memory reference and
 * answers what it answers on every database.
 */
import { expect, it as effectIt } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { BigDecimal, Cause, Chunk, Effect, Exit, Option, Schema, Stream } from "effect"
import { expectTypeOf } from "vitest"
import { Column, DataFlow, Model } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const Account = Model.make("RlAccount", {
  id: Schema.String.pipe(Schema.maxLength(12)),
  owner: Schema.String.pipe(Schema.maxLength(20)),
  balance: Schema.Int,
  rate: Schema.NullOr(Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 8, scale: 2 }))),
  tag: Schema.NullOr(Schema.String.pipe(Schema.maxLength(8)))
}, { table: uniqueTable("rl_accounts"), unique: ["owner"], softDelete: true, versioned: true })

class Overdrawn extends Schema.TaggedError<Overdrawn>()("Overdrawn", { id: Schema.String }) {}

/** A user's program: nothing in it knows whether a database is behind it. */
const program = Effect.gen(function*() {
  const out: Record<string, unknown> = {}
  for (const [i, owner] of ["ada", "bob", "cy", "dee", "eve", "fay", "gus"].entries()) {
    yield* Account.create({ id: `a${i}`, owner, balance: 100 * i, rate: i % 2 === 0 ? null : BigDecimal.unsafeFromString(`${i}.5`), tag: i % 3 === 0 ? null : `t${i % 3}` })
  }
  // in a savepoint: a failed statement aborts PostgreSQL's enclosing transaction (Testing.rollback's)
  out.duplicate = (yield* Effect.flip(DataFlow.transaction(Account.create({ id: "zz", owner: "ada", balance: 0, rate: null, tag: null }))))._tag
  // a transfer that fails half-way leaves nothing behind
  const transfer = (from: string, to: string, amount: number) =>
    DataFlow.transaction(Effect.gen(function*() {
      yield* Account.update(to, { balance: { $increment: amount } })
      const source = yield* Account.update(from, { balance: { $decrement: amount } })
      if (source.balance < 0) return yield* new Overdrawn({ id: from })
    }))
  yield* transfer("a3", "a1", 50)
  out.overdrawn = (yield* Effect.flip(transfer("a1", "a2", 1000)))._tag
  out.afterTransfers = (yield* Account.list({ orderBy: ["id"] })).records
  out.stale = (yield* Effect.flip(Account.update("a1", { tag: "x" }, { expectedVersion: 0 })))._tag
  out.upserted = yield* Account.upsert({ create: { id: "a9", owner: "hal", balance: 9, rate: null, tag: null }, update: { balance: 1 } })
  out.upsertedAgain = yield* Account.upsert({ create: { id: "a9", owner: "hal", balance: 9, rate: null, tag: null }, update: { balance: { $increment: 5 } } })
  out.ignored = yield* Account.createIgnore({ id: "q", owner: "ada", balance: 1, rate: null, tag: null }, { conflictOn: ["owner"] })
  out.deleted = yield* Account.delete("a2")
  out.findDeleted = Option.getOrNull(yield* Account.find("a2"))
  out.withDeleted = Option.isSome(yield* Account.find("a2", { includeDeleted: true }))
  out.restored = yield* Account.restore("a2")
  out.byOwner = yield* Account.readBy({ owner: "eve" })
  out.missingOwner = (yield* Effect.flip(Account.readBy({ owner: "nobody" })))._tag
  out.count = yield* Account.count({ tag: { $ne: "t1" } })
  out.exists = yield* Account.exists({ rate: { $gt: BigDecimal.unsafeFromString("4") } })
  out.first = Option.getOrNull(yield* Account.findFirst({ balance: { $gte: 200 } }, { orderBy: ["-balance"] }))
  out.bulk = yield* Account.bulkUpdate({ tag: null }, { balance: { $multiply: 2 } })
  out.badFilter = (yield* Effect.flip(Account.count({ nope: 1 } as never)))._tag
  // a cursor walk, two records a page
  const pages: Array<ReadonlyArray<unknown>> = []
  let cursor: string | undefined
  do {
    const page: { readonly records: ReadonlyArray<unknown>; readonly nextCursor?: string } = yield* Account.list({
      orderBy: ["tag", "-balance"],
      limit: 2,
      ...(cursor === undefined ? {} : { cursor })
    })
    pages.push(page.records)
    cursor = page.nextCursor
  } while (cursor !== undefined)
  out.pages = pages
  out.total = (yield* Account.list({ where: { balance: { $lt: 500 } }, limit: 1, total: true, select: ["owner"] }))
  out.streamed = Chunk.toReadonlyArray(yield* Stream.runCollect(Account.stream({ orderBy: ["owner"], pageSize: 2 })))
  out.stored = (yield* Account.list({ includeDeleted: true, orderBy: ["id"] })).records
  return Testing.canonical(out)
})

/** The answers on the reference layer (TestClock: both sides stamp the same instants). */
const onReference = () => program.pipe(Effect.provide(Testing.layerReference([Account])))

forEachDatabase("testing kit: the reference layer", (it) => {
  it.effect("the same program gives the database's answers", () =>
    Effect.gen(function*() {
      const onDatabase = yield* Testing.rollback(program)
      expect(yield* onReference()).toEqual(onDatabase)
    }), 60_000)
})

/** bulkUpsert (revival, last row wins, by a unique key), bulkUpdate with items, aggregate. */
const bulkProgram = Effect.gen(function*() {
  const out: Record<string, unknown> = {}
  for (const [i, owner] of ["ada", "bob", "cy", "dee"].entries()) {
    yield* Account.create({ id: `a${i}`, owner, balance: 10 * i + 5, rate: i % 2 === 0 ? null : BigDecimal.unsafeFromString(`${i}.25`), tag: i % 2 === 0 ? "even" : null })
  }
  yield* Account.delete("a2")
  out.upserted = yield* Account.bulkUpsert([
    { id: "a2", owner: "cy2", balance: 1, rate: null, tag: null },
    { id: "a1", owner: "bob", balance: 99, rate: BigDecimal.unsafeFromString("0.10"), tag: "t" },
    { id: "a9", owner: "zed", balance: 7, rate: null, tag: null },
    { id: "a9", owner: "zed", balance: 8, rate: null, tag: "last" }
  ], { returnRecords: true })
  out.byOwner = yield* Account.bulkUpsert([{ id: "zz", owner: "ada", balance: 3, rate: null, tag: null }], { conflictOn: ["owner"] })
  out.badTarget = (yield* Effect.flip(Account.bulkUpsert([], { conflictOn: ["tag"] as never })))._tag
  out.items = yield* Account.bulkUpdate([
    { id: "a1", patch: { balance: { $increment: 1 } }, expectedVersion: 2 },
    { key: { owner: "zed" }, patch: { tag: "k" } },
    { id: "nope", patch: { tag: "x" } }
  ])
  out.itemsStale = (yield* Effect.flip(DataFlow.transaction(Account.bulkUpdate([{ id: "a3", patch: { tag: "s" }, expectedVersion: 9 }]))))._tag
  out.itemsRequired = (yield* Effect.flip(
    DataFlow.transaction(Account.bulkUpdate([{ id: "a3", patch: { tag: "s" } }, { id: "nope", patch: {} }], { requireAll: true }))
  ))._tag
  out.itemsUnique = (yield* Effect.flip(DataFlow.transaction(Account.bulkUpdate([{ id: "a3", patch: { owner: "ada" } }]))))._tag
  out.total = yield* Account.aggregate({
    count: true,
    sum: ["balance", "rate"],
    avg: ["balance", "rate"],
    min: ["owner", "rate"],
    max: ["balance"],
    countDistinct: ["tag"]
  })
  out.groups = yield* Account.aggregate({
    groupBy: ["tag"],
    count: true,
    sum: ["rate"],
    avg: ["balance"],
    having: { _count: { $gte: 1 } },
    orderBy: ["-_count"],
    limit: 3
  })
  out.withDeleted = yield* Account.aggregate({ groupBy: [], count: true, includeDeleted: true, where: { balance: { $gt: 1 } } })
  out.badAggregate = (yield* Effect.flip(Account.aggregate({ sum: ["owner"] } as never)))._tag
  out.stored = (yield* Account.list({ includeDeleted: true, orderBy: ["id"] })).records
  return Testing.canonical(out)
})

forEachDatabase("kit: reference bulk and aggregate", (it) => {
  it.effect("bulkUpsert, bulkUpdate with items and aggregate give the database's answers", () =>
    Effect.gen(function*() {
      const onDatabase = yield* Testing.rollback(bulkProgram)
      expect(yield* bulkProgram.pipe(Effect.provide(Testing.layerReference([Account])))).toEqual(onDatabase)
      // a2 revived and a9 new count as inserted, a1 as updated; a9's last row won
      expect(onDatabase).toMatchObject({
        upserted: { inserted: 2, updated: 1 },
        byOwner: { inserted: 0, updated: 1 },
        badTarget: "ConflictTargetError",
        items: { updated: 2, missing: ["nope"] },
        itemsStale: "OptimisticLockError",
        itemsRequired: "NotFound",
        itemsUnique: "UniqueViolation",
        badAggregate: "ValidationError"
      })
    }), 60_000)
})

effectIt.effect("the reference's bulkUpsert takes the dialect: MySQL updates the row of the first unique key shared", () =>
  Effect.gen(function*() {
    const outcome = (dialect: "sqlite" | "mysql") =>
      Effect.gen(function*() {
        const ref = Testing.reference([Account], { dialect })
        for (const [id, owner] of [["a0", "ada"], ["a1", "bob"]]) {
          yield* ref.call(Account, { node: "create", input: { id, owner, balance: 0, rate: null, tag: null } })
        }
        // the owner is ada's, the id bob's
        const counts = yield* ref.call(Account, {
          node: "bulkUpsert",
          rows: [{ id: "a1", owner: "ada", balance: 7, rate: null, tag: null }],
          conflictOn: ["owner"]
        })
        return { counts, balances: ref.records(Account).map((r) => [r.id, r.owner, r.balance]) }
      })
    expect(yield* outcome("sqlite")).toEqual({ counts: { inserted: 0, updated: 1 }, balances: [["a0", "ada", 7], ["a1", "bob", 0]] })
    expect(yield* outcome("mysql")).toEqual({ counts: { inserted: 0, updated: 1 }, balances: [["a0", "ada", 0], ["a1", "bob", 7]] })
  }))

/** A composite primary key: a join model's program, its ids key objects. */
const Membership = Model.make("RlMembership", {
  groupId: Schema.String.pipe(Schema.maxLength(8)),
  userId: Schema.Int,
  role: Schema.Literal("owner", "member"),
  points: Schema.Int
}, { table: uniqueTable("rl_memberships"), primaryKey: ["groupId", "userId"], softDelete: true, versioned: true })

const membershipProgram = Effect.gen(function*() {
  const out: Record<string, unknown> = {}
  for (const [i, groupId] of ["g2", "g1", "g2", "g1", "g3"].entries()) {
    yield* Membership.create({ groupId, userId: 5 - i, role: i === 0 ? "owner" : "member", points: i % 2 })
  }
  out.read = yield* Membership.read({ groupId: "g1", userId: 4 })
  out.missing = yield* Effect.flip(Membership.read({ groupId: "g1", userId: 5 }))
  out.badKey = (yield* Effect.flip(Membership.read({ groupId: "g1" } as never)))._tag
  out.duplicate = (yield* Effect.flip(DataFlow.transaction(Membership.create({ groupId: "g2", userId: 5, role: "member", points: 0 }))))._tag
  out.updated = yield* Membership.update({ groupId: "g2", userId: 3 }, { points: { $increment: 4 } })
  out.stale = (yield* Effect.flip(Membership.update({ groupId: "g2", userId: 3 }, { role: "owner" }, { expectedVersion: 1 })))._tag
  out.deleted = yield* Membership.delete({ groupId: "g1", userId: 2 })
  out.restored = yield* Membership.restore({ groupId: "g1", userId: 2 })
  out.upserted = yield* Membership.upsert({ create: { groupId: "g3", userId: 1, role: "member", points: 9 }, update: { points: 2 } })
  out.ignored = yield* Membership.createIgnore({ groupId: "g4", userId: 1, role: "member", points: 0 })
  out.byKey = yield* Membership.readBy({ userId: 4, groupId: "g1" })
  out.list = (yield* Membership.list()).records
  out.byPoints = (yield* Membership.list({ orderBy: ["-points"] })).records
  const pages: Array<ReadonlyArray<unknown>> = []
  let cursor: string | undefined
  do {
    const page: { readonly records: ReadonlyArray<unknown>; readonly nextCursor?: string } = yield* Membership.list({
      orderBy: ["role"],
      limit: 2,
      ...(cursor === undefined ? {} : { cursor })
    })
    pages.push(page.records)
    cursor = page.nextCursor
  } while (cursor !== undefined)
  out.pages = pages
  out.bulk = yield* Membership.bulkUpdate({ groupId: "g2" }, { points: { $multiply: 3 } })
  out.bulkDeleted = yield* Membership.bulkDelete({ userId: { $gt: 3 } })
  out.stored = (yield* Membership.list({ includeDeleted: true })).records
  return Testing.canonical(out)
})

forEachDatabase("kit: composite reference layer", (it) => {
  it.effect("the same program gives the database's answers", () =>
    Effect.gen(function*() {
      const onDatabase = yield* Testing.rollback(membershipProgram)
      expect(yield* membershipProgram.pipe(Effect.provide(Testing.layerReference([Membership])))).toEqual(onDatabase)
      expect(onDatabase).toMatchObject({ missing: { _tag: "NotFound", id: "groupId=g1,userId=5" }, badKey: "ValidationError", duplicate: "UniqueViolation" })
    }), 60_000)
})

effectIt.effect("the layer satisfies the program's SqlClient requirement", () =>
  Effect.gen(function*() {
    const provided = program.pipe(Effect.provide(Testing.layerReference([Account])))
    expectTypeOf<Effect.Effect.Context<typeof program>>().toEqualTypeOf<SqlClient.SqlClient>()
    expectTypeOf<Effect.Effect.Context<typeof provided>>().toEqualTypeOf<never>()
    const answers = (yield* provided) as { readonly overdrawn: string; readonly afterTransfers: ReadonlyArray<{ balance: number }> }
    expect(answers.overdrawn).toBe("Overdrawn")
  }))

effectIt.effect("fresh rows each time the layer is built; a reference's layer shares its rows", () =>
  Effect.gen(function*() {
    const create = Account.create({ id: "x", owner: "x", balance: 1, rate: null, tag: null })
    yield* create.pipe(Effect.provide(Testing.layerReference()))
    yield* create.pipe(Effect.provide(Testing.layerReference()))
    const ref = Testing.reference([Account])
    yield* create.pipe(Effect.provide(ref.layer))
    expect(ref.records(Account).map((r) => r.id)).toEqual(["x"])
  }))

effectIt.effect("a node it does not implement dies with ReferenceUnsupported naming it; SQL fails", () =>
  Effect.gen(function*() {
    const layer = Testing.layerReference([Account])
    const connect = (Account as unknown as { readonly connect: (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown> }).connect
    const exit = yield* Effect.exit(connect("tags", "x", ["y"]).pipe(Effect.provide(layer)))
    expect(Exit.isFailure(exit)).toBe(true)
    const defect = Exit.isFailure(exit) ? Cause.dieOption(exit.cause) : Option.none()
    expect(Option.getOrThrow(defect)).toBeInstanceOf(Testing.ReferenceUnsupported)
    expect((Option.getOrThrow(defect) as Testing.ReferenceUnsupported).node).toBe("connect")
    const sql = yield* Effect.flip(Effect.flatMap(SqlClient.SqlClient, (client) => client`SELECT 1`).pipe(Effect.provide(layer)))
    expect(sql._tag).toBe("SqlError")
    expect(sql.message).toContain("runs no SQL")
  }))

effectIt.effect("Testing.rollback over the reference layer leaves nothing; concurrent calls take turns", () =>
  Effect.gen(function*() {
    const ref = Testing.reference([Account])
    const create = (i: number) => Account.create({ id: `c${i}`, owner: `o${i}`, balance: i, rate: null, tag: null })
    yield* Testing.rollback(create(1)).pipe(Effect.provide(ref.layer))
    expect(ref.records(Account)).toEqual([])
    yield* Effect.all([1, 2, 3, 4].map((i) => DataFlow.transaction(create(i))), { concurrency: "unbounded" }).pipe(
      Effect.provide(ref.layer)
    )
    expect(ref.records(Account).length).toBe(4)
  }))
