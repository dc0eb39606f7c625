/**
 * The foreign-key part of a table's difference: the model's foreign keys to add, the live ones
 * to drop (a changed action is a drop and an add), each with its SQL and its undo.
 * (Internal module: not part of the public API.)
 */
import type { Dialect, ForeignKeySpec, TableSpec } from "../dialect/dialect.js"
import type { ForeignKey, Table } from "./introspect.js"
import type { Change } from "./operation.js"
import { quotedTable, sameColumns } from "./operation.js"

/** The same foreign key: columns, referenced table and columns, actions (names aside: SQLite reports none). */
const sameForeignKey = (wanted: ForeignKeySpec, live: ForeignKey) =>
  sameColumns(wanted.columns, live.columns) && wanted.table === live.referencedTable &&
  sameColumns(wanted.references, live.referencedColumns) && wanted.onDelete === live.onDelete && wanted.onUpdate === live.onUpdate

const words = { cascade: "cascade", restrict: "restrict", setNull: "set null", setDefault: "set default", noAction: "no action" } as const

const foreignKeyText = (fk: { readonly columns: ReadonlyArray<string>; readonly onDelete: keyof typeof words; readonly onUpdate: keyof typeof words }, table: string, references: ReadonlyArray<string>) =>
  `(${fk.columns.join(", ")}) → ${table} (${references.join(", ")}), on delete ${words[fk.onDelete]}, on update ${words[fk.onUpdate]}`

/**
 * Adding one of the model's foreign keys to its (existing) table; `inPlace` false where only a
 * rebuild adds one (SQLite).
 * @internal
 */
export const addForeignKey = (dialect: Dialect, spec: TableSpec, fk: ForeignKeySpec): Change => {
  const table = quotedTable(dialect, spec)
  const up = dialect.alter.addForeignKey?.(table, fk)
  const down = dialect.alter.dropForeignKey?.(table, fk.name)
  return {
    inPlace: up !== undefined,
    kind: "addForeignKey",
    table: spec.table,
    index: fk.name,
    description: `add foreign key ${fk.name} ${foreignKeyText(fk, fk.table, fk.references)} (fails where a row refers to a missing one)`,
    up: up === undefined ? [] : [up],
    down: down === undefined ? undefined : [down],
    destructive: false,
    additive: true
  }
}

/** A live foreign key as the model's would declare it; undefined for an action models do not declare. */
const declarable = (fk: ForeignKey, schema: string | undefined): ForeignKeySpec | undefined =>
  fk.onDelete === "setDefault" || fk.onUpdate === "setDefault"
    ? undefined
    : {
      name: fk.name,
      columns: fk.columns,
      table: fk.referencedTable,
      schema,
      references: fk.referencedColumns,
      onDelete: fk.onDelete,
      onUpdate: fk.onUpdate
    }

/**
 * The foreign keys to drop (live, not the model's) and to add (the model's, not live), compared
 * by columns, referenced table and columns, and actions: a changed action is a drop and an add.
 * @internal
 */
export const foreignKeyChanges = (dialect: Dialect, spec: TableSpec, live: Table): ReadonlyArray<Change> => {
  const wanted = spec.foreignKeys ?? []
  const table = quotedTable(dialect, spec)
  const drops = live.foreignKeys.filter((fk) => !wanted.some((w) => sameForeignKey(w, fk))).map((fk): Change => {
    const up = dialect.alter.dropForeignKey?.(table, fk.name)
    const restore = declarable(fk, spec.schema)
    const down = restore === undefined ? undefined : dialect.alter.addForeignKey?.(table, restore)
    return {
      inPlace: up !== undefined,
      kind: "dropForeignKey",
      table: spec.table,
      index: fk.name,
      description: `drop foreign key ${fk.name} ${foreignKeyText(fk, fk.referencedTable, fk.referencedColumns)}`,
      up: up === undefined ? [] : [up],
      down: down === undefined ? undefined : [down],
      destructive: false,
      additive: false
    }
  })
  const adds = wanted.filter((w) => !live.foreignKeys.some((fk) => sameForeignKey(w, fk))).map((fk) => addForeignKey(dialect, spec, fk))
  return [...drops, ...adds]
}
