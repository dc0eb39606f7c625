/**
 * The difference between a model's table (its `TableSpec`) and the live table, as operations
 * with their SQL for the dialect: what to run forwards (`up`), backwards where that loses
 * nothing (`down`), whether it can lose data, whether the `auto` policy may run it. Pure:
 * tested without a database.
 * (Internal module: not part of the public API.)
 */
import type { Column } from "../../Column.js"
import type { Dialect, ServerInfo, TableSpec } from "../dialect/dialect.js"
import { primaryKeyColumns } from "../dialect/common.js"
import type { Table, TableColumn } from "./introspect.js"
import { defaultChanges } from "./diffDefaults.js"
import { foreignKeyChanges } from "./diffForeignKeys.js"
import type { Change, Operation } from "./operation.js"
import { quotedTable, sameColumns } from "./operation.js"

export type { Change, Operation, OperationKind } from "./operation.js"
export { addForeignKey } from "./diffForeignKeys.js"
export { literalDefault } from "./diffDefaults.js"

const nullableOf = (c: Column) => c.nullable || c.optional

/**
 * The live column stores the model's values (nothing to change on first use): the same kind,
 * a text column of any length for a string (a longer value is the database's error).
 */
const holds = (live: TableColumn, column: Column, expected: string, dialect: Dialect): boolean => {
  const kind = live.kind
  if (kind === undefined) return false
  if ((column.kind._tag === "string" || column.kind._tag === "enum") && kind._tag === "string") return true
  // an INTEGER column of SQLite holds any integer; a bigint column an int's values
  return dialect.catalog.kindOf(expected)?._tag === kind._tag && kind._tag !== "string" && kind._tag !== "decimal"
}

/** Changing the live type to the model's keeps every value (a string widened, an integer to a bigint). */
const lossless = (live: TableColumn, column: Column): boolean => {
  const kind = live.kind
  if (kind === undefined) return false
  if (column.kind._tag === "string" && kind._tag === "string") {
    return kind.maxLength !== undefined && (column.kind.maxLength === undefined || column.kind.maxLength >= kind.maxLength)
  }
  return kind._tag === "integer" && (column.kind._tag === "integer" || column.kind._tag === "bigint") && live.type !== "bigint"
}

/** The table rebuilt into the model's shape (SQLite changes types and nullability no other way). */
const rebuild = (dialect: Dialect, spec: TableSpec, live: Table, server: ServerInfo): ReadonlyArray<string> => {
  const table = quotedTable(dialect, spec)
  const temporary = `${spec.table}__dataflow_new`
  const [create] = dialect.createTable({ ...spec, table: temporary }, server)
  const kept = spec.columns.filter((c) => live.columns.some((l) => l.name === c.name)).map((c) => dialect.quote(c.name))
  return [
    create!,
    `INSERT INTO ${dialect.quote(temporary)} (${kept.join(", ")}) SELECT ${kept.join(", ")} FROM ${table}`,
    dialect.alter.dropTable(table),
    dialect.alter.renameTable(dialect.quote(temporary), spec.table),
    // the indexes under their own names, on the renamed table
    ...dialect.createTable(spec, server).slice(1)
  ]
}

/** Whether adding the model's missing columns needs to know if the table has rows. @internal */
export const needsRowCheck = (spec: TableSpec, live: Table | undefined): boolean =>
  live !== undefined &&
  spec.columns.some((c) => !nullableOf(c) && c.default === undefined && !live.columns.some((l) => l.name === c.name))

/**
 * The changes that turn the live table into the model's, one per difference (`live`
 * undefined: it is missing). `hasRows`: the table has rows (asked only when `needsRowCheck`).
 * @internal
 */
