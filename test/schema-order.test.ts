/**
 * Without a database: the creation order of new tables tied by foreign keys (a cycle closed by
 * ALTER TABLE … ADD CONSTRAINT where the database can, kept in CREATE TABLE on SQLite), the
 * SQLite rebuild refused for a referenced table, and live defaults read as literals.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Dialect as DialectType } from "../src/Dialect.js"
import { Dialect } from "../src/index.js"
import type { TableSpec } from "../src/internal/dialect/dialect.js"
import { literalDefault } from "../src/internal/schema/diff.js"
import type { Table } from "../src/internal/schema/introspect.js"
import { createTables, guardRebuild } from "../src/internal/schema/order.js"

const idColumn = { field: "id", name: "id", kind: { _tag: "integer" as const }, nullable: false, optional: false, jsonEncode: (v: unknown) => v, jsonDecode: (v: unknown) => v }
const refColumn = (name: string) => ({ ...idColumn, field: name, name, nullable: true })

const spec = (table: string, references: ReadonlyArray<string>): TableSpec => ({
  table,
  columns: [idColumn, ...references.map((r) => refColumn(`${r}_id`))],
  primaryKey: idColumn,
  autoIncrement: true,
  uniques: [],
  indexes: [],
  keyed: new Set(["id"]),
  schema: undefined,
  tenantColumn: undefined,
  foreignKeys: references.map((r) => ({
    name: `fk_${table}_${r}_id`,
    columns: [`${r}_id`],
    table: r,
    schema: undefined,
    references: ["id"],
    onDelete: "noAction" as const,
    onUpdate: "noAction" as const
  }))
})

const server = { mariadb: false }
const steps = (dialect: DialectType, specs: ReadonlyArray<TableSpec>, live: ReadonlyArray<Table> = []) => {
  const { creates, foreignKeys } = createTables(dialect, server, specs, live)
  return [...creates, ...foreignKeys].map((o) => `${o.kind} ${o.table}${o.kind === "addForeignKey" ? ` ${o.index}` : ""}`)
}

describe("creation order", () => {
  it("a table after the tables it references, whatever the order given", () => {
    expect(steps(Dialect.pg, [spec("c", ["b"]), spec("b", ["a"]), spec("a", [])])).toEqual(["createTable a", "createTable b", "createTable c"])
  })

  it("a cycle: both tables, then ADD CONSTRAINT (PostgreSQL, MySQL); in CREATE TABLE on SQLite", () => {
    const cycle = [spec("teams", ["players"]), spec("players", ["teams"])]
    expect(steps(Dialect.pg, cycle)).toEqual(["createTable teams", "createTable players", "addForeignKey teams fk_teams_players_id"])
    const { creates, foreignKeys } = createTables(Dialect.mysql, server, cycle, [])
    expect(creates[0]!.up.join(";")).not.toContain("FOREIGN KEY")
    expect(foreignKeys[0]!.up).toEqual(["ALTER TABLE `teams` ADD CONSTRAINT `fk_teams_players_id` FOREIGN KEY (`players_id`) REFERENCES `players` (`id`) ON DELETE NO ACTION ON UPDATE NO ACTION"])
    expect(foreignKeys[0]!.down).toEqual(["ALTER TABLE `teams` DROP FOREIGN KEY `fk_teams_players_id`"])
    expect(steps(Dialect.sqlite, cycle)).toEqual(["createTable teams", "createTable players"])
  })

  it("a self-reference needs nothing more; a target that neither exists nor is planned is blocked", () => {
    expect(steps(Dialect.pg, [spec("nodes", ["nodes"])])).toEqual(["createTable nodes"])
    expect(createTables(Dialect.pg, server, [spec("orphans", ["nowhere"])], []).creates[0]!.blocked).toMatch(/nowhere/)
  })

  it("SQLite: rebuilding a table that foreign keys refer to is blocked", () => {
    const rebuild = { kind: "rebuildTable" as const, table: "a", description: "", up: [], destructive: false, additive: false }
    const referring: Table = { name: "b", columns: [], primaryKey: ["id"], uniques: [], indexes: [], foreignKeys: [{ name: "fk", columns: ["a_id"], referencedTable: "a", referencedColumns: ["id"], onDelete: "cascade", onUpdate: "noAction" }] }
    expect(guardRebuild(rebuild, spec("a", []), [referring]).blocked).toMatch(/foreign keys of b refer to it/)
    expect(guardRebuild(rebuild, spec("a", []), []).blocked).toBeUndefined()
  })
})

describe("live defaults", () => {
  it("read as literals of the column's kind, whatever the catalog's form", () => {
    const text = { _tag: "string" as const, maxLength: undefined }
    expect(literalDefault("'it''s'::character varying", text)).toEqual({ value: "it's" })
    expect(literalDefault("'a::b'::text", text)).toEqual({ value: "a::b" })
    expect(literalDefault("'-1'::integer", { _tag: "integer" })).toEqual({ value: -1 })
    expect(literalDefault("1.50", { _tag: "decimal", precision: 10, scale: 2 })).toEqual({ value: 1.5 })
    expect(literalDefault("TRUE", { _tag: "boolean" })).toEqual({ value: true })
    expect(literalDefault("0", { _tag: "boolean" })).toEqual({ value: false })
    expect(literalDefault("now()", { _tag: "datetime" })).toBe("expression")
    expect(literalDefault("current_timestamp()", text)).toBe("expression")
    expect(literalDefault(undefined, text)).toBeUndefined()
  })
})
