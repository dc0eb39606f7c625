/**
 * A model's definition, derived once from its schema and options: columns, the primary key,
 * unique constraints and indexes, the fields the library manages, and the value checks every
 * path (fast and general) uses.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import type { Column, Kind } from "../../Column.js"
import { fromFields, managedColumn } from "./columns.js"
import { assertIdentifier, snakeCase, tableName } from "./naming.js"
import { jsonValueCheck, storageCheck } from "./storage.js"

type Row = Record<string, unknown>
type FieldList = ReadonlyArray<string>

/** @internal */
export interface DefinitionOptions {
  readonly table?: string | undefined
  /** The primary key's field, or its fields in order for a composite key. */
  readonly primaryKey?: string | ReadonlyArray<string> | undefined
  readonly unique?: ReadonlyArray<string | FieldList> | undefined
  readonly indexes?: ReadonlyArray<string | FieldList> | undefined
  readonly timestamps?: boolean | undefined
  readonly softDelete?: boolean | undefined
  readonly versioned?: boolean | undefined
  readonly appendOnly?: boolean | undefined
  readonly tenantScoped?: boolean | undefined
  /** The instance tag the model is bound to (its service is a `Binding`, see runtime/context.ts). */
  readonly instance?: object | undefined
}

/**
 * A field the library manages: what a new record gets, and what an update does to it. The one
 * source of stamping for every write path.
 * @internal
 */
export interface ManagedField {
  readonly column: Column
  readonly initial: (now: Date, tenant: string | undefined) => unknown
  /** An update stamps the time (`updatedAt`) or adds one (`version`). */
  readonly onUpdate: "now" | "increment" | undefined
}

/** @internal */
export interface ModelDefinition {
  readonly name: string
  readonly table: string
  readonly fields: Schema.Struct.Fields
  readonly schema: Schema.Struct<Schema.Struct.Fields>
  /** Every column, the declared ones first, in table order. */
  readonly columns: ReadonlyArray<Column>
  readonly userColumns: ReadonlyArray<Column>
  readonly byField: ReadonlyMap<string, Column>
  /** The primary key's column; on a composite key, its first column (see `key`). */
  readonly pk: Column
  /** Every column of the primary key, in key order: one, or several for a composite key. */
  readonly key: ReadonlyArray<Column>
  /** The primary key has several fields: a key is an object of their values. */
  readonly compositeKey: boolean
  /** The primary key is an integer the database generates. */
  readonly autoIncrement: boolean
  readonly timestamps: boolean
  readonly softDelete: boolean
  readonly versioned: boolean
  readonly appendOnly: boolean
  readonly tenantScoped: boolean
  readonly instance: object | undefined
  readonly managed: ReadonlyArray<ManagedField>
  readonly managedFields: ReadonlySet<string>
  readonly uniqueSets: ReadonlyArray<FieldList>
  readonly indexSets: ReadonlyArray<FieldList>
  /** Per field: does a value have the field's type (refinements included)? */
  readonly isValue: ReadonlyMap<string, (u: unknown) => boolean>
  /**
   * Numeric fields whose schema is the bare kind (a number, an integer, a bigint, a decimal,
   * perhaps nullable): any value in the column's range is valid, so an arithmetic update can
   * be checked in SQL by its range alone. Other numeric fields have refinements to check on
   * the result.
   */
  readonly plainNumeric: ReadonlySet<string>
  /** Per field: why a value of the field's type cannot be stored exactly, if it cannot. */
  readonly storable: ReadonlyMap<string, (value: unknown) => string | undefined>
  /** Per declared field: required on create (after defaults), and its type guard. */
  readonly createGuards: ReadonlyArray<
    { readonly field: string; readonly required: boolean; readonly key: boolean; readonly is: (u: unknown) => boolean }
  >
  /** Some field has a constructor default to apply on create. */
  readonly hasDefaults: boolean
  /** The fields with a constructor default (a create input may leave them out). */
  readonly defaulted: ReadonlySet<string>
  /** Full Schema validation of a create input (after defaults) and of a patch: the error wording. */
  readonly parseCreate: (u: unknown) => Either.Either<Row, ParseResult.ParseIssue>
  readonly parsePatch: (u: unknown) => Either.Either<Row, ParseResult.ParseIssue>
}

/** Where a model object keeps its definition. @internal */
export const DefinitionKey: unique symbol = Symbol.for("effect-dataflow/Model/Definition")

/** The definition behind a model object (every model `Model.make` returns has one). @internal */
export const definitionOf = (model: object): ModelDefinition =>
  (model as { readonly [DefinitionKey]: ModelDefinition })[DefinitionKey]

const parseOptions: AST.ParseOptions = { errors: "first", onExcessProperty: "error" }

/**
 * A plain predicate for the common field types (the same answer as `Schema.is`, without
 * running the parser on every value of every row); undefined for anything else.
 */
