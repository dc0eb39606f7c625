/**
 * A model's statements for one dialect (and one schema, for the schema tenancy strategy): its
 * columns with their codecs, the select list and row decoder, constraint names and DDL, and the
 * cache of statement texts the builders (`builders.ts`) make. Built once per model, dialect
 * and schema.
 * (Internal module: not part of the public API.)
 */
import type { Dialect, ServerInfo, TableSpec } from "../dialect/dialect.js"
import { constraintName } from "../dialect/common.js"
import type { ModelDefinition } from "../model/definition.js"
import type { DecodePlan, DialectColumn, NewRowEncoder } from "./rows.js"
import { decodePlan, dialectColumn, newRowEncoder } from "./rows.js"
import type { FieldInfo } from "./filter.js"
import { foreignKeySpecs, foreignKeysOf } from "./foreignKeys.js"

type FieldList = ReadonlyArray<string>

/** @internal */
export interface ModelStatements {
  readonly definition: ModelDefinition
  readonly dialect: Dialect
  /** The table, quoted and (in a tenant's schema) qualified. */
  readonly table: string
  /** The schema holding the table, when not the connection's default. */
  readonly schema: string | undefined
  readonly columns: ReadonlyArray<DialectColumn>
  readonly byField: ReadonlyMap<string, DialectColumn>
  /** The primary key's column; on a composite key, its first (see `key`). */
  readonly pk: DialectColumn
  /** Every column of the primary key, in key order. */
  readonly key: ReadonlyArray<DialectColumn>
  readonly selectList: string
  readonly decode: DecodePlan
  /** `deleted_at IS NULL` on soft-delete models: the rows reads see. */
  readonly notDeleted: string | undefined
  /** The tenant column of tenant-scoped models. */
  readonly tenantColumn: DialectColumn | undefined
  readonly filterField: (name: string) => FieldInfo | undefined
  /** Unique constraints: their names in the database and their fields (the tenant's first on tenant-scoped models). */
  readonly uniques: ReadonlyArray<{ readonly name: string; readonly fields: FieldList; readonly columns: FieldList }>
  /** Constraint names (as drivers report them) to the fields they cover. */
  readonly constraintFields: ReadonlyMap<string, FieldList>
  readonly ddl: (server: ServerInfo) => ReadonlyArray<string>
  /** The table as DDL sees it: the input of `ddl` and of the schema diff (`internal/schema/`). */
  readonly tableSpec: TableSpec
  /** 64-bit integers must be read exactly (the client is told so for this model's statements). */
  readonly safeIntegers: boolean
  /** The insert columns of a new record without an explicit generated key, in statement order. */
  readonly newColumns: ReadonlyArray<DialectColumn>
  /** The insert columns of a record that names its key. */
  readonly keyedColumns: ReadonlyArray<DialectColumn>
  /** The one-pass encoder of new rows in `newColumns` order (undefined with constructor defaults). */
  readonly encodeNew: NewRowEncoder | undefined
  /** Statement texts and plans by shape (see builders.ts); bounded. */
  readonly cache: Map<string, unknown>
}

