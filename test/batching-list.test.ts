import { describe, expect, it as plainIt } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { Effect, Either, FastCheck as fc, Schema } from "effect"
import { DataFlow, Model, Relation, Tenant } from "../src/index.js"
import { definitionOf } from "../src/internal/model/definition.js"
import { byOneField } from "../src/internal/nodes/batchList.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { selects } from "./support/pipeline.js"

const makeComment = (options: { readonly softDelete?: boolean; readonly tenantScoped?: boolean } = {}) =>
  Model.make(
    "Comment",
    Schema.Struct({
      id: Schema.Int,
      postId: Schema.Int,
      rank: Schema.Int,
      author: Schema.String.pipe(Schema.maxLength(20)),
      note: Schema.NullOr(Schema.String.pipe(Schema.maxLength(20)))
    }),
    { table: uniqueTable("batch_comments"), ...options }
  )

/** The same effect with request batching off: the plain lists, one after another. */
const plain = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.provideService(self, Relation.RequestBatching, false)

/**
 * Comments of posts 1..12: post p has (p * 7) % 5 comments (posts 5 and 10 none), ranks with
 * ties (rank = i % 2), authors of different case, some notes NULL.
 */
const seed = (Comment: ReturnType<typeof makeComment>) =>
  Comment.bulkCreate(
    Array.from({ length: 12 }, (_, p) => p + 1).flatMap((postId) =>
      Array.from({ length: (postId * 7) % 5 }, (_, i) => ({
        postId,
        rank: i % 2,
        author: i % 3 === 0 ? "ann" : i % 3 === 1 ? "Ann" : "bob",
        note: i % 2 === 0 ? null : `n${i}`
      }))
    ).reverse()
  )

const posts = [3, 1, 5, 12, 7, 99, 2, 3, 10, 8]

