/**
 * Relation filters, differential: random filters over belongs-to and has-many relations (some /
 * every / none, nested two levels, under $and / $or / $not, with NULLs in the related rows and
 * soft-deleted related rows) give on every database the rows a JavaScript evaluation of the
 * documented semantics gives — and so does the testing kit's reference (`Reference.matches` over
 * the same rows). Size: DATAFLOW_RELATION_RUNS (default 40 filters per client).
 */
import { expect } from "@effect/vitest"
import { Effect, FastCheck as fc, Schema } from "effect"
import { Model, Relation } from "../src/index.js"
import { definitionOf } from "../src/internal/model/definition.js"
import * as Reference from "../src/internal/testing/reference.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const runs = Number(process.env.DATAFLOW_RELATION_RUNS ?? 40)

interface U {
  readonly id: number
  readonly name: string
}
interface P {
  readonly id: number
  readonly authorId: number
  readonly title: string
  readonly deletedAt?: Date | null
}
interface C {
  readonly id: number
  readonly postId: number
  readonly stars: number | null
}

const models = () => {
  const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }), {
    table: uniqueTable("rd_users"),
    relations: { posts: Model.hasMany((): Relation.Target<P> => Post, { foreignKey: "authorId" }) }
  })
  const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String }), {
    table: uniqueTable("rd_posts"),
    softDelete: true,
    relations: {
      author: Model.belongsTo(() => User, { foreignKey: "authorId" }),
      comments: Model.hasMany((): Relation.Target<C> => Comment, { foreignKey: "postId" })
    }
  })
  const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, stars: Schema.NullOr(Schema.Int) }), {
    table: uniqueTable("rd_comments"),
    relations: { post: Model.belongsTo(() => Post, { foreignKey: "postId" }) }
  })
  return { User, Post, Comment }
}

/** The data, from a fixed seed: every run of every client sees the same rows. */
const data = fc.sample(
  fc.record({
    posts: fc.array(fc.record({ author: fc.nat(5), title: fc.constantFrom("a", "b", "c"), deleted: fc.boolean() }), { minLength: 10, maxLength: 14 }),
    comments: fc.array(fc.record({ post: fc.nat(13), stars: fc.option(fc.nat(4), { nil: null }) }), { minLength: 12, maxLength: 20 })
  }),
  { numRuns: 1, seed: 20261207 }
)[0]!

type Filter = Record<string, unknown>
interface World {
  readonly users: ReadonlyArray<U>
  readonly posts: ReadonlyArray<P>
  readonly comments: ReadonlyArray<C>
}

/** Random filters of each model, two relation levels deep. */
const commentFilter: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ stars: fc.oneof(fc.constant(null), fc.record({ $gte: fc.nat(4) }), fc.record({ $ne: fc.nat(4) })) }),
  fc.constant({})
)
const postScalar: fc.Arbitrary<Filter> = fc.record({ title: fc.oneof(fc.constantFrom("a", "b", "c"), fc.record({ $ne: fc.constantFrom("a", "b") })) })
const many = (inner: fc.Arbitrary<Filter>) =>
  fc.constantFrom("some", "every", "none").chain((op) => inner.map((f) => ({ [op]: f })))
const postFilter: fc.Arbitrary<Filter> = fc.oneof(
  postScalar,
  fc.record({ comments: many(commentFilter) }),
  fc.record({ author: fc.record({ name: fc.constantFrom("u0", "u1", "u2") }) }),
  fc.tuple(postScalar, many(commentFilter)).map(([s, c]) => ({ $or: [s, { comments: c }] }))
)
const userFilter: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ posts: many(postFilter) }),
  postFilter.map((p) => ({ $not: { posts: { some: p } } })),
  fc.tuple(fc.constantFrom("u0", "u3"), many(postFilter)).map(([name, p]) => ({ $or: [{ name }, { posts: p }] })),
  fc.tuple(many(postFilter), many(postFilter)).map(([a, b]) => ({ $and: [{ posts: a }, { posts: b }] }))
)

/** A comparison with NULL is false (then negated by $not / every as false). */
const holds = (v: unknown, cond: unknown): boolean => {
  if (cond === null) return v === null
  if (typeof cond !== "object") return v === cond
  return Object.entries(cond as Filter).every(([op, x]) =>
    op === "$ne" ? v === null || v !== x : op === "$gte" ? v !== null && (v as number) >= (x as number) : false
  )
}
const manyHolds = (rows: ReadonlyArray<unknown>, cond: Filter, test: (row: never, f: Filter) => boolean): boolean => {
  const [op, f] = Object.entries(cond)[0]!
  const matches = (r: unknown) => test(r as never, f as Filter)
  return op === "some" ? rows.some(matches) : op === "every" ? rows.every(matches) : !rows.some(matches)
}
const logical = <R>(row: R, f: Filter, self: (row: R, f: Filter) => boolean, field: (row: R, key: string, cond: unknown) => boolean): boolean =>
  Object.entries(f).every(([key, cond]) =>
    key === "$and"
      ? (cond as ReadonlyArray<Filter>).every((g) => self(row, g))
      : key === "$or"
      ? (cond as ReadonlyArray<Filter>).some((g) => self(row, g))
      : key === "$not"
      ? !self(row, cond as Filter)
      : field(row, key, cond)
  )

