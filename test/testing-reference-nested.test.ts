/**
 * The testing kit's reference runs nested writes: the same calls — nested creates (has-many,
 * has-one, many-to-many, belongs-to create / connect / connectOrCreate, nested again), nested
 * updates (children deleted, deleted and updated by filter, links replaced, belongs-to
 * connect / disconnect), `connect` / `disconnect`, and calls meant to fail — give the
 * database's answers and leave the database's rows, on every database.
 */
import { expect, it as effectIt } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Model, Relation, Tenant } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { recorder, records, sameOnReference } from "./support/steps.js"

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
    profile: Model.hasOne((): Relation.Target<ProfileRecord, ProfileRecord> => Profile, { foreignKey: "userId" }),
    desk: Model.hasOne((): Relation.Target<DeskRecord, DeskRecord> => Desk, { foreignKey: "userId" })
  }
})
interface DeskRecord {
  readonly id: string
  readonly userId: string | null
  readonly label: string
}
// a has-one whose foreign key is nullable (disconnect), versioned (a nested update stamps it)
const Desk = Model.make("RnDesk", Schema.Struct({ id: Key, userId: Schema.NullOr(Key), label: Text }), {
  table: uniqueTable("rn_desks"),
  timestamps: false,
  versioned: true,
  unique: ["userId"]
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
  unique: ["label"],
  // a has-many whose foreign key is nullable (disconnect)
  relations: { posts: Model.hasMany((): Relation.Target<PostRecord, PostInput> => Post, { foreignKey: "categoryId" }) }
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
const models = [User, Profile, Desk, Category, Post, Comment, Tag, PostTag]

/** Every stored row (the junction's generated key left out). */
const stored = Effect.gen(function*() {
  const all = records
  return {
    users: yield* all(User.list({ orderBy: ["id"] })),
    profiles: yield* all(Profile.list({ orderBy: ["id"] })),
    desks: yield* all(Desk.list({ orderBy: ["id"] })),
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
  const { step, steps } = recorder(stored)
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
    tags: { create: [{ id: "t1", label: "red" }] },
    comments: { create: [comment("c5", "zeta")] }
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
  yield* step("deleting a deleted child", Post.update("p1", { title: "gone", comments: { delete: ["c1"] } }))
  yield* step("deleting another's child", Post.update("p1", { title: "gone", comments: { delete: ["c3", "c5"] } }))
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

  // children named by key
  yield* step("a has-one child updated", User.update("u1", { profile: { update: { bio: "countess" } } }))
  yield* step("a has-one child replaced", User.update("u1", { profile: { delete: true, create: { id: "pr4", bio: "new" } } }))
  yield* step("no has-one child to delete", User.update("u2", { name: "Bo", profile: { delete: true } }))
  yield* step("no has-one child to update", User.update("u2", { name: "Bo", profile: { update: { bio: "x" } } }))
  yield* step("a required has-one key disconnected", User.update("u1", { profile: { disconnect: true } } as never))
  yield* step("a desk", User.update("u1", { desk: { create: { id: "dk1", label: "oak" } } }))
  yield* step("a desk updated, its version stamped", User.update("u1", { desk: { update: { label: "pine" } } }))
  yield* step("a desk disconnected and replaced", User.update("u1", { desk: { disconnect: true, create: { id: "dk2", label: "elm" } } }))
  yield* step("no desk to disconnect", User.update("u3", { desk: { disconnect: true } }))
  yield* step("a has-one update with a create", User.update("u1", { desk: { update: { label: "x" }, create: { id: "dk3", label: "y" } } } as never))
  yield* step("a has-one patch naming the key", User.update("u1", { desk: { update: { userId: "u2" } } } as never))
  yield* step("children disconnected and updated by key", Category.update("k1", {
    posts: { disconnect: ["p4"], update: [{ where: { title: "eight" }, data: { title: "eight!" } }] }
  }))
  yield* step("a disconnected child updated by key", Category.update("k1", { label: "x", posts: { update: [{ where: "p4", data: { title: "four!" } }] } }))
  yield* step("a child's unique key taken by its update", Category.update("k1", { label: "y", posts: { update: [{ where: "p8", data: { title: "two" } }] } }))
  yield* step("an update by key naming the foreign key", Category.update("k1", { posts: { update: [{ where: "p8", data: { categoryId: null } }] } } as never))
  yield* step("an update by no unique key", Category.update("k1", { posts: { update: [{ where: { authorId: "u4" }, data: { title: "z" } }] } } as never))
  yield* step("a soft-delete child updated by key", Post.update("p1", { comments: { update: [{ where: "c4", data: { approved: false } }] } }))
  yield* step("a required has-many key disconnected", Post.update("p1", { comments: { disconnect: ["c4"] } } as never))

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
  return steps
})

// tenants, a belongs-to by a unique key (`references`), soft-deleted targets and links, a
// composite-keyed child, generated keys
const Org = Model.make("RnOrg", Schema.Struct({ id: Key, name: Text }), {
  table: uniqueTable("rn_orgs"),
  tenantScoped: true,
  timestamps: false,
  relations: { teams: Model.hasMany((): Relation.Target<{ readonly id: string; readonly orgId: string; readonly name: string }> => Team, { foreignKey: "orgId" }) }
})
const Team = Model.make("RnTeam", Schema.Struct({ id: Key, orgId: Key, name: Text }), {
  table: uniqueTable("rn_teams"),
  tenantScoped: true,
  timestamps: false,
  relations: { org: Model.belongsTo(() => Org, { foreignKey: "orgId", onDelete: "cascade" }) }
})
const Account = Model.make("RnAccount", Schema.Struct({ id: Key, code: Key }), { table: uniqueTable("rn_accounts"), timestamps: false, unique: ["code"] })
const Invoice = Model.make("RnInvoice", Schema.Struct({ id: Key, accountCode: Key }), {
  table: uniqueTable("rn_invoices"),
  timestamps: false,
  relations: { account: Model.belongsTo(() => Account, { foreignKey: "accountCode", references: "code", onDelete: "cascade" }) }
})
const Label = Model.make("RnLabel", Schema.Struct({ id: Key, name: Text }), { table: uniqueTable("rn_labels"), timestamps: false, softDelete: true })
const Doc = Model.make("RnDoc", Schema.Struct({ id: Key, title: Text }), {
  table: uniqueTable("rn_docs"),
  timestamps: false,
  relations: {
    labels: Model.manyToMany(() => Label, { through: (): Relation.Target => DocLabel, foreignKey: "docId", otherKey: "labelId" }),
    lines: Model.hasMany((): Relation.Target<{ readonly docId: string; readonly n: number; readonly text: string }> => Line, { foreignKey: "docId" }),
    notes: Model.hasMany((): Relation.Target<{ readonly id: number; readonly docId: string; readonly body: string }> => Note, { foreignKey: "docId" })
  }
})
const DocLabel = Model.make("RnDocLabel", Schema.Struct({ id: Schema.Int, docId: Key, labelId: Key }), {
  table: uniqueTable("rn_doc_labels"),
  timestamps: false,
  softDelete: true,
  unique: [["docId", "labelId"]]
})
const Line = Model.make("RnLine", Schema.Struct({ docId: Key, n: Schema.Int, text: Text }), {
  table: uniqueTable("rn_lines"),
  timestamps: false,
  primaryKey: ["docId", "n"]
})
// generated keys, written by successful calls only (a failed one uses up numbers of a database's sequence)
const Note = Model.make("RnNote", Schema.Struct({ id: Schema.Int, docId: Key, body: Text }), { table: uniqueTable("rn_notes"), timestamps: false })
const moreModels = [Org, Team, Account, Invoice, Label, Doc, DocLabel, Line, Note]

const storedMore = Effect.gen(function*() {
  const tenants = (tenant: string) =>
    Effect.all({ orgs: records(Org.list({ orderBy: ["id"] })), teams: records(Team.list({ orderBy: ["id"] })) }).pipe(Tenant.with(tenant))
  return {
    a: yield* tenants("a"),
    b: yield* tenants("b"),
    accounts: yield* records(Account.list({ orderBy: ["id"] })),
    invoices: yield* records(Invoice.list({ orderBy: ["id"] })),
    labels: yield* records(Label.list({ orderBy: ["id"], includeDeleted: true })),
    docs: yield* records(Doc.list({ orderBy: ["id"] })),
    links: yield* records(DocLabel.list({ orderBy: ["docId", "labelId"], select: ["docId", "labelId", "deletedAt"], includeDeleted: true })),
    lines: yield* records(Line.list({ orderBy: ["docId", "n"] })),
    notes: yield* records(Note.list({ orderBy: ["id"] }))
  }
})

const moreProgram = Effect.gen(function*() {
  const { step, steps } = recorder(storedMore)
  const a = Tenant.with("a")
  const b = Tenant.with("b")
  yield* step("a tenant's record with children", Org.create({ id: "o1", name: "acme", teams: { create: [{ id: "m1", name: "red" }, { id: "m2", name: "blue" }] } }).pipe(a))
  yield* step("a connect to another tenant's record", Team.create({ id: "m3", name: "green", org: { connect: "o1" } }).pipe(b))
  yield* step("a belongs-to created as the tenant", Team.create({ id: "m3", name: "green", org: { create: { id: "o2", name: "beta" } } }).pipe(b))
  yield* step("moved to another tenant's record", Team.update("m3", { org: { connect: "o1" } }).pipe(b))
  yield* step("a tenant's children by filter", Org.update("o1", { teams: { deleteMany: { name: "red" }, create: [{ id: "m4", name: "cyan" }] } }).pipe(a))
  yield* step("another tenant's children untouched", Org.update("o2", { teams: { updateMany: { data: { name: "all" } } } }).pipe(b))

  yield* step("references: created", Invoice.create({ id: "i1", account: { create: { id: "a1", code: "A1" } } }))
  yield* step("references: connect by id", Invoice.create({ id: "i2", account: { connect: "a1" } }))
  yield* step("references: connect by code", Invoice.create({ id: "i3", account: { connect: { code: "A1" } } }))
  yield* step("references: connectOrCreate", Invoice.create({ id: "i4", account: { connectOrCreate: { where: { code: "B2" }, create: { id: "a2", code: "B2" } } } }))
  yield* step("references: connect naming none", Invoice.create({ id: "i5", account: { connect: { code: "C3" } } }))

  yield* step("labels", Label.bulkCreate([{ id: "l1", name: "one" }, { id: "l2", name: "two" }, { id: "l3", name: "three" }]))
  yield* step("a label deleted", Label.delete("l3"))
  yield* step("a soft-deleted label connected", Doc.create({ id: "d1", title: "doc", labels: { connect: ["l1", "l3"] } }))
  yield* step("lines, notes and labels", Doc.create({
    id: "d1",
    title: "doc",
    labels: { connect: ["l1"], create: [{ id: "l4", name: "four" }] },
    lines: { create: [{ n: 1, text: "a" }, { n: 2, text: "b" }] },
    notes: { create: [{ body: "x" }, { body: "y" }] }
  }))
  yield* step("a composite-keyed child deleted by key", Doc.update("d1", { lines: { delete: [{ docId: "d1", n: 1 }], create: [{ n: 3, text: "c" }] } }))
  yield* step("a composite-keyed child that is none", Doc.update("d1", { title: "x", lines: { delete: [{ docId: "d1", n: 9 }] } }))
  yield* step("a composite-keyed child taken", Doc.update("d1", { title: "y", lines: { create: [{ n: 4, text: "d" }, { n: 2, text: "e" }] } }))
  yield* step("more notes", Doc.update("d1", { notes: { create: [{ body: "z" }] } }))
  yield* step("connect a soft-deleted label", Doc.connect("labels", "d1", ["l2", "l3"]))
  yield* step("disconnect: the link soft-deleted", Doc.disconnect("labels", "d1", ["l1"]))
  yield* step("connect again: the soft-deleted link keeps its key", Doc.connect("labels", "d1", ["l1"]))
  yield* step("links replaced", Doc.update("d1", { labels: { set: ["l2"] } }))
  return steps
})

forEachDatabase("reference nested writes", (it) => {
  it.effect("the same nested writes give the database's answers and rows, failing ones included", () => sameOnReference(program, models, stored), 120_000)
  it.effect("tenants, references, soft-deleted targets and links, composite-keyed children: the database's answers and rows", () =>
    sameOnReference(moreProgram, moreModels, storedMore), 120_000)
})

effectIt.effect("Testing.reference's own calls run nested writes too, all or nothing; related models need not be listed", () =>
  Effect.gen(function*() {
    const ref = Testing.reference([User])
    const ada = yield* ref.call(User, {
      node: "create",
      input: { id: "u1", name: "Ada", posts: { create: [{ id: "p1", title: "one", categoryId: null, tags: { create: [{ id: "t1", label: "red" }] } }] } }
    })
    expect(ada).toMatchObject({ id: "u1", posts: [{ id: "p1", authorId: "u1", tags: [{ id: "t1", label: "red" }] }] })
    const failed = yield* Effect.flip(ref.call(Post, { node: "update", id: "p1", patch: { title: "new", tags: { create: [{ id: "t2", label: "blue" }], connect: ["nope"] } } }))
    expect(failed).toMatchObject({ _tag: "ForeignKeyViolation", relation: "tags", columns: ["tagId"] })
    expect([ref.records(Post).map((p) => p.title), ref.records(Tag).map((t) => t.id), ref.records(PostTag).length]).toEqual([["one"], ["t1"], 1])
  }))
