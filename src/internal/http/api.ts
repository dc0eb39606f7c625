/**
 * The `HttpApi` of a set of served models: a group per model, an endpoint per exposed node,
 * each documented (OpenAPI) with the model's JSON Schemas and the problem responses it can
 * give. The endpoints are implemented with raw handlers (`http/handlers.ts`) that read and
 * decode the request themselves with the `Json` module, so the documentation schemas are never
 * used to decode. The serving settings travel with the api as an annotation.
 * (Internal module: not part of the public API.)
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import type { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import type { HttpMethod } from "@effect/platform/HttpMethod"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import type { NodeName, Served } from "../serving/operations.js"
import { keyArguments } from "../serving/operations.js"
import * as JS from "../serving/jsonSchema.js"
import { Problem } from "../serving/problem.js"
import { servedRelations } from "../serving/relations.js"
import { registryOf } from "../serving/workflows.js"

/** Where a tenant-scoped model's tenant comes from. @internal */
export type TenantSource =
  | { readonly _tag: "header"; readonly name: string }
  | { readonly _tag: "context" }

/** The serving settings of an api. @internal */
export interface HttpSettings {
  readonly served: ReadonlyArray<Served>
  readonly tenant: TenantSource
  /** Largest request body, in bytes. */
  readonly maxBodySize: number
  /** Longest a request may run, in milliseconds. */
  readonly timeout: number
  /** Path prefix of the model routes (`""` or `/api`, say). */
  readonly prefix: string
  /** Whether `POST {prefix}/workflows/execute` is served. */
  readonly workflows?: boolean | undefined
}

/** The settings annotation. @internal */
export class Settings extends Context.Tag("effect-dataflow/http/Settings")<Settings, HttpSettings>() {}

/** A documentation-only schema: a JSON Schema under a component name. */
const documented = (identifier: string, jsonSchema: JS.JsonSchema) =>
  Schema.Unknown.annotations({ identifier, jsonSchema })

/** The name of a model's component. @internal */
export const componentName = (s: Served, part: JS.Part) => (part === "Record" ? s.def.name : `${s.def.name}${part}`)

/** Where a model's component is. */
const refs: JS.Refs = (s, part) => `#/components/schemas/${componentName(s, part)}`

/** The component schemas of a model (records, inputs, filter, include). @internal */
export const components = (s: Served) => [
  documented(componentName(s, "Record"), JS.recordSchema(s, refs)),
  documented(componentName(s, "Create"), JS.createSchema(s)),
  documented(componentName(s, "Patch"), JS.patchSchema(s)),
  documented(componentName(s, "Filter"), JS.filterSchema(s, refs)),
  ...(servedRelations(s).length > 0 ? [documented(componentName(s, "Include"), JS.includeSchema(s, refs))] : [])
]

/** An HTTP route of a node: method, path below the model's, and the endpoint's name. */
interface Route {
  readonly name: string
  readonly node: NodeName
  readonly method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE"
  readonly path: string
  readonly status: number
  readonly body: boolean
  readonly query: ReadonlyArray<string>
  readonly summary: string
}

/** Whether a node's route names one record by its key (`/:id`, or a segment per key field). @internal */
export const isKeyed = (node: NodeName) => node === "read" || node === "update" || node === "delete" || node === "restore"

/** The path of one record below the model's: `/:id`, or `/:a/:b` for a composite key (key order). @internal */
export const keyPath = (s: Served) => keyArguments(s.def).map((name) => `/:${name}`).join("")

