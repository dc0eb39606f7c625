#!/usr/bin/env node
/**
 * The `effect-dataflow` command: `migrate plan|apply|status|down`, `pull`, `serve`.
 * `--help` on every command.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { migrate, pull } from "./migrate.js"
import { serve } from "./serve.js"

const command = Command.make("effect-dataflow").pipe(
  Command.withDescription("effect-dataflow: migrations, introspection, serving"),
  Command.withSubcommands([migrate, pull, serve])
)

const cli = Command.run(command, { name: "effect-dataflow", version: "0.1.0" })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
