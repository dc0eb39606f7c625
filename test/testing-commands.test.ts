/**
 * The testing kit's model-based tests (effect-dataflow/testing): random node-call sequences
 * agree with the in-memory reference on every database (`DATAFLOW_COMMANDS_RUNS` sequences,
 * default 25, of up to `DATAFLOW_COMMANDS_LENGTH` calls, default 25; `DATAFLOW_SEED` replays),
 * and the reference alone behaves as documented.
 */
import { expect, it as effectIt } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { Effect, Exit, FastCheck, Schema } from "effect"
import { expectTypeOf } from "vitest"
import { Column, Model, Tenant } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const RUNS = Number(process.env.DATAFLOW_COMMANDS_RUNS ?? 25)
const LENGTH = Number(process.env.DATAFLOW_COMMANDS_LENGTH ?? 25)
const SEED = process.env.DATAFLOW_SEED === undefined ? undefined : Number(process.env.DATAFLOW_SEED)

const Item = Model.make("CmdItem", {
  id: Schema.String.pipe(Schema.maxLength(6)),
  name: Schema.String.pipe(Schema.maxLength(5)),
  qty: Schema.NullOr(Schema.Int),
  price: Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: 8, scale: 2 })),
  tag: Schema.Literal("a", "b", "c"),
  at: Schema.NullOr(Schema.DateFromSelf),
  flag: Schema.Boolean,
  note: Schema.optional(Schema.String)
}, { table: uniqueTable("cmd_items"), unique: ["name", ["tag", "qty"]] })

const Doc = Model.make("CmdDoc", {
  id: Model.UuidId,
  title: Schema.String.pipe(Schema.maxLength(8)),
  score: Schema.Number,
  big: Schema.NullOr(Schema.BigIntFromSelf)
}, { table: uniqueTable("cmd_docs"), softDelete: true, versioned: true })

/** Keys the database generates: the runner pairs them with the reference's. */
const Tag = Model.make("CmdTag", {
  id: Schema.Int,
  label: Schema.String.pipe(Schema.maxLength(6)),
  weight: Schema.NullOr(Schema.Number)
}, { table: uniqueTable("cmd_tags"), unique: ["label"], timestamps: false })

/** Tenant-scoped: its commands need a tenant (the type says so), both sides run as it. */
const Memo = Model.make("CmdMemo", {
  id: Schema.String.pipe(Schema.maxLength(6)),
  body: Schema.String.pipe(Schema.maxLength(6)),
  rank: Schema.Int
}, { table: uniqueTable("cmd_memos"), unique: ["body"], tenantScoped: true })

/** A composite primary key (an enum and a short text, the text last): ids are key objects. */
const Follow = Model.make("CmdFollow", {
  slot: Schema.Literal("a", "b", "c"),
  ownerId: Schema.String.pipe(Schema.maxLength(4)),
  label: Schema.String.pipe(Schema.maxLength(5)),
  qty: Schema.Int,
  note: Schema.NullOr(Schema.String.pipe(Schema.maxLength(6)))
}, { table: uniqueTable("cmd_follows"), primaryKey: ["slot", "ownerId"], unique: ["label"], softDelete: true, versioned: true })