forEachDatabase("batching lists", (it_) => {
  // batching is opt-in: every test runs with it on
  const it = {
    effect: <A, E>(name: string, body: () => Effect.Effect<A, E, SqlClient.SqlClient>) => it_.effect(name, () => Relation.batched(body()))
  }

  it.effect("concurrent lists by a foreign key: one statement, each caller the records of its plain list", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      // the two forms of one equality, a post with no comments, one never written, a duplicate
      const list = (postId: number, i: number) =>
        Comment.list({ where: i % 2 === 0 ? { postId } : { postId: { $eq: postId } } })
      const batched = yield* selects(Effect.forEach(posts, list, { batching: true }))
      expect(batched.count).toBe(1)
      const oneByOne = yield* plain(Effect.forEach(posts, list))
      expect(batched.value).toEqual(oneByOne)
      expect(batched.value.map((r) => r.records.length)).toEqual([1, 2, 0, 4, 4, 0, 4, 1, 0, 1])
      expect(batched.value[0]!.records.every((c) => c.postId === 3)).toBe(true)
    }))

  it.effect("many parents (a long IN list, one parameter): with and without pages", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      const many = Array.from({ length: 60 }, (_, i) => 60 - i)
      for (const query of [{}, { orderBy: ["-rank"], limit: 2, offset: 1 }, { orderBy: ["rank"], offset: 1 }] as const) {
        const list = (postId: number) => Comment.list({ ...query, where: { postId } })
        const batched = yield* selects(Effect.forEach(many, list, { batching: true }))
        expect(batched.count).toBe(1)
        expect(batched.value).toEqual(yield* plain(Effect.forEach(many, list)))
      }
    }))

  it.effect("orders with ties, limits and offsets: each caller exactly its page and its cursor", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      const queries = [
        { orderBy: ["-rank"] },
        { orderBy: ["rank", "-id"], limit: 2 },
        { orderBy: ["-rank"], limit: 1, offset: 1 },
        { orderBy: ["note"], offset: 2 },
        { orderBy: ["-note", "author"], limit: 0 },
        { limit: 3, select: ["author"] },
        { orderBy: ["author"], limit: 2, select: ["id", "note"] }
      ] as const
      for (const query of queries) {
        const list = (postId: number) => Comment.list({ ...query, where: { postId } })
        const batched = yield* selects(Effect.forEach(posts, list, { batching: true }))
        expect(batched.count, JSON.stringify(query)).toBe(1)
        expect(batched.value, JSON.stringify(query)).toEqual(yield* plain(Effect.forEach(posts, list)))
      }
      // a batched page's cursor continues where the plain list's would
      const first = yield* Effect.forEach(posts, (postId) => Comment.list({ where: { postId }, orderBy: ["-rank"], limit: 1 }), {
        batching: true
      })
      const cursor = first[3]!.nextCursor
      expect(cursor).toBeDefined()
      const next = yield* Comment.list({ where: { postId: 12 }, orderBy: ["-rank"], limit: 10, cursor: cursor! })
      expect([...first[3]!.records, ...next.records]).toEqual((yield* Comment.list({ where: { postId: 12 }, orderBy: ["-rank"] })).records)
    }))

  it.effect("findFirst by one field is a batched list of one", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      const first = (postId: number) => Comment.findFirst({ postId }, { orderBy: ["-rank", "author"] })
      const batched = yield* selects(Effect.forEach(posts, first, { batching: true }))
      expect(batched.count).toBe(1)
      expect(batched.value).toEqual(yield* plain(Effect.forEach(posts, first)))
      expect(batched.value.map((o) => o._tag)).toEqual(["Some", "Some", "None", "Some", "Some", "None", "Some", "Some", "None", "Some"])
    }))

  it.effect("findBy / readBy of a one-field unique key are a batched list; a bad or missing key fails its own caller", () =>
    Effect.gen(function*() {
      const User = Model.make(
        "User",
        Schema.Struct({ id: Schema.Int, email: Schema.String.pipe(Schema.maxLength(40)), name: Schema.String.pipe(Schema.maxLength(20)) }),
        { table: uniqueTable("batch_users"), unique: ["email"], softDelete: true }
      )
      const users = (yield* User.bulkCreate(["a", "b", "c", "d"].map((n) => ({ email: `${n}@x.io`, name: n })), { returnRecords: true })).records
      yield* User.delete(users[3]!.id)
      const emails = ["c@x.io", "a@x.io", "zz@x.io", "a@x.io", "d@x.io", "B@x.io", "b@x.io"]
      const find = (email: string) => User.findBy({ email })
      const batched = yield* selects(Effect.forEach(emails, find, { batching: true }))
      expect(batched.count).toBe(1)
      expect(batched.value).toEqual(yield* plain(Effect.forEach(emails, find)))
      expect(batched.value.map((o) => o._tag)).toEqual(["Some", "Some", "None", "Some", "None", "None", "Some"])
      // with the deleted, by id, and readBy: NotFound to its own caller only
      const deleted = yield* selects(Effect.forEach(["d@x.io", "a@x.io"], (email) => User.findBy({ email }, { includeDeleted: true }), { batching: true }))
      expect(deleted.count).toBe(1)
      expect(deleted.value.map((o) => o._tag)).toEqual(["Some", "Some"])
      const reads = yield* selects(Effect.forEach(
        [users[0]!.id, 999, users[2]!.id],
        (id) => Effect.either(User.readBy({ id })),
        { batching: true }
      ))
      expect(reads.count).toBe(1)
      expect(reads.value.map((e) => Either.isRight(e) ? e.right.name : e.left._tag)).toEqual(["a", "NotFound", "c"])
      expect(Either.isLeft(reads.value[1]!) && reads.value[1].left).toMatchObject({ operation: "readBy", model: "User" })
      // a value the field does not take, a field that is no unique key: the node's own error
      const bad = yield* Effect.forEach(
        [User.findBy({ email: 42 } as never), User.findBy({ name: "a" } as never), User.findBy({ email: "a@x.io" })],
        Effect.either,
        { batching: true }
      )
      expect(bad.map((e) => (Either.isLeft(e) ? `${e.left._tag}:${(e.left as { operation?: string }).operation}` : "ok"))).toEqual([
        "ValidationError:findBy",
        "ValidationError:findBy",
        "ok"
      ])
    }))

  it.effect("one statement per shape; a string field routes values of another case apart", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      const calls = Effect.all([
        Comment.list({ where: { postId: 1 } }),
        Comment.list({ where: { postId: 2 }, limit: 1 }),
        Comment.list({ where: { postId: 3 } }),
        Comment.list({ where: { postId: 4 }, limit: 1 }),
        Comment.list({ where: { author: "ann" }, orderBy: ["id"] }),
        Comment.list({ where: { author: "Ann" }, orderBy: ["id"] }),
        Comment.list({ where: { author: "ANN" }, orderBy: ["id"] })
      ], { batching: true })
      const batched = yield* selects(calls)
      expect(batched.count).toBe(3)
      expect(batched.value).toEqual(yield* plain(calls))
      expect(batched.value[6]!.records).toEqual([])
      expect(new Set(batched.value[4]!.records.map((c) => c.author))).toEqual(new Set(["ann"]))
    }))

  it.effect("rows routed by booleans, dates and bigints as the database reads them back", () =>
    Effect.gen(function*() {
      const Event = Model.make(
        "Event",
        Schema.Struct({ id: Schema.Int, flag: Schema.Boolean, at: Schema.DateFromSelf, big: Schema.BigIntFromSelf }),
        { table: uniqueTable("batch_events"), timestamps: false }
      )
      const at = (i: number) => new Date(Date.UTC(2024, 0, 1 + (i % 3), 0, 0, 0, 7 * i))
      yield* Event.bulkCreate(Array.from({ length: 9 }, (_, i) => ({ flag: i % 2 === 0, at: at(i % 4), big: 9007199254740993n + BigInt(i % 3) })))
      const calls = Effect.all([
        Event.list({ where: { flag: true } }),
        Event.list({ where: { flag: false } }),
        ...[0, 1, 2, 3, 5].map((i) => Event.list({ where: { at: at(i) } })),
        ...[0n, 1n, 2n, 7n].map((d) => Event.list({ where: { big: 9007199254740993n + d } }))
      ], { batching: true })
      const batched = yield* selects(calls)
      expect(batched.count).toBe(3)
      expect(batched.value).toEqual(yield* plain(calls))
      expect(batched.value.map((r) => r.records.length)).toEqual([5, 4, 3, 2, 2, 2, 0, 3, 3, 3, 0])
    }))

  it.effect("a composite primary key: lists by one of its fields batch, ordered by the whole key", () =>
    Effect.gen(function*() {
      const Follow = Model.make("Follow", Schema.Struct({ followerId: Schema.Int, followingId: Schema.Int, rank: Schema.Int }), {
        table: uniqueTable("batch_follows"),
        primaryKey: ["followerId", "followingId"]
      })
      yield* Follow.bulkCreate(Array.from({ length: 20 }, (_, i) => ({ followerId: i % 4, followingId: 20 - i, rank: i % 2 })))
      const list = (followerId: number) => Follow.list({ where: { followerId }, orderBy: ["rank"], limit: 3 })
      const batched = yield* selects(Effect.forEach([0, 1, 2, 3, 4], list, { batching: true }))
      expect(batched.count).toBe(1)
      expect(batched.value).toEqual(yield* plain(Effect.forEach([0, 1, 2, 3, 4], list)))
    }))

  it.effect("random lists: the batched pages equal the plain ones", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      const field = fc.constantFrom("id", "postId", "rank", "author", "note", "createdAt")
      const query = fc.record({
        orderBy: fc.option(fc.uniqueArray(fc.tuple(field, fc.boolean()).map(([f, desc]) => (desc ? `-${f}` : f)), { maxLength: 3 }), {
          nil: undefined
        }),
        limit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
        offset: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined })
      }, { requiredKeys: [] })
      const cases = fc.sample(fc.tuple(query, fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 2, maxLength: 12 })), {
        numRuns: 25,
        seed: 13
      })
      for (const [q, postIds] of cases) {
        const list = (postId: number) => Comment.list({ ...q, where: { postId } } as { where: { postId: number } })
        const batched = yield* selects(Effect.forEach(postIds, list, { batching: true }))
        expect(batched.count, JSON.stringify([q, postIds])).toBe(1)
        expect(batched.value, JSON.stringify([q, postIds])).toEqual(yield* plain(Effect.forEach(postIds, list)))
      }
    }))

  it.effect("other lists run as they do: a cursor, a total, other filters, a lone list, an invalid value", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      const { nextCursor } = yield* Comment.list({ where: { postId: 4 }, limit: 1 })
      const calls = Effect.all([
        Comment.list({ where: { postId: 4 }, limit: 1, cursor: nextCursor! }),
        Comment.list({ where: { postId: 2 }, total: true }),
        Comment.list({ where: { postId: { $in: [1, 2] } } }),
        Comment.list({ where: { postId: 1, rank: 0 } }),
        Comment.list({ where: { note: null } }),
        Comment.list({ where: { postId: { $gt: 11 } } })
      ], { batching: true })
      const batched = yield* selects(calls)
      expect(batched.count).toBe(6)
      expect(batched.value).toEqual(yield* plain(calls))

      const alone = yield* selects(Effect.all([Comment.list({ where: { postId: 4 } }), Comment.list({ where: { postId: 4 } })], {
        batching: true
      }))
      expect(alone.count).toBe(1)
      expect(alone.value[0]!.records.length).toBe(3)
      expect(alone.value[1]).toEqual(alone.value[0])

      // a value the field does not take fails its caller alone, with the plain list's error
      const withBad = yield* Effect.all([
        Comment.list({ where: { postId: 1 } }),
        Effect.either(Comment.list({ where: { postId: "x" as unknown as number } })),
        Comment.list({ where: { postId: 2 } })
      ], { batching: true })
      expect(withBad[0].records.length).toBe(2)
      expect(Either.isLeft(withBad[1]) && withBad[1].left._tag).toBe("InvalidFilter")
      expect(withBad[2].records.length).toBe(4)
      const badOrder = yield* Effect.all(
        [1, 2].map((postId) => Effect.either(Comment.list({ where: { postId }, orderBy: ["nope" as "id"] }))),
        { batching: true }
      )
      expect(badOrder.map((e) => Either.isLeft(e) && e.left._tag)).toEqual(["ValidationError", "ValidationError"])
    }))

  it.effect("soft delete: includeDeleted is part of the shape", () =>
    Effect.gen(function*() {
      const Comment = makeComment({ softDelete: true })
      yield* seed(Comment)
      const firstOf2 = (yield* Comment.list({ where: { postId: 2 } })).records[0]!
      yield* Comment.delete(firstOf2.id)
      const calls = Effect.all([
        Comment.list({ where: { postId: 2 } }),
        Comment.list({ where: { postId: 3 } }),
        Comment.list({ where: { postId: 2 }, includeDeleted: true }),
        Comment.list({ where: { postId: 3 }, includeDeleted: true })
      ], { batching: true })
      const batched = yield* selects(calls)
      expect(batched.count).toBe(2)
      expect(batched.value.map((r) => r.records.length)).toEqual([3, 1, 4, 1])
      expect(batched.value).toEqual(yield* plain(calls))
    }))

  it.effect("a batch inside a transaction reads on its connection (its uncommitted rows)", () =>
    Effect.gen(function*() {
      const Comment = makeComment()
      yield* seed(Comment)
      // the create's read-back on MySQL is not the batch's: count the batch's statements alone
      const { count, value } = yield* Effect.gen(function*() {
        yield* Comment.create({ postId: 5, rank: 9, author: "new", note: null })
        return yield* selects(Effect.forEach([5, 1, 10], (postId) => Comment.list({ where: { postId }, limit: 5 }), { batching: true }))
      }).pipe(DataFlow.transaction())
      expect(count).toBe(1)
      expect(value.map((r) => r.records.map((c) => c.author))).toEqual([["new"], ["Ann", "ann"], []])
    }))

  it.effect("tenants never share a batch; batching can be switched off", () =>
    Effect.gen(function*() {
      const Comment = makeComment({ tenantScoped: true })
      yield* seed(Comment).pipe(Tenant.with("a"))
      yield* Comment.create({ postId: 1, rank: 0, author: "b1", note: null }).pipe(Tenant.with("b"))
      const lists = Effect.all([
        Comment.list({ where: { postId: 1 } }).pipe(Tenant.with("a")),
        Comment.list({ where: { postId: 1 } }).pipe(Tenant.with("b")),
        Comment.list({ where: { postId: 2 } }).pipe(Tenant.with("a")),
        Comment.list({ where: { postId: 2 } }).pipe(Tenant.with("b"))
      ], { batching: true })
      const { count, value } = yield* selects(lists)
      expect(value.map((r) => r.records.length)).toEqual([2, 1, 4, 0])
      expect(value[1]!.records[0]!.author).toBe("b1")
      expect(value).toEqual(yield* plain(lists))
      // each tenant its own batch: one statement per tenant
      expect(count).toBe(2)

      const inA = Effect.forEach([1, 2, 3], (postId) => Comment.list({ where: { postId } }), { batching: true }).pipe(Tenant.with("a"))
      expect((yield* selects(inA)).count).toBe(1)
      expect((yield* selects(plain(inA))).count).toBe(3)
    }))
})

