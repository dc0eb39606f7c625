/**
 * INSERT statements: multi-row VALUES under the parameter limit, or one array parameter per
 * column where the dialect binds arrays.
 * (Internal module: not part of the public API.)
 */
import type { DialectColumn } from "../rows.js"
import type { ModelStatements } from "../statements.js"
import { cached, MAX_ROWS_PER_STATEMENT, returning } from "./common.js"

/** Rows a VALUES insert of `columns` takes in one statement, under the dialect's parameter limit. @internal */
export const rowsPerStatement = (s: ModelStatements, columns: number): number =>
  Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(s.dialect.maxParams / columns)))

/** `INSERT … VALUES (…), (…)` of `rows` rows of `columns`, values row after row. @internal */
export const insertValues = (
  s: ModelStatements,
  columns: ReadonlyArray<DialectColumn>,
  rows: number,
  withReturning: boolean,
  onConflict = ""
): string =>
  cached(s, `insert:${columns.map((c) => c.column.field).join(",")}:${rows}:${withReturning}:${onConflict}`, () => {
    if (columns.length === 0) {
      // a generated key alone: `() VALUES ()` is MySQL's; the others say DEFAULT VALUES
      return `${s.dialect.defaultsInsert(s.table, s.pk.quoted, rows)}${onConflict}${withReturning ? returning(s) : ""}`
    }
    let n = 0
    const tuple = () => `(${columns.map(() => s.dialect.placeholder(++n)).join(", ")})`
    const values: Array<string> = []
    for (let i = 0; i < rows; i++) values.push(tuple())
    return `INSERT INTO ${s.table} (${columns.map((c) => c.quoted).join(", ")}) VALUES ${values.join(", ")}${onConflict}${
      withReturning ? returning(s) : ""
    }`
  })

/** How many rows one bulk INSERT of `columns` takes: an array insert's, or a VALUES statement's. @internal */
export const rowsPerInsert = (s: ModelStatements, columns: number): number =>
  s.dialect.arrayInsert?.rows ?? rowsPerStatement(s, columns)

/**
 * A bulk INSERT of encoded rows (`values` row after row): multi-row VALUES, or where the dialect
 * binds arrays one array parameter per column (any number of rows in one statement).
 * @internal
 */
export const insertRows = (
  s: ModelStatements,
  columns: ReadonlyArray<DialectColumn>,
  values: ReadonlyArray<unknown>,
  rows: number,
  onConflict = ""
): { readonly text: string; readonly params: ReadonlyArray<unknown> } => {
  const arrayInsert = s.dialect.arrayInsert
  // no column to bind as an array (a generated key alone): a VALUES insert of defaults
  if (arrayInsert === undefined || columns.length === 0) {
    return { text: insertValues(s, columns, rows, false, onConflict), params: values }
  }
  const width = columns.length
  const arrays = columns.map((_, k) => {
    const column = new Array<unknown>(rows)
    for (let r = 0; r < rows; r++) column[r] = values[r * width + k]
    return column
  })
  const text = cached(
    s,
    `arrayInsert:${columns.map((c) => c.column.field).join(",")}:${onConflict}`,
    () => arrayInsert.text(s.table, columns.map((c) => ({ quoted: c.quoted, kind: c.column.kind }))) + onConflict
  )
  return { text, params: arrays }
}
