/**
 * Input checks, before any SQL: create inputs (constructor defaults applied), patches, keys and
 * single values. One set of rules for every path — the one-pass encoder of bulk rows
 * (`rows.ts`) uses the same guards and storage checks and defers to these functions to word
 * an error.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import { ValidationError } from "../../Errors.js"
import { isArithInput, parseArith } from "./arith.js"
import type { ModelDefinition } from "./definition.js"

type Row = Record<string, unknown>

/** @internal */
export const isRecord = (u: unknown): u is Row => typeof u === "object" && u !== null && !Array.isArray(u)

/** @internal */
export const validation = (def: ModelDefinition, operation: string, path: string, reason: string, rowIndex?: number) =>
  new ValidationError({ model: def.name, operation, path, reason, ...(rowIndex === undefined ? {} : { rowIndex }) })

/**
 * Why a value cannot stand for a field in a statement (a key, a filter operand, a cursor
 * value): not of the field's type, or not storable exactly on every database (the checks a
 * written value gets). Undefined when it can.
 * @internal
 */
export const valueProblem = (def: ModelDefinition, field: string, value: unknown): string | undefined => {
  const is = def.isValue.get(field)
  if (is === undefined) return "unknown field"
  if (!is(value)) return "value does not match the field's type"
  return def.storable.get(field)!(value)
}

/** Checks a single-field primary key's value. */
const checkScalarId = (def: ModelDefinition, id: unknown, operation: string): ValidationError | undefined => {
  const problem = valueProblem(def, def.pk.field, id)
  if (problem === undefined) return undefined
  return validation(def, operation, def.pk.field, problem === "value does not match the field's type" ? "not a valid primary key" : problem)
}

/**
 * Checks a composite primary key: an object of exactly the key's fields, each a value the
 * field accepts. The error names the field that is missing, extra or wrong.
 */
const checkKeyObject = (def: ModelDefinition, id: unknown, operation: string): ValidationError | undefined => {
  if (!isRecord(id)) {
    return validation(def, operation, "", `expected an object of the primary key's fields (${def.key.map((c) => c.field).join(", ")})`)
  }
  for (const field in id) {
    if (!def.key.some((c) => c.field === field)) return validation(def, operation, field, "is not a field of the primary key")
  }
  for (const c of def.key) {
    const value = id[c.field]
    if (value === undefined || value === null) return validation(def, operation, c.field, "a key needs a value")
    const problem = valueProblem(def, c.field, value)
    if (problem !== undefined) {
      return validation(def, operation, c.field, problem === "value does not match the field's type" ? "not a valid primary key" : problem)
    }
  }
  return undefined
}

/**
 * The key check of a model's nodes, chosen once per model: a scalar for a single-field key, an
 * object of the key's fields for a composite one.
 * @internal
 */
export const keyChecker = (def: ModelDefinition): (id: unknown, operation: string) => ValidationError | undefined =>
  def.compositeKey ? (id, operation) => checkKeyObject(def, id, operation) : (id, operation) => checkScalarId(def, id, operation)

/** Checks a primary key (a scalar, or an object of a composite key's fields). @internal */
export const checkId = (def: ModelDefinition, id: unknown, operation: string): ValidationError | undefined =>
  def.compositeKey ? checkKeyObject(def, id, operation) : checkScalarId(def, id, operation)

/**
 * The fast path of validation: known keys, required keys present, every value passes its
 * guard. Anything else takes the full Schema validation, which also words the error.
 */
const quickCheck = (def: ModelDefinition, u: Row, partial: boolean): boolean => {
  for (const key in u) if (!def.isValue.has(key) || def.managedFields.has(key)) return false
  for (const g of def.createGuards) {
    const v = u[g.field]
    if (v === undefined && !(g.field in u)) {
      if (g.required && !partial) return false
      continue
    }
    if (partial && g.key) return false
    if (!g.is(v)) return false
  }
  return true
}

const issueOf = (issue: ParseResult.ParseIssue): { readonly path: string; readonly reason: string } => {
  const first = ParseResult.ArrayFormatter.formatIssueSync(issue)[0]
  if (first === undefined) return { path: "", reason: "invalid value" }
  // the formatter appends the offending value ("…, actual <value>"); values never go into errors
  const reason = first.message.replace(/,? actual [\s\S]*$/, "").trim()
  return { path: first.path.map(String).join("."), reason }
}

