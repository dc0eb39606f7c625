/**
 * An in-memory reference implementation of the nodes' documented semantics, written apart
 * from the SQL path: filters, ordering and cursors (`query.ts`), limit/offset, soft delete and
 * restore, versions and optimistic locking, timestamps, arithmetic updates, upserts and bulk
 * upserts (revival of soft-deleted rows; MySQL's any-unique-key conflicts with the `mysql`
 * dialect), unique constraints (NULLs never collide, soft-deleted rows keep their keys),
 * atomic bulk writes (by filter and by items; bulkCreate in the node's chunks, skipping
 * conflicts), aggregates, `include` and relation filters across the tables of a store. Inputs, patches, ids, keys,
 * filters and aggregate queries are validated by the library's own validation, so the
 * reference fails with the same typed errors. One file per family under `reference/`.
 * (Internal module: not part of the public API.)
 */
import type { ModelDefinition } from "../model/definition.js"
import * as Either from "effect/Either"
import { sortRows } from "./query.js"
import { enforce } from "./reference/foreignKeys.js"
import { aggregate } from "./reference/aggregate.js"
import { countOrExists, list, readById, readByKey } from "./reference/reads.js"
import type { State } from "./reference/state.js"
import { asRecord } from "./reference/state.js"
import type { Call, Env, Outcome, ReferenceTable, Row, Tables } from "./reference/types.js"
import { failure } from "./reference/types.js"
import { bulkUpsert, upsertOrKeep } from "./reference/upsert.js"
import { bulkCreate } from "./reference/bulkCreate.js"
import { bulkDelete, bulkUpdate, bulkUpdateItems, create, removeOrRestore, update } from "./reference/writes.js"

export { matches, sortRows } from "./query.js"
export type {
  Call,
  Env,
  ListCall,
  Outcome,
  ReferenceDialect,
  ReferenceError,
  ReferenceTable,
  Snapshot,
  Tables
} from "./reference/types.js"
export type { RelatedRows } from "./query.js"
export { ReferenceModelMissing, relatedRows } from "./reference/related.js"

const run = (s: State, call: Call): Outcome => {
  switch (call.node) {
    case "create":
      return create(s, call.input)
    case "bulkCreate":
      return bulkCreate(s, call)
    case "read":
    case "find":
      return readById(s, call)
    case "readBy":
    case "findBy":
      return readByKey(s, call)
    case "update":
      return update(s, call)
    case "delete":
    case "restore":
      return removeOrRestore(s, call)
    case "bulkUpdate":
      return bulkUpdate(s, call)
    case "bulkUpdateItems":
      return bulkUpdateItems(s, call)
    case "bulkDelete":
      return bulkDelete(s, call)
    case "list":
      return list(s, call.query)
    case "count":
    case "exists":
      return countOrExists(s, call)
    case "upsert":
      return upsertOrKeep(s, call.args, false)
    case "createIgnore":
      return upsertOrKeep(s, { create: call.input, ...(call.conflictOn === undefined ? {} : { conflictOn: call.conflictOn }) }, true)
    case "bulkUpsert":
      return bulkUpsert(s, call)
    case "aggregate":
      return aggregate(s, call)
  }
}

/**
 * A model's table; `tables` finds the reference's other tables, for relations (`include`,
 * relation filters).
 * @internal
 */
export const makeTable = (def: ModelDefinition, tables?: Tables, all?: () => Iterable<ReferenceTable>): ReferenceTable => {
  let stored = new Map<string, Row>()
  const nextId = { value: 1 }
  const table: ReferenceTable = {
    definition: def,
    execute: (call: Call, env: Env): Outcome => {
      if (all === undefined || reads.has(call.node)) return run({ def, stored, nextId, env, tables }, call)
      // a write: the foreign keys checked, the referential actions run, after it (all or nothing)
      const before = new Map(stored)
      const id = nextId.value
      const outcome = run({ def, stored, nextId, env, tables }, call)
      if (outcome._tag === "Failure") return mysqlRowByRow(table, call, outcome, env) ?? outcome
      const operation = operationOf(call, outcome.value, env)
      const checked = enforce(table, before, stored, [...all()], operation, env.dialect ?? "sqlite")
      if (Either.isLeft(checked)) {
        stored = before
        nextId.value = id
        return failure(checked.left)
      }
      for (const [other, rows] of checked.right) other.restore({ stored: rows, nextId: other.snapshot().nextId })
      return outcome
    },
    stored: () => stored.values(),
    rows: () => sortRows(def, [...stored.values()], []).map((r) => asRecord(def, r)),
    clear: () => {
      stored.clear()
      nextId.value = 1
    },
    snapshot: () => ({ stored: new Map(stored), nextId: nextId.value }),
    restore: (snapshot) => {
      stored = new Map(snapshot.stored)
      nextId.value = snapshot.nextId
    }
  }
  return table
}

/**
 * The operation a write's foreign key violation names: the node's; MySQL's upsert of a stored
 * record runs the node's update statement, and its error names `update`.
 */
const operationOf = (call: Call, value: unknown, env: Env): string =>
  call.node === "bulkUpdateItems"
    ? "bulkUpdate"
    : call.node === "upsert" && env.dialect === "mysql" && (value as { readonly created?: unknown }).created === false
    ? "update"
    : call.node

/**
 * MySQL checks a bulkCreate row by row: a row before the one whose unique key is taken that
 * names no target fails first, with the ForeignKeyViolation.
 */
const mysqlRowByRow = (table: ReferenceTable, call: Call, outcome: Outcome, env: Env): Outcome | undefined => {
  if (env.dialect !== "mysql" || call.node !== "bulkCreate" || outcome._tag !== "Failure") return undefined
  const index = (outcome.error as { readonly rowIndex?: number }).rowIndex
  if (outcome.error._tag !== "UniqueViolation" || index === undefined || index === 0) return undefined
  const saved = table.snapshot()
  const { onProgress: _, ...rest } = call
  const earlier = table.execute({ ...rest, rows: call.rows.slice(0, index) }, env)
  table.restore(saved)
  return earlier._tag === "Failure" && earlier.error._tag === "ForeignKeyViolation" ? earlier : undefined
}

const reads: ReadonlySet<Call["node"]> = new Set(["read", "find", "readBy", "findBy", "list", "count", "exists", "aggregate"])
