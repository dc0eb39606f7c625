/**
 * Model-based tests: random sequences of node calls (failing ones included: duplicates,
 * missing ids, bad filters) run against the database and the in-memory reference, compared
 * after every step; a failure is shrunk to a minimal sequence and printed with the seed and
 * path that replay it. Each sequence runs in a transaction rolled back at its end.
 * (Internal module: not part of the public API.)
 */
import { SqlClient } from "@effect/sql"
import { BigDecimal, Cause, Data, Effect, Exit, FastCheck as fc, Option, Runtime } from "effect"
import type { Column } from "../../Column.js"
import type { ModelDefinition } from "../model/definition.js"
import { keyFieldsOf } from "../nodes/shared.js"
import { run as runTransaction } from "../runtime/transaction.js"
import { fieldArbitrary, keyedCreateInput, patch } from "./arbitrary.js"
import { canonical } from "./equivalence.js"
import { CurrentTenant } from "../../Tenant.js"
import { rollback } from "./layers.js"
import type { NodeFunctions } from "./calls.js"
import { onNodes } from "./calls.js"
import type { Call, Env, ReferenceTable } from "./reference.js"
import { makeTable } from "./reference.js"

type Row = Record<string, unknown>
/** A model as the runner calls it: its definition and its nodes by name. @internal */
export interface Target {
  readonly definition: ModelDefinition
  readonly nodes: NodeFunctions<SqlClient.SqlClient>
}

/** A step before it meets the state: which rows it picks are indexes into the live rows. */
type Step =
  | { readonly model: number; readonly kind: "create"; readonly input: Row }
  | { readonly model: number; readonly kind: "duplicate"; readonly pick: number; readonly set: number; readonly input: Row }
  | { readonly model: number; readonly kind: "bulkCreate"; readonly rows: ReadonlyArray<Row>; readonly repeat: boolean }
  | { readonly model: number; readonly kind: "read" | "find" | "delete"; readonly pick: number; readonly missing: boolean }
  | { readonly model: number; readonly kind: "update"; readonly pick: number; readonly missing: boolean; readonly patch: Row }
  | { readonly model: number; readonly kind: "list" | "count"; readonly filter: FilterPlan; readonly order: number; readonly limit: number | undefined; readonly offset: number | undefined }
  | { readonly model: number; readonly kind: "badFilter" }
  | { readonly model: number; readonly kind: "bulkUpdate"; readonly filter: FilterPlan; readonly patch: Row; readonly confirm: boolean }
  | { readonly model: number; readonly kind: "bulkDelete"; readonly filter: FilterPlan; readonly confirm: boolean }
  | { readonly model: number; readonly kind: "exists"; readonly filter: FilterPlan }
  | { readonly model: number; readonly kind: "readBy" | "findBy"; readonly pick: number; readonly set: number; readonly fresh: Row }
  | { readonly model: number; readonly kind: "versioned"; readonly pick: number; readonly stale: boolean; readonly patch: Row }
  | { readonly model: number; readonly kind: "restore"; readonly pick: number; readonly missing: boolean }
  | { readonly model: number; readonly kind: "arith"; readonly pick: number; readonly missing: boolean; readonly arith: ArithPlan }
  | { readonly model: number; readonly kind: "bulkArith"; readonly filter: FilterPlan; readonly arith: ArithPlan }
  | {
    readonly model: number
    readonly kind: "upsert" | "createIgnore"
    readonly pick: number
    readonly existing: boolean
    readonly set: number
    readonly input: Row
    readonly patch: Row
    readonly arith: ArithPlan | undefined
  }
  | { readonly model: number; readonly kind: "walk"; readonly filter: FilterPlan; readonly order: number; readonly pageSize: number }

/** An arithmetic update of one numeric field: which field, which operator, a small operand. */
interface ArithPlan {
  readonly field: number
  readonly op: "$increment" | "$decrement" | "$multiply"
  readonly amount: number
}

interface Atom {
  readonly field: number
  readonly op: string
  readonly pick: number
  readonly fresh: unknown
}

interface FilterPlan {
  readonly atoms: ReadonlyArray<Atom>
  readonly combine: "and" | "or" | "not"
}

