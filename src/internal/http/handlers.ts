/**
 * The handler of each route: the request read into a node's JSON arguments (path, query,
 * body — the body read with a size limit, then `JSON.parse`), the tenant from its source, the
 * user's authorisation, the node (`serving/operations.ts`) under a timeout, and the response:
 * the result as JSON, or the failure as a problem (`serving/problem.ts`).
 * (Internal module: not part of the public API.)
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { ParsedSearchParams } from "@effect/platform/HttpServerRequest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { InvalidFilter, ValidationError } from "../../Errors.js"
import * as Tenant from "../../Tenant.js"
import { MalformedRequest, MissingTenant, PayloadTooLarge, RequestTimeout, Unauthorized } from "../serving/errors.js"
import type { Forbidden } from "../serving/errors.js"
import type { NodeName, Served } from "../serving/operations.js"
import { keyArguments, prepare } from "../serving/operations.js"
import * as Workflows from "../serving/workflows.js"
import type { Registry } from "../workflow/registry.js"
import * as Problem from "../serving/problem.js"
import type { HttpSettings } from "./api.js"

/** A call the authorisation hook decides on. @internal */
export interface Call {
  readonly model: string
  readonly node: NodeName
  readonly tenant: Tenant.TenantId | undefined
}

/** @internal */
export type Authorize<R> = (call: Call) => Effect.Effect<void, Forbidden | Unauthorized, R>

/** A response with a problem body. @internal */
export const problemResponse = (problem: Problem.Problem) =>
  HttpServerResponse.unsafeJson(problem, { status: problem.status, contentType: "application/problem+json" })

/** The body, at most `limit` bytes, as JSON (an empty body is absent). @internal */
export const readJson = (request: HttpServerRequest.HttpServerRequest, limit: number) =>
  Effect.gen(function*() {
    const type = request.headers["content-type"]
    if (type !== undefined && !/^application\/([a-z.+-]*\+)?json\b/i.test(type.trim())) {
      return yield* new MalformedRequest({ part: "body", reason: "expected Content-Type application/json" })
    }
    const declared = Number(request.headers["content-length"])
    if (Number.isFinite(declared) && declared > limit) return yield* new PayloadTooLarge({ limit })
    let size = 0
    const chunks = yield* request.stream.pipe(
      Stream.mapError(() => new MalformedRequest({ part: "body", reason: "the body could not be read" })),
      Stream.mapEffect((chunk) => {
        size += chunk.length
        return size > limit ? Effect.fail(new PayloadTooLarge({ limit })) : Effect.succeed(chunk)
      }),
      Stream.runCollect
    )
    const text = Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8")
    if (text.trim() === "") return undefined
    return yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: () => new MalformedRequest({ part: "body", reason: "not valid JSON" })
    })
  })

type Query = Readonly<Record<string, string | ReadonlyArray<string>>>

/** One query parameter's text (repeated: malformed). */
const param = (query: Query, name: string): Either.Either<string | undefined, MalformedRequest> => {
  const v = query[name]
  if (v === undefined || typeof v === "string") return Either.right(v)
  return v.length === 1 ? Either.right(v[0]) : Either.left(new MalformedRequest({ part: name, reason: "given more than once" }))
}

/** The arguments of `list` and `count` from the query string. */
const queryArgs = (s: Served, node: string, query: Query, names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const args: Record<string, unknown> = {}
    for (const name of names) {
      const value = yield* param(query, name)
      if (value === undefined) continue
      switch (name) {
        case "where":
          args.where = yield* Effect.try({
            try: (): unknown => JSON.parse(value),
            catch: () => new InvalidFilter({ model: s.def.name, operation: node, path: "", reason: "where is not valid JSON" })
          })
          break
        case "include":
          args.include = yield* Effect.try({
            try: (): unknown => JSON.parse(value),
            catch: () => new ValidationError({ model: s.def.name, operation: node, path: "include", reason: "include is not valid JSON" })
          })
          break
        case "orderBy":
        case "select":
          args[name] = value.trim().startsWith("[")
            ? yield* Effect.try({
              try: (): unknown => JSON.parse(value),
              catch: () => new MalformedRequest({ part: name, reason: "not valid JSON" })
            })
            : value.split(",").map((f) => f.trim()).filter((f) => f !== "")
          break
        case "limit":
        case "offset":
        case "expectedVersion":
          if (!/^\d{1,15}$/.test(value)) {
            return yield* new ValidationError({ model: s.def.name, operation: node, path: name, reason: "expected a non-negative integer" })
          }
          args[name] = Number(value)
          break
        case "total":
        case "includeDeleted":
          if (value !== "true" && value !== "false") {
            return yield* new ValidationError({ model: s.def.name, operation: node, path: name, reason: "expected true or false" })
          }
          args[name] = value === "true"
          break
        default:
          args[name] = value
      }
    }
    for (const name of Object.keys(query)) {
      if (!names.includes(name)) return yield* new MalformedRequest({ part: name, reason: "unknown query parameter" })
    }
    return args
  })

