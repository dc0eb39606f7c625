import { describe, expect, it as vit } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Option, Schedule, Schema } from "effect"
import { DataFlow, Model, Relation, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const models = () => {
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(50)) }), {
    table: uniqueTable("rel_users"),
    relations: {
      posts: Model.hasMany((): Relation.Target<{ readonly id: number; readonly title: string }> => Post, { foreignKey: "authorId" })
    }
  })
  const Post = Model.make(
    "Post",
    Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String.pipe(Schema.maxLength(50)) }),
    {
      table: uniqueTable("rel_posts"),
      relations: {
        author: Model.belongsTo(() => User, { foreignKey: "authorId", onDelete: "cascade" }),
        comments: Model.hasMany((): Relation.Target<{ readonly id: number; readonly body: string }> => Comment, { foreignKey: "postId" })
      }
    }
  )
  const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String }), {
    table: uniqueTable("rel_comments"),
    relations: { post: Model.belongsTo(() => Post, { foreignKey: "postId", onDelete: "restrict" }) }
  })
  return { User, Post, Comment }
}

interface CategoryRecord {
  readonly id: number
  readonly name: string
  readonly parentId: number | null
}
const makeCategory = () => {
  const Category = Model.make(
    "Category",
    Schema.Struct({ id: Schema.Int, name: Schema.String, parentId: Schema.NullOr(Schema.Int) }),
    {
      table: uniqueTable("rel_categories"),
      relations: {
        parent: Model.belongsTo((): Relation.Target<CategoryRecord> => Category, { foreignKey: "parentId", onDelete: "setNull" }),
        children: Model.hasMany((): Relation.Target<CategoryRecord> => Category, { foreignKey: "parentId" })
      }
    }
  )
  return Category
}

