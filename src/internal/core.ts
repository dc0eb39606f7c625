/**
 * The model engine: metadata derived once per model, SQL compiled once per model and
 * dialect, and the generated nodes.
 * (Internal module: not part of the public API.)
 */
import { SqlClient, Statement } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Context as EffectContext } from "effect"
import { Clock, Context, Effect, Either, Option, ParseResult, Schema, SchemaAST as AST } from "effect"
import type * as Column from "../Column.js"
import * as Columns from "./model/columns.js"
import * as Storage from "./model/storage.js"
import * as Where from "./sql/filter.js"
import { constraintName } from "./dialect/common.js"
import * as Dialect from "../Dialect.js"
import {
  ConfigurationError,
  DatabaseError,
  ForeignKeyViolation,
  InvalidFilter,
  InvalidTenantId,
  NotNullViolation,
  UniqueViolation,
  ValidationError
} from "../Errors.js"
import type { Binding } from "./client.js"
import {
  builtInTracer,
  connect,
  directPathOf,
  ensure,
  inOwnTransaction,
  isForeignTransaction,
  onOwnConnection,
  outsideTransaction,
  stateOf,
  toDatabaseError
} from "./client.js"
import * as Transaction from "../Transaction.js"
import * as Tenant from "../Tenant.js"
import { assertIdentifier, snakeCase, tableName } from "./naming.js"

type Row = Record<string, unknown>
type FieldList = ReadonlyArray<string>

/** @internal */
export interface DefOptions {
  readonly table?: string | undefined
  readonly primaryKey?: string | undefined
  readonly unique?: ReadonlyArray<string | FieldList> | undefined
  readonly indexes?: ReadonlyArray<string | FieldList> | undefined
  readonly timestamps?: boolean | undefined
  readonly softDelete?: boolean | undefined
  readonly versioned?: boolean | undefined
  readonly appendOnly?: boolean | undefined
  readonly tenantScoped?: boolean | undefined
  readonly instance?: Effect.Effect<Binding, never, unknown> | undefined
}

interface CompiledColumn {
  readonly column: Column.Column
  readonly codec: Dialect.Codec
  readonly quoted: string
  readonly toDb: (value: unknown) => unknown
  readonly fromDb: (raw: unknown) => unknown
}

interface Compiled {
  readonly dialect: Dialect.Dialect
  readonly table: string
  readonly all: ReadonlyArray<CompiledColumn>
  readonly byField: ReadonlyMap<string, CompiledColumn>
  readonly pk: CompiledColumn
  readonly selectList: string
  readonly selectById: string
  /** `selectById` that skips soft-deleted rows (same as selectById on other models). */
  readonly selectLiveById: string
  readonly deleteById: string
  /** `deleted_at IS NULL` on soft-delete models. */
  readonly live: string | undefined
  /** The quoted tenant column on tenant-scoped models. */
  readonly tenantColumn: string | undefined
  readonly filterField: (name: string) => Where.FieldInfo | undefined
  readonly uniques: ReadonlyArray<{ readonly name: string; readonly fields: FieldList; readonly columns: FieldList }>
  readonly constraintFields: ReadonlyMap<string, FieldList>
  readonly ddl: (server: Dialect.ServerInfo) => ReadonlyArray<string>
  readonly safeIntegers: boolean
  readonly decodePlan: DecodePlan
  readonly insertText: (columns: ReadonlyArray<CompiledColumn>, rows: number, returning: boolean) => string
  /** The insert columns of a new record without an explicit generated key, in statement order. */
  readonly newColumns: ReadonlyArray<CompiledColumn>
  /**
   * Validates a create input and appends its statement parameters (managed fields stamped) in
   * `newColumns` order, in one pass and without building a record. False (nothing appended)
   * when the row needs the full path: it is invalid (the full path words the error), names its
   * generated key, or the model has constructor defaults (then this is undefined).
   */
  readonly encodeNew: NewRowEncoder | undefined
}

/** @internal */
export type NewRowEncoder = (row: unknown, now: Date, tenant: string | undefined, into: Array<unknown>) => boolean

const USER = 0
const NOW = 1
const NULL = 2
const ONE = 3
const TENANT = 4

