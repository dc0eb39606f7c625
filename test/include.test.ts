import { expect } from "@effect/vitest"
import { Effect, Option, Schema, Stream } from "effect"
import { DataFlow, Model, Relation, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { selects } from "./support/pipeline.js"

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
}

const models = () => {
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(50)) }), {
    table: uniqueTable("inc_users"),
    softDelete: true,
    relations: { posts: Model.hasMany((): Relation.Target<PostRecord> => Post, { foreignKey: "authorId" }) }
  })
  const Post = Model.make(
    "Post",
    Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String.pipe(Schema.maxLength(50)) }),
    {
      table: uniqueTable("inc_posts"),
      relations: {
        author: Model.belongsTo(() => User, { foreignKey: "authorId" }),
        comments: Model.hasMany(() => Comment, { foreignKey: "postId" })
      }
    }
  )
  const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String }), {
    table: uniqueTable("inc_comments")
  })
  return { User, Post, Comment }
}

const seed = Effect.gen(function*() {
  const m = models()
  yield* DataFlow.migrate([m.User, m.Post, m.Comment])
  const users = (yield* m.User.bulkCreate(["Ada", "Bob", "Cy"].map((name) => ({ name })), { returnRecords: true })).records
  const posts = (yield* m.Post.bulkCreate(
    Array.from({ length: 12 }, (_, i) => ({ authorId: users[i % 2]!.id, title: `p${String(i).padStart(2, "0")}` })),
    { returnRecords: true }
  )).records
  yield* m.Comment.bulkCreate(posts.flatMap((p, i) => Array.from({ length: i % 3 }, (_, j) => ({ postId: p.id, body: `c${j}` }))))
  return { ...m, users, posts }
})

