/**
 * Relation filters: a filter key naming a relation compiles to a correlated EXISTS subquery
 * over the related model's table, its scope (soft delete, tenant) included. A belongs-to or
 * has-one takes a filter of the related model (`{ author: { name: "Ada" } }`: such a record
 * exists); a has-many takes `some` / `every` / `none` of one.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { InvalidFilter } from "../../Errors.js"
import { relation } from "../model/relations.js"
import type { RelationTarget, Target } from "./filter.js"
import type { Params } from "./params.js"
import type { ModelStatements } from "./statements.js"
import { statementsFor } from "./statements.js"

/**
 * The relation lookup of a filter target: `self` is how the subquery refers to the row it
 * belongs to (the table, or the alias of an enclosing subquery).
 * @internal
 */
export const relationTargets = (
  s: ModelStatements,
  self: string,
  depth: number,
  tenant: string | undefined,
  operation: string,
  params: Params
) =>
(name: string): RelationTarget | undefined => {
  const resolved = relation(s.definition, name, operation)
  if (resolved === undefined) return undefined
  if (Either.isLeft(resolved)) {
    throw new InvalidFilter({ model: s.definition.name, operation, path: name, reason: resolved.left.reason })
  }
  const rel = resolved.right
  const q = s.dialect.quote
  const related = statementsFor(rel.target, s.dialect, rel.target.tenantScoped === s.definition.tenantScoped ? s.schema : undefined)
  const alias = q(`df_r${depth}`)
  const target: Target = {
    model: rel.target.name,
    operation,
    dialect: s.dialect,
    field: related.filterField,
    relation: relationTargets(related, alias, depth + 1, tenant, operation, params)
  }
  const through = rel.through
  if (through !== undefined) {
    // EXISTS (junction row of this record AND EXISTS (its related row meeting the condition))
    const junction = statementsFor(
      through.definition,
      s.dialect,
      through.definition.tenantScoped === s.definition.tenantScoped ? s.schema : undefined
    )
    const link = q(`df_j${depth}`)
    const linkCorrelation = through.sourceFields.map((f, i) =>
      `${link}.${junction.byField.get(f)!.quoted} = ${self}.${s.byField.get(rel.sourceFields[i]!)!.quoted}`
    )
    const relatedCorrelation = rel.targetFields.map((f, i) =>
      `${alias}.${related.byField.get(f)!.quoted} = ${link}.${junction.byField.get(through.targetFields[i]!)!.quoted}`
    )
    return {
      many: true,
      target,
      exists: (condition) => {
        const inner = [...relatedCorrelation]
        if (condition !== undefined) inner.push(condition)
        if (related.notDeleted !== undefined) inner.push(`${alias}.${related.notDeleted}`)
        if (related.tenantColumn !== undefined) inner.push(`${alias}.${related.tenantColumn.quoted} = ${params.bind(tenant ?? null)}`)
        const outer = [...linkCorrelation, `EXISTS (SELECT 1 FROM ${related.table} ${alias} WHERE ${inner.join(" AND ")})`]
        if (junction.notDeleted !== undefined) outer.push(`${link}.${junction.notDeleted}`)
        if (junction.tenantColumn !== undefined) outer.push(`${link}.${junction.tenantColumn.quoted} = ${params.bind(tenant ?? null)}`)
        return `EXISTS (SELECT 1 FROM ${junction.table} ${link} WHERE ${outer.join(" AND ")})`
      }
    }
  }
  const correlation = rel.targetFields.map((f, i) =>
    `${alias}.${related.byField.get(f)!.quoted} = ${self}.${s.byField.get(rel.sourceFields[i]!)!.quoted}`
  )
  return {
    many: rel.kind === "hasMany",
    target,
    exists: (condition) => {
      const parts = [...correlation]
      if (condition !== undefined) parts.push(condition)
      if (related.notDeleted !== undefined) parts.push(`${alias}.${related.notDeleted}`)
      // bound after the condition's values: the text order; without a tenant (NULL) no row
      if (related.tenantColumn !== undefined) parts.push(`${alias}.${related.tenantColumn.quoted} = ${params.bind(tenant ?? null)}`)
      return `EXISTS (SELECT 1 FROM ${related.table} ${alias} WHERE ${parts.join(" AND ")})`
    }
  }
}
