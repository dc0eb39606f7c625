/**
 * Model-based tests of workflows: random workflows of a registry's model nodes — valid graphs
 * (creates feeding reads, updates and deletes through connections, lists and counts) with
 * parameters drawn from the kit's arbitraries, and invalid ones (an unknown node type, a
 * connection from a node that does not exist, an unknown parameter) — each executed on the
 * database and on the reference layer; results, or the error and the node that failed, are
 * compared. A failure is shrunk to a minimal workflow and printed as JSON with the seed and
 * path that replay it.
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
import type * as Model from "../../Model.js"
import * as Workflow from "../../Workflow.js"
import type { ModelDefinition } from "../model/definition.js"
import { fromClient } from "../dialect/ofClient.js"
import { encodeRecord } from "../model/json.js"
import { keyedCreateInput, patch } from "./arbitrary.js"
import type { NodeFunctions } from "./calls.js"
import { canonical } from "./equivalence.js"
import { rollback } from "./layers.js"
import { layer, makeStore } from "./referenceLayer.js"

type Row = Record<string, unknown>

/** A model the generator draws nodes for. @internal */
export interface WorkflowModel {
  readonly model: Model.Any
  readonly definition: ModelDefinition
  readonly nodes: NodeFunctions<SqlClient.SqlClient>
}

const operations = ["Create", "Read", "Update", "Delete", "List", "Count"] as const

/** One node before it becomes data: which earlier node feeds its id, and how it is broken. */
interface NodePlan {
  readonly model: number
  readonly op: (typeof operations)[number]
  readonly input: Row
  readonly patch: Row
  readonly link: number
  readonly limit: number
  readonly broken: "no" | "unknownType" | "badConnection" | "badParam"
}

const nodePlan = (models: ReadonlyArray<WorkflowModel>): fc.Arbitrary<NodePlan> =>
  fc.nat({ max: models.length - 1 }).chain((model) => {
    const def = models[model]!.definition
    const input = keyedCreateInput(def)
    return fc.record({
      model: fc.constant(model),
      op: fc.constantFrom(...(def.appendOnly ? operations.filter((o) => o !== "Update" && o !== "Delete") : operations)),
      input,
      patch: patch(def),
      link: fc.nat(),
      limit: fc.integer({ min: 1, max: 4 }),
      broken: fc.oneof(
        { weight: 12, arbitrary: fc.constant("no" as const) },
        { weight: 1, arbitrary: fc.constantFrom("unknownType" as const, "badConnection" as const, "badParam" as const) }
      )
    })
  })

const byIdOps: ReadonlySet<string> = new Set(["Read", "Update", "Delete"])

/**
 * A node's operation: a read, update or delete with no earlier create of its model to take an
 * id from becomes a create, but for one in four, which keeps an id that may not exist.
 */
const opOf = (plans: ReadonlyArray<NodePlan>, i: number): NodePlan["op"] => {
  const plan = plans[i]!
  if (!byIdOps.has(plan.op) || plan.limit === 4) return plan.op
  return plans.slice(0, i).some((p, j) => p.model === plan.model && opOf(plans, j) === "Create") ? plan.op : "Create"
}

/** The `id` parameter naming an encoded record: its key, or the object of a composite key's fields. */
const keyParam = (def: ModelDefinition, encoded: Row): unknown =>
  def.compositeKey ? Object.fromEntries(def.key.map((c) => [c.field, encoded[c.field]])) : encoded[def.pk.field] ?? 1

/** The node plans as a workflow: ids connected from an earlier create of the same model. */
const toWorkflow = (models: ReadonlyArray<WorkflowModel>, plans: ReadonlyArray<NodePlan>): Workflow.Workflow => {
  let workflow = Workflow.make("generated")
  for (const [i, plan] of plans.entries()) {
    const { definition: def } = models[plan.model]!
    const id = `n${i}`
    const creates = plans.slice(0, i).flatMap((p, j) => (p.model === plan.model && opOf(plans, j) === "Create" ? [j] : []))
    const source = creates.length === 0 ? undefined : creates[plan.link % creates.length]!
    const op = opOf(plans, i)
    const type = plan.broken === "unknownType" ? "NoSuchNode" : `${def.name}${op}Node`
    const params: Row = {}
    const encoded = encodeRecord(def, plan.input)
    if (op === "Create") Object.assign(params, encoded)
    if (op === "Update") params.fields = encodeRecord(def, plan.patch)
    const byId = op === "Read" || op === "Update" || op === "Delete"
    // no create to read from: an id that may well not exist; a composite key (a record has no
    // `id` to connect) is the key of the earlier create's input, given as a value
    if (byId && (source === undefined || def.compositeKey)) {
      params.id = keyParam(def, source === undefined ? encoded : encodeRecord(def, plans[source]!.input))
    }
    if (op === "List") Object.assign(params, { limit: plan.limit, order_by: [def.pk.field] })
    if (op === "List" || op === "Count") {
      const field = def.userColumns.find((c) => c.kind._tag === "string" || c.kind._tag === "enum")
      if (field !== undefined && plan.link % 2 === 0 && encoded[field.field] !== undefined) params.filter = { [field.field]: encoded[field.field] }
    }
    if (plan.broken === "badParam") params["~unknown~"] = 1
    workflow = Workflow.addNode(workflow, type, id, params)
    if (byId && source !== undefined && !def.compositeKey) workflow = Workflow.connect(workflow, `n${source}`, "id", id, "id")
    if (plan.broken === "badConnection") workflow = Workflow.connect(workflow, `n${i}_missing`, "id", id, "id")
  }
  return workflow
}

