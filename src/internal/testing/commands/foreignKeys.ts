/**
 * Foreign keys in a model-based run's writes: the generated value of a belongs-to's fields is
 * turned into the key of a stored row of the target most of the time (one row in eight keeps
 * its value, which usually names no row: a `ForeignKeyViolation` on both sides), picked by
 * the generated value so that a shrunk run picks alike. Targets whose keys the database
 * generates keep their values (their keys differ between the two sides).
 * (Internal module: not part of the public API.)
 */
import type { ModelDefinition } from "../../model/definition.js"
import { keysOf } from "../reference/foreignKeys.js"
import type { Call } from "../reference.js"

type Row = Record<string, unknown>

/** The rows of a model the run holds (the tenant's, soft-deleted ones too), or undefined when it is not among the run's models. @internal */
export type RowsOf = (def: ModelDefinition) => ReadonlyArray<Row> | undefined

/** A whole number drawn from a generated value. */
const seedOf = (value: unknown): number => {
  if (typeof value === "number" && Number.isFinite(value)) return Math.abs(Math.trunc(value))
  if (typeof value === "bigint") return Number((value < 0n ? -value : value) % 1_000_003n)
  return [...String(value)].reduce((n, c) => (n * 31 + c.codePointAt(0)!) % 1_000_003, 7)
}

/** A record's foreign keys pointed at stored rows of their targets (NULLs stay: they refer to nothing). */
const relate = (def: ModelDefinition, record: unknown, rowsOf: RowsOf): unknown => {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return record
  let out = record as Row
  for (const key of keysOf(def)) {
    if (key.target.autoIncrement) continue
    const first = out[key.fields[0]!]
    // absent, NULL (refers to nothing) or arithmetic: left as generated
    if (key.fields.some((f) => out[f] === null || out[f] === undefined || typeof out[f] === "object")) continue
    const targets = rowsOf(key.target)
    if (targets === undefined || targets.length === 0) continue
    const n = seedOf(first)
    if (n % 8 === 7) continue
    const row = targets[n % targets.length]!
    out = { ...out }
    key.fields.forEach((f, i) => out[f] = row[key.references[i]!])
  }
  return out
}

/** A generated call's records and patches with their foreign keys pointed at stored rows. @internal */
export const withForeignKeys = (def: ModelDefinition, call: Call, rowsOf: RowsOf): Call => {
  if (keysOf(def).length === 0) return call
  const one = (record: unknown) => relate(def, record, rowsOf)
  switch (call.node) {
    case "create":
    case "createIgnore":
      return { ...call, input: one(call.input) }
    case "bulkCreate":
    case "bulkUpsert":
      return { ...call, rows: call.rows.map(one) }
    case "update":
    case "bulkUpdate":
      return { ...call, patch: one(call.patch) }
    case "upsert":
      return {
        ...call,
        args: { ...call.args, create: one(call.args.create), ...(call.args.update === undefined ? {} : { update: one(call.args.update) }) }
      }
    default:
      return call
  }
}