const fastGuard = (ast: AST.AST): ((u: unknown) => boolean) | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "BigIntKeyword":
      return (u) => typeof u === "bigint"
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "Refinement": {
      if (ast.annotations[AST.SchemaIdAnnotationId] === Schema.IntSchemaId && ast.from._tag === "NumberKeyword") {
        return (u) => Number.isSafeInteger(u)
      }
      // maxLength, pattern, positive, …: the refinement's own predicate over the guarded value
      const from = fastGuard(ast.from)
      if (from === undefined) return undefined
      const refinement = ast
      return (u) => from(u) && Option.isNone(refinement.filter(u, parseOptions, refinement))
    }
    case "Union": {
      const members = ast.types.map(fastGuard)
      if (members.some((m) => m === undefined)) return undefined
      const guards = members as ReadonlyArray<(u: unknown) => boolean>
      return (u) => guards.some((g) => g(u))
    }
    default:
      return undefined
  }
}

/** A number, an integer, a bigint or a decimal with no refinement but `Int`, perhaps nullable. */
const isPlainNumeric = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "NumberKeyword":
    case "BigIntKeyword":
      return true
    case "Refinement":
      return ast.annotations[AST.SchemaIdAnnotationId] === Schema.IntSchemaId && ast.from._tag === "NumberKeyword"
    case "Declaration":
      return (ast.annotations[AST.TypeConstructorAnnotationId] as { readonly _tag?: string } | undefined)?._tag ===
        "effect/BigDecimal"
    case "Union": {
      const rest = ast.types.filter((t) => !(AST.isLiteral(t) && t.literal === null) && !AST.isUndefinedKeyword(t))
      return rest.length === 1 && isPlainNumeric(rest[0]!)
    }
    default:
      return false
  }
}

const managedGuard = (kind: Kind): ((u: unknown) => boolean) =>
  kind._tag === "integer"
    ? (u) => Number.isSafeInteger(u)
    : kind._tag === "string"
    ? (u) => typeof u === "string"
    : (u) => u instanceof Date && !Number.isNaN(u.getTime())

const datetime: Kind = { _tag: "datetime" }

/** The fields the library manages for these options, with their stamping rules. */
const managedFieldsOf = (options: DefinitionOptions, timestamps: boolean): ReadonlyArray<ManagedField> => [
  ...(timestamps
    ? [
      { column: managedColumn("createdAt", "created_at", datetime), initial: (now: Date) => now, onUpdate: undefined },
      { column: managedColumn("updatedAt", "updated_at", datetime), initial: (now: Date) => now, onUpdate: "now" as const }
    ]
    : []),
  ...(options.softDelete === true
    ? [{ column: managedColumn("deletedAt", "deleted_at", datetime, true), initial: () => null, onUpdate: undefined }]
    : []),
  ...(options.versioned === true
    ? [{ column: managedColumn("version", "version", { _tag: "integer" }), initial: () => 1, onUpdate: "increment" as const }]
    : []),
  ...(options.tenantScoped === true
    ? [{
      column: managedColumn("tenantId", "tenant_id", { _tag: "string", maxLength: 63 }),
      initial: (_: Date, tenant: string | undefined) => tenant,
      onUpdate: undefined
    }]
    : [])
]

/** The primary key's fields: one, or several distinct ones in order for a composite key. */
const primaryKeyFields = (name: string, option: string | ReadonlyArray<string> | undefined): ReadonlyArray<string> => {
  if (option === undefined || typeof option === "string") return [option ?? "id"]
  if (!Array.isArray(option) || option.length === 0 || option.some((f) => typeof f !== "string")) {
    throw new TypeError(`effect-dataflow: the primary key of ${name} must be a field name or a non-empty array of field names`)
  }
  if (new Set(option).size !== option.length) throw new TypeError(`effect-dataflow: the primary key of ${name} names a field twice`)
  return option
}

/** A value made on first use. */
const lazy = <A>(make: () => A): () => A => {
  let value: { readonly a: A } | undefined
  return () => (value ??= { a: make() }).a
}

