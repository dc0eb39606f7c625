/**
 * Explicit migrations: a plan (the diff of the models' tables with the live ones), applied
 * behind the dialect's migration lock in one transaction where DDL is transactional, recorded
 * in the history table `dataflow_migrations` so that the same plan applies once.
 * (Internal module: not part of the public API; `Migration` exports it.)
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"
import { MigrationFailed, MigrationRefused } from "../../Errors.js"
import type { Dialect, ServerInfo, TableSpec } from "../dialect/dialect.js"
import type { Operation } from "./diff.js"
import { diffTable, needsRowCheck } from "./diff.js"
import type { RunQuery, Table } from "./introspect.js"
import { onClient, tables } from "./introspect.js"
import { createTables, guardRebuild } from "./order.js"
import type { SchemaConnection } from "./reconcile.js"
import { hasRows } from "./reconcile.js"
import type { Applied } from "./history.js"
import type { Recorded } from "./history.js"
import { history, historySpec, historyStatements, historyTable, qualified, schemaFingerprint, sha256 } from "./history.js"

export type { Applied } from "./history.js"
export { history, historySpec, historyTable, schemaFingerprint } from "./history.js"

/** A plan: its operations for one dialect, and what identifies it. @internal */
export interface Plan {
  readonly id: string
  readonly name: string
  readonly dialect: Dialect["name"]
  /** The tables of the models the plan was made for (drift is judged on them). */
  readonly tables: ReadonlyArray<string>
  /** sha256 of the dialect and every operation's statements. */
  readonly checksum: string
  readonly operations: ReadonlyArray<Operation>
}

/** An operation of a migration starting or finished (`elapsedMs`), for progress reports. @internal */
export interface Progress {
  readonly _tag: "started" | "finished"
  /** 0-based position in the plan. */
  readonly index: number
  readonly total: number
  readonly table: string
  readonly description: string
  readonly elapsedMs?: number | undefined
}

/** Where progress goes. @internal */
export type OnProgress = (event: Progress) => Effect.Effect<void>

const noProgress: OnProgress = () => Effect.void

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "").slice(0, 60)

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14)

/** The operations of declared renames (`table.from` → `to`), and the live tables as they will be after them. */
const renamed = (
  dialect: Dialect,
  specs: ReadonlyArray<TableSpec>,
  live: ReadonlyArray<Table>,
  renames: Readonly<Record<string, string>>
): { readonly ops: ReadonlyArray<Operation>; readonly live: ReadonlyArray<Table> } => {
  const ops: Array<Operation> = []
  const after = live.map((table) => {
    const spec = specs.find((s) => s.table === table.name)
    let columns = table.columns
    for (const [key, to] of Object.entries(renames)) {
      const [tableName, from] = key.split(".")
      if (tableName !== table.name || spec === undefined || from === undefined) continue
      if (!columns.some((c) => c.name === from) || columns.some((c) => c.name === to)) continue
      const quoted = qualified(dialect, spec.schema, table.name)
      ops.push({
        kind: "renameColumn",
        table: table.name,
        column: to,
        description: `rename column ${from} to ${to} (declared)`,
        up: [dialect.alter.renameColumn(quoted, from, to)],
        down: [dialect.alter.renameColumn(quoted, to, from)],
        destructive: false,
        additive: false
      })
      columns = columns.map((c) => (c.name === from ? { ...c, name: to } : c))
    }
    const rename = (names: ReadonlyArray<string>) =>
      names.map((n) => (renames[`${table.name}.${n}`] !== undefined && columns.some((c) => c.name === renames[`${table.name}.${n}`]) ? renames[`${table.name}.${n}`]! : n))
    return {
      ...table,
      columns,
      primaryKey: rename(table.primaryKey),
      uniques: table.uniques.map((u) => ({ ...u, columns: rename(u.columns) })),
      indexes: table.indexes.map((i) => ({ ...i, columns: rename(i.columns) }))
    }
  })
  return { ops, live: after }
}

/** Options of a plan. @internal */
export interface PlanOptions {
  readonly name?: string | undefined
  /** Declared renames: `{ "table.old_column": "new_column" }`; never guessed. */
  readonly renames?: Readonly<Record<string, string>> | undefined
  /** Also drop the tables of the schema that no model declares (the history table aside). */
  readonly dropUnknownTables?: boolean | undefined
}

