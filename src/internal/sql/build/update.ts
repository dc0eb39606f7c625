/**
 * UPDATE statements: the SET list (patch, stamps, versions, arithmetic with its range checks),
 * by key, by keys, by a filter, and per-row keyed updates.
 * (Internal module: not part of the public API.)
 */
import { isArith } from "../../model/arith.js"
import type { Params, Plan } from "../params.js"
import { plan } from "../params.js"
import type { ModelStatements } from "../statements.js"
import { byFields, byKey, cached, inPrimaryKeys, type Key, keyList, returning, type Row, tenantScope } from "./common.js"

/**
 * The SET items of an update: the patch's fields, then the fields the library manages on
 * update (`updatedAt` stamped, `version` + 1). The one SET builder of every update.
 * @internal
 */
export const setList = (
  s: ModelStatements,
  keys: ReadonlyArray<string>,
  bindField: (field: string) => string,
  bindNow: () => string,
  ops?: ReadonlyMap<string, "+" | "*">
): Array<string> => {
  const sets = keys.map((k) => {
    const c = s.byField.get(k)!
    const op = ops?.get(k)
    if (op === undefined) return `${c.quoted} = ${bindField(k)}`
    // an arithmetic update: the dialect computes it (callers check that it can)
    const value = `${s.table}.${c.quoted} ${op} ${s.dialect.numericParam(c.column.kind, bindField(k))!}`
    // a product of floats can be -0 (-5e-324 * 0): + 0 makes it 0, as every other write stores it
    return `${c.quoted} = ${c.column.kind._tag === "float" && op === "*" ? `(${value}) + 0` : value}`
  })
  for (const m of s.definition.managed) {
    const q = s.byField.get(m.column.field)!.quoted
    if (m.onUpdate === "now") sets.push(`${q} = ${bindNow()}`)
    else if (m.onUpdate === "increment") sets.push(`${q} = ${s.table}.${q} + 1`)
  }
  return sets
}

/**
 * The shape of a patch for statement caching and building: its fields, with `+` / `*` after
 * those updated arithmetically.
 * @internal
 */
export interface PatchShape {
  readonly keys: ReadonlyArray<string>
  readonly ops: ReadonlyMap<string, "+" | "*">
  /** `a,b+,c*`: the cache key. */
  readonly text: string
}

/** The shape of a validated patch. @internal */
export const patchShape = (patch: Row): PatchShape => {
  const keys = Object.keys(patch)
  const ops = new Map<string, "+" | "*">()
  for (const k of keys) {
    const v = patch[k]
    if (isArith(v)) ops.set(k, v.operator)
  }
  return { keys, ops, text: keys.map((k) => k + (ops.get(k) ?? "")).join(",") }
}

/** The value a patch binds for a field: the value, or an arithmetic update's operand. */
export const patchValue = (v: unknown): unknown => (isArith(v) ? v.operand : v)

/**
 * `(col IS NULL OR col BETWEEN lo AND hi)` for every arithmetically updated field: the current
 * values whose result stays in the column's range (`ranges`, bound per call).
 */
export const rangeChecks = <A extends { readonly ranges?: Readonly<Record<string, readonly [unknown, unknown]>> | undefined }>(
  s: ModelStatements,
  shape: PatchShape,
  bind: (get: (a: A) => unknown) => string
): Array<string> =>
  [...shape.ops.keys()].map((k) => {
    const c = s.byField.get(k)!
    const param = (i: 0 | 1) => s.dialect.numericParam(c.column.kind, bind((a) => c.toDb(a.ranges![k]![i])))!
    return `(${c.quoted} IS NULL OR ${c.quoted} BETWEEN ${param(0)} AND ${param(1)})`
  })

/** @internal */
export interface UpdateArgs extends Key {
  readonly patch: Row
  readonly now: Date
  readonly expectedVersion: number | undefined
  /** Per arithmetically updated field, the range its current value must lie in. */
  readonly ranges?: Readonly<Record<string, readonly [unknown, unknown]>> | undefined
}

/**
 * Updates one live row by key (and expected version) with a patch of this shape; RETURNING
 * the row where the dialect can. Arithmetic updates also check the current value's range (a
 * row out of range is not matched). Undefined when there is nothing to set.
 * @internal
 */
