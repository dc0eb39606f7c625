/**
 * The N+1 relations benchmark: 100 posts with their authors (20 users) and comments (5 a post)
 * on SQLite, PostgreSQL and MariaDB/MySQL, loaded by every implementation of
 * bench/relations-impl.ts (the nodes' `include`, batched concurrent reads, a loop of reads,
 * hand-written `IN` statements and JOIN on `@effect/sql`) and bench/relations-peers.ts
 * (Drizzle's relational query, Kysely's JSON helpers). Every load must return the same posts
 * (digest checked after every timed run). Rounds interleave the implementations (the order
 * rotates); each timed run is `reps` loads; ratios are per round against `include`, medians
 * over the rounds. See docs/performance.md ("N+1 relations").
 *
 * Alone: `npm run bench:relations [-- --size tiny] [-- --db pg] [-- --rounds 9]`; `npm run bench`
 * runs it after the single-fiber suite (leave it out with `--no-relations`).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { fileURLToPath } from "node:url"
import { recording } from "./check-sql.js"
import type { Config, DbName } from "./config.js"
import { parseArgs } from "./config.js"
import type { Load } from "./relations-impl.js"
import { authorsOnly, handIn, handJoin, nodesBatched, nodesInclude, nodesLoop } from "./relations-impl.js"
import type { LoadedPost } from "./relations-model.js"
import { digest, REL_COMMENTS_PER_POST, REL_POSTS, REL_USERS, seedRelations } from "./relations-model.js"
import type { PeerLoad } from "./relations-peers.js"
import { drizzlePeer, kyselyPeer } from "./relations-peers.js"
import { renderRelations } from "./relations-report.js"
import { median } from "./stats.js"
import type { Target } from "./targets.js"
import { openMysql, openPg, openSqlite, probe } from "./targets.js"
import { commit, fmtLoad, load } from "./versions.js"

export const usage = `Usage: npm run bench:relations [-- options]

  --size tiny|full   tiny: the CI smoke sizes (3 rounds, 2 loads a timed run); full: 9 rounds, 20 loads
  --rounds R         timed rounds (verdicts from 9 on)
  --db sqlite,pg,mysql, --no-peers   as for npm run bench

  Environment: BENCH_RELATIONS_REPS (loads per timed run), BENCH_PG_URL, BENCH_MYSQL_URL.
`

export interface RelationsConfig {
  readonly rounds: number
  /** Loads of the 100 posts per timed run. */
  readonly reps: number
  readonly databases: ReadonlyArray<DbName>
  readonly peers: boolean
  readonly base: Config
}

export const relationsConfig = (base: Config): RelationsConfig => {
  const raw = process.env.BENCH_RELATIONS_REPS
  const reps = raw === undefined || raw === "" ? (base.size === "tiny" ? 2 : 20) : Number(raw)
  if (!Number.isSafeInteger(reps) || reps <= 0) throw new Error(`BENCH_RELATIONS_REPS needs a positive integer, got ${JSON.stringify(raw)}`)
  return { rounds: base.rounds, reps, databases: base.databases, peers: base.peers, base }
}

export type ImplKey = "include" | "batched" | "loop" | "authorsBatched" | "authorsForEach" | "authorsLoop" | "in" | "join" | "drizzle" | "kysely"

/** One implementation on one database. */
interface Impl {
  readonly key: ImplKey
  readonly name: string
  /** `reps` loads, timed; the last load's posts. */
  readonly run: (reps: number) => Promise<{ readonly ms: number; readonly last: ReadonlyArray<LoadedPost> }>
  /** Statements one load sends (counted on a recording client; the peers: their one query). */
  statements: number | undefined
  /** The Effect of one load (the nodes and `@effect/sql` rows): its statements are counted. */
  readonly effect?: Load
  readonly close: () => Promise<void>
}

const effectImpl = (target: Target, key: ImplKey, name: string, loadOne: Load): Impl => ({
  key,
  name,
  statements: undefined,
  effect: loadOne,
  run: async (reps) => {
    const start = performance.now()
    const loads = await target.rt.runPromise(Effect.replicateEffect(loadOne, reps))
    return { ms: performance.now() - start, last: loads[loads.length - 1]! }
  },
  close: async () => {}
})