describe("which lists batch", () => {
  const def = definitionOf(makeComment())
  const Priced = Model.make(
    "Priced",
    Schema.Struct({ id: Schema.Int, price: Schema.BigDecimal, weight: Schema.Number, meta: Schema.Struct({ a: Schema.String }) })
  )
  plainIt("one equality on one column, plain or $eq; the rest of the query is its shape", () => {
    expect(byOneField(def, { where: { postId: 1 } })).toEqual({ field: "postId", value: 1, shape: `["postId",null,null,false,null,null]` })
    expect(byOneField(def, { where: { postId: { $eq: 2 } }, orderBy: ["-rank"], limit: 3, offset: 1, select: ["id"] })).toEqual({
      field: "postId",
      value: 2,
      shape: `["postId",["-rank"],["id"],false,3,1]`
    })
    const at = new Date(0)
    expect(byOneField(def, { where: { createdAt: at }, includeDeleted: true })?.shape).toBe(
      `["createdAt",null,null,true,null,null]`
    )
    expect(byOneField(def, { where: { author: "ann" }, include: undefined })?.value).toBe("ann")
  })
  plainIt("anything else runs the plain list", () => {
    const others: ReadonlyArray<unknown> = [
      undefined,
      {},
      { where: { postId: 1 }, cursor: "c" },
      { where: { postId: 1 }, total: true },
      { where: { postId: 1, rank: 0 } },
      { where: { postId: null } },
      { where: { postId: { $in: [1] } } },
      { where: { postId: { $eq: 1, $ne: 2 } } },
      { where: { $or: [{ postId: 1 }] } },
      { where: { nope: 1 } },
      { where: { postId: 1 }, limit: -1 },
      { where: { postId: 1 }, orderBy: "id" },
      { where: { postId: 1 }, includeDeleted: "yes" }
    ]
    for (const query of others) expect(byOneField(def, query), JSON.stringify(query)).toBeUndefined()
    const priced = definitionOf(Priced)
    for (const where of [{ price: "1.5" }, { weight: 1.5 }, { meta: { a: "x" } }]) {
      expect(byOneField(priced, { where }), JSON.stringify(where)).toBeUndefined()
    }
  })
})
