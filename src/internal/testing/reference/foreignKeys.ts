/**
 * The reference's foreign keys, as the databases enforce them after a write: a row written
 * whose key (every field set: a NULL refers to nothing; with the tenant when the target's key
 * includes it) names no stored row of the target — soft-deleted rows are rows — is a
 * `ForeignKeyViolation`; a deleted row (a hard delete: a soft delete is an update) or a
 * referenced key moved applies each referencing relation's `onDelete` / `onUpdate` (cascade,
 * setNull; restrict and noAction refuse), checked at the end of the statement. The
 * violation names what the dialect's error names (SQLite: nothing, but the fields of a model's
 * one foreign key). Nothing is written when anything is refused.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { ForeignKeyViolation } from "../../../Errors.js"
import type { Dialect } from "../../dialect/dialect.js"
import { mysql } from "../../dialect/mysql.js"
import { pg } from "../../dialect/pg.js"
import { sqlite } from "../../dialect/sqlite.js"
import type { ModelDefinition } from "../../model/definition.js"
import type { ForeignKey } from "../../model/relations.js"
import { declaredOf, foreignKeys } from "../../model/relations.js"
import { keyFieldsOf } from "../../nodes/shared.js"
import { foreignKeysOf, tenantKeyed } from "../../sql/foreignKeys.js"
import { uniqueKey } from "../equivalence.js"
import type { ReferenceDialect, ReferenceTable, Row } from "./types.js"

const dialects: Record<ReferenceDialect, Dialect> = { sqlite, pg, mysql }

/** A resolved foreign key of a source model, with the fields each side matches on. */
interface Key extends ForeignKey {
  readonly source: ModelDefinition
  /** The source's fields (the tenant first when the target's key includes it). */
  readonly from: ReadonlyArray<string>
  /** The target's fields they hold. */
  readonly to: ReadonlyArray<string>
}

const keysCache = new WeakMap<ModelDefinition, ReadonlyArray<Key>>()

/** A model's resolved foreign keys (none while a target does not resolve: first use fails on the database). @internal */
export const keysOf = (def: ModelDefinition): ReadonlyArray<Key> => {
  const cached = keysCache.get(def)
  if (cached !== undefined) return cached
  const resolved = foreignKeys(def, "reference")
  const keys = Either.isLeft(resolved) ? [] : resolved.right.map((fk): Key => {
    const withTenant = def.tenantScoped && tenantKeyed(fk.target, fk.references)
    return {
      ...fk,
      source: def,
      from: [...(withTenant ? ["tenantId"] : []), ...fk.fields],
      to: [...(withTenant ? ["tenantId"] : []), ...fk.references]
    }
  })
  keysCache.set(def, keys)
  return keys
}

/** A write's violation, named as the dialect's error names it. */
const violation = (
  dialect: ReferenceDialect,
  model: ModelDefinition,
  operation: string,
  key: Key,
  side: "write" | "delete"
): ForeignKeyViolation => {
  const base = { model: model.name, operation }
  if (dialect === "sqlite") {
    const sole = [...declaredOf(model)].filter(([, r]) => r.kind === "belongsTo")
    return side === "write" && sole.length === 1
      ? new ForeignKeyViolation({ ...base, columns: sole[0]![1].foreignKey, relation: sole[0]![0] })
      : new ForeignKeyViolation({ ...base, columns: [] })
  }
  const constraint = foreignKeysOf(key.source, dialects[dialect]).find((k) => k.relation === key.relation)!.name
  if (side === "write") return new ForeignKeyViolation({ ...base, constraint, columns: key.from, relation: key.relation })
  const relation = key.source === model ? key.relation : `${key.source.name}.${key.relation}`
  // PostgreSQL names the referenced key; MySQL the referencing columns (fields where the model has them)
  const columns = dialect === "pg"
    ? key.to
    : key.from.map((f) => key.source.byField.get(f)!.name).map((name) => model.columns.find((c) => c.name === name)?.field ?? name)
  return new ForeignKeyViolation({ ...base, constraint, columns, relation })
}

/** A table's rows while a write's referential actions run: copied on first change. */
interface Work {
  readonly table: ReferenceTable
  readonly rows: Map<string, Row>
  readonly byPk: (row: Row) => string
}

/** What a write did to a table: its rows removed (hard deletes) and rows moved (old, new). */
interface Change {
  readonly work: Work
  readonly removed: ReadonlyArray<Row>
  readonly moved: ReadonlyArray<readonly [Row, Row]>
}

/**
 * The foreign keys after a write of `table` from `before` to its stored rows: the referential
 * actions applied to the other tables (returned to be written), or the violation.
 * @internal
 */
