/**
 * Workflows as data: every registered node type through the registry (Kailash and native
 * parameters, Kailash result shapes, the same records as the node called directly),
 * connections carrying ids, records and lists, validation before any SQL, a transaction
 * rolled back on failure, concurrency, spans, and the JSON round trip.
 */
import type { SqlClient } from "@effect/sql"
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Effect, Exit, FastCheck as fc, Option, pipe, Schema } from "effect"
import { DataFlow, Model, Tenant, Workflow } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { recordingTracer } from "./support/tracer.js"

const makeModels = () => {
  const User = Model.make(
    "User",
    Schema.Struct({
      id: Schema.Int,
      email: Schema.String.pipe(Schema.maxLength(100)),
      name: Schema.String,
      age: Schema.NullOr(Schema.Int)
    }),
    { table: uniqueTable("users"), unique: ["email"] }
  )
  const Note = Model.make(
    "Note",
    Schema.Struct({ id: Schema.String, text: Schema.String, authorId: Schema.Int }),
    { table: uniqueTable("notes"), softDelete: true }
  )
  return { User, Note }
}

/** Runs one node of a registry on its own: its `result`. */
const runOne = <E, R>(registry: Workflow.Registry<E, R>, type: string, params: Record<string, unknown>) =>
  Effect.map(
    Workflow.execute(registry, Workflow.addNode(Workflow.make(), type, "n", params)),
    ({ results }) => results.n!.result as Record<string, unknown>
  )

const nodeFailure = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(self), (error) => {
    expect((error as { _tag: string })._tag).toBe("NodeFailed")
    return error as unknown as Workflow.NodeFailure<{ readonly _tag: string }>
  })

const workflowError = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(self), (error) => {
    expect((error as { _tag: string })._tag).toBe("WorkflowError")
    return error as unknown as { readonly nodeId?: string; readonly path: string; readonly reason: string; readonly message: string }
  })

/** Counts the SQL statements run under it (any client: each statement is a `sql.execute` span). */
const countingStatements = <A, E, R>(self: Effect.Effect<A, E, R>) => {
  const { spans, tracer } = recordingTracer()
  return Effect.map(
    Effect.exit(Effect.withTracer(self, tracer)),
    (exit) => ({ exit, statements: spans.filter((s) => s.name === "sql.execute").length })
  )
}

const ada = { email: "ada@example.com", name: "Ada", age: 36 }
const alan = { email: "alan@example.com", name: "Alan", age: 41 }
const grace = { email: "grace@example.com", name: "Grace", age: null }

