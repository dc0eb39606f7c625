/**
 * Workflows over served models (HTTP `POST /workflows/execute`, the MCP `workflow_execute`
 * tool): a JSON workflow whose nodes are the exposed nodes of the served models only, each
 * node authorised as a direct call would be, run with the request's tenant, its results as
 * JSON (records encoded by the Json module, hidden fields left out).
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { WorkflowError } from "../../Errors.js"
import * as Tenant from "../../Tenant.js"
import * as Workflow from "../../Workflow.js"
import type { NodeType } from "../workflow/nodeType.js"
import { paramError } from "../workflow/nodeType.js"
import { nodeTypes } from "../workflow/modelNodes.js"
import type { Registry } from "../workflow/registry.js"
import { MalformedRequest } from "./errors.js"
import type { NodeName, Served } from "./operations.js"
import { encodeRecord } from "./operations.js"

type Json = Record<string, unknown>
const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The workflow node types of the exposed nodes of the served models. @internal */
export const registryOf = (served: ReadonlyArray<Served>): Registry => {
  const types = new Map<string, NodeType>()
  for (const s of served) {
    for (const t of nodeTypes(s.model)) {
      if (t.origin === undefined || !s.nodes.has(t.origin.node as NodeName)) continue
      const checked = withoutHiddenInput(s, t)
      for (const name of [t.type, ...t.aliases]) types.set(name, checked)
    }
  }
  return { types }
}

