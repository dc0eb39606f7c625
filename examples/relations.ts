/**
 * Relations: foreign keys with referential actions, `include` (one statement per relation,
 * never one per record), and batched reads by id and lists by a foreign key — on the embedded
 * SQLite default.
 *
 *   npx tsx examples/relations.ts
 */
import { Console, Effect, Schema } from "effect"
import { DataFlow, Model, Relation } from "../src/index.js"

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
}

// Targets are thunks: models can be declared in any order. Where two models refer to each
// other, one thunk names its record type (as with Schema.suspend) to break TypeScript's circle.
const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
  relations: {
    posts: Model.hasMany((): Relation.Target<PostRecord> => Post, { foreignKey: "authorId" })
  }
})

const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String }), {
  relations: {
    // posts.author_id REFERENCES users (id) ON DELETE CASCADE, indexed
    author: Model.belongsTo(() => User, { foreignKey: "authorId", onDelete: "cascade" }),
    comments: Model.hasMany(() => Comment, { foreignKey: "postId" }),
    // many-to-many through a junction model
    tags: Model.manyToMany(() => Tag, { through: (): Relation.Target => PostTag, foreignKey: "postId", otherKey: "tagId" })
  }
})

const Tag = Model.make("Tag", Schema.Struct({ id: Schema.Int, label: Schema.String }), { timestamps: false })

const PostTag = Model.make("PostTag", Schema.Struct({ id: Schema.Int, postId: Schema.Int, tagId: Schema.Int }), {
  timestamps: false,
  relations: {
    post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }),
    tag: Model.belongsTo(() => Tag, { foreignKey: "tagId", onDelete: "cascade" })
  }
})

const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String }), {
  relations: { post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }) }
})

const program = Effect.gen(function*() {
  // referenced tables first, whatever the order given
  yield* DataFlow.migrate([Comment, PostTag, Post, User])
  const ada = yield* User.create({ name: "Ada" })
  const alan = yield* User.create({ name: "Alan" })
  // a nested create: the post and its comments in one transaction, their postId set from the post
  const notes = yield* Post.create({
    authorId: ada.id,
    title: "Notes on the Engine",
    comments: { create: [{ body: "Brilliant" }, { body: "Bernoulli!" }] }
  })
  yield* Console.log("created", notes.title, "with", notes.comments.length, "comments")
  yield* Post.create({ authorId: alan.id, title: "Computing Machinery" })

  // three statements: the posts, their authors, their comments
  const { records } = yield* Post.list({ include: { author: true, comments: { orderBy: ["body"] } } })
  for (const post of records) {
    yield* Console.log(`${post.title} by ${post.author?.name}: ${post.comments.map((c) => c.body).join(", ") || "no comments"}`)
  }

  // many-to-many: include through the junction, and filter by it
  const history = yield* Tag.create({ label: "history" })
  yield* Post.connect("tags", notes.id, [history.id])
  const tagged = yield* Post.list({ where: { tags: { some: { label: "history" } } }, include: { tags: { select: ["label"] } } })
  yield* Console.log("tagged history", tagged.records.map((p) => [p.title, p.tags.map((t) => t.label)]))

  // nested, with a per-relation filter and projection
  const users = yield* User.list({
    orderBy: ["name"],
    include: { posts: { select: ["title"], where: { title: { $like: "%Engine%" } } } }
  })
  yield* Console.log("users with engine posts", users.records.map((u) => [u.name, u.posts.map((p) => p.title)]))

  // a foreign key the database enforces, named in the error
  const orphan = yield* Effect.flip(Post.create({ authorId: 999, title: "nobody's" }))
  yield* Console.log("orphan post:", orphan._tag, orphan._tag === "ForeignKeyViolation" ? orphan.columns : [])

  // batched reads: one SELECT … WHERE id IN (…) for all of them
  const found = yield* Effect.forEach([ada.id, alan.id, 999], (id) => User.find(id), { batching: true }).pipe(Relation.batched)
  yield* Console.log("batched finds", found.map((o) => o._tag === "Some" ? o.value.name : null))

  // batched lists by a foreign key: one SELECT … WHERE post_id IN (…), each post its own page
  const posts = (yield* Post.list()).records
  const firsts = yield* Effect.forEach(posts, (post) => Comment.list({ where: { postId: post.id }, orderBy: ["body"], limit: 1 }), {
    batching: true
  }).pipe(Relation.batched)
  yield* Console.log("first comment of each post", firsts.map((page) => page.records[0]?.body ?? null))

  // cascade: Ada's post and its comments go with her
  yield* User.delete(ada.id)
  yield* Console.log("after deleting Ada:", yield* Post.count(), "post,", yield* Comment.count(), "comments")
})

Effect.runPromise(program.pipe(Effect.provide(DataFlow.layer({ url: "sqlite::memory:" }))))