const comparisonOps = ["=", "null", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null"] as const
const textOps = ["$like", "$ilike", "$startsWith", "$endsWith", "$contains"] as const

/** Columns a generated filter or ordering uses: not JSON, not the clock's stamps (they differ by the time a call takes). */
const filterable = (def: ModelDefinition) =>
  def.columns.filter((c) =>
    c.kind._tag !== "json" && !(def.managedFields.has(c.field) && c.kind._tag === "datetime") &&
    !(def.autoIncrement && c === def.pk)
  )

const atomArbitrary = (def: ModelDefinition): fc.Arbitrary<Atom> => {
  const columns = filterable(def)
  return fc.nat({ max: columns.length - 1 }).chain((field) => {
    const column = columns[field]!
    const ops = column.kind._tag === "string" || column.kind._tag === "enum" ? [...comparisonOps, ...textOps] : comparisonOps
    const values = def.managedFields.has(column.field)
      ? fc.constant(undefined)
      : fieldArbitrary(def, column, undefined).filter((v) => v !== null)
    return fc.record({ field: fc.constant(field), op: fc.constantFrom(...ops), pick: fc.nat(), fresh: values })
  })
}

/** Numeric fields an arithmetic update may name (not managed, not a key field). */
const numericFields = (def: ModelDefinition) =>
  def.columns.filter((c) =>
    ["integer", "float", "bigint", "decimal"].includes(c.kind._tag) && !def.managedFields.has(c.field) && !def.key.includes(c)
  )

/** The later node kinds: by key, exists, versions, restore, arithmetic, upserts, cursor walks. */
const moreSteps = (
  def: ModelDefinition,
  model: number,
  input: fc.Arbitrary<Row>,
  filterPlan: fc.Arbitrary<FilterPlan>
): ReadonlyArray<fc.WeightedArbitrary<Step>> => {
  const m = fc.constant(model)
  const numeric = numericFields(def)
  const arith = numeric.length === 0 ? undefined : fc.record({
    field: fc.nat({ max: numeric.length - 1 }),
    op: fc.constantFrom("$increment" as const, "$decrement" as const, "$multiply" as const),
    amount: fc.integer({ min: -3, max: 3 })
  })
  const mutable = !def.appendOnly
  const out: Array<fc.WeightedArbitrary<Step>> = [
    { weight: 1, arbitrary: fc.record({ model: m, kind: fc.constant("exists" as const), filter: filterPlan }) },
    {
      weight: 2,
      arbitrary: fc.record({ model: m, kind: fc.constantFrom("readBy" as const, "findBy" as const), pick: fc.nat(), set: fc.nat(), fresh: input })
    },
    { weight: 1, arbitrary: fc.record({ model: m, kind: fc.constant("walk" as const), filter: filterPlan, order: fc.nat(), pageSize: fc.integer({ min: 1, max: 3 }) }) }
  ]
  if (!mutable) return out
  const upsert = (kind: "upsert" | "createIgnore") =>
    fc.record({
      model: m,
      kind: fc.constant(kind),
      pick: fc.nat(),
      existing: fc.boolean(),
      set: fc.nat(),
      input,
      patch: patch(def),
      arith: arith === undefined || kind === "createIgnore" ? fc.constant(undefined) : fc.option(arith, { nil: undefined })
    })
  out.push({ weight: 2, arbitrary: upsert("upsert") }, { weight: 1, arbitrary: upsert("createIgnore") })
  if (arith !== undefined) {
    out.push(
      { weight: 2, arbitrary: fc.record({ model: m, kind: fc.constant("arith" as const), pick: fc.nat(), missing: fc.boolean(), arith }) },
      { weight: 1, arbitrary: fc.record({ model: m, kind: fc.constant("bulkArith" as const), filter: filterPlan, arith }) }
    )
  }
  if (def.versioned) {
    out.push({
      weight: 1,
      arbitrary: fc.record({ model: m, kind: fc.constant("versioned" as const), pick: fc.nat(), stale: fc.boolean(), patch: patch(def) })
    })
  }
  if (def.softDelete) {
    out.push({ weight: 2, arbitrary: fc.record({ model: m, kind: fc.constant("restore" as const), pick: fc.nat(), missing: fc.boolean() }) })
  }
  return out
}

const stepArbitrary = (defs: ReadonlyArray<ModelDefinition>): fc.Arbitrary<Step> =>
  fc.nat({ max: defs.length - 1 }).chain((model) => {
    const def = defs[model]!
    const input = keyedCreateInput(def)
    const mutable = !def.appendOnly
    const filterPlan = fc.record({
      atoms: fc.array(atomArbitrary(def), { minLength: 1, maxLength: 2 }),
      combine: fc.constantFrom("and" as const, "or" as const, "not" as const)
    })
    const query = (kind: "list" | "count") =>
      fc.record({
        model: fc.constant(model),
        kind: fc.constant(kind),
        filter: filterPlan,
        order: fc.nat(),
        limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        offset: fc.option(fc.nat({ max: 3 }), { nil: undefined })
      })
    const target = (kind: "read" | "find" | "delete") =>
      fc.record({ model: fc.constant(model), kind: fc.constant(kind), pick: fc.nat(), missing: fc.boolean() })
    return fc.oneof(
      { weight: 4, arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("create" as const), input }) },
      {
        weight: 1,
        arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("duplicate" as const), pick: fc.nat(), set: fc.nat(), input })
      },
      {
        weight: 1,
        arbitrary: fc.record({
          model: fc.constant(model),
          kind: fc.constant("bulkCreate" as const),
          rows: fc.array(input, { maxLength: 3 }),
          repeat: fc.boolean()
        })
      },
      { weight: 2, arbitrary: target("read") },
      { weight: 1, arbitrary: target("find") },
      ...(mutable
        ? [
          { weight: 1, arbitrary: target("delete") },
          {
            weight: 3,
            arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("update" as const), pick: fc.nat(), missing: fc.boolean(), patch: patch(def) })
          },
          {
            weight: 1,
            arbitrary: fc.record({
              model: fc.constant(model),
              kind: fc.constant("bulkUpdate" as const),
              filter: filterPlan,
              patch: patch(def),
              confirm: fc.boolean()
            })
          },
          {
            weight: 1,
            arbitrary: fc.record({ model: fc.constant(model), kind: fc.constant("bulkDelete" as const), filter: filterPlan, confirm: fc.boolean() })
          }
        ]
        : []),
      { weight: 4, arbitrary: query("list") },
      { weight: 3, arbitrary: query("count") },
      { weight: 1, arbitrary: fc.constant({ model, kind: "badFilter" as const }) },
      ...moreSteps(def, model, input, filterPlan)
    ) as fc.Arbitrary<Step>
  })

