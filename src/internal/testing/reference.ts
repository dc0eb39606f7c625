/**
 * An in-memory reference implementation of the nodes' documented semantics, written apart
 * from the SQL path: filters (two-valued logic, `$ne` / `$nin` matching NULL, LIKE over code
 * points, `$ilike` folding ASCII letters), ordering (NULL smallest, code-point text order, the
 * primary key as the final tie-break), limit/offset, soft delete, versions, timestamps, unique
 * constraints (NULLs never collide, soft-deleted rows keep their keys) and atomic bulk writes.
 * Inputs, patches, ids and filters are validated by the library's own validation, so the
 * reference fails with the same typed errors.
 * (Internal module: not part of the public API.)
 */
import { BigDecimal, Either } from "effect"
import type { Column } from "../../Column.js"
import { InvalidFilter, NotFound, UniqueViolation, UnsafeOperation, ValidationError } from "../../Errors.js"
import { sqlite } from "../dialect/sqlite.js"
import type { ModelDefinition } from "../model/definition.js"
import { checkId, prepareCreate, preparePatch } from "../model/validate.js"
import { compileFilter } from "../sql/filter.js"
import { Params } from "../sql/params.js"
import { statementsFor } from "../sql/statements.js"
import { canonical, uniqueKey } from "./equivalence.js"
import { compareCodePoints, likeMatcher } from "./text.js"

type Row = Record<string, unknown>

/** A call of a node, as data (what a command sequence is made of). @internal */
export type Call =
  | { readonly node: "create"; readonly input: unknown }
  | { readonly node: "bulkCreate"; readonly rows: ReadonlyArray<unknown> }
  | { readonly node: "read"; readonly id: unknown }
  | { readonly node: "find"; readonly id: unknown }
  | { readonly node: "update"; readonly id: unknown; readonly patch: unknown }
  | { readonly node: "delete"; readonly id: unknown }
  | { readonly node: "bulkUpdate"; readonly where: unknown; readonly patch: unknown; readonly confirm?: boolean }
  | { readonly node: "bulkDelete"; readonly where: unknown; readonly confirm?: boolean }
  | {
    readonly node: "list"
    readonly query: {
      readonly where?: unknown
      readonly orderBy?: ReadonlyArray<string>
      readonly limit?: number
      readonly offset?: number
    }
  }
  | { readonly node: "count"; readonly where?: unknown }

/** What a call gave: its value, or the error it failed with. @internal */
export type Outcome =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly error: { readonly _tag: string } }

const success = (value: unknown): Outcome => ({ _tag: "Success", value })
const failure = (error: { readonly _tag: string }): Outcome => ({ _tag: "Failure", error })

/** Total order of two non-NULL values of a column. */
const compareValues = (column: Column, a: unknown, b: unknown): number => {
  switch (column.kind._tag) {
    case "string":
    case "enum":
      return compareCodePoints(a as string, b as string)
    case "datetime":
      return Math.sign((a as Date).getTime() - (b as Date).getTime())
    case "decimal":
      return BigDecimal.Order(a as BigDecimal.BigDecimal, b as BigDecimal.BigDecimal)
    case "boolean":
      return Number(a) - Number(b)
    case "json": {
      const x = JSON.stringify(canonical(a))
      const y = JSON.stringify(canonical(b))
      return x < y ? -1 : x > y ? 1 : 0
    }
    default:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  }
}

const isOperators = (u: unknown): u is Row =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

const evalOp = (column: Column, v: unknown, op: string, operand: unknown): boolean => {
  const eq = (w: unknown) => v !== null && compareValues(column, v, w) === 0
  const text = v as string
  switch (op) {
    case "$eq":
      return operand === null ? v === null : eq(operand)
    case "$ne":
      return operand === null ? v !== null : v === null || !eq(operand)
    case "$gt":
      return v !== null && compareValues(column, v, operand) > 0
    case "$gte":
      return v !== null && compareValues(column, v, operand) >= 0
    case "$lt":
      return v !== null && compareValues(column, v, operand) < 0
    case "$lte":
      return v !== null && compareValues(column, v, operand) <= 0
    case "$in":
      return (operand as ReadonlyArray<unknown>).some(eq)
    case "$nin":
      return v === null || !(operand as ReadonlyArray<unknown>).some(eq)
    case "$null":
      return operand === true ? v === null : v !== null
    case "$like":
      return v !== null && likeMatcher(operand as string, false)(text)
    case "$ilike":
      return v !== null && likeMatcher(operand as string, true)(text)
    case "$startsWith":
      return v !== null && text.startsWith(operand as string)
    case "$endsWith":
      return v !== null && text.endsWith(operand as string)
    case "$contains":
      return v !== null && text.includes(operand as string)
    // JSON arrays: elements equal as JSON values; a NULL array matches none
    case "$has":
      return Array.isArray(v) && v.some((e) => e === operand)
    case "$hasAny":
      return Array.isArray(v) && (operand as ReadonlyArray<unknown>).some((o) => v.some((e) => e === o))
    case "$hasAll":
      return Array.isArray(v) && (operand as ReadonlyArray<unknown>).every((o) => v.some((e) => e === o))
    case "$size": {
      if (!Array.isArray(v)) return false
      const n = v.length
      if (typeof operand === "number") return n === operand
      return Object.entries(operand as Record<string, number>).every(([o, m]) =>
        o === "$eq" ? n === m : o === "$gt" ? n > m : o === "$gte" ? n >= m : o === "$lt" ? n < m : n <= m
      )
    }
    default:
      return false
  }
}

