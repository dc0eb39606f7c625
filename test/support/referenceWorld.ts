/**
 * The world of test/testing-reference-include.test.ts: users, posts (soft delete; an author and a
 * nullable editor), comments, a has-one profile, tags through a soft-deleting junction, editions
 * with a composite key and their printings (a NULL in a key), all keys given, and the rows the
 * program seeds (a soft-deleted author, post and link).
 */
import { Effect, Schema } from "effect"
import { DataFlow, Model, Relation } from "../../src/index.js"
import { uniqueTable } from "./db.js"

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly editorId: number | null
  readonly title: string
  readonly rank: number
}
interface CommentRecord {
  readonly id: number
  readonly postId: number
  readonly stars: number | null
  readonly body: string
}
interface ProfileRecord {
  readonly id: number
  readonly userId: number
  readonly bio: string
}
interface PrintingRecord {
  readonly id: number
  readonly bookId: number
  readonly editionNo: number | null
  readonly copies: number
}

export const text = Schema.String.pipe(Schema.maxLength(20))

export const User = Model.make("RiUser", Schema.Struct({ id: Schema.Int, name: text }), {
  table: uniqueTable("ri_users"),
  timestamps: false,
  softDelete: true,
  relations: {
    posts: Model.hasMany((): Relation.Target<PostRecord> => Post, { foreignKey: "authorId" }),
    profile: Model.hasOne((): Relation.Target<ProfileRecord> => Profile, { foreignKey: "userId" })
  }
})
export const Post = Model.make(
  "RiPost",
  Schema.Struct({ id: Schema.Int, authorId: Schema.Int, editorId: Schema.NullOr(Schema.Int), title: text, rank: Schema.Int }),
  {
    table: uniqueTable("ri_posts"),
    timestamps: false,
    softDelete: true,
    relations: {
      author: Model.belongsTo(() => User, { foreignKey: "authorId" }),
      editor: Model.belongsTo(() => User, { foreignKey: "editorId" }),
      comments: Model.hasMany((): Relation.Target<CommentRecord> => Comment, { foreignKey: "postId" }),
      tags: Model.manyToMany(() => Tag, { through: (): Relation.Target => PostTag, foreignKey: "postId", otherKey: "tagId" })
    }
  }
)
export const Comment = Model.make("RiComment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, stars: Schema.NullOr(Schema.Int), body: text }), {
  table: uniqueTable("ri_comments"),
  timestamps: false,
  relations: { post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId" }) }
})
export const Profile = Model.make("RiProfile", Schema.Struct({ id: Schema.Int, userId: Schema.Int, bio: text }), {
  table: uniqueTable("ri_profiles"),
  timestamps: false,
  unique: ["userId"],
  relations: { user: Model.belongsTo(() => User, { foreignKey: "userId" }) }
})
export const Tag = Model.make("RiTag", Schema.Struct({ id: Schema.Int, label: text }), {
  table: uniqueTable("ri_tags"),
  timestamps: false,
  unique: ["label"],
  relations: {
    posts: Model.manyToMany((): Relation.Target<PostRecord> => Post, { through: (): Relation.Target => PostTag, foreignKey: "tagId", otherKey: "postId" })
  }
})
export const PostTag = Model.make("RiPostTag", Schema.Struct({ id: Schema.Int, postId: Schema.Int, tagId: Schema.Int }), {
  table: uniqueTable("ri_post_tags"),
  timestamps: false,
  softDelete: true,
  unique: [["postId", "tagId"]],
  relations: {
    post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId" }),
    tag: Model.belongsTo(() => Tag, { foreignKey: "tagId" })
  }
})
export const Edition = Model.make("RiEdition", Schema.Struct({ bookId: Schema.Int, editionNo: Schema.Int, title: text }), {
  table: uniqueTable("ri_editions"),
  timestamps: false,
  primaryKey: ["bookId", "editionNo"],
  relations: {
    printings: Model.hasMany((): Relation.Target<PrintingRecord> => Printing, { foreignKey: ["bookId", "editionNo"] })
  }
})
export const Printing = Model.make(
  "RiPrinting",
  Schema.Struct({ id: Schema.Int, bookId: Schema.Int, editionNo: Schema.NullOr(Schema.Int), copies: Schema.Int }),
  {
    table: uniqueTable("ri_printings"),
    timestamps: false,
    relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"] }) }
  }
)
export const models = [User, Post, Comment, Profile, Tag, PostTag, Edition, Printing]

/** A step's answer, or its error's tag (in a savepoint: PostgreSQL's transaction goes on). */
export const step = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  DataFlow.transaction(effect).pipe(
    Effect.map((value): unknown => value),
    Effect.catchAll((e) => Effect.succeed({ error: e._tag }))
  )

export const seed = Effect.gen(function*() {
  yield* User.bulkCreate(["Ada", "Bob", "Cy", "Dee"].map((name, i) => ({ id: i + 1, name })))
  const authors = [1, 2, 1, 4, 2, 1, 3, 4, 1, 2]
  const editors = [null, 4, 2, null, 1, 4, null, 2, 3, null]
  yield* Post.bulkCreate(authors.map((authorId, i) => ({
    id: i + 1,
    authorId,
    editorId: editors[i]!,
    title: ["a", "b", "c"][i % 3]!,
    rank: [2, 0, 1, 1, 2, 0, 0, 1, 2, 2][i]!
  })))
  const comments: ReadonlyArray<readonly [number, number | null]> = [
    [1, 3],
    [1, null],
    [1, 5],
    [2, 1],
    [3, 4],
    [3, 4],
    [4, null],
    [5, 2],
    [6, 5],
    [6, 1],
    [9, 3],
    [10, 4],
    [10, 4],
    [10, null]
  ]
  yield* Comment.bulkCreate(comments.map(([postId, stars], i) => ({ id: i + 1, postId, stars, body: `c${i + 1}` })))
  yield* Profile.bulkCreate([{ id: 1, userId: 1, bio: "first" }, { id: 2, userId: 4, bio: "gone" }])
  yield* Tag.bulkCreate(["x", "y", "z", "w"].map((label, i) => ({ id: i + 1, label })))
  const links: ReadonlyArray<readonly [number, number]> = [[1, 1], [1, 2], [2, 2], [4, 1], [4, 2], [4, 3], [9, 1], [3, 3], [5, 3]]
  yield* PostTag.bulkCreate(links.map(([postId, tagId], i) => ({ id: i + 1, postId, tagId })))
  yield* Edition.bulkCreate([{ bookId: 1, editionNo: 1, title: "one" }, { bookId: 1, editionNo: 2, title: "two" }, {
    bookId: 2,
    editionNo: 1,
    title: "other"
  }])
  yield* Printing.bulkCreate([
    { id: 1, bookId: 1, editionNo: 1, copies: 100 },
    { id: 2, bookId: 1, editionNo: 2, copies: 50 },
    { id: 3, bookId: 1, editionNo: 1, copies: 300 },
    { id: 4, bookId: 2, editionNo: 1, copies: 10 },
    { id: 5, bookId: 2, editionNo: null, copies: 7 }
  ])
  // soft-deleted: an author (her posts' author loads as null), a post, a junction row
  yield* User.delete(4)
  yield* Post.delete(9)
  yield* PostTag.delete(6)
})
