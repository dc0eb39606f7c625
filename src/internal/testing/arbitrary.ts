/**
 * Arbitraries of a model's inputs, records and patches that every database stores exactly:
 * each field's values come from its column kind within what `model/storage.ts` accepts (or,
 * for fields with refinements the kinds do not know, from the field's own schema), and every
 * value is checked by the definition's own guards and storage checks, so the rules live in
 * one place.
 * (Internal module: not part of the public API.)
 */
import * as Arbitrary from "effect/Arbitrary"
import * as BigDecimal from "effect/BigDecimal"
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import type { Column, Kind } from "../../Column.js"
import type { ModelDefinition } from "../model/definition.js"
import { decimalBounds, maxDate, minDate } from "../model/storage.js"
import { uniqueKey } from "./equivalence.js"

type Row = Record<string, unknown>
type Arb = fc.Arbitrary<unknown>

/** Per-field arbitraries that replace the generated ones. @internal */
export type Overrides = { readonly [field: string]: fc.Arbitrary<unknown> | undefined }

const isNullOrUndefined = (ast: AST.AST) => (AST.isLiteral(ast) && ast.literal === null) || AST.isUndefinedKeyword(ast)

/** The field's type without its `null` / `undefined` members. */
const coreOf = (ast: AST.AST): AST.AST => {
  if (ast._tag !== "Union") return ast
  const rest = ast.types.filter((t) => !isNullOrUndefined(t))
  return rest.length === 1 ? coreOf(rest[0]!) : AST.Union.make(rest)
}

/** Refinements a value drawn from the column kind meets often enough to be filtered for. */
const kindRefinements: ReadonlySet<unknown> = new Set([
  Schema.IntSchemaId,
  Schema.MaxLengthSchemaId,
  Schema.FiniteSchemaId,
  Schema.NonNaNSchemaId
])

/** Can the field's values be drawn from its column kind (then filtered by its own guard)? */
const drawnFromKind = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "BigIntKeyword":
    case "Enums":
      return true
    case "Literal":
      return typeof ast.literal === "string"
    case "Union":
      return ast.types.every((t) => AST.isLiteral(t) && typeof t.literal === "string")
    case "Declaration": {
      const tc = ast.annotations[AST.TypeConstructorAnnotationId] as { readonly _tag?: string } | undefined
      return tc?._tag === "Date" || tc?._tag === "effect/BigDecimal"
    }
    case "Refinement":
      return kindRefinements.has(ast.annotations[AST.SchemaIdAnnotationId]) && drawnFromKind(ast.from)
    default:
      return false
  }
}

/** -0 is stored as 0 by PostgreSQL and MySQL (the dialects' float codec) and by JSON. */
const noNegativeZero = (v: number) => (v === 0 ? 0 : v)

const deepNoNegativeZero = (v: unknown): unknown => {
  if (typeof v === "number") return noNegativeZero(v)
  if (Array.isArray(v)) return v.map(deepNoNegativeZero)
  if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepNoNegativeZero(x)]))
  }
  return v
}

const textArbitrary = (maxLength: number | undefined): fc.Arbitrary<string> => {
  const max = Math.min(maxLength ?? 40, 40)
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: max }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: max }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: max }) }
  )
}

const decimalArbitrary = (kind: { readonly precision: number | undefined; readonly scale: number | undefined }): Arb => {
  const { precision, scale } = decimalBounds(kind)
  return fc.integer({ min: 0, max: scale }).chain((fraction) => {
    const limit = 10n ** BigInt(precision - scale + fraction)
    return fc.bigInt({ min: 1n - limit, max: limit - 1n }).map((v) => BigDecimal.normalize(BigDecimal.make(v, fraction)))
  })
}

/** Values of a column kind, within what every database stores (the storage check still runs). */
const kindArbitrary = (kind: Kind): Arb => {
  switch (kind._tag) {
    case "string":
      return textArbitrary(kind.maxLength)
    case "enum":
      return fc.constantFrom(...kind.values)
    case "integer":
      return fc.oneof(fc.integer(), fc.maxSafeInteger())
    case "float":
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map(noNegativeZero)
    case "boolean":
      return fc.boolean()
    case "datetime":
      return fc.date({ min: new Date(minDate), max: new Date(maxDate), noInvalidDate: true })
    case "bigint":
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    case "decimal":
      return decimalArbitrary(kind)
    case "json":
      return fc.jsonValue().map(deepNoNegativeZero)
  }
}

/** A storage check that throws (a JSON field's encoder on a value it cannot encode) refuses the value. */
const storableBy = (check: (v: unknown) => string | undefined) => (v: unknown): boolean => {
  try {
    return check(v) === undefined
  } catch {
    return false
  }
}

/** The type-side property signatures of a model's fields. */
const typeProperties = (definition: ModelDefinition): ReadonlyMap<string, AST.PropertySignature> =>
  new Map(AST.getPropertySignatures(AST.typeAST(definition.schema.ast)).map((ps) => [String(ps.name), ps] as const))

/**
 * The values one field takes (null included when the field is nullable): drawn from its kind
 * and filtered by the field's guard, or drawn from the field's schema; always filtered by the
 * storage check.
 * @internal
 */
export const fieldArbitrary = (definition: ModelDefinition, column: Column, type: AST.AST | undefined): Arb => {
  const storable = storableBy(definition.storable.get(column.field)!)
  const isValue = definition.isValue.get(column.field)!
  const core = type === undefined ? undefined : coreOf(type)
  const base = core === undefined || drawnFromKind(core) ||
      (column.kind._tag === "json" && (core._tag === "UnknownKeyword" || core._tag === "AnyKeyword"))
    // a JSON null is stored as SQL NULL: only a nullable field takes it
    ? kindArbitrary(column.kind).filter((v) => v !== null && isValue(v) && storable(v))
    : Arbitrary.make(Schema.make(core)).map(column.kind._tag === "json" ? deepNoNegativeZero : (v) => v)
      .filter((v) => v !== null && storable(v))
  return column.nullable ? fc.option(base, { nil: null, freq: 5 }) : base
}

