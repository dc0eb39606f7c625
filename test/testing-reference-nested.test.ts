/**
 * The testing kit's reference runs nested writes: the same calls — nested creates (has-many,
 * has-one, many-to-many, belongs-to create / connect / connectOrCreate, nested again), nested
 * updates (children deleted, deleted and updated by filter, links replaced, belongs-to
 * connect / disconnect), `connect` / `disconnect`, and calls meant to fail — give the
 * database's answers and leave the database's rows, on every database.
 */
import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Model, Relation } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface PostRecord {
  readonly id: string
  readonly authorId: string
  readonly categoryId: string | null
  readonly title: string
}
interface PostInput {
  readonly id: string
  readonly authorId: string
  readonly categoryId: string | null
  readonly title: string
}
interface ProfileRecord {
  readonly id: string
  readonly userId: string
  readonly bio: string
}

const Key = Schema.String.pipe(Schema.maxLength(12))
const Text = Schema.String.pipe(Schema.maxLength(20))

const User = Model.make("RnUser", Schema.Struct({ id: Key, name: Text }), {
  table: uniqueTable("rn_users"),
  versioned: true,
  relations: {
    posts: Model.hasMany((): Relation.Target<PostRecord, PostInput> => Post, { foreignKey: "authorId" }),
    profile: Model.hasOne((): Relation.Target<ProfileRecord, ProfileRecord> => Profile, { foreignKey: "userId" })
  }
})
const Profile = Model.make("RnProfile", Schema.Struct({ id: Key, userId: Key, bio: Text }), {
  table: uniqueTable("rn_profiles"),
  timestamps: false,
  unique: ["userId"],
  relations: { user: Model.belongsTo(() => User, { foreignKey: "userId", onDelete: "cascade" }) }
})
const Category = Model.make("RnCategory", Schema.Struct({ id: Key, label: Text }), {
  table: uniqueTable("rn_categories"),
  timestamps: false,
  unique: ["label"]
})
const Post = Model.make("RnPost", Schema.Struct({ id: Key, authorId: Key, categoryId: Schema.NullOr(Key), title: Text }), {
  table: uniqueTable("rn_posts"),
  timestamps: false,
  unique: ["title"],
  relations: {
    author: Model.belongsTo(() => User, { foreignKey: "authorId", onDelete: "cascade" }),
    category: Model.belongsTo(() => Category, { foreignKey: "categoryId", onDelete: "setNull" }),
    comments: Model.hasMany(() => Comment, { foreignKey: "postId" }),
    tags: Model.manyToMany(() => Tag, { through: (): Relation.Target => PostTag, foreignKey: "postId", otherKey: "tagId" })
  }
})
const Comment = Model.make("RnComment", Schema.Struct({ id: Key, postId: Key, body: Text, approved: Schema.Boolean }), {
  table: uniqueTable("rn_comments"),
  timestamps: false,
  softDelete: true,
  relations: { post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }) }
})
const Tag = Model.make("RnTag", Schema.Struct({ id: Key, label: Text }), { table: uniqueTable("rn_tags"), timestamps: false, unique: ["label"] })
// a generated key: the reference's numbers differ from a database's after a failed call (sequences are not rolled back)
const PostTag = Model.make("RnPostTag", Schema.Struct({ id: Schema.Int, postId: Key, tagId: Key }), {
  table: uniqueTable("rn_post_tags"),
  timestamps: false,
  unique: [["postId", "tagId"]],
  relations: {
    post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }),
    tag: Model.belongsTo(() => Tag, { foreignKey: "tagId", onDelete: "cascade" })
  }
})
const models = [User, Profile, Category, Post, Comment, Tag, PostTag]

/** What a caller sees of an error: its tag and the fields that say what was wrong. */
const summary = (e: unknown): Record<string, unknown> => {
  const fields = ["_tag", "model", "operation", "path", "columns", "relation", "id", "expectedVersion"] as const
  const out: Record<string, unknown> = {}
  for (const f of fields) {
    const v = (e as Record<string, unknown>)[f]
    if (v !== undefined) out[f] = v
  }
  return out
}

/** Every stored row (the junction's generated key left out). */
const stored = Effect.gen(function*() {
  const all = <E, R>(list: Effect.Effect<{ readonly records: ReadonlyArray<unknown> }, E, R>) => Effect.map(list, (p) => p.records)
  return {
    users: yield* all(User.list({ orderBy: ["id"] })),
    profiles: yield* all(Profile.list({ orderBy: ["id"] })),
    categories: yield* all(Category.list({ orderBy: ["id"] })),
    posts: yield* all(Post.list({ orderBy: ["id"] })),
    comments: yield* all(Comment.list({ orderBy: ["id"], includeDeleted: true })),
    tags: yield* all(Tag.list({ orderBy: ["id"] })),
    links: yield* all(PostTag.list({ orderBy: ["postId", "tagId"], select: ["postId", "tagId"] }))
  }
})