forEachDatabase("testing kit: commands", (it) => {
  it.effect(`${RUNS} random sequences agree with the reference`, () =>
    Effect.gen(function*() {
      const { runs, steps } = yield* Testing.commands([Item, Doc, Tag], {
        numRuns: RUNS,
        maxCommands: LENGTH,
        ...(SEED === undefined ? {} : { seed: SEED })
      })
      expect(runs).toBe(RUNS)
      expect(steps).toBeGreaterThan(0)
    }), 300_000)

  // bulkUpsert (revivals, repeated keys, other unique keys: MySQL's any-key conflicts), bulkUpdate
  // with items and aggregates are among the generated calls; longer sequences build up state
  it.effect("long sequences of every model agree with the reference", () =>
    Effect.gen(function*() {
      const { runs, steps } = yield* Testing.commands([Item, Doc, Tag, Follow], {
        numRuns: Math.max(1, Math.round(RUNS / 3)),
        maxCommands: LENGTH * 3,
        ...(SEED === undefined ? {} : { seed: SEED })
      })
      expect(runs).toBe(Math.max(1, Math.round(RUNS / 3)))
      expect(steps).toBeGreaterThan(0)
    }), 600_000)

  it.effect("a composite-keyed model's sequences agree with the reference", () =>
    Effect.gen(function*() {
      const { runs } = yield* Testing.commands([Follow], { numRuns: 10, maxCommands: 20, ...(SEED === undefined ? {} : { seed: SEED }) })
      expect(runs).toBe(10)
    }), 300_000)

  it.effect("a tenant-scoped model's sequences run as the current tenant", () =>
    Effect.gen(function*() {
      const { runs } = yield* Testing.commands([Memo], { numRuns: 10, maxCommands: 20 }).pipe(Tenant.with("acme"))
      expect(runs).toBe(10)
    }), 300_000)
})

effectIt.effect("the reference: unique keys, soft delete, versions, NULL order, $ne matching NULL", () =>
  Effect.gen(function*() {
    const ref = Testing.reference([Item, Doc])
    const item = (id: string, name: string, qty: number | null) => ({
      id,
      name,
      qty,
      price: Schema.decodeSync(Schema.BigDecimal)("1.5"),
      tag: "a" as const,
      at: null,
      flag: true
    })
    yield* ref.call(Item, { node: "create", input: item("1", "x", null) })
    yield* ref.call(Item, { node: "create", input: item("2", "y", 3) })
    const duplicate = yield* Effect.exit(ref.call(Item, { node: "create", input: item("3", "x", 4) }))
    expect(Exit.isFailure(duplicate) && JSON.stringify(duplicate.cause).includes("UniqueViolation")).toBe(true)
    // two NULL qty with the same tag never collide
    yield* ref.call(Item, { node: "create", input: item("4", "z", null) })
    const listed = (yield* ref.call(Item, { node: "list", query: { orderBy: ["qty"] } })) as { records: ReadonlyArray<{ id: string }> }
    expect(listed.records.map((r) => r.id)).toEqual(["1", "4", "2"])
    expect(yield* ref.call(Item, { node: "count", where: { qty: { $ne: 3 } } })).toBe(2)
    const bad = yield* Effect.exit(ref.call(Item, { node: "count", where: { nope: 1 } }))
    expect(Exit.isFailure(bad) && JSON.stringify(bad.cause).includes("InvalidFilter")).toBe(true)
    const doc = (yield* ref.call(Doc, { node: "create", input: { id: "d", title: "t", score: 1, big: null } })) as { version: number }
    expect(doc.version).toBe(1)
    const updated = (yield* ref.call(Doc, { node: "update", id: "d", patch: { score: 2 } })) as { version: number }
    expect(updated.version).toBe(2)
    expect(yield* ref.call(Doc, { node: "delete", id: "d" })).toEqual({ deleted: true })
    expect(yield* ref.call(Doc, { node: "find", id: "d" })).toBeUndefined()
    expect(ref.records(Doc).length).toBe(1)
  }))

effectIt.effect("a broken node is found, shrunk to a short sequence, and replayed from its seed and path", () =>
  Effect.gen(function*() {
    // the list node loses the last record of every page of more than one
    const Broken = {
      ...Item,
      list: (query: Parameters<typeof Item.list>[0]) =>
        Effect.map(Item.list(query), (page) => ({ ...page, records: page.records.length > 1 ? page.records.slice(0, -1) : page.records }))
    }
    const failed = yield* Effect.flip(Testing.commands([Broken], { numRuns: 100, maxCommands: 10, seed: 11 }))
    expect(failed._tag).toBe("CommandsFailed")
    expect(failed.sequence.length).toBeLessThanOrEqual(4)
    // two creates, then the stored rows (read through the broken list) or a list disagree
    expect(failed.mismatch).toMatch(/the reference/)
    expect(failed.message).toContain(`seed ${failed.seed}`)
    const replayed = yield* Effect.flip(Testing.commands([Broken], { numRuns: 100, maxCommands: 10, seed: failed.seed, path: failed.path }))
    expect(replayed.sequence).toEqual(failed.sequence)
  }).pipe(Effect.provide(Testing.layerMemory)))