/** The routes of a model's exposed nodes. @internal */
export const routesOf = (s: Served): ReadonlyArray<Route> => {
  const model = s.def.name
  const key = keyPath(s)
  const deleted = s.def.softDelete ? ["includeDeleted"] : []
  const include = servedRelations(s).length > 0 ? ["include"] : []
  const all: ReadonlyArray<Route> = [
    { name: "create", node: "create", method: "POST", path: "", status: 201, body: true, query: [], summary: `Create a ${model}` },
    { name: "list", node: "list", method: "GET", path: "", status: 200, body: false, query: ["where", "orderBy", "limit", "offset", "cursor", "select", "total", ...deleted, ...include], summary: `List ${model} records` },
    { name: "search", node: "list", method: "POST", path: "/search", status: 200, body: true, query: [], summary: `List ${model} records (query in the body)` },
    { name: "count", node: "count", method: "GET", path: "/count", status: 200, body: false, query: ["where", ...deleted], summary: `Count ${model} records` },
    { name: "aggregate", node: "aggregate", method: "POST", path: "/aggregate", status: 200, body: true, query: [], summary: `Aggregate ${model} records (counts, sums, averages, minima, maxima; per group)` },
    { name: "upsert", node: "upsert", method: "POST", path: "/upsert", status: 200, body: true, query: [], summary: `Create or update a ${model} by a unique key` },
    { name: "bulkCreate", node: "bulkCreate", method: "POST", path: "/bulk", status: 200, body: true, query: [], summary: `Create many ${model} records atomically` },
    { name: "bulkUpdate", node: "bulkUpdate", method: "PATCH", path: "/bulk", status: 200, body: true, query: [], summary: `Update every ${model} matching a filter` },
    { name: "bulkUpsert", node: "bulkUpsert", method: "PUT", path: "/bulk", status: 200, body: true, query: [], summary: `Create or update many ${model} records` },
    { name: "bulkDelete", node: "bulkDelete", method: "POST", path: "/bulk-delete", status: 200, body: true, query: [], summary: `Delete every ${model} matching a filter` },
    { name: "read", node: "read", method: "GET", path: key, status: 200, body: false, query: [...deleted, ...include], summary: `Read a ${model}` },
    { name: "update", node: "update", method: "PATCH", path: key, status: 200, body: true, query: s.def.versioned ? ["expectedVersion"] : [], summary: `Update a ${model}` },
    { name: "delete", node: "delete", method: "DELETE", path: key, status: 200, body: false, query: [], summary: `Delete a ${model}` },
    { name: "restore", node: "restore", method: "POST", path: `${key}/restore`, status: 200, body: false, query: [], summary: `Restore a deleted ${model}` }
  ]
  return all.filter((r) => s.nodes.has(r.node))
}

/** The problem statuses an endpoint can answer with. */
const errorStatuses = (route: Route, settings: HttpSettings, s: Served): ReadonlyArray<number> => {
  const statuses = new Set([400, 500, 503])
  if (route.body) statuses.add(413)
  if (isKeyed(route.node) && route.node !== "restore") statuses.add(404)
  if (["create", "update", "upsert", "bulkCreate", "bulkUpsert", "bulkUpdate", "delete", "bulkDelete"].includes(route.node)) statuses.add(409)
  if (s.def.tenantScoped && settings.tenant._tag === "context") statuses.add(401)
  return [...statuses].sort()
}

const queryDoc: Record<string, JS.JsonSchema> = {
  where: { type: "string", description: "a filter, as JSON" },
  orderBy: { type: "string", description: "field names separated by commas, `-` in front for descending" },
  limit: { type: "string", pattern: "^\\d+$", description: "page size" },
  offset: { type: "string", pattern: "^\\d+$" },
  cursor: { type: "string", description: "the nextCursor of the previous page" },
  select: { type: "string", description: "field names separated by commas" },
  total: { type: "string", enum: ["true", "false"], description: "also count every matching record" },
  includeDeleted: { type: "string", enum: ["true", "false"] },
  include: { type: "string", description: "relations to load with each record, as JSON (see the model's Include schema)" },
  expectedVersion: { type: "string", pattern: "^\\d+$", description: "optimistic locking: the version the update expects" }
}

const bodySchema = (s: Served, route: Route): Schema.Schema<unknown> | undefined => {
  if (!route.body) return undefined
  switch (route.node) {
    case "create":
      return documented(`${componentName(s, "Create")}Body`, { $ref: refs(s, "Create") })
    case "update":
      return documented(`${componentName(s, "Patch")}Body`, { $ref: refs(s, "Patch") })
    case "list":
      return documented(`${s.def.name}Query`, JS.listQuerySchema(s, refs))
    default:
      return documented(`${s.def.name}${route.name[0]!.toUpperCase()}${route.name.slice(1)}Arguments`, JS.argumentsSchema(s, route.node, refs))
  }
}

/**
 * An endpoint whose request parts are read by its raw handler, not by the api: one type for
 * every route, whatever parts its documentation declares.
 * @internal
 */
export type Endpoint = HttpApiEndpoint.HttpApiEndpoint<string, HttpMethod, unknown, unknown, unknown, unknown, unknown, unknown>

/** Each documentation step changes an endpoint's type parameters; the handlers never read them. */
const loose = (endpoint: HttpApiEndpoint.HttpApiEndpoint.Any): Endpoint => endpoint as unknown as Endpoint

/** A query parameter or header as the handler reads it: text, or several texts when repeated. */
const text = (doc: JS.JsonSchema) =>
  Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String)).annotations({ jsonSchema: doc }))

