/** Models for the CLI test (test/cli-migrate.test.ts): the second version drops `note`, adds `price` and an index. */
import { Schema } from "effect"
import { Model } from "../../src/index.js"

export const Item = Model.make(
  "Item",
  Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(40)), price: Schema.NullOr(Schema.Number) }),
  { table: "cli_items", indexes: ["title"] }
)
