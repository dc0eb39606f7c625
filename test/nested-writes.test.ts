/**
 * Nested creates (has-many, has-one, many-to-many create / connect) and connect / disconnect of
 * many-to-many links, on every database: what comes back, what is stored, typed errors, and
 * nothing half-written.
 */
import { expect } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import { DataFlow, Model, Relation, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
}
interface PostInput {
  readonly authorId: number
  readonly title: string
}

interface ProfileRecord {
  readonly id: number
  readonly userId: number
  readonly bio: string
}

const models = () => {
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("nw_users"),
    timestamps: false,
    relations: {
      posts: Model.hasMany((): Relation.Target<PostRecord, PostInput> => Post, { foreignKey: "authorId" }),
      profile: Model.hasOne((): Relation.Target<ProfileRecord, Omit<ProfileRecord, "id">> => Profile, { foreignKey: "userId" })
    }
  })
  const Profile = Model.make("Profile", Schema.Struct({ id: Schema.Int, userId: Schema.Int, bio: Schema.String }), {
    table: uniqueTable("nw_profiles"),
    timestamps: false,
    unique: ["userId"],
    relations: { user: Model.belongsTo(() => User, { foreignKey: "userId", onDelete: "cascade" }) }
  })
  const Post = Model.make(
    "Post",
    Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String.pipe(Schema.maxLength(20)) }),
    {
      table: uniqueTable("nw_posts"),
      timestamps: false,
      unique: ["title"],
      relations: {
        author: Model.belongsTo(() => User, { foreignKey: "authorId", onDelete: "cascade" }),
        comments: Model.hasMany(() => Comment, { foreignKey: "postId" }),
        tags: Model.manyToMany(() => Tag, { through: (): Relation.Target => PostTag, foreignKey: "postId", otherKey: "tagId" })
      }
    }
  )
  const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String }), {
    table: uniqueTable("nw_comments"),
    timestamps: false,
    relations: { post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }) }
  })
  const Tag = Model.make("Tag", Schema.Struct({ id: Schema.Int, label: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("nw_tags"),
    timestamps: false
  })
  const PostTag = Model.make("PostTag", Schema.Struct({ id: Schema.Int, postId: Schema.Int, tagId: Schema.Int }), {
    table: uniqueTable("nw_post_tags"),
    timestamps: false,
    unique: [["postId", "tagId"]],
    relations: {
      post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }),
      tag: Model.belongsTo(() => Tag, { foreignKey: "tagId", onDelete: "cascade" })
    }
  })
  return { User, Profile, Post, Comment, Tag, PostTag }
}

