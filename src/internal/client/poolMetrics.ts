/**
 * Gauges of the library's PostgreSQL pools (`pg` exposes its counts publicly: `totalCount`,
 * `idleCount`, `waitingCount`), summed over the live pools of one database and updated on the
 * pool's events. `mysql2` exposes no counts and SQLite has one connection: no gauges there.
 * (Internal module: not part of the public API; `Metrics` exports the gauge.)
 */
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import type Pg from "pg"

/** Connections of the library's PostgreSQL pools, by `database` and `state`. @internal */
export const poolConnections = Metric.gauge("dataflow_pool_connections", {
  description: "Connections of the library's PostgreSQL pools (total, idle) and requests waiting for one, by database"
})

const live = new Map<string, Set<Pg.Pool>>()

/**
 * The label sets of a database, made once: Effect caches a tagged metric by the identity of its
 * label array, so a new array per update would make (and hash) a new metric key each time —
 * on every pool checkout and release.
 */
const labelSets = new Map<string, Readonly<Record<"total" | "idle" | "waiting", ReadonlyArray<MetricLabel.MetricLabel>>>>()
const labelsOf = (database: string) => {
  let sets = labelSets.get(database)
  if (sets === undefined) {
    const of = (state: string) => [MetricLabel.make("database", database), MetricLabel.make("state", state)]
    labelSets.set(database, sets = { total: of("total"), idle: of("idle"), waiting: of("waiting") })
  }
  return sets
}

const update = (database: string) => {
  let total = 0
  let idle = 0
  let waiting = 0
  for (const pool of live.get(database) ?? []) {
    total += pool.totalCount
    idle += pool.idleCount
    waiting += pool.waitingCount
  }
  const labels = labelsOf(database)
  poolConnections.unsafeUpdate(total, labels.total)
  poolConnections.unsafeUpdate(idle, labels.idle)
  poolConnections.unsafeUpdate(waiting, labels.waiting)
}

/** Keeps the gauges of `database` up to date with `pool` until the returned function is called. @internal */
export const watchPool = (database: string, pool: Pg.Pool): () => void => {
  let pools = live.get(database)
  if (pools === undefined) live.set(database, pools = new Set())
  pools.add(pool)
  // the counts change after the event's own handlers ran: read them on the next tick
  let scheduled = false
  const onEvent = () => {
    if (scheduled) return
    scheduled = true
    queueMicrotask(() => {
      scheduled = false
      update(database)
    })
  }
  for (const event of ["connect", "acquire", "release", "remove"] as const) pool.on(event, onEvent)
  update(database)
  return () => {
    pools.delete(pool)
    if (pools.size === 0) live.delete(database)
    update(database)
  }
}
