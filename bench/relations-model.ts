/**
 * The N+1 relations workload's models and data (bench/relations.ts): users, posts with an
 * author among them, comments on the posts — 100 posts, each with an author among 20 users and
 * 5 comments. The tables are created by the library (`DataFlow.migrate`) and seeded once per
 * database; every implementation reads them and returns the same `LoadedPost`s, whose digest
 * (untimed) must agree.
 */
import { Effect, Schema } from "effect"
import type { Relation } from "../src/index.js"
import { DataFlow, Model } from "../src/index.js"
import type { Runtime } from "./ops.js"

export const REL_TABLES = { users: "bench_rel_users", posts: "bench_rel_posts", comments: "bench_rel_comments" } as const
export const REL_USERS = 20
export const REL_POSTS = 100
export const REL_COMMENTS_PER_POST = 5

interface PostRecord {
  readonly id: number
  readonly authorId: number
  readonly title: string
}

interface CommentRecord {
  readonly id: number
  readonly postId: number
  readonly body: string
}

export const RelUser = Model.make(
  "BenchRelUser",
  Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(100)) }),
  { table: REL_TABLES.users, timestamps: false }
)

export const RelPost = Model.make(
  "BenchRelPost",
  Schema.Struct({ id: Schema.Int, authorId: Schema.Int, title: Schema.String.pipe(Schema.maxLength(200)) }),
  {
    table: REL_TABLES.posts,
    timestamps: false,
    relations: {
      author: Model.belongsTo(() => RelUser, { foreignKey: "authorId" }),
      comments: Model.hasMany((): Relation.Target<CommentRecord> => RelComment, { foreignKey: "postId" })
    }
  }
)

export const RelComment = Model.make(
  "BenchRelComment",
  Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String.pipe(Schema.maxLength(200)) }),
  {
    table: REL_TABLES.comments,
    timestamps: false,
    relations: { post: Model.belongsTo((): Relation.Target<PostRecord> => RelPost, { foreignKey: "postId" }) }
  }
)

export interface LoadedUser {
  readonly id: number | string
  readonly name: string
}

export interface LoadedComment {
  readonly id: number | string
  readonly postId: number | string
  readonly body: string
}

/** One post with its author and comments, as an implementation returns it (ids may be BIGINT text). */
export interface LoadedPost {
  readonly id: number | string
  readonly authorId: number | string
  readonly title: string
  readonly author: LoadedUser | null
  readonly comments: ReadonlyArray<LoadedComment>
}

/**
 * The canonical text of a load (untimed): posts in id order, each with its author and its
 * comments in id order, ids as numbers. Every implementation's must be the reference's.
 */
export const digest = (posts: ReadonlyArray<LoadedPost>): string =>
  [...posts].sort((a, b) => Number(a.id) - Number(b.id)).map((p) => {
    const comments = [...p.comments].sort((a, b) => Number(a.id) - Number(b.id))
      .map((c) => `${Number(c.id)}/${Number(c.postId)}/${c.body}`).join(",")
    const author = p.author === null ? "null" : `${Number(p.author.id)}/${p.author.name}`
    return `${Number(p.id)}/${Number(p.authorId)}/${p.title}/${author}[${comments}]`
  }).join("\n")

/** Comment bodies and titles of some length, like text a page shows. */
const words = (seed: number, n: number) =>
  Array.from({ length: n }, (_, i) => ["lorem", "ipsum", "dolor", "sit", "amet", "engine", "notes", "table"][(seed * 31 + i * 7) % 8]).join(" ")

/**
 * Creates the three tables (the library's DDL: foreign keys and their indexes) and fills them
 * through the nodes (untimed): 20 users, 100 posts whose authors are spread over them, 5
 * comments per post, written post by post in turn (so a post's comments are not adjacent).
 * Returns the reference load, built from what was written.
 */
export const seedRelations = async (rt: Runtime): Promise<ReadonlyArray<LoadedPost>> =>
  rt.runPromise(Effect.gen(function*() {
    yield* DataFlow.migrate([RelComment, RelPost, RelUser])
    const users = (yield* RelUser.bulkCreate(
      Array.from({ length: REL_USERS }, (_, i) => ({ name: `User ${i + 1}` })),
      { returnRecords: true }
    )).records
    const posts = (yield* RelPost.bulkCreate(
      Array.from({ length: REL_POSTS }, (_, i) => ({ authorId: users[(i * 7) % REL_USERS]!.id, title: `Post ${i + 1}: ${words(i, 6)}` })),
      { returnRecords: true }
    )).records
    const comments = (yield* RelComment.bulkCreate(
      Array.from({ length: REL_POSTS * REL_COMMENTS_PER_POST }, (_, k) => {
        const post = posts[k % REL_POSTS]!
        return { postId: post.id, body: `Comment ${Math.floor(k / REL_POSTS) + 1} on ${post.id}: ${words(k, 12)}` }
      }),
      { returnRecords: true }
    )).records
    const byId = new Map(users.map((u) => [u.id, u]))
    return posts.map((p) => ({
      id: p.id,
      authorId: p.authorId,
      title: p.title,
      author: byId.get(p.authorId) ?? null,
      comments: comments.filter((c) => c.postId === p.id)
    }))
  }))
