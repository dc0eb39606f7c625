/**
 * The default-value part of a table's difference: live defaults read back as literals of the
 * column's kind, and the defaults to set or drop.
 * (Internal module: not part of the public API.)
 */
import type { Kind } from "../../Column.js"
import type { Dialect, TableSpec } from "../dialect/dialect.js"
import { defaultLiteral } from "../dialect/common.js"
import type { Table } from "./introspect.js"
import type { Change } from "./operation.js"
import { quotedTable } from "./operation.js"

const number = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i

/**
 * A live default read as a literal of the column's kind (PostgreSQL's casts and parentheses
 * taken off: `'a'::text`, `'-1'::integer`); `"expression"` for anything else (`now()`, a
 * function, a string MySQL 8 shows unquoted); undefined when there is none.
 * @internal
 */
export const literalDefault = (
  text: string | undefined,
  kind: Kind
): { readonly value: string | number | boolean } | "expression" | undefined => {
  if (text === undefined) return undefined
  let t = text.trim()
  for (let m = /^\((.*)\)$/s.exec(t); m !== null; m = /^\((.*)\)$/s.exec(t)) t = m[1]!.trim()
  const cast = /^('(?:[^']|'')*'|[-+0-9.e]+)::[a-z][a-z0-9_ ]*(\([0-9, ]+\))?$/i.exec(t)
  if (cast !== null) t = cast[1]!
  const quoted = /^'((?:[^']|'')*)'$/s.exec(t)
  const raw = quoted === null ? t : quoted[1]!.replace(/''/g, "'")
  switch (kind._tag) {
    case "string":
    case "enum":
      return quoted === null ? "expression" : { value: raw }
    case "integer":
    case "float":
    case "decimal":
      return number.test(raw) ? { value: Number(raw) } : "expression"
    case "boolean": {
      const word = raw.toLowerCase()
      return ["true", "1", "t"].includes(word) ? { value: true } : ["false", "0", "f"].includes(word) ? { value: false } : "expression"
    }
    default:
      return "expression"
  }
}

/**
 * The defaults to set (the model declares one the live column has not, or another) or drop
 * (the live column has a literal default the model does not declare). A live default that is
 * an expression (`now()`) under a model that declares none is left alone: a model cannot say it.
 * @internal
 */
export const defaultChanges = (dialect: Dialect, spec: TableSpec, live: Table): ReadonlyArray<Change> => {
  const table = quotedTable(dialect, spec)
  const out: Array<Change> = []
  for (const column of spec.columns) {
    const current = live.columns.find((l) => l.name === column.name)
    if (current === undefined || current.generated || (column === spec.primaryKey && spec.autoIncrement)) continue
    const found = literalDefault(current.default, column.kind)
    const wanted = column.default
    const same = wanted === undefined
      ? found === undefined || found === "expression"
      : found !== undefined && found !== "expression" && found.value === wanted
    if (same) continue
    const up = dialect.alter.setDefault?.(table, column.name, wanted === undefined ? undefined : defaultLiteral(wanted))
    const down = dialect.alter.setDefault?.(table, column.name, current.default)
    out.push({
      inPlace: up !== undefined,
      kind: "alterDefault",
      table: spec.table,
      column: column.name,
      description: wanted === undefined
        ? `drop the default of ${column.name} (${current.default})`
        : `set the default of ${column.name} to ${defaultLiteral(wanted)}${current.default === undefined ? "" : ` (was ${current.default})`}`,
      up: up === undefined ? [] : [up],
      down: down === undefined ? undefined : [down],
      destructive: false,
      additive: false
    })
  }
  return out
}
