/** Models served by the CLI in tests (test/mcp.test.ts). */
import { Schema } from "effect"
import { Model } from "../../src/index.js"

export const Task = Model.make("Task", Schema.Struct({
  id: Schema.Int,
  title: Schema.String.pipe(Schema.maxLength(100)),
  done: Schema.Boolean
}), { unique: ["title"] })