forEachDatabase("workflow", (it) => {
  it.effect("the registry names every node of every model twice (Kailash's UserCreateNode and User_Create)", () =>
    Effect.sync(() => {
      const { Note, User } = makeModels()
      const registry = Workflow.registry([User, Note])
      const ops = ["Create", "Read", "Update", "Delete", "List", "Count", "Upsert", "BulkCreate", "BulkUpdate", "BulkDelete", "BulkUpsert"]
      for (const model of ["User", "Note"]) {
        for (const op of ops) {
          expect(registry.types.get(`${model}${op}Node`)?.type).toBe(`${model}${op}Node`)
          expect(registry.types.get(`${model}_${op}`)).toBe(registry.types.get(`${model}${op}Node`))
        }
      }
      expect(registry.types.has("NoteRestoreNode")).toBe(true)
      expect(registry.types.has("UserRestoreNode")).toBe(false)
      const Log = Model.make("Log", Schema.Struct({ id: Schema.Int, line: Schema.String }), { table: uniqueTable("logs"), appendOnly: true })
      const logs = Workflow.registry([Log])
      expect([...logs.types.keys()].filter((k) => k.endsWith("Node")).sort()).toEqual(
        ["LogBulkCreateNode", "LogCountNode", "LogCreateNode", "LogListNode", "LogReadNode"]
      )
      expect(() => Workflow.registry([User, User])).toThrow(/two node types are named "UserCreateNode"/)
      const entries = Workflow.catalog(registry)
      expect(entries).toHaveLength(23)
      expect(entries.find((e) => e.type === "UserReadNode")).toEqual({
        type: "UserReadNode",
        aliases: ["User_Read"],
        parameters: ["id", "record_id", "conditions", "filter", "raise_on_not_found", "raiseOnNotFound", "include_deleted", "includeDeleted"],
        required: [["id", "record_id", "conditions", "filter"]]
      })
      const params = Workflow.parametersSchema(registry, "User_Create")!
      expect(Schema.decodeUnknownSync(params)({ data: ada })).toEqual(ada)
      expect(() => Schema.decodeUnknownSync(params)({ data: { ...ada, age: "x" } })).toThrow(/data\.age/)
    }))

  it.effect("Create: flat fields (Kailash) and data (the seed), the record as stored", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const flat = yield* runOne(registry, "UserCreateNode", ada)
      expect(flat).toEqual(yield* User.read(flat.id as number))
      const wrapped = yield* runOne(registry, "User_Create", { data: alan })
      expect(wrapped).toEqual(yield* User.read(wrapped.id as number))
      expect(wrapped).toMatchObject(alan)
      const both = yield* workflowError(runOne(registry, "User_Create", { data: alan, name: "x" }))
      expect(both).toMatchObject({ nodeId: "n", path: "name" })
      const bad = yield* workflowError(runOne(registry, "User_Create", { data: { ...grace, age: "old" } }))
      expect(bad).toMatchObject({ nodeId: "n", path: "data.age" })
      expect(yield* User.count()).toBe(2)
    }))

  it.effect("Read: id, record_id, conditions; { ...record, found }; raise_on_not_found", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const stored = yield* User.create(ada)
      for (const params of [{ id: stored.id }, { record_id: stored.id }, { conditions: { id: stored.id } }, { id: String(stored.id) }]) {
        expect(yield* runOne(registry, "UserReadNode", params)).toEqual({ ...stored, found: true })
      }
      expect(yield* runOne(registry, "User_Read", { id: stored.id + 100, raise_on_not_found: false })).toEqual({
        id: stored.id + 100,
        found: false
      })
      const failed = yield* nodeFailure(runOne(registry, "UserReadNode", { id: stored.id + 100 }))
      expect(failed).toMatchObject({ nodeId: "n", nodeType: "UserReadNode" })
      expect(failed.cause._tag).toBe("NotFound")
      expect(failed.message).toContain(`${stored.id + 100}`)
      const filter = yield* workflowError(runOne(registry, "UserReadNode", { conditions: { name: "Ada" } }))
      expect(filter).toMatchObject({ nodeId: "n", path: "conditions" })
    }))

  it.effect("a composite primary key: Read / Update / Delete by the key's fields, BulkUpdate items and BulkDelete ids", () =>
    Effect.gen(function*() {
      const Follow = Model.make(
        "Follow",
        Schema.Struct({ followerId: Schema.Int, followingId: Schema.Int, muted: Schema.Boolean }),
        { table: uniqueTable("follows"), primaryKey: ["followerId", "followingId"], timestamps: false }
      )
      const registry = Workflow.registry([Follow])
      yield* Follow.bulkCreate([{ followerId: 1, followingId: 2, muted: false }, { followerId: 1, followingId: 3, muted: false }, {
        followerId: 2,
        followingId: 1,
        muted: false
      }])
      const key = { followerId: 1, followingId: 2 }
      for (const params of [{ id: key }, { conditions: key }, { filter: { followerId: "1", followingId: "2" } }]) {
        expect(yield* runOne(registry, "FollowReadNode", params)).toEqual({ ...key, muted: false, found: true })
      }
      expect(yield* runOne(registry, "FollowReadNode", { id: { followerId: 9, followingId: 9 }, raise_on_not_found: false }))
        .toEqual({ followerId: 9, followingId: 9, found: false })
      const partial = yield* workflowError(runOne(registry, "FollowReadNode", { conditions: { followerId: 1 } }))
      expect(partial).toMatchObject({ nodeId: "n", path: "conditions.followingId" })
      expect(yield* runOne(registry, "FollowUpdateNode", { filter: key, fields: { muted: true } })).toMatchObject({ ...key, muted: true, updated: true })
      const items = yield* runOne(registry, "FollowBulkUpdateNode", { records: [{ followerId: 1, followingId: 3, muted: true }] })
      expect(items).toMatchObject({ updated: 1 })
      expect((yield* Follow.read({ followerId: 1, followingId: 3 })).muted).toBe(true)
      expect(yield* runOne(registry, "FollowDeleteNode", { id: key })).toEqual({ ...key, deleted: true })
      const bulk = yield* runOne(registry, "FollowBulkDeleteNode", { ids: [{ followerId: 1, followingId: 3 }, { followerId: 2, followingId: 1 }] })
      expect(bulk).toMatchObject({ deleted: 2 })
      expect(yield* Follow.count()).toBe(0)
    }))

  it.effect("Update: filter + fields (Kailash) and id + patch; Delete: { id, deleted }", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const stored = yield* User.create(ada)
      const kailash = yield* runOne(registry, "UserUpdateNode", { filter: { id: stored.id }, fields: { age: 37 } })
      expect(kailash).toEqual({ ...(yield* User.read(stored.id)), updated: true })
      const native = yield* runOne(registry, "User_Update", { id: stored.id, patch: { name: "Ada L." } })
      expect(native).toEqual({ ...(yield* User.read(stored.id)), updated: true })
      expect(native.age).toBe(37)
      const filter = yield* workflowError(runOne(registry, "UserUpdateNode", { filter: { name: "Ada" }, fields: { age: 1 } }))
      expect(filter).toMatchObject({ nodeId: "n", path: "filter" })
      const managed = yield* workflowError(runOne(registry, "UserUpdateNode", { id: stored.id, fields: { createdAt: "2020-01-01T00:00:00Z" } }))
      expect(managed).toMatchObject({ nodeId: "n", path: "fields.createdAt" })
      expect(yield* runOne(registry, "UserDeleteNode", { id: stored.id })).toEqual({ id: stored.id, deleted: true })
      expect(yield* runOne(registry, "User_Delete", { record_id: stored.id })).toEqual({ id: stored.id, deleted: false })
    }))

  it.effect("List: filter, order_by in Kailash's forms, sort, limit/offset, native where/orderBy — the records list returns", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      yield* User.bulkCreate([ada, alan, grace])
      const direct = yield* User.list({ where: { age: { $gte: 30 } }, orderBy: ["-name"], limit: 5 })
      for (const order_by of [["-name"], [{ name: -1 }], "-name"]) {
        const result = yield* runOne(registry, "UserListNode", { filter: { age: { $gte: 30 } }, order_by, limit: 5 })
        expect(result).toEqual({ records: direct.records, count: 2, limit: 5, offset: 0 })
      }
      const sorted = yield* runOne(registry, "User_List", { where: { age: { $gte: 30 } }, sort: [{ field: "name", order: "desc" }], limit: 5 })
      expect(sorted.records).toEqual(direct.records)
      const native = yield* runOne(registry, "User_List", { where: { age: { $gte: 30 } }, orderBy: ["-name"], limit: 5, total: true })
      expect(native).toMatchObject({ records: direct.records, total: 2 })
      const page = yield* runOne(registry, "UserListNode", { order_by: ["name"], limit: 1, offset: 1 })
      expect((page.records as ReadonlyArray<{ name: string }>).map((r) => r.name)).toEqual(["Alan"])
      expect(yield* runOne(registry, "UserListNode", { filter: { name: "Ada" }, count_only: true })).toEqual({ count: 1 })
      const badField = yield* workflowError(runOne(registry, "UserListNode", { filter: { nope: 1 } }))
      expect(badField).toMatchObject({ nodeId: "n", path: "filter.nope" })
      const badOrder = yield* workflowError(runOne(registry, "UserListNode", { order_by: [{ name: 2 }] }))
      expect(badOrder).toMatchObject({ nodeId: "n", path: "order_by.0.name" })
    }))

  it.effect("Count: filter / where → { count }", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      yield* User.bulkCreate([ada, alan, grace])
      expect(yield* runOne(registry, "UserCountNode", {})).toEqual({ count: 3 })
      expect(yield* runOne(registry, "UserCountNode", { filter: { age: null } })).toEqual({ count: 1 })
      expect(yield* runOne(registry, "User_Count", { where: { name: { $in: ["Ada", "Alan"] } } })).toEqual({ count: 2 })
    }))

  it.effect("Upsert: where/create/update (Kailash) and create/update/conflictOn → { record, created, action }", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const first = yield* runOne(registry, "UserUpsertNode", {
        where: { email: ada.email },
        create: { name: "Ada", age: 36 },
        update: { age: 37 }
      })
      expect(first).toMatchObject({ created: true, action: "created", record: ada })
      const second = yield* runOne(registry, "UserUpsertNode", {
        where: { email: ada.email },
        create: { name: "Ada", age: 36 },
        update: { age: 37 }
      })
      expect(second).toMatchObject({ created: false, action: "updated", record: { ...ada, age: 37 } })
      const stored = yield* User.readBy({ email: ada.email })
      expect(second.record).toEqual(stored)
      const native = yield* runOne(registry, "User_Upsert", { create: alan, conflictOn: ["email"] })
      expect(native).toMatchObject({ created: true, record: alan })
      const target = yield* nodeFailure(runOne(registry, "User_Upsert", { create: grace, conflict_on: ["name"] }))
      expect(target.cause._tag).toBe("ConflictTargetError")
    }))

  it.effect("BulkCreate / BulkUpsert: records, conflict_resolution, batch_size; Kailash's summary", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const created = yield* runOne(registry, "UserBulkCreateNode", { records: [ada, alan], batch_size: 100 })
      expect(created).toEqual({ processed: 2, inserted: 2, skipped: 0, batch_size: 100, operation: "bulk_create", success: true })
      const skipped = yield* runOne(registry, "User_BulkCreate", { data: [ada, grace], conflict_resolution: "skip" })
      expect(skipped).toMatchObject({ processed: 2, inserted: 1, skipped: 1 })
      const dup = yield* nodeFailure(runOne(registry, "User_BulkCreate", { rows: [ada] }))
      expect(dup.cause._tag).toBe("UniqueViolation")
      const badRow = yield* workflowError(runOne(registry, "UserBulkCreateNode", { records: [ada, { ...alan, age: 1.5 }] }))
      expect(badRow).toMatchObject({ nodeId: "n", path: "records.1.age" })
      const upserted = yield* runOne(registry, "UserBulkUpsertNode", {
        records: [{ ...ada, age: 50 }, { email: "new@example.com", name: "New", age: 1 }],
        conflict_on: ["email"],
        return_records: true
      })
      expect(upserted).toMatchObject({ processed: 2, inserted: 1, updated: 1, total: 2, upserted: 2, operation: "bulk_upsert", success: true })
      expect(upserted.records).toEqual([yield* User.readBy({ email: ada.email }), yield* User.readBy({ email: "new@example.com" })])
      const ignored = yield* runOne(registry, "UserBulkUpsertNode", {
        records: [{ ...ada, age: 60 }],
        conflict_on: ["email"],
        conflict_resolution: "skip"
      })
      expect(ignored).toMatchObject({ inserted: 0, updated: 0, skipped: 1 })
      expect((yield* User.readBy({ email: ada.email })).age).toBe(50)
      expect(yield* User.count()).toBe(4)
    }))

  it.effect("BulkUpdate (filter + fields, per-record data) and BulkDelete (filter, ids, confirmed)", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      yield* User.bulkCreate([ada, alan, grace])
      const [a, b, c] = (yield* User.list({ orderBy: ["name"] })).records
      expect(yield* runOne(registry, "UserBulkUpdateNode", { filter: { age: { $gte: 30 } }, fields: { age: 1 } })).toEqual({
        processed: 2,
        updated: 2,
        operation: "bulk_update",
        success: true
      })
      const unsafe = yield* nodeFailure(runOne(registry, "UserBulkUpdateNode", { fields: { age: 2 } }))
      expect(unsafe.cause._tag).toBe("UnsafeOperation")
      expect(yield* runOne(registry, "User_BulkUpdate", { filter: {}, fields: { age: 2 }, confirmed: true })).toMatchObject({ updated: 3 })
      const perRecord = yield* runOne(registry, "UserBulkUpdateNode", {
        records: [{ id: a!.id, name: "A" }, { id: b!.id, age: 9 }, { id: c!.id + 100, name: "ghost" }]
      })
      expect(perRecord).toMatchObject({ processed: 3, updated: 2, missing: [c!.id + 100] })
      expect((yield* User.read(a!.id)).name).toBe("A")
      expect((yield* User.read(b!.id)).age).toBe(9)
      const badItem = yield* workflowError(runOne(registry, "UserBulkUpdateNode", { records: [{ id: a!.id, age: "x" }] }))
      expect(badItem).toMatchObject({ nodeId: "n", path: "records.0.age" })
      expect(yield* runOne(registry, "UserBulkDeleteNode", { ids: [a!.id, b!.id] })).toEqual({
        processed: 2,
        deleted: 2,
        operation: "bulk_delete",
        success: true
      })
      const all = yield* nodeFailure(runOne(registry, "UserBulkDeleteNode", {}))
      expect(all.cause._tag).toBe("UnsafeOperation")
      expect(yield* runOne(registry, "User_BulkDelete", { filter: { name: "Grace" } })).toMatchObject({ deleted: 1 })
      expect(yield* User.count()).toBe(0)
    }))

  it.effect("Restore on a soft-delete model; string keys", () =>
    Effect.gen(function*() {
      const { Note } = makeModels()
      const registry = Workflow.registry([Note])
      yield* runOne(registry, "NoteCreateNode", { id: "n-1", text: "hello", authorId: 1 })
      expect(yield* runOne(registry, "NoteDeleteNode", { id: "n-1" })).toEqual({ id: "n-1", deleted: true })
      expect(yield* runOne(registry, "NoteRestoreNode", { id: "n-1" })).toEqual({ id: "n-1", restored: true })
      expect(yield* runOne(registry, "NoteReadNode", { id: "n-1" })).toMatchObject({ id: "n-1", found: true, deletedAt: null })
    }))

  it.effect("connections carry ids, records and lists between nodes", () =>
    Effect.gen(function*() {
      const { Note, User } = makeModels()
      const idsOf = Workflow.node({
        type: "IdsOf",
        input: Schema.Struct({ records: Schema.Array(Schema.Struct({ id: Schema.Int })) }),
        output: Schema.Struct({ ids: Schema.Array(Schema.Int) }),
        run: ({ records }) => Effect.succeed({ ids: records.map((r) => r.id) })
      })
      const registry = Workflow.registry([User, Note], { nodes: [idsOf] })
      const workflow = Workflow.builder("connections")
        .add_node("UserCreateNode", "create_user", { data: ada })
        .add_node("UserReadNode", "read_user", {})
        .add_connection("create_user", "result.id", "read_user", "id")
        // a whole record into another node's data, a field of it into a third
        .add_node("UserCreateNode", "copy", { email: "copy@example.com" })
        .add_connection("read_user", "name", "copy", "name")
        .add_connection("read_user", "result.age", "copy", "age")
        .add_node("NoteCreateNode", "note", { id: "note-1", text: "by ada" })
        .add_connection("create_user", "id", "note", "authorId")
        // a list through a custom node into a bulk delete
        .add_node("UserListNode", "adults", { filter: { age: { $gte: 18 } } })
        .add_connection("copy", "result.id", "adults", "filter.id.$lte")
        .add_node("IdsOf", "ids", {})
        .add_connection("adults", "result.records", "ids", "records")
        .add_node("UserBulkDeleteNode", "remove", {})
        .add_connection("ids", "result.ids", "remove", "ids")
        .build()
      const { results, runId } = yield* Workflow.execute(registry, workflow)
      expect(runId).toMatch(/^[0-9a-f-]{36}$/)
      const user = results.create_user!.result as { id: number }
      expect(results.read_user!.result).toMatchObject({ ...ada, id: user.id, found: true })
      expect(results.copy!.result).toMatchObject({ email: "copy@example.com", name: "Ada", age: 36 })
      expect(results.note!.result).toMatchObject({ id: "note-1", authorId: user.id })
      expect((results.ids!.result as { ids: ReadonlyArray<number> }).ids).toHaveLength(2)
      expect(results.remove!.result).toMatchObject({ deleted: 2 })
      expect(yield* User.count()).toBe(0)
      expect(yield* Note.count()).toBe(1)
    }))

  it.effect("a bad workflow is a WorkflowError naming the node and path, before any SQL", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const base = pipe(
        Workflow.make(),
        Workflow.addNode("UserCreateNode", "create", { data: ada }),
        Workflow.addNode("UserReadNode", "read"),
        Workflow.connect("create", "result.id", "read", "id")
      )
      const cases: ReadonlyArray<readonly [Workflow.Workflow, { nodeId?: string; path: string }, RegExp]> = [
        [Workflow.addNode(base, "UserFrobNode", "frob"), { nodeId: "frob", path: "type" }, /unknown node type "UserFrobNode"/],
        [Workflow.addNode(base, "UserCountNode", "create"), { nodeId: "create", path: "id" }, /duplicate node id/],
        [Workflow.connect(base, "ghost", "result.id", "read", "id"), { nodeId: "ghost", path: "" }, /no such node/],
        [Workflow.connect(base, "create", "result.id", "nowhere", "id"), { nodeId: "nowhere", path: "" }, /no such node/],
        [Workflow.connect(base, "create", "result.nope", "read", "record_id"), { nodeId: "create", path: "result.nope" }, /has no "nope"/],
        [Workflow.connect(base, "create", "result.id.x", "read", "record_id"), { nodeId: "create", path: "result.id.x" }, /has no "id.x"/],
        [Workflow.connect(base, "create", "__proto__", "read", "record_id"), { nodeId: "create", path: "__proto__" }, /has no/],
        [Workflow.connect(base, "create", "result.id", "read", "__proto__.id"), { nodeId: "read", path: "__proto__" }, /unknown parameter/],
        [Workflow.connect(base, "read", "result.id", "create", "id"), { nodeId: "create", path: "" }, /cycle: create → read → create/],
        [Workflow.connect(base, "create", "result.id", "read", "nope"), { nodeId: "read", path: "nope" }, /unknown parameter/],
        [Workflow.addNode(base, "UserCountNode", "c", { filters: {} }), { nodeId: "c", path: "filters" }, /unknown parameter/],
        [Workflow.addNode(base, "UserReadNode", "r2", {}), { nodeId: "r2", path: "id" }, /missing parameter/],
        [Workflow.addNode(base, "UserUpdateNode", "u", { id: 1 }), { nodeId: "u", path: "fields" }, /missing parameter/],
        [Workflow.addNode(base, "UserCountNode", "c", { filter: { age: { $gt: "x" } } }), { nodeId: "c", path: "filter.age.$gt" }, /./],
        [Workflow.addNode(base, "UserReadNode", "r3", { id: 1, record_id: 2 }), { nodeId: "r3", path: "record_id" }, /not both/],
        [Workflow.addNode(base, "UserBulkDeleteNode", "d", { ids: [1, "x"] }), { nodeId: "d", path: "ids.1" }, /type/],
        [Workflow.addNode(base, "UserUpsertNode", "up", { create: ada, conflict_on: ["nope"] }), { nodeId: "up", path: "conflict_on" }, /field names/],
        [Workflow.addNode(base, "UserBulkCreateNode", "b", { records: [], conflict_resolution: "merge" }), { nodeId: "b", path: "conflict_resolution" }, /"skip"/],
        [Workflow.connect(base, "create", "result.name", "read", "id"), { nodeId: "read", path: "id" }, /two connections/]
      ]
      for (const [workflow, expected, reason] of cases) {
        const { exit, statements } = yield* countingStatements(Workflow.execute(registry, workflow))
        expect(statements).toBe(0)
        expect(Exit.isFailure(exit)).toBe(true)
        const error = yield* workflowError(Workflow.execute(registry, workflow))
        expect(error).toMatchObject(expected)
        expect(error.message).toMatch(reason)
        expect(yield* Effect.exit(Workflow.validate(registry, workflow))).toEqual(exit)
      }
      expect(yield* Workflow.validate(registry, base)).toBeUndefined()
      // the whole workflow ran no statement: the table was never made
      const { statements } = yield* countingStatements(User.count())
      expect(statements).toBeGreaterThan(0)
      expect(yield* User.count()).toBe(0)
    }))

  it.effect("a parameter fed by a connection that does not decode fails before its node runs, naming it", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const workflow = Workflow.builder()
        .add_node("UserCreateNode", "create", ada)
        .add_node("UserCountNode", "count", {})
        .add_connection("create", "result.name", "count", "filter.age")
        .build()
      const error = yield* workflowError(Workflow.execute(registry, workflow))
      expect(error).toMatchObject({ nodeId: "count", path: "filter.age" })
    }))

  it.effect("transaction: true — a failing node rolls back every node before it", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      yield* DataFlow.migrate([User])
      const registry = Workflow.registry([User])
      const workflow = Workflow.builder()
        .add_node("UserCreateNode", "first", ada)
        .add_node("UserBulkCreateNode", "more", { records: [alan, grace] })
        .add_node("UserCreateNode", "duplicate", { ...ada, name: "Imposter" })
        .add_connection("first", "id", "more", "batch_size")
        .add_connection("more", "inserted", "duplicate", "age")
        .build()
      const failed = yield* nodeFailure(Workflow.execute(registry, workflow, { transaction: true }))
      expect(failed).toMatchObject({ nodeId: "duplicate", nodeType: "UserCreateNode" })
      expect(failed.cause._tag).toBe("UniqueViolation")
      expect(yield* User.count()).toBe(0)
      // without a transaction the nodes before the failure stay
      yield* nodeFailure(Workflow.execute(registry, workflow))
      expect(yield* User.count()).toBe(3)
      // and a transaction that succeeds commits
      const ok = Workflow.builder().add_node("UserBulkDeleteNode", "clear", { filter: {}, confirmed: true }).build()
      const { results } = yield* Workflow.execute(registry, ok, { transaction: { isolation: "serializable" } })
      expect(results.clear!.result).toMatchObject({ deleted: 3 })
      expect(yield* User.count()).toBe(0)
    }))

  it.effect("tenant-scoped models: the run needs the tenant, and its nodes see only the tenant's rows", () =>
    Effect.gen(function*() {
      const Task = Model.make("Task", Schema.Struct({ id: Schema.Int, title: Schema.String }), {
        table: uniqueTable("tasks"),
        tenantScoped: true
      })
      const registry = Workflow.registry([Task])
      const workflow = Workflow.builder()
        .add_node("TaskCreateNode", "create", { title: "write docs" })
        .add_node("TaskListNode", "list", {})
        .add_connection("create", "id", "list", "filter.id")
        .build()
      const run = Workflow.execute(registry, workflow)
      expectTypeOf(run).toEqualTypeOf<
        Effect.Effect<
          Workflow.RunResult,
          Workflow.NodeFailure<Workflow.ModelErrors<typeof Task>> | import("../src/Errors.js").WorkflowError,
          SqlClient.SqlClient | Tenant.CurrentTenant
        >
      >()
      expectTypeOf(Workflow.execute(registry, workflow, { transaction: { timeout: "1 second" } })).toEqualTypeOf<
        Effect.Effect<
          Workflow.RunResult,
          | Workflow.NodeFailure<Workflow.ModelErrors<typeof Task>>
          | import("../src/Errors.js").WorkflowError
          | import("../src/Transaction.js").ErrorsOf<{ timeout: "1 second" }>,
          SqlClient.SqlClient | Tenant.CurrentTenant
        >
      >()
      const { results } = yield* Tenant.with(run, "acme")
      expect(results.list!.result).toMatchObject({ count: 1, records: [{ title: "write docs", tenantId: "acme" }] })
      expect(yield* Tenant.with(Task.count(), "globex")).toBe(0)
    }))

  it.effect("a run is a span with a child span per node", () =>
    Effect.gen(function*() {
      const { User } = makeModels()
      const registry = Workflow.registry([User])
      const { spans, tracer } = recordingTracer()
      const workflow = Workflow.builder().add_node("UserCreateNode", "a", ada).add_node("UserCountNode", "b", {}).build()
      const { runId } = yield* Effect.withTracer(Workflow.execute(registry, workflow), tracer)
      const run = spans.find((s) => s.name === "Workflow.execute")!
      expect(run.attributes.get("workflow.run_id")).toBe(runId)
      const nodes = spans.filter((s) => s.name === "Workflow.node")
      expect(nodes.map((s) => s.attributes.get("workflow.node.id")).sort()).toEqual(["a", "b"])
      for (const span of nodes) {
        expect(Option.getOrThrow(span.parent).spanId).toBe(run.spanId)
      }
    }))
})

