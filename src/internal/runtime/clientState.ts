/**
 * What the runtime knows about each client: its dialect, its executor (the library's own
 * clients), the tables it has ensured, facts about its server. Held in a WeakMap keyed by the
 * client, so it lives exactly as long as the client.
 * (Internal module: not part of the public API.)
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Deferred from "effect/Deferred"
import type * as Dialect from "../dialect/dialect.js"
import { fromClient } from "../dialect/ofClient.js"
import type { Executor } from "../client/executor.js"

/** @internal */
export interface ClientState {
  readonly dialect: Dialect.Dialect
  /** The client's executor, once a context has shown it (the library's own clients). */
  executor: Executor | undefined
  /** Tables (qualified names, per model) whose first-use work has run, or is running. */
  readonly ready: Map<string, true | Deferred.Deferred<void, unknown>>
  server: Dialect.ServerInfo | undefined
}

const states = new WeakMap<SqlClient.SqlClient, ClientState>()

/** @internal */
export const stateOf = (sql: SqlClient.SqlClient): ClientState => {
  let state = states.get(sql)
  if (state === undefined) {
    state = { dialect: fromClient(sql), executor: undefined, ready: new Map(), server: undefined }
    states.set(sql, state)
  }
  return state
}
