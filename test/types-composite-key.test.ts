/**
 * Type-level guarantees of composite primary keys, checked by `tsc --noEmit -p .`: the key of
 * a composite model is the object of its fields (a partial object or a scalar does not
 * compile), a single-key model keeps its scalar key, and the key's fields are required on
 * create. Nothing here touches a database; the effects are built, never run.
 */
import { Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { Model } from "../src/index.js"

const Follow = Model.make(
  "Follow",
  Schema.Struct({ followerId: Schema.Int, followingId: Schema.Int, note: Schema.NullOr(Schema.String) }),
  { primaryKey: ["followerId", "followingId"] }
)

const User = Model.make("User", Schema.Struct({ id: Schema.Int, email: Schema.String }), { unique: ["email"] })

const Tagged = Model.make(
  "Tagged",
  Schema.Struct({ articleId: Schema.String, tag: Schema.String, weight: Schema.Int }),
  { primaryKey: ["articleId", "tag"], versioned: true, softDelete: true }
)

describe("composite primary keys", () => {
  it("the key is the object of the key's fields", () => {
    expectTypeOf<Model.Key<typeof Follow>>().toEqualTypeOf<{ readonly followerId: number; readonly followingId: number }>()
    expectTypeOf<Model.Key<typeof Tagged>>().toEqualTypeOf<{ readonly articleId: string; readonly tag: string }>()
    expectTypeOf(Follow.primaryKey).toEqualTypeOf<ReadonlyArray<"followerId" | "followingId">>()
  })

  it("a single-key model keeps its scalar key", () => {
    expectTypeOf<Model.Key<typeof User>>().toEqualTypeOf<number>()
    expectTypeOf(User.primaryKey).toEqualTypeOf<"id">()
  })

  it("every node takes the key object", () => {
    Follow.read({ followerId: 1, followingId: 2 })
    Follow.find({ followerId: 1, followingId: 2 })
    Follow.update({ followerId: 1, followingId: 2 }, { note: "x" })
    Follow.delete({ followerId: 1, followingId: 2 })
    Tagged.restore({ articleId: "a", tag: "t" })
    Follow.readBy({ followerId: 1, followingId: 2 })
    Follow.bulkUpdate([{ id: { followerId: 1, followingId: 2 }, patch: { note: null } }])
  })

  it("a partial key object, a scalar or a wrong field type does not compile", () => {
    // @ts-expect-error a part of the key is missing
    Follow.read({ followerId: 1 })
    // @ts-expect-error a scalar is not a composite key
    Follow.read(1)
    // @ts-expect-error a key field of the wrong type
    Follow.delete({ followerId: "1", followingId: 2 })
    // @ts-expect-error a partial key in bulkUpdate
    Follow.bulkUpdate([{ id: { followerId: 1 }, patch: {} }])
    // @ts-expect-error a single-key model does not take an object
    User.read({ id: 1 })
  })

  it("the key's fields are required on create and cannot be patched", () => {
    type Input = Parameters<typeof Follow.create>[0]
    expectTypeOf<Input>().toEqualTypeOf<{ readonly followerId: number; readonly followingId: number; readonly note: string | null }>()
    // @ts-expect-error followingId is required
    Follow.create({ followerId: 1, note: null })
    // @ts-expect-error a key field cannot be changed by update
    Follow.update({ followerId: 1, followingId: 2 }, { followerId: 3 })
  })
})