forEachDatabase("include", (it) => {
  it.effect("belongs-to and has-many load with one statement per relation, never one per record", () =>
    Effect.gen(function*() {
      const { Post, users } = yield* seed
      const { count, value } = yield* selects(Post.list({ include: { author: true, comments: true } }))
      expect(count).toBe(3)
      expect(value.records).toHaveLength(12)
      for (const [i, post] of value.records.entries()) {
        // typed: author is User | null, comments ReadonlyArray<Comment>
        const author: { readonly name: string } | null = post.author
        expect(author?.name).toBe(users[i % 2]!.name)
        expect(post.comments.map((c) => c.body)).toEqual(Array.from({ length: i % 3 }, (_, j) => `c${j}`))
        expect(post.comments.every((c) => c.postId === post.id)).toBe(true)
      }
    }))

  it.effect("nested includes, each relation with its own where, orderBy, limit and select", () =>
    Effect.gen(function*() {
      const { User, users } = yield* seed
      const { count, value } = yield* selects(User.list({
        orderBy: ["name"],
        include: {
          posts: {
            where: { title: { $ne: "p00" } },
            orderBy: ["-title"],
            limit: 2,
            select: ["title"],
            include: { comments: { select: ["body"] } }
          }
        }
      }))
      expect(count).toBe(3)
      const byName = Object.fromEntries(value.records.map((u) => [u.name, u.posts]))
      expect(byName.Ada!.map((p) => p.title)).toEqual(["p10", "p08"])
      expect(byName.Bob!.map((p) => p.title)).toEqual(["p11", "p09"])
      expect(byName.Cy).toEqual([])
      expect(byName.Ada![0]).toEqual({ title: "p10", comments: [{ body: "c0" }] })
      expect(users).toHaveLength(3)
    }))

  it.effect("read, find, findFirst and stream take include; a projection keeps the key it needs", () =>
    Effect.gen(function*() {
      const { Post, User, posts, users } = yield* seed
      const post = yield* Post.read(posts[1]!.id, { include: { author: true } })
      expect(post.author?.id).toBe(users[1]!.id)
      const found = yield* User.find(users[0]!.id, { include: { posts: { select: ["title"] } } })
      expect(Option.getOrThrow(found).posts).toHaveLength(6)
      const first = yield* Post.findFirst({ title: "p03" }, { include: { author: true, comments: true } })
      expect(Option.getOrThrow(first).comments).toHaveLength(0)
      const projected = yield* Post.list({ select: ["title"], include: { author: true }, limit: 1 })
      expect(projected.records[0]).toEqual({ title: "p00", author: expect.objectContaining({ name: "Ada" }) })
      // untyped callers (HTTP, workflows) may project a findFirst too: the key is read for the load
      const firstProjected = yield* (Post.findFirst as (w: unknown, o: unknown) => Effect.Effect<Option.Option<unknown>, unknown>)(
        { title: "p00" },
        { select: ["title"], include: { author: true } }
      )
      expect(Option.getOrThrow(firstProjected)).toEqual({ title: "p00", author: expect.objectContaining({ name: "Ada" }) })
      const { count, value } = yield* selects(Stream.runCollect(Post.stream({ pageSize: 5, include: { author: true } })))
      expect([...value].every((p) => p.author !== null)).toBe(true)
      // 3 pages (5, 5, 2), each with one load of its authors
      expect(count).toBe(6)
    }))

  it.effect("a soft-deleted related record is not loaded; unknown relations are a ValidationError", () =>
    Effect.gen(function*() {
      const { Post, User, users } = yield* seed
      yield* User.delete(users[0]!.id)
      const { records } = yield* Post.list({ include: { author: true }, limit: 2 })
      expect(records.map((p) => p.author?.name ?? null)).toEqual([null, "Bob"])
      const withDeleted = yield* Post.list({ include: { author: { includeDeleted: true } }, limit: 1 })
      expect(withDeleted.records[0]!.author?.name).toBe("Ada")
      const bad = yield* Effect.flip(Post.list({ include: { writer: true } as never }))
      expect(bad._tag).toBe("ValidationError")
      expect(bad.message).toContain("include.writer")
    }))

  it.effect("a page of more keys than one statement would bind one by one is loaded in one statement", () =>
    Effect.gen(function*() {
      const Parent = Model.make("Parent", Schema.Struct({ id: Schema.Int, n: Schema.Int }), { table: uniqueTable("inc_parents") })
      const Child = Model.make("Child", Schema.Struct({ id: Schema.Int, parentId: Schema.Int }), {
        table: uniqueTable("inc_children"),
        relations: { parent: Model.belongsTo(() => Parent, { foreignKey: "parentId" }) }
      })
      const parents = (yield* Parent.bulkCreate(Array.from({ length: 5_001 }, (_, n) => ({ n })), { returnRecords: true })).records
      yield* Child.bulkCreate(parents.map((p) => ({ parentId: p.id })))
      const { count, value } = yield* selects(Child.list({ include: { parent: true } }))
      // the page, then its 5,001 keys: a long key list is bound as one parameter (ANY array,
      // json_each, JSON_TABLE), so one statement loads them all
      expect(count).toBe(2)
      expect(value.records.every((c) => c.parent?.id === c.parentId)).toBe(true)
    }), { timeout: 60_000 })
})

forEachDatabase("include-tenancy", (it) => {
  it.effect("a tenant's include never loads another tenant's records", () =>
    Effect.gen(function*() {
      const Org = Model.make("Org", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
        table: uniqueTable("inc_orgs"),
        tenantScoped: true
      })
      const Team = Model.make("Team", Schema.Struct({ id: Schema.Int, orgId: Schema.Int }), {
        table: uniqueTable("inc_teams"),
        tenantScoped: true,
        relations: { org: Model.belongsTo(() => Org, { foreignKey: "orgId" }) }
      })
      const other = yield* Org.create({ name: "other" }).pipe(Tenant.with("b"))
      const mine = yield* Org.create({ name: "mine" }).pipe(Tenant.with("a"))
      yield* Team.bulkCreate([{ orgId: mine.id }, { orgId: other.id }]).pipe(Tenant.with("a"))
      const teams = yield* Team.list({ include: { org: true } }).pipe(Tenant.with("a"))
      expect(teams.records.map((t) => t.org?.name ?? null)).toEqual(["mine", null])
    }))
})
