/**
 * A nested `update` of the children it names, on every database: a has-one's child updated,
 * deleted (soft on a soft-delete model) or disconnected (its nullable key cleared, or replaced
 * with `create`); has-many children updated by id or unique key and disconnected by id. Only
 * children of the record are touched (`NotFound` naming the relation), versions and `updatedAt`
 * are stamped as the child's own `update` stamps them, tenants apply, and any failure leaves
 * everything as it was — observed through the stored rows.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Schema, TestClock } from "effect"
import { Model, Relation, Tenant } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

interface ProfileRecord {
  readonly id: number
  readonly userId: number
  readonly bio: string
}
interface DeskRecord {
  readonly id: number
  readonly ownerId: number | null
  readonly label: string
}
interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
  readonly version: number
  readonly createdAt: Date
  readonly updatedAt: Date
}
interface NoteRecord {
  readonly id: number
  readonly ownerId: number | null
  readonly body: string
}

const models = () => {
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
    table: uniqueTable("nc_users"),
    timestamps: false,
    relations: {
      profile: Model.hasOne((): Relation.Target<ProfileRecord, { readonly userId: number; readonly bio: string }> => Profile, {
        foreignKey: "userId"
      }),
      desk: Model.hasOne((): Relation.Target<DeskRecord, { readonly ownerId?: number | null; readonly label: string }> => Desk, {
        foreignKey: "ownerId"
      }),
      posts: Model.hasMany((): Relation.Target<PostRecord, { readonly authorId: number; readonly title: string }> => Post, {
        foreignKey: "authorId"
      }),
      notes: Model.hasMany((): Relation.Target<NoteRecord, { readonly ownerId?: number | null; readonly body: string }> => Note, {
        foreignKey: "ownerId"
      })
    }
  })
  const Profile = Model.make("Profile", Schema.Struct({ id: Schema.Int, userId: Schema.Int, bio: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("nc_profiles"),
    versioned: true,
    softDelete: true,
    unique: ["userId"],
    relations: { user: Model.belongsTo(() => User, { foreignKey: "userId", onDelete: "cascade" }) }
  })
  const Desk = Model.make("Desk", Schema.Struct({ id: Schema.Int, ownerId: Schema.NullOr(Schema.Int), label: Schema.String }), {
    table: uniqueTable("nc_desks"),
    timestamps: false,
    unique: ["ownerId"],
    relations: { owner: Model.belongsTo(() => User, { foreignKey: "ownerId", onDelete: "setNull" }) }
  })
  const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("nc_posts"),
    versioned: true,
    unique: ["title"],
    relations: { author: Model.belongsTo(() => User, { foreignKey: "authorId", onDelete: "cascade" }) }
  })
  const Note = Model.make("Note", Schema.Struct({ id: Schema.Int, ownerId: Schema.NullOr(Schema.Int), body: Schema.String }), {
    table: uniqueTable("nc_notes"),
    timestamps: false,
    softDelete: true,
    relations: { owner: Model.belongsTo(() => User, { foreignKey: "ownerId", onDelete: "setNull" }) }
  })
  return { User, Profile, Desk, Post, Note }
}

/** Rows of a table through raw SQL (soft-deleted ones included). */
const rawCount = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const quoted = sql.onDialectOrElse({ mysql: () => `\`${table}\``, orElse: () => `"${table}"` })
    const rows = yield* sql.unsafe<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${quoted}`)
    return Number(rows[0]!.n)
  })

const start = Date.UTC(2024, 0, 1)

forEachDatabase("nested-writes-children", (it) => {
  it.effect("has-one: update (version and updatedAt stamped), disconnect (nullable key), replace, delete (soft); NotFound naming the relation", () =>
    Effect.gen(function*() {
      const { Desk, Profile, User } = models()
      yield* TestClock.setTime(start)
      const ada = yield* User.create({ name: "Ada", profile: { create: { bio: "mathematician" } }, desk: { create: { label: "oak" } } })
      yield* TestClock.adjust("1 second")

      const updated = yield* User.update(ada.id, { name: "Ada L", profile: { update: { bio: "countess" } } })
      expect(updated.name).toBe("Ada L")
      expect(updated.profile).toMatchObject({ id: ada.profile.id, userId: ada.id, bio: "countess", version: 2, updatedAt: new Date(start + 1000) })
      expect(yield* Profile.read(ada.profile.id)).toEqual(updated.profile)

      // disconnect: the desk stays, without an owner; again (no desk): nothing to do
      const detached = yield* User.update(ada.id, { desk: { disconnect: true } })
      expect(detached.desk).toBeNull()
      expect((yield* Desk.read(ada.desk.id)).ownerId).toBeNull()
      expect((yield* User.update(ada.id, { desk: { disconnect: true } })).desk).toBeNull()
      // replaced: the old one detached, a new one created for the record
      const pine = (yield* User.update(ada.id, { desk: { create: { label: "pine" } } })).desk
      const replaced = yield* User.update(ada.id, { desk: { disconnect: true, create: { label: "elm" } } })
      expect(replaced.desk).toMatchObject({ ownerId: ada.id, label: "elm" })
      expect((yield* Desk.read(pine.id)).ownerId).toBeNull()
      expect((yield* Desk.list({ where: { ownerId: ada.id } })).records.map((d) => d.label)).toEqual(["elm"])
      expect(yield* rawCount(Desk.table)).toBe(3)

      // delete: soft on a soft-delete child model (the row stays, stamped)
      const deleted = yield* User.update(ada.id, { profile: { delete: true } })
      expect(deleted.profile).toBeNull()
      expect(yield* Profile.count({ userId: ada.id })).toBe(0)
      expect(yield* rawCount(Profile.table)).toBe(1)
      const again = yield* Effect.flip(User.update(ada.id, { name: "Z", profile: { delete: true } }))
      expect(again).toMatchObject({ _tag: "NotFound", model: "Profile", id: ada.id, relation: "User.profile" })
      const noChild = yield* Effect.flip(User.update(ada.id, { name: "Z", profile: { update: { bio: "x" } } }))
      expect(noChild).toMatchObject({ _tag: "NotFound", model: "Profile", id: ada.id, relation: "User.profile" })
      expect((yield* User.read(ada.id)).name).toBe("Ada L")
      // the soft-deleted profile still holds its unique key
      const held = yield* Effect.flip(User.update(ada.id, { profile: { create: { bio: "again" } } }))
      expect(held._tag).toBe("UniqueViolation")
    }))

  it.effect("has-one: a failing write leaves everything as it was; bad shapes are ValidationErrors naming the path", () =>
    Effect.gen(function*() {
      const { Desk, Profile, User } = models()
      const ada = yield* User.create({ name: "Ada", profile: { create: { bio: "b" } }, desk: { create: { label: "oak" } } })
      const tooLong = yield* Effect.flip(User.update(ada.id, { name: "Z", desk: { disconnect: true }, profile: { update: { bio: "x".repeat(30) } } }))
      expect(tooLong).toMatchObject({ _tag: "ValidationError", model: "Profile" })
      expect((yield* User.read(ada.id)).name).toBe("Ada")
      expect((yield* Desk.read(ada.desk.id)).ownerId).toBe(ada.id)
      const taken = yield* Effect.flip(User.update(ada.id, { desk: { delete: true, create: { label: "new" } }, profile: { create: { bio: "2nd" } } }))
      expect(taken._tag).toBe("UniqueViolation")
      expect(yield* Desk.count({ ownerId: ada.id })).toBe(1)
      expect(yield* Desk.count({ label: "new" })).toBe(0)

      const paths = [
        [{ profile: { disconnect: true } }, "profile.disconnect"], // Profile.userId is not nullable
        [{ profile: { update: { bio: "b" }, delete: true } }, "profile.update"],
        [{ profile: { delete: false } }, "profile.delete"],
        [{ desk: { delete: true, disconnect: true } }, "desk.disconnect"],
        [{ profile: { update: { userId: 5 } } }, "profile.update.userId"],
        [{ profile: { update: "x" } }, "profile.update"]
      ] as const
      for (const [patch, path] of paths) {
        const bad = yield* Effect.flip(User.update(ada.id, patch as never))
        expect(bad._tag === "ValidationError" && bad.path).toBe(path)
      }
      expect((yield* Profile.read(ada.profile.id)).bio).toBe("b")
    }))

  it.effect("has-many: update by id or unique key (stamped), only the record's children; disconnect by id; all or nothing", () =>
    Effect.gen(function*() {
      const { Note, Post, User } = models()
      yield* TestClock.setTime(start)
      const ada = yield* User.create({
        name: "Ada",
        posts: { create: [{ title: "one" }, { title: "two" }] },
        notes: { create: [{ body: "a" }, { body: "b" }, { body: "c" }] }
      })
      const bob = yield* User.create({ name: "Bob", posts: { create: [{ title: "three" }] } })
      const [one, two] = ada.posts
      const three = bob.posts[0]!
      yield* TestClock.adjust("1 minute")

      const updated = yield* User.update(ada.id, {
        posts: {
          update: [{ where: one!.id, data: { title: "uno" } }, { where: { title: "two" }, data: { title: "dos" } }],
          create: [{ title: "tres" }]
        }
      })
      expect(updated.posts.map((p) => [p.title, p.authorId, p.version])).toEqual([["uno", ada.id, 2], ["dos", ada.id, 2], ["tres", ada.id, 1]])
      expect(updated.posts[0]!.updatedAt).toEqual(new Date(start + 60_000))
      const stored = yield* Post.list({ where: { authorId: ada.id }, orderBy: ["id"] })
      expect(stored.records).toEqual(updated.posts)

      // a key that is no child of the record: NotFound naming the relation, nothing written
      const foreign = yield* Effect.flip(User.update(ada.id, { name: "Z", posts: { update: [{ where: one!.id, data: { title: "x" } }, { where: three.id, data: { title: "y" } }] } }))
      expect(foreign).toMatchObject({ _tag: "NotFound", model: "Post", id: three.id, relation: "User.posts" })
      const byUnique = yield* Effect.flip(User.update(ada.id, { posts: { update: [{ where: { title: "three" }, data: { title: "y" } }] } }))
      expect(byUnique).toMatchObject({ _tag: "NotFound", model: "Post", id: "title=three", relation: "User.posts" })
      // the child's own errors: a taken title rolls back the update before it
      const taken = yield* Effect.flip(User.update(ada.id, { posts: { update: [{ where: one!.id, data: { title: "x" } }, { where: two!.id, data: { title: "three" } }] } }))
      expect(taken._tag).toBe("UniqueViolation")
      expect((yield* Post.list({ orderBy: ["id"] })).records.map((p) => [p.title, p.version])).toEqual([["uno", 2], ["dos", 2], ["three", 1], [
        "tres",
        1
      ]])
      expect((yield* User.read(ada.id)).name).toBe("Ada")

      // disconnect: the notes stay, without an owner; a note that is not the record's is NotFound
      const [a, b, c] = ada.notes
      const detached = yield* User.update(ada.id, { notes: { disconnect: [a!.id, b!.id] } })
      expect(detached.notes).toEqual([])
      expect((yield* Note.read(a!.id)).ownerId).toBeNull()
      expect((yield* Note.list({ where: { ownerId: ada.id } })).records.map((n) => n.body)).toEqual(["c"])
      const notOwned = yield* Effect.flip(User.update(ada.id, { notes: { disconnect: [c!.id, a!.id] } }))
      expect(notOwned).toMatchObject({ _tag: "NotFound", model: "Note", id: a!.id, relation: "User.notes" })
      expect((yield* Note.read(c!.id)).ownerId).toBe(ada.id)
      // a soft-deleted child is no longer there to update
      yield* User.update(ada.id, { notes: { delete: [c!.id] } })
      const gone = yield* Effect.flip(User.update(ada.id, { notes: { update: [{ where: c!.id, data: { body: "again" } }] } }))
      expect(gone).toMatchObject({ _tag: "NotFound", model: "Note", relation: "User.notes" })
      expect(yield* rawCount(Note.table)).toBe(3)

      const paths = [
        [{ posts: { disconnect: [one!.id] } }, "posts.disconnect"], // Post.authorId is not nullable
        [{ posts: { update: { where: one!.id, data: {} } } }, "posts.update"],
        [{ posts: { update: [{ where: { id: one!.id, title: "uno" }, data: {} }] } }, "posts.update.0.where"],
        [{ posts: { update: [{ where: "x", data: {} }] } }, "posts.update.0.where"],
        [{ posts: { update: [{ where: one!.id, data: { authorId: bob.id } }] } }, "posts.update.0.data.authorId"],
        [{ posts: { update: [{ where: one!.id, data: {}, extra: 1 }] } }, "posts.update.0.extra"],
        [{ notes: { disconnect: ["x"] } }, "notes.disconnect.0"]
      ] as const
      for (const [patch, path] of paths) {
        const bad = yield* Effect.flip(User.update(ada.id, patch as never))
        expect(bad._tag === "ValidationError" && bad.path).toBe(path)
      }
      const badData = yield* Effect.flip(User.update(ada.id, { posts: { update: [{ where: one!.id, data: { title: "x".repeat(30) } }] } }))
      expect(badData).toMatchObject({ _tag: "ValidationError", model: "Post" })
    }))

  it.effect("a parent whose referenced key is null has no children: the orphans (key NULL) are not its own", () =>
    Effect.gen(function*() {
      interface BadgeRecord {
        readonly id: number
        readonly holderCode: string | null
        readonly label: string
      }
      const Member = Model.make("Member", Schema.Struct({ id: Schema.Int, code: Schema.NullOr(Schema.String.pipe(Schema.maxLength(10))) }), {
        table: uniqueTable("nc_members"),
        timestamps: false,
        unique: ["code"],
        relations: {
          badge: Model.hasOne((): Relation.Target<BadgeRecord> => Badge, { foreignKey: "holderCode", references: "code" }),
          badges: Model.hasMany((): Relation.Target<BadgeRecord> => Badge, { foreignKey: "holderCode", references: "code" })
        }
      })
      const Badge = Model.make("Badge", Schema.Struct({ id: Schema.Int, holderCode: Schema.NullOr(Schema.String.pipe(Schema.maxLength(10))), label: Schema.String }), {
        table: uniqueTable("nc_badges"),
        timestamps: false,
        relations: { holder: Model.belongsTo(() => Member, { foreignKey: "holderCode", references: "code", onDelete: "setNull" }) }
      })
      const nobody = yield* Member.create({ code: null })
      const stray = yield* Badge.create({ holderCode: null, label: "stray" })
      for (const patch of [{ badge: { delete: true } }, { badge: { update: { label: "x" } } }, { badges: { update: [{ where: stray.id, data: { label: "x" } }] } }]) {
        const none = yield* Effect.flip(Member.update(nobody.id, patch as never))
        expect(none).toMatchObject({ _tag: "NotFound", model: "Badge" })
      }
      expect(yield* Member.update(nobody.id, { badge: { disconnect: true } } as never)).toMatchObject({ id: nobody.id, badge: null })
      expect(yield* Effect.flip(Member.update(nobody.id, { badges: { delete: [stray.id] } } as never))).toMatchObject({ _tag: "NotFound", model: "Badge" })
      // filtered writes of the children touch none either
      yield* Member.update(nobody.id, { badges: { updateMany: { where: {}, data: { label: "x" } }, deleteMany: {} } } as never)
      expect(yield* Badge.read(stray.id)).toEqual(stray)
    }))

  it.effect("tenants: a child of another tenant is NotFound; the record's own are updated in its tenant", () =>
    Effect.gen(function*() {
      interface TeamRecord {
        readonly id: string
        readonly orgId: string
        readonly name: string
      }
      const Org = Model.make("Org", Schema.Struct({ id: Model.UuidId, name: Schema.String }), {
        table: uniqueTable("nc_orgs"),
        tenantScoped: true,
        relations: {
          teams: Model.hasMany((): Relation.Target<TeamRecord, { readonly orgId: string; readonly name: string }> => Team, { foreignKey: "orgId" })
        }
      })
      const Team = Model.make("Team", Schema.Struct({ id: Model.UuidId, orgId: Schema.String.pipe(Schema.maxLength(36)), name: Schema.String }), {
        table: uniqueTable("nc_teams"),
        tenantScoped: true,
        relations: { org: Model.belongsTo(() => Org, { foreignKey: "orgId", onDelete: "cascade" }) }
      })
      const acme = yield* Org.create({ name: "acme", teams: { create: [{ name: "red" }] } }).pipe(Tenant.with("a"))
      const other = yield* Org.create({ name: "other", teams: { create: [{ name: "blue" }] } }).pipe(Tenant.with("b"))
      const elsewhere = yield* Effect.flip(
        Org.update(acme.id, { teams: { update: [{ where: other.teams[0]!.id, data: { name: "x" } }] } }).pipe(Tenant.with("a"))
      )
      expect(elsewhere).toMatchObject({ _tag: "NotFound", model: "Team", relation: "Org.teams" })
      const fromB = yield* Effect.flip(
        Org.update(acme.id, { teams: { update: [{ where: acme.teams[0]!.id, data: { name: "x" } }] } }).pipe(Tenant.with("b"))
      )
      expect(fromB).toMatchObject({ _tag: "NotFound", model: "Org" })
      const renamed = yield* Org.update(acme.id, { teams: { update: [{ where: acme.teams[0]!.id, data: { name: "green" } }] } }).pipe(
        Tenant.with("a")
      )
      expect(renamed.teams.map((t) => t.name)).toEqual(["green"])
      expect((yield* Team.list().pipe(Tenant.with("a"))).records.map((t) => t.name)).toEqual(["green"])
      expect((yield* Team.list().pipe(Tenant.with("b"))).records.map((t) => t.name)).toEqual(["blue"])
    }))
})
