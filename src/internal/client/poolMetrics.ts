/**
 * Gauges of the library's PostgreSQL pools (`pg` exposes its counts publicly: `totalCount`,
 * `idleCount`, `waitingCount`), summed over the live pools of one database and updated on the
 * pool's events. `mysql2` exposes no counts and SQLite has one connection: no gauges there.
 * (Internal module: not part of the public API; `Metrics` exports the gauge.)
 */
import { Metric, MetricLabel } from "effect"
import type Pg from "pg"

/** Connections of the library's PostgreSQL pools, by `database` and `state`. @internal */
export const poolConnections = Metric.gauge("dataflow_pool_connections", {
  description: "Connections of the library's PostgreSQL pools (total, idle) and requests waiting for one, by database"
})

const live = new Map<string, Set<Pg.Pool>>()

/**
 * The labels of one gauge, made once: Effect caches a tagged metric's hook by the identity of
 * its label array (a fresh array on each update rebuilt and hashed the key on every pool
 * event — 16% of a PostgreSQL `read`'s CPU time in the profile of scripts/hot-path.ts).
 */
const labelCache = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
const labels = (database: string, state: string) => {
  const key = `${state}\u0000${database}`
  let found = labelCache.get(key)
  if (found === undefined) {
    found = [MetricLabel.make("database", database), MetricLabel.make("state", state)]
    labelCache.set(key, found)
  }
  return found
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
  poolConnections.unsafeUpdate(total, labels(database, "total"))
  poolConnections.unsafeUpdate(idle, labels(database, "idle"))
  poolConnections.unsafeUpdate(waiting, labels(database, "waiting"))
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