interface FieldPlan {
  readonly field: string
  readonly arbitrary: Arb
  /** The key may be left out. */
  readonly optional: boolean
}

const recordOf = (plans: ReadonlyArray<FieldPlan>): fc.Arbitrary<Row> =>
  fc.record(
    Object.fromEntries(plans.map((p) => [p.field, p.arbitrary])),
    { requiredKeys: plans.filter((p) => !p.optional).map((p) => p.field) }
  ).map((row) => {
    // an override that draws `undefined` leaves the key out
    const out: Row = {}
    for (const [k, v] of Object.entries(row)) if (v !== undefined) out[k] = v
    return out
  })

/** An overridden field is always drawn (its arbitrary draws `undefined` to leave it out). */
const overridden = (plan: FieldPlan, overrides: Overrides | undefined): FieldPlan => {
  const o = overrides?.[plan.field]
  return o === undefined ? plan : { ...plan, arbitrary: o, optional: false }
}

/**
 * `create` inputs: every declared field, optional ones (and those with a constructor default)
 * sometimes left out, a generated integer primary key left to the database unless overridden.
 * @internal
 */
export const createInput = (definition: ModelDefinition, overrides?: Overrides): fc.Arbitrary<Row> => {
  const types = typeProperties(definition)
  const plans = definition.createGuards.flatMap((guard): ReadonlyArray<FieldPlan> => {
    const column = definition.byField.get(guard.field)!
    if (definition.autoIncrement && column === definition.pk && overrides?.[guard.field] === undefined) return []
    return [overridden({
      field: guard.field,
      arbitrary: fieldArbitrary(definition, column, types.get(guard.field)?.type),
      optional: !guard.required || definition.defaulted.has(guard.field)
    }, overrides)]
  })
  return recordOf(plans)
}

/**
 * `create` inputs of a model-based run: every key field always drawn (a default, a random
 * UUID, would differ between the database and the reference), a generated integer key left
 * to the database.
 * @internal
 */
export const keyedCreateInput = (definition: ModelDefinition): fc.Arbitrary<Row> =>
  definition.autoIncrement
    ? createInput(definition)
    : createInput(definition, Object.fromEntries(definition.key.map((c) => [c.field, fieldArbitrary(definition, c, undefined)])))

/**
 * Patches: any subset of the declared fields but the primary key's.
 * @internal
 */
export const patch = (definition: ModelDefinition, overrides?: Overrides): fc.Arbitrary<Row> => {
  const types = typeProperties(definition)
  return recordOf(definition.userColumns.filter((c) => !definition.key.includes(c)).map((c) =>
    overridden({ field: c.field, arbitrary: fieldArbitrary(definition, c, types.get(c.field)?.type), optional: true }, overrides)
  ))
}

const tenantIds = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/)

/** Values of a managed field as the database returns them. */
const managedArbitrary = (field: string): Arb => {
  const date = kindArbitrary({ _tag: "datetime" })
  switch (field) {
    case "deletedAt":
      return fc.option(date, { nil: null })
    case "version":
      return fc.integer({ min: 1, max: 1_000_000 })
    case "tenantId":
      return tenantIds
    default:
      return date
  }
}

/**
 * Records as the nodes return them: every declared field (the primary key included, optional
 * fields sometimes absent) and the managed ones.
 * @internal
 */
export const record = (definition: ModelDefinition, overrides?: Overrides): fc.Arbitrary<Row> => {
  const types = typeProperties(definition)
  const declared = definition.userColumns.map((c): FieldPlan => ({
    field: c.field,
    arbitrary: definition.autoIncrement && c === definition.pk
      ? fc.integer({ min: 1, max: 2 ** 31 - 1 })
      : fieldArbitrary(definition, c, types.get(c.field)?.type),
    optional: c.optional
  }))
  const managed = definition.managed.map((m): FieldPlan => ({
    field: m.column.field,
    arbitrary: managedArbitrary(m.column.field),
    optional: false
  }))
  return recordOf([...declared, ...managed].map((p) => overridden(p, overrides)))
}

/** How many rows: an exact count or a range. @internal */
export type Size = number | { readonly min?: number; readonly max?: number }

/**
 * Arrays of `create` inputs whose primary keys (a composite key as a whole) and unique
 * constraints (single and composite) really are unique, compared as the databases compare
 * them; managed fields in a constraint (the same for every row of one call) are left out of
 * its key.
 * @internal
 */
export const rows = (
  definition: ModelDefinition,
  options?: { readonly size?: Size | undefined; readonly overrides?: Overrides | undefined }
): fc.Arbitrary<ReadonlyArray<Row>> => {
  const size = options?.size ?? { min: 0, max: 10 }
  const [minLength, maxLength] = typeof size === "number" ? [size, size] : [size.min ?? 0, size.max ?? Math.max(10, size.min ?? 0)]
  const keySets = [definition.key.map((c) => c.field), ...definition.uniqueSets]
    .map((set) => set.filter((f) => !definition.managedFields.has(f)))
    .filter((set) => set.length > 0)
  return fc.uniqueArray(createInput(definition, options?.overrides), {
    minLength,
    maxLength,
    comparator: (a, b) =>
      keySets.some((set) => {
        const key = uniqueKey(a, set)
        return key !== undefined && key === uniqueKey(b, set)
      })
  })
}
