/**
 * The reference's reads: read / find by id, readBy / findBy by a unique key, list (filters,
 * ordering, limit/offset, keyset cursors, select, total), count and exists; `include` on read,
 * find and list (`include.ts`).
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { InvalidCursor, NotFound } from "../../../Errors.js"
import { checkId, validation, valueProblem } from "../../model/validate.js"
import { project, withKeys } from "../../nodes/include.js"
import { idOf } from "../../nodes/shared.js"
import * as Cursor from "../../sql/cursor.js"
import { uniqueKey } from "../equivalence.js"
import type { Term } from "../query.js"
import { afterCursor, orderTerms, sortRows } from "../query.js"
import { attach } from "./include.js"
import type { State } from "./state.js"
import { asRecord, filterOf, idKey, invalidFilter, liveRows, uniqueLookup, visible } from "./state.js"
import type { Call, ListCall, Outcome, ReferenceError, Row } from "./types.js"
import { failure, success } from "./types.js"

/** @internal */
export const readById = (s: State, call: Extract<Call, { node: "read" | "find" }>): Outcome => {
  const bad = checkId(s.def, call.id, call.node)
  if (bad !== undefined) return failure(bad)
  const row = s.stored.get(idKey(s.def, call.id))
  if (visible(s, row, call.includeDeleted)) return withRelations(s, [asRecord(s.def, row)], call.include, call.node, (rs) => rs[0])
  return call.node === "find" ? success(undefined) : failure(new NotFound({ model: s.def.name, operation: "read", id: idOf(call.id) }))
}

/** Records with the relations `include` names (none: as they are), shaped by `answer`. */
const withRelations = (
  s: State,
  records: ReadonlyArray<Row>,
  include: unknown,
  operation: string,
  answer: (records: ReadonlyArray<Row>) => unknown
): Outcome => {
  if (include === undefined) return success(answer(records))
  const attached = attach(s, records, include, operation)
  return Either.isLeft(attached) ? failure(attached.left) : success(answer(attached.right))
}

/** @internal */
export const readByKey = (s: State, call: Extract<Call, { node: "readBy" | "findBy" }>): Outcome => {
  const lookup = uniqueLookup(s, call.key, call.node)
  if (Either.isLeft(lookup)) return failure(lookup.left)
  const { by, key } = lookup.right
  const wanted = uniqueKey(key, by)
  const row = liveRows(s, call.includeDeleted).find((r) => uniqueKey(r, by) === wanted)
  if (row !== undefined) return success(asRecord(s.def, row))
  if (call.node === "findBy") return success(undefined)
  const id = by.length === 1 ? idOf(key[by[0]!]) : by.map((f) => `${f}=${String(key[f])}`).join(",")
  return failure(new NotFound({ model: s.def.name, operation: "readBy", id }))
}

/** The checks of a list query's arguments, in the node's order; the ordering's terms. */
const checkList = (s: State, q: ListCall): Either.Either<ReadonlyArray<Term>, ReferenceError> => {
  const def = s.def
  const bad = (path: string, reason: string) => Either.left(validation(def, "list", path, reason))
  for (const name of ["limit", "offset"] as const) {
    const v = q[name]
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) return bad(name, "must be a non-negative integer")
  }
  if (q.cursor !== undefined && q.offset !== undefined) return bad("offset", "cannot be combined with a cursor")
  if (q.orderBy !== undefined && !Array.isArray(q.orderBy)) return bad("orderBy", "expected an array of field names")
  for (const entry of (q.orderBy ?? []) as ReadonlyArray<unknown>) {
    const field = typeof entry === "string" ? (entry.startsWith("-") ? entry.slice(1) : entry) : ""
    const column = def.byField.get(field)
    if (column === undefined) return bad("orderBy", `unknown field ${JSON.stringify(field)}`)
    if (column.kind._tag === "json") return bad("orderBy", `cannot sort by JSON field ${field}`)
  }
  const unknown = q.select === undefined ? undefined : Array.isArray(q.select) ? q.select.find((f) => !def.byField.has(f)) : "select"
  if (unknown !== undefined) return bad("select", `unknown field ${JSON.stringify(unknown)}`)
  const invalid = invalidFilter(s, q.where, "list")
  return invalid !== undefined ? Either.left(invalid) : Either.right(orderTerms(def, q.orderBy ?? []))
}

const orderText = (terms: ReadonlyArray<Term>) => terms.map((t) => `${t.dir < 0 ? "-" : ""}${t.field}`).join(",")

/** The values of a cursor made for this model and ordering, checked as filter operands. */
const cursorValues = (s: State, terms: ReadonlyArray<Term>, cursor: string) => {
  const fail = (reason: string) => Either.left(new InvalidCursor({ model: s.def.name, operation: "list", reason }))
  const decoded = Cursor.decode(cursor, s.def.name, orderText(terms), s.env.cursorKey)
  if (Either.isLeft(decoded)) return fail(decoded.left)
  const values = decoded.right
  const usable = values.length === terms.length && terms.every((t, i) => {
    const column = s.def.byField.get(t.field)!
    return values[i] === null ? column.nullable || column.optional : valueProblem(s.def, t.field, values[i]) === undefined
  })
  return usable ? Either.right(values) : fail("values do not match the ordering")
}

/** @internal */
export const list = (s: State, q: ListCall): Outcome => {
  // a projected page reads the keys its relations need, and drops them again
  const select = q.include === undefined ? q.select : withKeys(s.def, q.select, q.include) as ListCall["select"]
  const checked = checkList(s, select === undefined ? q : { ...q, select })
  if (Either.isLeft(checked)) return failure(checked.left)
  const terms = checked.right
  const found = sortRows(s.def, liveRows(s, q.includeDeleted).filter(filterOf(s, q.where)), q.orderBy ?? [])
  let rest: ReadonlyArray<Row> = found
  if (q.cursor !== undefined) {
    const values = cursorValues(s, terms, q.cursor)
    if (Either.isLeft(values)) return failure(values.left)
    rest = afterCursor(s.def, terms, found, values.right)
  }
  const offset = q.offset ?? 0
  const page = rest.slice(offset, q.limit === undefined ? undefined : offset + q.limit)
  const more = q.limit !== undefined && rest.length > offset + q.limit
  const last = page[page.length - 1]
  const nextCursor = more && last !== undefined
    ? Cursor.encode(s.def.name, orderText(terms), terms.map((t) => last[t.field] ?? null), s.env.cursorKey)
    : undefined
  const records = page.map((r) => asRecord(s.def, r))
  const selected = select === undefined
    ? records
    : records.map((r) => Object.fromEntries(select.filter((f) => f in r).map((f) => [f, r[f]])))
  return withRelations(s, selected, q.include, q.operation ?? "list", (withIncluded) => ({
    records: q.include === undefined ? withIncluded : project(withIncluded, q.select, q.include),
    ...(nextCursor === undefined ? {} : { nextCursor }),
    ...(q.total === true ? { total: found.length } : {})
  }))
}

/** @internal */
export const countOrExists = (s: State, call: Extract<Call, { node: "count" | "exists" }>): Outcome => {
  const invalid = invalidFilter(s, call.where, call.node)
  if (invalid !== undefined) return failure(invalid)
  const n = liveRows(s, call.includeDeleted).filter(filterOf(s, call.where)).length
  return success(call.node === "count" ? n : n > 0)
}
