/**
 * The testing kit's model-based tests (effect-dataflow/testing): random node-call sequences
 * agree with the in-memory reference on every database (`DATAFLOW_COMMANDS_RUNS` sequences,
 * default 25; `DATAFLOW_SEED` replays), and the reference alone behaves as documented.
 */
import { expect, it as effectIt } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { Effect, Exit, FastCheck, Schema } from "effect"
import { expectTypeOf } from "vitest"
import { Column, Model, Tenant } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const RUNS = Number(process.env.DATAFLOW_COMMANDS_RUNS ?? 25)
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
        maxCommands: 25,
        ...(SEED === undefined ? {} : { seed: SEED })
      })
      expect(runs).toBe(RUNS)
      expect(steps).toBeGreaterThan(0)
    }), 300_000)

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