forEachDatabase("nested-writes", (it) => {
  it.effect("a record with its has-many (nested again) and has-one children, in one create", () =>
    Effect.gen(function*() {
      const { Comment, Post, Profile, User } = models()
      const ada = yield* User.create({
        name: "Ada",
        posts: { create: [{ title: "one" }, { title: "two" }] },
        profile: { create: { bio: "mathematician" } }
      })
      expect(ada.name).toBe("Ada")
      expect(ada.posts.map((p) => [p.title, p.authorId])).toEqual([["one", ada.id], ["two", ada.id]])
      expect(ada.profile.userId).toBe(ada.id)
      const withComments = yield* Post.create({ authorId: ada.id, title: "three", comments: { create: [{ body: "a" }, { body: "b" }] } })
      expect(withComments.comments.map((c) => c.postId)).toEqual([withComments.id, withComments.id])
      expect(yield* Post.count({ authorId: ada.id })).toBe(3)
      expect(yield* Comment.count()).toBe(2)
      expect(yield* Profile.count()).toBe(1)
      // a create without relation keys is the plain node
      const plain = yield* User.create({ name: "Bob" })
      expect(Object.keys(plain).sort()).toEqual(["id", "name"])
    }))

  it.effect("a bad child writes nothing: not the parent, not its siblings; typed errors name what was wrong", () =>
    Effect.gen(function*() {
      const { Post, Profile, User } = models()
      const tooLong = yield* Effect.flip(User.create({ name: "Ada", posts: { create: [{ title: "ok" }, { title: "x".repeat(30) }] } }))
      expect(tooLong._tag).toBe("ValidationError")
      if (tooLong._tag === "ValidationError") expect(tooLong.model).toBe("Post")
      yield* Post.create({ authorId: (yield* User.create({ name: "Eve" })).id, title: "taken" })
      const duplicate = yield* Effect.flip(User.create({ name: "Ada", posts: { create: [{ title: "new" }, { title: "taken" }] } }))
      expect(duplicate._tag).toBe("UniqueViolation")
      expect(yield* User.count({ name: "Ada" })).toBe(0)
      expect(yield* Post.count()).toBe(1)
      expect(yield* Profile.count()).toBe(0)

      const ownKey = yield* Effect.flip(User.create({ name: "Ada", posts: { create: [{ title: "t", authorId: 5 } as never] } }))
      expect(ownKey._tag === "ValidationError" && ownKey.path).toBe("posts.create.0.authorId")
      const upward = yield* Effect.flip(Post.create({ title: "t", authorId: 1, author: { create: { name: "x" } } } as never))
      expect(upward._tag === "ValidationError" && upward.path).toBe("author")
      const shape = yield* Effect.flip(User.create({ name: "Ada", posts: [{ title: "t" }] } as never))
      expect(shape._tag === "ValidationError" && shape.path).toBe("posts")
      expect(yield* User.count({ name: "Ada" })).toBe(0)
    }))

  it.effect("many-to-many: create and connect in a nested create; connect / disconnect; a missing target is a ForeignKeyViolation", () =>
    Effect.gen(function*() {
      const { Post, PostTag, Tag, User } = models()
      const ada = yield* User.create({ name: "Ada" })
      const [red, blue] = (yield* Tag.bulkCreate([{ label: "red" }, { label: "blue" }], { returnRecords: true })).records
      const post = yield* Post.create({ authorId: ada.id, title: "p", tags: { create: [{ label: "new" }], connect: [blue!.id] } })
      expect(post.tags.map((t) => t.label)).toEqual(["new", "blue"])
      expect(yield* PostTag.count({ postId: post.id })).toBe(2)

      expect(yield* Post.connect("tags", post.id, [red!.id, blue!.id])).toEqual({ connected: 1 })
      expect(yield* Post.connect("tags", post.id, [red!.id])).toEqual({ connected: 0 })
      const loaded = yield* Post.read(post.id, { include: { tags: { orderBy: ["label"] } } })
      expect(loaded.tags.map((t) => t.label)).toEqual(["blue", "new", "red"])

      const missing = yield* Effect.flip(Post.connect("tags", post.id, [red!.id, 987_654]))
      expect(missing._tag).toBe("ForeignKeyViolation")
      if (missing._tag === "ForeignKeyViolation") {
        expect(missing.relation).toBe("tags")
        expect(missing.columns).toEqual(["tagId"])
      }
      const nestedMissing = yield* Effect.flip(Post.create({ authorId: ada.id, title: "q", tags: { create: [{ label: "x" }], connect: [987_654] } }))
      expect(nestedMissing._tag).toBe("ForeignKeyViolation")
      expect(yield* Post.count({ title: "q" })).toBe(0)
      expect(yield* Tag.count({ label: "x" })).toBe(0)
      const noPost = yield* Effect.flip(Post.connect("tags", 987_654, [red!.id]))
      expect(noPost._tag).toBe("NotFound")
      const notManyToMany = yield* Effect.flip(Post.connect("comments" as never, post.id, []))
      expect(notManyToMany._tag === "ValidationError" && notManyToMany.path).toBe("relation")

      expect(yield* Post.disconnect("tags", post.id, [red!.id, blue!.id, 987_654])).toEqual({ disconnected: 2 })
      expect(yield* PostTag.count({ postId: post.id })).toBe(1)
      expect(yield* Tag.count()).toBe(3)
    }))

  it.effect("update with nested writes: children created, links connected and disconnected, with the record's own fields; all or nothing", () =>
    Effect.gen(function*() {
      const { Comment, Post, PostTag, Profile, Tag, User } = models()
      const ada = yield* User.create({ name: "Ada" })
      const [red, blue, green] = (yield* Tag.bulkCreate([{ label: "red" }, { label: "blue" }, { label: "green" }], { returnRecords: true }))
        .records
      const post = yield* Post.create({ authorId: ada.id, title: "u", tags: { connect: [red!.id, blue!.id] } })

      const updated = yield* Post.update(post.id, {
        title: "u2",
        comments: { create: [{ body: "first" }, { body: "second" }] },
        tags: { create: [{ label: "fresh" }], connect: [green!.id], disconnect: [red!.id] }
      })
      expect(updated.title).toBe("u2")
      expect(updated.comments.map((c) => [c.body, c.postId])).toEqual([["first", post.id], ["second", post.id]])
      expect(updated.tags.map((t) => t.label)).toEqual(["fresh", "green"])
      const loaded = yield* Post.read(post.id, { include: { tags: { orderBy: ["label"] } } })
      expect(loaded.tags.map((t) => t.label)).toEqual(["blue", "fresh", "green"])

      // only relations: the record comes back as it is
      const onlyRelations = yield* User.update(ada.id, { profile: { create: { bio: "hi" } } })
      expect(onlyRelations).toMatchObject({ id: ada.id, name: "Ada", profile: { userId: ada.id, bio: "hi" } })
      expect(yield* Profile.count({ userId: ada.id })).toBe(1)

      // a failing nested write leaves the record's own fields as they were
      const clash = yield* Effect.flip(Post.update(post.id, { title: "u3", comments: { create: [{ body: "x" }] }, tags: { connect: [987_654] } }))
      expect(clash._tag).toBe("ForeignKeyViolation")
      expect((yield* Post.read(post.id)).title).toBe("u2")
      expect(yield* Comment.count({ body: "x" })).toBe(0)
      expect(yield* PostTag.count({ postId: post.id })).toBe(3)

      const missing = yield* Effect.flip(Post.update(987_654, { comments: { create: [{ body: "y" }] } }))
      expect(missing._tag).toBe("NotFound")
      expect(yield* Comment.count({ body: "y" })).toBe(0)
      const setsKey = yield* Effect.flip(Post.update(post.id, { comments: { create: [{ body: "z", postId: 1 } as never] } }))
      expect(setsKey._tag === "ValidationError" && setsKey.path).toBe("comments.create.0.postId")
      const badLink = yield* Effect.flip(Post.update(post.id, { tags: { disconnect: ["nope" as never] } }))
      expect(badLink._tag === "ValidationError" && badLink.path).toBe("tags.disconnect.0")
    }))

  it.effect("inside a caller's transaction: a later failure rolls the nested create back too", () =>
    Effect.gen(function*() {
      const { Post, User } = models()
      yield* User.count()
      const outcome = yield* Effect.either(
        Effect.gen(function*() {
          yield* User.create({ name: "Ada", posts: { create: [{ title: "one" }] } })
          return yield* Effect.fail("later" as const)
        }).pipe(DataFlow.transaction())
      )
      expect(Either.isLeft(outcome)).toBe(true)
      expect(yield* User.count()).toBe(0)
      expect(yield* Post.count()).toBe(0)
    }))

  it.effect("inside a caller's transaction: a failed nested write is a savepoint, its rows gone, the transaction going on", () =>
    Effect.gen(function*() {
      const { Post, User } = models()
      const ada = yield* User.create({ name: "Ada" })
      yield* Post.create({ authorId: ada.id, title: "taken" })
      const counts = yield* Effect.gen(function*() {
        // the parent is written before the child whose title is taken (a failed statement on PostgreSQL)
        const failed = yield* Effect.flip(User.create({ name: "Bob", posts: { create: [{ title: "new" }, { title: "taken" }] } }))
        const invalid = yield* Effect.flip(User.create({ name: "Cy", posts: { create: [{ title: "x".repeat(30) }] } }))
        const missing = yield* Effect.flip(Post.update(987_654, { title: "t", author: { create: { name: "Dee" } } }))
        return [failed._tag, invalid._tag, missing._tag, yield* User.count(), yield* Post.count()]
      }).pipe(DataFlow.transaction())
      expect(counts).toEqual(["UniqueViolation", "ValidationError", "NotFound", 1, 1])
    }))

  it.effect("tenant-scoped models: the children belong to the caller's tenant", () =>
    Effect.gen(function*() {
      interface TeamRecord {
        readonly id: string
        readonly orgId: string
        readonly name: string
      }
      const Org = Model.make("Org", Schema.Struct({ id: Model.UuidId, name: Schema.String }), {
        table: uniqueTable("nw_orgs"),
        tenantScoped: true,
        relations: { teams: Model.hasMany((): Relation.Target<TeamRecord, { readonly orgId: string; readonly name: string }> => Team, { foreignKey: "orgId" }) }
      })
      const Team = Model.make("Team", Schema.Struct({ id: Model.UuidId, orgId: Schema.String.pipe(Schema.maxLength(36)), name: Schema.String }), {
        table: uniqueTable("nw_teams"),
        tenantScoped: true,
        relations: { org: Model.belongsTo(() => Org, { foreignKey: "orgId", onDelete: "cascade" }) }
      })
      const org = yield* Org.create({ name: "acme", teams: { create: [{ name: "red" }, { name: "blue" }] } }).pipe(Tenant.with("a"))
      expect(org.teams.map((t) => [t.name, t.orgId])).toEqual([["red", org.id], ["blue", org.id]])
      expect(yield* Team.count().pipe(Tenant.with("a"))).toBe(2)
      expect(yield* Team.count().pipe(Tenant.with("b"))).toBe(0)
      const loaded = yield* Org.read(org.id, { include: { teams: { orderBy: ["name"] } } }).pipe(Tenant.with("a"))
      expect(loaded.teams.map((t) => t.name)).toEqual(["blue", "red"])
    }))
})
