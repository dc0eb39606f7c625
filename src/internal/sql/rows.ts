/**
 * Records to statement parameters and rows to records, for one dialect: the column codecs, the
 * stamping of managed fields, the one-pass encoder of new rows (validation, storage checks,
 * stamping and codecs in one pass, with no record built) and the compiled row decoders.
 * (Internal module: not part of the public API.)
 */
import type { Column } from "../../Column.js"
import type { Codec, Dialect } from "../dialect/dialect.js"
import type { ModelDefinition } from "../model/definition.js"

type Row = Record<string, unknown>

/** A column as one dialect stores it. @internal */
export interface DialectColumn {
  readonly column: Column
  readonly codec: Codec
  readonly quoted: string
  /** A record's value to a statement parameter (NULL for null and undefined). */
  readonly toDb: (value: unknown) => unknown
  /** A driver's value to a record's (NULL handled by the caller). */
  readonly fromDb: (raw: unknown) => unknown
}

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

/** @internal */
export const dialectColumn = (dialect: Dialect, column: Column): DialectColumn => {
  const codec = dialect.codec(column.kind)
  const toDb = column.kind._tag === "json"
    ? (v: unknown) => (v === null || v === undefined ? null : codec.toDb(column.jsonEncode(v)))
    : column.kind._tag === "datetime"
    ? memoLast((v: unknown) => (v === null || v === undefined ? null : codec.toDb(v)))
    : (v: unknown) => (v === null || v === undefined ? null : codec.toDb(v))
  const fromDb = column.kind._tag === "json" ? (raw: unknown) => column.jsonDecode(codec.fromDb(raw)) : codec.fromDb
  return { column, codec, quoted: dialect.quote(column.name), toDb, fromDb }
}

/** Appends a record's values, in `columns` order, as statement parameters. @internal */
export const encodeRecord = (columns: ReadonlyArray<DialectColumn>, record: Row, into: Array<unknown>) => {
  for (const col of columns) into.push(col.toDb(record[col.column.field]))
}

/** Stamps the managed fields of a new, validated record (in place: records come fresh from validation). @internal */
export const stamp = (def: ModelDefinition, record: Row, now: Date, tenant: string | undefined): Row => {
  for (const m of def.managed) record[m.column.field] = m.initial(now, tenant)
  return record
}

/**
 * Validates a create input and appends its statement parameters (managed fields stamped) in
 * `columns` order, in one pass and without building a record. False (nothing appended) when
 * the row needs the general path (`validate.prepareCreate`): it is invalid (that path words the
 * error), names its generated key, or has a value to default.
 * @internal
 */
export type NewRowEncoder = (row: unknown, now: Date, tenant: string | undefined, into: Array<unknown>) => boolean

/**
 * The one-pass encoder of new rows without an explicit generated key, or undefined when the
 * model has constructor defaults (they need the schema's constructor).
 * @internal
 */
export const newRowEncoder = (def: ModelDefinition, columns: ReadonlyArray<DialectColumn>): NewRowEncoder | undefined => {
  if (def.hasDefaults) return undefined
  const guards = new Map(def.createGuards.map((g) => [g.field, g]))
  const managed = new Map(def.managed.map((m) => [m.column.field, m]))
  const n = columns.length
  const fields = columns.map((c) => c.column.field)
  const initial = columns.map((c) => managed.get(c.column.field)?.initial)
  const required = fields.map((f) => guards.get(f)?.required === true)
  const is = fields.map((f) => guards.get(f)?.is ?? (() => false))
  const storable = fields.map((f) => def.storable.get(f)!)
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
      const stamped = initial[i]
      if (stamped !== undefined) {
        into.push(toDb[i]!(stamped(now, tenant)))
        continue
      }
      const v = row[fields[i]!]
      if (v === undefined) {
        if (required[i] || fields[i]! in row) {
          into.length = start
          return false
        }
        into.push(null)
      } else if (is[i]!(v) && (v === null || storable[i]!(v) === undefined)) {
        into.push(toDb[i]!(v))
      } else {
        into.length = start
        return false
      }
    }
    return true
  }
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

/**
 * Compiles a plan into one function that reads each column once and builds the record as an
 * object literal (one shape for every record of a model, no keyed stores). The source is made
 * only of validated identifiers quoted with JSON.stringify and indices into `fromDb`; where code
 * cannot be generated (a runtime that forbids it) the loop is used.
 */
const compileDecoder = (plan: Omit<DecodePlan, "decode">): ((row: Row) => Row) => {
  const loop = (row: Row) => decodeLoop(plan, row)
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
export const decodePlan = (columns: ReadonlyArray<DialectColumn>): DecodePlan => {
  const plan = {
    names: columns.map((c) => c.column.name),
    fields: columns.map((c) => c.column.field),
    fromDb: columns.map((c) => c.fromDb),
    nullOut: columns.map((c) => c.column.nullable || !c.column.optional)
  }
  return { ...plan, decode: compileDecoder(plan) }
}