const newRowEncoder = (def: Def, columns: ReadonlyArray<CompiledColumn>): NewRowEncoder => {
  const guards = new Map(def.createGuards.map((g) => [g.field, g]))
  const n = columns.length
  const fields = columns.map((c) => c.column.field)
  const roles = columns.map((c) => {
    switch (c.column.field) {
      case "createdAt":
      case "updatedAt":
        return def.managed.has(c.column.field) ? NOW : USER
      case "deletedAt":
        return def.managed.has("deletedAt") ? NULL : USER
      case "version":
        return def.managed.has("version") ? ONE : USER
      case "tenantId":
        return def.managed.has("tenantId") ? TENANT : USER
      default:
        return USER
    }
  })
  const required = fields.map((f) => guards.get(f)?.required === true)
  const is = fields.map((f) => guards.get(f)?.is ?? (() => false))
  const checks = columns.map((c): (v: unknown) => string | undefined => {
    const column = c.column
    return column.kind._tag === "json"
      ? (v) => Storage.jsonValueCheck(column, v)
      : (v) => Storage.storageCheck(column.kind, v)
  })
  const toDb = columns.map((c) => c.toDb)
  const userFields = new Set(def.userColumns.map((c) => c.field))
  const pkField = def.pk.field
  const autoIncrement = def.autoIncrement
  return (u, now, tenant, into) => {
    if (typeof u !== "object" || u === null || Array.isArray(u)) return false
    const row = u as Row
    for (const key in row) if (!userFields.has(key)) return false
    if (autoIncrement && row[pkField] !== undefined) return false
    const start = into.length
    for (let i = 0; i < n; i++) {
      switch (roles[i]) {
        case USER: {
          const v = row[fields[i]!]
          if (v === undefined) {
            if (required[i] || fields[i]! in row) {
              into.length = start
              return false
            }
            into.push(null)
          } else if (is[i]!(v) && (v === null || checks[i]!(v) === undefined)) {
            into.push(toDb[i]!(v))
          } else {
            into.length = start
            return false
          }
          break
        }
        case NOW:
          into.push(toDb[i]!(now))
          break
        case NULL:
          into.push(null)
          break
        case ONE:
          into.push(toDb[i]!(1))
          break
        case TENANT:
          into.push(toDb[i]!(tenant))
          break
      }
    }
    return true
  }
}

/** @internal */
export interface Def {
  readonly name: string
  readonly table: string
  readonly fields: Schema.Struct.Fields
  readonly schema: Schema.Struct<Schema.Struct.Fields>
  readonly columns: ReadonlyArray<Column.Column>
  readonly userColumns: ReadonlyArray<Column.Column>
  readonly byField: ReadonlyMap<string, Column.Column>
  readonly pk: Column.Column
  readonly autoIncrement: boolean
  readonly timestamps: boolean
  readonly softDelete: boolean
  readonly versioned: boolean
  readonly appendOnly: boolean
  readonly tenantScoped: boolean
  readonly instance: Effect.Effect<Binding, never, unknown> | undefined
  readonly managed: ReadonlySet<string>
  readonly uniqueSets: ReadonlyArray<FieldList>
  readonly indexSets: ReadonlyArray<FieldList>
  readonly validateCreate: (u: unknown) => Either.Either<Row, ParseResult.ParseIssue>
  readonly validatePatch: (u: unknown) => Either.Either<Row, ParseResult.ParseIssue>
  readonly isValue: ReadonlyMap<string, (u: unknown) => boolean>
  /** Some field has a constructor default to apply on create. */
  readonly hasDefaults: boolean
  /** Per user field: required on create, and its type guard. */
  readonly createGuards: ReadonlyArray<{ readonly field: string; readonly required: boolean; readonly is: (u: unknown) => boolean }>
  readonly compiled: Map<string, Compiled>
}

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