/** The tenant of a request to a tenant-scoped model, from its source. @internal */
export const tenantOf = (s: Served, node: string, settings: HttpSettings, request: HttpServerRequest.HttpServerRequest) => {
  if (!s.def.tenantScoped) return Effect.succeed(undefined)
  if (settings.tenant._tag === "context") {
    return Effect.flatMap(Effect.serviceOption(Tenant.CurrentTenant), (tenant) =>
      Option.isSome(tenant) && Tenant.isTenantId(tenant.value)
        ? Effect.succeed(tenant.value)
        : Effect.fail(new Unauthorized({ reason: "no tenant from the authentication layer" })))
  }
  const value = request.headers[settings.tenant.name.toLowerCase()]
  if (value === undefined || value === "") {
    return Effect.fail(new MissingTenant({ model: s.def.name, operation: node, source: `header ${settings.tenant.name}` }))
  }
  return Tenant.make(value)
}

/** What a route reads from a request. @internal */
export interface RouteShape {
  readonly node: NodeName
  readonly status: number
  readonly body: boolean
  readonly query: ReadonlyArray<string>
  /** The path names one record: its key's segments become the key's arguments. */
  readonly keyed: boolean
}

/** The key's arguments from a keyed route's path parameters (`id`, or each composite key field, as text). */
const keyFromPath = (s: Served, path: unknown): Record<string, unknown> => {
  const params: Record<string, unknown> = typeof path === "object" && path !== null ? { ...path } : {}
  return Object.fromEntries(keyArguments(s.def).map((name) => [name, params[name]]))
}

/** The raw handler of a route. @internal */
export const handler = <R, AR>(
  s: Served,
  route: RouteShape,
  settings: HttpSettings,
  authorize: Authorize<AR> | undefined
) =>
(req: { readonly request: HttpServerRequest.HttpServerRequest; readonly path?: unknown }) =>
  Effect.gen(function*() {
    const { node } = route
    const own = yield* tenantOf(s, node, settings, req.request)
    const query = yield* ParsedSearchParams
    const fromQuery = yield* queryArgs(s, node, query, route.query)
    const body = route.body ? yield* readJson(req.request, settings.maxBodySize) : undefined
    const args: unknown = node === "create" || (route.body && node !== "update")
      ? body
      : { ...fromQuery, ...(route.keyed ? keyFromPath(s, req.path) : {}), ...(node === "update" ? { patch: body ?? {} } : {}) }
    const { reached, run } = yield* prepare<R>(s, node, args)
    // a tenant-scoped model reached through a relation needs the tenant too
    const scoped = own === undefined ? [...reached].find((m) => m.def.tenantScoped) : undefined
    const tenant = scoped === undefined ? own : yield* tenantOf(scoped, node, settings, req.request)
    if (authorize !== undefined) {
      yield* authorize({ model: s.def.name, node, tenant })
      // the models a relation reaches are read as their list would read them
      for (const m of reached) if (m !== s) yield* authorize({ model: m.def.name, node: "list", tenant })
    }
    const result = yield* (tenant === undefined ? run : Effect.provideService(run, Tenant.CurrentTenant, tenant)).pipe(
      Effect.timeoutFail({
        duration: settings.timeout,
        onTimeout: () => new RequestTimeout({ model: s.def.name, operation: node, timeout: settings.timeout })
      })
    )
    return HttpServerResponse.unsafeJson(result, { status: route.status })
  }).pipe(Effect.catchAll((error) => Effect.succeed(problemResponse(Problem.fromError(error)))))

/**
 * `POST …/workflows/execute`: a JSON workflow over the exposed nodes (`serving/workflows.ts`),
 * each node authorised as a direct call, the tenant from its source, under the request timeout.
 * @internal
 */
export const workflowHandler = <R, AR>(
  settings: HttpSettings,
  registry: Registry,
  authorize: Authorize<AR> | undefined
) =>
(request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const body = yield* readJson(request, settings.maxBodySize)
    const result = yield* Workflows.execute(settings.served, registry, body, {
      tenant: (s, node) =>
        Effect.flatMap(
          tenantOf(s, node, settings, request) as Effect.Effect<Tenant.TenantId | undefined, unknown>,
          (t): Effect.Effect<Tenant.TenantId, unknown> => t === undefined ? Effect.fail(new Unauthorized({ reason: "no tenant" })) : Effect.succeed(t)
        ),
      authorize: (s, node, tenant) =>
        authorize === undefined ? Effect.void : authorize({ model: s.def.name, node: node as NodeName, tenant })
    }).pipe(
      Effect.timeoutFail({
        duration: settings.timeout,
        onTimeout: () => new RequestTimeout({ model: "Workflow", operation: "execute", timeout: settings.timeout })
      })
    )
    return HttpServerResponse.unsafeJson(result, { status: 200 })
  }).pipe(Effect.catchAll((error) => Effect.succeed(problemResponse(Problem.fromError(error))))) as Effect.Effect<
    HttpServerResponse.HttpServerResponse,
    never,
    R | AR
  >
