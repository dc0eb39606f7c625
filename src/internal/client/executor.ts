/**
 * What the library's own clients (the ones `DataFlow.layer` opens) give the runtime beside their
 * `SqlClient`: a way to run the nodes' statements without `@effect/sql`'s statement pipeline
 * (synchronously on SQLite, as named prepared statements on PostgreSQL, cancellable on MySQL),
 * a connection of their own for DDL, and facts about the server. They provide it as a service
 * from their own layer; any other `SqlClient` has none, and the runtime then uses the client's
 * public API only.
 * (Internal module: not part of the public API.)
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Context from "effect/Context"
import type { ServerInfo } from "../dialect/dialect.js"

/** What DDL needs of a connection. @internal */
export interface DdlConnection {
  readonly executeRaw: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<unknown, SqlError>
  /** Runs a query and returns its rows (catalog reads before DDL). */
  readonly execute: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError>
}

/** @internal */
export interface Executor {
  /** The client this executor belongs to: the runtime uses it with that client only. */
  readonly client: SqlClient.SqlClient
  /**
   * Runs one statement: the rows (`"rows"`), or the driver's result (`"raw"`: affected rows,
   * insert id). On `transaction` (a transaction connection of this client) when given, else on
   * a connection of the client's own choosing. Undefined when the statement cannot run this
   * way now (SQLite: another fiber's transaction holds the connection): the caller then takes
   * `@effect/sql`'s pipeline, which waits for it.
   */
  readonly run: (
    text: string,
    params: ReadonlyArray<unknown>,
    mode: "rows" | "raw",
    options: { readonly safeIntegers: boolean; readonly transaction: Connection | undefined }
  ) => Effect.Effect<unknown, SqlError> | undefined
  /**
   * A connection of its own, outside the pool, for DDL: DDL then never waits for a pool
   * connection that the work needing the table holds. Closed with its scope.
   */
  readonly ddlConnection?: Effect.Effect<DdlConnection, SqlError, Scope.Scope>
  /**
   * A connection for a transaction (the client's `reserve`), released when `scope` closes:
   * the wait for it is interruptible even in an uninterruptible region, and a connection that
   * arrives after an interruption goes straight back. The runtime then needs no fiber to hold it,
   * and the scope is passed, not provided (providing a service changes the fiber's context twice).
   */
  readonly reserve?: (scope: Scope.Scope) => Effect.Effect<Connection, SqlError>
  /** Facts about the server, read when the client was made. */
  readonly server?: ServerInfo
}

/** The executor of the library's own client, provided by its layer. @internal */
export class ClientExecutor extends Context.Tag("effect-dataflow/ClientExecutor")<ClientExecutor, Executor>() {}
