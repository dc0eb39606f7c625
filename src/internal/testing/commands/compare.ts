/**
 * How a model-based run compares the two sides: a call made on the database (in a savepoint),
 * its answer or error tag, generated keys paired with the reference's, timestamps compared
 * apart, cursor walks page by page, and the printed form of calls and answers.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { ModelDefinition } from "../../model/definition.js"
import { run as runTransaction } from "../../runtime/transaction.js"
import type { NodeFunctions } from "../calls.js"
import { onNodes } from "../calls.js"
import { canonical } from "../equivalence.js"
import type { Call, Env, ReferenceTable } from "../reference.js"

type Row = Record<string, unknown>

/** A model as the runner calls it: its definition and its nodes by name. @internal */
export interface Target {
  readonly definition: ModelDefinition
  readonly nodes: NodeFunctions<SqlClient.SqlClient>
}

/** What is compared of a call's answer: a list's records (cursor walks are steps of their own). @internal */
export const projected = (call: Call, observed: Observed): Observed =>
  call.node === "list" && observed._tag === "Success"
    ? { _tag: "Success", value: { records: (observed.value as { readonly records: unknown }).records } }
    : observed

/** What a call gave on either side: its value, or its error's tag (a defect's first line). @internal */
export type Observed =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly error: { readonly _tag: string } }

/** Runs a call on the database: the node's own result or its error's tag. @internal */
export const onDatabase = (target: Target, call: Call): Effect.Effect<Observed, never, SqlClient.SqlClient> => {
  const asked: Call = call.node === "bulkCreate" && target.definition.autoIncrement ? { ...call, returnRecords: true } : call
  const effect = onNodes(target.nodes, asked)
  // a savepoint per call: a failing statement aborts PostgreSQL's whole transaction otherwise
  const inSavepoint = Effect.flatMap(SqlClient.SqlClient, (sql) => runTransaction(sql, effect, {}))
  return Effect.map(Effect.exit(inSavepoint), (exit): Observed => {
    if (Exit.isSuccess(exit)) return { _tag: "Success", value: exit.value }
    const error = Cause.failureOption(exit.cause)
    return Option.isSome(error) && typeof (error.value as { _tag?: unknown })._tag === "string"
      ? { _tag: "Failure", error: error.value as { readonly _tag: string } }
      : { _tag: "Failure", error: { _tag: `Defect: ${Cause.pretty(exit.cause).split("\n")[0]}` } }
  })
}

/** The clock's stamps differ between the two sides by the time a call takes: compared apart. @internal */
export const comparable = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(comparable)
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return canonical(value)
  const out: Row = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === "createdAt" || k === "updatedAt") continue
    out[k] = k === "deletedAt" ? v !== null && v !== undefined : comparable(v)
  }
  return canonical(out)
}

export const describeOutcome = (o: Observed) =>
  o._tag === "Success" ? JSON.stringify(comparable(o.value)) : `fails with ${o.error._tag}`

/** The shown form of a value in a printed call. */
const show = (value: unknown): string => JSON.stringify(canonical(value))

export const describeCall = (def: ModelDefinition, call: Call): string => {
  const { node, ...args } = call
  return `${def.name}.${node === "bulkUpdateItems" ? "bulkUpdate" : node}(${Object.values(args).map(show).join(", ")})`
}

/**
 * Keys the database generates differ from the reference's (a sequence skips numbers after a
 * failed insert): calls go to the database with its keys, its answers come back with the
 * reference's. Learned from every create both sides made.
 * @internal
 */
export class KeyMap {
  private readonly toDb = new Map<unknown, unknown>()
  private readonly toRef = new Map<unknown, unknown>()

  callToDb(call: Call): Call {
    if (call.node === "bulkUpdateItems") {
      return {
        ...call,
        items: call.items.map((item) => {
          const id = (item as Row).id
          return id === undefined ? item : { ...(item as Row), id: this.toDb.get(id) ?? id }
        })
      }
    }
    return "id" in call ? { ...call, id: this.toDb.get(call.id) ?? call.id } : call
  }

  recordToRef(def: ModelDefinition, record: Row): Row {
    const id = record[def.pk.field]
    return this.toRef.has(id) ? { ...record, [def.pk.field]: this.toRef.get(id) } : record
  }

  private pair(refId: unknown, dbId: unknown) {
    this.toDb.set(refId, dbId)
    this.toRef.set(dbId, refId)
  }