export const updateById = (s: ModelStatements, shape: PatchShape, versioned: boolean): Plan<UpdateArgs> | undefined =>
  cached(s, `updateById:${versioned}:${shape.text}`, () => {
    if (shape.keys.length === 0 && !s.definition.managed.some((m) => m.onUpdate !== undefined)) return undefined
    return plan<UpdateArgs>(s.dialect, (bind) => {
      const sets = setList(
        s,
        shape.keys,
        (k) => bind((a) => s.byField.get(k)!.toDb(patchValue(a.patch[k]))),
        () => bind((a) => s.byField.get("updatedAt")!.toDb(a.now)),
        shape.ops
      )
      const conditions = [byKey(s, bind)]
      if (s.notDeleted !== undefined) conditions.push(s.notDeleted)
      if (versioned) conditions.push(`${s.byField.get("version")!.quoted} = ${bind((a) => a.expectedVersion)}`)
      conditions.push(...rangeChecks(s, shape, bind))
      return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${conditions.join(" AND ")}${returning(s)}`
    })
  })

/**
 * Applies a patch with arithmetic updates to the rows with these keys (the caller has locked
 * and checked them): `UPDATE … SET n = n + ? … WHERE pk IN (…)`.
 * @internal
 */
export const updateByIds = (
  s: ModelStatements,
  params: Params,
  patch: Row,
  now: Date,
  ids: ReadonlyArray<unknown>,
  tenant: string | undefined
): string => {
  const shape = patchShape(patch)
  const sets = setList(
    s,
    shape.keys,
    (k) => params.bind(s.byField.get(k)!.toDb(patchValue(patch[k]))),
    () => params.bind(s.byField.get("updatedAt")!.toDb(now)),
    shape.ops
  )
  return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${inPrimaryKeys(s, params, ids)}${tenantScope(s, params, tenant)}`
}

/**
 * The key and the current values of `fields` of the live rows a WHERE clause matches, locked
 * until the transaction ends: what an arithmetic update checks before it writes.
 * @internal
 */
export const lockedValues = (s: ModelStatements, fields: ReadonlyArray<string>, where: string): string => {
  const columns = fields.map((f) => s.dialect.selectExpr(s.byField.get(f)!.column))
  return `SELECT ${[keyList(s, s.dialect.quote("__id")), ...columns].join(", ")} FROM ${s.table}${where}${s.dialect.lockingRead}`
}

/** @internal */
export interface KeyedUpdateArgs {
  /** The values of the key's fields, in order. */
  readonly key: ReadonlyArray<unknown>
  readonly tenant: string | undefined
  readonly patch: Row
  readonly now: Date
  readonly expectedVersion: number | undefined
  readonly ranges?: Readonly<Record<string, readonly [unknown, unknown]>> | undefined
}

/**
 * Updates one live row by the values of a unique key (the primary key or a unique constraint)
 * and, on versioned models, its expected version; no RETURNING (the caller counts the rows the
 * statement matched). Undefined when there is nothing to set.
 * @internal
 */
export const updateByKey = (
  s: ModelStatements,
  by: ReadonlyArray<string>,
  shape: PatchShape,
  versioned: boolean
): Plan<KeyedUpdateArgs> | undefined =>
  cached(s, `updateByKey:${by.join(",")}:${versioned}:${shape.text}`, () => {
    if (shape.keys.length === 0 && !s.definition.managed.some((m) => m.onUpdate !== undefined)) return undefined
    return plan<KeyedUpdateArgs>(s.dialect, (bind) => {
      const sets = setList(
        s,
        shape.keys,
        (k) => bind((a) => s.byField.get(k)!.toDb(patchValue(a.patch[k]))),
        () => bind((a) => s.byField.get("updatedAt")!.toDb(a.now)),
        shape.ops
      )
      const conditions = [byFields(s, by, bind)]
      if (s.notDeleted !== undefined) conditions.push(s.notDeleted)
      if (versioned) conditions.push(`${s.byField.get("version")!.quoted} = ${bind((a) => a.expectedVersion)}`)
      conditions.push(...rangeChecks(s, shape, bind))
      return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${conditions.join(" AND ")}`
    })
  })

/** `UPDATE … SET … WHERE …` of many rows (SET values bound before the WHERE clause's). @internal */
export const updateWhere = (s: ModelStatements, sets: ReadonlyArray<string>, where: string): string =>
  `UPDATE ${s.table} SET ${sets.join(", ")}${where}`
