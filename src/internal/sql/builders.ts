/**
 * Every statement the nodes send, as pure functions of a model's statements and the shape of
 * the call: text and parameters, bound in text order (see `params.ts`). Texts that depend only
 * on a shape are made once and cached on the model's statements. Nothing here runs SQL;
 * `test/builders.test.ts` checks the text and parameter order of each, per dialect.
 * (Internal module: not part of the public API.)
 */
import { isArith } from "../model/arith.js"
import type { DialectColumn } from "./rows.js"
import type { Params, Plan } from "./params.js"
import { plan } from "./params.js"
import type { ModelStatements } from "./statements.js"

type Row = Record<string, unknown>

/** Most rows in one multi-row VALUES statement, whatever the parameter limit allows. */
const MAX_ROWS_PER_STATEMENT = 1000
/** Most cached texts per model, dialect and schema. */
const MAX_CACHED = 256

const cached = <A>(s: ModelStatements, key: string, make: () => A): A => {
  let value = s.cache.get(key) as A | undefined
  if (value === undefined) {
    value = make()
    if (s.cache.size < MAX_CACHED) s.cache.set(key, value)
  }
  return value
}

/**
 * A row addressed by its primary key (and the tenant, on tenant-scoped models): the key's
 * value, or on a composite key the object of its fields' values.
 * @internal
 */
export interface Key {
  readonly id: unknown
  readonly tenant: string | undefined
}

/**
 * `pk = ? [AND tenant_id = ?]`, or `a = ? AND b = ? [AND tenant_id = ?]` on a composite key:
 * the condition of every by-key statement (the branch is taken once, when the text is made).
 */
const byKey = <A extends Key>(s: ModelStatements, bind: (get: (a: A) => unknown) => string): string => {
  const key = s.key.length === 1
    ? `${s.pk.quoted} = ${bind((a) => s.pk.toDb(a.id))}`
    : s.key.map((c) => `${c.quoted} = ${bind((a) => c.toDb((a.id as Row)[c.column.field]))}`).join(" AND ")
  const tenant = s.tenantColumn
  return tenant === undefined ? key : `${key} AND ${tenant.quoted} = ${bind((a) => a.tenant)}`
}

/** `pk IN (…)`, or `(a, b) IN ((…), …)` on a composite key: the rows with these primary keys. */
const inPrimaryKeys = (s: ModelStatements, params: Params, ids: ReadonlyArray<unknown>): string =>
  s.key.length === 1
    ? `${s.pk.quoted} IN (${ids.map((id) => params.bind(s.pk.toDb(id))).join(", ")})`
    : inKeys(params, s.key, ids.map((id) => s.key.map((c) => (id as Row)[c.column.field])))

/**
 * The primary key in a select list: `pk AS alias`, or on a composite key each of its columns
 * as the model reads it (under its column name). {@link keyOfRow} reads it back.
 * @internal
 */
export const keyList = (s: ModelStatements, alias: string): string =>
  s.key.length === 1 ? `${s.pk.quoted} AS ${alias}` : s.key.map((c) => s.dialect.selectExpr(c.column)).join(", ")

/**
 * The primary key a row selected with {@link keyList} holds (`alias` unquoted), or the object
 * of a composite key's fields.
 * @internal
 */
export const keyOfRow = (s: ModelStatements, row: Row, alias: string): unknown => {
  if (s.key.length === 1) return s.pk.fromDb(row[alias])
  const key: Row = {}
  for (const c of s.key) key[c.column.field] = c.fromDb(row[c.column.name])
  return key
}

const returning = (s: ModelStatements) => (s.dialect.supportsReturning ? ` RETURNING ${s.selectList}` : "")

/** One row by key; soft-deleted rows only with `includeDeleted`. @internal */
export const selectById = (s: ModelStatements, includeDeleted: boolean): Plan<Key> =>
  cached(s, `selectById:${includeDeleted}`, () =>
    plan<Key>(s.dialect, (bind) => {
      const scope = includeDeleted || s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
      return `SELECT ${s.selectList} FROM ${s.table} WHERE ${byKey(s, bind)}${scope}`
    }))

/** The tenant's condition on tenant-scoped models (`""` elsewhere), bound where it is written. */
const tenantScope = (s: ModelStatements, params: Params, tenant: string | undefined): string =>
  s.tenantColumn === undefined ? "" : ` AND ${s.tenantColumn.quoted} = ${params.bind(tenant)}`