/**
 * The path parameters of a keyed route: `id` (text), or each field of a composite key with its
 * field's schema (the handler decodes each segment as its field).
 */
const pathSchema = (s: Served) =>
  s.def.compositeKey
    ? Schema.Struct(Object.fromEntries(s.def.key.map((c) => [c.field, Schema.String.annotations({ jsonSchema: JS.keyFieldSchema(s, c) })])))
    : Schema.Struct({ id: Schema.String })

/** The endpoint of a route, documented. */
const endpointOf = (s: Served, settings: HttpSettings, base: string, route: Route): Endpoint => {
  const path = `${base}${route.path}` as HttpApiEndpoint.PathSegment
  let endpoint = loose(HttpApiEndpoint.make(route.method)(route.name, path))
  if (isKeyed(route.node)) endpoint = loose(endpoint.setPath(pathSchema(s)))
  if (route.query.length > 0) {
    endpoint = loose(endpoint.setUrlParams(Schema.Struct(Object.fromEntries(route.query.map((q) => [q, text(queryDoc[q] ?? {})])))))
  }
  if (s.def.tenantScoped && settings.tenant._tag === "header") {
    endpoint = loose(endpoint.setHeaders(Schema.Struct({
      [settings.tenant.name]: Schema.optional(Schema.String.annotations({ jsonSchema: { type: "string", description: "the tenant" } }))
    })))
  }
  const body = bodySchema(s, route)
  if (body !== undefined) endpoint = loose(endpoint.setPayload(body))
  endpoint = loose(endpoint.addSuccess(
    documented(`${s.def.name}${route.name[0]!.toUpperCase()}${route.name.slice(1)}Result`, JS.resultSchema(s, route.node, refs)),
    { status: route.status }
  ))
  for (const status of errorStatuses(route, settings, s)) {
    endpoint = loose(endpoint.addError(Problem.annotations(HttpApiSchema.annotations({ status }))))
  }
  return loose(endpoint.annotate(OpenApi.Summary, route.summary))
}

/** The group of a served model. @internal */
export type Group = HttpApiGroup.HttpApiGroup<string, Endpoint, never>

/** The group of a served model. @internal */
export const groupOf = (s: Served, settings: HttpSettings): Group => {
  const base = `${settings.prefix}/${s.def.table}`
  let group: Group = HttpApiGroup.make(s.def.name)
  for (const route of routesOf(s)) group = group.add(endpointOf(s, settings, base, route))
  return group
}

/** The api of the served models, the settings annotated on it. @internal */
export const make = (
  settings: HttpSettings,
  info: { readonly title: string; readonly version: string }
): HttpApi.HttpApi<"DataFlow", Group, HttpApiDecodeError> => {
  let api: HttpApi.HttpApi<"DataFlow", Group, HttpApiDecodeError> = HttpApi.make("DataFlow")
    .annotate(Settings, settings)
    .annotate(OpenApi.Title, info.title)
    .annotate(OpenApi.Version, info.version)
    .annotate(HttpApi.AdditionalSchemas, [Problem, ...settings.served.flatMap(components)])
  for (const s of settings.served) api = api.add(groupOf(s, settings))
  return settings.workflows === true ? api.add(workflowGroup(settings)) : api
}

/** The name of the workflow group (not a model's: models are named in PascalCase). @internal */
export const workflowGroupName = "workflows"

/** `POST {prefix}/workflows/execute`, documented. */
const workflowGroup = (settings: HttpSettings): Group => {
  const types = [...registryOf(settings.served).types.keys()].sort()
  let endpoint = loose(HttpApiEndpoint.post("execute", `${settings.prefix}/workflows/execute` as HttpApiEndpoint.PathSegment))
  endpoint = loose(endpoint.setPayload(documented("WorkflowRun", JS.workflowRequestSchema(types))))
  endpoint = loose(endpoint.addSuccess(documented("WorkflowResult", JS.workflowResultSchema)))
  const statuses = new Set([400, 403, 404, 409, 413, 500, 503])
  if (settings.tenant._tag === "context") statuses.add(401)
  for (const status of [...statuses].sort()) endpoint = loose(endpoint.addError(Problem.annotations(HttpApiSchema.annotations({ status }))))
  endpoint = loose(endpoint.annotate(OpenApi.Summary, "Run a workflow of the exposed nodes"))
  return HttpApiGroup.make(workflowGroupName).add(endpoint)
}
