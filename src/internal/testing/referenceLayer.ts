/**
 * The reference as a layer: a program's own node calls (`User.create(…)`) run on the
 * in-memory reference instead of a database. The layer provides the nodes' substitute
 * (`nodes/substitute.ts`) and the `SqlClient` the program's type requires: a client with no
 * database behind it, whose one connection understands only transaction control — BEGIN,
 * SAVEPOINT, RELEASE, COMMIT, ROLLBACK — as snapshots of the reference's rows, so
 * `DataFlow.transaction`, `sql.withTransaction` and `Testing.rollback` keep their meaning;
 * any other statement fails with a SqlError. Like SQLite's one connection, a transaction
 * holds the reference until it ends and other fibers' calls wait their turn.
 * (Internal module: not part of the public API.)
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Statement from "@effect/sql/Statement"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { CurrentTenant } from "../../Tenant.js"
import type { ModelDefinition } from "../model/definition.js"
import { validation } from "../model/validate.js"
import { NodeSubstitute } from "../nodes/substitute.js"
import type { Substitute } from "../nodes/substitute.js"
import { CursorKey } from "../runtime/settings.js"
import { fromNode, isStream, toNodeAnswer } from "./calls.js"
import type { Call, ReferenceDialect, ReferenceTable, Snapshot } from "./reference.js"
import { makeTable } from "./reference.js"
import { nestedWrite } from "./reference/nested.js"
import type { Env } from "./reference/types.js"

/** A node call the reference does not run: the node (or option) it would need. @internal */
export class ReferenceUnsupported extends Data.TaggedError("ReferenceUnsupported")<{
  readonly model: string
  readonly node: string
}> {
  override get message() {
    return `${this.model}.${this.node} is not implemented by the testing kit's reference`
  }
}

/** The reference's tables, one per model (made on a model's first call). @internal */
export interface Store {
  readonly tableOf: (def: ModelDefinition) => ReferenceTable
  readonly tables: () => ReadonlyArray<ReferenceTable>
  /** The database whose by-design differences the reference follows (MySQL's any-unique-key upserts). */
  readonly dialect: ReferenceDialect | undefined
}

/** @internal */
export const makeStore = (defs: ReadonlyArray<ModelDefinition>, dialect?: ReferenceDialect): Store => {
  const tables = new Map<string, ReferenceTable>()
  // a related model's table: one of the models given (or used before), never made on the way
  const related = (def: ModelDefinition) => {
    const table = tables.get(def.name)
    return table?.definition === def ? table : undefined
  }
  const all = () => tables.values()
  for (const d of defs) tables.set(d.name, makeTable(d, related, all))
  return {
    tableOf: (def) => {
      let table = tables.get(def.name)
      if (table === undefined) {
        table = makeTable(def, related, all)
        tables.set(def.name, table)
      }
      return table
    },
    tables: () => [...tables.values()],
    dialect
  }
}

type Snapshots = ReadonlyMap<ReferenceTable, Snapshot>

const snapshotOf = (store: Store): Snapshots => new Map(store.tables().map((t) => [t, t.snapshot()]))

const restoreTo = (store: Store, saved: Snapshots) => {
  for (const table of store.tables()) {
    const snapshot = saved.get(table)
    if (snapshot === undefined) table.clear()
    else table.restore(snapshot)
  }
}

/** The one connection: transaction control as snapshots of the rows, nothing else. */
const makeConnection = (store: Store): Connection => {
  const stack: Array<Snapshots> = []
  const control = (sql: string): Effect.Effect<ReadonlyArray<never>, SqlError> =>
    Effect.suspend(() => {
      const text = sql.trim().toUpperCase()
      if (text.startsWith("BEGIN") || text.startsWith("START TRANSACTION") || text.startsWith("SAVEPOINT ")) {
        stack.push(snapshotOf(store))
      } else if (text.startsWith("RELEASE") || text === "COMMIT") {
        stack.pop()
      } else if (text.startsWith("ROLLBACK TO")) {
        const saved = stack.pop()
        if (saved !== undefined) restoreTo(store, saved)
      } else if (text === "ROLLBACK") {
        const saved = stack[0]
        stack.length = 0
        if (saved !== undefined) restoreTo(store, saved)
      } else {
        return Effect.fail(
          new SqlError({ message: `the testing kit's reference layer runs no SQL (it runs node calls): ${sql.slice(0, 80)}` })
        )
      }
      return Effect.succeed([])
    })
  return {
    execute: (sql) => control(sql),
    executeRaw: (sql) => control(sql),
    executeUnprepared: (sql) => control(sql),
    executeValues: (sql) => control(sql),
    executeStream: (sql) => Stream.fromEffect(control(sql)).pipe(Stream.flatMap(Stream.fromIterable))
  }
}

/** Rows of a bulkCreate as an array: an iterable spread, a Stream collected. */
const collectRows = (rows: unknown): Effect.Effect<unknown, unknown> =>
  isStream(rows)
    ? Effect.map(Stream.runCollect(rows as Stream.Stream<unknown, unknown>), Chunk.toReadonlyArray)
    : Effect.succeed(typeof rows === "object" && rows !== null && Symbol.iterator in rows ? [...(rows as Iterable<unknown>)] : rows)

/** Where a call runs: as the fiber's tenant, at the Clock's time, with its cursor key. */
const envOf = (store: Store): Effect.Effect<Env> =>
  Effect.gen(function*() {
    const now = new Date(yield* Clock.currentTimeMillis)
    const tenant = Option.getOrUndefined(yield* Effect.serviceOption(CurrentTenant))
    const cursorKey = yield* CursorKey
    return { now, tenant, cursorKey, dialect: store.dialect }
  })