/** @internal */
export const makeDef = (name: string, fields: Schema.Struct.Fields, options: DefOptions): Def => {
  assertIdentifier("model name", name)
  const table = assertIdentifier("table name", options.table ?? tableName(name))
  const timestamps = options.timestamps ?? true
  // text that takes part in a key or index is at most 255 characters unless declared
  // otherwise: MySQL cannot index longer unbounded text, and the limit holds everywhere
  const keyedFields = new Set([
    options.primaryKey ?? "id",
    ...[...(options.unique ?? []), ...(options.indexes ?? [])].flatMap((e) => (typeof e === "string" ? [e] : e))
  ])
  const userColumns = Columns.fromFields(fields, snakeCase).map((c): Column.Column =>
    c.kind._tag === "string" && c.kind.maxLength === undefined && keyedFields.has(c.field)
      ? { ...c, kind: { _tag: "string", maxLength: 255 } }
      : c
  )
  for (const c of userColumns) {
    if (c.field === "__proto__") throw new TypeError(`effect-dataflow: ${name} cannot have a field named __proto__`)
    assertIdentifier(`field of ${name}`, c.field)
    assertIdentifier(`column of ${name}`, c.name)
  }
  const datetime: Column.Kind = { _tag: "datetime" }
  const managedColumns = [
    ...(timestamps
      ? [Columns.managedColumn("createdAt", "created_at", datetime), Columns.managedColumn("updatedAt", "updated_at", datetime)]
      : []),
    ...(options.softDelete === true ? [Columns.managedColumn("deletedAt", "deleted_at", datetime, true)] : []),
    ...(options.versioned === true ? [Columns.managedColumn("version", "version", { _tag: "integer" })] : []),
    ...(options.tenantScoped === true
      ? [Columns.managedColumn("tenantId", "tenant_id", { _tag: "string", maxLength: 48 })]
      : [])
  ]
  for (const m of managedColumns) {
    if (userColumns.some((c) => c.field === m.field || c.name === m.name)) {
      throw new TypeError(`effect-dataflow: ${name}.${m.field} is managed by the library (timestamps, softDelete, versioned)`)
    }
  }
  const columns = [...userColumns, ...managedColumns]
  const byField = new Map(columns.map((c) => [c.field, c]))
  const pkField = options.primaryKey ?? "id"
  const pk = byField.get(pkField)
  if (pk === undefined || managedColumns.includes(pk)) {
    throw new TypeError(`effect-dataflow: ${name} has no field ${JSON.stringify(pkField)} to use as primary key`)
  }
  if (pk.nullable || pk.optional) throw new TypeError(`effect-dataflow: primary key ${name}.${pkField} cannot be optional`)
  const pkSchema = fields[pkField]!
  const hasConstructorDefault = Schema.isPropertySignature(pkSchema) &&
    pkSchema.ast._tag === "PropertySignatureDeclaration" && pkSchema.ast.defaultValue !== undefined
  const autoIncrement = pk.kind._tag === "integer" && !hasConstructorDefault
  const sets = (list: ReadonlyArray<string | FieldList> | undefined, what: string) =>
    (list ?? []).map((entry) => {
      const set = typeof entry === "string" ? [entry] : [...entry]
      for (const f of set) {
        if (!byField.has(f)) throw new TypeError(`effect-dataflow: ${what} of ${name} names unknown field ${f}`)
      }
      return set
    })
  const typeStruct = Schema.typeSchema(Schema.Struct(fields))
  const createStruct = autoIncrement
    ? Schema.Struct({
      ...fields,
      [pkField]: Schema.optional(Schema.isSchema(pkSchema) ? Schema.typeSchema(pkSchema) : Schema.Int)
    })
    : typeStruct
  const validateCreate = ParseResult.validateEither(Schema.typeSchema(createStruct), parseOptions)
  const patchFields = Object.fromEntries(Object.entries(fields).filter(([k]) => k !== pkField))
  const validatePatch = ParseResult.validateEither(
    Schema.partialWith(Schema.typeSchema(Schema.Struct(patchFields)), { exact: true }),
    parseOptions
  )
  // one compiled type guard per field (the property's type side, refinements included)
  const typeProps = new Map(
    AST.getPropertySignatures(AST.typeAST(Schema.Struct(fields).ast)).map((ps) => [String(ps.name), ps] as const)
  )
  const isValue = new Map<string, (u: unknown) => boolean>()
  for (const c of userColumns) {
    const ps = typeProps.get(c.field)!
    isValue.set(c.field, fastGuard(ps.type) ?? Schema.is(Schema.make(ps.type)))
  }
  // the fast path of validation: known keys, required keys present, every value passes its
  // guard; anything else takes the full Schema validation, which also words the error
  const guards = userColumns.map((c) => ({
    field: c.field,
    required: !typeProps.get(c.field)!.isOptional && !(autoIncrement && c.field === pkField),
    is: isValue.get(c.field)!
  }))
  const known = new Set(userColumns.map((c) => c.field))
  const quickCheck = (u: Row, partial: boolean): boolean => {
    for (const key in u) if (!known.has(key)) return false
    for (const g of guards) {
      const v = u[g.field]
      if (v === undefined && !(g.field in u)) {
        if (g.required && !partial) return false
        continue
      }
      if (partial && g.field === pkField) return false
      if (!g.is(v)) return false
    }
    return true
  }
  const hasDefaults = Object.values(fields).some((f) =>
    Schema.isPropertySignature(f) &&
    (f.ast._tag === "PropertySignatureDeclaration"
      ? f.ast.defaultValue !== undefined
      : f.ast.to.defaultValue !== undefined)
  )
  for (const m of managedColumns) {
    isValue.set(
      m.field,
      m.kind._tag === "integer"
        ? (u) => Number.isSafeInteger(u)
        : m.kind._tag === "string"
        ? (u) => typeof u === "string"
        : (u) => u instanceof Date && !Number.isNaN(u.getTime())
    )
  }
  return {
    name,
    table,
    fields,
    schema: Schema.Struct(fields),
    columns,
    userColumns,
    byField,
    pk,
    autoIncrement,
    timestamps,
    softDelete: options.softDelete === true,
    versioned: options.versioned === true,
    appendOnly: options.appendOnly === true,
    tenantScoped: options.tenantScoped === true,
    instance: options.instance,
    managed: new Set(managedColumns.map((c) => c.field)),
    uniqueSets: sets(options.unique, "unique"),
    indexSets: sets(options.indexes, "indexes"),
    validateCreate: (u) =>
      quickCheck(u as Row, false) ? Either.right({ ...(u as Row) }) : Either.map(validateCreate(u), (r) => r as Row),
    validatePatch: (u) =>
      quickCheck(u as Row, true) ? Either.right({ ...(u as Row) }) : Either.map(validatePatch(u), (r) => r as Row),
    hasDefaults,
    createGuards: guards,
    isValue,
    compiled: new Map()
  }
}

// ---------------------------------------------------------------------------
// Compilation per dialect
// ---------------------------------------------------------------------------

/**
 * Remembers the last date encoded: a bulk write stamps every row with the same instant. Keyed
 * by the time value, not the object, since a Date can be changed in place.
 */
