/**
 * An HTTP API generated from models: a group of routes per model (create, read, update,
 * delete, restore, list / search, count, upsert and the bulk nodes — the ones exposed), JSON
 * bodies and query values decoded with the `Json` module, every failure a problem body (RFC
 * 9457) with the status of its error, an OpenAPI 3.1 document and Swagger UI, `/health`
 * (`DataFlow.ping`) and `/metrics` (Prometheus text). Built on `@effect/platform`'s `HttpApi`
 * and `HttpLayerRouter`; served on Node by {@link serve}. Import it from
 * `effect-dataflow/http` (it needs `@effect/platform` and, for {@link serve},
 * `@effect/platform-node`).
 *
 * @since 0.1.0
 */
import type * as Etag from "@effect/platform/Etag"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpApi from "@effect/platform/HttpApi"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import type * as Path from "@effect/platform/Path"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import type { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import type * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as D from "effect/Duration"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import * as DataFlow from "../DataFlow.js"
import * as Internal from "../internal/http/api.js"
import type { Call } from "../internal/http/handlers.js"
import type { Forbidden, Unauthorized } from "../internal/serving/errors.js"
import { layer as internalLayer } from "../internal/http/layer.js"
import { servedAll } from "../internal/serving/operations.js"
import type { NodeName } from "../internal/serving/operations.js"
import { make as makeProblem, Problem as ProblemSchema } from "../internal/serving/problem.js"
import type * as Model from "../Model.js"
import type * as Tenant from "../Tenant.js"

export {
  /**
   * The caller may not call this node of this model (from an `authorize` hook): 403.
   *
   * @since 0.1.0
   * @category errors
   */
  Forbidden,
  /**
   * A request that is not JSON or has a malformed or unknown query parameter: 400.
   *
   * @since 0.1.0
   * @category errors
   */
  MalformedRequest,
  /**
   * A tenant-scoped model was called without the tenant header: 400.
   *
   * @since 0.1.0
   * @category errors
   */
  MissingTenant,
  /**
   * A request body over the limit: 413.
   *
   * @since 0.1.0
   * @category errors
   */
  PayloadTooLarge,
  /**
   * A request that ran past the timeout and was interrupted: 503.
   *
   * @since 0.1.0
   * @category errors
   */
  RequestTimeout,
  /**
   * The caller is not authenticated (from an authentication middleware or `authorize`): 401.
   *
   * @since 0.1.0
   * @category errors
   */
  Unauthorized
} from "../internal/serving/errors.js"

/**
 * The body of every error response (RFC 9457 problem details): `status`, `error` (the error's
 * tag), `detail`, and the model, operation, field, constraint, columns and row index where they
 * apply — never a value.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Problem = ProblemSchema

/**
 * @since 0.1.0
 * @category models
 */
export type Problem = typeof ProblemSchema.Type

/**
 * The problem schema with status 401: the `failure` of an authentication middleware, so its
 * refusals get the same body as every other error.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UnauthorizedProblem = ProblemSchema.annotations(HttpApiSchema.annotations({ status: 401 }))

/**
 * The problem an authentication middleware fails with (see {@link UnauthorizedProblem}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const unauthorized = (reason: string): Problem => makeProblem(401, "Unauthorized", `not authenticated: ${reason}`)

/**
 * A node that can be exposed.
 *
 * @since 0.1.0
 * @category models
 */
export type Node = NodeName

/**
 * Which nodes of a model are served: `"read"` (read, list, count — the default; `aggregate`, a
 * full scan, is opt-in), `"all"` (every node the model has, `aggregate` included), or a list.
 * Relations (`include`, relation filters) reach only models served with `list`.
 *
 * @since 0.1.0
 * @category models
 */
export type Exposure = "read" | "all" | ReadonlyArray<Node>

/**
 * Options of {@link api}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ApiOptions {
  /** Per model name: the nodes served (default `"read"`: read-only). */
  readonly expose?: Readonly<Record<string, Exposure>> | undefined
  /** Per model name: fields never in a response, a filter, an order or a projection. */
  readonly hidden?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
  /**
   * Where a tenant-scoped model's tenant comes from: a header (default `x-tenant-id`), or
   * `"context"`: `Tenant.CurrentTenant` as provided by an authentication middleware of the api.
   * Never from the body.
   */
  readonly tenant?: { readonly header: string } | "context" | undefined
  /** The largest `limit` of a list (default 1000); a list without `limit` gets `defaultLimit` (default 100). */
  readonly maxLimit?: number | undefined
  readonly defaultLimit?: number | undefined
  /** The most rows in one bulk call (default 10,000). */
  readonly maxRows?: number | undefined
  /** The largest request body (default 1 MiB). */
  readonly maxBodySize?: number | undefined
  /** The longest a request may run before it is interrupted with 503 (default 30 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** A prefix of every model route (`/api`). */
  readonly prefix?: `/${string}` | undefined
  /**
   * Also serve `POST {prefix}/workflows/execute`: a JSON workflow (`{ workflow, transaction? }`,
   * see docs/workflows.md) over the exposed nodes only, each node authorised as a direct call;
   * results as JSON (default false).
   */
  readonly workflows?: boolean | undefined
  /** The OpenAPI document's title and version. */
  readonly title?: string | undefined
  readonly version?: string | undefined
}