export const changes = (
  dialect: Dialect,
  server: ServerInfo,
  spec: TableSpec,
  live: Table | undefined,
  hasRows: boolean
): ReadonlyArray<Change> => {
  const table = quotedTable(dialect, spec)
  const { alter, catalog } = dialect
  if (live === undefined) {
    return [{
      inPlace: true,
      kind: "createTable",
      table: spec.table,
      description: `create table ${spec.table}`,
      up: dialect.createTable(spec, server),
      down: [alter.dropTable(table)],
      destructive: false,
      additive: true
    }]
  }
  const ops: Array<Change> = []
  const push = (op: Omit<Operation, "up" | "down"> & { up: string | undefined; down: ReadonlyArray<string | undefined> | undefined }) => {
    const down = op.down === undefined || op.down.some((s) => s === undefined) ? undefined : (op.down as ReadonlyArray<string>)
    ops.push({ ...op, up: op.up === undefined ? [] : [op.up], down, inPlace: op.up !== undefined })
  }
  const keyed = (c: Column) => spec.keyed.has(c.name)
  const pk = primaryKeyColumns(spec)
  if (!sameColumns(pk, live.primaryKey)) {
    push({
      kind: "primaryKey",
      table: spec.table,
      description: `primary key (${live.primaryKey.join(", ")}) is not the model's (${pk.join(", ")})`,
      up: undefined,
      down: undefined,
      destructive: true,
      additive: false,
      blocked: `the primary key is (${live.primaryKey.join(", ") || "none"}), the model's is (${pk.join(", ")})`
    })
  }
  for (const column of spec.columns) {
    const current = live.columns.find((l) => l.name === column.name)
    if (current === undefined) {
      const notNull = !nullableOf(column)
      push({
        kind: "addColumn",
        table: spec.table,
        column: column.name,
        description: `add column ${column.name} ${catalog.columnType(column, keyed(column), server)}${notNull ? " NOT NULL" : ""}`,
        up: alter.addColumn(table, column, keyed(column), server),
        down: [alter.dropColumn(table, column.name)],
        destructive: false,
        additive: true,
        blocked: notNull && hasRows && column.default === undefined
          ? "a NOT NULL column without a default cannot be added to a table with rows"
          : undefined
      })
      continue
    }
    if (column === spec.primaryKey && spec.autoIncrement) continue
    const expected = catalog.columnType(column, keyed(column), server)
    if (current.type !== expected) {
      const keeps = lossless(current, column)
      push({
        kind: "alterColumnType",
        table: spec.table,
        column: column.name,
        description: `change the type of ${column.name} from ${current.type} to ${expected}${keeps ? "" : " (values may not convert)"}`,
        up: alter.alterType(table, column, keyed(column), server),
        down: undefined,
        destructive: !keeps,
        additive: false
      })
    }
    if (current.nullable !== nullableOf(column)) {
      push({
        kind: "alterNullability",
        table: spec.table,
        column: column.name,
        description: nullableOf(column) ? `let ${column.name} hold NULL` : `make ${column.name} NOT NULL (fails where a row holds NULL)`,
        up: alter.setNullable(table, column, keyed(column), server),
        down: [alter.setNullable(table, { ...column, nullable: !nullableOf(column), optional: false }, keyed(column), server)],
        destructive: false,
        additive: false
      })
    }
  }
  for (const current of live.columns) {
    if (spec.columns.some((c) => c.name === current.name)) continue
    push({
      kind: "dropColumn",
      table: spec.table,
      column: current.name,
      description: `drop column ${current.name} (not in the model; its data is lost)`,
      up: alter.dropColumn(table, current.name),
      down: undefined,
      destructive: true,
      additive: false
    })
  }
  for (const unique of spec.uniques) {
    if (live.uniques.some((u) => sameColumns(u.columns, unique.columns))) continue
    push({
      kind: "addUnique",
      table: spec.table,
      index: unique.name,
      description: `add unique constraint ${unique.name} (${unique.columns.join(", ")}) (fails where rows repeat a value)`,
      up: alter.addUnique(table, unique.name, unique.columns),
      down: [alter.dropUnique(table, unique.name, true)],
      destructive: false,
      additive: true
    })
  }
  for (const unique of live.uniques) {
    if (spec.uniques.some((u) => sameColumns(u.columns, unique.columns))) continue
    push({
      kind: "dropUnique",
      table: spec.table,
      index: unique.name,
      description: `drop unique ${unique.constraint ? "constraint" : "index"} ${unique.name} (${unique.columns.join(", ")})`,
      up: alter.dropUnique(table, unique.name, unique.constraint),
      down: [alter.addUnique(table, unique.name, unique.columns)],
      destructive: false,
      additive: false
    })
  }
  for (const index of spec.indexes) {
    if (live.indexes.some((i) => sameColumns(i.columns, index.columns))) continue
    push({
      kind: "addIndex",
      table: spec.table,
      index: index.name,
      description: `add index ${index.name} (${index.columns.join(", ")})`,
      up: alter.createIndex(table, index.name, index.columns),
      down: [alter.dropIndex(table, index.name)],
      destructive: false,
      additive: true
    })
  }
  for (const index of live.indexes) {
    if (spec.indexes.some((i) => sameColumns(i.columns, index.columns))) continue
    push({
      kind: "dropIndex",
      table: spec.table,
      index: index.name,
      description: `drop index ${index.name} (${index.columns.join(", ")})`,
      up: alter.dropIndex(table, index.name),
      down: [alter.createIndex(table, index.name, index.columns)],
      destructive: false,
      additive: false
    })
  }
  return ops
}

