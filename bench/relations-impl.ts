/**
 * The Effect implementations of the N+1 relations workload (bench/relations.ts): 100 posts
 * with their authors and comments, through
 *
 * - the nodes' `include` (one statement per relation: 3);
 * - the nodes' reads per post, batched and concurrent: `RelUser.read` of each author
 *   (request batching: one `IN` statement for all of them) and `RelComment.list` of each post's
 *   comments (a list by one field: one `IN` statement for all of them too), under
 *   `Relation.batched`;
 * - the same reads one after another (1 + 100 + 100 statements);
 * - for reference, the authors' reads alone, batched and one after another;
 * - hand-written `@effect/sql` statements (`sql.unsafe`): the three `IN` statements, and one
 *   JOIN of the three tables whose rows are grouped back into posts.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Relation } from "../src/index.js"
import type { DbName } from "./config.js"
import type { LoadedComment, LoadedPost, LoadedUser } from "./relations-model.js"
import { REL_POSTS, REL_TABLES, RelComment, RelPost, RelUser } from "./relations-model.js"

export type Load = Effect.Effect<ReadonlyArray<LoadedPost>, unknown, SqlClient.SqlClient>

/** (a) `include`: the posts, their authors, their comments — three statements. */
export const nodesInclude: Load = Effect.map(
  RelPost.list({ limit: REL_POSTS, include: { author: true, comments: true } }),
  (page) => page.records
)

/** A post's author and comments through the nodes' reads (what an N+1 loop does per post). */
const readsOf = (post: { readonly id: number; readonly authorId: number; readonly title: string }, concurrent: boolean) =>
  Effect.map(
    Effect.all([RelUser.read(post.authorId), RelComment.list({ where: { postId: post.id } })], {
      concurrency: concurrent ? "unbounded" : 1,
      batching: concurrent
    }),
    ([author, comments]): LoadedPost => ({ ...post, author, comments: comments.records })
  )

/** (b) The reads of every post at once, request batching on: the authors' reads become one statement, the comments' lists another. */
export const nodesBatched: Load = Relation.batched(Effect.flatMap(
  RelPost.list({ limit: REL_POSTS }),
  (page) => Effect.forEach(page.records, (post) => readsOf(post, true), { concurrency: "unbounded", batching: true })
))

/** (c) The same reads, one after another: the N+1 loop. */
export const nodesLoop: Load = Effect.flatMap(
  RelPost.list({ limit: REL_POSTS }),
  (page) => Effect.forEach(page.records, (post) => readsOf(post, false))
)

/**
 * The authors' reads alone (every post with `comments: []`), batched or one after another: the
 * part of the batched row that request batching merges, for reference (checked against the
 * posts written, without their comments).
 */
export const authorsOnly = (batched: boolean | "sequential"): Load => {
  const load = Effect.flatMap(
    RelPost.list({ limit: REL_POSTS }),
    (page) =>
      Effect.forEach(
        page.records,
        (post) => Effect.map(RelUser.read(post.authorId), (author): LoadedPost => ({ ...post, author, comments: [] })),
        // "sequential": the issue's own form, `Effect.forEach(ids, read, { batching: true })`
        batched === "sequential" ? { batching: true } : batched ? { concurrency: "unbounded", batching: true } : {}
      )
  )
  return batched === false ? load : Relation.batched(load)
}

type Row = Record<string, unknown>

/** Identifier quoting and parameter placeholders of a dialect. */
const dialectOf = (db: DbName) => ({
  q: db === "mysql" ? (id: string) => `\`${id}\`` : (id: string) => `"${id}"`,
  params: (n: number, from = 1) => Array.from({ length: n }, (_, i) => (db === "pg" ? `$${from + i}` : "?")).join(", ")
})

/** A BIGINT key as the grouping key (node-postgres returns BIGINT as text). */
const key = (v: unknown) => Number(v)

/** (d) Three hand-written statements: the posts, then their authors and comments by `IN (…)`. */
export const handIn = (db: DbName): Load => {
  const { params, q } = dialectOf(db)
  const posts = `SELECT ${q("id")}, ${q("author_id")}, ${q("title")} FROM ${q(REL_TABLES.posts)} ORDER BY ${q("id")} LIMIT ${REL_POSTS}`
  const users = (n: number) => `SELECT ${q("id")}, ${q("name")} FROM ${q(REL_TABLES.users)} WHERE ${q("id")} IN (${params(n)})`
  const comments = (n: number) =>
    `SELECT ${q("id")}, ${q("post_id")}, ${q("body")} FROM ${q(REL_TABLES.comments)} WHERE ${q("post_id")} IN (${params(n)}) ORDER BY ${
      q("id")
    }`
  return Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const postRows = yield* sql.unsafe<Row>(posts)
    const authorIds = [...new Set(postRows.map((p) => key(p.author_id)))]
    const postIds = postRows.map((p) => key(p.id))
    const userRows = yield* sql.unsafe<Row>(users(authorIds.length), authorIds)
    const commentRows = yield* sql.unsafe<Row>(comments(postIds.length), postIds)
    const byId = new Map<number, LoadedUser>()
    for (const u of userRows) byId.set(key(u.id), { id: u.id as number, name: u.name as string })
    const byPost = new Map<number, Array<LoadedComment>>()
    for (const c of commentRows) {
      const list = byPost.get(key(c.post_id))
      const comment = { id: c.id as number, postId: c.post_id as number, body: c.body as string }
      if (list === undefined) byPost.set(key(c.post_id), [comment])
      else list.push(comment)
    }
    return postRows.map((p): LoadedPost => ({
      id: p.id as number,
      authorId: p.author_id as number,
      title: p.title as string,
      author: byId.get(key(p.author_id)) ?? null,
      comments: byPost.get(key(p.id)) ?? []
    }))
  })
}

/**
 * (e) One hand-written JOIN: the page of posts in a derived table, LEFT JOIN its author and its
 * comments (a post's row repeated per comment), grouped back into posts in order.
 */
export const handJoin = (db: DbName): Load => {
  const { q } = dialectOf(db)
  const text = `SELECT p.${q("id")} AS ${q("p_id")}, p.${q("author_id")} AS ${q("p_author")}, p.${q("title")} AS ${q("p_title")}, u.${
    q("id")
  } AS ${q("u_id")}, u.${q("name")} AS ${q("u_name")}, c.${q("id")} AS ${q("c_id")}, c.${q("body")} AS ${q("c_body")} FROM (SELECT ${q("id")}, ${
    q("author_id")
  }, ${q("title")} FROM ${q(REL_TABLES.posts)} ORDER BY ${q("id")} LIMIT ${REL_POSTS}) p LEFT JOIN ${q(REL_TABLES.users)} u ON u.${q("id")} = p.${
    q("author_id")
  } LEFT JOIN ${q(REL_TABLES.comments)} c ON c.${q("post_id")} = p.${q("id")} ORDER BY p.${q("id")}, c.${q("id")}`
  return Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<Row>(text)
    const posts: Array<LoadedPost & { comments: Array<LoadedComment> }> = []
    let last: (LoadedPost & { comments: Array<LoadedComment> }) | undefined
    for (const r of rows) {
      if (last === undefined || key(last.id) !== key(r.p_id)) {
        last = {
          id: r.p_id as number,
          authorId: r.p_author as number,
          title: r.p_title as string,
          author: r.u_id === null ? null : { id: r.u_id as number, name: r.u_name as string },
          comments: []
        }
        posts.push(last)
      }
      if (r.c_id !== null) last.comments.push({ id: r.c_id as number, postId: r.p_id as number, body: r.c_body as string })
    }
    return posts
  })
}
