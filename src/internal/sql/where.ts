/**
 * WHERE clauses: a filter plus the model's scope (rows not soft-deleted, the current tenant's
 * rows) and the keyset condition of a page, and the ORDER BY that goes with it.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import type { InvalidFilter } from "../../Errors.js"
import type { DialectColumn } from "./rows.js"
import { compileFilter } from "./filter.js"
import type { Params } from "./params.js"
import { relationTargets } from "./relationFilter.js"
import type { ModelStatements } from "./statements.js"

/** @internal */
export interface Scope {
  readonly operation: string
  /** Soft-delete models: also rows that are deleted. */
  readonly includeDeleted: boolean
  /** Tenant-scoped models: the current tenant. */
  readonly tenant: string | undefined
  /** A global model: the current tenant its relation filters reach (row strategy). */
  readonly relationTenant?: string | undefined
}

/** @internal */
export interface Where {
  /** ` WHERE …`, or "" when every row qualifies. */
  readonly sql: string
  /** The filter's own condition: undefined when the filter holds for every row. */
  readonly condition: string | undefined
}

/** The filter and the model's scope as one WHERE clause, values bound in text order. @internal */
export const where = (
  s: ModelStatements,
  filter: unknown,
  params: Params,
  scope: Scope
): Either.Either<Where, InvalidFilter> =>
  Either.map(
    compileFilter({
      model: s.definition.name,
      operation: scope.operation,
      dialect: s.dialect,
      field: s.filterField,
      relation: relationTargets(s, s.table, 1, scope.tenant ?? scope.relationTenant, scope.operation, params)
    }, filter, params),
    (condition) => {
      const parts = [condition, scope.includeDeleted ? undefined : s.notDeleted].filter((p): p is string => p !== undefined)
      if (s.tenantColumn !== undefined) parts.push(`${s.tenantColumn.quoted} = ${params.bind(scope.tenant)}`)
      return { sql: parts.length === 0 ? "" : ` WHERE ${parts.join(" AND ")}`, condition }
    }
  )

/** Adds a condition to a WHERE clause. @internal */
export const and = (clause: string, condition: string): string =>
  clause === "" ? ` WHERE ${condition}` : `${clause} AND ${condition}`

/** One term of a page's order. @internal */
export interface OrderTerm {
  readonly column: DialectColumn
  readonly direction: "asc" | "desc"
  /** NULL can occur in the column. */
  readonly nullable: boolean
}

/** ` ORDER BY …`: NULL first ascending and last descending on every database. @internal */
export const orderBy = (s: ModelStatements, terms: ReadonlyArray<OrderTerm>): string =>
  ` ORDER BY ${terms.map((t) => s.dialect.orderTerm(t.column.quoted, t.direction, t.nullable)).join(", ")}`

/**
 * The rows after a page's last row in the order `terms` (the primary key last): `(a, b, pk) >
 * (…)` spelled out for any mix of directions and NULLs. `values` are the last row's.
 * @internal
 */
export const keyset = (terms: ReadonlyArray<OrderTerm>, values: ReadonlyArray<unknown>, params: Params): string => {
  const bind = (t: OrderTerm, v: unknown) => params.bind(t.column.toDb(v))
  // a redundant bound on the first sort field, read first: with an index on it, the
  // database scans a range instead of every row before the page
  const first = terms[0]!
  const lead = terms.length > 1 && !first.nullable && values[0] !== null
    ? `${first.column.quoted} ${first.direction === "asc" ? ">=" : "<="} ${bind(first, values[0])} AND `
    : ""
  const ors: Array<string> = []
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!
    const v = values[i]
    // NULL sorts first ascending and last descending: nothing sorts after a NULL descending
    if (v === null && t.direction === "desc") continue
    // placeholders may be positional: bind in the order the text reads
    const equal = terms.slice(0, i).map((e, j) =>
      values[j] === null ? `${e.column.quoted} IS NULL` : `${e.column.quoted} = ${bind(e, values[j])}`
    )
    const q = t.column.quoted
    const after = v === null
      ? `${q} IS NOT NULL`
      : t.direction === "asc"
      ? `${q} > ${bind(t, v)}`
      : t.nullable
      ? `(${q} < ${bind(t, v)} OR ${q} IS NULL)`
      : `${q} < ${bind(t, v)}`
    ors.push(equal.length === 0 ? after : `(${[...equal, after].join(" AND ")})`)
  }
  return ors.length === 0 ? "1=0" : `${lead}(${ors.join(" OR ")})`
}
