/**
 * The reference's `include`: the related records of a page read from the related models'
 * tables through their own `list` (so their tenancy, soft delete, `where`, `orderBy`,
 * `select`, `includeDeleted` and nested `include` apply), routed to the parents by key — a
 * NULL in a key relates nothing — a many-to-many through the junction's live rows. Each
 * parent's related records come in the relation's order (`orderBy`, then the related
 * model's primary key); has-many and many-to-many keep `limit` of them, belongs-to and
 * has-one the first or `null`. The include is checked by the node's own check.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import type { ModelDefinition } from "../../model/definition.js"
import type { Planned } from "../../nodes/include.js"
import { plan } from "../../nodes/include.js"
import { uniqueKey } from "../equivalence.js"
import { relatedTable } from "./related.js"
import type { State } from "./state.js"
import type { ListCall, ReferenceError, Row } from "./types.js"

type Routed = Either.Either<ReadonlyMap<string, ReadonlyArray<Row>>, ReferenceError>

/** The distinct keys of `fields` in some records (a record with a NULL in its key has none). */
const keysOf = (records: ReadonlyArray<Row>, fields: ReadonlyArray<string>): ReadonlySet<string> => {
  const keys = new Set<string>()
  for (const r of records) {
    const key = uniqueKey(r, fields)
    if (key !== undefined) keys.add(key)
  }
  return keys
}

const push = <A>(map: Map<string, Array<A>>, key: string, value: A) => {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

/** The records of a related model's `list`, in its order, those whose `fields` hold one of `keys`. */
const listed = (
  s: State,
  planned: Planned,
  target: ModelDefinition,
  query: ListCall,
  fields: ReadonlyArray<string>,
  keys: ReadonlySet<string>
): Either.Either<ReadonlyArray<Row>, ReferenceError> => {
  const outcome = relatedTable(s.tables, s.def, planned.relation.name, target).execute({ node: "list", query }, s.env)
  if (outcome._tag === "Failure") return Either.left(outcome.error)
  const records = (outcome.value as { readonly records: ReadonlyArray<Row> }).records
  return Either.right(records.filter((r) => keys.has(uniqueKey(r, fields) ?? "")))
}

/**
 * The relation's own list query. The node reads `{ $and: [where, keys] }`: the relation's
 * `where` one level down, as deep as the filter's limit counts it. Its `select` reads the
 * target's key too (`strip` drops it again).
 */
const relatedQuery = ({ options, relation }: Planned) => {
  const select = options.select === undefined ? undefined : [...new Set([...options.select, ...relation.targetFields])]
  const query: ListCall = {
    ...(options.where === undefined ? {} : { where: { $and: [options.where] } }),
    ...(options.orderBy === undefined ? {} : { orderBy: options.orderBy }),
    ...(select === undefined ? {} : { select }),
    ...(options.include === undefined ? {} : { include: options.include }),
    ...(options.includeDeleted === undefined ? {} : { includeDeleted: options.includeDeleted })
  }
  const strip = (row: Row): Row =>
    select === undefined || options.select!.length === select.length
      ? row
      : Object.fromEntries(Object.entries(row).filter(([f]) => options.select!.includes(f) || !relation.targetFields.includes(f)))
  return { query, strip }
}

/** One relation's records for a page, by the parents' keys. */
const load = (s: State, records: ReadonlyArray<Row>, planned: Planned): Routed => {
  const rel = planned.relation
  const byParent = new Map<string, Array<Row>>()
  const keys = keysOf(records, rel.sourceFields)
  if (keys.size === 0) return Either.right(byParent)
  const { query, strip } = relatedQuery(planned)
  const through = rel.through
  if (through === undefined) {
    return Either.map(listed(s, planned, rel.target, query, rel.targetFields, keys), (rows) => {
      for (const row of rows) push(byParent, uniqueKey(row, rel.targetFields)!, strip(row))
      return byParent
    })
  }
  const junction = { select: [...through.sourceFields, ...through.targetFields] }
  const links = listed(s, planned, through.definition, junction, through.sourceFields, keys)
  if (Either.isLeft(links)) return Either.left(links.left)
  // each target's parents, in the junction's order (a pair linked twice counts twice)
  const parentsOf = new Map<string, Array<string>>()
  for (const link of links.right) {
    const target = uniqueKey(link, through.targetFields)
    if (target !== undefined) push(parentsOf, target, uniqueKey(link, through.sourceFields)!)
  }
  if (parentsOf.size === 0) return Either.right(byParent)
  return Either.map(listed(s, planned, rel.target, query, rel.targetFields, new Set(parentsOf.keys())), (rows) => {
    for (const row of rows) {
      for (const parent of parentsOf.get(uniqueKey(row, rel.targetFields)!)!) push(byParent, parent, strip(row))
    }
    return byParent
  })
}

/**
 * The records of a page with the relations `include` names attached (new objects).
 * @internal
 */
export const attach = (
  s: State,
  records: ReadonlyArray<Row>,
  include: unknown,
  operation: string
): Either.Either<ReadonlyArray<Row>, ReferenceError> => {
  const planned = plan(s.def, include, operation, "include")
  if (Either.isLeft(planned)) return Either.left(planned.left)
  if (planned.right.length === 0 || records.length === 0) return Either.right(records)
  const loaded: Array<ReadonlyMap<string, ReadonlyArray<Row>>> = []
  for (const p of planned.right) {
    const routed = load(s, records, p)
    if (Either.isLeft(routed)) return Either.left(routed.left)
    loaded.push(routed.right)
  }
  return Either.right(records.map((record) => {
    const out: Row = { ...record }
    planned.right.forEach(({ options, relation }, i) => {
      const key = uniqueKey(record, relation.sourceFields)
      const related = key === undefined ? [] : loaded[i]!.get(key) ?? []
      out[relation.name] = relation.kind === "hasMany" || relation.kind === "manyToMany"
        ? (options.limit === undefined ? related : related.slice(0, options.limit))
        : related[0] ?? null
    })
    return out
  }))
}
