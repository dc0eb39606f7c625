/** The `serve` command as a program, until the CLI's own entry (src/cli/main.ts) wires it. */
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { serve } from "../../src/cli/serve.js"

const cli = Command.run(Command.make("effect-dataflow").pipe(Command.withSubcommands([serve])), {
  name: "effect-dataflow",
  version: "0.1.0"
})

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