/** The tenant's rows with these keys (the caller chunks under the parameter limit). @internal */
export const selectByIds = (s: ModelStatements, params: Params, ids: ReadonlyArray<unknown>, tenant: string | undefined): string =>
  `SELECT ${s.selectList} FROM ${s.table} WHERE ${inPrimaryKeys(s, params, ids)}${tenantScope(s, params, tenant)}`

/** Rows a VALUES insert of `columns` takes in one statement, under the dialect's parameter limit. @internal */
export const rowsPerStatement = (s: ModelStatements, columns: number): number =>
  Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(s.dialect.maxParams / columns)))

/** `INSERT … VALUES (…), (…)` of `rows` rows of `columns`, values row after row. @internal */
export const insertValues = (
  s: ModelStatements,
  columns: ReadonlyArray<DialectColumn>,
  rows: number,
  withReturning: boolean,
  onConflict = ""
): string =>
  cached(s, `insert:${columns.map((c) => c.column.field).join(",")}:${rows}:${withReturning}:${onConflict}`, () => {
    if (columns.length === 0) {
      // a generated key alone: `() VALUES ()` is MySQL's; the others say DEFAULT VALUES
      return `${s.dialect.defaultsInsert(s.table, s.pk.quoted, rows)}${onConflict}${withReturning ? returning(s) : ""}`
    }
    let n = 0
    const tuple = () => `(${columns.map(() => s.dialect.placeholder(++n)).join(", ")})`
    const values: Array<string> = []
    for (let i = 0; i < rows; i++) values.push(tuple())
    return `INSERT INTO ${s.table} (${columns.map((c) => c.quoted).join(", ")}) VALUES ${values.join(", ")}${onConflict}${
      withReturning ? returning(s) : ""
    }`
  })

/** How many rows one bulk INSERT of `columns` takes: an array insert's, or a VALUES statement's. @internal */
export const rowsPerInsert = (s: ModelStatements, columns: number): number =>
  s.dialect.arrayInsert?.rows ?? rowsPerStatement(s, columns)

/**
 * A bulk INSERT of encoded rows (`values` row after row): multi-row VALUES, or where the dialect
 * binds arrays one array parameter per column (any number of rows in one statement).
 * @internal
 */
export const insertRows = (
  s: ModelStatements,
  columns: ReadonlyArray<DialectColumn>,
  values: ReadonlyArray<unknown>,
  rows: number,
  onConflict = ""
): { readonly text: string; readonly params: ReadonlyArray<unknown> } => {
  const arrayInsert = s.dialect.arrayInsert
  // no column to bind as an array (a generated key alone): a VALUES insert of defaults
  if (arrayInsert === undefined || columns.length === 0) {
    return { text: insertValues(s, columns, rows, false, onConflict), params: values }
  }
  const width = columns.length
  const arrays = columns.map((_, k) => {
    const column = new Array<unknown>(rows)
    for (let r = 0; r < rows; r++) column[r] = values[r * width + k]
    return column
  })
  const text = cached(
    s,
    `arrayInsert:${columns.map((c) => c.column.field).join(",")}:${onConflict}`,
    () => arrayInsert.text(s.table, columns.map((c) => ({ quoted: c.quoted, kind: c.column.kind }))) + onConflict
  )
  return { text, params: arrays }
}

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
const patchValue = (v: unknown): unknown => (isArith(v) ? v.operand : v)

/**
 * `(col IS NULL OR col BETWEEN lo AND hi)` for every arithmetically updated field: the current
 * values whose result stays in the column's range (`ranges`, bound per call).
 */