/** A value of a key column no stored row has: of the column's type, and short enough for its length when it can be. */
const missingValue = (def: ModelDefinition, column: Column): unknown => {
  const candidates: ReadonlyArray<unknown> = column.kind._tag === "string" ? ["~missing~", "~mis~", "~"] : [-424242]
  return candidates.find((v) => def.isValue.get(column.field)?.(v) === true) ?? candidates[0]
}

const pickRow = (rows: ReadonlyArray<Row>, pick: number): Row | undefined => rows.length === 0 ? undefined : rows[pick % rows.length]

/** The id a call names a row by: its key's value, or the object of a composite key's fields. */
const idOfRow = (def: ModelDefinition, row: Row): unknown =>
  def.compositeKey ? Object.fromEntries(keyFieldsOf(def).map((f) => [f, row[f]])) : row[def.pk.field]

/**
 * The id of a picked row, or one no row has: for a composite key, a picked row's key with its
 * last field changed, so that every field but one matches a stored row.
 */
const idFor = (def: ModelDefinition, from: ReadonlyArray<Row>, pick: number, missing: boolean): unknown => {
  const row = pickRow(from, pick)
  if (!missing && row !== undefined) return idOfRow(def, row)
  if (!def.compositeKey) return missingValue(def, def.pk)
  const last = def.key[def.key.length - 1]!
  return { ...Object.fromEntries(def.key.map((c) => [c.field, row?.[c.field] ?? missingValue(def, c)])), [last.field]: missingValue(def, last) }
}

/** Operand text for a text operator: a piece of a stored value, with LIKE wildcards kept. */
const textOperand = (op: string, value: string): string =>
  op === "$like" || op === "$ilike" ? `${value.slice(0, 2)}%` : value.slice(0, Math.max(1, Math.floor(value.length / 2)))

