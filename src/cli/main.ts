#!/usr/bin/env node
/**
 * The `effect-dataflow` command: `migrate plan|apply|status|down`, `pull`, `serve`.
 * `--help` on every command.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { migrate, pull } from "./migrate.js"
import { serve } from "./serve.js"

const command = Command.make("effect-dataflow").pipe(
  Command.withDescription("effect-dataflow: migrations, introspection, serving"),
  Command.withSubcommands([migrate, pull, serve])
)

const cli = Command.run(command, { name: "effect-dataflow", version: "0.1.0" })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
