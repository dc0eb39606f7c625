/** Models for the CLI test (test/cli-migrate.test.ts): the first version. */
import { Schema } from "effect"
import { Model } from "../../src/index.js"

export const Item = Model.make(
  "Item",
  Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(40)), note: Schema.NullOr(Schema.String) }),
  { table: "cli_items" }
)