const resolveAtom = (def: ModelDefinition, rows: ReadonlyArray<Row>, atom: Atom): Row => {
  const column = filterable(def)[atom.field]!
  const stored = pickRow(rows, atom.pick)?.[column.field]
  const value = stored !== undefined && stored !== null && (atom.pick % 2 === 0 || atom.fresh === undefined) ? stored : atom.fresh
  if (atom.op === "null") return { [column.field]: null }
  if (atom.op === "$null") return { [column.field]: { $null: atom.pick % 2 === 0 } }
  if (value === undefined || value === null) return {}
  if (atom.op === "=") return { [column.field]: value }
  if (atom.op === "$in" || atom.op === "$nin") {
    const other = atom.fresh === undefined || atom.fresh === null ? [] : [atom.fresh]
    return { [column.field]: { [atom.op]: [value, ...other] } }
  }
  if ((textOps as ReadonlyArray<string>).includes(atom.op)) {
    return { [column.field]: { [atom.op]: textOperand(atom.op, String(value)) } }
  }
  return { [column.field]: { [atom.op]: value } }
}

const resolveFilter = (def: ModelDefinition, rows: ReadonlyArray<Row>, plan: FilterPlan): Row | undefined => {
  if (plan.atoms.length === 0) return undefined
  const parts = plan.atoms.map((a) => resolveAtom(def, rows, a))
  if (plan.combine === "or") return { $or: parts }
  if (plan.combine === "not") return { $not: { $and: parts } }
  return { $and: parts }
}

/** Key sets a generated call may name a row by: the primary key (unless generated) and unique constraints. */
const keySets = (def: ModelDefinition): ReadonlyArray<ReadonlyArray<string>> => [
  ...(def.autoIncrement ? [] : [keyFieldsOf(def)]),
  ...def.uniqueSets.filter((s) => s.every((f) => !def.managedFields.has(f)))
]

/** The operand of an arithmetic update for a column's kind: small, storable on every database. */
const arithPatch = (def: ModelDefinition, plan: ArithPlan): Row => {
  const column = numericFields(def)[plan.field]!
  const n = plan.amount
  const operand = column.kind._tag === "bigint"
    ? BigInt(n)
    : column.kind._tag === "decimal"
    ? BigDecimal.unsafeFromString(plan.op === "$multiply" ? `${n}` : `${n}.25`)
    : column.kind._tag === "float" && plan.op !== "$multiply"
    ? n + 0.5
    : n
  return { [column.field]: { [plan.op]: operand } }
}

/** The later kinds of steps as calls (see {@link moreSteps}); undefined for the first kinds. */
const toLaterCall = (def: ModelDefinition, rows: ReadonlyArray<Row>, all: ReadonlyArray<Row>, step: Step): Call | undefined => {
  const idOf = (pick: number, missing: boolean, from = rows) => idFor(def, from, pick, missing)
  const keyOf = (pick: number, set: number, fresh: Row): { readonly fields: ReadonlyArray<string>; readonly key: Row } => {
    const sets = keySets(def)
    const fields = sets.length === 0 ? keyFieldsOf(def) : sets[set % sets.length]!
    // soft-deleted rows too: their keys are still taken (an upsert revives them, readBy skips them)
    const source = pickRow(all, pick) ?? fresh
    return { fields, key: Object.fromEntries(fields.map((f) => [f, source[f] ?? fresh[f] ?? null])) }
  }
  switch (step.kind) {
    case "exists":
      return { node: "exists", where: resolveFilter(def, rows, step.filter) }
    case "readBy":
    case "findBy":
      return { node: step.kind, key: keyOf(step.pick, step.set, step.fresh).key }
    case "versioned": {
      const row = pickRow(rows, step.pick)
      const version = (row?.version as number | undefined) ?? 1
      return { node: "update", id: idOf(step.pick, false), patch: step.patch, expectedVersion: step.stale ? version + 1 : version }
    }
    case "restore":
      return { node: "restore", id: idOf(step.pick, step.missing, all) }
    case "arith":
      return { node: "update", id: idOf(step.pick, step.missing), patch: arithPatch(def, step.arith) }
    case "bulkArith":
      return { node: "bulkUpdate", where: resolveFilter(def, rows, step.filter) ?? {}, patch: arithPatch(def, step.arith), confirm: true }
    case "upsert":
    case "createIgnore": {
      const { fields, key } = keyOf(step.pick, step.set, step.input)
      const input = step.existing ? { ...step.input, ...key } : step.input
      const conflictOn = keySets(def).length === 0 ? {} : { conflictOn: fields }
      if (step.kind === "createIgnore") return { node: "createIgnore", input, ...conflictOn }
      const update = step.arith === undefined ? step.patch : { ...step.patch, ...arithPatch(def, step.arith) }
      return { node: "upsert", args: { create: input, update, ...conflictOn } }
    }
    case "walk": {
      const columns = filterable(def)
      const column = columns[step.order % columns.length]!
      const orderBy = step.order % 3 === 0 ? [] : [step.order % 2 === 0 ? column.field : `-${column.field}`]
      const where = resolveFilter(def, rows, step.filter)
      return { node: "list", query: { ...(where === undefined ? {} : { where }), orderBy, limit: step.pageSize } }
    }
    default:
      return undefined
  }
}

