/**
 * Model-based tests: random sequences of node calls (failing ones included: duplicates,
 * missing ids, bad filters) run against the database and the in-memory reference, compared
 * after every step; a failure is shrunk to a minimal sequence and printed with the seed and
 * path that replay it. Each sequence runs in a transaction rolled back at its end.
 * (Internal module: not part of the public API.)
 */
import { SqlClient } from "@effect/sql"
import { Cause, Data, Effect, Exit, FastCheck as fc, Option, Runtime } from "effect"
import type { ModelDefinition } from "../model/definition.js"
import { run as runTransaction } from "../runtime/transaction.js"
import { createInput, fieldArbitrary, patch } from "./arbitrary.js"
import { canonical } from "./equivalence.js"
import { CurrentTenant } from "../../Tenant.js"
import { rollback } from "./layers.js"
import type { NodeFunctions } from "./calls.js"
import { onNodes } from "./calls.js"
import type { Call, ReferenceTable } from "./reference.js"
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

const stepArbitrary = (defs: ReadonlyArray<ModelDefinition>): fc.Arbitrary<Step> =>
  fc.nat({ max: defs.length - 1 }).chain((model) => {
    const def = defs[model]!
    // the key always given: a default (a random UUID) would differ between the two sides
    const input = def.autoIncrement ? createInput(def) : createInput(def, { [def.pk.field]: fieldArbitrary(def, def.pk, undefined) })
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
      { weight: 1, arbitrary: fc.constant({ model, kind: "badFilter" as const }) }
    ) as fc.Arbitrary<Step>
  })

/** A key no stored row has (the primary key's own type). */
const missingId = (def: ModelDefinition): unknown => (def.pk.kind._tag === "string" ? "~missing~" : -424242)

const pickRow = (rows: ReadonlyArray<Row>, pick: number): Row | undefined => rows.length === 0 ? undefined : rows[pick % rows.length]

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

/** The step as a node call, against the reference's live rows. */
const toCall = (def: ModelDefinition, rows: ReadonlyArray<Row>, step: Step): Call => {
  const pk = def.pk.field
  const idOf = (pick: number, missing: boolean) => (missing ? missingId(def) : pickRow(rows, pick)?.[pk] ?? missingId(def))
  switch (step.kind) {
    case "create":
      return { node: "create", input: step.input }
    case "duplicate": {
      const existing = pickRow(rows, step.pick)
      const sets = [
        ...(def.autoIncrement ? [] : [[pk]]),
        ...def.uniqueSets.filter((s) => s.every((f) => !def.managedFields.has(f)))
      ]
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
      const table = tables[step.model]!
      const def = table.definition
      const key = keys[step.model]!
      const live = table.rows().filter((r) => !def.softDelete || r.deletedAt === null)
      const call = toCall(def, live, step)
      log.push(describeCall(def, call))
      const now = new Date()
      const before = new Set(table.rows().map((r) => r[def.pk.field]))
      const expected = projected(call, table.execute(call, { now, tenant }))
      const raw = projected(call, yield* onDatabase(targets[step.model]!, def.autoIncrement ? key.callToDb(call) : call))
      const actual = def.autoIncrement ? key.learn(def, call, expected, raw, table.rows().map((r) => r[def.pk.field]).filter((id) => !before.has(id))) : raw
      const same = expected._tag === actual._tag &&
        (expected._tag === "Success"
          ? JSON.stringify(comparable(expected.value)) === JSON.stringify(comparable((actual as typeof expected).value))
          : expected.error._tag === (actual as typeof expected).error._tag)
      if (!same) {
        return yield* new Mismatch({
          message: `step ${i + 1}, ${describeCall(def, call)}: the reference ${describeOutcome(expected)}, the database ${describeOutcome(actual)}`
        })
      }
      const stored = yield* Effect.orDie(targets[step.model]!.nodes.list!({ includeDeleted: true, orderBy: [def.pk.field], limit: 100_000 }))
      const records = (stored as { records: ReadonlyArray<Row> }).records
      const dbRows = def.autoIncrement ? records.map((r) => key.recordToRef(def, r)) : records
      if (JSON.stringify(comparable(dbRows)) !== JSON.stringify(comparable(table.rows()))) {
        return yield* new Mismatch({
          message: `after step ${i + 1}, ${describeCall(def, call)}: the reference holds ${JSON.stringify(comparable(table.rows()))}, the database ${JSON.stringify(comparable(dbRows))}`
        })
      }
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
    const result = yield* Effect.promise(() =>
      fc.check(property, {
        numRuns: options.numRuns ?? 50,
        seed,
        ...(options.path === undefined ? {} : { path: options.path }),
        endOnFailure: false
      })
    )
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
        `Testing.commands: the database and the reference disagree (seed ${seed}, path "${result.counterexamplePath}"; replay with { seed: ${seed}, path: "${result.counterexamplePath}" })`,
        `shrunk to ${sequence.length} call(s):`,
        ...sequence.map((s, i) => `  ${i + 1}. ${s}`),
        mismatch
      ].join("\n")
    })
  })
