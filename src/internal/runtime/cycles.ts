/**
 * First use of tables whose foreign keys form a cycle (A.bId → B, B.aId → A, or longer): on a
 * database that checks a reference when the table is created (PostgreSQL, MySQL), no order of
 * CREATE TABLE works. The tables are created (or completed) without the constraints between
 * them, then those constraints are added with `ALTER TABLE … ADD CONSTRAINT` once all exist.
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { Dialect, ForeignKeySpec, ServerInfo, TableSpec } from "../dialect/dialect.js"
import type { SchemaConnection } from "../schema/reconcile.js"
import { reconcile } from "../schema/reconcile.js"

const qualified = (schema: string | undefined, table: string) => (schema === undefined ? table : `${schema}.${table}`)

/** Whether a foreign key of `spec` refers to another table of the cycle. */
const intoCycle = (spec: TableSpec, members: ReadonlySet<string>) => (fk: ForeignKeySpec) => {
  const target = qualified(fk.schema, fk.table)
  return members.has(target) && target !== qualified(spec.schema, spec.table)
}

/**
 * The foreign keys `keys` of a table added where the table lacks them (by constraint name).
 * Without a DDL lock (MySQL) another process may add one meanwhile: a failed ADD is fine
 * when the constraint is there after all.
 */
const addMissing = (
  dialect: Dialect,
  conn: SchemaConnection,
  spec: TableSpec,
  keys: ReadonlyArray<ForeignKeySpec>
): Effect.Effect<void, SqlError> => {
  const add = dialect.alter.addForeignKey
  if (keys.length === 0 || add === undefined) return Effect.void
  const present = Effect.map(
    conn.query(dialect.catalog.foreignKeys(spec.schema, spec.table)),
    (rows) => new Set(rows.map((r) => String(r.constraint_name)))
  )
  const q = dialect.quote
  const table = spec.schema === undefined ? q(spec.table) : `${q(spec.schema)}.${q(spec.table)}`
  return Effect.flatMap(present, (names) =>
    Effect.forEach(
      keys.filter((fk) => !names.has(fk.name)),
      (fk) =>
        conn.run(add(table, fk)).pipe(
          Effect.catchAll((e) => Effect.flatMap(present, (now) => (now.has(fk.name) ? Effect.void : Effect.fail(e))))
        ),
      { discard: true }
    ))
}

/**
 * The first-use work of the tables of a cycle of foreign keys (`specs`), run once per client
 * before each table's own: under `auto`, every table created or completed without its
 * constraints into the others, then the missing ones added (idempotent: another process may
 * have done it). What is left different in a table is its own first-use work's to report.
 * @internal
 */
export const cycleWork = (dialect: Dialect, specs: ReadonlyArray<TableSpec>) =>
(server: ServerInfo, conn: SchemaConnection, policy: "auto" | "existing"): Effect.Effect<void, SqlError> => {
  if (policy === "existing") return Effect.void
  const members = new Set(specs.map((s) => qualified(s.schema, s.table)))
  return Effect.gen(function*() {
    for (const spec of specs) {
      const cyclic = intoCycle(spec, members)
      yield* reconcile(dialect, server, conn, { ...spec, foreignKeys: (spec.foreignKeys ?? []).filter((fk) => !cyclic(fk)) }, "auto")
    }
    for (const spec of specs) yield* addMissing(dialect, conn, spec, (spec.foreignKeys ?? []).filter(intoCycle(spec, members)))
  })
}
