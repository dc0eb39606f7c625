/**
 * The schema diff without a database: a model's table spec against a live table, the
 * operations and their SQL per dialect.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { Dialect, Model } from "../src/index.js"
import type { Introspect } from "../src/index.js"
import { definitionOf } from "../src/internal/model/definition.js"
import { changes, diffTable } from "../src/internal/schema/diff.js"
import { statementsFor } from "../src/internal/sql/statements.js"

const User = Model.make(
  "User",
  Schema.Struct({ id: Schema.Int, email: Schema.String.pipe(Schema.maxLength(80)), age: Schema.NullOr(Schema.Int) }),
  { table: "users", timestamps: false, indexes: ["age"] }
)

const column = (name: string, type: string, nullable = false, generated = false): Introspect.TableColumn => ({
  name,
  type,
  kind: undefined,
  nullable,
  default: undefined,
  generated
})

const live = (types: { readonly id: string; readonly email: string }, dialect = Dialect.pg): Introspect.Table => ({
  name: "users",
  columns: [column("id", types.id, false, true), column("email", types.email), column("legacy", "text", true)].map((c) => ({
    ...c,
    kind: dialect.catalog.kindOf(c.type)
  })),
  primaryKey: ["id"],
  uniques: [],
  indexes: [],
  foreignKeys: []
})

const server = { mariadb: false }

describe("schema diff", () => {
  it("PostgreSQL: add column, index, drop column, each with its SQL and its undo", () => {
    const spec = statementsFor(definitionOf(User), Dialect.pg).tableSpec
    const ops = diffTable(Dialect.pg, server, spec, live({ id: "bigint", email: "character varying(80)" }), true)
    expect(ops.map((o) => [o.kind, o.up, o.down, o.destructive])).toEqual([
      ["addColumn", [`ALTER TABLE "users" ADD COLUMN "age" BIGINT`], [`ALTER TABLE "users" DROP COLUMN "age"`], false],
      ["dropColumn", [`ALTER TABLE "users" DROP COLUMN "legacy"`], undefined, true],
      ["addIndex", [`CREATE INDEX "ix_users_age" ON "users" ("age")`], [`DROP INDEX "ix_users_age"`], false]
    ])
  })

  it("MySQL: a widened string is lossless, a narrowed one destructive", () => {
    const spec = statementsFor(definitionOf(User), Dialect.mysql).tableSpec
    const wider = diffTable(Dialect.mysql, server, spec, live({ id: "bigint", email: "varchar(40)" }, Dialect.mysql), false)
      .find((o) => o.kind === "alterColumnType")!
    expect(wider.up).toEqual(["ALTER TABLE `users` MODIFY COLUMN `email` VARCHAR(80) NOT NULL"])
    expect(wider.destructive).toBe(false)
    const narrower = diffTable(Dialect.mysql, server, spec, live({ id: "bigint", email: "longtext" }, Dialect.mysql), false)
      .find((o) => o.kind === "alterColumnType")!
    expect(narrower.destructive).toBe(true)
  })

  it("SQLite: what cannot be altered in place is one table rebuild; a NOT NULL column on rows is blocked", () => {
    const spec = statementsFor(definitionOf(User), Dialect.sqlite).tableSpec
    const ops = diffTable(Dialect.sqlite, server, spec, live({ id: "integer", email: "text" }), true)
    expect(ops.map((o) => o.kind)).toEqual(["rebuildTable"])
    expect(ops[0]!.up[1]).toBe(`INSERT INTO "users__dataflow_new" ("id", "email") SELECT "id", "email" FROM "users"`)
    expect(ops[0]!.destructive).toBe(true)
    const Strict = Model.make("User", Schema.Struct({ id: Schema.Int, email: Schema.String, n: Schema.Int }), {
      table: "users",
      timestamps: false
    })
    const blocked = changes(
      Dialect.sqlite,
      server,
      statementsFor(definitionOf(Strict), Dialect.sqlite).tableSpec,
      { ...live({ id: "integer", email: "text" }), columns: live({ id: "integer", email: "text" }).columns.slice(0, 2) },
      true
    )
    expect(blocked.map((c) => [c.kind, c.column, c.blocked])).toEqual([
      ["addColumn", "n", "a NOT NULL column without a default cannot be added to a table with rows"]
    ])
  })
})
