/**
 * Composite primary keys (`primaryKey: ["followerId", "followingId"]`) through every node, on
 * every database and client: reads and writes by a key object, bad keys refused before any
 * SQL, the key's uniqueness, upserts and bulk nodes keyed by the whole key, pages ordered and
 * walked by cursor over every key column, optimistic locking, soft delete and tenancy.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { DataFlow, Json, Model, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const followFields = Schema.Struct({
  followerId: Schema.Int,
  followingId: Schema.Int,
  note: Schema.NullOr(Schema.String),
  score: Schema.Int
})

const Follow = () => Model.make("Follow", followFields, { table: uniqueTable("cpk_follows"), primaryKey: ["followerId", "followingId"] })

const VersionedFollow = () =>
  Model.make("Follow", followFields, { table: uniqueTable("cpk_vfollows"), primaryKey: ["followerId", "followingId"], versioned: true })

const SoftFollow = () =>
  Model.make("Follow", followFields, { table: uniqueTable("cpk_sfollows"), primaryKey: ["followerId", "followingId"], softDelete: true })

const Tagging = () =>
  Model.make("Tagging", Schema.Struct({
    articleId: Schema.String,
    tag: Schema.String,
    weight: Schema.Int
  }), { table: uniqueTable("cpk_taggings"), primaryKey: ["articleId", "tag"], tenantScoped: true })

const follow = (followerId: number, followingId: number, score = 0, note: string | null = null) => ({
  followerId,
  followingId,
  note,
  score
})

describe("composite primary keys: declaration", () => {
  it("refuses a key field that does not exist, twice named or optional", () => {
    const fields = Schema.Struct({ a: Schema.Int, b: Schema.Int, c: Schema.optional(Schema.Int) })
    expect(() => Model.make("X", fields, { primaryKey: ["a", "zz" as "b"] })).toThrow(/no field "zz"/)
    expect(() => Model.make("X", fields, { primaryKey: ["a", "a"] })).toThrow(/names a field twice/)
    expect(() => Model.make("X", fields, { primaryKey: ["a", "c"] })).toThrow(/cannot be optional/)
    expect(Model.make("X", fields, { primaryKey: ["a", "b"] }).primaryKey).toEqual(["a", "b"])
  })

  it.effect("Json.decodeId: an object of the key's fields, each decoded as its field", () =>
    Effect.gen(function*() {
      const F = Follow()
      expect(yield* Json.decodeId(F, { followerId: "1", followingId: 2 })).toEqual({ followerId: 1, followingId: 2 })
      expect(yield* Effect.flip(Json.decodeId(F, { followerId: 1 }))).toMatchObject({ _tag: "ValidationError", path: "followingId" })
      expect(yield* Effect.flip(Json.decodeId(F, { followerId: 1, followingId: "x" }))).toMatchObject({ path: "followingId" })
      expect(yield* Effect.flip(Json.decodeId(F, "1"))).toMatchObject({ _tag: "ValidationError", path: "" })
    }))
})

forEachDatabase("composite key", (it) => {
  it.effect("create, read, find by the key object; NotFound; UniqueViolation on a duplicate key", () =>
    Effect.gen(function*() {
      const F = Follow()
      const created = yield* F.create(follow(1, 2, 5, "hi"))
      expect(created).toMatchObject(follow(1, 2, 5, "hi"))
      yield* F.create(follow(2, 1))
      expect(yield* F.read({ followerId: 1, followingId: 2 })).toEqual(created)
      expect((yield* F.read({ followerId: 2, followingId: 1 })).score).toBe(0)
      expect(Option.isNone(yield* F.find({ followerId: 1, followingId: 3 }))).toBe(true)
      const missing = yield* Effect.flip(F.read({ followerId: 1, followingId: 3 }))
      expect(missing).toMatchObject({ _tag: "NotFound", id: "followerId=1,followingId=3" })
      const duplicate = yield* Effect.flip(F.create(follow(1, 2)))
      expect(duplicate).toMatchObject({ _tag: "UniqueViolation" })
      expect(duplicate._tag === "UniqueViolation" && [...duplicate.columns].sort()).toEqual(["followerId", "followingId"])
      // the key's fields are required on create: nothing generates them
      const noKey = yield* Effect.flip(F.create({ followerId: 1, note: null, score: 0 } as never))
      expect(noKey).toMatchObject({ _tag: "ValidationError", path: "followingId" })
      expect(yield* F.count()).toBe(2)
    }))

  it.effect("a bad key object is a ValidationError naming the field, before any SQL", () =>
    Effect.gen(function*() {
      const F = Follow()
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ followerId: 1 }, "followingId"],
        [{ followerId: 1, followingId: "2" }, "followingId"],
        [{ followerId: 1.5, followingId: 2 }, "followerId"],
        [{ followerId: 1, followingId: 2, note: "x" }, "note"],
        [{ followerId: 1, followingId: null }, "followingId"],
        [7, ""],
        [null, ""]
      ]
      for (const [key, path] of cases) {
        expect(yield* Effect.flip(F.read(key as never))).toMatchObject({ _tag: "ValidationError", path })
        expect(yield* Effect.flip(F.find(key as never))).toMatchObject({ _tag: "ValidationError", path })
        expect(yield* Effect.flip(F.delete(key as never))).toMatchObject({ _tag: "ValidationError", path })
        expect(yield* Effect.flip(F.update(key as never, { score: 1 }))).toMatchObject({ _tag: "ValidationError", path })
      }
      // the table was never needed: the checks run before the context
      expect(yield* F.count()).toBe(0)
    }))

  it.effect("update by the key object; a key field cannot be changed; delete", () =>
    Effect.gen(function*() {
      const F = Follow()
      yield* F.bulkCreate([follow(1, 2), follow(1, 3), follow(2, 2)])
      const updated = yield* F.update({ followerId: 1, followingId: 3 }, { note: "x", score: 4 })
      expect(updated).toMatchObject(follow(1, 3, 4, "x"))
      expect((yield* F.read({ followerId: 1, followingId: 2 })).score).toBe(0)
      const inc = yield* F.update({ followerId: 1, followingId: 3 }, { score: { $increment: 2 } })
      expect(inc.score).toBe(6)
      const keyChange = yield* Effect.flip(F.update({ followerId: 1, followingId: 3 }, { followingId: 9 } as never))
      expect(keyChange).toMatchObject({ _tag: "ValidationError", path: "followingId", reason: "the primary key cannot be changed" })
      const absent = yield* Effect.flip(F.update({ followerId: 9, followingId: 9 }, { score: 1 }))
      expect(absent).toMatchObject({ _tag: "NotFound", id: "followerId=9,followingId=9" })
      expect(yield* F.delete({ followerId: 1, followingId: 3 })).toEqual({ deleted: true })
      expect(yield* F.delete({ followerId: 1, followingId: 3 })).toEqual({ deleted: false })
      expect((yield* F.list()).records.map((r) => [r.followerId, r.followingId])).toEqual([[1, 2], [2, 2]])
    }))

  it.effect("readBy / findBy with the primary key's fields", () =>
    Effect.gen(function*() {
      const F = Follow()
      yield* F.create(follow(4, 5, 1))
      expect((yield* F.readBy({ followingId: 5, followerId: 4 })).score).toBe(1)
      expect(Option.isNone(yield* F.findBy({ followerId: 5, followingId: 4 }))).toBe(true)
      expect((yield* Effect.flip(F.readBy({ followerId: 4 } as never)))._tag).toBe("ValidationError")
    }))

  it.effect("versioned: optimistic locking by the key object", () =>
    Effect.gen(function*() {
      const F = VersionedFollow()
      const a = yield* F.create(follow(1, 2))
      expect(a.version).toBe(1)
      const b = yield* F.update({ followerId: 1, followingId: 2 }, { score: 1 }, { expectedVersion: 1 })
      expect(b.version).toBe(2)
      const stale = yield* Effect.flip(F.update({ followerId: 1, followingId: 2 }, { score: 2 }, { expectedVersion: 1 }))
      expect(stale).toMatchObject({ _tag: "OptimisticLockError", id: "followerId=1,followingId=2", expectedVersion: 1 })
    }))

  it.effect("soft delete: delete stamps, restore brings back, upsert revives under the same key", () =>
    Effect.gen(function*() {
      const F = SoftFollow()
      yield* F.create(follow(1, 2, 3))
      expect(yield* F.delete({ followerId: 1, followingId: 2 })).toEqual({ deleted: true })
      expect(Option.isNone(yield* F.find({ followerId: 1, followingId: 2 }))).toBe(true)
      expect((yield* F.read({ followerId: 1, followingId: 2 }, { includeDeleted: true })).deletedAt).not.toBeNull()
      expect(yield* F.restore({ followerId: 1, followingId: 2 })).toEqual({ restored: true })
      expect((yield* F.read({ followerId: 1, followingId: 2 })).score).toBe(3)
      yield* F.delete({ followerId: 1, followingId: 2 })
      const revived = yield* F.upsert({ create: follow(1, 2, 7), update: { score: 8 } })
      expect(revived.created).toBe(true)
      expect(revived.record).toMatchObject({ ...follow(1, 2, 7), deletedAt: null })
    }))

  it.effect("upsert and createIgnore: the conflict target is the whole key", () =>
    Effect.gen(function*() {
      const F = Follow()
      const first = yield* F.upsert({ create: follow(1, 2, 1), update: { score: 10 } })
      expect(first.created).toBe(true)
      const second = yield* F.upsert({ create: follow(1, 2, 1), update: { score: 10 } })
      expect(second).toMatchObject({ created: false, record: follow(1, 2, 10) })
      const other = yield* F.upsert({ create: follow(1, 3, 1), update: { score: 10 } })
      expect(other.created).toBe(true)
      const byWhere = yield* F.upsert({ where: { followerId: 1, followingId: 3 }, create: { note: null, score: 0 }, update: { note: "w" } })
      expect(byWhere).toMatchObject({ created: false, record: follow(1, 3, 1, "w") })
      const kept = yield* F.createIgnore(follow(1, 2, 99))
      expect(kept).toMatchObject({ created: false, record: follow(1, 2, 10) })
      const made = yield* F.createIgnore(follow(2, 1, 99))
      expect(made).toMatchObject({ created: true, record: follow(2, 1, 99) })
      // a part of the key is no conflict target
      expect((yield* Effect.flip(F.upsert({ create: follow(1, 2), conflictOn: ["followerId"] })))._tag).toBe("ConflictTargetError")
      expect(yield* F.count()).toBe(3)
    }))

  it.effect("bulkCreate (records, skipped conflicts), bulkUpdate by key objects, bulkDelete, bulkUpsert", () =>
    Effect.gen(function*() {
      const F = Follow()
      const made = yield* F.bulkCreate([follow(1, 1), follow(1, 2), follow(2, 1)], { returnRecords: true })
      expect(made.records!.map((r) => [r.followerId, r.followingId])).toEqual([[1, 1], [1, 2], [2, 1]])
      const skipped = yield* F.bulkCreate([follow(1, 1, 9), follow(3, 3)], { onConflict: "skip" })
      expect(skipped).toEqual({ inserted: 1, skipped: 1 })
      expect((yield* Effect.flip(F.bulkCreate([follow(5, 5), follow(5, 5)])))._tag).toBe("UniqueViolation")
      const updated = yield* F.bulkUpdate([
        { id: { followerId: 1, followingId: 1 }, patch: { score: 5 } },
        { key: { followingId: 2, followerId: 1 }, patch: { note: "k" } },
        { id: { followerId: 2, followingId: 1 }, patch: { score: { $increment: 3 } } },
        { id: { followerId: 8, followingId: 8 }, patch: { score: 1 } }
      ])
      expect(updated).toEqual({ updated: 3, missing: [{ followerId: 8, followingId: 8 }] })
      const badItem = yield* Effect.flip(F.bulkUpdate([{ id: { followerId: 1 } as never, patch: { score: 1 } }]))
      expect(badItem).toMatchObject({ _tag: "ValidationError", path: "id.followingId", rowIndex: 0 })
      expect((yield* F.read({ followerId: 1, followingId: 1 })).score).toBe(5)
      expect((yield* F.read({ followerId: 1, followingId: 2 })).note).toBe("k")
      expect((yield* F.read({ followerId: 2, followingId: 1 })).score).toBe(3)
      expect(yield* F.bulkUpdate({ followerId: 1 }, { score: { $multiply: 2 } })).toEqual({ updated: 2 })
      expect((yield* F.read({ followerId: 1, followingId: 1 })).score).toBe(10)
      const upserted = yield* F.bulkUpsert([follow(1, 1, 100), follow(4, 4, 4), follow(4, 4, 44)], { returnRecords: true })
      expect({ inserted: upserted.inserted, updated: upserted.updated }).toEqual({ inserted: 1, updated: 1 })
      expect(upserted.records!.map((r) => r.score)).toEqual([100, 44])
      expect(yield* F.bulkDelete({ followerId: { $in: [1, 2] } })).toEqual({ deleted: 3 })
      expect((yield* F.list()).records.map((r) => [r.followerId, r.followingId])).toEqual([[3, 3], [4, 4]])
    }))

  it.effect("list: ordered by the key's columns by default; a cursor walk over both key columns", () =>
    Effect.gen(function*() {
      const F = Follow()
      const rows = []
      for (let a = 3; a >= 1; a--) for (let b = 4; b >= 1; b--) rows.push(follow(a, b, (a * 7 + b * 3) % 4))
      yield* F.bulkCreate(rows)
      const byKey = [...rows].sort((x, y) => x.followerId - y.followerId || x.followingId - y.followingId)
      expect((yield* F.list()).records.map((r) => [r.followerId, r.followingId])).toEqual(
        byKey.map((r) => [r.followerId, r.followingId])
      )
      // by score descending, ties broken by the whole key ascending
      const expected = [...rows].sort((x, y) => y.score - x.score || x.followerId - y.followerId || x.followingId - y.followingId)
      const seen: Array<readonly [number, number]> = []
      let cursor: string | undefined
      for (let page = 0; page < 10; page++) {
        const result = yield* F.list({ orderBy: ["-score"], limit: 5, ...(cursor === undefined ? {} : { cursor }) })
        for (const r of result.records) seen.push([r.followerId, r.followingId])
        cursor = result.nextCursor
        if (cursor === undefined) break
      }
      expect(seen).toEqual(expected.map((r) => [r.followerId, r.followingId]))
      // the same walk in key order, filtered
      const walked: Array<readonly [number, number]> = []
      cursor = undefined
      do {
        const result: { readonly records: ReadonlyArray<{ readonly followerId: number; readonly followingId: number }>; readonly nextCursor?: string } =
          yield* F.list({ where: { followingId: { $gt: 1 } }, limit: 2, ...(cursor === undefined ? {} : { cursor }) })
        for (const r of result.records) walked.push([r.followerId, r.followingId])
        cursor = result.nextCursor
      } while (cursor !== undefined)
      expect(walked).toEqual(byKey.filter((r) => r.followingId > 1).map((r) => [r.followerId, r.followingId]))
      expect(yield* F.count({ followerId: 2 })).toBe(4)
    }))

  it.effect("tenancy: the same key in two tenants are two records; each tenant sees its own", () =>
    Effect.gen(function*() {
      const T = Tagging()
      const acme = Tenant.with("acme")
      const globex = Tenant.with("globex")
      yield* T.create({ articleId: "a1", tag: "x", weight: 1 }).pipe(acme)
      yield* T.create({ articleId: "a1", tag: "x", weight: 2 }).pipe(globex)
      expect((yield* T.read({ articleId: "a1", tag: "x" }).pipe(acme)).weight).toBe(1)
      expect((yield* T.read({ articleId: "a1", tag: "x" }).pipe(globex)).weight).toBe(2)
      expect((yield* Effect.flip(T.create({ articleId: "a1", tag: "x", weight: 3 }).pipe(acme)))._tag).toBe("UniqueViolation")
      yield* T.update({ articleId: "a1", tag: "x" }, { weight: 10 }).pipe(acme)
      expect((yield* T.read({ articleId: "a1", tag: "x" }).pipe(globex)).weight).toBe(2)
      expect(yield* T.bulkUpsert([{ articleId: "a1", tag: "x", weight: 20 }, { articleId: "a2", tag: "x", weight: 1 }]).pipe(globex))
        .toEqual({ inserted: 1, updated: 1 })
      expect(yield* T.upsert({ create: { articleId: "a2", tag: "y", weight: 5 }, update: { weight: 6 } }).pipe(acme))
        .toMatchObject({ created: true })
      expect(yield* T.delete({ articleId: "a1", tag: "x" }).pipe(acme)).toEqual({ deleted: true })
      expect(Option.isNone(yield* T.find({ articleId: "a1", tag: "x" }).pipe(acme))).toBe(true)
      expect((yield* T.list().pipe(globex)).records.map((r) => [r.articleId, r.tag, r.weight])).toEqual([["a1", "x", 20], ["a2", "x", 1]])
      expect(yield* T.count().pipe(acme)).toBe(1)
    }))

  it.effect("a key of a date and a text: upserts, key-form arithmetic updates, returned records, cursors", () =>
    Effect.gen(function*() {
      const Daily = Model.make("Daily", Schema.Struct({
        day: Schema.DateFromSelf,
        region: Schema.String,
        hits: Schema.Int
      }), { table: uniqueTable("cpk_daily"), primaryKey: ["day", "region"] })
      const day = (d: number) => new Date(Date.UTC(2024, 0, d, 12, 30, 15, 250))
      const made = yield* Daily.bulkCreate([
        { day: day(2), region: "eu", hits: 1 },
        { day: day(1), region: "us", hits: 2 },
        { day: day(1), region: "eu", hits: 3 }
      ], { returnRecords: true })
      expect(made.records!.map((r) => [r.day.toISOString(), r.region])).toEqual([
        [day(2).toISOString(), "eu"],
        [day(1).toISOString(), "us"],
        [day(1).toISOString(), "eu"]
      ])
      expect((yield* Daily.read({ day: day(1), region: "us" })).hits).toBe(2)
      const up = yield* Daily.upsert({ create: { day: day(1), region: "us", hits: 0 }, update: { hits: { $increment: 5 } } })
      expect(up).toMatchObject({ created: false, record: { region: "us", hits: 7 } })
      expect(yield* Daily.bulkUpdate([{ key: { region: "eu", day: day(2) }, patch: { hits: { $increment: 10 } } }]))
        .toEqual({ updated: 1, missing: [] })
      expect((yield* Daily.read({ day: day(2), region: "eu" })).hits).toBe(11)
      expect(yield* Daily.bulkUpdate({ region: "eu" }, { hits: { $multiply: 2 } })).toEqual({ updated: 2 })
      const walked: Array<readonly [string, string, number]> = []
      let cursor: string | undefined
      do {
        const page: { readonly records: ReadonlyArray<{ readonly day: Date; readonly region: string; readonly hits: number }>; readonly nextCursor?: string } =
          yield* Daily.list({ limit: 1, ...(cursor === undefined ? {} : { cursor }) })
        for (const r of page.records) walked.push([r.day.toISOString(), r.region, r.hits])
        cursor = page.nextCursor
      } while (cursor !== undefined)
      expect(walked).toEqual([
        [day(1).toISOString(), "eu", 6],
        [day(1).toISOString(), "us", 7],
        [day(2).toISOString(), "eu", 22]
      ])
    }))

  it.effect("the schema policies: a second declaration finds the composite key it made (auto and existing)", () =>
    Effect.gen(function*() {
      const table = uniqueTable("cpk_policy")
      const declare = () => Model.make("Follow", followFields, { table, primaryKey: ["followerId", "followingId"] })
      yield* declare().create(follow(1, 2))
      // a new definition of the same table introspects the live one and compares its key
      expect((yield* declare().read({ followerId: 1, followingId: 2 }).pipe(Effect.provide(DataFlow.schemaPolicy("existing"))))
        .followingId).toBe(2)
      expect(yield* declare().count().pipe(Effect.provide(DataFlow.schemaPolicy("auto")))).toBe(1)
      // a model keyed differently on that table is refused, not silently used
      const other = Model.make("Follow", followFields, { table, primaryKey: ["followingId", "followerId"] })
      expect((yield* Effect.flip(other.count().pipe(Effect.provide(DataFlow.schemaPolicy("existing")))))._tag).toBe("SchemaMismatch")
    }))

  it.effect("a join model: a composite key of two belongsTo relations; include and relation filters both ways", () =>
    Effect.gen(function*() {
      const userFields = Schema.Struct({ id: Schema.Int, name: Schema.String })
      const User = Model.make("User", userFields, { table: uniqueTable("cpk_users") })
      const Link = Model.make("Link", Schema.Struct({ followerId: Schema.Int, followingId: Schema.Int }), {
        table: uniqueTable("cpk_links"),
        primaryKey: ["followerId", "followingId"],
        relations: {
          follower: Model.belongsTo(() => User, { foreignKey: "followerId", onDelete: "cascade" }),
          followed: Model.belongsTo(() => User, { foreignKey: "followingId", onDelete: "cascade" })
        }
      })
      // the same table seen from the other side (declared after Link: no cycle for the types)
      const Follower = Model.make("User", userFields, {
        table: User.table,
        relations: { following: Model.hasMany(() => Link, { foreignKey: "followerId" }) }
      })
      const ada = yield* User.create({ name: "ada" })
      const bob = yield* User.create({ name: "bob" })
      const cy = yield* User.create({ name: "cy" })
      yield* Link.bulkCreate([
        { followerId: ada.id, followingId: bob.id },
        { followerId: ada.id, followingId: cy.id },
        { followerId: bob.id, followingId: ada.id }
      ])
      const links = (yield* Link.list({ include: { follower: true, followed: true } })).records
      expect(links.map((l) => [l.follower?.name, l.followed?.name])).toEqual([["ada", "bob"], ["ada", "cy"], ["bob", "ada"]])
      const users = (yield* Follower.list({ include: { following: true } })).records
      expect(users.map((u) => u.following.length)).toEqual([2, 1, 0])
      expect((yield* Link.list({ where: { followed: { name: "ada" } } })).records).toHaveLength(1)
      // a nested create: the children's part of the key is set by the parent
      const dee = yield* Follower.create({ name: "dee", following: { create: [{ followingId: ada.id }, { followingId: bob.id }] } })
      expect(dee.following.map((l) => [l.followerId, l.followingId])).toEqual([[dee.id, ada.id], [dee.id, bob.id]])
      const twice = yield* Effect.flip(Follower.create({ name: "eve", following: { create: [{ followingId: ada.id }, { followingId: ada.id }] } }))
      expect(twice._tag).toBe("UniqueViolation")
      expect(yield* Follower.count({ name: "eve" })).toBe(0)
      yield* Link.bulkDelete({ followerId: dee.id })
      // a foreign key: a link to a user that does not exist is refused; deleting a user cascades
      expect((yield* Effect.flip(Link.create({ followerId: ada.id, followingId: 999999 })))._tag).toBe("ForeignKeyViolation")
      yield* User.delete(cy.id)
      expect(yield* Link.count()).toBe(2)
    }))

  it.effect("a relation to a composite key by one field is refused with a ConfigurationError (test/composite-relations: by all)", () =>
    Effect.gen(function*() {
      const F = Follow()
      const Mention = Model.make("Mention", Schema.Struct({ id: Schema.Int, followerId: Schema.Int }), {
        table: uniqueTable("cpk_mentions"),
        // @ts-expect-error a composite key is referred to by as many fields
        relations: { follow: Model.belongsTo(() => F, { foreignKey: "followerId" }) }
      })
      const error = yield* Effect.flip(Mention.list({ include: { follow: true } }))
      expect(error._tag).toBe("ConfigurationError")
      expect(error.message).toMatch(/Mention\.followerId cannot refer to Follow\.\(followerId, followingId\)/)
      // a unique constraint of a composite-keyed model can be referred to
      const Membership = Model.make(
        "Membership",
        Schema.Struct({ orgId: Schema.Int, userId: Schema.Int, code: Schema.String }),
        { table: uniqueTable("cpk_memberships"), primaryKey: ["orgId", "userId"], unique: ["code"] }
      )
      const Invite = Model.make("Invite", Schema.Struct({ id: Schema.Int, code: Schema.String }), {
        table: uniqueTable("cpk_invites"),
        relations: { membership: Model.belongsTo(() => Membership, { foreignKey: "code", references: ["code"] }) }
      })
      yield* Membership.create({ orgId: 1, userId: 2, code: "m1" })
      yield* Invite.create({ code: "m1" })
      const [invite] = (yield* Invite.list({ include: { membership: true } })).records
      expect(invite!.membership).toMatchObject({ orgId: 1, userId: 2, code: "m1" })
    }))
})