effectIt("the reference's dialect option is typed", () => {
  expectTypeOf(Testing.reference([Item], { dialect: "mysql" })).toEqualTypeOf<Testing.Reference>()
  expectTypeOf<Testing.ReferenceOptions["dialect"]>().toEqualTypeOf<"sqlite" | "pg" | "mysql" | undefined>()
  // @ts-expect-error: not a dialect of the library
  Testing.layerReference([Item], { dialect: "oracle" })
})

effectIt("commands are typed: a tenant-scoped model's need the current tenant", () => {
  expectTypeOf<Effect.Effect.Context<ReturnType<typeof Testing.commands<typeof Memo>>>>().toEqualTypeOf<
    SqlClient.SqlClient | Tenant.CurrentTenant
  >()
  expectTypeOf<Effect.Effect.Context<ReturnType<typeof Testing.commands<typeof Item>>>>().toEqualTypeOf<SqlClient.SqlClient>()
})

effectIt.effect("the reference with a composite key: by the key object, NotFound, UniqueViolation, order, cursors, upserts", () =>
  Effect.gen(function*() {
    const ref = Testing.reference([Follow])
    const follow = (slot: "a" | "b" | "c", ownerId: string, label: string, qty = 0) => ({ slot, ownerId, label, qty, note: null })
    const fail = (call: Testing.Call) => Effect.flip(ref.call(Follow, call))
    for (const f of [follow("b", "x", "l1"), follow("a", "y", "l2", 5), follow("a", "x", "l3", 5), follow("b", "a", "l4")]) {
      yield* ref.call(Follow, { node: "create", input: f })
    }
    expect(yield* ref.call(Follow, { node: "read", id: { slot: "a", ownerId: "x" } })).toMatchObject({ label: "l3", version: 1 })
    expect(yield* ref.call(Follow, { node: "find", id: { slot: "c", ownerId: "x" } })).toBeUndefined()
    expect(yield* fail({ node: "read", id: { slot: "c", ownerId: "x" } })).toMatchObject({ _tag: "NotFound", id: "slot=c,ownerId=x" })
    expect(yield* fail({ node: "read", id: { slot: "a" } })).toMatchObject({ _tag: "ValidationError", path: "ownerId" })
    expect(yield* fail({ node: "read", id: "a" })).toMatchObject({ _tag: "ValidationError", path: "" })
    const duplicate = yield* fail({ node: "create", input: follow("a", "x", "l9") })
    expect(duplicate).toMatchObject({ _tag: "UniqueViolation" })
    expect([...(duplicate as { columns: ReadonlyArray<string> }).columns].sort()).toEqual(["ownerId", "slot"])
    // one field of the key shared is no collision
    yield* ref.call(Follow, { node: "create", input: follow("c", "x", "l5") })
    // every key column last, ascending, in key order
    const keys = (page: unknown) => (page as { records: ReadonlyArray<{ slot: string; ownerId: string }> }).records.map((r) => `${r.slot}${r.ownerId}`)
    expect(keys(yield* ref.call(Follow, { node: "list", query: {} }))).toEqual(["ax", "ay", "ba", "bx", "cx"])
    expect(keys(yield* ref.call(Follow, { node: "list", query: { orderBy: ["-qty"] } }))).toEqual(["ax", "ay", "ba", "bx", "cx"])
    expect(keys(yield* ref.call(Follow, { node: "list", query: { orderBy: ["ownerId"] } }))).toEqual(["ba", "ax", "bx", "cx", "ay"])
    const walked: Array<string> = []
    let cursor: string | undefined
    do {
      const page = (yield* ref.call(Follow, { node: "list", query: { orderBy: ["qty"], limit: 2, ...(cursor === undefined ? {} : { cursor }) } })) as {
        records: ReadonlyArray<unknown>
        nextCursor?: string
      }
      walked.push(...keys(page))
      cursor = page.nextCursor
    } while (cursor !== undefined)
    expect(walked).toEqual(["ba", "bx", "cx", "ax", "ay"])
    yield* ref.call(Follow, { node: "update", id: { slot: "b", ownerId: "x" }, patch: { qty: 7 } })
    expect(yield* fail({ node: "update", id: { slot: "b", ownerId: "x" }, patch: { slot: "c" } })).toMatchObject({ _tag: "ValidationError", path: "slot" })
    expect(yield* ref.call(Follow, { node: "delete", id: { slot: "b", ownerId: "x" } })).toEqual({ deleted: true })
    expect(yield* ref.call(Follow, { node: "restore", id: { slot: "b", ownerId: "x" } })).toEqual({ restored: true })
    // the whole key is the default conflict target; a part of it is none
    const upserted = (yield* ref.call(Follow, { node: "upsert", args: { create: follow("b", "x", "l6"), update: { qty: 1 } } })) as { created: boolean }
    expect(upserted.created).toBe(false)
    expect(yield* fail({ node: "upsert", args: { create: follow("b", "x", "l6"), conflictOn: ["slot"] } })).toMatchObject({ _tag: "ConflictTargetError" })
    expect(yield* ref.call(Follow, { node: "readBy", key: { ownerId: "x", slot: "b" } })).toMatchObject({ qty: 1, version: 5 })
    expect(yield* ref.call(Follow, { node: "bulkDelete", where: { ownerId: "x" } })).toEqual({ deleted: 3 })
    expect(ref.records(Follow).filter((r) => r.deletedAt === null).map((r) => `${r.slot}${r.ownerId}`)).toEqual(["ay", "ba"])
  }))