const memoLast = (f: (v: unknown) => unknown) => {
  let lastTime = NaN
  let lastOut: unknown = null
  return (v: unknown) => {
    if (!(v instanceof Date)) return f(v)
    const time = v.getTime()
    if (time !== lastTime) {
      lastOut = f(v)
      lastTime = time
    }
    return lastOut
  }
}

const compile = (def: Def, dialect: Dialect.Dialect, schema: string | undefined): Compiled => {
  const q = dialect.quote
  const all = def.columns.map((column): CompiledColumn => {
    const codec = dialect.codec(column.kind)
    const toDb = column.kind._tag === "json"
      ? (v: unknown) => (v === null || v === undefined ? null : codec.toDb(column.jsonEncode(v)))
      : column.kind._tag === "datetime"
      ? memoLast((v: unknown) => (v === null || v === undefined ? null : codec.toDb(v)))
      : (v: unknown) => (v === null || v === undefined ? null : codec.toDb(v))
    const fromDb = column.kind._tag === "json"
      ? (raw: unknown) => column.jsonDecode(codec.fromDb(raw))
      : codec.fromDb
    return { column, codec, quoted: q(column.name), toDb, fromDb }
  })
  const byField = new Map(all.map((c) => [c.column.field, c]))
  const pk = byField.get(def.pk.field)!
  const table = schema === undefined ? q(def.table) : `${q(schema)}.${q(def.table)}`
  const selectList = all.map((c) => dialect.selectExpr(c.column)).join(", ")
  const newColumns = def.autoIncrement ? all.filter((c) => c !== pk) : all
  const p1 = dialect.placeholder(1)
  const colOf = (f: string) => def.byField.get(f)!.name
  // tenant-scoped: uniqueness (and so upsert targets) is per tenant
  const scoped = (fields: FieldList): FieldList => (def.tenantScoped ? ["tenantId", ...fields] : fields)
  const uniques = def.uniqueSets.map((fields) => {
    const columns = scoped(fields).map(colOf)
    return { name: constraintName(dialect, "uq", def.table, columns), fields: scoped(fields), columns }
  })
  const indexes = def.indexSets.map((fields) => {
    const columns = scoped(fields).map(colOf)
    return { name: constraintName(dialect, "ix", def.table, columns), columns }
  })
  const constraintFields = new Map<string, FieldList>(uniques.map((u) => [u.name, u.fields]))
  constraintFields.set("PRIMARY", [def.pk.field])
  constraintFields.set(`${def.table}_pkey`, [def.pk.field])
  const keyed = new Set([def.pk.name, ...uniques.flatMap((u) => u.columns), ...indexes.flatMap((i) => i.columns)])
  const insertTexts = new Map<string, string>()
  const deletedAt = byField.get("deletedAt")
  const live = def.softDelete && deletedAt !== undefined ? `${deletedAt.quoted} IS NULL` : undefined
  // tenant-scoped: the tenant is always the second parameter of the by-id statements
  const tenantCol = byField.get("tenantId")
  const tenantColumn = def.tenantScoped && tenantCol !== undefined ? tenantCol.quoted : undefined
  const byId = `${pk.quoted} = ${p1}${tenantColumn === undefined ? "" : ` AND ${tenantColumn} = ${dialect.placeholder(2)}`}`
  const selectById = `SELECT ${selectList} FROM ${table} WHERE ${byId}`
  const filterFields = new Map(all.map((c) => [c.column.field, {
    quoted: c.quoted,
    kind: c.column.kind,
    nullable: c.column.nullable || c.column.optional,
    toDb: c.toDb,
    isValue: def.isValue.get(c.column.field)!
  }]))
  return {
    dialect,
    table,
    all,
    byField,
    pk,
    selectList,
    selectById,
    selectLiveById: live === undefined ? selectById : `${selectById} AND ${live}`,
    live,
    tenantColumn,
    filterField: (name) => filterFields.get(name),
    deleteById: `DELETE FROM ${table} WHERE ${byId}`,
    uniques,
    constraintFields,
    ddl: (server) =>
      dialect.createTable({
        table: def.table,
        columns: def.columns,
        primaryKey: def.pk,
        autoIncrement: def.autoIncrement,
        uniques: uniques.map((u) => ({ name: u.name, columns: u.columns })),
        schema,
        tenantColumn: def.tenantScoped && !def.autoIncrement ? "tenant_id" : undefined,
        indexes,
        keyed
      }, server),
    safeIntegers: dialect.readsBigintsAsNumbers && def.columns.some((c) => c.kind._tag === "bigint"),
    newColumns,
    encodeNew: def.hasDefaults ? undefined : newRowEncoder(def, newColumns),
    decodePlan: decodePlanOf(all),
    insertText: (columns, rows, returning) => {
      const key = `${columns.length}:${rows}:${returning}:${columns.map((c) => c.column.field).join(",")}`
      let text = insertTexts.get(key)
      if (text === undefined) {
        let n = 0
        const tuple = () => `(${columns.map(() => dialect.placeholder(++n)).join(", ")})`
        const values: Array<string> = []
        for (let i = 0; i < rows; i++) values.push(tuple())
        text = `INSERT INTO ${table} (${columns.map((c) => c.quoted).join(", ")}) VALUES ${values.join(", ")}${
          returning ? ` RETURNING ${selectList}` : ""
        }`
        if (insertTexts.size < 64) insertTexts.set(key, text)
      }
      return text
    }
  }
}

