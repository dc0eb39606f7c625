/**
 * The writes of a nested `update` to children it names (`nodes/nestedPlan.ts` plans them): a
 * has-one's child deleted, disconnected (its foreign key cleared) or updated; has-many children
 * disconnected or updated by key. Only children of this parent are touched: the parent's key is
 * in every filter, and a key that names none is a `NotFound` naming the relation. The child
 * model's own nodes do the writes, so its validation, stamping (version, `updatedAt`), soft
 * delete and tenancy apply. (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import { NotFound } from "../../Errors.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import type * as Delete from "./delete.js"
import { keyOfRecord } from "./keys.js"
import type { ChildWrite } from "./nestedPlan.js"
import { uniqueWhere } from "./nestedPlan.js"
import type * as Read from "./read.js"
import type { Row } from "./shared.js"
import { idOf, keyFieldsOf, keyText } from "./shared.js"
import type * as Update from "./update.js"

/** The child model's nodes these writes use. @internal */
export interface ChildNodes {
  readonly read: Read.ReadNodes<unknown>
  readonly update: Update.UpdateNodes<unknown>
  readonly remove: Delete.DeleteNodes<unknown>
}

/** A record's key as one text, from its id (a scalar, or a composite key's object). */
const idText = (def: ModelDefinition, id: unknown): string =>
  def.compositeKey ? keyText(keyFieldsOf(def).map((f) => (id as Row)[f])) : keyText([id])

/** A parent whose referenced key is null has no children: its `owned` filter (`fk IS NULL`) would match orphans. @internal */
export const orphan = (owned: Row): boolean => Object.values(owned).some((v) => v === null || v === undefined)

/**
 * The filter of the children `ids` of this parent (`owned`: the foreign key's values): each id
 * must name a live child of it, else a `NotFound` naming the relation.
 * @internal
 */
export const ownedByIds = (nodes: ChildNodes, def: ModelDefinition, rel: Relation, owned: Row, ids: ReadonlyArray<unknown>, operation: string) =>
  Effect.gen(function*() {
    const target = rel.target
    const distinct = [...new Map(ids.map((id) => [idText(target, id), id])).values()]
    const where = { ...(target.compositeKey ? { $or: distinct } : { [target.pk.field]: { $in: distinct } }), ...owned }
    const found = orphan(owned) ? [] : (yield* nodes.read.list({ where, select: keyFieldsOf(target) } as ListQuery<Row>)).records
    const have = new Set(found.map((r) => idText(target, keyOfRecord(target, r))))
    const missing = distinct.find((id) => !have.has(idText(target, id)))
    if (missing !== undefined) {
      return yield* new NotFound({ model: target.name, operation, id: idOf(missing), relation: `${def.name}.${rel.name}` })
    }
    return where
  })

/**
 * A has-one's child removed (`delete`: through the child's `bulkDelete`, soft if it soft-deletes;
 * `disconnect`: its foreign key cleared), has-many children disconnected by key, then children
 * updated by key through the child's own `update`. The children updated, in the order given.
 * @internal
 */
export const writeOwned = (nodes: ChildNodes, def: ModelDefinition, planned: ChildWrite, owned: Row, operation: string) =>
  Effect.gen(function*() {
    const rel = planned.relation
    const target = rel.target
    const relation = `${def.name}.${rel.name}`
    const cleared = Object.fromEntries(rel.targetFields.map((f) => [f, null]))
    // a has-one's child is named by its foreign key: the parent's key
    const parentKey = idOf(rel.targetFields.length === 1 ? owned[rel.targetFields[0]!] : owned)
    if (planned.remove === "delete") {
      const { deleted } = orphan(owned) ? { deleted: 0 } : yield* nodes.remove.bulkDelete(owned)
      if (deleted === 0) return yield* new NotFound({ model: target.name, operation, id: parentKey, relation })
    } else if (planned.remove === "disconnect" && !orphan(owned)) {
      yield* nodes.update.bulkUpdate(owned, cleared)
    }
    if (planned.relation.kind === "hasMany" && planned.disconnect.length > 0) {
      yield* nodes.update.bulkUpdate(yield* ownedByIds(nodes, def, rel, owned, planned.disconnect, operation), cleared)
    }
    const updated: Array<Row> = []
    for (const { data, where } of planned.update) {
      const filter = { ...(where === undefined ? {} : uniqueWhere(target, where)), ...owned }
      const found = orphan(owned) ? undefined : (yield* nodes.read.list({ where: filter, select: keyFieldsOf(target), limit: 1 } as ListQuery<Row>)).records[0]
      if (found === undefined) {
        return yield* new NotFound({ model: target.name, operation, id: where === undefined ? parentKey : idOf(where), relation })
      }
      updated.push(yield* nodes.update.update(keyOfRecord(target, found), data))
    }
    return updated
  })
