/**
 * The statement of `aggregate`: one `SELECT` of the group fields and the aggregates asked for
 * (`COUNT`, `COUNT(DISTINCT …)`, exact sums, `MIN`, `MAX`) under a WHERE clause, grouped, and
 * the reader that turns a row of it into a result with the documented types: sums and
 * averages computed from exact sums (the dialect's `exactSum`), so every database answers
 * alike. Pure; nothing here runs SQL.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import type { Column, Kind } from "../../Column.js"
import { decodePlan } from "./rows.js"
import type { DialectColumn } from "./rows.js"
import type { ModelStatements } from "./statements.js"

type Row = Record<string, unknown>

/** What an aggregate asks for: the model's columns, checked. @internal */
export interface AggregateSpec {
  readonly groupBy: ReadonlyArray<Column>
  /** `count: true`: the rows of each group. */
  readonly countAll: boolean
  readonly count: ReadonlyArray<Column>
  readonly countDistinct: ReadonlyArray<Column>
  readonly sum: ReadonlyArray<Column>
  readonly avg: ReadonlyArray<Column>
  readonly min: ReadonlyArray<Column>
  readonly max: ReadonlyArray<Column>
}

/** @internal */
export interface AggregateStatement {
  readonly text: string
  /** A row of the statement as a result: the group's fields, `_count`, `_sum`, … */
  readonly read: (row: Row) => Row
}

/** Digits after the point of a decimal average beyond the column's scale. @internal */
export const avgExtraScale = 6

/** The scale of a decimal column (its declared one; DECIMAL(65, 30) by default). @internal */
export const decimalScale = (kind: Kind): number =>
  kind._tag === "decimal" ? kind.scale ?? (kind.precision === undefined ? 30 : 0) : 0

/**
 * `n / d` (d > 0) as the nearest double: the quotient to at least 66 significant bits with a
 * sticky bit for any remainder, so `Number` rounds it exactly once.
 * @internal
 */
export const quotient = (n: bigint, d: bigint): number => {
  if (n === 0n) return 0
  const negative = n < 0n
  const a = negative ? -n : n
  const shift = Math.max(0, 66 - (a.toString(2).length - d.toString(2).length))
  const scaled = a << BigInt(shift)
  let q = scaled / d
  if (scaled % d !== 0n) q |= 1n
  const v = Number(q) / 2 ** shift
  return negative ? -v : v
}

/** `sum / count` (count > 0) at `scale` digits after the point, rounded half to even. @internal */
export const decimalQuotient = (sum: BigDecimal.BigDecimal, count: bigint, scale: number): BigDecimal.BigDecimal => {
  // sum.value / 10^sum.scale / count, times 10^scale: one integer division
  const shift = scale - sum.scale
  const n = shift >= 0 ? sum.value * 10n ** BigInt(shift) : sum.value
  const d = shift >= 0 ? count : count * 10n ** BigInt(-shift)
  let q = n / d
  const r = n % d
  const twice = (r < 0n ? -r : r) * 2n
  if (twice > d || (twice === d && (q & 1n) !== 0n)) q += n < 0n ? -1n : 1n
  return BigDecimal.normalize(BigDecimal.make(q, scale))
}

/** An exact sum as the result type of a sum of `kind`: number, bigint or BigDecimal. */
const sumValue = (kind: Kind, sum: BigDecimal.BigDecimal): unknown =>
  kind._tag === "bigint"
    ? BigDecimal.scale(sum, 0).value
    : kind._tag === "decimal"
    ? BigDecimal.normalize(sum)
    : Number(BigDecimal.scale(sum, 0).value)

const numberOf = (raw: unknown): number => (typeof raw === "number" ? raw : Number(raw))

/**
 * The aggregate statement of `spec` under a WHERE clause (its values bound by the caller),
 * grouped by `spec.groupBy`, at most `limit` rows, and its reader.
 * @internal
 */