/** The step as a node call, against the reference's live rows. */
const toCall = (def: ModelDefinition, rows: ReadonlyArray<Row>, all: ReadonlyArray<Row>, step: Step): Call => {
  const later = toLaterCall(def, rows, all, step)
  if (later !== undefined) return later
  const idOf = (pick: number, missing: boolean) => idFor(def, rows, pick, missing)
  switch (step.kind) {
    case "create":
      return { node: "create", input: step.input }
    case "duplicate": {
      const existing = pickRow(rows, step.pick)
      const sets = keySets(def)
      if (sets.length === 0) return { node: "create", input: step.input }
      const set = sets[step.set % sets.length]!
      const copied = existing === undefined ? {} : Object.fromEntries(set.map((f) => [f, existing[f]]))
      return { node: "create", input: { ...step.input, ...copied } }
    }
    case "bulkCreate":
      return { node: "bulkCreate", rows: step.repeat && step.rows.length > 0 ? [...step.rows, step.rows[0]] : step.rows }
    case "read":
    case "find":
    case "delete":
      return { node: step.kind, id: idOf(step.pick, step.missing) }
    case "update":
      return { node: "update", id: idOf(step.pick, step.missing), patch: step.patch }
    case "list":
    case "count": {
      const where = resolveFilter(def, rows, step.filter)
      if (step.kind === "count") return { node: "count", where }
      const columns = filterable(def)
      const column = columns[step.order % columns.length]!
      const orderBy = step.order % 3 === 0 ? [] : [step.order % 2 === 0 ? column.field : `-${column.field}`]
      return {
        node: "list",
        query: {
          ...(where === undefined ? {} : { where }),
          orderBy,
          ...(step.limit === undefined ? {} : { limit: step.limit }),
          ...(step.offset === undefined || step.limit === undefined ? {} : { offset: step.offset })
        }
      }
    }
    case "badFilter":
      return { node: "count", where: { "~no such field~": 1 } }
    case "bulkUpdate":
      return { node: "bulkUpdate", where: resolveFilter(def, rows, step.filter) ?? {}, patch: step.patch, confirm: step.confirm }
    case "bulkDelete":
      return { node: "bulkDelete", where: resolveFilter(def, rows, step.filter) ?? {}, confirm: step.confirm }
    default:
      throw new TypeError(`Testing.commands: no call for a ${step.kind} step`)
  }
}

/** What is compared of a call's answer: a list's records (cursor walks are steps of their own). */
const projected = (call: Call, observed: Observed): Observed =>
  call.node === "list" && observed._tag === "Success"
    ? { _tag: "Success", value: { records: (observed.value as { readonly records: unknown }).records } }
    : observed

/** What a call gave on either side: its value, or its error's tag (a defect's first line). */
type Observed =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly error: { readonly _tag: string } }

/** Runs a call on the database: the node's own result or its error's tag. */
const onDatabase = (target: Target, call: Call): Effect.Effect<Observed, never, SqlClient.SqlClient> => {
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

/** The clock's stamps differ between the two sides by the time a call takes: compared apart. */
const comparable = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(comparable)
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return canonical(value)
  const out: Row = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === "createdAt" || k === "updatedAt") continue
    out[k] = k === "deletedAt" ? v !== null && v !== undefined : comparable(v)
  }
  return canonical(out)
}

