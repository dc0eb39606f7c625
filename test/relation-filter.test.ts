import { expect } from "@effect/vitest"
import { Clock, Effect, Schema } from "effect"
import { DataFlow, Model, Relation, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
}

const models = () => {
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(50)) }), {
    table: uniqueTable("rf_users"),
    softDelete: true,
    relations: { posts: Model.hasMany((): Relation.Target<PostRecord> => Post, { foreignKey: "authorId" }) }
  })
  const Post = Model.make(
    "Post",
    Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String.pipe(Schema.maxLength(50)) }),
    {
      table: uniqueTable("rf_posts"),
      relations: {
        author: Model.belongsTo(() => User, { foreignKey: "authorId" }),
        comments: Model.hasMany(() => Comment, { foreignKey: "postId" })
      }
    }
  )
  const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, stars: Schema.Int }), {
    table: uniqueTable("rf_comments")
  })
  return { User, Post, Comment }
}

const seed = Effect.gen(function*() {
  const m = models()
  yield* DataFlow.migrate([m.User, m.Post, m.Comment])
  const users = (yield* m.User.bulkCreate(["Ada", "Bob", "Cy", "Dee"].map((name) => ({ name })), { returnRecords: true })).records
  const posts = (yield* m.Post.bulkCreate(
    Array.from({ length: 9 }, (_, i) => ({ authorId: users[i % 3 === 2 ? 1 : 0]!.id, title: `p${i}` })),
    { returnRecords: true }
  )).records
  const comments = (yield* m.Comment.bulkCreate(
    posts.flatMap((p, i) => Array.from({ length: i % 3 }, (_, j) => ({ postId: p.id, stars: (i + j) % 5 }))),
    { returnRecords: true }
  )).records
  // Dee is deleted: her posts' author does not exist for reads
  const dee = users[3]!
  yield* m.Post.create({ authorId: dee.id, title: "by dee" })
  yield* m.User.delete(dee.id)
  return { ...m, users, posts: [...posts], comments }
})

const ids = (records: ReadonlyArray<{ readonly id: number }>) => records.map((r) => r.id).sort((a, b) => a - b)

forEachDatabase("relation filters", (it) => {
  it.effect("belongs-to: a filter of the related record (EXISTS); soft-deleted related rows do not match", () =>
    Effect.gen(function*() {
      const { Post, posts, users } = yield* seed
      const byAda = yield* Post.list({ where: { author: { name: "Ada" } } })
      expect(ids(byAda.records)).toEqual(ids(posts.filter((p) => p.authorId === users[0]!.id)))
      const anyAuthor = yield* Post.count({ author: {} } as never)
      expect(anyAuthor).toBe(posts.length)
      const notBob = yield* Post.list({ where: { title: { $ne: "p0" }, author: { name: { $ne: "Bob" } } } })
      expect(ids(notBob.records)).toEqual(ids(posts.filter((p) => p.title !== "p0" && p.authorId === users[0]!.id)))
    }))

  it.effect("has-many: some / every / none against the reference, composable with $or and $not", () =>
    Effect.gen(function*() {
      const { User, comments, posts, users } = yield* seed
      const live = users.slice(0, 3)
      const postsOf = (u: { readonly id: number }) => posts.filter((p) => p.authorId === u.id)
      const check = (where: unknown, expected: (u: { readonly id: number; readonly name: string }) => boolean) =>
        Effect.map(User.list({ where: where as never }), (r) => expect(ids(r.records)).toEqual(ids(live.filter(expected))))
      yield* check({ posts: { some: { title: "p2" } } }, (u) => postsOf(u).some((p) => p.title === "p2"))
      yield* check({ posts: { every: { title: { $ne: "p2" } } } }, (u) => postsOf(u).every((p) => p.title !== "p2"))
      yield* check({ posts: { none: {} } }, (u) => postsOf(u).length === 0)
      yield* check({ posts: { some: {} } }, (u) => postsOf(u).length > 0)
      yield* check({ $or: [{ name: "Cy" }, { posts: { some: { title: "p2" } } }] }, (u) => u.name === "Cy" || postsOf(u).some((p) => p.title === "p2"))
      yield* check({ $not: { posts: { some: { title: "p0" } } } }, (u) => !postsOf(u).some((p) => p.title === "p0"))
      // nested: users with a post that has a five... four-star comment
      const starred = (p: { readonly id: number }) => comments.some((c) => c.postId === p.id && c.stars >= 3)
      yield* check({ posts: { some: { comments: { some: { stars: { $gte: 3 } } } } } }, (u) => postsOf(u).some(starred))
      yield* check({ posts: { every: { comments: { none: { stars: { $gte: 3 } } } } } }, (u) => postsOf(u).every((p) => !starred(p)))
    }))

  it.effect("relation filters combine with include, count and bulk writes; bad ones are InvalidFilter with a path", () =>
    Effect.gen(function*() {
      const { Post, User, users } = yield* seed
      const withPosts = yield* User.list({ where: { posts: { some: { title: "p2" } } }, include: { posts: { select: ["title"] } } })
      expect(withPosts.records.map((u) => u.name)).toEqual(["Bob"])
      expect(yield* User.count({ posts: { some: {} } } as never)).toBe(2)
      const { deleted } = yield* Post.bulkDelete({ author: { name: "Bob" } })
      expect(deleted).toBe(3)
      expect(yield* Post.count({ authorId: users[1]!.id })).toBe(0)
      const bad = yield* Effect.flip(User.list({ where: { posts: { any: {} } } as never }))
      expect(bad._tag).toBe("InvalidFilter")
      if (bad._tag === "InvalidFilter") expect(bad.path).toBe("posts.any")
      const badInner = yield* Effect.flip(User.list({ where: { posts: { some: { nope: 1 } } } as never }))
      if (badInner._tag === "InvalidFilter") expect(badInner.path).toBe("posts.some.nope")
    }))

  it.effect("a global model's relation filter reaches the current tenant's rows of a tenant-scoped target, never another's", () =>
    Effect.gen(function*() {
      interface NoteRecord {
        readonly id: number
        readonly categoryId: number
        readonly text: string
      }
      const Category = Model.make("Category", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
        table: uniqueTable("rf_categories"),
        relations: { notes: Model.hasMany((): Relation.Target<NoteRecord> => Note, { foreignKey: "categoryId" }) }
      })
      const Note = Model.make("Note", Schema.Struct({ id: Schema.Int, categoryId: Schema.Int, text: Schema.String }), {
        table: uniqueTable("rf_notes"),
        tenantScoped: true
      })
      const c = yield* Category.create({ name: "plans" })
      yield* Note.create({ categoryId: c.id, text: "acme's" }).pipe(Tenant.with("acme"))
      yield* Note.create({ categoryId: c.id, text: "globex's" }).pipe(Tenant.with("globex"))
      const count = (text: string) => Category.count({ notes: { some: { text } } })
      expect(yield* count("acme's").pipe(Tenant.with("acme"))).toBe(1)
      expect(yield* count("globex's").pipe(Tenant.with("acme"))).toBe(0)
      expect(yield* count("globex's").pipe(Tenant.with("globex"))).toBe(1)
      // without a tenant no tenant's rows are reached
      expect(yield* count("acme's")).toBe(0)
      expect((yield* Category.list({ where: { notes: { none: {} } } }).pipe(Tenant.with("initech"))).records).toHaveLength(1)
    }).pipe(Effect.withClock(Clock.make())))
})