const evaluate = (w: World) => {
  const live = w.posts.filter((p) => p.deletedAt === undefined || p.deletedAt === null)
  const comment = (c: C, f: Filter): boolean => logical(c, f, comment, (row, key, cond) => holds(row[key as keyof C], cond))
  const post = (p: P, f: Filter): boolean =>
    logical(p, f, post, (row, key, cond) =>
      key === "comments"
        ? manyHolds(w.comments.filter((c) => c.postId === row.id), cond as Filter, comment)
        : key === "author"
        ? w.users.some((u) => u.id === row.authorId && user(u, cond as Filter))
        : holds(row[key as keyof P], cond))
  const user = (u: U, f: Filter): boolean =>
    logical(u, f, user, (row, key, cond) =>
      key === "posts" ? manyHolds(live.filter((p) => p.authorId === row.id), cond as Filter, post) : holds(row[key as keyof U], cond))
  return { user, post }
}

forEachDatabase("relation filters, differential", (it) => {
  const m = models()
  const world = Effect.gen(function*() {
    if ((yield* m.User.count()) > 0) {
      return {
        users: (yield* m.User.list({})).records,
        posts: (yield* m.Post.list({ includeDeleted: true })).records,
        comments: (yield* m.Comment.list({})).records
      } as World
    }
    const users = (yield* m.User.bulkCreate(Array.from({ length: 6 }, (_, i) => ({ name: `u${i}` })), { returnRecords: true })).records
    const created = (yield* m.Post.bulkCreate(data.posts.map((p) => ({ authorId: users[p.author]!.id, title: p.title })), { returnRecords: true }))
      .records
    const comments = (yield* m.Comment.bulkCreate(
      data.comments.filter((c) => c.post < created.length).map((c) => ({ postId: created[c.post]!.id, stars: c.stars })),
      { returnRecords: true }
    )).records
    const gone = created.filter((_, i) => data.posts[i]!.deleted)
    if (gone.length > 0) yield* m.Post.bulkDelete({ id: { $in: gone.map((p) => p.id) } })
    const posts = (yield* m.Post.list({ includeDeleted: true })).records
    return { users, posts, comments } as World
  })

  it.effect("random user and post filters over relations: the rows the documented semantics give", () =>
    Effect.gen(function*() {
      const w = yield* world
      const { post, user } = evaluate(w)
      // the kit's reference evaluation of the same filters over the same rows
      const [userDef, postDef] = [definitionOf(m.User), definitionOf(m.Post)]
      const related = Reference.relatedRows((def) => (def === userDef ? w.users : def === postDef ? w.posts : w.comments) as ReadonlyArray<never>, undefined)
      const kit = (def: typeof userDef, rows: ReadonlyArray<{ readonly id: number }>, f: Filter) =>
        ids(rows.filter((r) => Reference.matches(def, f, r as never, related)))
      const problems: Array<string> = []
      // the filters must tell rows apart, or agreement would prove little
      let partial = 0
      const ids = (rows: ReadonlyArray<{ readonly id: number }>) => rows.map((r) => r.id).sort((a, b) => a - b)
      for (const f of fc.sample(userFilter, { numRuns: runs, seed: 1 })) {
        const want = ids(w.users.filter((u) => user(u, f)))
        if (want.length > 0 && want.length < w.users.length) partial++
        const got = ids((yield* m.User.list({ where: f as never })).records)
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`User ${JSON.stringify(f)}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
        const byKit = kit(userDef, w.users, f)
        if (JSON.stringify(byKit) !== JSON.stringify(want)) problems.push(`kit: User ${JSON.stringify(f)}: ${JSON.stringify(byKit)}, want ${JSON.stringify(want)}`)
      }
      const live = w.posts.filter((p) => p.deletedAt === undefined || p.deletedAt === null)
      for (const f of fc.sample(postFilter, { numRuns: runs, seed: 2 })) {
        const want = ids(live.filter((p) => post(p, f)))
        if (want.length > 0 && want.length < live.length) partial++
        const got = ids((yield* m.Post.list({ where: f as never })).records)
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`Post ${JSON.stringify(f)}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
        const byKit = kit(postDef, live, f)
        if (JSON.stringify(byKit) !== JSON.stringify(want)) problems.push(`kit: Post ${JSON.stringify(f)}: ${JSON.stringify(byKit)}, want ${JSON.stringify(want)}`)
      }
      expect(problems).toEqual([])
      expect(partial).toBeGreaterThan(runs / 2)
    }))
})