export const aggregate = (s: ModelStatements, spec: AggregateSpec, where: string, limit: number | undefined): AggregateStatement => {
  const { dialect } = s
  const columnsOf = (columns: ReadonlyArray<Column>): ReadonlyArray<DialectColumn> => columns.map((c) => s.byField.get(c.field)!)
  const groupBy = columnsOf(spec.groupBy)
  const items: Array<string> = groupBy.map((c) => dialect.selectExpr(c.column))
  const readers: Array<(row: Row, out: Row) => void> = []
  let n = 0
  const alias = () => `__agg_${n++}`
  const select = (expression: string) => {
    const name = alias()
    items.push(`${expression} AS ${dialect.quote(name)}`)
    return name
  }
  const into = (out: Row, key: string): Row => (out[key] ??= {}) as Row

  if (spec.countAll) {
    const name = select("COUNT(*)")
    readers.push((row, out) => {
      out._count = numberOf(row[name])
    })
  }
  const counting = (fields: ReadonlyArray<DialectColumn>, key: "_count" | "_countDistinct", distinct: boolean) => {
    for (const c of fields) {
      const name = select(`COUNT(${distinct ? "DISTINCT " : ""}${c.quoted})`)
      readers.push((row, out) => {
        into(out, key)[c.column.field] = numberOf(row[name])
      })
    }
  }
  counting(columnsOf(spec.count), "_count", false)
  counting(columnsOf(spec.countDistinct), "_countDistinct", true)

  // one sum (and count of values) per field, whether its sum, its average or both are asked for
  const summed = [...new Set([...spec.sum, ...spec.avg])]
  // conversions a sum needs once per row, read from a derived table
  const rowValues: Array<string> = []
  for (const c of columnsOf(summed)) {
    const kind = c.column.kind
    // floats are summed in doubles by the database; every other numeric kind exactly
    const rowValue = dialect.quote(`__row_${rowValues.length}`)
    const exact = kind._tag === "float" ? undefined : dialect.exactSum(kind, c.quoted, rowValue)
    if (exact?.perRow !== undefined) rowValues.push(`${exact.perRow} AS ${rowValue}`)
    const parts = (exact?.parts ?? [`SUM(${c.quoted})`]).map(select)
    const counted = spec.avg.includes(c.column) ? select(`COUNT(${c.quoted})`) : undefined
    readers.push((row, out) => {
      const field = c.column.field
      const raws = parts.map((p) => row[p] ?? null)
      if (exact === undefined) {
        const sum = raws[0] === null ? null : numberOf(raws[0])
        if (spec.sum.includes(c.column)) into(out, "_sum")[field] = sum
        if (counted !== undefined) {
          into(out, "_avg")[field] = sum === null ? null : sum / numberOf(row[counted])
        }
        return
      }
      const sum = exact.read(raws)
      if (spec.sum.includes(c.column)) into(out, "_sum")[field] = sum === null ? null : sumValue(kind, sum)
      if (counted !== undefined) {
        const values = BigInt(numberOf(row[counted]))
        into(out, "_avg")[field] = sum === null
          ? null
          : kind._tag === "decimal"
          ? decimalQuotient(sum, values, decimalScale(kind) + avgExtraScale)
          : quotient(BigDecimal.scale(sum, 0).value, values)
      }
    })
  }

  const extremes = (fields: ReadonlyArray<DialectColumn>, key: "_min" | "_max", fn: "MIN" | "MAX") => {
    for (const c of fields) {
      const name = select(dialect.aggregateValue(c.column.kind, `${fn}(${c.quoted})`))
      readers.push((row, out) => {
        const raw = row[name]
        into(out, key)[c.column.field] = raw === null || raw === undefined ? null : c.fromDb(raw)
      })
    }
  }
  extremes(columnsOf(spec.min), "_min", "MIN")
  extremes(columnsOf(spec.max), "_max", "MAX")

  // a statement selects something even when only the groups are asked for
  if (items.length === 0) select("COUNT(*)")
  const grouping = groupBy.length === 0 ? "" : ` GROUP BY ${groupBy.map((c) => c.quoted).join(", ")}`
  const used = [...new Set([...spec.groupBy, ...spec.count, ...spec.countDistinct, ...summed, ...spec.min, ...spec.max])]
  const from = rowValues.length === 0
    ? `${s.table}${where}`
    : dialect.derivedTable(
      `SELECT ${[...columnsOf(used).map((c) => c.quoted), ...rowValues].join(", ")} FROM ${s.table}${where}`,
      dialect.quote("__rows")
    )
  const text = `SELECT ${items.join(", ")} FROM ${from}${grouping}${dialect.limitOffset(limit, undefined)}`
  const groups = decodePlan(groupBy)
  return {
    text,
    read: (row) => {
      const out = groupBy.length === 0 ? {} : groups.decode(row)
      for (const read of readers) read(row, out)
      return out
    }
  }
}