forEachDatabase("relations-ddl", (it, db) => {
  it.effect("a transaction's first use of a model whose table references one it has written creates it (no wait for ever)", () =>
    Effect.gen(function*() {
      const Owner = Model.make("Owner", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(20)) }), {
        table: uniqueTable("fu_owners")
      })
      const Pet = Model.make("Pet", Schema.Struct({ id: Schema.Int, ownerId: Schema.Int, name: Schema.String.pipe(Schema.maxLength(20)) }), {
        table: uniqueTable("fu_pets"),
        relations: { owner: Model.belongsTo(() => Owner, { foreignKey: "ownerId" }) }
      })
      // PostgreSQL: Pet's CREATE TABLE locks owners, which the transaction has written: it runs in
      // the transaction; MySQL creates it outside and the transaction may be told to retry
      // (ER_TABLE_DEF_CHANGED, a retryable DatabaseError): the transaction's retry policy does
      const pet = yield* DataFlow.transaction(
        Effect.gen(function*() {
          const owner = yield* Owner.create({ name: "ann" })
          return yield* Pet.create({ ownerId: owner.id, name: "rex" })
        }),
        { retry: Schedule.recurs(2) }
      )
      expect((yield* Pet.read(pet.id, { include: { owner: true } })).owner?.name).toBe("ann")
      expect(yield* Owner.count()).toBe(1)
    }), 60_000)

  it.effect("first use of a model creates the tables it references first; the foreign key is enforced", () =>
    Effect.gen(function*() {
      const { Comment, Post, User } = models()
      // the comment's table is the first to be used: posts and users are created before it
      const orphan = yield* Effect.flip(Comment.create({ postId: 1, body: "x" }))
      expect(orphan._tag).toBe("ForeignKeyViolation")
      if (orphan._tag === "ForeignKeyViolation") expect(orphan.columns).toEqual(["postId"])
      const ada = yield* User.create({ name: "Ada" })
      const post = yield* Post.create({ authorId: ada.id, title: "Notes" })
      const missingAuthor = yield* Effect.flip(Post.create({ authorId: ada.id + 100, title: "x" }))
      expect(missingAuthor._tag).toBe("ForeignKeyViolation")
      if (missingAuthor._tag === "ForeignKeyViolation") {
        expect(missingAuthor.columns).toEqual(["authorId"])
        expect(missingAuthor.relation).toBe("author")
        expect(missingAuthor.message).toContain("relation author")
      }
      const moved = yield* Effect.flip(Post.update(post.id, { authorId: ada.id + 100 }))
      expect(moved._tag).toBe("ForeignKeyViolation")
      yield* Comment.create({ postId: post.id, body: "first" })
      // restrict: a post with comments cannot go
      const refused = yield* Effect.flip(Post.delete(post.id))
      expect(refused._tag).toBe("ForeignKeyViolation")
      // the constraint is the comment's: named where the database says which (not SQLite)
      if (refused._tag === "ForeignKeyViolation" && db.name !== "sqlite") expect(refused.relation).toBe("Comment.post")
      expect(yield* Post.count()).toBe(1)
    }))

  it.effect("cascade removes the referencing rows; setNull clears them (observed through raw SQL)", () =>
    Effect.gen(function*() {
      const { Post, User } = models()
      const ada = yield* User.create({ name: "Ada" })
      const bob = yield* User.create({ name: "Bob" })
      yield* Post.bulkCreate([{ authorId: ada.id, title: "a" }, { authorId: ada.id, title: "b" }, { authorId: bob.id, title: "c" }])
      yield* User.delete(ada.id)
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql.unsafe<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${db.name === "mysql" ? `\`${Post.table}\`` : `"${Post.table}"`}`)
      expect(Number(rows[0]!.n)).toBe(1)

      const Category = makeCategory()
      const root = yield* Category.create({ name: "root", parentId: null })
      const child = yield* Category.create({ name: "child", parentId: root.id })
      yield* Category.delete(root.id)
      expect((yield* Category.read(child.id)).parentId).toBeNull()
    }))

  it.effect("DataFlow.migrate creates referenced tables first, in any order given", () =>
    Effect.gen(function*() {
      const { Comment, Post, User } = models()
      yield* DataFlow.migrate([Comment, Post, User])
      const ada = yield* User.create({ name: "Ada" })
      const post = yield* Post.create({ authorId: ada.id, title: "t" })
      expect(Option.isSome(yield* Post.find(post.id))).toBe(true)
    }))

  it.effect("tenant-scoped models with application keys: the foreign key includes the tenant, no reference crosses tenants", () =>
    Effect.gen(function*() {
      const Org = Model.make("Org", Schema.Struct({ id: Model.UuidId, name: Schema.String }), {
        table: uniqueTable("rel_orgs"),
        tenantScoped: true
      })
      const Team = Model.make("Team", Schema.Struct({ id: Model.UuidId, orgId: Schema.String.pipe(Schema.maxLength(36)) }), {
        table: uniqueTable("rel_teams"),
        tenantScoped: true,
        relations: { org: Model.belongsTo(() => Org, { foreignKey: "orgId", onDelete: "cascade" }) }
      })
      const org = yield* Org.create({ name: "acme" }).pipe(Tenant.with("a"))
      yield* Team.create({ orgId: org.id }).pipe(Tenant.with("a"))
      const crossing = yield* Effect.flip(Team.create({ orgId: org.id }).pipe(Tenant.with("b")))
      expect(crossing._tag).toBe("ForeignKeyViolation")
      yield* Org.delete(org.id).pipe(Tenant.with("a"))
      expect(yield* Team.count().pipe(Tenant.with("a"))).toBe(0)
    }))

  it.effect("a relation that cannot be resolved is a ConfigurationError naming it", () =>
    Effect.gen(function*() {
      const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), { table: uniqueTable("rel_u") })
      const Bad = Model.make("Bad", Schema.Struct({ id: Schema.Int, ownerId: Schema.String }), {
        table: uniqueTable("rel_bad"),
        relations: { owner: Model.belongsTo(() => User, { foreignKey: "ownerId" }) }
      })
      const error = yield* Effect.flip(Bad.create({ ownerId: "x" }))
      expect(error._tag).toBe("ConfigurationError")
      expect(error.message).toContain("relation owner")
    }))
})

{
  // declaration-time checks need no database
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), { table: "decl_users" })
  const expectThrows = (f: () => unknown, text: string) => expect(f).toThrow(text)
  describe("relation declarations", () => {
    vit("refuse unknown foreign key fields, setNull on required fields, names of fields", () => {
      expectThrows(() =>
        Model.make("P", Schema.Struct({ id: Schema.Int, authorId: Schema.Int }), {
          relations: { author: Model.belongsTo(() => User, { foreignKey: "writerId" }) }
        }), "foreign key field writerId")
      expectThrows(() =>
        Model.make("P", Schema.Struct({ id: Schema.Int, authorId: Schema.Int }), {
          relations: { author: Model.belongsTo(() => User, { foreignKey: "authorId", onDelete: "setNull" }) }
        }), "setNull needs a nullable field")
      expectThrows(() =>
        Model.make("P", Schema.Struct({ id: Schema.Int, authorId: Schema.Int }), {
          relations: { authorId: Model.belongsTo(() => User, { foreignKey: "authorId" }) }
        }), "has the name of a field")
      expectThrows(() => Model.belongsTo(() => User, { foreignKey: "a", onDelete: "explode" as "cascade" }), "onDelete")
    })
  })
}