/**
 * The group of a model (its requirements as a phantom type).
 *
 * @since 0.1.0
 * @category models
 */
export interface Group<R> extends HttpApiGroup.HttpApiGroup<string, Internal.Endpoint, never> {
  readonly "~requirements"?: R
}

/**
 * The `HttpApi` of a set of models.
 *
 * @since 0.1.0
 * @category models
 */
export type Api<R, ApiR = never, E = HttpApiDecodeError> = HttpApi.HttpApi<"DataFlow", Group<R>, E, ApiR>

/**
 * What the nodes of models require, the tenant aside (the server provides it per request).
 *
 * @since 0.1.0
 * @category models
 */
export type RequirementsOf<M extends ReadonlyArray<Model.Any>> = Exclude<Model.Requirements<M[number]>, Tenant.CurrentTenant>

/**
 * An `HttpApi` generated from models: a group per model (named as the model, under
 * `/<table>`), an endpoint per exposed node, documented with the models' JSON Schemas (record,
 * create input, patch, filter) and the problem responses. Add authentication the `HttpApi`
 * way: `DataFlowHttp.api(models).middleware(Authentication)`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Model } from "effect-dataflow"
 * import { DataFlowHttp } from "effect-dataflow/http"
 *
 * const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String, passwordHash: Schema.String }))
 * const api = DataFlowHttp.api([User], { expose: { User: "all" }, hidden: { User: ["passwordHash"] } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const api = <const M extends ReadonlyArray<Model.Any>>(models: M, options: ApiOptions = {}): Api<RequirementsOf<M>> => {
  const settings: Internal.HttpSettings = {
    served: servedAll(models, options, "DataFlowHttp.api"),
    tenant: options.tenant === "context" ? { _tag: "context" } : { _tag: "header", name: options.tenant?.header ?? "x-tenant-id" },
    maxBodySize: options.maxBodySize ?? 1024 * 1024,
    timeout: D.toMillis(options.timeout ?? "30 seconds"),
    prefix: options.prefix ?? "",
    workflows: options.workflows === true
  }
  // the requirements are a phantom type of the groups
  return Internal.make(settings, { title: options.title ?? "effect-dataflow", version: options.version ?? "0.1.0" }) as Api<
    RequirementsOf<M>
  >
}

/**
 * A call an `authorize` hook decides on: the model, the node, the tenant.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizeCall = Call

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions<AR, HR> {
  /**
   * Decides, before a node runs, whether the caller may call it: fail with `Forbidden` (403) or
   * `Unauthorized` (401). Runs in the request's context: it can read what an authentication
   * middleware of the api provides.
   */
  readonly authorize?: ((call: AuthorizeCall) => Effect.Effect<void, Forbidden | Unauthorized, AR>) | undefined
  /** The check of `/health` (default `DataFlow.ping()`); `false`: no `/health`. */
  readonly health?: Effect.Effect<void, unknown, HR> | false | undefined
  /** Where the extra routes are (`/openapi.json`, `/docs`, `/health`, `/metrics`); `false` leaves one out. */
  readonly paths?: {
    readonly openapi?: `/${string}` | undefined
    readonly docs?: `/${string}` | false | undefined
    readonly health?: `/${string}` | undefined
    readonly metrics?: `/${string}` | false | undefined
  } | undefined
}