/** The path of a hidden field a filter names (through `$and` / `$or` / `$not`), if any. */
const hiddenInFilter = (s: Served, where: unknown, path: string): string | undefined => {
  if (Array.isArray(where)) {
    for (let i = 0; i < where.length; i++) {
      const found = hiddenInFilter(s, where[i], `${path}[${i}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (!isObject(where)) return undefined
  for (const [key, value] of Object.entries(where)) {
    if (s.hidden.has(key)) return `${path}.${key}`
    if (key === "$and" || key === "$or" || key === "$not") {
      const found = hiddenInFilter(s, value, `${path}.${key}`)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/** The path of a hidden field a node's decoded input filters, orders or projects by, if any. */
const hiddenInInput = (s: Served, input: unknown, path: string): string | undefined => {
  // plain objects only: values (dates, decimals) are not searched
  if (!isObject(input) || Object.getPrototypeOf(input) !== Object.prototype) return undefined
  for (const [key, value] of Object.entries(input)) {
    const at = path === "" ? key : `${path}.${key}`
    const found = key === "where"
      ? hiddenInFilter(s, value, at)
      : (key === "orderBy" || key === "select") && Array.isArray(value)
      ? value.some((f) => typeof f === "string" && s.hidden.has(f.replace(/^-/, ""))) ? at : undefined
      : hiddenInInput(s, value, at)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * A model's node type whose decoded input may not filter, order or project by a hidden field:
 * a workflow cannot probe what the model routes refuse (as there, it is an unknown field).
 */
const withoutHiddenInput = (s: Served, t: NodeType): NodeType =>
  s.hidden.size === 0 ? t : {
    ...t,
    decode: (params) =>
      Effect.flatMap(t.decode(params), (input) => {
        const hidden = hiddenInInput(s, input, "")
        return hidden === undefined ? Effect.succeed(input) : Effect.fail(paramError(hidden, "unknown field"))
      })
  }


/** Values JSON cannot hold as they are (bigints, decimals, dates, Options), as JSON. */
const jsonSafe = (u: unknown): unknown => {
  if (typeof u === "bigint") return u.toString()
  if (u instanceof Date) return u.toISOString()
  if (BigDecimal.isBigDecimal(u)) return BigDecimal.format(u)
  if (DateTime.isDateTime(u)) return DateTime.formatIso(u)
  if (Option.isOption(u)) return Option.isSome(u) ? jsonSafe(u.value) : null
  if (Array.isArray(u)) return u.map(jsonSafe)
  if (isObject(u)) return Object.fromEntries(Object.entries(u).map(([k, v]) => [k, jsonSafe(v)]))
  return u
}

/** Removes the hidden fields wherever they are (a safety net under the encoding by shape). */
const withoutHidden = (s: Served, u: unknown): unknown => {
  if (s.hidden.size === 0) return u
  if (Array.isArray(u)) return u.map((v) => withoutHidden(s, v))
  if (!isObject(u)) return u
  const out: Json = {}
  for (const [k, v] of Object.entries(u)) if (!s.hidden.has(k)) out[k] = withoutHidden(s, v)
  return out
}

/** A node's result as JSON: its records encoded with the model's Json codec, hidden fields out. */
const encodeResult = (s: Served, node: string, result: unknown): unknown => withoutHidden(s, encodeShape(s, node, result))

const encodeShape = (s: Served, node: string, result: unknown): unknown => {
  if (!isObject(result)) return jsonSafe(result)
  if (node === "create") return encodeRecord(s, result)
  // read and update spread the record into their result, beside a flag
  if ((node === "read" || node === "update") && result.found !== false) {
    const { found, updated, ...record } = result
    return { ...encodeRecord(s, record), ...(found === undefined ? {} : { found }), ...(updated === undefined ? {} : { updated }) }
  }
  const out: Json = {}
  for (const [k, v] of Object.entries(result)) {
    out[k] = k === "records" && Array.isArray(v)
      ? v.map((r) => encodeRecord(s, r))
      : k === "record" && isObject(v)
      ? encodeRecord(s, v)
      : jsonSafe(v)
  }
  return out
}

/** What a served workflow call needs from its surface (HTTP, MCP). @internal */
export interface Surface<E, R> {
  /** The tenant of the call, asked only when a node's model is tenant-scoped. */
  readonly tenant: (s: Served, node: string) => Effect.Effect<Tenant.TenantId, E, R>
  /** Decides on each node as on a direct call of it. */
  readonly authorize: (s: Served, node: string, tenant: Tenant.TenantId | undefined) => Effect.Effect<void, E, R>
}

/**
 * Runs `{ workflow, transaction? }` (JSON) over the served models: every node type must be an
 * exposed node of a served model (anything else is a `WorkflowError` naming the node, before
 * anything runs), every node is authorised, then the run; results encoded. @internal
 */
export const execute = <E, R>(served: ReadonlyArray<Served>, registry: Registry, body: unknown, surface: Surface<E, R>) =>
  Effect.gen(function*() {
    if (!isObject(body) || body.workflow === undefined) {
      return yield* new MalformedRequest({ part: "body", reason: "expected { workflow, transaction? }" })
    }
    const unknownKey = Object.keys(body).find((k) => k !== "workflow" && k !== "transaction")
    if (unknownKey !== undefined) return yield* new MalformedRequest({ part: unknownKey, reason: "unknown field" })
    if (body.transaction !== undefined && typeof body.transaction !== "boolean") {
      return yield* new MalformedRequest({ part: "transaction", reason: "expected true or false" })
    }
    const workflow = yield* Workflow.fromJson(body.workflow)
    const byModel = new Map(served.map((s) => [s.def.name, s]))
    const involved: Array<readonly [Served, string]> = []
    for (const spec of workflow.nodes) {
      const origin = registry.types.get(spec.type)?.origin
      const s = origin === undefined ? undefined : byModel.get(origin.model)
      if (origin === undefined || s === undefined) {
        return yield* new WorkflowError({ nodeId: spec.id, path: "type", reason: `no node type ${JSON.stringify(spec.type)} is served` })
      }
      involved.push([s, origin.node])
    }
    const scoped = involved.find(([s]) => s.def.tenantScoped)
    const tenant = scoped === undefined ? undefined : yield* surface.tenant(scoped[0], scoped[1])
    for (const [s, node] of involved) yield* surface.authorize(s, node, tenant)
    const run = Workflow.execute(registry as Workflow.Registry<unknown, never>, workflow, { transaction: body.transaction === true })
    const { results, runId } = yield* (tenant === undefined ? run : Effect.provideService(run, Tenant.CurrentTenant, tenant))
    const encoded: Record<string, { readonly result: unknown }> = {}
    for (const spec of workflow.nodes) {
      const origin = registry.types.get(spec.type)!.origin!
      const entry = results[spec.id]
      if (entry !== undefined) encoded[spec.id] = { result: encodeResult(byModel.get(origin.model)!, origin.node, entry.result) }
    }
    return { runId, results: encoded }
  })