effectIt("a composite key's fields: required in createInput, left out of patches", () => {
  expectTypeOf<Testing.KeyFieldsOf<typeof Follow>>().toEqualTypeOf<"slot" | "ownerId">()
  expectTypeOf<Testing.InputOf<typeof Follow>>().toMatchTypeOf<{ readonly slot: "a" | "b" | "c"; readonly ownerId: string }>()
  expectTypeOf<keyof Testing.PatchOf<typeof Follow>>().toEqualTypeOf<"label" | "qty" | "note">()
  expectTypeOf<keyof Testing.PatchOf<typeof Item>>().toEqualTypeOf<"name" | "qty" | "price" | "tag" | "at" | "flag" | "note">()
  expectTypeOf(Testing.createInput(Follow)).toEqualTypeOf<FastCheck.Arbitrary<Testing.InputOf<typeof Follow>>>()
})

effectIt.effect("the reference's aggregate: exact sums, averages rounded as the node rounds, NULL groups first, code-point text", () =>
  Effect.gen(function*() {
    const ref = Testing.reference([Item, Doc])
    const price = (s: string) => Schema.decodeSync(Schema.BigDecimal)(s)
    const rows = [["1", "z", 1, "0.01"], ["2", "\u00e9", 2, "0.02"], ["3", "\ufb00", null, "0.02"], ["4", "\u{1f600}", null, "0.10"]] as const
    for (const [id, name, qty, p] of rows) {
      yield* ref.call(Item, { node: "create", input: { id, name, qty, price: price(p), tag: "a", at: null, flag: true } })
    }
    const total = (yield* ref.call(Item, {
      node: "aggregate",
      query: { where: { id: { $in: ["1", "2", "3"] } }, count: ["qty"], sum: ["qty", "price"], avg: ["qty", "price"], min: ["name"], max: ["name"] }
    })) as Record<string, Record<string, unknown>>
    // 0.05 / 3 at the column's scale + 6 digits, half to even
    expect(Testing.canonical(total)).toEqual(Testing.canonical({
      _count: { qty: 2 },
      _sum: { qty: 3, price: price("0.05") },
      _avg: { qty: 1.5, price: price("0.01666667") },
      _min: { name: "z" },
      _max: { name: "\ufb00" }
    }))
    // by code point, not UTF-16 unit: the astral character sorts last
    expect(((yield* ref.call(Item, { node: "aggregate", query: { max: ["name"] } })) as { _max: { name: string } })._max.name).toBe("\u{1f600}")
    const groups = (yield* ref.call(Item, { node: "aggregate", query: { groupBy: ["qty"], count: true } })) as ReadonlyArray<unknown>
    expect(groups).toEqual([{ qty: null, _count: 2 }, { qty: 1, _count: 1 }, { qty: 2, _count: 1 }])
    const big = 2n ** 62n
    for (const id of ["a", "b", "c"]) yield* ref.call(Doc, { node: "create", input: { id, title: id, score: 0, big } })
    const sums = (yield* ref.call(Doc, { node: "aggregate", query: { sum: ["big"], avg: ["big"] } })) as { _sum: { big: bigint }; _avg: { big: number } }
    expect(sums._sum.big).toBe(3n * big)
    expect(sums._avg.big).toBe(Number(big))
    const bad = yield* Effect.flip(ref.call(Item, { node: "aggregate", query: { having: { _count: 1 } } }))
    expect(bad).toMatchObject({ _tag: "ValidationError", path: "having" })
  }))

