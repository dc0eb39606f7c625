/**
 * The PostgreSQL client's connections for DDL (first-use table checks, migrations): outside the
 * pool, so DDL never waits for a pool connection that the work needing the table holds, and
 * never runs on a transaction's connection. A connection is kept for the next DDL use once
 * given back clean (no transaction left open, no statement interrupted, not lost), at most
 * IDLE_MAX of them, each closed after IDLE_TTL unused: first uses of many tables, one after
 * the other, open one connection instead of one each (a connection costs a round trip or
 * three and a server process). Concurrent uses each hold a connection of their own.
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as Scope from "effect/Scope"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import Pg from "pg"
import type { DdlConnection } from "./executor.js"
import type { Backend } from "./pgBackend.js"
import { CONNECT_WAIT, configOf, failed, resultOf, rowsOf, runQuery, watch } from "./pgBackend.js"

/** Idle DDL connections kept at most. */
export const IDLE_MAX = 2
/** How long an idle DDL connection is kept. */
export const IDLE_TTL = Duration.seconds(10)

const opens = /^\s*(BEGIN|START\s+TRANSACTION)\b/i
const closes = /^\s*(COMMIT|ROLLBACK|END|ABORT)\b/i

interface Idle {
  readonly client: Pg.Client
  readonly timer: ReturnType<typeof setTimeout>
}

/** @internal */
export interface DdlConnections {
  /** A connection for the caller's scope, given back (kept or closed) when it closes. */
  readonly acquire: Effect.Effect<DdlConnection, SqlError, Scope.Scope>
  /** Closes the idle connections; connections given back later are closed. */
  readonly close: Effect.Effect<void>
}

const end = (client: Pg.Client): Promise<void> => client.end().catch(() => undefined)

/** @internal */
export const ddlConnections = (backend: Backend): DdlConnections => {
  const idle: Array<Idle> = []
  let closed = false

  const open = Effect.tryPromise({
    try: async () => {
      const client = new Pg.Client({
        ...backend.config,
        // its acquisition cannot be interrupted: it is bounded instead
        connectionTimeoutMillis: Duration.toMillis(CONNECT_WAIT)
      })
      watch(backend, client)
      await client.connect()
      return client
    },
    catch: (cause) => failed(cause, "Failed to connect")
  })

  /** The most recently used idle connection that has not failed meanwhile. */
  const take = (): Pg.Client | undefined => {
    for (let next = idle.pop(); next !== undefined; next = idle.pop()) {
      clearTimeout(next.timer)
      if (!backend.lost.has(next.client)) return next.client
      void end(next.client)
    }
    return undefined
  }

  const giveBack = (client: Pg.Client, clean: boolean): Effect.Effect<void> => {
    if (closed || !clean || backend.lost.has(client) || idle.length >= IDLE_MAX) {
      return Effect.promise(() => end(client)).pipe(Effect.interruptible, Effect.timeoutOption(1000), Effect.asVoid)
    }
    return Effect.sync(() => {
      const timer = setTimeout(() => {
        const at = idle.findIndex((i) => i.client === client)
        if (at >= 0) idle.splice(at, 1)
        void end(client)
      }, Duration.toMillis(IDLE_TTL))
      timer.unref?.()
      idle.push({ client, timer })
    })
  }

  const acquire = Effect.acquireRelease(
    Effect.suspend(() => {
      const kept = take()
      return kept === undefined ? open : Effect.succeed(kept)
    }).pipe(Effect.map((client) => {
      // clean while no transaction is left open and no statement was cut short
      const use = { inTransaction: false, interrupted: false }
      const tracked = <A>(text: string, statement: Effect.Effect<A, SqlError>) =>
        Effect.onExit(statement, (exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) {
              if (opens.test(text)) use.inTransaction = true
              else if (closes.test(text)) use.inTransaction = false
            } else if (Exit.isInterrupted(exit)) use.interrupted = true
          }))
      const connection: DdlConnection = {
        executeRaw: (text, params) => tracked(text, runQuery(backend, client, configOf(text, params), resultOf)),
        execute: (text, params) =>
          tracked(
            text,
            runQuery(backend, client, configOf(text, params), rowsOf) as Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError>
          )
      }
      return { client, use, connection }
    })),
    ({ client, use }) => giveBack(client, !use.inTransaction && !use.interrupted)
  )

  return {
    acquire: Effect.map(acquire, ({ connection }) => connection),
    close: Effect.suspend(() => {
      closed = true
      const all = idle.splice(0)
      for (const i of all) clearTimeout(i.timer)
      return all.length === 0
        ? Effect.void
        : Effect.promise(() => Promise.all(all.map((i) => end(i.client)))).pipe(
          Effect.interruptible,
          Effect.timeoutOption(1000),
          Effect.asVoid
        )
    })
  }
}
