/**
 * Nested writes through belongs-to relations (create / connect / connectOrCreate in `create` and
 * `update`, disconnect of a nullable key), and the children a nested update replaces or deletes
 * (has-many delete / deleteMany / updateMany, many-to-many set), on every database: what comes
 * back, what is stored (raw SQL), typed errors naming the relation, nothing half-written,
 * tenants and soft delete.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Model, Relation, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface UserRecord {
  readonly id: number
  readonly name: string
}

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly categoryId: number | null
  readonly title: string
}

const models = () => {
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("nb_users"),
    timestamps: false,
    unique: ["name"],
    relations: { posts: Model.hasMany(() => Post, { foreignKey: "authorId" }) }
  })
  const Category = Model.make("Category", Schema.Struct({ id: Schema.Int, label: Schema.String }), {
    table: uniqueTable("nb_categories"),
    timestamps: false
  })
  const Post = Model.make(
    "Post",
    Schema.Struct({
      id: Schema.Int,
      authorId: Schema.Int,
      categoryId: Schema.NullOr(Schema.Int),
      title: Schema.String.pipe(Schema.maxLength(20))
    }),
    {
      table: uniqueTable("nb_posts"),
      timestamps: false,
      relations: {
        author: Model.belongsTo((): Relation.Target<UserRecord, { readonly name: string }> => User, { foreignKey: "authorId", onDelete: "cascade" }),
        category: Model.belongsTo(() => Category, { foreignKey: "categoryId", onDelete: "setNull" }),
        comments: Model.hasMany(() => Comment, { foreignKey: "postId" }),
        tags: Model.manyToMany(() => Tag, { through: (): Relation.Target => PostTag, foreignKey: "postId", otherKey: "tagId" })
      }
    }
  )
  const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("nb_comments"),
    timestamps: false,
    softDelete: true,
    relations: { post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }) }
  })
  const Tag = Model.make("Tag", Schema.Struct({ id: Schema.Int, label: Schema.String }), { table: uniqueTable("nb_tags"), timestamps: false })
  const PostTag = Model.make("PostTag", Schema.Struct({ id: Schema.Int, postId: Schema.Int, tagId: Schema.Int }), {
    table: uniqueTable("nb_post_tags"),
    timestamps: false,
    unique: [["postId", "tagId"]],
    relations: {
      post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }),
      tag: Model.belongsTo(() => Tag, { foreignKey: "tagId", onDelete: "cascade" })
    }
  })
  return { User, Category, Post, Comment, Tag, PostTag }
}

/** Rows of a table through raw SQL (soft-deleted ones included). */
const rawCount = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const quoted = sql.onDialectOrElse({ mysql: () => `\`${table}\``, orElse: () => `"${table}"` })
    const rows = yield* sql.unsafe<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${quoted}`)
    return Number(rows[0]!.n)
  })

forEachDatabase("nested-writes-belongs-to", (it) => {
  it.effect("create through belongs-to: create, connect by id or unique key, connectOrCreate; nested at depth", () =>
    Effect.gen(function*() {
      const { Category, Post, User } = models()
      const post = yield* Post.create({ title: "one", author: { create: { name: "Ada" } }, categoryId: null })
      expect(post.author.name).toBe("Ada")
      expect(post.authorId).toBe(post.author.id)
      expect((yield* Post.read(post.id)).authorId).toBe(post.author.id)

      const byId = yield* Post.create({ title: "two", author: { connect: post.author.id }, category: { create: { label: "news" } } })
      expect([byId.authorId, byId.author.name, byId.categoryId]).toEqual([post.author.id, "Ada", byId.category.id])
      const byName = yield* Post.create({ title: "three", author: { connect: { name: "Ada" } }, categoryId: null })
      expect(byName.authorId).toBe(post.author.id)
      const found = yield* Post.create({
        title: "four",
        categoryId: null,
        author: { connectOrCreate: { where: { name: "Ada" }, create: { name: "Ada" } } }
      })
      expect(found.authorId).toBe(post.author.id)
      const made = yield* Post.create({
        title: "five",
        categoryId: null,
        author: { connectOrCreate: { where: { name: "Bob" }, create: { name: "Bob" } } }
      })
      expect(made.author.name).toBe("Bob")
      expect(yield* rawCount(User.table)).toBe(2)

      // depth: a belongs-to inside a has-many child, and children inside a belongs-to's create
      const news = yield* Category.create({ label: "tech" })
      const eve = yield* User.create({ name: "Eve", posts: { create: [{ title: "six", category: { connect: news.id } }] } })
      expect(eve.posts.map((p) => [p.authorId, p.categoryId])).toEqual([[eve.id, news.id]])
      const deep = yield* Post.create({
        title: "seven",
        categoryId: null,
        // (the thunk's annotation does not carry User's relations: the types stop there)
        author: { create: { name: "Zed", posts: { create: [{ title: "eight", categoryId: null }] } } as never }
      })
      expect(yield* Post.count({ authorId: deep.authorId })).toBe(2)
      expect(yield* rawCount(Post.table)).toBe(8)
    }))

  it.effect("create through belongs-to fails whole: NotFound naming the relation, both key and relation, a bad child", () =>
    Effect.gen(function*() {
      const { Category, Comment, Post, User } = models()
      const missing = yield* Effect.flip(
        Post.create({ title: "p", categoryId: null, author: { connect: 987_654 }, comments: { create: [{ body: "c" }] } })
      )
      expect(missing).toMatchObject({ _tag: "NotFound", model: "User", id: 987_654, relation: "Post.author" })
      // the author is created first: a bad post, or a bad sibling, removes it again
      const badPost = yield* Effect.flip(Post.create({ title: "x".repeat(30), categoryId: null, author: { create: { name: "Ada" } } }))
      expect(badPost._tag).toBe("ValidationError")
      const badSibling = yield* Effect.flip(
        Post.create({ title: "p", author: { create: { name: "Ada" } }, category: { connect: 987_654 }, comments: { create: [{ body: "c" }] } })
      )
      expect(badSibling).toMatchObject({ _tag: "NotFound", model: "Category", relation: "Post.category" })
      const badChild = yield* Effect.flip(
        Post.create({ title: "p", categoryId: null, author: { create: { name: "Ada" } }, comments: { create: [{ body: "x".repeat(30) }] } })
      )
      expect(badChild._tag).toBe("ValidationError")
      // a bad belongs-to deep in a has-many child: the user and its other posts are not written
      const cat = yield* Category.create({ label: "c" })
      const deep = yield* Effect.flip(
        User.create({ name: "Bob", posts: { create: [{ title: "ok", category: { connect: cat.id } }, { title: "no", category: { connect: 987_654 } }] } })
      )
      expect(deep._tag).toBe("NotFound")
      expect([yield* rawCount(User.table), yield* rawCount(Post.table), yield* rawCount(Comment.table)]).toEqual([0, 0, 0])

      const both = yield* Effect.flip(Post.create({ title: "p", categoryId: null, authorId: 1, author: { connect: 1 } } as never))
      expect(both._tag === "ValidationError" && both.path).toBe("author")
      const two = yield* Effect.flip(Post.create({ title: "p", categoryId: null, author: { connect: 1, create: { name: "A" } } } as never))
      expect(two._tag === "ValidationError" && two.path).toBe("author")
      const notUnique = yield* Effect.flip(Post.create({ title: "p", categoryId: null, author: { connect: { id: 1, name: "A" } } }))
      expect(notUnique._tag === "ValidationError" && notUnique.path).toBe("author.connect")
      const notInCreate = yield* Effect.flip(Post.create({ title: "p", author: { disconnect: true } } as never))
      expect(notInCreate._tag === "ValidationError" && notInCreate.path).toBe("author.disconnect")
      const ownsParent = yield* Effect.flip(User.create({ name: "Cy", posts: { create: [{ title: "p", categoryId: null, author: { connect: 1 } } as never] } }))
      expect(ownsParent._tag).toBe("ValidationError")
      expect(yield* rawCount(User.table)).toBe(0)
    }))

  it.effect("update through belongs-to: connect, create, disconnect a nullable key; a failure leaves the record as it was", () =>
    Effect.gen(function*() {
      const { Category, Post, User } = models()
      const post = yield* Post.create({ title: "p", author: { create: { name: "Ada" } }, category: { create: { label: "a" } } })
      const bob = yield* User.create({ name: "Bob" })
      const moved = yield* Post.update(post.id, { title: "q", author: { connect: bob.id } })
      expect([moved.title, moved.authorId, moved.author.name]).toEqual(["q", bob.id, "Bob"])
      const created = yield* Post.update(post.id, { author: { create: { name: "Cy" } }, category: { disconnect: true } })
      expect([created.author.name, created.categoryId, created.category]).toEqual(["Cy", null, null])
      const stored = yield* Post.read(post.id)
      expect([stored.authorId, stored.categoryId]).toEqual([created.author.id, null])

      const missing = yield* Effect.flip(Post.update(post.id, { title: "r", author: { create: { name: "Dee" } }, category: { connect: 987_654 } }))
      expect(missing).toMatchObject({ _tag: "NotFound", model: "Category", relation: "Post.category" })
      expect((yield* Post.read(post.id)).title).toBe("q")
      expect(yield* User.count({ name: "Dee" })).toBe(0)
      const noPost = yield* Effect.flip(Post.update(987_654, { author: { create: { name: "Eve" } } }))
      expect(noPost).toMatchObject({ _tag: "NotFound", model: "Post" })
      expect(yield* User.count({ name: "Eve" })).toBe(0)
      const required = yield* Effect.flip(Post.update(post.id, { author: { disconnect: true } } as never))
      expect(required._tag === "ValidationError" && required.path).toBe("author.disconnect")
      expect(yield* rawCount(Category.table)).toBe(1)
    }))

  it.effect("update of children: delete, deleteMany (soft), updateMany, many-to-many set; all or nothing", () =>
    Effect.gen(function*() {
      const { Comment, Post, PostTag, Tag } = models()
      const post = yield* Post.create({
        title: "p",
        categoryId: null,
        author: { create: { name: "Ada" } },
        comments: { create: [{ body: "a" }, { body: "b" }, { body: "spam 1" }, { body: "spam 2" }] }
      })
      const other = yield* Post.create({ title: "o", categoryId: null, author: { connect: { name: "Ada" } }, comments: { create: [{ body: "spam 3" }] } })
      const [a, b] = post.comments
      const updated = yield* Post.update(post.id, {
        comments: { deleteMany: { body: { $like: "spam%" } }, updateMany: { where: { body: "b" }, data: { body: "B" } }, create: [{ body: "new" }] }
      })
      expect(updated.comments.map((c) => c.body)).toEqual(["new"])
      const live = yield* Comment.list({ where: { postId: post.id }, orderBy: ["id"] })
      expect(live.records.map((c) => c.body)).toEqual(["a", "B", "new"])
      expect(yield* Comment.count({ postId: other.id })).toBe(1)
      // soft delete: the rows are still there
      expect(yield* rawCount(Comment.table)).toBe(6)

      // delete by key: a comment of another post is NotFound, and nothing of the update is written
      const foreign = other.comments[0]!.id
      const notChild = yield* Effect.flip(Post.update(post.id, { title: "z", comments: { delete: [a!.id, foreign] } }))
      expect(notChild).toMatchObject({ _tag: "NotFound", model: "Comment", id: foreign, relation: "Post.comments" })
      expect(yield* Comment.count({ postId: post.id })).toBe(3)
      expect((yield* Post.read(post.id)).title).toBe("p")
      yield* Post.update(post.id, { comments: { delete: [a!.id] } })
      expect((yield* Comment.list({ where: { postId: post.id }, orderBy: ["id"] })).records.map((c) => c.id)).not.toContain(a!.id)
      // a bad updateMany patch rolls back the deletes before it
      const bad = yield* Effect.flip(Post.update(post.id, { comments: { delete: [b!.id], updateMany: { data: { body: "x".repeat(30) } } } }))
      expect(bad).toMatchObject({ _tag: "ValidationError", model: "Comment" })
      expect(yield* Comment.count({ postId: post.id })).toBe(2)
      const badFilter = yield* Effect.flip(Post.update(post.id, { comments: { deleteMany: { nope: 1 } as never } }))
      expect(badFilter._tag).toBe("InvalidFilter")
      const ownKey = yield* Effect.flip(Post.update(post.id, { comments: { deleteMany: { postId: 1 } as never } }))
      expect(ownKey._tag === "ValidationError" && ownKey.path).toBe("comments.deleteMany.postId")

      // many-to-many set: the links replaced, the tags kept
      const [red, blue, green] = (yield* Tag.bulkCreate([{ label: "red" }, { label: "blue" }, { label: "green" }], { returnRecords: true })).records
      yield* Post.update(post.id, { tags: { connect: [red!.id, blue!.id] } })
      const set = yield* Post.update(post.id, { tags: { set: [blue!.id, green!.id], create: [{ label: "new" }] } })
      expect(set.tags.map((t) => t.label)).toEqual(["new", "blue", "green"])
      const loaded = yield* Post.read(post.id, { include: { tags: { orderBy: ["label"] } } })
      expect(loaded.tags.map((t) => t.label)).toEqual(["blue", "green", "new"])
      const missingTag = yield* Effect.flip(Post.update(post.id, { tags: { set: [987_654] } }))
      expect(missingTag._tag).toBe("ForeignKeyViolation")
      expect(yield* PostTag.count({ postId: post.id })).toBe(3)
      yield* Post.update(post.id, { tags: { set: [] } })
      expect(yield* PostTag.count({ postId: post.id })).toBe(0)
      expect(yield* Tag.count()).toBe(4)
    }))

  it.effect("a belongs-to referencing a unique key: the key set is the referenced field's", () =>
    Effect.gen(function*() {
      const Account = Model.make("Account", Schema.Struct({ id: Schema.Int, code: Schema.String.pipe(Schema.maxLength(10)) }), {
        table: uniqueTable("nb_accounts"),
        timestamps: false,
        unique: ["code"]
      })
      const Invoice = Model.make("Invoice", Schema.Struct({ id: Schema.Int, accountCode: Schema.String.pipe(Schema.maxLength(10)) }), {
        table: uniqueTable("nb_invoices"),
        timestamps: false,
        relations: { account: Model.belongsTo(() => Account, { foreignKey: "accountCode", references: "code", onDelete: "cascade" }) }
      })
      const first = yield* Invoice.create({ account: { create: { code: "A1" } } })
      expect([first.accountCode, first.account.code]).toEqual(["A1", "A1"])
      const byId = yield* Invoice.create({ account: { connect: first.account.id } })
      expect(byId.accountCode).toBe("A1")
      const byCode = yield* Invoice.create({ account: { connect: { code: "A1" } } })
      expect(byCode.accountCode).toBe("A1")
      expect(yield* Invoice.count({ accountCode: "A1" })).toBe(3)
    }))

  it.effect("tenants: a connect to another tenant's record is NotFound; a nested create is the caller's tenant's", () =>
    Effect.gen(function*() {
      interface OrgRecord {
        readonly id: string
        readonly name: string
      }
      const Org = Model.make("Org", Schema.Struct({ id: Model.UuidId, name: Schema.String }), {
        table: uniqueTable("nb_orgs"),
        tenantScoped: true
      })
      const Team = Model.make("Team", Schema.Struct({ id: Model.UuidId, orgId: Schema.String.pipe(Schema.maxLength(36)), name: Schema.String }), {
        table: uniqueTable("nb_teams"),
        tenantScoped: true,
        relations: { org: Model.belongsTo((): Relation.Target<OrgRecord> => Org, { foreignKey: "orgId", onDelete: "cascade" }) }
      })
      const team = yield* Team.create({ name: "red", org: { create: { name: "acme" } } }).pipe(Tenant.with("a"))
      expect(team.orgId).toBe(team.org.id)
      expect(yield* Org.count().pipe(Tenant.with("a"))).toBe(1)
      expect(yield* Org.count().pipe(Tenant.with("b"))).toBe(0)
      const elsewhere = yield* Effect.flip(Team.create({ name: "blue", org: { connect: team.orgId } }).pipe(Tenant.with("b")))
      expect(elsewhere).toMatchObject({ _tag: "NotFound", model: "Org", relation: "Team.org" })
      const moved = yield* Effect.flip(Team.update(team.id, { org: { connect: team.orgId } }).pipe(Tenant.with("b")))
      expect(moved._tag).toBe("NotFound")
      expect(yield* Team.count().pipe(Tenant.with("b"))).toBe(0)
    }))
})