/** @internal */
export const compiledFor = (def: Def, dialect: Dialect.Dialect, schema?: string): Compiled => {
  const key = schema === undefined ? dialect.name : `${dialect.name}:${schema}`
  let c = def.compiled.get(key)
  if (c === undefined) {
    c = compile(def, dialect, schema)
    def.compiled.set(key, c)
  }
  return c
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

const issueOf = (issue: ParseResult.ParseIssue): { readonly path: string; readonly reason: string } => {
  const first = ParseResult.ArrayFormatter.formatIssueSync(issue)[0]
  if (first === undefined) return { path: "", reason: "invalid value" }
  // the formatter appends the offending value ("…, actual <value>"); values never go into errors
  const reason = first.message.replace(/,? actual [\s\S]*$/, "").trim()
  return { path: first.path.map(String).join("."), reason }
}

/** @internal */
export type WriteFailure = UniqueViolation | ForeignKeyViolation | NotNullViolation | DatabaseError

const fieldsOfColumns = (def: Def, columns: FieldList): FieldList =>
  columns.map((name) => def.columns.find((c) => c.name === name)?.field ?? name)

/** @internal */
export const writeError = (def: Def, c: Compiled, operation: string, rowIndex?: number) =>
(error: SqlError): WriteFailure => {
  const f = c.dialect.classify(error.cause)
  const byConstraint = f.constraint === undefined ? undefined : c.constraintFields.get(f.constraint)
  const columns = f.columns.length > 0 ? fieldsOfColumns(def, f.columns) : byConstraint ?? []
  const base = { model: def.name, operation }
  switch (f.kind) {
    case "unique":
      return new UniqueViolation({
        ...base,
        columns,
        ...(f.constraint === undefined ? {} : { constraint: f.constraint }),
        ...(rowIndex === undefined ? {} : { rowIndex })
      })
    case "foreignKey":
      return new ForeignKeyViolation({
        ...base,
        columns,
        ...(f.constraint === undefined ? {} : { constraint: f.constraint })
      })
    case "notNull":
      return new NotNullViolation({ ...base, columns })
    case "other":
      return toDatabaseError(c.dialect, def.name, operation, error)
  }
}

// ---------------------------------------------------------------------------
// Input preparation (sync, before any SQL)
// ---------------------------------------------------------------------------

const isObject = (u: unknown): u is Row => typeof u === "object" && u !== null && !Array.isArray(u)

const validation = (def: Def, operation: string, path: string, reason: string, rowIndex?: number) =>
  new ValidationError({ model: def.name, operation, path, reason, ...(rowIndex === undefined ? {} : { rowIndex }) })

const checkStorage = (def: Def, record: Row, operation: string, rowIndex?: number): ValidationError | undefined => {
  for (const c of def.userColumns) {
    const v = record[c.field]
    if (v === undefined || v === null) continue
    const reason = c.kind._tag === "json" ? Storage.jsonValueCheck(c, v) : Storage.storageCheck(c.kind, v)
    if (reason !== undefined) return validation(def, operation, c.field, reason, rowIndex)
  }
  return undefined
}

const rejectManaged = (def: Def, input: Row, operation: string, rowIndex?: number) => {
  // an own "__proto__" key (from JSON.parse) is no field of any model; schemas would drop it
  if (Object.prototype.hasOwnProperty.call(input, "__proto__")) {
    return validation(def, operation, "__proto__", "is not a field of the model", rowIndex)
  }
  for (const f of def.managed) {
    if (f in input) return validation(def, operation, f, "is managed by the library and cannot be written", rowIndex)
  }
  return undefined
}

/** Validates create input and applies constructor defaults. @internal */
export const prepareCreate = (
  def: Def,
  input: unknown,
  operation: string,
  rowIndex?: number
): Either.Either<Row, ValidationError> => {
  if (!isObject(input)) return Either.left(validation(def, operation, "", "expected an object", rowIndex))
  const managed = rejectManaged(def, input, operation, rowIndex)
  if (managed !== undefined) return Either.left(managed)
  // generated keys are shared by every tenant: accepting one from a tenant would tell it
  // (through a UniqueViolation) which keys other tenants have
  if (def.tenantScoped && def.autoIncrement && input[def.pk.field] !== undefined) {
    return Either.left(
      validation(def, operation, def.pk.field, "a generated key cannot be given on a tenant-scoped model (keys are shared by all tenants)", rowIndex)
    )
  }
  let withDefaults: Row = input
  if (def.hasDefaults) {
    try {
      withDefaults = def.schema.make(input as never, { disableValidation: true }) as Row
    } catch {
      withDefaults = input
    }
  }
  if (def.autoIncrement && withDefaults[def.pk.field] === undefined) {
    const { [def.pk.field]: _, ...rest } = withDefaults
    withDefaults = rest
  }
  const validated = def.validateCreate(withDefaults)
  if (Either.isLeft(validated)) {
    const { path, reason } = issueOf(validated.left)
    return Either.left(validation(def, operation, path, reason, rowIndex))
  }
  const storage = checkStorage(def, validated.right, operation, rowIndex)
  return storage === undefined ? Either.right(validated.right) : Either.left(storage)
}

/** Validates an update patch: known fields, not the primary key, not managed fields. @internal */
export const preparePatch = (def: Def, patch: unknown, operation: string): Either.Either<Row, ValidationError> => {
  if (!isObject(patch)) return Either.left(validation(def, operation, "", "expected an object"))
  if (def.pk.field in patch) {
    return Either.left(validation(def, operation, def.pk.field, "the primary key cannot be changed"))
  }
  const managed = rejectManaged(def, patch, operation)
  if (managed !== undefined) return Either.left(managed)
  const validated = def.validatePatch(patch)
  if (Either.isLeft(validated)) {
    const { path, reason } = issueOf(validated.left)
    return Either.left(validation(def, operation, path, reason))
  }
  const storage = checkStorage(def, validated.right, operation)
  return storage === undefined ? Either.right(validated.right) : Either.left(storage)
}

/**
 * Why a value cannot stand for a field in a statement (a key, a filter operand, a cursor
 * value): not of the field's type, or not storable exactly on every database (the checks a
 * written value gets). Undefined when it can.
 * @internal
 */
export const valueProblem = (def: Def, field: string, value: unknown): string | undefined => {
  const column = def.byField.get(field)
  if (column === undefined) return "unknown field"
  if (!def.isValue.get(field)!(value)) return "value does not match the field's type"
  return column.kind._tag === "json" ? Storage.jsonValueCheck(column, value) : Storage.storageCheck(column.kind, value)
}

/** @internal */
export const checkId = (def: Def, id: unknown, operation: string): ValidationError | undefined => {
  const problem = valueProblem(def, def.pk.field, id)
  return problem === undefined
    ? undefined
    : validation(def, operation, def.pk.field, problem === "value does not match the field's type" ? "not a valid primary key" : problem)
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

/**
 * Compiles a filter (plus the soft-delete scope) into a WHERE clause, pushing values onto
 * `params`. `condition` is undefined when the filter itself has no condition.
 * @internal
 */
export const compileWhere = (
  def: Def,
  c: Compiled,
  where: unknown,
  operation: string,
  params: Array<unknown>,
  includeDeleted: boolean,
  tenant: string | undefined
): Either.Either<{ readonly sql: string; readonly condition: string | undefined }, InvalidFilter> =>
  Either.map(
    Where.compileFilter({ model: def.name, operation, dialect: c.dialect, field: c.filterField }, where, params),
    (condition) => {
      const parts = [condition, includeDeleted ? undefined : c.live].filter((p): p is string => p !== undefined)
      if (c.tenantColumn !== undefined) {
        params.push(tenant)
        parts.push(`${c.tenantColumn} = ${c.dialect.placeholder(params.length)}`)
      }
      return { sql: parts.length === 0 ? "" : ` WHERE ${parts.join(" AND ")}`, condition }
    }
  )

// ---------------------------------------------------------------------------
// Execution helpers
// ---------------------------------------------------------------------------

/** @internal */
export const decodeRow = (c: Compiled, row: Row): Row => c.decodePlan.decode(row)

/** The plan's loop, for a plan that cannot be compiled. */
const decodeLoop = (plan: Omit<DecodePlan, "decode">, row: Row): Row => {
  const out: Row = {}
  for (let i = 0; i < plan.names.length; i++) {
    const raw = row[plan.names[i]!]
    if (raw === null || raw === undefined) {
      if (plan.nullOut[i]) out[plan.fields[i]!] = null
      continue
    }
    out[plan.fields[i]!] = plan.fromDb[i]!(raw)
  }
  return out
}

/** Flat arrays for decoding rows: no property chains per value. @internal */
export interface DecodePlan {
  readonly names: ReadonlyArray<string>
  readonly fields: ReadonlyArray<string>
  readonly fromDb: ReadonlyArray<(raw: unknown) => unknown>
  /** NULL reads as null (nullable or required); otherwise as an absent key (optional). */
  readonly nullOut: ReadonlyArray<boolean>
  /** The plan as one function building the record as an object literal. */
  readonly decode: (row: Row) => Row
}

/**
 * Compiles a plan into one function that reads each column once and builds the record as an
 * object literal (one shape for every record of a model, no keyed stores). The source is made
 * only of validated identifiers quoted with JSON.stringify and indices into `fromDb`; where code
 * cannot be generated (a runtime that forbids it, a field named `__proto__`) the loop is used.
 */
const compileDecoder = (plan: Omit<DecodePlan, "decode">): ((row: Row) => Row) => {
  const loop = (row: Row) => decodeLoop(plan, row)
  if (plan.fields.includes("__proto__")) return loop
  const reads: Array<string> = []
  const literal: Array<string> = []
  const optional: Array<string> = []
  plan.names.forEach((name, i) => {
    const field = JSON.stringify(plan.fields[i])
    reads.push(`const v${i} = row[${JSON.stringify(name)}];`)
    const value = `f[${i}](v${i})`
    if (plan.nullOut[i]) literal.push(`${field}: v${i} === null || v${i} === undefined ? null : ${value}`)
    else optional.push(`if (v${i} !== null && v${i} !== undefined) out[${field}] = ${value};`)
  })
  try {
    const source = `"use strict"; return function decode(row) { ${reads.join(" ")} const out = { ${
      literal.join(", ")
    } }; ${optional.join(" ")} return out; }`
    return new Function("f", source)(plan.fromDb) as (row: Row) => Row
  } catch {
    return loop
  }
}

/** @internal */
export const decodePlanOf = (columns: ReadonlyArray<CompiledColumn>): DecodePlan => {
  const plan = {
    names: columns.map((c) => c.column.name),
    fields: columns.map((c) => c.column.field),
    fromDb: columns.map((c) => c.fromDb),
    nullOut: columns.map((c) => c.column.nullable || !c.column.optional)
  }
  return { ...plan, decode: compileDecoder(plan) }
}

/** @internal */
export const encodeRow = (columns: ReadonlyArray<CompiledColumn>, record: Row, into: Array<unknown>) => {
  for (const col of columns) into.push(col.toDb(record[col.column.field]))
}

/** @internal */
export interface NodeContext {
  readonly sql: SqlClient.SqlClient
  readonly c: Compiled
  /** The current tenant of a tenant-scoped model. */
  readonly tenant: string | undefined
  readonly query: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Row>, SqlError>
  readonly raw: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<unknown, SqlError>
  /** A transaction on this client (a savepoint when already inside one of its own). */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Transaction.TransactionError, R>
  /** Runs in a transaction of this client: the current one if there is one, else a new one. */
  readonly atomic: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Transaction.TransactionError, R>
}

/**
 * Resolves the client (default, instance, or the tenant's own), the tenant, the compiled
 * statements for the dialect (and tenant schema), and ensures the table.
 * @internal
 */
export const context = (def: Def, operation: string): Effect.Effect<NodeContext, DatabaseError | ConfigurationError, unknown> =>
  Effect.withFiberRuntime((fiber) => {
    // services are read synchronously: a node call costs no extra Effect steps here
    const services = fiber.currentContext
    const tenant = def.tenantScoped ? Context.unsafeGet(services, Tenant.CurrentTenant) : undefined
    // a value put there with a cast never reaches a statement or a schema name
    if (tenant !== undefined && !Tenant.isTenantId(tenant)) return Effect.die(uncheckedTenant())
    if (def.instance === undefined) {
      const sql = Context.unsafeGet(services, SqlClient.SqlClient)
      return contextOn(def, operation, sql, Context.get(services, Tenant.Tenancy), tenant)
    }
    const binding = Context.unsafeGet(services, def.instance as unknown as Context.Tag<unknown, Binding>)
    return Effect.flatMap(
      connect(binding, tenant, def.name, operation),
      (sql) => contextOn(def, operation, sql, binding.tenancy, tenant)
    )
  })

/** @internal */
export const uncheckedTenant = () =>
  new InvalidTenantId({ reason: "Tenant.CurrentTenant holds a value that was not checked (provide it with Tenant.with, Tenant.layer or Tenant.make)" })

/** The per-client part of a NodeContext, built once per model, client and tenant schema. */
const baseContexts = new WeakMap<Def, WeakMap<SqlClient.SqlClient, Map<string, NodeContext>>>()

const contextOn = (
  def: Def,
  operation: string,
  sql: SqlClient.SqlClient,
  tenancy: "row" | "schema" | "database",
  tenant: string | undefined
): Effect.Effect<NodeContext, DatabaseError | ConfigurationError> => {
  const state = stateOf(sql)
  let schema: string | undefined
  if (tenancy === "schema" && tenant !== undefined) {
    if (!state.dialect.supportsSchemas) {
      return Effect.fail(
        new ConfigurationError({
          model: def.name,
          operation,
          reason: "the schema tenancy strategy needs PostgreSQL or MySQL; SQLite has no schemas"
        })
      )
    }
    schema = Tenant.schemaName(tenant)
  }
  let byClient = baseContexts.get(def)
  if (byClient === undefined) baseContexts.set(def, byClient = new WeakMap())
  let bySchema = byClient.get(sql)
  if (bySchema === undefined) byClient.set(sql, bySchema = new Map())
  const key = schema ?? ""
  let base = bySchema.get(key)
  if (base === undefined) bySchema.set(key, base = makeBase(def, sql, state, schema))
  const ctx = tenant === undefined ? base : { ...base, tenant }
  const table = schema === undefined ? def.table : `${schema}.${def.table}`
  if (state.ready.get(table) === true) return Effect.succeed(ctx)
  return Effect.as(
    onOwnConnection(sql)(ensure(sql, state, table, base.c.ddl, (e) => toDatabaseError(state.dialect, def.name, operation, e))),
    ctx
  )
}

const makeBase = (
  def: Def,
  sql: SqlClient.SqlClient,
  state: ReturnType<typeof stateOf>,
  schema: string | undefined
): NodeContext => {
  const c = compiledFor(def, state.dialect, schema)
  const own = directPathOf(sql)
  // a client may remember that a statement failed to prepare (a table that did not exist
  // yet): where the dialect says so, such a statement is run once more, unprepared
  const retryUnprepared = state.dialect.retryUnprepared
  const fresh = <A>(run: (unprepared: boolean) => Effect.Effect<A, SqlError>) =>
    retryUnprepared === undefined
      ? run(false)
      : Effect.catchIf(
        run(false),
        (e) => retryUnprepared(e.cause),
        // if the table is still missing the retry fails too (a client may even throw): the
        // first failure is the one reported
        (first) => Effect.catchAllCause(run(true), () => Effect.fail(first))
      )
  const viaStatement = <A>(text: string, params: ReadonlyArray<unknown>, raw: boolean) =>
    fresh((unprepared) => {
      const statement = sql.unsafe<Row>(text, params)
      return (unprepared ? statement.unprepared : raw ? statement.raw : statement.withoutTransform) as Effect.Effect<A, SqlError>
    })
  /**
   * Runs one statement. `@effect/sql`'s statement pipeline opens a span, reads the statement
   * transformer and opens a Scope for every statement; when no tracer would record the span
   * and no transformer is set, the statement goes straight to the connection the pipeline
   * would have picked (the transaction's, else the client's): the same SQL on the same
   * connection, for a third of the cost on SQLite.
   */
  const run = <A>(text: string, params: ReadonlyArray<unknown>, raw: boolean): Effect.Effect<A, SqlError> =>
    Effect.withFiberRuntime<A, SqlError>((fiber) => {
      const services = fiber.currentContext as EffectContext.Context<never>
      // another client's transaction: this statement runs off its connection
      const foreign = isForeignTransaction(services, sql)
      // a client the library made: its own way to the connection (synchronous on SQLite,
      // prepared statements on PostgreSQL, cancellable on MySQL) unless it has to wait for it
      if (
        own !== undefined && !foreign && fiber.currentTracer === builtInTracer &&
        Option.isNone(fiber.getFiberRef(Statement.currentTransformer))
      ) {
        const transaction = Context.getOption(services, SqlClient.TransactionConnection)
        const now = own.run(
          text,
          params,
          raw,
          c.safeIntegers,
          Option.isSome(transaction) ? transaction.value[0] : undefined
        )
        if (now !== undefined) return now as Effect.Effect<A, SqlError>
      }
      const self = viaStatement<A>(text, params, raw)
      const scoped = foreign ? outsideTransaction(self) : self
      return c.safeIntegers ? Effect.provideService(scoped, SqlClient.SafeIntegers, true) : scoped
    })
  return {
    sql,
    c,
    tenant: undefined,
    query: (text, params) => run<ReadonlyArray<Row>>(text, params, false),
    raw: (text, params) => run<unknown>(text, params, true),
    transaction: (self) => Transaction.run(sql, self, {}),
    atomic: (self) =>
      Effect.withFiberRuntime((fiber) =>
        inOwnTransaction(fiber.currentContext as EffectContext.Context<never>, sql) ? self : Transaction.run(sql, self, {})
      )
  }
}

/** Eagerly creates a model's table on the current client. @internal */
export const migrate = (def: Def) => Effect.asVoid(context(def, "migrate"))

/** @internal */
export const nowDate = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))


