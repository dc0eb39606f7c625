/**
 * The layers that serve an api: its groups implemented by the raw handlers, registered on an
 * `HttpLayerRouter` with `/openapi.json`, Swagger UI, `/health`, `/metrics`, and a global
 * middleware that answers an unknown route and any unexpected failure with a problem body;
 * and the Node server with graceful shutdown (the server stops accepting, finishes the requests
 * in flight, then the layers below it — the database pools — close).
 * (Internal module: not part of the public API.)
 */
import type * as HttpApi from "@effect/platform/HttpApi"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { HttpServerRequest } from "@effect/platform/HttpServerRequest"
import type * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { prometheus } from "../../Metrics.js"
import * as Problem from "../serving/problem.js"
import type { Group, HttpSettings } from "./api.js"
import type { Endpoint } from "./api.js"
import { isKeyed, routesOf, Settings, workflowGroupName } from "./api.js"
import type { Authorize } from "./handlers.js"
import { handler, problemResponse, workflowHandler } from "./handlers.js"
import { registryOf } from "../serving/workflows.js"

/** Options of serving an api. @internal */
export interface ServeOptions<AR, HR> {
  readonly authorize?: Authorize<AR> | undefined
  readonly health?: Effect.Effect<void, unknown, HR> | false | undefined
  readonly paths?: {
    readonly openapi?: `/${string}` | undefined
    readonly docs?: `/${string}` | false | undefined
    readonly health?: `/${string}` | undefined
    readonly metrics?: `/${string}` | false | undefined
  } | undefined
}

/** The settings an api was made with (an api `DataFlowHttp.api` did not make has none). */
export const settingsOf = (api: HttpApi.HttpApi.Any & { readonly annotations: Context.Context<never> }): HttpSettings =>
  Context.getOrElse(api.annotations, Settings, () => {
    throw new Error("DataFlowHttp.layer needs an api made by DataFlowHttp.api")
  })

/** The group layers: every route of every served model handled. */
const groups = <Groups extends HttpApiGroup.HttpApiGroup.Any, E, ApiR, R, AR>(
  api: HttpApi.HttpApi<"DataFlow", Groups, E, ApiR>,
  settings: HttpSettings,
  authorize: Authorize<AR> | undefined
) =>
  settings.served.map((s) =>
    HttpApiBuilder.group(
      api as unknown as HttpApi.HttpApi<"DataFlow", Group, E, ApiR>,
      s.def.name,
      (handlers) => {
        let handled: HttpApiBuilder.Handlers<unknown, unknown, R | AR, never> | undefined
        for (const route of routesOf(s)) {
          const h = handler<R, AR>(s, { ...route, keyed: isKeyed(route.node) }, settings, authorize)
          handled = (handled ?? handlers as unknown as HttpApiBuilder.Handlers<unknown, unknown, R | AR, Group extends HttpApiGroup.HttpApiGroup<string, infer E, infer _Err> ? E : never>)
            .handleRaw(route.name, h) as unknown as HttpApiBuilder.Handlers<unknown, unknown, R | AR, never>
        }
        // routesOf gives every endpoint of the group: all of them are handled
        return handled as HttpApiBuilder.Handlers<unknown, unknown, R | AR, never>
      }
    )
  )

/** The workflow group: `POST {prefix}/workflows/execute`. */
const workflows = <Groups extends HttpApiGroup.HttpApiGroup.Any, E, ApiR, R, AR>(
  api: HttpApi.HttpApi<"DataFlow", Groups, E, ApiR>,
  settings: HttpSettings,
  authorize: Authorize<AR> | undefined
) => {
  const handle = workflowHandler<R, AR>(settings, registryOf(settings.served), authorize)
  return HttpApiBuilder.group(
    api as unknown as HttpApi.HttpApi<"DataFlow", Group, E, ApiR>,
    workflowGroupName,
    (handlers) =>
      (handlers as unknown as HttpApiBuilder.Handlers<unknown, unknown, R | AR, Endpoint>).handleRaw(
        "execute",
        (req: { readonly request: HttpServerRequest }) => handle(req.request)
      ) as unknown as HttpApiBuilder.Handlers<unknown, unknown, R | AR, never>
  )
}

/** Unknown routes and unexpected failures as problems; nothing of a defect is shown. */
const problems = HttpLayerRouter.use((router) =>
  router.addGlobalMiddleware((effect): Effect.Effect<HttpServerResponse.HttpServerResponse, HttpLayerRouter.unhandled> =>
    Effect.catchAllCause(effect, (cause) => {
      const failure = Cause.failureOption(cause)
      if (failure._tag === "Some" && (failure.value as { readonly _tag?: unknown })._tag === "RouteNotFound") {
        return Effect.succeed(problemResponse(Problem.make(404, "RouteNotFound", "no such route")))
      }
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause) as Effect.Effect<never, HttpLayerRouter.unhandled>
      return Effect.as(
        Effect.logError("DataFlowHttp: unexpected failure", Cause.squash(cause)),
        problemResponse(Problem.internal)
      )
    })
  )
)

/** All routes of an api. @internal */
export const layer = <Groups extends HttpApiGroup.HttpApiGroup.Any, E, ApiR, R, AR, HR>(
  api: HttpApi.HttpApi<"DataFlow", Groups, E, ApiR>,
  options: ServeOptions<AR, HR>
) => {
  const settings = settingsOf(api)
  const paths = options.paths ?? {}
  const health = options.health === false ? undefined : options.health
  const routes = HttpLayerRouter.use((router) =>
    Effect.gen(function*() {
      if (health !== undefined) {
        yield* router.add(
          "GET",
          paths.health ?? "/health",
          health.pipe(
            Effect.as(HttpServerResponse.unsafeJson({ status: "ok" })),
            Effect.catchAllCause(() =>
              Effect.succeed(problemResponse(Problem.make(503, "Unhealthy", "the database does not answer", { retryable: true })))
            )
          )
        )
      }
      if (paths.metrics !== false) {
        yield* router.add(
          "GET",
          paths.metrics ?? "/metrics",
          Effect.map(prometheus, (text) => HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
        )
      }
    })
  )
  const docs = paths.docs === false
    ? Layer.empty
    : HttpApiSwagger.layerHttpLayerRouter({ api, path: paths.docs ?? "/docs" })
  const [first, ...rest] = [
    ...groups<Groups, E, ApiR, R, AR>(api, settings, options.authorize),
    ...(settings.workflows === true ? [workflows<Groups, E, ApiR, R, AR>(api, settings, options.authorize)] : [])
  ]
  if (first === undefined) throw new Error("DataFlowHttp: no model to serve")
  return Layer.mergeAll(
    HttpLayerRouter.addHttpApi(api, { openapiPath: paths.openapi ?? "/openapi.json" }).pipe(
      Layer.provide(Layer.mergeAll(first, ...rest))
    ),
    routes,
    docs,
    problems
  )
}

/** The middleware tags an api needs (`HttpApi`'s R), by their provided services. @internal */
export type Provided<ApiR> = HttpApiMiddleware.HttpApiMiddleware.ExtractProvides<ApiR>

/** The request services a handler may read (provided by the server). @internal */
export type RequestServices = HttpServerRequest
