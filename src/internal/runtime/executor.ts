/**
 * The only code that runs the nodes' statements. On the library's own clients a statement goes
 * to the client's executor (no statement pipeline; a `sql.execute` span of its own when a
 * tracer records); on any other client, or with a statement transformer set, it goes through
 * `@effect/sql`'s public statement API. Either way it runs on the client's transaction when
 * the fiber is in one, and off another client's.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Statement from "@effect/sql/Statement"
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Executor } from "../client/executor.js"
import type { ModelStatements } from "../sql/statements.js"
import { inOwnTransaction, isForeignTransaction, outsideTransaction } from "./binding.js"
import { recording, statementSpan } from "./tracing.js"
import type { ErrorsOf } from "./transaction.js"
import { run as runTransaction } from "./transaction.js"

type Row = Record<string, unknown>

/** Everything a node needs to run its statements, resolved per call (see `context.ts`). @internal */
export interface NodeContext {
  readonly sql: SqlClient.SqlClient
  readonly statements: ModelStatements
  /** The current tenant of a tenant-scoped model. */
  readonly tenant: string | undefined
  /**
   * A global model's current tenant under the row strategy: its relation filters reach
   * tenant-scoped models' rows of that tenant only.
   */
  readonly relationTenant?: string | undefined
  /** The client's executor (the library's own clients). */
  readonly executor: Executor | undefined
}

const viaPipeline = (ctx: NodeContext, text: string, params: ReadonlyArray<unknown>, mode: "rows" | "raw") => {
  const statement = (unprepared: boolean) => {
    const s = ctx.sql.unsafe<Row>(text, params)
    return (unprepared ? s.unprepared : mode === "raw" ? s.raw : s.withoutTransform) as Effect.Effect<unknown, SqlError>
  }
  const retryUnprepared = ctx.statements.dialect.retryUnprepared
  if (retryUnprepared === undefined) return statement(false)
  // a client may remember that a statement failed to prepare (a table that did not exist yet):
  // where the dialect says so, it is run once more, unprepared; if that fails too (a client may
  // even throw), the first failure is the one reported
  return Effect.catchIf(
    statement(false),
    (e) => retryUnprepared(e.cause),
    (first) => Effect.catchAllCause(statement(true), () => Effect.fail(first))
  )
}

const run = (ctx: NodeContext, text: string, params: ReadonlyArray<unknown>, mode: "rows" | "raw") =>
  Effect.withFiberRuntime<unknown, SqlError>((fiber) => {
    const services = fiber.currentContext as Context.Context<never>
    // another client's transaction: this statement runs off its connection
    const foreign = isForeignTransaction(services, ctx.sql)
    const { executor, statements } = ctx
    if (executor !== undefined && Option.isNone(fiber.getFiberRef(Statement.currentTransformer))) {
      const transaction = foreign ? Option.none() : Context.getOption(services, SqlClient.TransactionConnection)
      const direct = executor.run(text, params, mode, {
        safeIntegers: statements.safeIntegers,
        transaction: Option.isSome(transaction) ? transaction.value[0] : undefined
      })
      if (direct !== undefined) {
        return recording(fiber)
          ? statementSpan(statements.dialect.systemName, mode === "raw" ? "executeRaw" : "execute", text)(direct)
          : direct
      }
    }
    const pipeline = viaPipeline(ctx, text, params, mode)
    const scoped = foreign ? outsideTransaction(pipeline) : pipeline
    return statements.safeIntegers ? Effect.provideService(scoped, SqlClient.SafeIntegers, true) : scoped
  })

/** Runs a statement; its rows. @internal */
export const execute = (ctx: NodeContext, text: string, params: ReadonlyArray<unknown>) =>
  run(ctx, text, params, "rows") as Effect.Effect<ReadonlyArray<Row>, SqlError>

/** Runs a statement; the driver's result (affected rows, insert id). @internal */
export const executeRaw = (ctx: NodeContext, text: string, params: ReadonlyArray<unknown>): Effect.Effect<unknown, SqlError> =>
  run(ctx, text, params, "raw")

/** A transaction on the node's client (a savepoint when already inside one of its own). @internal */
export const transaction = <A, E, R>(ctx: NodeContext, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | ErrorsOf<{}>, R> =>
  runTransaction(ctx.sql, self, {})

/**
 * Runs statements that must see one snapshot: in the current transaction of the node's client
 * if there is one, else in a repeatable-read transaction of their own. @internal
 */
export const snapshot = <A, E, R>(ctx: NodeContext, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | ErrorsOf<{}>, R> =>
  Effect.withFiberRuntime((fiber) =>
    inOwnTransaction(fiber.currentContext as Context.Context<never>, ctx.sql)
      ? self
      : runTransaction(ctx.sql, self, { isolation: "repeatable read" }) as Effect.Effect<A, E | ErrorsOf<{}>, R>
  )

/** Runs in a transaction of the node's client: the current one if there is one, else a new one. @internal */
export const atomic = <A, E, R>(ctx: NodeContext, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | ErrorsOf<{}>, R> =>
  Effect.withFiberRuntime((fiber) =>
    inOwnTransaction(fiber.currentContext as Context.Context<never>, ctx.sql) ? self : runTransaction(ctx.sql, self, {})
  )
