/**
 * Batched `list`s by a foreign key on PostgreSQL: the comments of N posts read by N
 * `Comment.list({ where: { postId } })` one after another, the same N batched (one statement),
 * the same N batched with a page each (`limit`: one statement with `ROW_NUMBER()`), and the
 * posts read with `include: { comments: true }` (two statements), in interleaved rounds (the
 * machine is shared: compare within a round, never single runs).
 *
 *   npx tsx scripts/batching-lists.ts [postgres URL] [N posts] [comments per post] [rounds]
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { DataFlow, Model, Relation } from "../src/index.js"

const url = process.argv[2] ?? "postgres://postgres@127.0.0.1:5432/test"
const N = Number(process.argv[3] ?? 100)
const perPost = Number(process.argv[4] ?? 5)
const rounds = Number(process.argv[5] ?? 30)
const suffix = Date.now()

interface PostRecord {
  readonly id: number
  readonly title: string
}

const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, title: Schema.String }), {
  table: `batching_lists_posts_${suffix}`,
  relations: { comments: Model.hasMany(() => Comment, { foreignKey: "postId" }) }
})
const Comment = Model.make("Comment", Schema.Struct({ id: Schema.Int, postId: Schema.Int, body: Schema.String }), {
  table: `batching_lists_comments_${suffix}`,
  relations: { post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }) }
})

const time = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* self
    return performance.now() - start
  })

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const program = Effect.gen(function*() {
  yield* DataFlow.migrate([Post, Comment])
  const posts = (yield* Post.bulkCreate(Array.from({ length: N }, (_, i) => ({ title: `p${i}` })), { returnRecords: true })).records
  yield* Comment.bulkCreate(posts.flatMap((p) => Array.from({ length: perPost }, (_, i) => ({ postId: p.id, body: `c${i}` }))))
  const ids = posts.map((p) => p.id)
  const byPost = (postId: number) => Comment.list({ where: { postId } })
  const firstTwo = (postId: number) => Comment.list({ where: { postId }, orderBy: ["-id"], limit: 2 })
  const cases = {
    sequential: Effect.forEach(ids, byPost, { discard: true }),
    batched: Relation.batched(Effect.forEach(ids, byPost, { batching: true, discard: true })),
    "batched, limit 2": Relation.batched(Effect.forEach(ids, firstTwo, { batching: true, discard: true })),
    include: Post.list({ where: { id: { $in: ids } }, include: { comments: true } })
  }
  const names = Object.keys(cases) as Array<keyof typeof cases>
  const samples: Record<string, Array<number>> = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds + 3; r++) {
    for (const name of names) {
      const ms = yield* time(cases[name])
      if (r >= 3) samples[name]!.push(ms)
    }
  }
  for (const name of names) console.log(`${name}: median ${median(samples[name]!).toFixed(2)} ms`)
  const ratio = (a: string, b: string) => {
    const ratios = samples[a]!.map((s, i) => s / samples[b]![i]!)
    return `median ${median(ratios).toFixed(2)}× (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`
  }
  console.log(`sequential / batched, per round: ${ratio("sequential", "batched")}`)
  console.log(`sequential / batched with limit, per round: ${ratio("sequential", "batched, limit 2")}`)
  console.log(`batched / include, per round: ${ratio("batched", "include")}`)
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`DROP TABLE ${Comment.table}`)
  yield* sql.unsafe(`DROP TABLE ${Post.table}`)
})

Effect.runPromise(program.pipe(Effect.provide(DataFlow.layer({ url }))))