const strip = ({ inPlace: _, ...op }: Change): Operation => op

/**
 * The operations of a plan: the changes, where some cannot be made in place (SQLite) one
 * rebuild of the table that makes them all.
 * @internal
 */
export const diffTable = (
  dialect: Dialect,
  server: ServerInfo,
  spec: TableSpec,
  live: Table | undefined,
  hasRows: boolean
): ReadonlyArray<Operation> => {
  const ops = [
    ...changes(dialect, server, spec, live, hasRows),
    ...(live === undefined ? [] : [...defaultChanges(dialect, spec, live), ...foreignKeyChanges(dialect, spec, live)])
  ]
  if (live === undefined || ops.every((o) => o.inPlace || o.kind === "primaryKey")) return ops.map(strip)
  const blockedKinds = ops.filter((o) => o.kind === "primaryKey")
  // the rebuild makes the table the model's exactly: the index changes are part of it
  const rebuilt = ops.filter((o) => o.kind !== "primaryKey")
  const blocked = rebuilt.find((o) => o.blocked !== undefined)?.blocked
  return [
    ...blockedKinds.map(strip),
    {
      kind: "rebuildTable",
      table: spec.table,
      description: `rebuild table ${spec.table}: ${rebuilt.map((o) => o.description).join("; ")}`,
      up: rebuild(dialect, spec, live, server),
      down: undefined,
      destructive: rebuilt.some((o) => o.destructive),
      additive: rebuilt.every((o) => o.additive),
      ...(blocked === undefined ? {} : { blocked })
    }
  ]
}

/**
 * What the `auto` policy runs on first use: the additive changes that are not blocked; where
 * one cannot be made in place (SQLite's NOT NULL column) and the table is empty, a rebuild of
 * the (empty) table. The other changes are left for `blocking` to judge.
 * @internal
 */
export const additiveStatements = (
  dialect: Dialect,
  server: ServerInfo,
  spec: TableSpec,
  live: Table | undefined,
  all: ReadonlyArray<Change>,
  hasRows: boolean
): { readonly statements: ReadonlyArray<string>; readonly applied: ReadonlySet<Change> } => {
  const additive = all.filter((c) => c.additive && c.blocked === undefined)
  if (live !== undefined && !hasRows && additive.some((c) => !c.inPlace)) {
    return { statements: rebuild(dialect, spec, live, server), applied: new Set(all.filter((c) => c.kind !== "primaryKey")) }
  }
  const inPlace = additive.filter((c) => c.inPlace)
  return { statements: inPlace.flatMap((c) => c.up), applied: new Set(inPlace) }
}

/**
 * The differences that stop a model's nodes from working on the live table (first use, the
 * `auto` and `existing` policies): what remains after the additive operations ran (or, under
 * `existing`, before). A wider type, a nullable column the model never leaves NULL, extra
 * nullable columns and extra indexes are fine.
 * @internal
 */
export const blocking = (
  dialect: Dialect,
  server: ServerInfo,
  spec: TableSpec,
  live: Table,
  ops: ReadonlyArray<Operation>
): ReadonlyArray<{ readonly column?: string | undefined; readonly reason: string }> => {
  const out: Array<{ readonly column?: string | undefined; readonly reason: string }> = []
  for (const op of ops) {
    const current = live.columns.find((l) => l.name === op.column)
    const column = spec.columns.find((c) => c.name === op.column)
    switch (op.kind) {
      case "alterColumnType": {
        const expected = dialect.catalog.columnType(column!, spec.keyed.has(column!.name), server)
        if (!holds(current!, column!, expected, dialect)) {
          out.push({ column: op.column, reason: `the column's type is ${current!.type}, the model's is ${expected}` })
        }
        break
      }
      // a NOT NULL column under a model that allows NULL: writes of NULL are NotNullViolations, the rest works
      case "alterNullability":
        break
      case "dropColumn":
        if (!current!.nullable && current!.default === undefined && !current!.generated) {
          out.push({ column: op.column, reason: "a NOT NULL column without a default that the model does not write" })
        }
        break
      case "dropIndex":
      case "dropUnique":
        break
      default:
        out.push({ column: op.column, reason: op.blocked ?? op.description })
    }
  }
  return out
}
