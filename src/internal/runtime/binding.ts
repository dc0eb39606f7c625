/**
 * Which client a model's statements go to, and which transaction they may join: the binding of
 * an instance (a client, or one per tenant), and the owner of the fiber's transaction, so that
 * two clients never share a connection or a transaction.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Scope from "effect/Scope"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ConfigurationError, DatabaseError } from "../../Errors.js"
import type { Executor } from "../client/executor.js"
import type { Replicas } from "./replicas.js"

/** A client and, for the library's own clients, their executor. @internal */
export interface Connected {
  readonly sql: SqlClient.SqlClient
  readonly executor: Executor | undefined
  /** The schema (database) the client's layer named, if any. */
  readonly schema?: string | undefined
  /** The client's read replicas (`DataFlow.layer({ replicas })`), if any. */
  readonly replicas?: Replicas | undefined
  /** A global model's current tenant, for its relation filters (see `NodeContext`). */
  readonly relationTenant?: string | undefined
}

/**
 * Where a model's statements go: a client (fixed, or per tenant) and how tenants are kept
 * apart on it. The service behind a `DataFlow.Instance` tag.
 *
 * @since 0.1.0
 * @category instances
 */
export interface Binding {
  readonly name: string
  readonly tenancy: "row" | "schema" | "database"
  readonly client: (tenant: string | undefined) => Effect.Effect<Connected, unknown, Scope.Scope>
}

/** The binding's client for a tenant, its failures typed. @internal */
export const connect = (binding: Binding, tenant: string | undefined, model: string, operation: string) =>
  Effect.mapError(
    binding.client(tenant),
    (cause) =>
      cause instanceof ConfigurationError || cause instanceof DatabaseError
        ? cause
        : new DatabaseError({ model, operation, retryable: false, cause })
  )

/**
 * The client whose transaction the current fiber runs in, set by `DataFlow.transaction` and by
 * the nodes' own transactions. A statement of another client must not use that connection.
 * @internal
 */
export class TransactionOwner extends Context.Tag("effect-dataflow/Transaction/Owner")<
  TransactionOwner,
  SqlClient.SqlClient
>() {}

/** Is the ambient transaction connection someone else's? @internal */
export const isForeignTransaction = (ctx: Context.Context<never>, sql: SqlClient.SqlClient): boolean => {
  if (!Context.getOption(ctx, SqlClient.TransactionConnection).pipe(Option.isSome)) return false
  const owner = Context.getOption(ctx, TransactionOwner)
  if (Option.isSome(owner)) return owner.value !== sql
  // a transaction started with the client's own withTransaction belongs to the ambient client
  const ambient = Context.getOption(ctx, SqlClient.SqlClient)
  return Option.isNone(ambient) || ambient.value !== sql
}

/** Is the fiber inside a transaction of `sql`? @internal */
export const inOwnTransaction = (ctx: Context.Context<never>, sql: SqlClient.SqlClient): boolean =>
  Option.isSome(Context.getOption(ctx, SqlClient.TransactionConnection)) && !isForeignTransaction(ctx, sql)

/** Runs an effect off the ambient transaction's connection. @internal */
export const outsideTransaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.mapInputContext(self, (ctx: Context.Context<R>) =>
    Context.omit(SqlClient.TransactionConnection)(ctx) as Context.Context<R>)

/**
 * Runs statements of `sql` on its own connection: off the ambient transaction when that
 * transaction belongs to another client.
 * @internal
 */
export const onOwnConnection = (sql: SqlClient.SqlClient) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.withFiberRuntime<A, E, R>((fiber) =>
    isForeignTransaction(fiber.currentContext as Context.Context<never>, sql) ? outsideTransaction(self) : self
  )