/** @internal */
export const make = (name: string, fields: Schema.Struct.Fields, options: DefinitionOptions): ModelDefinition => {
  assertIdentifier("model name", name)
  const table = assertIdentifier("table name", options.table ?? tableName(name))
  const timestamps = options.timestamps ?? true
  const keyFields = primaryKeyFields(name, options.primaryKey)
  const pkField = keyFields[0]!
  // text that takes part in a key or index is at most 255 characters unless declared
  // otherwise: MySQL cannot index longer unbounded text, and the limit holds everywhere
  const keyedFields = new Set([
    ...keyFields,
    ...[...(options.unique ?? []), ...(options.indexes ?? [])].flatMap((e) => (typeof e === "string" ? [e] : e))
  ])
  // the fields' struct, made once: every schema below derives from it
  const struct = Schema.Struct(fields)
  const typeAst = AST.typeAST(struct.ast)
  const userColumns = fromFields(fields, typeAst, snakeCase).map((c): Column =>
    c.kind._tag === "string" && c.kind.maxLength === undefined && keyedFields.has(c.field)
      ? { ...c, kind: { _tag: "string", maxLength: 255 } }
      : c
  )
  for (const c of userColumns) {
    if (c.field === "__proto__") throw new TypeError(`effect-dataflow: ${name} cannot have a field named __proto__`)
    assertIdentifier(`field of ${name}`, c.field)
    assertIdentifier(`column of ${name}`, c.name)
  }
  const managed = managedFieldsOf(options, timestamps)
  for (const m of managed) {
    if (userColumns.some((c) => c.field === m.column.field || c.name === m.column.name)) {
      throw new TypeError(`effect-dataflow: ${name}.${m.column.field} is managed by the library (timestamps, softDelete, versioned, tenantScoped)`)
    }
  }
  const columns = [...userColumns, ...managed.map((m) => m.column)]
  const byField = new Map(columns.map((c) => [c.field, c]))
  const key = keyFields.map((field) => {
    const column = byField.get(field)
    if (column === undefined || managed.some((m) => m.column === column)) {
      throw new TypeError(`effect-dataflow: ${name} has no field ${JSON.stringify(field)} to use as primary key`)
    }
    if (column.nullable || column.optional) throw new TypeError(`effect-dataflow: primary key ${name}.${field} cannot be optional`)
    if (keyFields.length > 1 && column.kind._tag === "json") throw new TypeError(`effect-dataflow: primary key ${name}.${field} cannot be a JSON field`)
    return column
  })
  const compositeKey = key.length > 1
  const pk = key[0]!
  const pkSchema = fields[pkField]!
  const hasConstructorDefault = Schema.isPropertySignature(pkSchema) &&
    pkSchema.ast._tag === "PropertySignatureDeclaration" && pkSchema.ast.defaultValue !== undefined
  // a composite key is given by the application, field by field: never generated
  const autoIncrement = !compositeKey && pk.kind._tag === "integer" && !hasConstructorDefault
  const sets = (list: ReadonlyArray<string | FieldList> | undefined, what: string) =>
    (list ?? []).map((entry) => {
      const set = typeof entry === "string" ? [entry] : [...entry]
      for (const f of set) {
        if (!byField.has(f)) throw new TypeError(`effect-dataflow: ${what} of ${name} names unknown field ${f}`)
      }
      return set
    })
  // the Schema parsers only word errors: built on the first input that needs them, not at declaration
  const parseCreate = lazy(() => {
    const createStruct = autoIncrement
      ? Schema.Struct({
        ...fields,
        [pkField]: Schema.optional(Schema.isSchema(pkSchema) ? Schema.typeSchema(pkSchema) : Schema.Int)
      })
      : struct
    return ParseResult.validateEither(Schema.typeSchema(createStruct), parseOptions)
  })
  const parsePatch = lazy(() => {
    const patchFields = Object.fromEntries(Object.entries(fields).filter(([k]) => !keyFields.includes(k)))
    return ParseResult.validateEither(Schema.partialWith(Schema.typeSchema(Schema.Struct(patchFields)), { exact: true }), parseOptions)
  })
  // one compiled type guard per field (the property's type side, refinements included)
  const typeProps = new Map(AST.getPropertySignatures(typeAst).map((ps) => [String(ps.name), ps] as const))
  const isValue = new Map<string, (u: unknown) => boolean>()
  for (const c of userColumns) {
    const ps = typeProps.get(c.field)!
    isValue.set(c.field, fastGuard(ps.type) ?? Schema.is(Schema.make(ps.type)))
  }
  for (const m of managed) isValue.set(m.column.field, managedGuard(m.column.kind))
  const plainNumeric = new Set(userColumns.filter((c) => isPlainNumeric(typeProps.get(c.field)!.type)).map((c) => c.field))
  const storable = new Map(columns.map((c) => [
    c.field,
    c.kind._tag === "json"
      ? (v: unknown) => jsonValueCheck(c, v)
      : (v: unknown) => storageCheck(c.kind, v)
  ]))
  const createGuards = userColumns.map((c) => ({
    field: c.field,
    required: !typeProps.get(c.field)!.isOptional && !(autoIncrement && c.field === pkField),
    key: keyFields.includes(c.field),
    is: isValue.get(c.field)!
  }))
  const defaulted = new Set(Object.entries(fields).filter(([, f]) =>
    Schema.isPropertySignature(f) &&
    (f.ast._tag === "PropertySignatureDeclaration"
      ? f.ast.defaultValue !== undefined
      : f.ast.to.defaultValue !== undefined)
  ).map(([k]) => k))
  const hasDefaults = defaulted.size > 0
  return {
    name,
    table,
    fields,
    schema: struct,
    columns,
    userColumns,
    byField,
    pk,
    key,
    compositeKey,
    autoIncrement,
    timestamps,
    softDelete: options.softDelete === true,
    versioned: options.versioned === true,
    appendOnly: options.appendOnly === true,
    tenantScoped: options.tenantScoped === true,
    instance: options.instance,
    managed,
    managedFields: new Set(managed.map((m) => m.column.field)),
    uniqueSets: sets(options.unique, "unique"),
    indexSets: sets(options.indexes, "indexes"),
    isValue,
    plainNumeric,
    storable,
    createGuards,
    hasDefaults,
    defaulted,
    parseCreate: (u) => Either.map(parseCreate()(u), (r) => r as Row),
    parsePatch: (u) => Either.map(parsePatch()(u), (r) => r as Row)
  }
}