type Progress = (inserted: number) => Effect.Effect<unknown, unknown>

/**
 * A bulkCreate with `onProgress`: the reference writes and tells the counts after each chunk,
 * then the caller's effects run with them in order (as the node runs them between its chunks,
 * also before a chunk that fails); one that fails undoes the write and is the call's failure.
 */
const withProgress = (
  store: Store,
  def: ModelDefinition,
  call: Call,
  onProgress: Progress,
  serialised: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const reported: Array<number> = []
    const table = store.tableOf(def)
    const [before, outcome] = yield* serialised(Effect.zip(
      Effect.sync(() => table.snapshot()),
      runCall(store, def, { ...call, onProgress: (n: number) => reported.push(n) } as Call)
    ))
    for (const inserted of reported) {
      const failed = yield* Effect.either(onProgress(inserted))
      if (failed._tag === "Left") {
        if (outcome._tag === "Success") yield* serialised(Effect.sync(() => table.restore(before)))
        return yield* Effect.fail(failed.left)
      }
    }
    if (outcome._tag === "Failure") return yield* Effect.fail(outcome.error)
    return outcome.value
  })

/** Runs one reference call. */
const runCall = (store: Store, def: ModelDefinition, call: Call) => Effect.map(envOf(store), (env) => store.tableOf(def).execute(call, env))

const substituteOf = (store: Store, connection: Connection, lock: Effect.Semaphore): Substitute => {
  /** In this connection's transaction the call runs at once; otherwise it waits for the connection. */
  const serialised = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.contextWithEffect((ctx: Context.Context<never>) => {
      const current = Context.getOption(ctx, SqlClient.TransactionConnection)
      return Option.isSome(current) && current.value[0] === connection ? effect : lock.withPermits(1)(effect)
    })
  const call: Substitute["call"] = (def, node, args) =>
    Effect.gen(function*() {
      const rows = args[0]
      if (node === "bulkUpsert" && (typeof rows !== "object" || rows === null || !(Symbol.iterator in rows))) {
        return yield* Effect.fail(validation(def, node, "", "expected an array or an iterable of rows"))
      }
      const given = node === "bulkCreate" || node === "bulkUpsert" ? [yield* collectRows(rows), ...args.slice(1)] : args
      const nested = nestedWrite(def, node, given)
      if (nested !== undefined) {
        return yield* Effect.flatten(serialised(Effect.map(envOf(store), (env) => nested(store, env))))
      }
      const asked = fromNode(def, node, given)
      if (asked._tag === "Unsupported") return yield* Effect.die(new ReferenceUnsupported({ model: def.name, node: asked.what }))
      if (asked._tag === "Invalid") return yield* Effect.fail(asked.error)
      const onProgress = node === "bulkCreate" ? (args[1] as { readonly onProgress?: Progress } | undefined)?.onProgress : undefined
      if (onProgress === undefined) {
        const outcome = yield* serialised(runCall(store, def, asked.call))
        if (outcome._tag === "Failure") return yield* Effect.fail(outcome.error)
        return toNodeAnswer(asked.answer, outcome.value)
      }
      return yield* withProgress(store, def, asked.call, onProgress, serialised)
    })
  const stream: Substitute["stream"] = (def, args) => {
    const query = (args[0] ?? {}) as Record<string, unknown>
    const { limit, pageSize, ...rest } = query
    const bad = (name: string, reason: string) => Stream.fail(validation(def, "stream", name, reason))
    if (pageSize !== undefined && !(Number.isSafeInteger(pageSize) && (pageSize as number) >= 1 && (pageSize as number) <= 100_000)) {
      return bad("pageSize", "must be an integer from 1 to 100000")
    }
    if (limit !== undefined && !(Number.isSafeInteger(limit) && (limit as number) >= 0)) return bad("limit", "must be a non-negative integer")
    // as the node: nothing asked, nothing read (nor checked)
    if (limit === 0) return Stream.empty
    // one page holding every record (its relations loaded with it): the reference has nothing to gain from paging
    const all = Effect.flatMap(
      call(def, "list", [{ ...rest, ...(limit === undefined ? {} : { limit }), ...(rest.include === undefined ? {} : { operation: "stream" }) }]),
      (page) => Effect.succeed((page as { readonly records: ReadonlyArray<unknown> }).records)
    )
    return Stream.flatMap(Stream.fromEffect(all), Stream.fromIterable)
  }
  return { call, stream }
}

/**
 * The reference as a layer: the nodes' substitute and a `SqlClient` without a database.
 * @internal
 */
export const layer = (store: Store): Layer.Layer<SqlClient.SqlClient> =>
  Layer.scopedContext(Effect.gen(function*() {
    const connection = makeConnection(store)
    // the one connection's lock: a transaction holds it, other calls wait for it
    const lock = yield* Effect.makeSemaphore(1)
    const acquirer = lock.withPermits(1)(Effect.succeed(connection))
    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(lock.take(1)),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, lock.release(1)))
        ),
        connection
      )
    )
    const client = yield* SqlClient.make({
      acquirer,
      transactionAcquirer,
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "effect-dataflow-reference"]]
    })
    return Context.make(SqlClient.SqlClient, client).pipe(Context.add(NodeSubstitute, substituteOf(store, connection, lock)))
  })).pipe(Layer.provide(Reactivity.layer))
