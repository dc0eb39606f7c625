/**
 * Live tables as `Model.make` TypeScript source (`Introspect.toSource`).
 * (Internal module: not part of the public API.)
 */
import type { Kind } from "../../Column.js"
import { snakeCase } from "../model/naming.js"
import { literalDefault } from "./diff.js"
import type { ForeignKey, Table, TableColumn } from "./introspect.js"

const camelCase = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

const pascalCase = (name: string) => {
  const camel = camelCase(name)
  return camel.charAt(0).toUpperCase() + camel.slice(1)
}

const literal = (s: string) => JSON.stringify(s)

const kindSchema = (kind: Kind): string => {
  switch (kind._tag) {
    case "string":
      return kind.maxLength === undefined ? "Schema.String" : `Schema.String.pipe(Schema.maxLength(${kind.maxLength}))`
    case "enum":
      return `Schema.Literal(${kind.values.map(literal).join(", ")})`
    case "integer":
      return "Schema.Int"
    case "bigint":
      return "Schema.BigIntFromSelf"
    case "float":
      return "Schema.Number"
    case "boolean":
      return "Schema.Boolean"
    case "datetime":
      return "Schema.DateFromSelf"
    case "decimal":
      return kind.precision === undefined
        ? "Schema.BigDecimalFromSelf"
        : `Schema.BigDecimalFromSelf.pipe(Column.annotate({ precision: ${kind.precision}, scale: ${kind.scale ?? 0} }))`
    case "json":
      return "Column.JsonValue"
  }
}

/** A field: its name and the schema expression (and a comment where the type is not mapped). */
const field = (column: TableColumn): { readonly name: string; readonly schema: string; readonly note: string } => {
  const name = camelCase(column.name)
  const kind = column.kind ?? { _tag: "string", maxLength: undefined }
  // Schema.Unknown takes null itself: a nullable JSON column
  const nullableJson = column.nullable && kind._tag === "json"
  let schema = nullableJson ? "Schema.Unknown" : kindSchema(kind)
  const found = column.generated ? undefined : literalDefault(column.default, kind)
  const settings = [
    ...(snakeCase(name) !== column.name ? [`name: ${literal(column.name)}`] : []),
    ...(found !== undefined && found !== "expression" ? [`default: ${JSON.stringify(found.value)}`] : [])
  ]
  if (settings.length > 0) schema = `${schema}.pipe(Column.annotate({ ${settings.join(", ")} }))`
  if (column.nullable && !nullableJson) schema = `Schema.NullOr(${schema})`
  const note = column.kind === undefined
    ? ` // ${column.type}: not a type the library maps; read and written as text`
    : found === "expression"
    ? ` // default ${column.default}: an expression, kept in the table, not declared`
    : ""
  return { name, schema, note }
}

const fieldList = (columns: ReadonlyArray<string>) => {
  const names = columns.map((c) => literal(camelCase(c)))
  return names.length === 1 ? names[0]! : `[${names.join(", ")}]`
}

/** A relation's name from its key fields (`authorId` → `author`), not taken by a field or another relation. */
const relationName = (fk: ForeignKey, taken: Set<string>) => {
  const first = camelCase(fk.columns[0]!)
  // several columns: named after the table they refer to
  const base = fk.columns.length > 1 ? camelCase(fk.referencedTable) : /[a-z0-9]Id$/.test(first) ? first.slice(0, -2) : `${first}Ref`
  let name = base
  for (let n = 2; taken.has(name); n++) name = `${base}${n}`
  taken.add(name)
  return name
}

/**
 * A belongs-to per foreign key whose target is among the tables (a comment otherwise); the
 * thunk of a target declared at or after this model is typed, so that a cycle compiles.
 */
const relationsOf = (table: Table, all: ReadonlyArray<Table>): { readonly entries: ReadonlyArray<string>; readonly notes: ReadonlyArray<string> } => {
  const taken = new Set(table.columns.map((c) => camelCase(c.name)))
  const entries: Array<string> = []
  const notes: Array<string> = []
  for (const fk of table.foreignKeys) {
    // a table without a primary key has no model
    const target = all.find((t) => t.name === fk.referencedTable && t.primaryKey.length > 0)
    if (target === undefined || fk.onDelete === "setDefault" || fk.onUpdate === "setDefault") {
      notes.push(`// ${table.name}.${fk.name}: references ${fk.referencedTable}, ${target === undefined ? "which has no model here" : "with SET DEFAULT, which models do not declare"}`)
      continue
    }
    const targetName = pascalCase(target.name)
    const thunk = target.name >= table.name ? `(): Relation.Target => ${targetName}` : `() => ${targetName}`
    const options = [
      `foreignKey: ${fieldList(fk.columns)}`,
      ...(sameList(fk.referencedColumns, target.primaryKey) ? [] : [`references: ${fieldList(fk.referencedColumns)}`]),
      ...(fk.onDelete === "noAction" ? [] : [`onDelete: ${literal(fk.onDelete)}`]),
      ...(fk.onUpdate === "noAction" ? [] : [`onUpdate: ${literal(fk.onUpdate)}`])
    ]
    entries.push(`${relationName(fk, taken)}: Model.belongsTo(${thunk}, { ${options.join(", ")} })`)
  }
  return { entries, notes }
}

const sameList = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => a.length === b.length && a.every((x, i) => x === b[i])

const modelSource = (table: Table, all: ReadonlyArray<Table>): string => {
  const name = pascalCase(table.name)
  if (table.primaryKey.length === 0) return `// ${table.name}: no primary key; a model needs one\n`
  const fields = table.columns.map(field)
  const relations = relationsOf(table, all)
  const options = [
    `table: ${literal(table.name)}`,
    `primaryKey: ${fieldList(table.primaryKey)}`,
    "timestamps: false",
    ...(table.uniques.length === 0 ? [] : [`unique: [${table.uniques.map((u) => fieldList(u.columns)).join(", ")}]`]),
    ...(table.indexes.length === 0 ? [] : [`indexes: [${table.indexes.map((i) => fieldList(i.columns)).join(", ")}]`]),
    ...(relations.entries.length === 0 ? [] : [`relations: {\n    ${relations.entries.join(",\n    ")}\n  }`])
  ]
  return [
    ...relations.notes,
    `export const ${name} = Model.make(`,
    `  ${literal(name)},`,
    `  Schema.Struct({`,
    ...fields.map((f, i) => `    ${f.name}: ${f.schema}${i < fields.length - 1 ? "," : ""}${f.note}`),
    `  }),`,
    `  { ${options.join(", ")} }`,
    `)`,
    ""
  ].join("\n")
}

/** `Model.make` source for each table. @internal */
export const toSource = (tables: ReadonlyArray<Table>): string => {
  const models = tables.map((t) => modelSource(t, tables))
  const typedThunk = models.some((m) => m.includes("Relation.Target"))
  return [
    "// Generated by effect-dataflow (Introspect.toSource): one model per table.",
    `import { Schema } from "effect"`,
    `import { Column, Model${typedThunk ? ", Relation" : ""} } from "effect-dataflow"`,
    "",
    ...models
  ].join("\n")
}