/** What is compared of a run: the results (timestamps and generated keys apart), or what failed where. */
const outcomeOf = (models: ReadonlyArray<WorkflowModel>, exit: Exit.Exit<Workflow.RunResult, unknown>): unknown => {
  const generated = new Set(models.filter((m) => m.definition.autoIncrement).map((m) => m.definition.pk.field))
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip)
    if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return canonical(value)
    const out: Row = {}
    for (const [k, v] of Object.entries(value)) {
      if (k === "createdAt" || k === "updatedAt" || k === "nextCursor") continue
      out[k] = k === "deletedAt" ? v !== null && v !== undefined : generated.has(k) && typeof v === "number" ? "generated" : strip(v)
    }
    return out
  }
  if (Exit.isSuccess(exit)) return { results: strip(exit.value.results) }
  const error = Cause.failureOption(exit.cause)
  if (Option.isNone(error)) return { defect: Cause.pretty(exit.cause).split("\n")[0] }
  const e = error.value as { readonly _tag?: string; readonly nodeId?: string; readonly path?: string; readonly cause?: { readonly _tag?: string } }
  return { error: e._tag, node: e.nodeId ?? e.path, cause: e.cause?._tag }
}

/** A workflow on which the database and the reference disagreed, shrunk. @internal */
export class WorkflowsFailed extends Data.TaggedError("WorkflowsFailed")<{
  readonly seed: number
  readonly path: string
  readonly workflow: string
  readonly mismatch: string
  readonly message: string
}> {}

/** @internal */
export interface WorkflowsOptions {
  readonly numRuns?: number | undefined
  readonly maxNodes?: number | undefined
  readonly seed?: number | undefined
  readonly path?: string | undefined
}

/** Runs one workflow on both sides: the mismatch, if any. */
const runBoth = <E, R>(
  registry: Workflow.Registry<E, R>,
  models: ReadonlyArray<WorkflowModel>,
  workflow: Workflow.Workflow
) =>
  Effect.gen(function*() {
    // one node at a time: both sides then run the nodes in the same order
    const execute = Workflow.execute(registry, workflow, { concurrency: 1 })
    const onDatabase = yield* rollback(Effect.gen(function*() {
      for (const { nodes } of models) {
        const clear = nodes.bulkDelete
        if (clear !== undefined) yield* Effect.orDie(clear({}, { confirm: true }))
      }
      return yield* Effect.exit(execute)
    }))
    // the reference follows the database's by-design differences (MySQL's any-unique-key upserts)
    const store = makeStore(models.map((m) => m.definition), fromClient(yield* SqlClient.SqlClient).name)
    const onReference = yield* Effect.exit(execute).pipe(Effect.provide(layer(store)))
    const expected = JSON.stringify(outcomeOf(models, onReference))
    const actual = JSON.stringify(outcomeOf(models, onDatabase))
    return expected === actual ? undefined : `the reference ${expected}, the database ${actual}`
  })

/**
 * Runs `numRuns` random workflows on the database in context and on the reference; the first
 * disagreement is shrunk and reported with its seed and path.
 * @internal
 */
export const run = <E, R>(
  registry: Workflow.Registry<E, R>,
  models: ReadonlyArray<WorkflowModel>,
  options: WorkflowsOptions = {}
): Effect.Effect<{ readonly runs: number }, WorkflowsFailed, R | SqlClient.SqlClient> =>
  Effect.gen(function*() {
    yield* SqlClient.SqlClient
    const runtime = yield* Effect.runtime<R | SqlClient.SqlClient>()
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
    let lastMismatch = ""
    const property = fc.asyncProperty(
      fc.array(nodePlan(models), { minLength: 1, maxLength: options.maxNodes ?? 6 }),
      async (plans) => {
        const exit = await Runtime.runPromiseExit(runtime)(runBoth(registry, models, toWorkflow(models, plans)))
        const mismatch = Exit.isSuccess(exit) ? exit.value : Cause.pretty(exit.cause)
        if (mismatch !== undefined) lastMismatch = mismatch
        return mismatch === undefined
      }
    )
    const result = yield* Effect.promise(() =>
      fc.check(property, { numRuns: options.numRuns ?? 50, seed, ...(options.path === undefined ? {} : { path: options.path }), endOnFailure: false })
    )
    if (!result.failed) return { runs: result.numRuns }
    const [shrunk] = result.counterexample!
    const workflow = Workflow.toJson(toWorkflow(models, shrunk), 2)
    const mismatch = (yield* Effect.orDie(runBoth(registry, models, toWorkflow(models, shrunk)))) ?? lastMismatch
    const path = result.counterexamplePath ?? ""
    return yield* new WorkflowsFailed({
      seed,
      path,
      workflow,
      mismatch,
      message: [
        `Testing.workflows: the database and the reference disagree (seed ${seed}, path "${path}"; replay with { seed: ${seed}, path: "${path}" })`,
        `shrunk to the workflow:`,
        workflow,
        mismatch
      ].join("\n")
    })
  })
