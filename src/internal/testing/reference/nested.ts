/**
 * The reference's nested writes: `create` / `update` with writes of the record's relations —
 * belongs-to records created, found or cleared before the record; has-many / has-one children
 * created with their foreign key (in `update` also deleted, updated or disconnected by key,
 * deleted or updated by a filter; a has-one's child updated, deleted or disconnected);
 * many-to-many targets created and linked through the junction, links replaced and removed —
 * and `connect` / `disconnect` of many-to-many links. A call spans the tables of
 * every model it touches and is all or nothing. The input is checked by the nodes' own plan
 * (`nodes/nestedPlan.ts`), so a bad shape is the same `ValidationError`; every write is the
 * reference's own call on its model's table, so that model's validation, stamping, tenancy
 * and soft delete apply.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { ForeignKeyViolation, NotFound } from "../../../Errors.js"
import type { ModelDefinition } from "../../model/definition.js"
import type { Relation } from "../../model/relations.js"
import { declaredOf } from "../../model/relations.js"
import { checkId, isRecord } from "../../model/validate.js"
import { checkIds, manyToManyOf } from "../../nodes/nested.js"
import type { ChildWrite, ParentWrite, Plan } from "../../nodes/nestedPlan.js"
import { split, uniqueWhere } from "../../nodes/nestedPlan.js"
import { idOf, keyFieldsOf, keyText } from "../../nodes/shared.js"
import type { Call, Env, ListCall, Outcome, ReferenceError, ReferenceTable, Row } from "./types.js"
import { failure, success } from "./types.js"

type Step<A> = Either.Either<A, ReferenceError>

/** The reference's tables, one per model (the reference layer's store). @internal */
export interface Tables {
  readonly tableOf: (def: ModelDefinition) => ReferenceTable
  readonly tables: () => ReadonlyArray<ReferenceTable>
}

/** A call on a model's table. */
type Run = (def: ModelDefinition, call: Call) => Step<unknown>

type Operation = "create" | "update"

const recordsOf = (run: Run, def: ModelDefinition, query: ListCall): Step<ReadonlyArray<Row>> =>
  Either.map(run(def, { node: "list", query }), (page) => (page as { readonly records: ReadonlyArray<Row> }).records)

/** Does a create input / update patch name a relation of the model (else: the plain node)? */
const namesRelation = (def: ModelDefinition, input: unknown): boolean => {
  if (!isRecord(input)) return false
  return [...declaredOf(def).keys()].some((name) => input[name] !== undefined)
}

/**
 * Links the record `key` to the targets `ids` through the junction: each must be a visible
 * target (else a `ForeignKeyViolation` naming the relation and the junction's field); links
 * there already are kept. The targets in the order of `ids`, and how many links were added.
 */
const link = (run: Run, def: ModelDefinition, rel: Relation, key: unknown, ids: ReadonlyArray<unknown>, operation: string) =>
  Either.gen(function*() {
    const through = rel.through!
    const [sourceField, targetField] = [through.sourceFields[0]!, through.targetFields[0]!]
    const distinct = [...new Map(ids.map((id) => [keyText([id]), id])).values()]
    if (distinct.length === 0) return { records: [], connected: 0 }
    const pk = rel.target.pk.field
    const found = yield* recordsOf(run, rel.target, { where: { [pk]: { $in: distinct } } })
    const targets = new Map(found.map((r) => [keyText([r[pk]]), r]))
    if (distinct.some((id) => !targets.has(keyText([id])))) {
      return yield* Either.left(new ForeignKeyViolation({ model: def.name, operation, columns: [targetField], relation: rel.name }))
    }
    const existing = yield* recordsOf(run, through.definition, {
      where: { [sourceField]: key, [targetField]: { $in: distinct } },
      select: [targetField]
    })
    const linked = new Set(existing.map((r) => keyText([r[targetField]])))
    const rows = distinct.filter((id) => !linked.has(keyText([id]))).map((id) => ({ [sourceField]: key, [targetField]: id }))
    if (rows.length > 0) yield* run(through.definition, { node: "bulkCreate", rows })
    return { records: ids.map((id) => targets.get(keyText([id]))!), connected: rows.length }
  })

