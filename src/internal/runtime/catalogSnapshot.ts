/**
 * One catalog read for the first uses of many tables: the live tables of a client's schema,
 * read once and shared by the first uses that start within a few seconds of it, so that a
 * process touching fifty models on a schema that is already right pays one catalog round trip,
 * not fifty. A table that the read shows ready for its model needs nothing more; any other
 * (missing, different, or already handed out) goes through its full first-use work, which
 * reads it again under the DDL lock.
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type { Table } from "../schema/introspect.js"
import type { ClientState } from "./clientState.js"

/**
 * How long a read serves further first uses. Long enough for a start-up's burst of first uses,
 * short enough that a table changed by hand (or by a migration) afterwards is read again.
 */
const FRESH_MS = 5_000

interface Snapshot {
  /** When the read started (`performance.now()`: wall time, not the fiber's Clock, which tests freeze). */
  readonly at: number
  readonly tables: Deferred.Deferred<ReadonlyMap<string, Table>, SqlError>
  /** Tables already handed to a first use: a second model of the same table reads it again. */
  readonly taken: Set<string>
}

const snapshots = new WeakMap<ClientState, Map<string, Snapshot>>()

/**
 * The live table `table` of `schema` on this client as a recent catalog read of the whole
 * schema shows it (undefined: missing then, or already handed to another first use); the read
 * (`read`) runs when there is no recent one, once however many fibers ask at the same time.
 * @internal
 */
export const recentTable = (
  state: ClientState,
  schema: string | undefined,
  table: string,
  read: Effect.Effect<ReadonlyMap<string, Table>, SqlError>
): Effect.Effect<Table | undefined, SqlError> =>
  Effect.suspend(() => {
    let bySchema = snapshots.get(state)
    if (bySchema === undefined) snapshots.set(state, bySchema = new Map())
    const key = schema ?? ""
    const now = performance.now()
    let snapshot = bySchema.get(key)
    const take = (tables: ReadonlyMap<string, Table>) => {
      if (snapshot!.taken.has(table)) return undefined
      snapshot!.taken.add(table)
      return tables.get(table)
    }
    if (snapshot !== undefined && now - snapshot.at <= FRESH_MS) return Effect.map(Deferred.await(snapshot.tables), take)
    const started: Snapshot = { at: now, tables: Deferred.unsafeMake(FiberId.none), taken: new Set() }
    snapshot = started
    bySchema.set(key, started)
    return read.pipe(
      Effect.onExit((exit) => {
        // a failed read is not kept: the next first use reads again
        if (Exit.isFailure(exit) && bySchema.get(key) === started) bySchema.delete(key)
        return Deferred.done(started.tables, exit)
      }),
      Effect.map(take),
      Effect.uninterruptible
    )
  })
