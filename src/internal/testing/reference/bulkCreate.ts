/**
 * The reference's `bulkCreate`: rows validated and written in the chunks the node writes on the
 * dialect (its statement sizes), all or nothing, `onProgress` told the rows inserted after each
 * chunk; `onConflict: "skip"` leaves out rows whose unique key (or `conflictOn`'s) is stored —
 * by a live or a soft-deleted row — or taken by an earlier row of the call, a NULL in a key
 * never conflicting. SQLite and PostgreSQL skip row by row (`ON CONFLICT DO NOTHING`);
 * MySQL, which has no such clause, checks each chunk's keys one unique key after another
 * (docs/nodes.md), which can leave out a row whose twin was left out by a later key.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { UniqueViolation } from "../../../Errors.js"
import type { Dialect } from "../../dialect/dialect.js"
import { mysql } from "../../dialect/mysql.js"
import { pg } from "../../dialect/pg.js"
import { sqlite } from "../../dialect/sqlite.js"
import { prepareCreate, validation } from "../../model/validate.js"
import { conflictTarget } from "../../nodes/shared.js"
import * as Build from "../../sql/builders.js"
import { statementsFor } from "../../sql/statements.js"
import { uniqueKey } from "../equivalence.js"
import type { State } from "./state.js"
import { asRecord, insert, keySetsOf, ours, stamp } from "./state.js"
import type { Call, Outcome, ReferenceDialect, ReferenceError, Row } from "./types.js"
import { failure, success } from "./types.js"

type BulkCreate = Extract<Call, { node: "bulkCreate" }>

const dialects: Record<ReferenceDialect, Dialect> = { sqlite, pg, mysql }

/** The rows per chunk the node writes on the dialect (per statement, or per array insert). */
const chunkSize = (s: State, returning: boolean) => {
  const statements = statementsFor(s.def, dialects[s.env.dialect ?? "sqlite"])
  const columns = statements.columns.length
  return returning ? Build.rowsPerStatement(statements, columns) : Build.rowsPerInsert(statements, columns)
}

/** The unique keys taken, per key: the tenant's stored rows (soft-deleted ones too), then the rows written. */
const takenKeys = (s: State) => {
  const sets = keySetsOf(s.def)
  const taken = sets.map(() => new Set<string>())
  const add = (row: Row) =>
    sets.forEach((fields, i) => {
      const key = uniqueKey(row, fields)
      if (key !== undefined) taken[i]!.add(key)
    })
  for (const row of s.stored.values()) if (ours(s, row)) add(row)
  /** The first unique key of a row that is taken (its index in the key sets). */
  const clash = (row: Row, only?: ReadonlyArray<number>) =>
    (only ?? sets.map((_, i) => i)).find((i) => taken[i]!.has(uniqueKey(row, sets[i]!) ?? "\u0000"))
  return { sets, add, clash }
}

/** The options, checked in the node's order: what to skip on (undefined: nothing), or the error. */
const checkOptions = (
  s: State,
  call: BulkCreate
): Either.Either<{ readonly target: ReadonlyArray<string> | undefined } | undefined, ReferenceError> => {
  const fail = (path: string, reason: string) => Either.left(validation(s.def, "bulkCreate", path, reason))
  if (call.onConflict !== undefined && call.onConflict !== "fail" && call.onConflict !== "skip") {
    return fail("onConflict", `expected "fail" or "skip"`)
  }
  const skip = call.onConflict === "skip"
  if (call.conflictOn !== undefined && !skip) return fail("conflictOn", `needs onConflict: "skip"`)
  if (call.conflictOn !== undefined && !Array.isArray(call.conflictOn)) return fail("conflictOn", "expected an array of field names")
  if (!skip) return Either.right(undefined)
  if (call.conflictOn === undefined) return Either.right({ target: undefined })
  return Either.map(conflictTarget(s.def, call.conflictOn as ReadonlyArray<unknown>, "bulkCreate"), (columns) => ({ target: columns }))
}

/** @internal */
export const bulkCreate = (s: State, call: BulkCreate): Outcome => {
  const def = s.def
  const checked = checkOptions(s, call)
  if (Either.isLeft(checked)) return failure(checked.left)
  const skip = checked.right
  const returning = call.returnRecords === true
  const counts = (written: ReadonlyArray<Row>, skipped: number) => ({
    inserted: written.length,
    ...(skip === undefined ? {} : { skipped }),
    ...(returning ? { records: written.map((r) => asRecord(def, r)) } : {})
  })
  const keys = takenKeys(s)
  const same = (fields: ReadonlyArray<string>) => (set: ReadonlyArray<string>) =>
    set.length === fields.length && set.every((f) => fields.includes(f))
  // the keys a skip looks at: conflictOn's, or every unique key
  const skipOn = skip === undefined
    ? []
    : skip.target === undefined
    ? keys.sets.map((_, i) => i)
    : [keys.sets.findIndex(same(skip.target))]
  const written: Array<Row> = []
  let skipped = 0
  let nextId = s.nextId.value
  const size = chunkSize(s, returning)
  for (let start = 0; start < call.rows.length; start += size) {
    // a chunk is validated whole before any of it is written
    const chunk: Array<{ readonly row: Row; readonly index: number; readonly generated: boolean }> = []
    for (const [k, input] of call.rows.slice(start, start + size).entries()) {
      const prepared = prepareCreate(def, input, "bulkCreate", start + k)
      if (Either.isLeft(prepared)) return failure(prepared.left)
      const row = stamp(s, prepared.right)
      const generated = def.autoIncrement && (input as Row)[def.pk.field] === undefined
      // a generated key is given as the row is written
      if (generated) delete row[def.pk.field]
      chunk.push({ row, index: start + k, generated })
    }
    const kept = s.env.dialect === "mysql" && skip !== undefined ? keptByKey(chunk, keys, skipOn) : chunk
    for (const { generated, index, row } of kept) {
      if (generated) row[def.pk.field] = nextId
      const skippable = keys.clash(row, skipOn)
      if (skippable !== undefined) {
        skipped++
        continue
      }
      const taken = keys.clash(row)
      if (taken !== undefined) {
        return failure(new UniqueViolation({ model: def.name, operation: "bulkCreate", columns: keys.sets[taken]!, rowIndex: index }))
      }
      keys.add(row)
      written.push(row)
      if (def.autoIncrement) nextId = Math.max(nextId, Number(row[def.pk.field]) + 1)
    }
    skipped += chunk.length - kept.length
    call.onProgress?.(written.length)
  }
  for (const row of written) insert(s, row)
  return success(counts(written, skipped))
}

/**
 * MySQL's skip: the chunk's rows whose keys, one unique key after another, are neither stored
 * nor held by an earlier row of the chunk still kept on that key (a generated key is no key yet).
 */
const keptByKey = <C extends { readonly row: Row; readonly generated: boolean }>(
  chunk: ReadonlyArray<C>,
  keys: ReturnType<typeof takenKeys>,
  skipOn: ReadonlyArray<number>
): ReadonlyArray<C> => {
  let kept = chunk
  for (const i of skipOn) {
    const seen = new Set<string>()
    kept = kept.filter(({ row }) => {
      const key = uniqueKey(row, keys.sets[i]!)
      if (key === undefined) return true
      if (keys.clash(row, [i]) !== undefined || seen.has(key)) return false
      seen.add(key)
      return true
    })
  }
  return kept
}
