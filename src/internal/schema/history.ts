/**
 * The migration history table `dataflow_migrations`: its declaration, its rows, and the
 * fingerprint of tables a row records.
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import type { Column } from "../../Column.js"
import type { Dialect, TableSpec } from "../dialect/dialect.js"
import type { Operation } from "./diff.js"
import type { RunQuery, Table } from "./introspect.js"
import { tables } from "./introspect.js"

/** A row of the history table. @internal */
export interface Applied {
  readonly id: string
  readonly name: string
  readonly checksum: string
  readonly appliedAt: string
  readonly operations: ReadonlyArray<Operation>
  /** sha256 of the plan's tables as they were right after it was applied. */
  readonly schema: string
  readonly tables: ReadonlyArray<string>
  /**
   * Where DDL commits (MySQL): the operations done so far of a migration that has not finished
   * (interrupted, or failed); absent once it is applied.
   */
  readonly completed?: number | undefined
}

/** What the history row's `operations` column holds. */
export interface Recorded {
  readonly operations: ReadonlyArray<Operation>
  readonly schema: string
  readonly tables: ReadonlyArray<string>
  readonly completed?: number | undefined
}

/** The history table's name. @internal */
export const historyTable = "dataflow_migrations"

const textColumn = (name: string, maxLength: number | undefined): Column => ({
  field: name,
  name,
  kind: { _tag: "string", maxLength },
  nullable: false,
  optional: false,
  jsonEncode: (v) => v,
  jsonDecode: (v) => v
})

const historyColumns = [
  textColumn("id", 255),
  textColumn("name", 255),
  textColumn("checksum", 64),
  textColumn("applied_at", 40),
  textColumn("operations", undefined)
]

/** The history table, declared like every other table (so its DDL is the dialect's). @internal */
export const historySpec = (schema: string | undefined): TableSpec => ({
  table: historyTable,
  columns: historyColumns,
  primaryKey: historyColumns[0]!,
  autoIncrement: false,
  uniques: [],
  // the same operations may be planned again later (an index added, dropped, added): ids are unique, checksums not
  indexes: [{ name: `ix_${historyTable}_checksum`, columns: ["checksum"] }],
  keyed: new Set(["id", "checksum"]),
  schema,
  tenantColumn: undefined
})

export const qualified = (dialect: Dialect, schema: string | undefined, table: string) =>
  schema === undefined ? dialect.quote(table) : `${dialect.quote(schema)}.${dialect.quote(table)}`

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

/** A stable text of tables for hashing. */
const fingerprint = (live: ReadonlyArray<Table>) => sha256(JSON.stringify(live))

/** The rows of the history table (none when it does not exist). @internal */
export const history = (
  dialect: Dialect,
  query: RunQuery,
  schema: string | undefined
): Effect.Effect<ReadonlyArray<Applied>, SqlError> =>
  Effect.gen(function*() {
    const exists = yield* tables(dialect.catalog, query, schema, historyTable)
    if (exists.length === 0) return []
    const rows = yield* query({
      text: `SELECT id, name, checksum, applied_at, operations FROM ${qualified(dialect, schema, historyTable)} ORDER BY applied_at, id`,
      params: []
    })
    return rows.map((r): Applied => {
      const recorded = JSON.parse(String(r.operations)) as Recorded
      return {
        id: String(r.id),
        name: String(r.name),
        checksum: String(r.checksum),
        appliedAt: String(r.applied_at),
        operations: recorded.operations,
        schema: recorded.schema,
        tables: recorded.tables,
        ...(recorded.completed === undefined ? {} : { completed: recorded.completed })
      }
    })
  })

/** The fingerprint of some tables as they are now. @internal */
export const schemaFingerprint = (
  dialect: Dialect,
  query: RunQuery,
  schema: string | undefined,
  names: ReadonlyArray<string>
): Effect.Effect<string, SqlError> =>
  Effect.map(tables(dialect.catalog, query, schema), (all) => fingerprint(all.filter((t) => names.includes(t.name))))

/** The history row's statements. */
export const historyStatements = (dialect: Dialect, schema: string | undefined) => {
  const history = qualified(dialect, schema, historyTable)
  const p = dialect.placeholder
  return {
    find: `SELECT id, operations FROM ${history} WHERE id = ${p(1)}`,
    insert: `INSERT INTO ${history} (id, name, checksum, applied_at, operations) VALUES (${[1, 2, 3, 4, 5].map(p).join(", ")})`,
    update: `UPDATE ${history} SET applied_at = ${p(1)}, operations = ${p(2)} WHERE id = ${p(3)}`
  }
}