/**
 * The calls; after each, its answer or error and the rows. Not wrapped in transactions of
 * their own: a nested write must be all or nothing by itself (on the databases it is a
 * savepoint, so a failed statement does not abort PostgreSQL's enclosing transaction).
 */
const program = Effect.gen(function*() {
  const steps: Array<unknown> = []
  const step = <A, E, R>(name: string, call: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const result = yield* call.pipe(
        Effect.map((value) => ({ value })),
        Effect.catchAll((e) => Effect.succeed({ error: summary(e) }))
      )
      steps.push({ name, result, rows: yield* stored })
    })
  const comment = (id: string, body: string, approved = false) => ({ id, body, approved })

  yield* step("has-many nested again and has-one", User.create({
    id: "u1",
    name: "Ada",
    posts: {
      create: [
        { id: "p1", title: "one", categoryId: null, comments: { create: [comment("c1", "alpha"), comment("c2", "beta")] } },
        { id: "p2", title: "two", categoryId: null }
      ]
    },
    profile: { create: { id: "pr1", bio: "mathematician" } }
  }))
  yield* step("belongs-to connect and create, many-to-many create", Post.create({
    id: "p3",
    title: "three",
    author: { connect: "u1" },
    category: { create: { id: "k1", label: "news" } },
    tags: { create: [{ id: "t1", label: "red" }] }
  }))
  yield* step("plain tags", Tag.bulkCreate([{ id: "t2", label: "blue" }, { id: "t3", label: "green" }]))
  yield* step("connectOrCreate creating, connect repeated and by a unique key", Post.create({
    id: "p4",
    title: "four",
    author: { connectOrCreate: { where: { id: "u2" }, create: { id: "u2", name: "Bob" } } },
    category: { connect: { label: "news" } },
    tags: { connect: ["t2", "t3", "t2"] }
  }))
  yield* step("connectOrCreate finding", Post.create({
    id: "p5",
    title: "five",
    categoryId: null,
    author: { connectOrCreate: { where: { id: "u2" }, create: { id: "u2", name: "Bobby" } } }
  }))
  yield* step("belongs-to create with children of its own", Post.create({
    id: "p6",
    title: "six",
    categoryId: null,
    author: { create: { id: "u3", name: "Cy", posts: { create: [{ id: "p7", title: "seven", categoryId: null }] } } }
  }))
  yield* step("a child with a belongs-to of its own", User.create({
    id: "u4",
    name: "Dee",
    posts: { create: [{ id: "p8", title: "eight", category: { connect: "k1" } }] }
  } as never))

  // meant to fail: nothing of the call stays
  yield* step("a child too long", User.create({
    id: "u5",
    name: "Eve",
    posts: { create: [{ id: "p9", title: "ok", categoryId: null }, { id: "p10", title: "x".repeat(30), categoryId: null }] }
  }))
  yield* step("a child's unique key taken", User.create({
    id: "u5",
    name: "Eve",
    posts: { create: [{ id: "p9", title: "fresh", categoryId: null }, { id: "p10", title: "one", categoryId: null }] }
  }))
  yield* step("a connect naming no tag", Post.create({
    id: "p9",
    title: "nine",
    authorId: "u1",
    categoryId: null,
    tags: { create: [{ id: "t9", label: "gone" }], connect: ["t2", "nope"] }
  }))
  yield* step("a connect naming no author", Post.create({ id: "p9", title: "nine", categoryId: null, author: { connect: "ghost" } }))
  yield* step("a connect by a unique key naming none", Post.create({
    id: "p9",
    title: "nine",
    author: { create: { id: "u9", name: "Gone" } },
    category: { connect: { label: "nothing" } }
  }))
  yield* step("a connect by fields of no unique key", Post.create({ id: "p9", title: "nine", authorId: "u1", category: { connect: { id: "k1", label: "news" } } } as never))
  yield* step("a nested value not an object", User.create({ id: "u5", name: "Eve", posts: [{ id: "p9", title: "t" }] } as never))
  yield* step("a child setting its foreign key", User.create({ id: "u5", name: "Eve", posts: { create: [{ id: "p9", title: "t", authorId: "u1" }] } } as never))
  yield* step("the foreign key and its relation", Post.create({ id: "p9", title: "t", authorId: "u1", author: { connect: "u1" } } as never))
  yield* step("a write a create does not take", User.create({ id: "u5", name: "Eve", posts: { connect: ["p1"] } } as never))
  yield* step("two writes of a belongs-to", Post.create({ id: "p9", title: "t", author: { connect: "u1", create: { id: "u8", name: "x" } } } as never))
  yield* step("a nested child's own bad field", User.create({
    id: "u5",
    name: "Eve",
    posts: { create: [{ id: "p9", title: "t", categoryId: null, comments: { create: [{ id: "c9", body: "b", approved: true, nope: 1 }] } }] }
  } as never))
  yield* step("a second has-one child", User.update("u1", { profile: { create: { id: "pr2", bio: "again" } } }))

  // updates
  yield* step("children deleted and created, links created, connected, disconnected", Post.update("p1", {
    title: "one!",
    comments: { delete: ["c1"], create: [comment("c3", "gamma"), comment("c4", "delta", true)] },
    tags: { create: [{ id: "t4", label: "new" }], connect: ["t2"], disconnect: ["t1"] }
  }))
  yield* step("links replaced", Post.update("p4", { tags: { set: ["t3", "t1"], create: [{ id: "t5", label: "fresh" }] } }))
  yield* step("children by filter", Post.update("p1", {
    comments: { deleteMany: { body: { $like: "%eta%" } }, updateMany: { where: { approved: false }, data: { body: "fixed" } } }
  }))
  yield* step("belongs-to moved and cleared", Post.update("p3", { author: { connect: "u2" }, category: { disconnect: true } }))
  yield* step("belongs-to created in an update", Post.update("p5", { category: { create: { id: "k2", label: "tech" } } }))
  yield* step("only relations, versioned", User.update("u2", { posts: { create: [{ id: "p11", title: "eleven", categoryId: null }] } }))
  yield* step("own fields and relations, the version given", User.update("u1", {
    name: "Ada L",
    posts: { create: [{ id: "p13", title: "thirteen", categoryId: null }] }
  }, { expectedVersion: 1 }))
  yield* step("own fields, then a second has-one child", User.update("u1", { name: "Ada Z", profile: { create: { id: "pr3", bio: "x" } } }))
  yield* step("links emptied", Post.update("p3", { tags: { set: [] } }))
  yield* step("a stale version", User.update("u1", { name: "Ada M", posts: { create: [{ id: "p12", title: "twelve", categoryId: null }] } }, { expectedVersion: 1 }))
  yield* step("deleting another's child", Post.update("p1", { title: "gone", comments: { delete: ["c3", "c1"] } }))
  yield* step("a missing record", Post.update("nope", { tags: { connect: ["t2"] } }))
  yield* step("a missing record, a belongs-to created first", Post.update("nope", { title: "t", author: { create: { id: "u7", name: "Gus" } } }))
  yield* step("a required belongs-to cleared", Post.update("p1", { author: { disconnect: true } } as never))
  yield* step("a filter naming the foreign key", Post.update("p1", { comments: { deleteMany: { postId: "p2" } } } as never))
  yield* step("a bad filter", Post.update("p1", { title: "bad", comments: { deleteMany: { nope: 1 } } } as never))
  yield* step("a bad patch after a delete", Post.update("p1", { comments: { delete: ["c3"], updateMany: { data: { body: "x".repeat(30) } } } }))
  yield* step("set with connect", Post.update("p1", { tags: { set: ["t2"], connect: ["t3"] } } as never))
  yield* step("set naming no tag", Post.update("p1", { title: "setx", tags: { set: ["t2", "nope"] } }))
  yield* step("a bad disconnect id", Post.update("p1", { tags: { disconnect: [7] } } as never))
  yield* step("a unique key taken by the record's own update", Post.update("p2", { title: "one!", tags: { connect: ["t3"] } }))

  // connect / disconnect
  yield* step("connect", Post.connect("tags", "p2", ["t2", "t3", "t3"]))
  yield* step("connect again", Post.connect("tags", "p2", ["t2"]))
  yield* step("connect to no post", Post.connect("tags", "nope", ["t2"]))
  yield* step("connect to no tag", Post.connect("tags", "p2", ["t1", "nope"]))
  yield* step("connect through no relation", Post.connect("nope" as never, "p2", ["t2"] as never))
  yield* step("connect through a belongs-to", Post.connect("author" as never, "p2", ["u1"] as never))
  yield* step("connect bad ids", Post.connect("tags", "p2", "t2" as never))
  yield* step("disconnect", Post.disconnect("tags", "p2", ["t2", "t5"]))
  yield* step("disconnect nothing", Post.disconnect("tags", "p2", []))
  yield* step("disconnect from no post", Post.disconnect("tags", "nope", ["t3"]))
  return Testing.canonical(steps)
})

forEachDatabase("reference nested writes", (it) => {
  it.effect("the same nested writes give the database's answers and rows, failing ones included", () =>
    Effect.gen(function*() {
      const onDatabase = yield* Testing.rollback(program)
      const onReference = yield* program.pipe(Effect.provide(Testing.layerReference(models)))
      const database = onDatabase as ReadonlyArray<{ readonly name: string }>
      const reference = onReference as ReadonlyArray<{ readonly name: string }>
      expect(reference.length).toBe(database.length)
      // step by step: the first difference names its call
      for (const [i, expected] of database.entries()) expect([expected.name, reference[i]]).toEqual([expected.name, expected])
    }), 120_000)
})