export const enforce = (
  table: ReferenceTable,
  before: ReadonlyMap<string, Row>,
  after: Map<string, Row>,
  all: ReadonlyArray<ReferenceTable>,
  operation: string,
  dialect: ReferenceDialect
): Either.Either<ReadonlyArray<readonly [ReferenceTable, Map<string, Row>]>, ForeignKeyViolation> => {
  const def = table.definition
  const referring = all.flatMap((t) => keysOf(t.definition).map((k) => [t, k] as const))
  if (keysOf(def).length === 0 && !referring.some(([, k]) => k.target === def)) return Either.right([])
  const works = new Map<ReferenceTable, Work>()
  const pkOf = (d: ModelDefinition) => (row: Row) => uniqueKey(row, keyFieldsOf(d))!
  works.set(table, { table, rows: after, byPk: pkOf(def) })
  const workOf = (t: ReferenceTable): Work => {
    let w = works.get(t)
    if (w === undefined) {
      const rows = new Map<string, Row>()
      for (const row of t.stored()) rows.set(pkOf(t.definition)(row), row)
      works.set(t, w = { table: t, rows, byPk: pkOf(t.definition) })
    }
    return w
  }
  // the rows written (new, or with a foreign key moved) must each name a stored row
  const written: Array<readonly [Work, Row]> = []
  const first: { removed: Array<Row>; moved: Array<readonly [Row, Row]> } = { removed: [], moved: [] }
  for (const [k, row] of before) {
    const now = after.get(k)
    if (now === undefined) first.removed.push(row)
    else if (now !== row) first.moved.push([row, now])
  }
  for (const [k, row] of after) {
    const old = before.get(k)
    if (old === undefined || old !== row) written.push([works.get(table)!, row])
  }
  // restrict / noAction: checked once every action ran (the end of the statement)
  const refused: Array<readonly [Key, string]> = []
  const queue: Array<Change> = [{ work: works.get(table)!, ...first }]
  for (let change = queue.shift(); change !== undefined; change = queue.shift()) {
    const target = change.work.table.definition
    for (const [t, key] of referring) {
      if (key.target !== target) continue
      const gone = new Map<string, Row | undefined>()
      for (const row of change.removed) {
        const k = uniqueKey(row, key.to)
        if (k !== undefined) gone.set(k, undefined)
      }
      for (const [old, now] of change.moved) {
        const k = uniqueKey(old, key.to)
        if (k !== undefined && k !== uniqueKey(now, key.to)) gone.set(k, now)
      }
      if (gone.size === 0) continue
      const w = workOf(t)
      const removed: Array<Row> = []
      const moved: Array<readonly [Row, Row]> = []
      for (const row of [...w.rows.values()]) {
        const k = uniqueKey(row, key.from)
        if (k === undefined || !gone.has(k)) continue
        const to = gone.get(k)
        const action = to === undefined ? key.onDelete : key.onUpdate
        if (action === "cascade" && to === undefined) {
          w.rows.delete(w.byPk(row))
          removed.push(row)
        } else if (action === "cascade" || action === "setNull") {
          const next = { ...row }
          key.fields.forEach((f, i) => next[f] = action === "setNull" ? null : to![key.references[i]!])
          w.rows.set(w.byPk(row), next)
          moved.push([row, next])
        } else refused.push([key, k])
      }
      if (removed.length > 0 || moved.length > 0) queue.push({ work: w, removed, moved })
    }
  }
  const exists = (key: Key, k: string) => {
    const targetTable = all.find((t) => t.definition === key.target)
    if (targetTable === undefined) return true
    for (const row of workOf(targetTable).rows.values()) if (uniqueKey(row, key.to) === k) return true
    return false
  }
  for (const [key, k] of refused) {
    const w = workOf(all.find((t) => t.definition === key.source)!)
    const still = [...w.rows.values()].some((row) => uniqueKey(row, key.from) === k)
    if (still && !exists(key, k)) return Either.left(violation(dialect, def, operation, key, "delete"))
  }
  for (const [w, row] of written) {
    if (w.rows.get(w.byPk(row)) !== row) continue
    for (const key of keysOf(w.table.definition)) {
      const k = uniqueKey(row, key.from)
      if (k === undefined || !all.some((t) => t.definition === key.target)) continue
      if (!exists(key, k)) return Either.left(violation(dialect, def, operation, key, "write"))
    }
  }
  return Either.right([...works.values()].filter((w) => w.table !== table).map((w) => [w.table, w.rows] as const))
}