const peerImpl = (key: ImplKey, peer: PeerLoad): Impl => ({
  key,
  name: peer.name,
  statements: 1,
  run: async (reps) => {
    const start = performance.now()
    let last: ReadonlyArray<LoadedPost> = []
    for (let i = 0; i < reps; i++) last = await peer.load()
    return { ms: performance.now() - start, last }
  },
  close: peer.close
})

/**
 * Statements one load sends through the nodes / `@effect/sql` (untimed, on a recording client;
 * the second load's: the first also checks the tables on the new client).
 */
const countStatements = async (target: Target, loadOne: Load): Promise<number> => {
  const sql = await target.rt.runPromise(SqlClient.SqlClient)
  const log: Array<string> = []
  const once = Effect.provideService(loadOne, SqlClient.SqlClient, recording(sql, log))
  await target.rt.runPromise(Effect.zipRight(once, Effect.sync(() => void log.splice(0))).pipe(Effect.zipRight(once)))
  return log.length
}

export interface ImplResult {
  readonly key: ImplKey
  readonly name: string
  readonly statements: number | undefined
  /** Loads per second, per round. */
  readonly rates: ReadonlyArray<number>
  /** This implementation's time ÷ `include`'s in the same round, per round. */
  readonly vsInclude: ReadonlyArray<number>
}

export interface RelationsDbResult {
  readonly name: DbName
  readonly title: string
  readonly impls: ReadonlyArray<ImplResult>
  /** Peers that could not run on this database, and why. */
  readonly notApplicable: ReadonlyArray<string>
  /** Per-round time ratios, medians: include ÷ hand-written IN, loop ÷ include, loop ÷ batched. */
  readonly includeVsIn: number
  readonly loopVsInclude: number
  readonly loopVsBatched: number
  /** The same for the authors' reads alone (the part that batches), concurrent and in the issue's sequential form. */
  readonly authorsLoopVsBatched: number
  readonly authorsLoopVsForEach: number
}

/** The first line of an error's message, its cause's when it has one (Drizzle wraps the driver's). */
const reason = (error: unknown): string => {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  return (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]!.slice(0, 200)
}

const ratioMedian = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => median(a.map((x, i) => x / b[i]!))