/** A custom node that waits (in real time) and records how many run at once. */
const probe = () => {
  let running = 0
  let most = 0
  const node = Workflow.node({
    type: "Wait",
    input: Schema.Struct({ ms: Schema.Number }),
    output: Schema.Struct({ ms: Schema.Number }),
    run: ({ ms }) =>
      Effect.promise(async () => {
        running++
        most = Math.max(most, running)
        await new Promise((resolve) => setTimeout(resolve, ms))
        running--
        return { ms }
      })
  })
  return { node, most: () => most }
}

describe("workflow runtime", () => {
  it.effect("independent nodes run concurrently up to the limit; dependent ones wait", () =>
    Effect.gen(function*() {
      const independent = (n: number) => {
        let workflow = Workflow.make()
        for (let i = 0; i < n; i++) workflow = Workflow.addNode(workflow, "Wait", `w${i}`, { ms: 30 })
        return workflow
      }
      for (const [limit, expected] of [[1, 1], [3, 3], ["unbounded", 6]] as const) {
        const { most, node } = probe()
        yield* Workflow.execute(Workflow.registry([], { nodes: [node] }), independent(6), { concurrency: limit })
        expect(most()).toBe(expected)
      }
      const chain = probe()
      const chained = Workflow.builder()
        .add_node("Wait", "a", { ms: 10 })
        .add_node("Wait", "b", {})
        .add_node("Wait", "c", {})
        .add_connection("a", "ms", "b", "ms")
        .add_connection("b", "result.ms", "c", "ms")
        .build()
      const { results } = yield* Workflow.runtime(Workflow.registry([], { nodes: [chain.node] })).execute(chained, {
        concurrency: "unbounded"
      })
      expect(chain.most()).toBe(1)
      expect(results.c!.result).toEqual({ ms: 10 })
    }))

  it.effect("a custom node's parameters decode with its input Schema; errors name the path", () =>
    Effect.gen(function*() {
      const { node } = probe()
      const registry = Workflow.registry([], { nodes: [node] })
      const wrong = yield* Effect.flip(Workflow.validate(registry, Workflow.builder().add_node("Wait", "w", { ms: "x" }).build()))
      expect(wrong).toMatchObject({ _tag: "WorkflowError", nodeId: "w", path: "ms" })
      const extra = yield* Effect.flip(Workflow.validate(registry, Workflow.builder().add_node("Wait", "w", { ms: 1, s: 2 }).build()))
      expect(extra).toMatchObject({ _tag: "WorkflowError", nodeId: "w", path: "s" })
      const schema = Workflow.parametersSchema(registry, "Wait")!
      expect(Schema.decodeUnknownSync(schema)({ ms: 5 })).toEqual({ ms: 5 })
      expect(Workflow.parametersSchema(registry, "Nope")).toBeUndefined()
    }))

  // JSON text has no -0
  const json: fc.Arbitrary<unknown> = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  const arbitraryWorkflow = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 8 }).chain((ids) =>
    fc.record({
      nodes: fc.tuple(...ids.map((id) =>
        fc.record({
          id: fc.constant(id),
          type: fc.constantFrom("UserCreateNode", "User_Read", "UserListNode", "Custom"),
          params: fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 4 })
        }, { requiredKeys: ["id", "type"] })
      )),
      connections: fc.array(
        fc.record({
          from: fc.constantFrom(...ids),
          output: fc.constantFrom("result", "result.id", "id", "records.0.name"),
          to: fc.constantFrom(...ids),
          input: fc.constantFrom("id", "data.name", "filter.id.$in")
        }),
        { maxLength: 6 }
      )
    }, { requiredKeys: ["nodes", "connections"] })
  )

  it("JSON round trip: toJson / fromJson and Schema.encode / decode give the workflow back exactly", () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: undefined }), arbitraryWorkflow, (name, shape) => {
        const workflow = (name === undefined ? shape : { name, ...shape }) as Workflow.Workflow
        const text = Workflow.toJson(workflow)
        expect(Effect.runSync(Workflow.fromJson(text))).toEqual(workflow)
        expect(Effect.runSync(Workflow.fromJson(JSON.parse(text)))).toEqual(workflow)
        const encoded = Schema.encodeSync(Workflow.schema)(workflow)
        expect(JSON.parse(JSON.stringify(encoded))).toEqual(JSON.parse(text))
        expect(Schema.decodeUnknownSync(Workflow.schema)(encoded)).toEqual(workflow)
      }),
      { numRuns: 200 }
    )
    const bad = Effect.runSync(Effect.flip(Workflow.fromJson(`{"nodes":[{"id":"a","type":1,"params":{}}],"connections":[]}`)))
    expect(bad).toMatchObject({ _tag: "WorkflowError", path: "nodes.0.type" })
    const notJson = Effect.runSync(Effect.flip(Workflow.fromJson("{")))
    expect(notJson._tag).toBe("WorkflowError")
  })
})
