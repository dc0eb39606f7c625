/**
 * Records named by their keys — one field or several (a composite primary key, a composite
 * foreign key): a key's values in order, the key of a record, and the filters selecting the
 * records whose fields hold one of many keys, as few as the filter language's limits allow.
 * Include, relation links and nested writes share them. Pure: nothing here runs SQL.
 * (Internal module: not part of the public API.)
 */
import { limits } from "../../Filter.js"
import type { ModelDefinition } from "../model/definition.js"
import { isRecord } from "../model/validate.js"
import type { Row } from "./shared.js"

/** A value as text: equal values meet in a Map whatever their type. @internal */
export const valueText = (v: unknown) => `${typeof v}:${String(v)}\u0000`

/** A checked primary key's values in key order: `[id]`, or a composite key object's fields. @internal */
export const keyValues = (def: ModelDefinition, id: unknown): ReadonlyArray<unknown> =>
  def.compositeKey && isRecord(id) ? def.key.map((c) => id[c.field]) : [id]

/** A record's primary key as `read` takes it: the value, or on a composite key the object of its fields. @internal */
export const keyOfRecord = (def: ModelDefinition, record: Row): unknown =>
  def.compositeKey ? Object.fromEntries(def.key.map((c) => [c.field, record[c.field]])) : record[def.pk.field]

/** `fields` holding `values` (in order), as a filter's field conditions. @internal */
export const fieldsEqual = (fields: ReadonlyArray<string>, values: ReadonlyArray<unknown>): Row =>
  Object.fromEntries(fields.map((f, i) => [f, values[i]]))

/**
 * The filters that select the rows whose `fields` hold one of `keys`, as few as the filter's
 * limits allow: one key field is one `$in` (bound as one parameter when long); several are an
 * `$or` of the keys sharing all fields but the last, each with an `$in` of the last (the
 * editions of a page's books: one condition per book), split where the conditions would pass
 * half the filter's limit (the rest of the filter has the other half).
 * @internal
 */
export const keyFilters = (fields: ReadonlyArray<string>, keys: ReadonlyArray<ReadonlyArray<unknown>>): ReadonlyArray<Row> => {
  const filters: Array<Row> = []
  if (fields.length === 1) {
    const size = Math.floor(limits.list / 2)
    for (let i = 0; i < keys.length; i += size) filters.push({ [fields[0]!]: { $in: keys.slice(i, i + size).map((k) => k[0]) } })
    return filters
  }
  const last = fields.length - 1
  const groups = new Map<string, { readonly prefix: ReadonlyArray<unknown>; readonly values: Array<unknown> }>()
  for (const key of keys) {
    const prefix = key.slice(0, last)
    const id = prefix.map(valueText).join("")
    const group = groups.get(id)
    if (group === undefined) groups.set(id, { prefix, values: [key[last]] })
    else group.values.push(key[last])
  }
  const budget = Math.floor(limits.conditions / 2)
  let chunk: Array<Row> = []
  for (const { prefix, values } of groups.values()) {
    if ((chunk.length + 1) * fields.length > budget) {
      filters.push({ $or: chunk })
      chunk = []
    }
    chunk.push({
      ...fieldsEqual(fields, prefix),
      [fields[last]!]: values.length === 1 ? values[0] : { $in: values }
    })
  }
  if (chunk.length > 0) filters.push(chunk.length === 1 ? chunk[0]! : { $or: chunk })
  return filters
}
