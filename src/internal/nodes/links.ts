/**
 * Many-to-many links: junction rows written and removed for a record and target records, each
 * side named by its primary key — one field, or several (a composite key, held by as many
 * fields of the junction). The junction's and the target's own nodes read and write, so their
 * validation, tenancy and soft delete apply; lists of keys go in as few statements as the
 * filter language's limits allow (`keys.ts`).
 * (Internal module: not part of the public API.)
 */
import type * as E from "effect/Effect"
import * as Effect from "effect/Effect"
import { ForeignKeyViolation } from "../../Errors.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import { context } from "../runtime/context.js"
import * as Create from "./create.js"
import * as Delete from "./delete.js"
import { fieldsEqual, keyFilters, keyOfRecord, keyValues } from "./keys.js"
import type { ChildWrite } from "./nestedPlan.js"
import * as Read from "./read.js"
import type { Row } from "./shared.js"
import { dieOn, keyText, orDieFilter } from "./shared.js"

interface JunctionNodes {
  readonly read: Read.ReadNodes<unknown>
  readonly create: Create.CreateNodes<unknown>
  readonly remove: Delete.DeleteNodes<unknown>
}

const made = new WeakMap<ModelDefinition, JunctionNodes>()
/** A junction's or target's plain nodes (what they require is theirs: `unknown` here, the public types add it). */
const nodesOf = (def: ModelDefinition): JunctionNodes => {
  let nodes = made.get(def)
  if (nodes === undefined) {
    made.set(def, nodes = { read: Read.make<unknown>(def), create: Create.make<unknown>(def), remove: Delete.make<unknown>(def) })
  }
  return nodes
}

/** Rows of `def` matching `where` and one of the filters of keys: one `list` per filter (one in practice). */
const listByKeys = (
  def: ModelDefinition,
  where: Row,
  fields: ReadonlyArray<string>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>,
  select?: ReadonlyArray<string>,
  includeDeleted = false
) =>
  Effect.map(
    Effect.forEach(keyFilters(fields, keys), (byKey) =>
      orDieFilter(nodesOf(def).read.list({
        where: { ...where, ...byKey },
        ...(select === undefined ? {} : { select }),
        ...(includeDeleted ? { includeDeleted } : {})
      } as ListQuery<Row>))),
    (pages) => pages.flatMap((p) => p.records)
  )

/** The junction rows of the record `key` (a checked primary key of the relation's source). */
const ofSource = (rel: Relation, key: unknown): Row => fieldsEqual(rel.through!.sourceFields, keyValues(rel.source, key))

/** Distinct target keys, by their values. */
const distinctKeys = (def: ModelDefinition, ids: ReadonlyArray<unknown>) => {
  const byText = new Map<string, ReadonlyArray<unknown>>()
  for (const id of ids) {
    const values = keyValues(def, id)
    byText.set(keyText(values), values)
  }
  return byText
}

/**
 * Links a record (`key`: its primary key) to existing target records through the junction:
 * every id must name a live target (else a `ForeignKeyViolation` naming the relation and the
 * junction's fields), links already there are kept. The targets, in the order of `ids`, and
 * how many links are new.
 * @internal
 */