/** The JSON scalar at a path of object keys (undefined: nothing there). */
const atPath = (value: unknown, keys: ReadonlyArray<string>): unknown => {
  let v = value
  for (const k of keys) {
    if (!isOperators(v) || !Object.hasOwn(v, k)) return undefined
    v = v[k]
  }
  return v
}

/** Two JSON scalars of one type compared (text by code point); undefined for different types. */
const compareScalars = (v: unknown, w: unknown): number | undefined =>
  v === null || v === undefined || typeof v !== typeof w
    ? undefined
    : typeof v === "string"
    ? compareCodePoints(v, w as string)
    : typeof v === "number"
    ? Math.sign(v - (w as number))
    : typeof v === "boolean"
    ? (v === w ? 0 : 1)
    : undefined

/** `{ $path, …operators }` on a JSON field: the stored (encoded) value at the path compared. */
const pathHolds = (column: Column, value: unknown, cond: Row): boolean => {
  const v = value === null ? undefined : atPath(column.jsonEncode(value), cond["$path"] as ReadonlyArray<string>)
  const none = v === undefined || v === null
  return Object.entries(cond).every(([op, operand]) => {
    if (op === "$path" || operand === undefined) return true
    const c = compareScalars(v, operand)
    switch (op) {
      case "$eq":
        return operand === null ? none : c === 0
      case "$ne":
        return operand === null ? !none : c !== 0
      case "$gt":
        return c !== undefined && c > 0
      case "$gte":
        return c !== undefined && c >= 0
      case "$lt":
        return c !== undefined && c < 0
      case "$lte":
        return c !== undefined && c <= 0
      case "$in":
        return (operand as ReadonlyArray<unknown>).some((o) => compareScalars(v, o) === 0)
      case "$nin":
        return !(operand as ReadonlyArray<unknown>).some((o) => compareScalars(v, o) === 0)
      default:
        return operand === none
    }
  })
}

/** Does a (validated) filter hold for a row? @internal */
export const matches = (def: ModelDefinition, filter: unknown, row: Row): boolean => {
  if (!isOperators(filter)) return true
  return Object.entries(filter).every(([key, cond]) => {
    if (cond === undefined) return true
    if (key === "$and") return (cond as ReadonlyArray<unknown>).every((f) => matches(def, f, row))
    if (key === "$or") return (cond as ReadonlyArray<unknown>).some((f) => matches(def, f, row))
    if (key === "$not") return !matches(def, cond, row)
    const column = def.byField.get(key)!
    const v = row[key] ?? null
    if (cond === null) return v === null
    if (isOperators(cond) && "$path" in cond) return pathHolds(column, v, cond)
    if (isOperators(cond)) return Object.entries(cond).every(([op, operand]) => operand === undefined || evalOp(column, v, op, operand))
    return v !== null && compareValues(column, v, cond) === 0
  })
}

/** Rows in the order of `orderBy` (`"-field"` descending), NULL smallest, then the primary key. @internal */
export const sortRows = (def: ModelDefinition, rows: ReadonlyArray<Row>, orderBy: ReadonlyArray<string>): Array<Row> => {
  const terms = orderBy.map((e) => (e.startsWith("-") ? { field: e.slice(1), dir: -1 } : { field: e, dir: 1 }))
  if (!terms.some((t) => t.field === def.pk.field)) terms.push({ field: def.pk.field, dir: 1 })
  return [...rows].sort((ra, rb) => {
    for (const { dir, field } of terms) {
      const a = ra[field] ?? null
      const b = rb[field] ?? null
      const c = a === null && b === null ? 0 : a === null ? -1 : b === null ? 1 : compareValues(def.byField.get(field)!, a, b)
      if (c !== 0) return c * dir
    }
    return 0
  })
}

