/**
 * Model-based tests: random sequences of node calls (failing ones included: duplicates,
 * missing ids, bad filters, conflict targets that are not one, stale versions, broken
 * aggregate queries) run against the database and the in-memory reference, compared after
 * every step; a failure is shrunk to a minimal sequence and printed with the seed and path
 * that replay it. Each sequence runs in a transaction rolled back at its end. The steps are
 * planned in `commands/steps.ts` and `commands/bulkSteps.ts`, resolved into calls in
 * `commands/resolve.ts` and `commands/bulkCalls.ts`, compared in `commands/compare.ts`.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import { CurrentTenant } from "../../Tenant.js"
import { fromClient } from "../dialect/ofClient.js"
import type { ModelDefinition } from "../model/definition.js"
import { keyFieldsOf } from "../nodes/shared.js"
import type { Target } from "./commands/compare.js"
import {
  comparable,
  describeCall,
  describeOutcome,
  KeyMap,
  Mismatch,
  onDatabase,
  projected,
  sameOutcome,
  walkDatabase,
  walkReference
} from "./commands/compare.js"
import { toCall } from "./commands/resolve.js"
import type { Step } from "./commands/steps.js"
import { stepArbitrary } from "./commands/steps.js"
import { rollback } from "./layers.js"
import type { Env, ReferenceDialect, ReferenceTable } from "./reference.js"
import { makeTable } from "./reference.js"

import { withForeignKeys } from "./commands/foreignKeys.js"
import { keysOf } from "./reference/foreignKeys.js"

export type { Target } from "./commands/compare.js"
export { Mismatch } from "./commands/compare.js"

type Row = Record<string, unknown>

/** Runs one step on both sides and compares the answers, then every stored row. */
const runStep = (
  targets: ReadonlyArray<Target>,
  tables: ReadonlyArray<ReferenceTable>,
  keys: ReadonlyArray<KeyMap>,
  step: Step,
  index: number,
  log: Array<string>,
  tenant: string | undefined,
  dialect: ReferenceDialect
) =>
  Effect.gen(function*() {
    const [target, table, key] = [targets[step.model]!, tables[step.model]!, keys[step.model]!]
    const def = table.definition
    const related = referrers(def, tables.map((t) => t.definition))
    const rowsOf = (d: ModelDefinition) => tables.find((t) => t.definition === d)?.rows().filter((r) => !d.tenantScoped || r.tenantId === tenant)
    const all = rowsOf(def)!
    const live = all.filter((r) => !def.softDelete || r.deletedAt === null)
    const call = withForeignKeys(def, toCall(def, live, all, step), rowsOf)
    const walk = step.kind === "walk"
    log.push(`${describeCall(def, call)}${walk ? " walked page by page" : ""}`)
    const env: Env = { now: new Date(), tenant, dialect }
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
    // every table: a write's referential actions reach the tables of other models
    for (const [k, other] of tables.entries()) {
      if (other !== table && !related.has(other.definition)) continue
      yield* sameRows(targets[k]!, other, keys[k]!, tenant, `after step ${index + 1}, ${describeCall(def, call)}`)
    }
  })

/** The stored rows of a model on both sides (generated keys translated) are the same. */
const sameRows = (target: Target, table: ReferenceTable, key: KeyMap, tenant: string | undefined, where: string) =>
  Effect.gen(function*() {
    const def = table.definition
    const stored = yield* Effect.orDie(target.nodes.list!({ includeDeleted: true, orderBy: [...keyFieldsOf(def)], limit: 100_000 }))
    const records = (stored as { records: ReadonlyArray<Row> }).records
    const dbRows = def.autoIncrement ? records.map((r) => key.recordToRef(def, r)) : records
    const refRows = table.rows().filter((r) => !def.tenantScoped || r.tenantId === tenant)
    if (JSON.stringify(comparable(dbRows)) !== JSON.stringify(comparable(refRows))) {
      return yield* new Mismatch({
        message: `${where}: the reference holds ${def.name} ${JSON.stringify(comparable(refRows))}, the database ${JSON.stringify(comparable(dbRows))}`
      })
    }
  })

/** The models whose rows a delete or key update of `def` can change: those referring to it, and theirs. */
const referrers = (def: ModelDefinition, defs: ReadonlyArray<ModelDefinition>): ReadonlySet<ModelDefinition> => {
  const out = new Set<ModelDefinition>()
  const stack = [def]
  while (stack.length > 0) {
    const target = stack.pop()!
    for (const d of defs) {
      if (!out.has(d) && d !== def && keysOf(d).some((k) => k.target === target)) {
        out.add(d)
        stack.push(d)
      }
    }
  }
  return out
}

/** Runs one sequence in a rolled-back transaction; a Mismatch names the step and both answers. */
const runSequence = (
  targets: ReadonlyArray<Target>,
  tables: ReadonlyArray<ReferenceTable>,
  steps: ReadonlyArray<Step>,
  log: Array<string>,
  tenant: string | undefined,
  dialect: ReferenceDialect
) =>
  rollback(Effect.gen(function*() {
    for (const t of tables) t.clear()
    for (const target of targets) {
      const clear = target.nodes.bulkDelete
      if (clear !== undefined) yield* Effect.orDie(clear({}, { confirm: true }))
    }
    const keys = targets.map(() => new KeyMap())
    for (const [i, step] of steps.entries()) {
      yield* runStep(targets, tables, keys, step, i, log, tenant, dialect)
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
    // the reference follows the database's by-design differences (MySQL's any-unique-key upserts)
    const dialect = fromClient(yield* SqlClient.SqlClient).name as ReferenceDialect
    // each table finds the others, for relations (relation filters, include)
    const tables: Array<ReferenceTable> = []
    const related = (def: ModelDefinition) => tables.find((t) => t.definition === def)
    for (const t of targets) tables.push(makeTable(t.definition, related, () => tables))
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
    let steps = 0
    let lastLog: Array<string> = []
    let lastMismatch = ""
    const property = fc.asyncProperty(
      // long sequences (shrinking shortens them): state builds up before the queries that matter
      fc.array(stepArbitrary(targets.map((t) => t.definition)), { maxLength: options.maxCommands ?? 30, size: "max" }),
      async (sequence) => {
        const log: Array<string> = []
        const exit = await Runtime.runPromiseExit(runtime)(runSequence(targets, tables, sequence, log, tenant, dialect))
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
    const exit = yield* Effect.exit(runSequence(targets, tables, shrunk, log, tenant, dialect))
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