const measure = async (rc: RelationsConfig, target: Target, log: (line: string) => void): Promise<RelationsDbResult> => {
  const written = await seedRelations(target.rt)
  const reference = digest(written)
  const authorsReference = digest(written.map((p) => ({ ...p, comments: [] })))
  /** The load must be the posts written: else the row measures something else (the first differing post is named). */
  const check = (impl: Impl, posts: ReadonlyArray<LoadedPost>) => {
    const got = digest(posts)
    const expected = impl.key === "authorsBatched" || impl.key === "authorsForEach" || impl.key === "authorsLoop" ? authorsReference : reference
    if (got === expected) return
    const want = expected.split("\n")
    const line = got.split("\n").find((l, i) => l !== want[i]) ?? "(fewer posts)"
    throw new Error(`[relations] ${target.title}: "${impl.name}" loaded other posts than were written, e.g. ${line.slice(0, 300)}`)
  }
  const impls: Array<Impl> = [
    effectImpl(target, "include", "effect-dataflow nodes: list({ include: { author, comments } })", nodesInclude),
    effectImpl(target, "batched", "effect-dataflow nodes: read / list per post, batched and concurrent (Relation.batched)", nodesBatched),
    effectImpl(target, "loop", "effect-dataflow nodes: read / list per post, one after another", nodesLoop),
    effectImpl(target, "authorsBatched", "(reference) the authors' reads alone, batched and concurrent (Relation.batched)", authorsOnly(true)),
    effectImpl(
      target,
      "authorsForEach",
      "(reference) the authors' reads alone, batched: Effect.forEach(posts, read, { batching: true })",
      authorsOnly("sequential")
    ),
    effectImpl(target, "authorsLoop", "(reference) the authors' reads alone, one after another", authorsOnly(false)),
    effectImpl(target, "in", "@effect/sql hand-written: 3 statements, IN (…)", handIn(target.name)),
    effectImpl(target, "join", "@effect/sql hand-written: 1 statement, LEFT JOIN", handJoin(target.name))
  ]
  const notApplicable: Array<string> = []
  try {
    if (rc.peers) {
      for (const [key, make] of [["drizzle", drizzlePeer], ["kysely", kyselyPeer]] as const) {
        const peer = make(target.name, target.url)
        try {
          await peer.load()
          impls.push(peerImpl(key, peer))
        } catch (error) {
          await peer.close()
          // both peers run on SQLite and PostgreSQL: a failure there is the benchmark's, not the database's
          if (target.name !== "mysql") throw error
          const why = reason(error)
          notApplicable.push(`${peer.name}: ${why}`)
          log(`[relations] ${target.title}: ${peer.name} does not run here: ${why}`)
        }
      }
    }
    // untimed: each answer checked, statements counted, a warm-up run
    for (const impl of impls) {
      const { last } = await impl.run(1)
      check(impl, last)
      if (impl.effect !== undefined) impl.statements = await countStatements(target, impl.effect)
      await impl.run(Math.min(rc.reps, 5))
    }
    const times = new Map<ImplKey, Array<number>>(impls.map((i) => [i.key, []]))
    for (let round = 1; round <= rc.rounds; round++) {
      const shift = (round - 1) % impls.length
      for (const impl of [...impls.slice(shift), ...impls.slice(0, shift)]) {
        const { last, ms } = await impl.run(rc.reps)
        check(impl, last)
        times.get(impl.key)!.push(ms)
      }
      log(`[relations] ${target.title} round ${round}/${rc.rounds}: ${impls.map((i) => `${i.key} ${times.get(i.key)!.at(-1)!.toFixed(0)} ms`).join(", ")}`)
    }
    const t = (k: ImplKey) => times.get(k)!
    return {
      name: target.name,
      title: target.title,
      impls: impls.map((i) => ({
        key: i.key,
        name: i.name,
        statements: i.statements,
        rates: t(i.key).map((ms) => rc.reps / (ms / 1000)),
        vsInclude: t(i.key).map((ms, r) => ms / t("include")[r]!)
      })),
      notApplicable,
      includeVsIn: ratioMedian(t("include"), t("in")),
      loopVsInclude: ratioMedian(t("loop"), t("include")),
      loopVsBatched: ratioMedian(t("loop"), t("batched")),
      authorsLoopVsBatched: ratioMedian(t("authorsLoop"), t("authorsBatched")),
      authorsLoopVsForEach: ratioMedian(t("authorsLoop"), t("authorsForEach"))
    }
  } finally {
    for (const impl of impls) await impl.close()
  }
}

const openers = { sqlite: openSqlite, pg: openPg, mysql: openMysql } as const
const titles = { sqlite: "SQLite", pg: "PostgreSQL", mysql: "MariaDB / MySQL" } as const

/** Runs the relations benchmark on every configured database that answers; its report section. */
export const runRelations = async (rc: RelationsConfig, log: (line: string) => void): Promise<string> => {
  const results: Array<RelationsDbResult> = []
  const skipped: Array<string> = []
  for (const name of rc.databases) {
    if (name !== "sqlite") {
      const ok = await probe(name, rc.base)
      if (ok !== true) {
        skipped.push(`${titles[name]}: skipped, server not reachable (${ok}).`)
        continue
      }
    }
    log(`[relations] ${titles[name]}: ${REL_POSTS} posts, ${REL_USERS} users, ${REL_COMMENTS_PER_POST} comments a post; ${rc.reps} loads a run, ${rc.rounds} rounds`)
    const target = await openers[name]({ ...rc.base, peers: false })
    try {
      results.push(await measure(rc, target, log))
    } finally {
      await target.close()
    }
  }
  return renderRelations(rc, results, skipped)
}

const main = async () => {
  const base = parseArgs(process.argv.slice(2))
  if (base === "help") return void process.stdout.write(usage)
  const rc = relationsConfig(base)
  const log = (line: string) => void process.stderr.write(`${line}\n`)
  const started = `Run of ${new Date().toISOString()}, commit ${commit()}, Node.js ${process.version}, load at start ${fmtLoad(load())}.`
  process.stdout.write(`${await runRelations(rc, log)}\n${started}\n`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(() => process.exit(0), (error: unknown) => {
    console.error("[relations] failed:", error)
    process.exit(1)
  })
}