/** Every present value of a validated record is storable on every database. */
const checkStorage = (def: ModelDefinition, record: Row, operation: string, rowIndex?: number): ValidationError | undefined => {
  for (const c of def.userColumns) {
    const v = record[c.field]
    if (v === undefined || v === null) continue
    const reason = def.storable.get(c.field)!(v)
    if (reason !== undefined) return validation(def, operation, c.field, reason, rowIndex)
  }
  return undefined
}

const rejectUnwritable = (def: ModelDefinition, input: Row, operation: string, rowIndex?: number) => {
  // an own "__proto__" key (from JSON.parse) is no field of any model; schemas would drop it
  if (Object.prototype.hasOwnProperty.call(input, "__proto__")) {
    return validation(def, operation, "__proto__", "is not a field of the model", rowIndex)
  }
  for (const f of def.managedFields) {
    if (f in input) return validation(def, operation, f, "is managed by the library and cannot be written", rowIndex)
  }
  return undefined
}

const validated = (
  def: ModelDefinition,
  result: Either.Either<Row, ParseResult.ParseIssue>,
  operation: string,
  rowIndex?: number
): Either.Either<Row, ValidationError> => {
  if (Either.isLeft(result)) {
    const { path, reason } = issueOf(result.left)
    return Either.left(validation(def, operation, path, reason, rowIndex))
  }
  const storage = checkStorage(def, result.right, operation, rowIndex)
  return storage === undefined ? Either.right(result.right) : Either.left(storage)
}

/** Validates create input and applies constructor defaults; a fresh record, the caller's to stamp. @internal */
export const prepareCreate = (
  def: ModelDefinition,
  input: unknown,
  operation: string,
  rowIndex?: number
): Either.Either<Row, ValidationError> => {
  if (!isRecord(input)) return Either.left(validation(def, operation, "", "expected an object", rowIndex))
  const unwritable = rejectUnwritable(def, input, operation, rowIndex)
  if (unwritable !== undefined) return Either.left(unwritable)
  const pk = def.pk.field
  // generated keys are shared by every tenant: accepting one from a tenant would tell it
  // (through a UniqueViolation) which keys other tenants have
  if (def.tenantScoped && def.autoIncrement && input[pk] !== undefined) {
    return Either.left(
      validation(def, operation, pk, "a generated key cannot be given on a tenant-scoped model (keys are shared by all tenants)", rowIndex)
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
  if (def.autoIncrement && withDefaults[pk] === undefined) {
    const { [pk]: _, ...rest } = withDefaults
    withDefaults = rest
  }
  if (quickCheck(def, withDefaults, false)) {
    const record = { ...withDefaults }
    const storage = checkStorage(def, record, operation, rowIndex)
    return storage === undefined ? Either.right(record) : Either.left(storage)
  }
  return validated(def, def.parseCreate(withDefaults), operation, rowIndex)
}

/** Validates an update patch: known fields, not the primary key, not managed fields. @internal */
export const preparePatch = (def: ModelDefinition, patch: unknown, operation: string): Either.Either<Row, ValidationError> => {
  if (!isRecord(patch)) return Either.left(validation(def, operation, "", "expected an object"))
  for (const c of def.key) {
    if (c.field in patch) return Either.left(validation(def, operation, c.field, "the primary key cannot be changed"))
  }
  const unwritable = rejectUnwritable(def, patch, operation)
  if (unwritable !== undefined) return Either.left(unwritable)
  // arithmetic updates ({ n: { $increment: 1 } }) are checked here; the rest by the schema
  let plain: Row = patch
  let arith: Row | undefined
  for (const key in patch) {
    const column = def.byField.get(key)
    const value = patch[key]
    if (column === undefined || !isArithInput(column.kind, value)) continue
    const parsed = parseArith(column.kind, value)
    if (typeof parsed === "string") return Either.left(validation(def, operation, key, parsed))
    if (arith === undefined) {
      arith = {}
      plain = { ...patch }
    }
    arith[key] = parsed
    delete plain[key]
  }
  let checked: Either.Either<Row, ValidationError>
  if (quickCheck(def, plain, true)) {
    const record = { ...plain }
    const storage = checkStorage(def, record, operation)
    checked = storage === undefined ? Either.right(record) : Either.left(storage)
  } else {
    checked = validated(def, def.parsePatch(plain), operation)
  }
  return arith === undefined || Either.isLeft(checked) ? checked : Either.right({ ...checked.right, ...arith })
}