/** Removes the record `key`'s links to the targets `ids`: how many there were. */
const unlink = (run: Run, rel: Relation, key: unknown, ids: ReadonlyArray<unknown>): Step<number> => {
  const through = rel.through!
  const where = { [through.sourceFields[0]!]: key, [through.targetFields[0]!]: { $in: ids } }
  return Either.map(run(through.definition, { node: "bulkDelete", where }), (r) => (r as { readonly deleted: number }).deleted)
}

/**
 * A belongs-to's write before its record: the referenced record found (`connect`; none is a
 * `NotFound` naming the relation, unless `connectOrCreate` creates it), created, or the key
 * cleared. The foreign key's values and the record.
 */
const writeParent = (run: Run, def: ModelDefinition, write: ParentWrite, operation: Operation) =>
  Either.gen(function*() {
    const rel = write.relation
    if (write.disconnect) return { keys: Object.fromEntries(rel.sourceFields.map((f) => [f, null])), record: null }
    const found = write.connect === undefined
      ? undefined
      : (yield* recordsOf(run, rel.target, { where: uniqueWhere(rel.target, write.connect), limit: 1 }))[0]
    // a connect naming no record (connectOrCreate creates it instead)
    if (found === undefined && write.create === undefined) {
      return yield* Either.left(
        new NotFound({ model: rel.target.name, operation, id: idOf(write.connect), relation: `${def.name}.${rel.name}` })
      )
    }
    const record = found ?? (yield* createNested(run, rel.target, write.create))
    return { keys: Object.fromEntries(rel.sourceFields.map((f, i) => [f, record[rel.targetFields[i]!]])), record }
  })

/** A record's key as one text (a scalar id, or a composite key's object). */
const idText = (def: ModelDefinition, id: unknown): string =>
  def.compositeKey && isRecord(id) ? keyText(def.key.map((c) => id[c.field])) : keyText([id])

/** What the child model's `update` takes for one of its records: the id, or the composite key's object. */
const keyOfRecord = (def: ModelDefinition, record: Row): unknown =>
  def.compositeKey ? Object.fromEntries(keyFieldsOf(def).map((f) => [f, record[f]])) : record[def.pk.field]

/** A parent whose referenced key is NULL has no children (the rows whose foreign key is NULL are nobody's). */
const orphan = (owned: Row): boolean => Object.values(owned).some((v) => v === null || v === undefined)

/** The filter of the children `ids` of the parent (`owned`): each must be a live child of it, else `NotFound` naming the relation. */
const ownedByIds = (run: Run, def: ModelDefinition, rel: Relation, owned: Row, ids: ReadonlyArray<unknown>, operation: Operation) =>
  Either.gen(function*() {
    const target = rel.target
    const distinct = [...new Map(ids.map((id) => [idText(target, id), id])).values()]
    const where = { ...(target.compositeKey ? { $or: distinct } : { [target.pk.field]: { $in: distinct } }), ...owned }
    const found = orphan(owned) ? [] : yield* recordsOf(run, target, { where })
    const have = new Set(found.map((r) => idText(target, keyOfRecord(target, r))))
    const missing = distinct.find((id) => !have.has(idText(target, id)))
    if (missing !== undefined) {
      return yield* Either.left(new NotFound({ model: target.name, operation, id: idOf(missing), relation: `${def.name}.${rel.name}` }))
    }
    return where
  })

/**
 * The writes to children the update names: a has-one's child deleted or disconnected (its
 * foreign key cleared), has-many children disconnected by key, then children updated by key
 * (a has-one's: the parent's child) through the child model's own `update`. The children
 * updated, in order.
 */