/** The plan that turns the live tables into the models'. @internal */
export const plan = (
  dialect: Dialect,
  server: ServerInfo,
  sql: SqlClient.SqlClient,
  specs: ReadonlyArray<TableSpec>,
  schema: string | undefined,
  options: PlanOptions
): Effect.Effect<Plan, SqlError> =>
  Effect.gen(function*() {
    const conn: SchemaConnection = { query: onClient(sql), run: (s) => sql.unsafe(s).withoutTransform }
    const all = yield* tables(dialect.catalog, conn.query, schema)
    const { ops: renames, live } = renamed(dialect, specs, all, options.renames ?? {})
    const altered: Array<Operation> = []
    for (const spec of specs) {
      const table = live.find((t) => t.name === spec.table)
      if (table === undefined) continue
      const rows = needsRowCheck(spec, table) ? yield* hasRows(dialect, conn, spec) : false
      altered.push(...diffTable(dialect, server, spec, table, rows).map((op) => guardRebuild(op, spec, live)))
    }
    const { creates, foreignKeys } = createTables(dialect, server, specs, live)
    const kind = (k: Operation["kind"]) => (o: Operation) => o.kind === k
    const not = (f: (o: Operation) => boolean) => (o: Operation) => !f(o)
    // foreign keys dropped before the columns and tables they use change; added once their targets are there
    const operations: Array<Operation> = [
      ...renames,
      ...altered.filter(kind("dropForeignKey")),
      ...creates,
      ...altered.filter(not(kind("dropForeignKey"))).filter(not(kind("addForeignKey"))),
      ...foreignKeys,
      ...altered.filter(kind("addForeignKey"))
    ]
    if (options.dropUnknownTables === true) {
      for (const table of live) {
        if (table.name === historyTable || specs.some((s) => s.table === table.name)) continue
        operations.push({
          kind: "dropTable",
          table: table.name,
          description: `drop table ${table.name} (no model declares it; its rows are lost)`,
          up: [dialect.alter.dropTable(qualified(dialect, schema, table.name))],
          down: undefined,
          destructive: true,
          additive: false
        })
      }
    }
    const checksum = sha256(JSON.stringify({ dialect: dialect.name, up: operations.map((o) => o.up) }))
    const now = yield* Clock.currentTimeMillis
    const name = slug(options.name ?? (operations.length === 0 ? "empty" : operations[0]!.description)) || "migration"
    // a plan is one migration: two plans of the same operations are two migrations
    const id = `${stamp(now)}_${randomBytes(3).toString("hex")}_${name}`
    return { id, name, dialect: dialect.name, tables: specs.map((s) => s.table), checksum, operations }
  })

/** What apply did. @internal */
export interface Outcome {
  /** False: the plan was applied before (its id is in the history), or it was empty. */
  readonly applied: boolean
  readonly operations: number
}

/** Refuses what apply must not run, before anything runs. @internal */
export const refusal = (p: Plan, allowDestructive: boolean): MigrationRefused | undefined => {
  const blocked = p.operations.filter((o) => o.blocked !== undefined)
  if (blocked.length > 0) {
    return new MigrationRefused({
      reason: "operations that cannot run",
      operations: blocked.map((o) => `${o.table}: ${o.description} (${o.blocked})`)
    })
  }
  const destructive = p.operations.filter((o) => o.destructive)
  if (destructive.length > 0 && !allowDestructive) {
    return new MigrationRefused({
      reason: "destructive operations need allowDestructive",
      operations: destructive.map((o) => `${o.table}: ${o.description}`)
    })
  }
  return undefined
}

/**
 * Applies a plan on one reserved connection, behind the migration lock, in one transaction
 * where DDL is transactional; a plan whose checksum is in the history is not applied again.
 * `steps` runs each operation's statements (up, or down for a rollback).
 * @internal
 */
export const runLocked = <A>(
  dialect: Dialect,
  server: ServerInfo,
  sql: SqlClient.SqlClient,
  schema: string | undefined,
  body: (conn: { readonly run: (s: string) => Effect.Effect<unknown, SqlError>; readonly query: RunQuery }) => Effect.Effect<A, SqlError | MigrationFailed>
): Effect.Effect<A, SqlError | MigrationFailed> =>
  Effect.scoped(Effect.gen(function*() {
    const reserved = yield* sql.reserve
    const run = (s: string) => reserved.executeRaw(s, [])
    const query: RunQuery = (q) => reserved.execute(q.text, q.params, undefined) as Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError>
    const lock = dialect.migrationLock
    yield* Effect.forEach(lock.acquire, run, { discard: true })
    yield* Effect.addFinalizer(() => Effect.ignore(Effect.forEach(lock.release, run, { discard: true })))
    const createHistory = Effect.forEach(dialect.createTable(historySpec(schema), server), run, { discard: true })
    // where DDL commits (MySQL), the history table is made before, under the named lock
    if (!dialect.transactionalDdl) yield* createHistory
    yield* Effect.forEach(lock.begin, run, { discard: true })
    const exit = yield* Effect.exit(Effect.zipRight(dialect.transactionalDdl ? createHistory : Effect.void, body({ run, query })))
    if (exit._tag === "Success") {
      yield* Effect.forEach(lock.commit, run, { discard: true })
      return exit.value
    }
    yield* Effect.ignore(Effect.forEach(lock.rollback, run, { discard: true }))
    return yield* exit
  }))

/** One operation to run: its words and its statements. @internal */
export interface Step {
  readonly table: string
  readonly description: string
  readonly statements: ReadonlyArray<string>
}

/**
 * Runs the statements of operations from `from` on, reporting each start and finish, calling
 * `after` with the number done once each has run (where DDL commits: the history row says how
 * far it got); a failure names the operation.
 * @internal
 */
