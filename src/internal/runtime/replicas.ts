/**
 * Read replicas: the clients of `DataFlow.layer({ url, replicas })` besides the primary, which
 * reads go to, a health check that takes a failing replica out (and back in), and the setting
 * that sends reads to the primary (`DataFlow.primary`).
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Executor } from "../client/executor.js"
import { ClientExecutor } from "../client/executor.js"

/** One replica's client, and whether the health check last saw it answer. @internal */
export interface Replica {
  /** `replica:<index>` (in the order of the `replicas` option): span attributes name it. */
  readonly label: string
  readonly sql: SqlClient.SqlClient
  readonly executor: Executor | undefined
  up: boolean
}

/** @internal */
export interface Replicas {
  readonly replicas: ReadonlyArray<Replica>
  /** The next replica to try (round robin). */
  next: number
}

/** The read replicas of the default client, when it has some. @internal */
export class ReadReplicas extends Context.Tag("effect-dataflow/ReadReplicas")<ReadReplicas, Replicas>() {}

/**
 * Whether reads go to the primary even where replicas are provided (`DataFlow.primary`): for
 * reading one's own writes. Transactions always run on the primary.
 *
 * @since 0.1.0
 * @category replicas
 */
export class ReadFromPrimary extends Context.Reference<ReadFromPrimary>()("effect-dataflow/ReadFromPrimary", {
  defaultValue: (): boolean => false
}) {}

/** The nodes that only read: outside a transaction they may go to a replica. @internal */
export const readOperations: ReadonlySet<string> = new Set([
  "read",
  "find",
  "list",
  "findFirst",
  "count",
  "exists",
  "readBy",
  "findBy",
  "stream",
  "aggregate"
])

/** The next replica that answers, round robin; none when every replica is down. @internal */
export const pick = (r: Replicas): Replica | undefined => {
  const n = r.replicas.length
  for (let i = 0; i < n; i++) {
    const replica = r.replicas[(r.next + i) % n]!
    if (replica.up) {
      r.next = (r.next + i + 1) % n
      return replica
    }
  }
  return undefined
}

/** Health check settings (see `LayerOptions.replicaCheck`). @internal */
export interface CheckOptions {
  readonly interval: Duration.DurationInput
  readonly timeout: Duration.DurationInput
}

/** A pause in real time: the health check runs on the wall clock, whatever clock a test installs. */
const pause = (ms: number) =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    timer.unref?.()
    return Effect.sync(() => clearTimeout(timer))
  })

/** Whether a replica answers `SELECT 1` in time. */
const answers = (replica: Replica, timeoutMs: number): Effect.Effect<boolean> =>
  replica.sql.unsafe("SELECT 1").pipe(
    Effect.timeout(timeoutMs),
    Effect.match({ onFailure: () => false, onSuccess: () => true })
  )

/**
 * The replicas' clients (each made by `clientOf`, with the primary's options), checked every
 * `interval` in the layer's scope: a replica that does not answer within `timeout` is taken out
 * (reads go to the other replicas, or the primary), and back in once it answers again.
 * @internal
 */
export const layer = <E, R>(
  urls: ReadonlyArray<string>,
  clientOf: (url: string) => Layer.Layer<SqlClient.SqlClient | ClientExecutor, E, R>,
  check: CheckOptions
): Layer.Layer<ReadReplicas, E, R> =>
  Layer.scoped(
    ReadReplicas,
    Effect.gen(function*() {
      const replicas: Array<Replica> = []
      for (const [i, url] of urls.entries()) {
        const services = yield* Layer.build(clientOf(url))
        const sql = Context.get(services, SqlClient.SqlClient)
        const executor = Context.getOption(services, ClientExecutor)
        replicas.push({ label: `replica:${i}`, sql, executor: executor._tag === "Some" ? executor.value : undefined, up: true })
      }
      const interval = Duration.toMillis(check.interval)
      const timeout = Duration.toMillis(check.timeout)
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.zipRight(
            pause(interval),
            Effect.forEach(replicas, (replica) =>
              Effect.map(answers(replica, timeout), (up) => {
                replica.up = up
              }), { concurrency: "unbounded", discard: true })
          )
        )
      )
      return { replicas, next: 0 }
    })
  ) as Layer.Layer<ReadReplicas, E, R>