const writeOwned = (run: Run, def: ModelDefinition, planned: ChildWrite, owned: Row, operation: Operation) =>
  Either.gen(function*() {
    const rel = planned.relation
    const target = rel.target
    const relation = `${def.name}.${rel.name}`
    const cleared = Object.fromEntries(rel.targetFields.map((f) => [f, null]))
    // a has-one's child is named by its foreign key: the parent's key
    const parentKey = idOf(rel.targetFields.length === 1 ? owned[rel.targetFields[0]!] : owned)
    const none = orphan(owned)
    if (planned.remove === "delete") {
      const deleted = none ? 0 : ((yield* run(target, { node: "bulkDelete", where: owned })) as { readonly deleted: number }).deleted
      if (deleted === 0) return yield* Either.left(new NotFound({ model: target.name, operation, id: parentKey, relation }))
    } else if (planned.remove === "disconnect" && !none) {
      yield* run(target, { node: "bulkUpdate", where: owned, patch: cleared })
    }
    if (rel.kind === "hasMany" && planned.disconnect.length > 0) {
      const where = yield* ownedByIds(run, def, rel, owned, planned.disconnect, operation)
      yield* run(target, { node: "bulkUpdate", where, patch: cleared })
    }
    const updated: Array<Row> = []
    for (const { data, where } of planned.update) {
      const filter = { ...(where === undefined ? {} : uniqueWhere(target, where)), ...owned }
      const found = none ? undefined : (yield* recordsOf(run, target, { where: filter, limit: 1 }))[0]
      if (found === undefined) {
        return yield* Either.left(new NotFound({ model: target.name, operation, id: where === undefined ? parentKey : idOf(where), relation }))
      }
      updated.push((yield* run(target, { node: "update", id: keyOfRecord(target, found), patch: data })) as Row)
    }
    return updated
  })

/**
 * One relation's writes once its record (`parent`) is written: children deleted, deleted and
 * updated by filter, removed, disconnected and updated by key, then created (has-many /
 * has-one, their foreign key set); links replaced, targets created, linked, then unlinked
 * (many-to-many). What was updated, created or linked.
 */
const writeChildren = (run: Run, def: ModelDefinition, parent: Row, planned: ChildWrite, operation: Operation) =>
  Either.gen(function*() {
    const rel = planned.relation
    const target = rel.target
    if (rel.through === undefined) {
      const owned = Object.fromEntries(rel.targetFields.map((f, i) => [f, parent[rel.sourceFields[i]!]]))
      if (planned.delete.length > 0) {
        yield* run(target, { node: "bulkDelete", where: yield* ownedByIds(run, def, rel, owned, planned.delete, operation) })
      }
      if (planned.deleteMany !== undefined) yield* run(target, { node: "bulkDelete", where: { ...planned.deleteMany, ...owned } })
      if (planned.updateMany !== undefined) {
        const { data, where } = planned.updateMany
        yield* run(target, { node: "bulkUpdate", where: { ...where, ...owned }, patch: data })
      }
      const written = [...yield* writeOwned(run, def, planned, owned, operation)]
      for (const child of planned.create) written.push(yield* createNested(run, target, { ...child, ...owned }))
      return written
    }
    const key = parent[def.pk.field]
    if (planned.set !== undefined) {
      const through = rel.through
      const kept = planned.set.length === 0 ? {} : { [through.targetFields[0]!]: { $nin: planned.set } }
      yield* run(through.definition, { node: "bulkDelete", where: { [through.sourceFields[0]!]: key, ...kept } })
    }
    const created: Array<Row> = []
    for (const child of planned.create) created.push(yield* createNested(run, target, child))
    const ids = [...created.map((r) => r[target.pk.field]), ...(planned.set ?? planned.connect)]
    const { records } = yield* link(run, def, rel, key, ids, operation)
    if (planned.disconnect.length > 0) yield* unlink(run, rel, key, planned.disconnect)
    return records
  })

/**
 * The belongs-to writes (giving the record its foreign keys), the record written with them
 * (`write`), then every other relation's writes: the record with what each wrote under its name.
 */
const withNested = (run: Run, def: ModelDefinition, plan: Plan, operation: Operation, write: (own: Row) => Step<unknown>) =>
  Either.gen(function*() {
    const own: Row = { ...plan.own }
    const related: Row = {}
    for (const parent of plan.parents) {
      const { keys, record } = yield* writeParent(run, def, parent, operation)
      Object.assign(own, keys)
      related[parent.relation.name] = record
    }
    const record = (yield* write(own)) as Row
    const out: Row = { ...record, ...related }
    for (const planned of plan.children) {
      const records = yield* writeChildren(run, def, record, planned, operation)
      out[planned.relation.name] = planned.relation.kind === "hasOne" ? records[0] ?? null : records
    }
    return out
  })

/** A create, with nested writes when its input names a relation. */
const createNested = (run: Run, def: ModelDefinition, input: unknown): Step<Row> => {
  if (!namesRelation(def, input)) return run(def, { node: "create", input }) as Step<Row>
  return Either.flatMap(split(def, input as Row, "create"), (plan) => withNested(run, def, plan, "create", (own) => run(def, { node: "create", input: own })))
}