effectIt.effect("the reference's bulkUpsert revives soft-deleted rows; bulkUpdate items apply in order, all or nothing", () =>
  Effect.gen(function*() {
    const ref = Testing.reference([Doc])
    yield* ref.call(Doc, { node: "create", input: { id: "d", title: "t", score: 1, big: null } })
    yield* ref.call(Doc, { node: "update", id: "d", patch: { score: 2 } })
    yield* ref.call(Doc, { node: "delete", id: "d" })
    const counts = yield* ref.call(Doc, { node: "bulkUpsert", rows: [{ id: "d", title: "u", score: 3, big: 1n }, { id: "e", title: "e", score: 0, big: null }] })
    expect(counts).toEqual({ inserted: 2, updated: 0 })
    // a new record under the old key: version 1, not deleted
    expect(ref.records(Doc)[0]).toMatchObject({ id: "d", title: "u", version: 1, deletedAt: null })
    const again = yield* ref.call(Doc, { node: "bulkUpsert", rows: [{ id: "d", title: "v", score: 4, big: null }] })
    expect(again).toEqual({ inserted: 0, updated: 1 })
    expect(ref.records(Doc)[0]).toMatchObject({ title: "v", version: 2 })
    const items = yield* ref.call(Doc, {
      node: "bulkUpdateItems",
      items: [{ id: "d", patch: { score: { $increment: 1 } }, expectedVersion: 2 }, { id: "zz", patch: {} }, { id: "d", patch: { title: "w" } }]
    })
    expect(items).toEqual({ updated: 2, missing: ["zz"] })
    expect(ref.records(Doc)[0]).toMatchObject({ title: "w", score: 5, version: 4 })
    const stale = yield* Effect.flip(ref.call(Doc, { node: "bulkUpdateItems", items: [{ id: "e", patch: { title: "x" } }, { id: "d", patch: {}, expectedVersion: 1 }] }))
    expect(stale).toMatchObject({ _tag: "OptimisticLockError" })
    // nothing written: e keeps its title
    expect(ref.records(Doc)[1]).toMatchObject({ id: "e", title: "e", version: 1 })
  }))
