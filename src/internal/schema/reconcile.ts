/**
 * A model's table brought in line on first use: under the `auto` policy created when missing
 * and given the columns, unique constraints and indexes it lacks (additive changes only);
 * under `existing` only checked. What still stops the model's nodes from working is returned.
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { Dialect, ServerInfo, TableSpec } from "../dialect/dialect.js"
import type { Change } from "./diff.js"
import { additiveStatements, blocking, changes, needsRowCheck } from "./diff.js"
import type { RunQuery, Table } from "./introspect.js"
import { tables } from "./introspect.js"

/** A connection to read the catalog and run DDL on. @internal */
export interface SchemaConnection {
  readonly query: RunQuery
  readonly run: (statement: string) => Effect.Effect<unknown, SqlError>
}

/** A difference between a table and its model. @internal */
export interface Difference {
  readonly column?: string | undefined
  readonly reason: string
}

/** The live table of a spec, if it exists. @internal */
export const liveTable = (dialect: Dialect, conn: SchemaConnection, spec: TableSpec): Effect.Effect<Table | undefined, SqlError> =>
  Effect.map(tables(dialect.catalog, conn.query, spec.schema, spec.table, false), (found) => found[0])

/** Whether the table has a row. @internal */
export const hasRows = (dialect: Dialect, conn: SchemaConnection, spec: TableSpec): Effect.Effect<boolean, SqlError> => {
  const table = spec.schema === undefined ? dialect.quote(spec.table) : `${dialect.quote(spec.schema)}.${dialect.quote(spec.table)}`
  return Effect.map(conn.query({ text: `SELECT 1 AS one FROM ${table}${dialect.limitOffset(1, undefined)}`, params: [] }), (rows) =>
    rows.length > 0)
}

/** The changes between a spec and its live table, the row check made only when it matters. @internal */
export const changesOf = (
  dialect: Dialect,
  server: ServerInfo,
  conn: SchemaConnection,
  spec: TableSpec,
  live: Table | undefined
): Effect.Effect<{ readonly all: ReadonlyArray<Change>; readonly rows: boolean }, SqlError> =>
  Effect.map(
    needsRowCheck(spec, live) ? hasRows(dialect, conn, spec) : Effect.succeed(false),
    (rows) => ({ all: changes(dialect, server, spec, live, rows), rows })
  )

/**
 * What first use does to an existing table under a policy, decided from the live table alone
 * (pure): the statements `auto` runs, and the differences left that stop the model's nodes
 * (`existing`: anything missing too, but for indexes, which change no result).
 */
const firstUse = (
  dialect: Dialect,
  server: ServerInfo,
  spec: TableSpec,
  live: Table,
  all: ReadonlyArray<Change>,
  rows: boolean,
  policy: "auto" | "existing"
): { readonly statements: ReadonlyArray<string>; readonly differences: ReadonlyArray<Difference> } => {
  if (all.length === 0) return { statements: [], differences: [] }
  if (policy === "existing") {
    const missing = all.filter((c) => c.additive && c.kind !== "addIndex")
    return {
      statements: [],
      differences: [
        ...missing.map((c) => ({ column: c.column, reason: `missing: ${c.description}` })),
        ...blocking(dialect, server, spec, live, all.filter((c) => !c.additive))
      ]
    }
  }
  const { applied, statements } = additiveStatements(dialect, server, spec, live, all, rows)
  return { statements, differences: blocking(dialect, server, spec, live, all.filter((c) => !applied.has(c))) }
}

/**
 * Whether first use under a policy has nothing to do on this live table — no statement to run,
 * no difference to report — judged from the table alone (a catalog read made for many tables
 * at once). False when the answer depends on whether the table has rows: the full first-use
 * work reads that.
 * @internal
 */
export const settled = (
  dialect: Dialect,
  server: ServerInfo,
  spec: TableSpec,
  live: Table,
  policy: "auto" | "existing"
): boolean => {
  if (needsRowCheck(spec, live)) return false
  const { differences, statements } = firstUse(dialect, server, spec, live, changes(dialect, server, spec, live, false), false, policy)
  return statements.length === 0 && differences.length === 0
}

/** The live tables of a schema (the connection's current one when undefined) by name, without their foreign keys. @internal */
export const liveTables = (
  dialect: Dialect,
  conn: SchemaConnection,
  schema: string | undefined
): Effect.Effect<ReadonlyMap<string, Table>, SqlError> =>
  Effect.map(tables(dialect.catalog, conn.query, schema, undefined, false), (found) => new Map(found.map((t) => [t.name, t])))

/**
 * First use of a model's table under a policy: `auto` runs the additive changes; both return
 * the differences left that stop the model's nodes.
 * @internal
 */
export const reconcile = (
  dialect: Dialect,
  server: ServerInfo,
  conn: SchemaConnection,
  spec: TableSpec,
  policy: "auto" | "existing"
): Effect.Effect<ReadonlyArray<Difference>, SqlError> =>
  Effect.gen(function*() {
    const live = yield* liveTable(dialect, conn, spec)
    if (live === undefined) {
      if (policy === "existing") return [{ reason: "the table does not exist" }]
      // IF NOT EXISTS: a client that does not serialise DDL may race another process here
      yield* Effect.forEach(dialect.createTable(spec, server), conn.run, { discard: true })
      return []
    }
    const { all, rows } = yield* changesOf(dialect, server, conn, spec, live)
    const { differences, statements } = firstUse(dialect, server, spec, live, all, rows, policy)
    yield* Effect.forEach(statements, conn.run, { discard: true })
    return differences
  })
