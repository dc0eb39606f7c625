/**
 * Arithmetic updates of numeric fields — `{ n: { $increment: 1 } }`, `$decrement`, `$multiply`
 * in a patch: parsing and checking the operand, the new value a current value gets (for
 * checks and for databases that cannot do the arithmetic), and the range a current value must
 * lie in so that the result stays storable. Pure; statements are built in `sql/`.
 * (Internal module: not part of the public API.)
 */
import * as BigDecimal from "effect/BigDecimal"
import type { Kind } from "../../Column.js"
import { storageCheck } from "./storage.js"

/** An arithmetic update of one field: `+ operand` ($decrement: a negated operand) or `* operand`. @internal */
export class Arith {
  readonly _tag = "Arith"
  constructor(
    readonly operator: "+" | "*",
    readonly operand: number | bigint | BigDecimal.BigDecimal,
    /** The operator the caller wrote. */
    readonly written: "$increment" | "$decrement" | "$multiply"
  ) {}
}

/** @internal */
export const isArith = (u: unknown): u is Arith => u instanceof Arith

const written = new Set(["$increment", "$decrement", "$multiply"])

const isOperatorObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Date) && !BigDecimal.isBigDecimal(u) &&
  Object.keys(u).length === 1 && Object.keys(u)[0]!.startsWith("$")

/** Is a patch value an operator object (`{ $increment: … }`, or an unknown `$…` key)? @internal */
export const isArithInput = (kind: Kind, u: unknown): u is Record<string, unknown> =>
  kind._tag !== "json" && isOperatorObject(u)

const numeric = new Set(["integer", "float", "bigint", "decimal"])

/**
 * The Arith of a patch value `{ $op: operand }` on a column of `kind`, or why it cannot be one
 * (an unknown operator, a field that is not numeric, an operand of another type or not
 * storable in the column).
 * @internal
 */
export const parseArith = (kind: Kind, value: Record<string, unknown>): Arith | string => {
  const [op, operand] = Object.entries(value)[0]!
  if (!written.has(op)) return `unknown update operator ${op} (expected $increment, $decrement or $multiply)`
  if (!numeric.has(kind._tag)) return `${op} applies to numeric fields only`
  const name = op as Arith["written"]
  const operator = name === "$multiply" ? "*" : "+"
  switch (kind._tag) {
    case "integer":
      if (!Number.isSafeInteger(operand)) return `${op} of an integer field takes an integer`
      break
    case "float":
      if (typeof operand !== "number" || !Number.isFinite(operand)) return `${op} takes a finite number`
      break
    case "bigint":
      if (typeof operand !== "bigint") return `${op} of a bigint field takes a bigint`
      break
    case "decimal":
      if (!BigDecimal.isBigDecimal(operand)) return `${op} of a decimal field takes a BigDecimal`
      // a product's scale is the sum of the factors': an integer factor keeps the column's
      if (name === "$multiply" && !BigDecimal.isInteger(operand)) return "$multiply of a decimal field takes a whole number"
      break
  }
  const storable = storageCheck(kind, operand)
  if (storable !== undefined) return `${op}: ${storable}`
  const negated = name === "$decrement"
    ? typeof operand === "number"
      ? -operand
      : typeof operand === "bigint"
      ? -operand
      : BigDecimal.negate(operand as BigDecimal.BigDecimal)
    : operand
  return new Arith(operator, negated as Arith["operand"], name)
}

/** The value `current` becomes (NULL stays NULL). @internal */
export const apply = (arith: Arith, current: unknown): unknown => {
  if (current === null || current === undefined) return current
  const { operand, operator } = arith
  if (typeof current === "number" && typeof operand === "number") {
    const r = operator === "+" ? current + operand : current * operand
    return r === 0 ? 0 : r // no -0
  }
  if (typeof current === "bigint" && typeof operand === "bigint") return operator === "+" ? current + operand : current * operand
  if (BigDecimal.isBigDecimal(current) && BigDecimal.isBigDecimal(operand)) {
    return BigDecimal.normalize(operator === "+" ? BigDecimal.sum(current, operand) : BigDecimal.multiply(current, operand))
  }
  return current
}

const maxSafe = Number.MAX_SAFE_INTEGER
const maxInt64 = 2n ** 63n - 1n

/**
 * The range a current value must lie in for the result to stay in the column's range — what a
 * statement checks (`col BETWEEN lo AND hi`) when the database does the arithmetic. The range
 * is symmetric, so a negative factor needs the same bounds as its absolute value.
 * @internal
 */
export const currentRange = (kind: Kind, arith: Arith): readonly [unknown, unknown] => {
  const { operand, operator } = arith
  switch (kind._tag) {
    case "integer":
    case "float": {
      const max = kind._tag === "integer" ? maxSafe : Number.MAX_VALUE
      const d = operand as number
      if (operator === "+") return d >= 0 ? [-max, max - d] : [-max - d, max]
      const f = Math.abs(d)
      if (f <= 1) return [-max, max]
      const bound = kind._tag === "integer" ? Math.floor(max / f) : max / f
      return [-bound, bound]
    }
    case "bigint": {
      const d = operand as bigint
      if (operator === "+") return d >= 0n ? [-maxInt64, maxInt64 - d] : [-maxInt64 - d, maxInt64]
      const f = d < 0n ? -d : d
      if (f <= 1n) return [-maxInt64, maxInt64]
      return [-(maxInt64 / f), maxInt64 / f]
    }
    case "decimal": {
      // DECIMAL(p, s): the largest value is p nines with s of them after the point
      const precision = kind.precision ?? 65
      const scale = kind.scale ?? (kind.precision === undefined ? 30 : 0)
      const maxUnscaled = 10n ** BigInt(precision) - 1n
      const max = BigDecimal.make(maxUnscaled, scale)
      const d = operand as BigDecimal.BigDecimal
      if (operator === "+") {
        return d.value >= 0n ? [BigDecimal.negate(max), BigDecimal.subtract(max, d)] : [BigDecimal.subtract(BigDecimal.negate(max), d), max]
      }
      const whole = BigDecimal.normalize(d)
      const f = (whole.value < 0n ? -whole.value : whole.value) * 10n ** BigInt(-whole.scale)
      if (f <= 1n) return [BigDecimal.negate(max), max]
      const bound = BigDecimal.make(maxUnscaled / f, scale)
      return [BigDecimal.negate(bound), bound]
    }
    default:
      return [undefined, undefined]
  }
}
