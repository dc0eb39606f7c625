/**
 * The report section of the N+1 relations benchmark (bench/relations.ts): the issue's three
 * targets with their verdicts (PostgreSQL; the other databases' ratios for reference), then
 * per database every implementation's statements, loads per second and time ÷ `include`.
 */
import type { ImplResult, RelationsConfig, RelationsDbResult } from "./relations.js"
import { REL_COMMENTS_PER_POST, REL_POSTS, REL_USERS } from "./relations-model.js"
import { fmtAgainst, MIN_VERDICT_ROUNDS, verdict } from "./report.js"
import { median } from "./stats.js"

/** The issue's targets: time ratios. */
export const TARGET_INCLUDE_VS_IN = 1.2
export const TARGET_LOOP_VS_INCLUDE = 5
export const TARGET_LOOP_VS_BATCHED = 5

const fmtRate = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1))
const spread = (xs: ReadonlyArray<number>) => {
  if (xs.length < 2) return "–"
  const m = median(xs)
  return `±${Math.round(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100)}%`
}

const implRow = (i: ImplResult) =>
  `| ${i.name} | ${i.statements ?? "–"} | ${fmtRate(median(i.rates))} | ${spread(i.rates)} | ${
    i.key === "include" ? "1" : median(i.vsInclude).toFixed(2)
  }× |`

export const renderRelations = (rc: RelationsConfig, results: ReadonlyArray<RelationsDbResult>, skipped: ReadonlyArray<string>): string => {
  const yesNo = verdict(rc.rounds)
  const lines = [
    "## N+1 relations",
    "",
    `${REL_POSTS} posts with their author (among ${REL_USERS} users) and their comments (${REL_COMMENTS_PER_POST} a post), loaded whole by each implementation; every load must return the same posts, authors and comments (checked after every timed run). A timed run is ${rc.reps} loads; ${rc.rounds} rounds, the implementations in turn (the order rotating); medians. Ratios are time ratios within a round, medians over the rounds.`,
    "",
    "- **include**: `Post.list({ limit: 100, include: { author: true, comments: true } })`.",
    "- **batched reads**: `Post.list({ limit: 100 })`, then per post `User.read(authorId)` and `Comment.list({ where: { postId } })`, all posts at once (`Effect.forEach(…, { concurrency: \"unbounded\", batching: true })` under `Relation.batched`): the authors' reads are one `IN` statement, the comment lists (a list by one field) another; each post's read and list are an `Effect.all` nested in the `forEach`, which Effect's request machinery makes dear.",
    "- **loop of reads**: the same reads, one post after another.",
    "- **the authors' reads alone**, batched and one after another: the reads by key request batching merges (100 reads of 20 distinct authors: one `IN` statement); the batching target is measured on them.",
    "- **hand-written**: `sql.unsafe` on the same `SqlClient`: the three statements with `IN (?, …)`, or one LEFT JOIN grouped back into posts.",
    "- **peers**: Drizzle ORM's relational query (`db.query.posts.findMany({ with: { author: true, comments: true } })`), Kysely with `jsonObjectFrom` / `jsonArrayFrom`: one statement each.",
    ""
  ]
  if (rc.rounds < MIN_VERDICT_ROUNDS) {
    lines.push(`**${rc.rounds} timed rounds: not enough for a verdict (at least ${MIN_VERDICT_ROUNDS}); the ratios are shown.**`, "")
  }
  lines.push("### Targets (PostgreSQL)", "")
  lines.push("| target | " + results.map((r) => r.title).join(" | ") + " | verdict (PostgreSQL) |")
  lines.push("| --- | " + results.map(() => "---:").join(" | ") + " | --- |")
  const pg = results.find((r) => r.name === "pg")
  const target = (label: string, get: (r: RelationsDbResult) => number, limit: number, ok: (x: number) => boolean) =>
    lines.push(
      `| ${label} | ${results.map((r) => `${fmtAgainst(get(r), limit)}×`).join(" | ")} | ${
        pg === undefined ? "– (PostgreSQL not run)" : yesNo(ok(get(pg)))
      } |`
    )
  target(`include time ÷ hand-written IN time ≤ ${TARGET_INCLUDE_VS_IN}`, (r) => r.includeVsIn, TARGET_INCLUDE_VS_IN, (x) => x <= TARGET_INCLUDE_VS_IN)
  target(
    `loop of reads time ÷ include time ≥ ${TARGET_LOOP_VS_INCLUDE}`,
    (r) => r.loopVsInclude,
    TARGET_LOOP_VS_INCLUDE,
    (x) => x >= TARGET_LOOP_VS_INCLUDE
  )
  // the issue's batching target is about reads by key: the authors' reads are exactly those
  target(
    `batched reads by key (the authors' reads): one after another ÷ batched ≥ ${TARGET_LOOP_VS_BATCHED}`,
    (r) => r.authorsLoopVsBatched,
    TARGET_LOOP_VS_BATCHED,
    (x) => x >= TARGET_LOOP_VS_BATCHED
  )
  target(
    `the same, in the issue's form \`Effect.forEach(ids, read, { batching: true })\` ≥ ${TARGET_LOOP_VS_BATCHED}`,
    (r) => r.authorsLoopVsForEach,
    TARGET_LOOP_VS_BATCHED,
    (x) => x >= TARGET_LOOP_VS_BATCHED
  )
  lines.push(
    `| (reference, no target) the whole N+1 by reads and lists (both batched): loop ÷ batched | ${
      results.map((r) => `${r.loopVsBatched.toFixed(2)}×`).join(" | ")
    } | – |`,
    ""
  )
  for (const db of results) {
    lines.push(`### ${db.title}`, "")
    lines.push("| implementation | statements a load | loads/s | spread | time ÷ include |")
    lines.push("| --- | ---: | ---: | ---: | ---: |")
    for (const i of db.impls) lines.push(implRow(i))
    for (const n of db.notApplicable) lines.push("", `Not applicable here: ${n}`)
    lines.push("")
  }
  for (const s of skipped) lines.push(s, "")
  return lines.join("\n")
}