const describeOutcome = (o: Observed) =>
  o._tag === "Success" ? JSON.stringify(comparable(o.value)) : `fails with ${o.error._tag}`

/** The shown form of a value in a printed call. */
const show = (value: unknown): string => JSON.stringify(canonical(value))

const describeCall = (def: ModelDefinition, call: Call): string => {
  const { node, ...args } = call
  return `${def.name}.${node}(${Object.values(args).map(show).join(", ")})`
}

/**
 * Keys the database generates differ from the reference's (a sequence skips numbers after a
 * failed insert): calls go to the database with its keys, its answers come back with the
 * reference's. Learned from every create both sides made.
 */
class KeyMap {
  private readonly toDb = new Map<unknown, unknown>()
  private readonly toRef = new Map<unknown, unknown>()

  callToDb(call: Call): Call {
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

/** A cursor walk on the reference: every page's records, following `nextCursor`. */
const walkReference = (table: ReferenceTable, call: Call, env: Env): Observed => {
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

/** The same walk on the database, its records' generated keys translated. */
const walkDatabase = (target: Target, call: Call, key: KeyMap) =>
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

const sameOutcome = (expected: Observed, actual: Observed) =>
  expected._tag === actual._tag &&
  (expected._tag === "Success"
    ? JSON.stringify(comparable(expected.value)) === JSON.stringify(comparable((actual as typeof expected).value))
    : expected.error._tag === (actual as typeof expected).error._tag)

/** Runs one step on both sides and compares the answers, then every stored row. */
const runStep = (
  target: Target,
  table: ReferenceTable,
  key: KeyMap,
  step: Step,
  index: number,
  log: Array<string>,
  tenant: string | undefined
) =>
  Effect.gen(function*() {
    const def = table.definition
    const all = table.rows().filter((r) => !def.tenantScoped || r.tenantId === tenant)
    const live = all.filter((r) => !def.softDelete || r.deletedAt === null)
    const call = toCall(def, live, all, step)
    const walk = step.kind === "walk"
    log.push(`${describeCall(def, call)}${walk ? " walked page by page" : ""}`)
    const env: Env = { now: new Date(), tenant }
    const before = new Set(table.rows().map((r) => r[def.pk.field]))
    const expected = walk ? walkReference(table, call, env) : projected(call, table.execute(call, env))
    const asked = def.autoIncrement ? key.callToDb(call) : call
    const raw = walk ? yield* walkDatabase(target, asked, key) : projected(call, yield* onDatabase(target, asked))
    const created = () => table.rows().map((r) => r[def.pk.field]).filter((id) => !before.has(id))
    const actual = def.autoIncrement && !walk ? key.learn(def, call, expected, raw, created()) : raw
    if (!sameOutcome(expected, actual)) {
      return yield* new Mismatch({
        message: `step ${index + 1}, ${describeCall(def, call)}: the reference ${describeOutcome(expected)}, the database ${describeOutcome(actual)}`
      })
    }
    const stored = yield* Effect.orDie(target.nodes.list!({ includeDeleted: true, orderBy: [...keyFieldsOf(def)], limit: 100_000 }))
    const records = (stored as { records: ReadonlyArray<Row> }).records
    const dbRows = def.autoIncrement ? records.map((r) => key.recordToRef(def, r)) : records
    const refRows = table.rows().filter((r) => !def.tenantScoped || r.tenantId === tenant)
    if (JSON.stringify(comparable(dbRows)) !== JSON.stringify(comparable(refRows))) {
      return yield* new Mismatch({
        message: `after step ${index + 1}, ${describeCall(def, call)}: the reference holds ${JSON.stringify(comparable(refRows))}, the database ${
          JSON.stringify(comparable(dbRows))
        }`
      })
    }
  })

/** Runs one sequence in a rolled-back transaction; a Mismatch names the step and both answers. */
const runSequence = (
  targets: ReadonlyArray<Target>,
  tables: ReadonlyArray<ReferenceTable>,
  steps: ReadonlyArray<Step>,
  log: Array<string>,
  tenant: string | undefined
) =>
  rollback(Effect.gen(function*() {
    for (const t of tables) t.clear()
    for (const target of targets) {
      const clear = target.nodes.bulkDelete
      if (clear !== undefined) yield* Effect.orDie(clear({}, { confirm: true }))
    }
    const keys = targets.map(() => new KeyMap())
    for (const [i, step] of steps.entries()) {
      yield* runStep(targets[step.model]!, tables[step.model]!, keys[step.model]!, step, i, log, tenant)
    }
  }))

/** @internal */
export interface CommandsOptions {
  readonly numRuns?: number | undefined
  readonly maxCommands?: number | undefined
  readonly seed?: number | undefined
  readonly path?: string | undefined
}

/** A sequence on which the database and the reference disagreed, shrunk. @internal */
export class CommandsFailed extends Data.TaggedError("CommandsFailed")<{
  readonly seed: number
  readonly path: string
  readonly sequence: ReadonlyArray<string>
  readonly mismatch: string
  readonly message: string
}> {}

/**
 * Runs `numRuns` random sequences against the database in context and the reference; the
 * first disagreement is shrunk and reported with its seed and path.
 * @internal
 */
export const run = (
  targets: ReadonlyArray<Target>,
  options: CommandsOptions = {}
): Effect.Effect<{ readonly runs: number; readonly steps: number }, CommandsFailed, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    for (const t of targets) {
      if (t.definition.instance !== undefined) {
        return yield* Effect.dieMessage(`Testing.commands: ${t.definition.name} is bound to an instance (not yet supported)`)
      }
    }
    const runtime = yield* Effect.runtime<SqlClient.SqlClient>()
    // tenant-scoped models run as the current tenant, on both sides
    const tenant = Option.getOrUndefined(yield* Effect.serviceOption(CurrentTenant))
    const tables = targets.map((t) => makeTable(t.definition))
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
    let steps = 0
    let lastLog: Array<string> = []
    let lastMismatch = ""
    const property = fc.asyncProperty(
      // long sequences (shrinking shortens them): state builds up before the queries that matter
      fc.array(stepArbitrary(targets.map((t) => t.definition)), { maxLength: options.maxCommands ?? 30, size: "max" }),
      async (sequence) => {
        const log: Array<string> = []
        const exit = await Runtime.runPromiseExit(runtime)(runSequence(targets, tables, sequence, log, tenant))
        steps += sequence.length
        if (Exit.isFailure(exit)) {
          lastLog = log
          const error = Cause.failureOption(exit.cause)
          lastMismatch = Option.isSome(error) && error.value instanceof Mismatch ? error.value.message : Cause.pretty(exit.cause)
          return false
        }
        return true
      }
    )
    const check = (path: string | undefined, numRuns: number) =>
      Effect.tryPromise(() => fc.check(property, { numRuns, seed, ...(path === undefined ? {} : { path }), endOnFailure: false }))
    // a shrink path that does not replay exactly (a step's outcome can hang on what ran before it
    // in the original run) falls back to the whole run from the seed, which shrinks the same way
    const replayed = options.path === undefined ? undefined : yield* Effect.option(check(options.path, options.numRuns ?? 50))
    const result = replayed !== undefined && Option.isSome(replayed) && replayed.value.failed
      ? replayed.value
      : yield* Effect.orDie(check(undefined, options.numRuns ?? 50))
    if (!result.failed) return { runs: result.numRuns, steps }
    // the last failing run is the shrunk one: run it again to log exactly its calls
    const [shrunk] = result.counterexample!
    const log: Array<string> = []
    const exit = yield* Effect.exit(runSequence(targets, tables, shrunk, log, tenant))
    const mismatch = Exit.isFailure(exit) && Option.isSome(Cause.failureOption(exit.cause))
      ? (Option.getOrThrow(Cause.failureOption(exit.cause)) as { message: string }).message
      : lastMismatch
    const sequence = Exit.isFailure(exit) ? log : lastLog
    return yield* new CommandsFailed({
      seed,
      path: result.counterexamplePath ?? "",
      sequence,
      mismatch,
      message: [
        `Testing.commands: the database and the reference disagree (seed ${seed}, path "${result.counterexamplePath}"; replay with { seed: ${seed}, path: "${result.counterexamplePath}", numRuns: ${options.numRuns ?? 50} })`,
        `shrunk to ${sequence.length} call(s):`,
        ...sequence.map((s, i) => `  ${i + 1}. ${s}`),
        mismatch
      ].join("\n")
    })
  })