export const link = (def: ModelDefinition, rel: Relation, key: unknown, ids: ReadonlyArray<unknown>, operation: string) =>
  Effect.gen(function*() {
    const through = rel.through!
    const distinct = distinctKeys(rel.target, ids)
    if (distinct.size === 0) return { records: [], connected: 0 }
    const keys = [...distinct.values()]
    const found = yield* listByKeys(rel.target, {}, rel.targetFields, keys)
    const targets = new Map(found.map((r) => [keyText(rel.targetFields.map((f) => r[f])), r]))
    if ([...distinct.keys()].some((text) => !targets.has(text))) {
      return yield* new ForeignKeyViolation({ model: def.name, operation, columns: through.targetFields, relation: rel.name })
    }
    const source = ofSource(rel, key)
    const junction = through.definition
    // on a soft-delete junction a link removed before is restored, not inserted again (its
    // row is still there, and would collide with a unique constraint on the pair)
    const soft = junction.softDelete
    const existing = yield* listByKeys(
      junction,
      source,
      through.targetFields,
      keys,
      soft ? [...new Set([...through.targetFields, ...junction.key.map((c) => c.field), "deletedAt"])] : through.targetFields,
      soft
    )
    const linked = new Set<string>()
    const removed = new Map<string, Row>()
    for (const r of existing) {
      const text = keyText(through.targetFields.map((f) => r[f]))
      if (r.deletedAt === null || r.deletedAt === undefined) linked.add(text)
      else removed.set(text, r)
    }
    const missing = [...distinct].filter(([text]) => !linked.has(text))
    const revived = missing.filter(([text]) => removed.has(text))
    for (const [text] of revived) {
      yield* dieOn("NotFound")(nodesOf(junction).remove.restore(keyOfRecord(junction, removed.get(text)!)))
    }
    const rows = missing.filter(([text]) => !removed.has(text)).map(([, values]) => ({
      ...source,
      ...fieldsEqual(through.targetFields, values)
    }))
    let skipped = 0
    if (rows.length > 0) {
      // with a unique constraint on the pair, a link a concurrent connect inserted meanwhile is skipped, not a UniqueViolation
      const pair = new Set([...through.sourceFields, ...through.targetFields])
      // (not on MySQL: its skipping insert takes locking reads, which concurrent connects of the
      // same pairs turned into long lock waits; there the second is a UniqueViolation, as documented)
      const ctx = yield* context<unknown>(junction, "connect")
      const unique = ctx.statements.dialect.name === "mysql"
        ? undefined
        : junction.uniqueSets.find((set) => set.length === pair.size && set.every((f) => pair.has(f)))
      const created = yield* dieOn("ConflictTargetError")(nodesOf(junction).create.bulkCreate(
        rows,
        unique === undefined ? {} : { onConflict: "skip", conflictOn: [...unique] }
      ))
      skipped = (created as { readonly skipped?: number }).skipped ?? 0
    }
    return { records: ids.map((id) => targets.get(keyText(keyValues(rel.target, id)))!), connected: missing.length - skipped }
  })

/**
 * Removes the links of a record (`key`) to the targets `ids` (deleted, or soft-deleted on a
 * soft-delete junction): how many there were.
 * @internal
 */
export const unlink = (rel: Relation, key: unknown, ids: ReadonlyArray<unknown>) => {
  const through = rel.through!
  const source = ofSource(rel, key)
  return Effect.map(
    Effect.forEach(
      keyFilters(through.targetFields, [...distinctKeys(rel.target, ids).values()]),
      (byKey) => dieOn("InvalidFilter", "UnsafeOperation")(nodesOf(through.definition).remove.bulkDelete({ ...source, ...byKey }))
    ),
    (results) => results.reduce((n, r) => n + r.deleted, 0)
  )
}

/** Removes the links of a record (`key`) to every target but `kept`. */
const unlinkOthers = (rel: Relation, key: unknown, kept: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const through = rel.through!
    const source = ofSource(rel, key)
    if (!rel.target.compositeKey) {
      const others = kept.length === 0 ? {} : { [through.targetFields[0]!]: { $nin: kept } }
      return yield* dieOn("InvalidFilter", "UnsafeOperation")(nodesOf(through.definition).remove.bulkDelete({ ...source, ...others }))
    }
    // several fields: no NOT IN of tuples in the filter language; the links read, the others removed
    const keep = new Set(distinctKeys(rel.target, kept).keys())
    const page = yield* orDieFilter(nodesOf(through.definition).read.list({ where: source, select: through.targetFields } as ListQuery<Row>))
    const others = page.records.map((r) => through.targetFields.map((f) => r[f])).filter((values) => !keep.has(keyText(values)))
    const targets = others.map((values) => fieldsEqual(rel.targetFields, values))
    return targets.length === 0 ? { deleted: 0 } : { deleted: yield* unlink(rel, key, targets) }
  })

/**
 * A many-to-many's nested writes once its record (`parent`) exists: the links replaced (`set`),
 * the targets created (by `create`, the target's nested create), then linked with those
 * connected, then `disconnect`. The targets created, then connected, in order.
 * @internal
 */
export const writeLinks = <Err, R>(
  def: ModelDefinition,
  parent: Row,
  planned: ChildWrite,
  operation: string,
  create: (child: Row) => E.Effect<Row, Err, R>
) =>
  Effect.gen(function*() {
    const rel = planned.relation
    const key = keyOfRecord(def, parent)
    if (planned.set !== undefined) yield* unlinkOthers(rel, key, planned.set)
    const created = yield* Effect.forEach(planned.create, create)
    const ids = [...created.map((r) => keyOfRecord(rel.target, r)), ...(planned.set ?? planned.connect)]
    const { records } = yield* link(def, rel, key, ids, operation)
    if (planned.disconnect.length > 0) yield* unlink(rel, key, planned.disconnect)
    return records
  })