/** An update whose patch names a relation: the record's own fields updated (or, with none, the record read), then the relations' writes. */
const updateNested = (run: Run, def: ModelDefinition, id: unknown, patch: Row, expectedVersion: unknown): Step<Row> =>
  Either.gen(function*() {
    const plan = yield* split(def, patch, "update")
    const bad = checkId(def, id, "update")
    if (bad !== undefined) return yield* Either.left(bad)
    const versioned = expectedVersion === undefined ? {} : { expectedVersion }
    return yield* withNested(run, def, plan, "update", (own) =>
      Object.keys(own).length > 0 ? run(def, { node: "update", id, patch: own, ...versioned }) : run(def, { node: "read", id }))
  })

/** A `connect` / `disconnect` call's relation and ids, checked as the nodes check them. */
const linkArgs = (def: ModelDefinition, operation: "connect" | "disconnect", name: unknown, id: unknown, ids: unknown) =>
  Either.flatMap(manyToManyOf(def, name, operation), (rel) => {
    const bad = checkId(def, id, operation) ?? checkIds(def, rel, ids, operation)
    return bad === undefined ? Either.right({ rel, ids: ids as ReadonlyArray<unknown> }) : Either.left(bad)
  })

/** Runs `work` on the tables all or nothing: when it fails, every table is put back as it was. */
const atomically = <A>(tables: Tables, env: Env, work: (run: Run) => Step<A>): Step<A> => {
  const saved = new Map(tables.tables().map((t) => [t, t.snapshot()]))
  const run: Run = (def, call) => {
    const outcome = tables.tableOf(def).execute(call, env)
    return outcome._tag === "Success" ? Either.right(outcome.value) : Either.left(outcome.error)
  }
  const result = work(run)
  if (Either.isLeft(result)) {
    for (const table of tables.tables()) {
      const snapshot = saved.get(table)
      if (snapshot === undefined) table.clear()
      else table.restore(snapshot)
    }
  }
  return result
}

/** How a nested write runs on the reference's tables. @internal */
export type NestedWrite = (tables: Tables, env: Env) => Step<unknown>

/**
 * A node call that is a nested write — `create` / `update` naming a relation, `connect`,
 * `disconnect` — as the work it does on the tables; `undefined` for any other call (the
 * plain node's). An `update` whose options are not an object is left to the plain node's check.
 * @internal
 */
export const nestedWrite = (def: ModelDefinition, node: string, args: ReadonlyArray<unknown>): NestedWrite | undefined => {
  const [a, b, c] = args
  switch (node) {
    case "create":
      return namesRelation(def, a) ? (tables, env) => atomically(tables, env, (run) => createNested(run, def, a)) : undefined
    case "update": {
      if (!namesRelation(def, b) || (c !== undefined && !isRecord(c))) return undefined
      return (tables, env) => atomically(tables, env, (run) => updateNested(run, def, a, b as Row, (c as Row | undefined)?.expectedVersion))
    }
    case "connect":
      return (tables, env) =>
        Either.flatMap(linkArgs(def, "connect", a, b, c), ({ ids, rel }) =>
          atomically(tables, env, (run) =>
            Either.gen(function*() {
              yield* run(def, { node: "read", id: b })
              const { connected } = yield* link(run, def, rel, b, ids, "connect")
              return { connected }
            })))
    case "disconnect":
      return (tables, env) =>
        Either.flatMap(linkArgs(def, "disconnect", a, b, c), ({ ids, rel }) =>
          ids.length === 0
            ? Either.right({ disconnected: 0 })
            : atomically(tables, env, (run) => Either.map(unlink(run, rel, b, ids), (disconnected) => ({ disconnected }))))
    default:
      return undefined
  }
}

/**
 * Runs a reference call on the tables: a `create` / `update` naming a relation as a nested
 * write, any other on its model's table.
 * @internal
 */
export const execute = (tables: Tables, def: ModelDefinition, call: Call, env: Env): Outcome => {
  const nested = call.node === "create"
    ? nestedWrite(def, "create", [call.input])
    : call.node === "update"
    ? nestedWrite(def, "update", [call.id, call.patch, call.expectedVersion === undefined ? undefined : { expectedVersion: call.expectedVersion }])
    : undefined
  if (nested === undefined) return tables.tableOf(def).execute(call, env)
  return Either.match(nested(tables, env), { onLeft: failure, onRight: success })
}