/** What serving an api needs from the HTTP server's platform. */
type Platform = Etag.Generator | FileSystem.FileSystem | HttpPlatform.HttpPlatform | Path.Path

/**
 * The routes of an api on an `HttpLayerRouter`: the models' endpoints, `/openapi.json`, Swagger
 * UI at `/docs`, `/health`, `/metrics`, and problem bodies for unknown routes and unexpected
 * failures. Serve it with `HttpLayerRouter.serve` (or {@link serve}); it needs the models'
 * database layers and the api's middleware layers.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R, ApiR, E, AR = never, HR = SqlClient.SqlClient>(
  api: Api<R, ApiR, E>,
  options: LayerOptions<AR, HR> = {}
): Layer.Layer<
  never,
  never,
  | HttpLayerRouter.HttpRouter
  | Platform
  | ApiR
  | R
  | HR
  | Exclude<AR, HttpApiMiddleware.HttpApiMiddleware.ExtractProvides<ApiR>>
> =>
  internalLayer<Group<R>, E, ApiR, R, AR, HR>(api, {
    authorize: options.authorize,
    health: options.health === undefined ? (DataFlow.ping() as Effect.Effect<void, unknown, HR>) : options.health,
    paths: options.paths
  }) as unknown as Layer.Layer<never, never, HttpLayerRouter.HttpRouter | Platform | ApiR | R | HR>

/**
 * Serves an api on Node's HTTP server (`port` 0: any free port) until the layer is released:
 * then the server stops accepting connections, the requests in flight finish, and the layers it
 * was given (the database pools) close after it. Provide the models' database layer (and the
 * api's middleware layers) to it; `Layer.launch` it in an application.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Layer, Schema } from "effect"
 * import { DataFlow, Model } from "effect-dataflow"
 * import { DataFlowHttp } from "effect-dataflow/http"
 *
 * const User = Model.make("User", Schema.Struct({ id: Schema.Int, name: Schema.String }))
 * DataFlowHttp.serve(DataFlowHttp.api([User], { expose: { User: "all" } }), { port: 3000 }).pipe(
 *   Layer.provide(DataFlow.layer({ url: process.env.DATABASE_URL })),
 *   Layer.launch,
 *   NodeRuntime.runMain
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const serve = <R, ApiR, E, AR = never, HR = SqlClient.SqlClient, RR = never>(
  api: Api<R, ApiR, E>,
  options: LayerOptions<AR, HR> & {
    readonly port: number
    readonly host?: string | undefined
    /** Log every request and the listening address (default false: nothing on stdout). */
    readonly log?: boolean | undefined
    /** More routes on the same server (an MCP endpoint, your own). */
    readonly routes?: Layer.Layer<never, never, HttpLayerRouter.HttpRouter | RR> | undefined
  }
): Layer.Layer<
  never,
  ServeError,
  Exclude<ApiR | R | HR | RR | Exclude<AR, HttpApiMiddleware.HttpApiMiddleware.ExtractProvides<ApiR>>, HttpLayerRouter.HttpRouter | Platform>
> =>
  HttpLayerRouter.serve(Layer.mergeAll(layer(api, options), options.routes ?? Layer.empty), {
    disableLogger: options.log !== true,
    disableListenLog: options.log !== true
  }).pipe(
    Layer.provide(NodeHttpServer.layer(createServer, { port: options.port, ...(options.host === undefined ? {} : { host: options.host }) }))
  ) as unknown as Layer.Layer<never, ServeError, Exclude<ApiR | R | HR | RR, HttpLayerRouter.HttpRouter | Platform>>