const make = (def: ModelDefinition, dialect: Dialect, schema: string | undefined): ModelStatements => {
  const q = dialect.quote
  const columns = def.columns.map((c) => dialectColumn(dialect, c))
  const byField = new Map(columns.map((c) => [c.column.field, c]))
  const pk = byField.get(def.pk.field)!
  const key = def.key.map((c) => byField.get(c.field)!)
  const table = schema === undefined ? q(def.table) : `${q(schema)}.${q(def.table)}`
  const colOf = (f: string) => def.byField.get(f)!.name
  // tenant-scoped: uniqueness (and so upsert targets) is per tenant
  const scoped = (fields: FieldList): FieldList => (def.tenantScoped ? ["tenantId", ...fields] : fields)
  const uniques = def.uniqueSets.map((fields) => {
    const names = scoped(fields).map(colOf)
    return { name: constraintName(dialect, "uq", def.table, names), fields: scoped(fields), columns: names }
  })
  const indexes: Array<{ readonly name: string; readonly columns: FieldList }> = def.indexSets.map((fields) => {
    const names = scoped(fields).map(colOf)
    return { name: constraintName(dialect, "ix", def.table, names), columns: names }
  })
  const foreignKeys = foreignKeysOf(def, dialect)
  for (const fk of foreignKeys) {
    if (![...uniques, ...indexes].some((k) => fk.index.columns.every((c, i) => k.columns[i] === c))) indexes.push(fk.index)
  }
  const constraintFields = new Map<string, FieldList>(uniques.map((u) => [u.name, u.fields]))
  for (const fk of foreignKeys) constraintFields.set(fk.name, fk.fields)
  const keyFields = def.key.map((c) => c.field)
  constraintFields.set("PRIMARY", keyFields)
  constraintFields.set(`${def.table}_pkey`, keyFields)
  const keyed = new Set([...def.key.map((c) => c.name), ...uniques.flatMap((u) => u.columns), ...indexes.flatMap((i) => i.columns)])
  const deletedAt = byField.get("deletedAt")
  const tenantColumn = def.tenantScoped ? byField.get("tenantId") : undefined
  const filterFields = new Map(columns.map((c) => [c.column.field, {
    quoted: c.quoted,
    kind: c.column.kind,
    nullable: c.column.nullable || c.column.optional,
    toDb: c.toDb,
    isValue: def.isValue.get(c.column.field)!
  }]))
  const newColumns = def.autoIncrement ? columns.filter((c) => c !== pk) : columns
  let fkSpecs: ReturnType<typeof foreignKeySpecs> | undefined
  const tableSpec: TableSpec = {
    table: def.table,
    columns: def.columns,
    primaryKey: def.pk,
    ...(def.compositeKey ? { compositeKey: def.key } : {}),
    autoIncrement: def.autoIncrement,
    uniques: uniques.map((u) => ({ name: u.name, columns: u.columns })),
    schema,
    tenantColumn: def.tenantScoped && !def.autoIncrement ? "tenant_id" : undefined,
    indexes,
    keyed
  }
  // read when the table is made or compared, after the relations were checked (a relation that
  // cannot be resolved is the node's ConfigurationError, not a throw while statements are made)
  if (foreignKeys.length > 0) {
    Object.defineProperty(tableSpec, "foreignKeys", {
      enumerable: true,
      get: () => fkSpecs ??= foreignKeySpecs(def, foreignKeys, schema)
    })
  }
  return {
    definition: def,
    dialect,
    table,
    schema,
    columns,
    byField,
    pk,
    key,
    selectList: columns.map((c) => dialect.selectExpr(c.column)).join(", "),
    decode: decodePlan(columns),
    notDeleted: def.softDelete && deletedAt !== undefined ? `${deletedAt.quoted} IS NULL` : undefined,
    tenantColumn,
    filterField: (name) => filterFields.get(name),
    uniques,
    constraintFields,
    ddl: (server) => dialect.createTable(tableSpec, server),
    tableSpec,
    safeIntegers: dialect.readsBigintsAsNumbers && def.columns.some((c) => c.kind._tag === "bigint"),
    newColumns,
    keyedColumns: columns,
    encodeNew: newRowEncoder(def, newColumns),
    cache: new Map()
  }
}

const byDefinition = new WeakMap<ModelDefinition, Map<string, ModelStatements>>()

/** A model's statements for a dialect (and a tenant's schema), made once. @internal */
export const statementsFor = (def: ModelDefinition, dialect: Dialect, schema?: string): ModelStatements => {
  let byKey = byDefinition.get(def)
  if (byKey === undefined) byDefinition.set(def, byKey = new Map())
  const key = schema === undefined ? dialect.name : `${dialect.name}:${schema}`
  let statements = byKey.get(key)
  if (statements === undefined) byKey.set(key, statements = make(def, dialect, schema))
  return statements
}