export const steps = (
  dialect: Dialect,
  run: (s: string) => Effect.Effect<unknown, SqlError>,
  migration: string,
  operations: ReadonlyArray<Step>,
  options: {
    readonly from?: number
    readonly onProgress?: OnProgress
    readonly after?: (completed: number) => Effect.Effect<void, SqlError>
  } = {}
): Effect.Effect<void, MigrationFailed> => {
  const { after, from = 0, onProgress = noProgress } = options
  const event = (op: Step, index: number, _tag: Progress["_tag"], elapsedMs?: number) =>
    onProgress({
      _tag,
      index,
      total: operations.length,
      table: op.table,
      description: op.description,
      ...(elapsedMs === undefined ? {} : { elapsedMs })
    })
  return Effect.forEach(operations.slice(from), (op, k) => {
    const i = from + k
    return Effect.gen(function*() {
      yield* event(op, i, "started")
      const started = yield* Effect.sync(() => performance.now())
      yield* Effect.forEach(op.statements, run, { discard: true })
      if (after !== undefined) yield* after(i + 1)
      yield* event(op, i, "finished", Math.round(performance.now() - started))
    }).pipe(
      Effect.mapError((cause) =>
        new MigrationFailed({
          migration,
          operation: i,
          description: op.description,
          completed: dialect.transactionalDdl ? 0 : i,
          cause: cause.cause ?? cause
        })
      )
    )
  }, { discard: true })
}

// wall-clock time, whatever clock the program runs on: the history orders by it
const wallClock = Effect.sync(() => new Date().toISOString())

/**
 * Applies a plan (see `runLocked`). Where DDL commits (MySQL) the history row is written
 * first and says after each operation how many are done: an interrupted or failed migration
 * shows in `status`, and applying the same plan again goes on from there.
 * @internal
 */
export const apply = (
  dialect: Dialect,
  server: ServerInfo,
  sql: SqlClient.SqlClient,
  schema: string | undefined,
  p: Plan,
  onProgress: OnProgress = noProgress
): Effect.Effect<Outcome, SqlError | MigrationFailed> =>
  runLocked(dialect, server, sql, schema, ({ query, run }) =>
    Effect.gen(function*() {
      const statements = historyStatements(dialect, schema)
      const [found] = yield* query({ text: statements.find, params: [p.id] })
      const recorded = found === undefined ? undefined : (JSON.parse(String(found.operations)) as Recorded)
      if ((recorded !== undefined && recorded.completed === undefined) || p.operations.length === 0) {
        return { applied: false, operations: 0 }
      }
      const durable = !dialect.transactionalDdl
      const row = (completed: number | undefined, after: string) =>
        JSON.stringify({ operations: p.operations, schema: after, tables: p.tables, ...(completed === undefined ? {} : { completed }) })
      const record = (completed: number | undefined, after: string) =>
        Effect.flatMap(wallClock, (now) => query({ text: statements.update, params: [now, row(completed, after), p.id] }))
      if (durable && recorded === undefined) {
        yield* query({ text: statements.insert, params: [p.id, p.name, p.checksum, yield* wallClock, row(0, "")] })
      }
      const from = recorded?.completed ?? 0
      const operations = p.operations.map((o) => ({ table: o.table, description: o.description, statements: o.up }))
      yield* steps(dialect, run, p.id, operations, {
        from,
        onProgress,
        ...(durable ? { after: (n: number) => Effect.asVoid(record(n, "")) } : {})
      })
      const after = yield* schemaFingerprint(dialect, query, schema, p.tables)
      if (durable) yield* record(undefined, after)
      else yield* query({ text: statements.insert, params: [p.id, p.name, p.checksum, yield* wallClock, row(undefined, after)] })
      return { applied: true, operations: p.operations.length - from }
    }))

/**
 * Undoes the last applied migration with its operations' down statements, in reverse order,
 * and removes its history row; refused when one of them is not reversible.
 * @internal
 */
export const rollback = (
  dialect: Dialect,
  server: ServerInfo,
  sql: SqlClient.SqlClient,
  schema: string | undefined
): Effect.Effect<Applied | undefined, SqlError | MigrationFailed | MigrationRefused> =>
  Effect.gen(function*() {
    const entries = yield* history(dialect, onClient(sql), schema)
    const last = entries.filter((e) => e.completed === undefined).at(-1)
    if (last === undefined) return undefined
    const irreversible = last.operations.filter((o) => o.down === undefined || o.down === null)
    if (irreversible.length > 0) {
      return yield* new MigrationRefused({
        reason: `migration ${last.id} is not reversible`,
        operations: irreversible.map((o) => `${o.table}: ${o.description}`)
      })
    }
    return yield* runLocked(dialect, server, sql, schema, ({ query, run }) =>
      Effect.gen(function*() {
        const undo = [...last.operations].reverse().map((o) => ({ table: o.table, description: `undo: ${o.description}`, statements: o.down! }))
        yield* steps(dialect, run, last.id, undo)
        yield* query({
          text: `DELETE FROM ${qualified(dialect, schema, historyTable)} WHERE id = ${dialect.placeholder(1)}`,
          params: [last.id]
        })
        return last
      }))
  })