  /** Pairs the keys of what both sides created, and translates the database's answer. */
  learn(def: ModelDefinition, call: Call, expected: Observed, actual: Observed, created: ReadonlyArray<unknown>): Observed {
    if (actual._tag === "Failure") return actual
    const value = actual.value
    if (expected._tag === "Success" && call.node === "create") {
      this.pair((expected.value as Row)[def.pk.field], (value as Row)[def.pk.field])
    }
    if (call.node === "bulkCreate") {
      const records = (value as { readonly records?: ReadonlyArray<Row> }).records ?? []
      if (expected._tag === "Success") records.forEach((r, k) => this.pair(created[k], r[def.pk.field]))
      return { _tag: "Success", value: { inserted: (value as { readonly inserted: number }).inserted } }
    }
    if (call.node === "bulkUpsert") {
      // records in input order on both sides (asked for on a model with generated keys)
      const answer = value as { readonly records?: ReadonlyArray<Row | undefined> }
      const records = answer.records
      if (records === undefined) return actual
      if (expected._tag === "Success") {
        const ours = (expected.value as { readonly records?: ReadonlyArray<Row | undefined> }).records ?? []
        records.forEach((r, k) => {
          const mine = ours[k]
          if (r !== undefined && mine !== undefined) this.pair(mine[def.pk.field], r[def.pk.field])
        })
      }
      return { _tag: "Success", value: { ...answer, records: records.map((r) => (r === undefined ? r : this.recordToRef(def, r))) } }
    }
    if (call.node === "bulkUpdateItems") {
      const answer = value as { readonly updated: number; readonly missing: ReadonlyArray<unknown> }
      return { _tag: "Success", value: { ...answer, missing: answer.missing.map((id) => (this.toRef.has(id) ? this.toRef.get(id) : id)) } }
    }
    if (call.node === "upsert" || call.node === "createIgnore") {
      const answer = value as { readonly record: Row; readonly created: boolean }
      if (expected._tag === "Success") this.pair((expected.value as { readonly record: Row }).record[def.pk.field], answer.record[def.pk.field])
      return { _tag: "Success", value: { ...answer, record: this.recordToRef(def, answer.record) } }
    }
    if (call.node === "list") {
      return { _tag: "Success", value: { records: (value as { readonly records: ReadonlyArray<Row> }).records.map((r) => this.recordToRef(def, r)) } }
    }
    return typeof value === "object" && value !== null && def.pk.field in value
      ? { _tag: "Success", value: this.recordToRef(def, value as Row) }
      : actual
  }
}

/** A step's two outcomes disagreed. @internal */
export class Mismatch extends Data.Error<{ readonly message: string }> {}

/** The most pages a cursor walk reads: more means the cursors never end. */
const maxPages = 200

/** A cursor walk on the reference: every page's records, following `nextCursor`. @internal */
export const walkReference = (table: ReferenceTable, call: Call, env: Env): Observed => {
  if (call.node !== "list") return table.execute(call, env)
  const pages: Array<unknown> = []
  let query = call.query
  for (let n = 0; n < maxPages; n++) {
    const page = table.execute({ node: "list", query }, env)
    if (page._tag === "Failure") return page
    const { nextCursor, records } = page.value as { readonly records: unknown; readonly nextCursor?: string }
    pages.push(records)
    if (nextCursor === undefined) break
    query = { ...query, cursor: nextCursor }
  }
  return { _tag: "Success", value: { pages } }
}

/** The same walk on the database, its records' generated keys translated. @internal */
export const walkDatabase = (target: Target, call: Call, key: KeyMap) =>
  Effect.gen(function*() {
    if (call.node !== "list") return yield* onDatabase(target, call)
    const def = target.definition
    const pages: Array<unknown> = []
    let query = call.query
    for (let n = 0; n < maxPages; n++) {
      const page = yield* onDatabase(target, { node: "list", query })
      if (page._tag === "Failure") return page
      const { nextCursor, records } = page.value as { readonly records: ReadonlyArray<Row>; readonly nextCursor?: string }
      pages.push(def.autoIncrement ? records.map((r) => key.recordToRef(def, r)) : records)
      if (nextCursor === undefined) break
      query = { ...query, cursor: nextCursor }
    }
    return { _tag: "Success", value: { pages } } satisfies Observed
  })

export const sameOutcome = (expected: Observed, actual: Observed) =>
  expected._tag === actual._tag &&
  (expected._tag === "Success"
    ? JSON.stringify(comparable(expected.value)) === JSON.stringify(comparable((actual as typeof expected).value))
    : expected.error._tag === (actual as typeof expected).error._tag)
