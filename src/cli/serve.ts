/**
 * `effect-dataflow serve --models <module> [--url <db>] [--port <n>] [--host <h>] [--mcp stdio|http] [--expose read|all] [--workflows]`:
 * serves the models a module exports over HTTP (`DataFlowHttp`), and over MCP (`DataFlowMcp`)
 * on stdio or at `/mcp` of the same HTTP server. The module's exported models are served (or
 * its `models` export, an array); models bound to an instance are refused (the command opens
 * one database). Runs until interrupted (Ctrl-C, SIGTERM): then requests in flight finish and
 * the pool closes.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import * as DataFlow from "../DataFlow.js"
import * as DataFlowHttp from "../http/DataFlowHttp.js"
import { DefinitionKey, definitionOf } from "../internal/model/definition.js"
import * as DataFlowMcp from "../mcp/DataFlowMcp.js"
import type * as Model from "../Model.js"

const isModel = (u: unknown): u is Model.Any => typeof u === "object" && u !== null && DefinitionKey in u

/**
 * The models a module exports: its `models` array, else every exported model.
 *
 * @since 0.1.0
 * @category loading
 */
export const modelsOf = (module: Record<string, unknown>): ReadonlyArray<Model.Any> => {
  const listed = module.models
  if (Array.isArray(listed) && listed.every(isModel)) return listed
  return Object.values(module).filter(isModel)
}

const load = (path: string) =>
  Effect.tryPromise({
    try: () => import(pathToFileURL(resolve(path)).href) as Promise<Record<string, unknown>>,
    catch: (cause) => new Error(`cannot load the models module ${path}: ${String(cause)}`)
  }).pipe(
    Effect.flatMap((module) => {
      const models = modelsOf(module)
      if (models.length === 0) return Effect.fail(new Error(`${path} exports no model`))
      const bound = models.find((m) => definitionOf(m).instance !== undefined)
      if (bound !== undefined) return Effect.fail(new Error(`${bound.name} is bound to an instance: serve it from your own program`))
      return Effect.succeed(models)
    })
  )

/**
 * The `serve` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const serve = Command.make(
  "serve",
  {
    models: Options.text("models").pipe(Options.withDescription("a module exporting the models (or a models array)")),
    url: Options.text("url").pipe(Options.optional, Options.withDescription("the database URL (default: the embedded SQLite file)")),
    port: Options.integer("port").pipe(Options.withDefault(3000)),
    host: Options.text("host").pipe(Options.withDefault("127.0.0.1")),
    mcp: Options.choice("mcp", ["stdio", "http"]).pipe(Options.optional, Options.withDescription("also serve MCP: on stdio, or at /mcp")),
    expose: Options.choice("expose", ["read", "all"]).pipe(Options.withDefault("read" as const)),
    workflows: Options.boolean("workflows").pipe(
      Options.withDescription("also run JSON workflows of the exposed nodes: POST /workflows/execute, the MCP tool workflow_execute")
    )
  },
  (args) =>
    Effect.gen(function*() {
      const models = yield* load(args.models)
      const expose = Object.fromEntries(models.map((m) => [m.name, args.expose]))
      const mcp = Option.getOrUndefined(args.mcp)
      const workflows = args.workflows
      const http = DataFlowHttp.serve(DataFlowHttp.api(models, { expose, workflows }), {
        port: args.port,
        host: args.host,
        ...(mcp === "http" ? { routes: DataFlowMcp.layerHttp(models, { expose, workflows }) } : {})
      })
      const server = mcp === "stdio" ? Layer.merge(http, DataFlowMcp.layerStdio(models, { expose, workflows })) : http
      const database = DataFlow.layer(Option.isSome(args.url) ? { url: args.url.value } : {})
      // on stdio the protocol owns stdout: the address goes to stderr
      const say = mcp === "stdio" ? Console.error : Console.log
      yield* say(`effect-dataflow: serving ${models.map((m) => m.name).join(", ")} on http://${args.host}:${args.port}`)
      // the models' requirements were checked above: the default SqlClient only
      return yield* Layer.launch(server as Layer.Layer<never, unknown, SqlClient.SqlClient>).pipe(Effect.provide(database))
    })
).pipe(Command.withDescription("serve models over HTTP (and MCP)"))
