/**
 * The order of a plan's operations where foreign keys tie tables together: tables created
 * after the tables they reference, foreign keys that close a cycle (or wait for a key added
 * by the plan) added after every table, and a SQLite rebuild of a table that foreign keys
 * refer to refused. Pure: tested without a database.
 * (Internal module: not part of the public API.)
 */
import type { Dialect, ForeignKeySpec, ServerInfo, TableSpec } from "../dialect/dialect.js"
import type { Change, Operation } from "./diff.js"
import { addForeignKey, diffTable } from "./diff.js"
import type { Table } from "./introspect.js"

const strip = ({ inPlace: _, ...op }: Change): Operation => op

const sameColumns = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => a.length === b.length && a.every((x, i) => x === b[i])

/** The live table has a primary key or unique constraint on exactly these columns. */
const liveKey = (table: Table, columns: ReadonlyArray<string>) =>
  sameColumns(table.primaryKey, columns) || table.uniques.some((u) => sameColumns(u.columns, columns))

/** The tables a plan creates, and the foreign keys it adds to them after all of them. @internal */
export interface Creation {
  readonly creates: ReadonlyArray<Operation>
  readonly foreignKeys: ReadonlyArray<Operation>
}

/**
 * The `createTable` operations of the models whose tables do not exist, each after the tables
 * it references. A foreign key whose target is not there yet when its table is created — a
 * cycle (A → B → A), or a target whose key the plan adds — is left out of CREATE TABLE and
 * added by `ALTER TABLE … ADD CONSTRAINT` after every table; where a constraint cannot be
 * added that way (SQLite) it stays in CREATE TABLE, which SQLite accepts in any order (it
 * checks foreign keys when rows are written).
 * @internal
 */
export const createTables = (
  dialect: Dialect,
  server: ServerInfo,
  specs: ReadonlyArray<TableSpec>,
  live: ReadonlyArray<Table>
): Creation => {
  const pending = specs.filter((s) => !live.some((t) => t.name === s.table))
  const fresh = new Set(pending.map((s) => s.table))
  const made = new Set<string>()
  const ready = (spec: TableSpec, fk: ForeignKeySpec) => {
    if (fk.schema !== spec.schema || fk.table === spec.table) return true
    if (fresh.has(fk.table)) return made.has(fk.table)
    const target = live.find((t) => t.name === fk.table)
    return target !== undefined && liveKey(target, fk.references)
  }
  const creates: Array<Operation> = []
  const foreignKeys: Array<Operation> = []
  while (pending.length > 0) {
    // none ready: a cycle; the first table goes, the foreign keys not ready are added after
    const next = Math.max(0, pending.findIndex((s) => (s.foreignKeys ?? []).every((fk) => ready(s, fk))))
    const spec = pending.splice(next, 1)[0]!
    const absent = (fk: ForeignKeySpec) => fk.schema === spec.schema && !fresh.has(fk.table) && !live.some((t) => t.name === fk.table)
    const missing = (spec.foreignKeys ?? []).find(absent)
    const later = (spec.foreignKeys ?? []).map((fk) => ({ fk, add: addForeignKey(dialect, spec, fk) }))
      .filter(({ add, fk }) => !ready(spec, fk) && !absent(fk) && add.inPlace)
    const kept = (spec.foreignKeys ?? []).filter((fk) => !later.some((l) => l.fk === fk))
    made.add(spec.table)
    const [create] = diffTable(dialect, server, { ...spec, foreignKeys: kept }, undefined, false)
    creates.push(
      missing === undefined
        ? create!
        : { ...create!, blocked: `foreign key ${missing.name} references table ${missing.table}, which neither exists nor is a model of the plan` }
    )
    foreignKeys.push(...later.map(({ add }) => strip(add)))
  }
  return { creates, foreignKeys }
}

/**
 * A SQLite rebuild drops the old table: with foreign keys referring to it (from another table
 * or itself) that drop checks or cascades them, so such a rebuild is refused (`blocked`).
 * @internal
 */
export const guardRebuild = (op: Operation, spec: TableSpec, live: ReadonlyArray<Table>): Operation => {
  if (op.kind !== "rebuildTable" || op.blocked !== undefined) return op
  const referring = live.filter((t) => t.foreignKeys.some((fk) => fk.referencedTable === op.table)).map((t) => t.name)
  const self = (spec.foreignKeys ?? []).some((fk) => fk.table === spec.table)
  if (referring.length === 0 && !self) return op
  const names = [...new Set([...referring, ...(self ? [spec.table] : [])])].join(", ")
  return {
    ...op,
    blocked:
      `the table is rebuilt to change it, and foreign keys of ${names} refer to it: dropping the old table would check or cascade them (rebuild it by hand with PRAGMA foreign_keys = OFF)`
  }
}
