/**
 * The reference's relations across its tables: the related rows a relation filter looks at
 * (live, the current tenant's; through the junction's live rows for a many-to-many), indexed
 * by key once per call, and the tables of related models (a model the reference was not given
 * is a defect naming it, never an empty answer).
 * (Internal module: not part of the public API.)
 */
import * as Data from "effect/Data"
import type { ModelDefinition } from "../../model/definition.js"
import { uniqueKey } from "../equivalence.js"
import type { RelatedRows } from "../query.js"
import type { ReferenceTable, Row, Tables } from "./types.js"

/** A relation whose model is not among the reference's models. @internal */
export class ReferenceModelMissing extends Data.TaggedError("ReferenceModelMissing")<{
  readonly model: string
  readonly relation: string
  readonly target: string
}> {
  override get message() {
    return `${this.model}.${this.relation} needs ${this.target}, which is not among the reference's models: ` +
      `list it in Testing.reference([…]) or Testing.layerReference([…])`
  }
}

/** The table of a related model: the defect {@link ReferenceModelMissing} when the reference has none. @internal */
export const relatedTable = (tables: Tables | undefined, source: ModelDefinition, relation: string, target: ModelDefinition): ReferenceTable => {
  const table = tables?.(target)
  if (table === undefined) throw new ReferenceModelMissing({ model: source.name, relation, target: target.name })
  return table
}

/** A row a call running as `tenant` sees: the tenant's, not soft-deleted. */
const live = (def: ModelDefinition, row: Row, tenant: string | undefined) =>
  (!def.tenantScoped || row.tenantId === tenant) && (!def.softDelete || (row.deletedAt ?? null) === null)

/**
 * The related rows of relation filters over the rows `rowsOf` gives for each model (stored rows
 * or records read back), as a call running as `tenant` sees them.
 * @internal
 */
export const relatedRows = (rowsOf: (def: ModelDefinition, relation: string, source: ModelDefinition) => Iterable<Row>, tenant: string | undefined): RelatedRows => {
  // per model and key fields: its live rows by the values of those fields
  const indexes = new Map<ModelDefinition, Map<string, ReadonlyMap<string, ReadonlyArray<Row>>>>()
  const index = (def: ModelDefinition, fields: ReadonlyArray<string>, relation: string, source: ModelDefinition) => {
    let byFields = indexes.get(def)
    if (byFields === undefined) indexes.set(def, byFields = new Map())
    const name = fields.join(",")
    const found = byFields.get(name)
    if (found !== undefined) return found
    const byKey = new Map<string, Array<Row>>()
    for (const row of rowsOf(def, relation, source)) {
      const key = uniqueKey(row, fields)
      if (key === undefined || !live(def, row, tenant)) continue
      const rows = byKey.get(key)
      if (rows === undefined) byKey.set(key, [row])
      else rows.push(row)
    }
    byFields.set(name, byKey)
    return byKey
  }
  return (rel, row) => {
    // positional keys: the source's fields meet the target's (or the junction's) in order
    const key = uniqueKey(row, rel.sourceFields)
    if (key === undefined) return []
    const through = rel.through
    if (through === undefined) return index(rel.target, rel.targetFields, rel.name, rel.source).get(key) ?? []
    const targets = index(rel.target, rel.targetFields, rel.name, rel.source)
    return (index(through.definition, through.sourceFields, rel.name, rel.source).get(key) ?? []).flatMap((link) => {
      const other = uniqueKey(link, through.targetFields)
      return other === undefined ? [] : targets.get(other) ?? []
    })
  }
}
