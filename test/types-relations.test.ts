/**
 * Type-level guarantees of relations, checked by `tsc --noEmit -p .`: a result carries exactly
 * the included relations, with their projections and nested includes; unknown relations and
 * relation filters do not compile. Nothing here touches a database.
 */
import { Effect, Option, Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { NotFound } from "../src/Errors.js"
import { Model, Relation } from "../src/index.js"

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
}

const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
  timestamps: false,
  relations: { posts: Model.hasMany((): Relation.Target<PostRecord> => Post, { foreignKey: "authorId" }) }
})
const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String }), {
  timestamps: false
})
const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String }), {
  timestamps: false,
  relations: {
    author: Model.belongsTo(() => User, { foreignKey: "authorId" }),
    comments: Model.hasMany(() => Comment, { foreignKey: "postId" })
  }
})

const Label = Model.make("Label", Schema.Struct({ id: Schema.Int, name: Schema.String }), { timestamps: false })

type Success<T> = T extends Effect.Effect<infer A, infer _E, infer _R> ? A : never

describe("relation types", () => {
  it("without include the record has no relations; with it, exactly the included ones", () => {
    const _plain = Post.list()
    expectTypeOf<Success<typeof _plain>["records"][number]>().toEqualTypeOf<{ readonly id: number; readonly authorId: number; readonly title: string }>()
    const _included = Post.list({ include: { author: true, comments: { select: ["body"] } } })
    type Row = Success<typeof _included>["records"][number]
    expectTypeOf<Row["author"]>().toEqualTypeOf<{ readonly id: number; readonly name: string } | null>()
    expectTypeOf<Row["comments"]>().toEqualTypeOf<ReadonlyArray<{ readonly body: string }>>()
    // nested through a belongs-to whose target has relations of its own
    const _nested = Post.read(1, { include: { author: { include: { posts: true } } } })
    expectTypeOf<NonNullable<Success<typeof _nested>["author"]>["posts"]>().toEqualTypeOf<ReadonlyArray<PostRecord>>()
    const _found = User.find(1, { include: { posts: true } })
    expectTypeOf<Success<typeof _found>>().toEqualTypeOf<Option.Option<{ readonly id: number; readonly name: string; readonly posts: ReadonlyArray<PostRecord> }>>()
  })

  it("unknown relations and wrong relation filters do not compile", () => {
    // @ts-expect-error: not a relation of Post
    Post.list({ include: { writer: true } })
    Post.list({ where: { author: { name: "Ada" } } })
    User.list({ where: { posts: { some: { title: "x" } } } })
    // @ts-expect-error: a has-many takes some / every / none
    User.list({ where: { posts: { title: "x" } } })
    // @ts-expect-error: not a field of the author
    Post.list({ where: { author: { email: "x" } } })
  })

  it("relation keys are accepted inside $and / $or / $not, at any depth, and checked there", () => {
    Post.list({ where: { $or: [{ author: { name: "Ada" } }, { comments: { none: {} } }] } })
    Post.list({ where: { $not: { author: { name: "Ada" } }, $and: [{ title: "x" }, { $or: [{ comments: { some: { body: "b" } } }] }] } })
    User.findFirst({ $and: [{ posts: { every: { title: "x" } } }] })
    User.count({ $or: [{ posts: { none: {} } }, { name: "Ada" }] })
    Post.exists({ author: { name: "Ada" } })
    User.list({ where: { posts: { some: { $or: [{ title: "a" }, { title: "b" }] } } } })
    Post.list({ where: { author: { $not: { posts: { none: {} } } } } })
    // @ts-expect-error: not a field of the author, inside $or
    Post.list({ where: { $or: [{ author: { email: "x" } }] } })
    // @ts-expect-error: a has-many takes some / every / none, inside $not
    User.list({ where: { $not: { posts: { title: "x" } } } })
    // @ts-expect-error: not a relation nor a field of Post, inside $and
    Post.list({ where: { $and: [{ writer: { name: "Ada" } }] } })
    // @ts-expect-error: a field's type is still checked inside $or next to relation keys
    Post.list({ where: { $or: [{ title: 1 }, { author: { name: "Ada" } }] } })
  })

  it("bulkUpdate and bulkDelete take relation filters", () => {
    Post.bulkDelete({ author: { name: "Ada" } })
    User.bulkUpdate({ posts: { none: {} } }, { name: "idle" })
    Post.bulkDelete({ $or: [{ comments: { some: { body: "spam" } } }, { title: "x" }] })
    // @ts-expect-error: not a field of the author
    Post.bulkDelete({ author: { email: "x" } })
    // @ts-expect-error: a has-many takes some / every / none
    User.bulkUpdate({ posts: { title: "x" } }, { name: "idle" })
  })

  it("nested create: the result carries what each relation wrote; children cannot set the key the parent sets", () => {
    const _post = Post.create({ authorId: 1, title: "t", comments: { create: [{ body: "b" }] } })
    expectTypeOf<Success<typeof _post>>().toEqualTypeOf<{
      readonly id: number
      readonly authorId: number
      readonly title: string
      readonly comments: ReadonlyArray<{ readonly id: number; readonly postId: number; readonly body: string }>
    }>()
    const _user = User.create({ name: "Ada", posts: { create: [{ title: "t" }] } })
    expectTypeOf<Success<typeof _user>["posts"]>().toEqualTypeOf<ReadonlyArray<PostRecord>>()
    const _plain = Post.create({ authorId: 1, title: "t" })
    expectTypeOf<Success<typeof _plain>>().toEqualTypeOf<{ readonly id: number; readonly authorId: number; readonly title: string }>()
    // @ts-expect-error: the parent sets the child's foreign key
    Post.create({ authorId: 1, title: "t", comments: { create: [{ body: "b", postId: 2 }] } })
    // @ts-expect-error: the foreign key and its relation are not both given
    Post.create({ authorId: 1, title: "t", author: { create: { name: "x" } } })
    // @ts-expect-error: not a field nor a relation
    Post.create({ authorId: 1, title: "t", writer: "x" })
    // @ts-expect-error: a has-many takes { create: [...] }
    Post.create({ authorId: 1, title: "t", comments: [{ body: "b" }] })
    // @ts-expect-error: a field of the child is still checked
    Post.create({ authorId: 1, title: "t", comments: { create: [{ body: 1 }] } })
  })

  it("update with nested writes: typed like create; a plain update keeps its type", () => {
    const _post = Post.update(1, { title: "t", comments: { create: [{ body: "b" }] } })
    expectTypeOf<Success<typeof _post>["comments"]>().toEqualTypeOf<
      ReadonlyArray<{ readonly id: number; readonly postId: number; readonly body: string }>
    >()
    const _plain = Post.update(1, { title: "t" })
    expectTypeOf<Success<typeof _plain>>().toEqualTypeOf<{ readonly id: number; readonly authorId: number; readonly title: string }>()
    // @ts-expect-error: the parent sets the child's foreign key
    Post.update(1, { comments: { create: [{ body: "b", postId: 2 }] } })
    // @ts-expect-error: not a field nor a relation
    Post.update(1, { writer: "x" })
    // @ts-expect-error: the key is not patched
    Post.update(1, { id: 2 })
    // @ts-expect-error: disconnect needs a nullable foreign key (Post.authorId is not)
    User.update(1, { posts: { disconnect: [1] } })
  })

  it("nested writes through belongs-to: the foreign key or the relation, typed results", () => {
    type UserRecord = { readonly id: number; readonly name: string }
    const _created = Post.create({ title: "t", author: { create: { name: "Ada" } } })
    expectTypeOf<Success<typeof _created>["author"]>().toEqualTypeOf<UserRecord>()
    expectTypeOf<Success<typeof _created>["authorId"]>().toEqualTypeOf<number>()
    const _connected = Post.create({ title: "t", author: { connect: 1 } })
    expectTypeOf<Success<typeof _connected>["author"]>().toEqualTypeOf<UserRecord>()
    const _byUnique = Post.create({ title: "t", author: { connect: { name: "Ada" } } })
    expectTypeOf<Success<typeof _byUnique>["author"]>().toEqualTypeOf<UserRecord>()
    const _either = Post.create({ title: "t", author: { connectOrCreate: { where: { id: 1 }, create: { name: "Ada" } } } })
    expectTypeOf<Success<typeof _either>["author"]>().toEqualTypeOf<UserRecord>()
    // a nested create of the author nests again
    const _deep = Post.create({ title: "t", author: { create: { name: "Ada", posts: { create: [{ title: "u" }] } } } })
    expectTypeOf<Success<typeof _deep>["author"]["posts"]>().toEqualTypeOf<ReadonlyArray<PostRecord>>()
    // a connect that names no record is a NotFound
    const _plainCreate = Post.create({ authorId: 1, title: "t" })
    expectTypeOf<Effect.Effect.Error<typeof _connected>>().toEqualTypeOf<Effect.Effect.Error<typeof _plainCreate> | NotFound>()
    // @ts-expect-error: neither the foreign key nor the relation
    Post.create({ title: "t" })
    // @ts-expect-error: both
    Post.create({ title: "t", authorId: 1, author: { connect: 1 } })
    // @ts-expect-error: one of create / connect / connectOrCreate
    Post.create({ title: "t", author: { connect: 1, create: { name: "Ada" } } })
    // @ts-expect-error: disconnect is for an update
    Post.create({ title: "t", author: { disconnect: true } })
    // @ts-expect-error: the target's id type
    Post.create({ title: "t", author: { connect: "1" } })
    // @ts-expect-error: a field of the created author is checked
    Post.create({ title: "t", author: { create: { name: 1 } } })

    const _updated = Post.update(1, { title: "u", author: { connect: 2 } })
    expectTypeOf<Success<typeof _updated>["author"]>().toEqualTypeOf<UserRecord>()
    // @ts-expect-error: both in an update too
    Post.update(1, { authorId: 2, author: { connect: 2 } })
    // @ts-expect-error: authorId is not nullable
    Post.update(1, { author: { disconnect: true } })
    const Draft = Model.make("Draft", Schema.Struct({ id: Schema.Int, editorId: Schema.NullOr(Schema.Int), body: Schema.String }), {
      timestamps: false,
      relations: { editor: Model.belongsTo(() => User, { foreignKey: "editorId" }) }
    })
    const _cleared = Draft.update(1, { editor: { disconnect: true } })
    expectTypeOf<Success<typeof _cleared>["editor"]>().toEqualTypeOf<null>()
    Draft.create({ body: "b", editor: { connect: 1 } })
    Draft.create({ body: "b", editorId: null })
  })

  it("nested update of children: delete, deleteMany, updateMany; set for many-to-many", () => {
    const _post = Post.update(1, {
      comments: { delete: [1, 2], deleteMany: { body: { $like: "%spam%" } }, updateMany: { where: { body: "a" }, data: { body: "b" } } }
    })
    expectTypeOf<Success<typeof _post>["comments"]>().toEqualTypeOf<
      ReadonlyArray<{ readonly id: number; readonly postId: number; readonly body: string }>
    >()
    // @ts-expect-error: the relation holds the foreign key
    Post.update(1, { comments: { deleteMany: { postId: 3 } } })
    // @ts-expect-error: nor is it patched
    Post.update(1, { comments: { updateMany: { data: { postId: 3 } } } })
    // @ts-expect-error: delete takes the children's ids
    Post.update(1, { comments: { delete: ["1"] } })
    // @ts-expect-error: not in a create
    Post.create({ authorId: 1, title: "t", comments: { deleteMany: {} } })
  })

  it("nested update of children by key; a has-one's update / delete / disconnect; disconnect only on a nullable key", () => {
    const Profile = Model.make("Profile", Schema.Struct({ id: Schema.Int, userId: Schema.Int, bio: Schema.String }), {
      timestamps: false,
      unique: ["userId"]
    })
    const Badge = Model.make("Badge", Schema.Struct({ id: Schema.Int, ownerId: Schema.NullOr(Schema.Int), label: Schema.String }), {
      timestamps: false
    })
    const Member = Model.make("Member", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
      timestamps: false,
      relations: {
        profile: Model.hasOne(() => Profile, { foreignKey: "userId" }),
        badge: Model.hasOne(() => Badge, { foreignKey: "ownerId" }),
        badges: Model.hasMany(() => Badge, { foreignKey: "ownerId" }),
        notes: Model.hasMany(() => Comment, { foreignKey: "postId" })
      }
    })
    type ProfileRecord = { readonly id: number; readonly userId: number; readonly bio: string }
    type BadgeRecord = { readonly id: number; readonly ownerId: number | null; readonly label: string }
    const _updated = Member.update(1, {
      profile: { update: { bio: "b" } },
      badges: { update: [{ where: 2, data: { label: "x" } }, { where: { label: "y" }, data: {} }], disconnect: [3] }
    })
    expectTypeOf<Success<typeof _updated>["profile"]>().toEqualTypeOf<ProfileRecord>()
    expectTypeOf<Success<typeof _updated>["badges"]>().toEqualTypeOf<ReadonlyArray<BadgeRecord>>()
    const _deleted = Member.update(1, { profile: { delete: true } })
    expectTypeOf<Success<typeof _deleted>["profile"]>().toEqualTypeOf<null>()
    const _replaced = Member.update(1, { badge: { disconnect: true, create: { label: "n" } } })
    expectTypeOf<Success<typeof _replaced>["badge"]>().toEqualTypeOf<BadgeRecord>()
    const _detached = Member.update(1, { badge: { disconnect: true } })
    expectTypeOf<Success<typeof _detached>["badge"]>().toEqualTypeOf<null>()
    // @ts-expect-error: Profile.userId is not nullable
    Member.update(1, { profile: { disconnect: true } })
    // @ts-expect-error: Comment.postId is not nullable
    Member.update(1, { notes: { disconnect: [1] } })
    // @ts-expect-error: a patch does not move the child to another parent
    Member.update(1, { profile: { update: { userId: 2 } } })
    // @ts-expect-error: nor does an update by key
    Member.update(1, { badges: { update: [{ where: 1, data: { ownerId: 2 } }] } })
    // @ts-expect-error: nor names the foreign key in where
    Member.update(1, { badges: { update: [{ where: { ownerId: 1 }, data: {} }] } })
    // @ts-expect-error: update goes alone
    Member.update(1, { profile: { update: { bio: "b" }, delete: true } })
    // @ts-expect-error: delete or disconnect, not both
    Member.update(1, { badge: { delete: true, disconnect: true } })
    // @ts-expect-error: delete takes true
    Member.update(1, { profile: { delete: false } })
    // @ts-expect-error: a field of the child is checked
    Member.update(1, { badges: { update: [{ where: 1, data: { label: 1 } }] } })
    // @ts-expect-error: the child's id type
    Member.update(1, { badges: { update: [{ where: "1", data: {} }] } })
    // @ts-expect-error: a has-many's update takes [{ where, data }]
    Member.update(1, { badges: { update: { label: "x" } } })
    // @ts-expect-error: not in a create
    Member.create({ name: "n", profile: { delete: true } })
  })

  it("connect / disconnect take a many-to-many relation and its target's ids", () => {
    const ArticleLabel = Model.make("ArticleLabel", Schema.Struct({ id: Schema.Int, articleId: Schema.Int, labelId: Schema.Int }), {
      timestamps: false
    })
    const Article = Model.make("Article", Schema.Struct({ id: Schema.Int, title: Schema.String }), {
      timestamps: false,
      relations: {
        labels: Model.manyToMany(() => Label, { through: () => ArticleLabel, foreignKey: "articleId", otherKey: "labelId" }),
        notes: Model.hasMany(() => Comment, { foreignKey: "postId" })
      }
    })
    const _connected = Article.connect("labels", 1, [2, 3])
    expectTypeOf<Success<typeof _connected>>().toEqualTypeOf<{ readonly connected: number }>()
    const _disconnected = Article.disconnect("labels", 1, [2])
    expectTypeOf<Success<typeof _disconnected>>().toEqualTypeOf<{ readonly disconnected: number }>()
    const _created = Article.create({ title: "t", labels: { create: [{ name: "n" }], connect: [1] } })
    expectTypeOf<Success<typeof _created>["labels"]>().toEqualTypeOf<ReadonlyArray<{ readonly id: number; readonly name: string }>>()
    // @ts-expect-error: not a many-to-many relation
    Article.connect("notes", 1, [2])
    // @ts-expect-error: the target's ids are numbers
    Article.connect("labels", 1, ["2"])
    const _set = Article.update(1, { labels: { set: [1, 2], create: [{ name: "n" }] } })
    expectTypeOf<Success<typeof _set>["labels"]>().toEqualTypeOf<ReadonlyArray<{ readonly id: number; readonly name: string }>>()
    // @ts-expect-error: set replaces every link: not with connect
    Article.update(1, { labels: { set: [1], connect: [2] } })
  })

  it("composite keys: many-to-many keys and ids are key objects; belongs-to writes set both fields", () => {
    type ShelfKey = { readonly room: string; readonly slot: number }
    const Shelf = Model.make("Shelf", Schema.Struct({ room: Schema.String, slot: Schema.Int }), {
      timestamps: false,
      primaryKey: ["room", "slot"]
    })
    const Placement = Model.make(
      "Placement",
      Schema.Struct({ id: Schema.Int, bookId: Schema.Int, editionNo: Schema.Int, room: Schema.String, slot: Schema.Int }),
      { timestamps: false }
    )
    const Edition = Model.make("Edition", Schema.Struct({ bookId: Schema.Int, editionNo: Schema.Int, title: Schema.String }), {
      timestamps: false,
      primaryKey: ["bookId", "editionNo"],
      relations: {
        shelves: Model.manyToMany(() => Shelf, { through: () => Placement, foreignKey: ["bookId", "editionNo"], otherKey: ["room", "slot"] })
      }
    })
    // @ts-expect-error: a composite target's key is held by as many junction fields
    Model.manyToMany(() => Shelf, { through: () => Placement, foreignKey: "id", otherKey: "room" })
    // @ts-expect-error: a single-field target's key by one field
    Model.manyToMany(() => Label, { through: () => Placement, foreignKey: "id", otherKey: ["room", "slot"] })
    const _connected = Edition.connect("shelves", { bookId: 1, editionNo: 1 }, [{ room: "A", slot: 1 }])
    expectTypeOf<Success<typeof _connected>>().toEqualTypeOf<{ readonly connected: number }>()
    Edition.disconnect("shelves", { bookId: 1, editionNo: 1 }, [{ room: "A", slot: 1 }])
    // @ts-expect-error: every field of the target's key
    Edition.connect("shelves", { bookId: 1, editionNo: 1 }, [{ room: "A" }])
    // @ts-expect-error: the target's key is an object of its fields
    Edition.connect("shelves", { bookId: 1, editionNo: 1 }, ["A"])
    const _created = Edition.create({
      bookId: 1,
      editionNo: 1,
      title: "t",
      shelves: { create: [{ room: "B", slot: 2 }], connect: [{ room: "A", slot: 1 }] }
    })
    expectTypeOf<Success<typeof _created>["shelves"]>().toEqualTypeOf<ReadonlyArray<ShelfKey>>()
    Edition.update({ bookId: 1, editionNo: 1 }, { shelves: { set: [{ room: "A", slot: 1 }] } })
    // @ts-expect-error: set takes the target's keys
    Edition.update({ bookId: 1, editionNo: 1 }, { shelves: { set: [{ slot: 1 }] } })

    const Printing = Model.make(
      "Printing",
      Schema.Struct({ id: Schema.Int, bookId: Schema.NullOr(Schema.Int), editionNo: Schema.NullOr(Schema.Int), copies: Schema.Int }),
      { timestamps: false, relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"] }) } }
    )
    const _byKey = Printing.create({ copies: 1, edition: { connect: { bookId: 1, editionNo: 1 } } })
    expectTypeOf<Success<typeof _byKey>["edition"]>().toEqualTypeOf<{ readonly bookId: number; readonly editionNo: number; readonly title: string }>()
    Printing.create({ copies: 1, edition: { create: { bookId: 1, editionNo: 1, title: "t" } } })
    Printing.create({ copies: 1, bookId: 1, editionNo: 1 })
    // @ts-expect-error: a foreign key field and the relation
    Printing.create({ copies: 1, editionNo: 1, edition: { connect: { bookId: 1, editionNo: 1 } } })
    const _cleared = Printing.update(1, { edition: { disconnect: true } })
    expectTypeOf<Success<typeof _cleared>["edition"]>().toEqualTypeOf<null>()
    const Review = Model.make(
      "Review",
      Schema.Struct({ id: Schema.Int, bookId: Schema.Int, editionNo: Schema.NullOr(Schema.Int), stars: Schema.Int }),
      { timestamps: false, relations: { edition: Model.belongsTo(() => Edition, { foreignKey: ["bookId", "editionNo"] }) } }
    )
    // @ts-expect-error: disconnect clears every field of the key: bookId is not nullable
    Review.update(1, { edition: { disconnect: true } })
  })
})