const rangeChecks = <A extends { readonly ranges?: Readonly<Record<string, readonly [unknown, unknown]>> | undefined }>(
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

/** `a = ? AND b = ? [AND tenant = ?]`: a row by the values of a unique key's fields. */
const byFields = <A extends { readonly key: ReadonlyArray<unknown>; readonly tenant: string | undefined }>(
  s: ModelStatements,
  fields: ReadonlyArray<string>,
  bind: (get: (a: A) => unknown) => string
): string => {
  const conditions = fields.map((f, i) => {
    const c = s.byField.get(f)!
    return `${c.quoted} = ${bind((a) => c.toDb(a.key[i]))}`
  })
  if (s.tenantColumn !== undefined) conditions.push(`${s.tenantColumn.quoted} = ${bind((a) => a.tenant)}`)
  return conditions.join(" AND ")
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

/** The primary key of the live row with these values of a unique key's fields, if any. @internal */
export const keyLookup = (
  s: ModelStatements,
  by: ReadonlyArray<string>
): Plan<{ readonly key: ReadonlyArray<unknown>; readonly tenant: string | undefined }> =>
  cached(s, `keyLookup:${by.join(",")}`, () =>
    plan(s.dialect, (bind) => {
      const scope = s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
      return `SELECT ${keyList(s, "id")} FROM ${s.table} WHERE ${byFields(s, by, bind)}${scope}`
    }))

/** Deletes one row by key. @internal */
export const deleteById = (s: ModelStatements): Plan<Key> =>
  cached(s, "deleteById", () => plan<Key>(s.dialect, (bind) => `DELETE FROM ${s.table} WHERE ${byKey(s, bind)}`))

/** @internal */
export interface StampArgs extends Key {
  readonly now: Date
}

/**
 * The SET items of a soft delete (`deletedAt` stamped) or a restore (`deletedAt` cleared): an
 * update like any other, so `updatedAt` and `version` move too.
 */
const deletionSets = (s: ModelStatements, deletedAt: string, bindNow: () => string) =>
  setList(s, ["deletedAt"], () => deletedAt, bindNow)

/** Soft-deletes one live row by key: stamps `deletedAt` (and `updatedAt`, `version`). @internal */
export const softDeleteById = (s: ModelStatements): Plan<StampArgs> =>
  cached(s, "softDeleteById", () =>
    plan<StampArgs>(s.dialect, (bind) => {
      const stamp = () => bind((a) => s.byField.get("deletedAt")!.toDb(a.now))
      const sets = deletionSets(s, stamp(), stamp)
      return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${byKey(s, bind)} AND ${s.notDeleted}`
    }))

/** Restores one soft-deleted row by key (`updatedAt` and `version` move as on any update). @internal */
export const restoreById = (s: ModelStatements): Plan<StampArgs> =>
  cached(s, "restoreById", () =>
    plan<StampArgs>(s.dialect, (bind) => {
      const sets = deletionSets(s, "NULL", () => bind((a) => s.byField.get("updatedAt")!.toDb(a.now)))
      return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${byKey(s, bind)} AND ${s.byField.get("deletedAt")!.quoted} IS NOT NULL`
    }))

/** `SELECT COUNT(*) AS n …` under a WHERE clause. @internal */
export const count = (s: ModelStatements, where: string): string => `SELECT COUNT(*) AS n FROM ${s.table}${where}`

/** A page: the columns, under a WHERE clause, in an order, limited and offset. @internal */
export const select = (
  s: ModelStatements,
  query: {
    readonly columns: ReadonlyArray<DialectColumn>
    readonly where: string
    readonly orderBy: string
    readonly limit: number | undefined
    readonly offset: number | undefined
    /**
     * Also the number of rows this WHERE clause matches (`__total`), counted by a subquery of
     * the same statement — the same snapshot as the page. Its parameters are bound where the
     * text has it, before the page's WHERE clause.
     */
    readonly total?: { readonly where: string } | undefined
  }
): string => {
  const list = query.columns === s.columns ? s.selectList : query.columns.map((c) => s.dialect.selectExpr(c.column)).join(", ")
  const total = query.total === undefined ? "" : `, (SELECT COUNT(*) FROM ${s.table}${query.total.where}) AS ${s.dialect.quote("__total")}`
  return `SELECT ${list}${total} FROM ${s.table}${query.where}${query.orderBy}${s.dialect.limitOffset(query.limit, query.offset)}`
}

/** Whether a row matches a WHERE clause: `SELECT 1 … LIMIT 1`. @internal */
export const exists = (s: ModelStatements, where: string): string =>
  `SELECT 1 AS found FROM ${s.table}${where}${s.dialect.limitOffset(1, undefined)}`

/** The live row with these values of a unique key's fields (`LIMIT 1`). @internal */
export const selectByKey = (
  s: ModelStatements,
  by: ReadonlyArray<string>,
  includeDeleted: boolean
): Plan<{ readonly key: ReadonlyArray<unknown>; readonly tenant: string | undefined }> =>
  cached(s, `selectByKey:${by.join(",")}:${includeDeleted}`, () =>
    plan(s.dialect, (bind) => {
      const scope = includeDeleted || s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
      return `SELECT ${s.selectList} FROM ${s.table} WHERE ${byFields(s, by, bind)}${scope}${s.dialect.limitOffset(1, undefined)}`
    }))

/** `UPDATE … SET … WHERE …` of many rows (SET values bound before the WHERE clause's). @internal */
export const updateWhere = (s: ModelStatements, sets: ReadonlyArray<string>, where: string): string =>
  `UPDATE ${s.table} SET ${sets.join(", ")}${where}`

/** `DELETE … WHERE …` of many rows. @internal */
export const deleteWhere = (s: ModelStatements, where: string): string => `DELETE FROM ${s.table}${where}`

/**
 * Soft-deletes many rows: stamps `deletedAt` (and `updatedAt`, `version`), `now` bound before
 * the WHERE clause's values — the caller binds the WHERE clause after this.
 * @internal
 */
export const softDeleteSets = (s: ModelStatements, params: Params, now: Date): ReadonlyArray<string> => {
  const stamp = () => params.bind(s.byField.get("deletedAt")!.toDb(now))
  return deletionSets(s, stamp(), stamp)
}

const insertedFlag = (s: ModelStatements): string => {
  const flag = s.dialect.upsertInsertedFlag
  if (flag === undefined) throw new TypeError(`effect-dataflow: ${s.dialect.name} cannot say which rows an upsert inserted`)
  return flag
}

/** The conflict columns of an upsert on `fields`: per tenant on tenant-scoped models. @internal */
export const conflictColumns = (s: ModelStatements, fields: ReadonlyArray<string>): ReadonlyArray<DialectColumn> =>
  (s.tenantColumn === undefined ? fields : ["tenantId", ...fields]).map((f) => s.byField.get(f)!)

/**
 * One row's upsert where the database says whether it inserted (PostgreSQL): INSERT the record,
 * on conflict apply the patch (and the managed update fields), RETURNING the row and the flag
 * as `__created`.
 * @internal
 */
export const upsertReturningFlag = (
  s: ModelStatements,
  params: Params,
  input: {
    readonly columns: ReadonlyArray<DialectColumn>
    readonly record: Row
    readonly conflict: ReadonlyArray<DialectColumn>
    readonly patch: Row
    readonly now: Date
  }
): string => {
  const { dialect } = s
  const values = input.columns.map((c) => params.bind(c.toDb(input.record[c.column.field])))
  const sets = setList(
    s,
    Object.keys(input.patch),
    (k) => params.bind(s.byField.get(k)!.toDb(input.patch[k])),
    () => params.bind(s.byField.get("updatedAt")!.toDb(input.now))
  )
  const conflict = input.conflict.map((c) => c.quoted)
  // RETURNING needs a row also when there is nothing to change: a no-op assignment
  if (sets.length === 0) sets.push(`${conflict[0]} = ${dialect.inserted(conflict[0]!)}`)
  return `INSERT INTO ${s.table} (${input.columns.map((c) => c.quoted).join(", ")}) VALUES (${values.join(", ")})${
    dialect.onConflictUpdate(conflict, sets)
  } RETURNING ${s.selectList}, ${insertedFlag(s)} AS "__created"`
}

/**
 * The read that starts an upsert without the flag: the key (and deletion stamp) of the row
 * matching `where`, locked until the transaction ends.
 * @internal
 */
export const lockingLookup = (s: ModelStatements, where: string): string => {
  const deletedAt = s.byField.get("deletedAt")
  return `SELECT ${keyList(s, "id")}${deletedAt === undefined ? "" : `, ${deletedAt.quoted} AS deleted`} FROM ${s.table}${where}${
    s.dialect.limitOffset(1, undefined)
  }${s.dialect.lockingRead}`
}

/**
 * Brings the tenant's soft-deleted row back as `record`, a new record under the old key: every
 * column takes the record's value (NULL where it has none), `createdAt` and `version` start again.
 * @internal
 */
export const revive = (s: ModelStatements, params: Params, key: Key, record: Row): string => {
  const sets = s.columns.filter((c) => !s.key.includes(c)).map((c) =>
    c.column.field in record ? `${c.quoted} = ${params.bind(c.toDb(record[c.column.field]))}` : `${c.quoted} = NULL`
  )
  return `UPDATE ${s.table} SET ${sets.join(", ")} WHERE ${byKey<Key>(s, (get) => params.bind(get(key)))}`
}

/** `(a, b) IN ((?, ?), …)`, or `a IN (?, …)` for one column: rows with one of these keys. */
const inKeys = (params: Params, conflict: ReadonlyArray<DialectColumn>, keys: ReadonlyArray<ReadonlyArray<unknown>>) => {
  const lhs = conflict.length === 1 ? conflict[0]!.quoted : `(${conflict.map((c) => c.quoted).join(", ")})`
  const tuples = keys.map((key) => {
    const marks = conflict.map((c, k) => params.bind(c.toDb(key[k])))
    return conflict.length === 1 ? marks[0]! : `(${marks.join(", ")})`
  })
  return `${lhs} IN (${tuples.join(", ")})`
}

/**
 * The clause that leaves out rows conflicting on `conflict` (or on any unique constraint when
 * undefined), where the dialect has one; undefined where the rows must be checked first.
 * @internal
 */
export const skipConflicts = (s: ModelStatements, conflict: ReadonlyArray<DialectColumn> | undefined): string | undefined =>
  s.dialect.onConflictSkip?.(conflict?.map((c) => c.quoted))

/**
 * The values of `conflict` of every row (live or soft-deleted: both hold their keys) among
 * `keys`, locked until the transaction ends: which rows of an insert that skips conflicts
 * would conflict, where the database cannot leave them out itself. Each column is read as the
 * model reads it (aliased to its column name).
 * @internal
 */
export const conflictingKeys = (
  s: ModelStatements,
  params: Params,
  conflict: ReadonlyArray<DialectColumn>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>
): string => {
  const keyIn = inKeys(params, conflict, keys)
  const list = conflict.map((c) => s.dialect.selectExpr(c.column)).join(", ")
  return `SELECT ${list} FROM ${s.table} WHERE ${keyIn}${s.dialect.lockingRead}`
}

/** The rows with these values of `conflict` (the caller chunks under the parameter limit). @internal */
export const selectByKeys = (
  s: ModelStatements,
  params: Params,
  conflict: ReadonlyArray<DialectColumn>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>
): string => `SELECT ${s.selectList} FROM ${s.table} WHERE ${inKeys(params, conflict, keys)}`

/**
 * The keys of the live rows among `keys` (values of `conflict`, in order), locked: how many
 * rows of a bulk upsert already exist, where the database cannot say.
 * @internal
 */
export const existingKeys = (
  s: ModelStatements,
  params: Params,
  conflict: ReadonlyArray<DialectColumn>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>
): string => {
  const keyIn = inKeys(params, conflict, keys)
  const live = s.notDeleted === undefined ? "" : ` AND ${s.notDeleted}`
  return `SELECT ${s.pk.quoted} AS k FROM ${s.table} WHERE ${keyIn}${live}${s.dialect.lockingRead}`
}

/**
 * A bulk upsert of encoded rows: the bulk INSERT, and on conflict every column but the keys,
 * the primary key and `createdAt` takes the new value (a soft-deleted row comes back to life),
 * `version` + 1. With `flag`, RETURNING says which rows were inserted (`__created`).
 * @internal
 */
export const upsertRows = (
  s: ModelStatements,
  input: {
    readonly columns: ReadonlyArray<DialectColumn>
    readonly values: ReadonlyArray<unknown>
    readonly rows: number
    readonly conflict: ReadonlyArray<DialectColumn>
    readonly flag: boolean
  }
): { readonly text: string; readonly params: ReadonlyArray<unknown> } => {
  const { dialect } = s
  const insert = insertRows(s, input.columns, input.values, input.rows)
  const clause = cached(s, `onConflict:${input.conflict.map((c) => c.column.field).join(",")}:${input.flag}`, () => {
    const conflict = input.conflict.map((c) => c.quoted)
    const createdAt = s.byField.get("createdAt")
    const version = s.byField.get("version")
    const deletedAt = s.byField.get("deletedAt")
    // a live row keeps its createdAt and counts one more version; a soft-deleted one comes back
    // as a new record (as `upsert` revives it): the new createdAt, version 1. These come first:
    // MySQL evaluates the assignments in order, and deletedAt is cleared further on
    const live = deletedAt === undefined ? undefined : `${s.table}.${deletedAt.quoted} IS NULL`
    const sets: Array<string> = []
    const nextVersion = version === undefined ? undefined : `${s.table}.${version.quoted} + 1`
    if (live !== undefined) {
      if (createdAt !== undefined) {
        sets.push(`${createdAt.quoted} = CASE WHEN ${live} THEN ${s.table}.${createdAt.quoted} ELSE ${dialect.inserted(createdAt.quoted)} END`)
      }
      if (version !== undefined) {
        sets.push(`${version.quoted} = CASE WHEN ${live} THEN ${nextVersion} ELSE ${dialect.inserted(version.quoted)} END`)
      }
    }
    for (const c of s.columns) {
      if (input.conflict.includes(c) || s.key.includes(c) || c === createdAt || c === version) continue
      sets.push(`${c.quoted} = ${dialect.inserted(c.quoted)}`)
    }
    if (live === undefined && version !== undefined) sets.push(`${version.quoted} = ${nextVersion}`)
    if (sets.length === 0) sets.push(`${conflict[0]} = ${dialect.inserted(conflict[0]!)}`)
    return `${dialect.onConflictUpdate(conflict, sets)}${input.flag ? ` RETURNING ${insertedFlag(s)} AS "__created"` : ""}`
  })
  return { text: insert.text + clause, params: insert.params }
}