/** One model's rows in memory and its nodes over them. @internal */
export interface ReferenceTable {
  readonly definition: ModelDefinition
  /** Runs a call as `tenant` (tenant-scoped models: its rows only, stamped with it). */
  readonly execute: (call: Call, now: Date, tenant?: string | undefined) => Outcome
  /** Every stored row (soft-deleted ones included) as the nodes return records, by primary key. */
  readonly rows: () => ReadonlyArray<Row>
  readonly clear: () => void
}

/** A record as read back: optional fields stored as NULL come back absent. */
const asRecord = (def: ModelDefinition, row: Row): Row => {
  const out: Row = {}
  for (const c of def.columns) {
    const v = row[c.field]
    if (v === undefined || (v === null && c.optional && !c.nullable)) continue
    out[c.field] = v
  }
  return out
}

/** @internal */
export const makeTable = (def: ModelDefinition): ReferenceTable => {
  const stored = new Map<string, Row>()
  let nextId = 1
  const statements = statementsFor(def, sqlite)
  const keySets = [[def.pk.field], ...def.uniqueSets]
  const pkKey = (id: unknown) => uniqueKey({ id }, ["id"])!
  let tenant: string | undefined
  const ours = (row: Row) => !def.tenantScoped || row.tenantId === tenant
  const live = (row: Row | undefined) => row !== undefined && ours(row) && (!def.softDelete || row.deletedAt === null)

  const collision = (candidate: Row, others: Iterable<Row>, except?: Row): ReadonlyArray<string> | undefined => {
    for (const other of others) {
      // a tenant's keys are unique among its own rows
      if (other === except || !ours(other)) continue
      const set = keySets.find((fields) => {
        const key = uniqueKey(candidate, fields)
        return key !== undefined && key === uniqueKey(other, fields)
      })
      if (set !== undefined) return set.map((f) => def.byField.get(f)!.name)
    }
    return undefined
  }
  const stamp = (record: Row, now: Date): Row => {
    const out = { ...record }
    for (const m of def.managed) out[m.column.field] = m.initial(now, tenant)
    if (def.autoIncrement && out[def.pk.field] === undefined) out[def.pk.field] = nextId
    return out
  }
  /** What every update does to the managed fields: `updatedAt` stamped, `version` counted. */
  const touched = (row: Row, now: Date): Row => {
    const out = { ...row }
    for (const m of def.managed) {
      if (m.onUpdate === "now") out[m.column.field] = now
      if (m.onUpdate === "increment") out[m.column.field] = (row[m.column.field] as number) + 1
    }
    return out
  }
  const commitId = (row: Row) => {
    if (def.autoIncrement) nextId = Math.max(nextId, Number(row[def.pk.field]) + 1)
  }
  const compiled = (filter: unknown, operation: string) =>
    compileFilter(
      { model: def.name, operation, dialect: statements.dialect, field: statements.filterField },
      filter ?? {},
      new Params(statements.dialect)
    )
  const validFilter = (filter: unknown, operation: string): InvalidFilter | undefined => {
    const result = compiled(filter, operation)
    return Either.isLeft(result) ? result.left : undefined
  }
  /** A bulk write's filter: invalid, or one every row meets without `confirm` (UnsafeOperation). */
  const bulkFilter = (filter: unknown, confirm: boolean | undefined, operation: string) => {
    const result = compiled(filter, operation)
    if (Either.isLeft(result)) return result.left
    if (result.right === undefined && confirm !== true) {
      return new UnsafeOperation({ model: def.name, operation, reason: "the filter matches every record; pass { confirm: true }" })
    }
    return undefined
  }
  const liveRows = () => [...stored.values()].filter(live)

  const execute = (call: Call, now: Date, as?: string): Outcome => {
    tenant = as
    switch (call.node) {
      case "create": {
        const prepared = prepareCreate(def, call.input, "create")
        if (Either.isLeft(prepared)) return failure(prepared.left)
        const row = stamp(prepared.right, now)
        const columns = collision(row, stored.values())
        if (columns !== undefined) return failure(new UniqueViolation({ model: def.name, operation: "create", columns }))
        stored.set(pkKey(row[def.pk.field]), row)
        commitId(row)
        return success(asRecord(def, row))
      }
      case "bulkCreate": {
        const rows: Array<Row> = []
        for (const [i, input] of call.rows.entries()) {
          const prepared = prepareCreate(def, input, "bulkCreate", i)
          if (Either.isLeft(prepared)) return failure(prepared.left)
          const row = stamp(prepared.right, now)
          if (def.autoIncrement && (input as Row)[def.pk.field] === undefined) row[def.pk.field] = nextId + i
          const columns = collision(row, [...stored.values(), ...rows])
          if (columns !== undefined) {
            return failure(new UniqueViolation({ model: def.name, operation: "bulkCreate", columns, rowIndex: i }))
          }
          rows.push(row)
        }
        for (const row of rows) {
          stored.set(pkKey(row[def.pk.field]), row)
          commitId(row)
        }
        return success({ inserted: rows.length })
      }
      case "read":
      case "find": {
        const bad = checkId(def, call.id, call.node)
        if (bad !== undefined) return failure(bad)
        const row = stored.get(pkKey(call.id))
        if (live(row)) return success(asRecord(def, row!))
        return call.node === "find"
          ? success(undefined)
          : failure(new NotFound({ model: def.name, operation: "read", id: call.id as string | number }))
      }
      case "update": {
        const bad = checkId(def, call.id, "update")
        if (bad !== undefined) return failure(bad)
        const patch = preparePatch(def, call.patch, "update")
        if (Either.isLeft(patch)) return failure(patch.left)
        const row = stored.get(pkKey(call.id))
        if (!live(row)) return failure(new NotFound({ model: def.name, operation: "update", id: call.id as string | number }))
        const updated = touched({ ...row, ...patch.right }, now)
        const columns = collision(updated, stored.values(), row)
        if (columns !== undefined) return failure(new UniqueViolation({ model: def.name, operation: "update", columns }))
        stored.set(pkKey(call.id), updated)
        return success(asRecord(def, updated))
      }
      case "delete": {
        const bad = checkId(def, call.id, "delete")
        if (bad !== undefined) return failure(bad)
        const key = pkKey(call.id)
        const row = stored.get(key)
        if (!live(row)) return success({ deleted: false })
        // a soft delete is an update: updatedAt and version move too
        if (def.softDelete) stored.set(key, touched({ ...row, deletedAt: now }, now))
        else stored.delete(key)
        return success({ deleted: true })
      }
      case "bulkUpdate": {
        const refused = bulkFilter(call.where, call.confirm, "bulkUpdate")
        if (refused !== undefined) return failure(refused)
        const patch = preparePatch(def, call.patch, "bulkUpdate")
        if (Either.isLeft(patch)) return failure(patch.left)
        // nothing to set (an empty patch, no updatedAt or version to move): nothing is updated
        if (Object.keys(patch.right).length === 0 && !def.managed.some((m) => m.onUpdate === "now" || m.onUpdate === "increment")) {
          return success({ updated: 0 })
        }
        const matched = liveRows().filter((r) => matches(def, call.where, r))
        const updated = matched.map((row) => [row, touched({ ...row, ...patch.right }, now)] as const)
        // all or nothing: a unique key taken by another row (or by two updated rows) writes none
        const after = new Map(stored)
        for (const [row, next] of updated) after.set(pkKey(row[def.pk.field]), next)
        for (const [row, next] of updated) {
          const columns = collision(next, after.values(), after.get(pkKey(row[def.pk.field])))
          if (columns !== undefined) return failure(new UniqueViolation({ model: def.name, operation: "bulkUpdate", columns }))
        }
        for (const [row, next] of updated) stored.set(pkKey(row[def.pk.field]), next)
        return success({ updated: updated.length })
      }
      case "bulkDelete": {
        const refused = bulkFilter(call.where, call.confirm, "bulkDelete")
        if (refused !== undefined) return failure(refused)
        const matched = liveRows().filter((r) => matches(def, call.where, r))
        for (const row of matched) {
          const key = pkKey(row[def.pk.field])
          if (def.softDelete) stored.set(key, touched({ ...row, deletedAt: now }, now))
          else stored.delete(key)
        }
        return success({ deleted: matched.length })
      }
      case "list": {
        const invalid = validFilter(call.query.where, "list")
        if (invalid !== undefined) return failure(invalid)
        const found = sortRows(def, liveRows().filter((r) => matches(def, call.query.where, r)), call.query.orderBy ?? [])
        const offset = call.query.offset ?? 0
        const page = found.slice(offset, call.query.limit === undefined ? undefined : offset + call.query.limit)
        return success({ records: page.map((r) => asRecord(def, r)) })
      }
      case "count": {
        const invalid = validFilter(call.where, "count")
        if (invalid !== undefined) return failure(invalid)
        return success(liveRows().filter((r) => matches(def, call.where, r)).length)
      }
    }
  }
  return {
    definition: def,
    execute,
    rows: () => sortRows(def, [...stored.values()], []).map((r) => asRecord(def, r)),
    clear: () => {
      stored.clear()
      nextId = 1
    }
  }
}

/** The errors a reference call can fail with. @internal */
export type ReferenceError = ValidationError | NotFound | UniqueViolation | InvalidFilter | UnsafeOperation
