/**
 * A migration plan's step (`Operation`) and the internal `Change` the differ builds it from,
 * with the small helpers every part of the differ shares.
 * (Internal module: not part of the public API.)
 */
import type { Dialect, TableSpec } from "../dialect/dialect.js"

/**
 * What an operation does.
 *
 * @since 0.1.0
 * @category migrations
 */
export type OperationKind =
  | "createTable"
  | "dropTable"
  | "addColumn"
  | "dropColumn"
  | "alterColumnType"
  | "alterNullability"
  | "addIndex"
  | "dropIndex"
  | "addUnique"
  | "dropUnique"
  | "rebuildTable"
  | "renameColumn"
  | "primaryKey"
  | "addForeignKey"
  | "dropForeignKey"
  | "alterDefault"

/**
 * One step of a migration plan.
 *
 * @since 0.1.0
 * @category migrations
 */
export interface Operation {
  readonly kind: OperationKind
  readonly table: string
  readonly column?: string | undefined
  /** The index or constraint. */
  readonly index?: string | undefined
  /** What changes, in words. */
  readonly description: string
  /** The statements that make the change. */
  readonly up: ReadonlyArray<string>
  /** The statements that undo it; undefined: not reversible (the data it removes is gone). */
  readonly down?: ReadonlyArray<string> | undefined
  /** Can lose data (a dropped table or column, a narrowing type change): needs `allowDestructive`. */
  readonly destructive: boolean
  /** Only adds (a table, a column, an index): what the `auto` policy runs on first use. */
  readonly additive: boolean
  /** Why it cannot run as it is (a NOT NULL column without a default on a table with rows). */
  readonly blocked?: string | undefined
}

/** An operation, and whether it can be made in place (else the table is rebuilt). @internal */
export interface Change extends Operation {
  readonly inPlace: boolean
}

/** Two column lists equal, in order. @internal */
export const sameColumns = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => a.length === b.length && a.every((x, i) => x === b[i])

/** A table's name as the dialect writes it, with its schema. @internal */
export const quotedTable = (dialect: Dialect, spec: TableSpec) =>
  spec.schema === undefined ? dialect.quote(spec.table) : `${dialect.quote(spec.schema)}.${dialect.quote(spec.table)}`