/** Decodes and validates an untyped filter against a model. @internal */
export const decodeFilter = (def: Def, input: unknown): Effect.Effect<unknown, InvalidFilter> => {
  // the field's own schema first; for a field whose encoded side is not JSON (DateFromSelf,
  // BigIntFromSelf, BigDecimalFromSelf) the standard JSON forms: ISO text, digits, decimal text
  const standard: Partial<Record<Column.Kind["_tag"], (u: unknown) => unknown>> = {
    datetime: Schema.decodeUnknownSync(Schema.Date),
    bigint: Schema.decodeUnknownSync(Schema.BigInt),
    decimal: Schema.decodeUnknownSync(Schema.BigDecimal)
  }
  const decoders = new Map(def.columns.map((c) => {
    const fallback = standard[c.kind._tag]
    return [c.field, (u: unknown) => {
      try {
        return c.jsonDecode(u)
      } catch (error) {
        if (fallback === undefined || typeof u !== "string") throw error
        return fallback(u)
      }
    }] as const
  }))
  const decoded = Where.decodeValues({ model: def.name, operation: "decodeFilter" }, (f) => decoders.get(f), input)
  if (Either.isLeft(decoded)) return Effect.fail(decoded.left)
  // validation only: compile against any dialect and drop the SQL
  const validated = Where.compileFilter(
    { model: def.name, operation: "decodeFilter", dialect: Dialect.sqlite, field: compiledFor(def, Dialect.sqlite).filterField },
    decoded.right,
    []
  )
  return Either.isLeft(validated) ? Effect.fail(validated.left) : Effect.succeed(decoded.right)
}
