/**
 * The foreign keys of a model's table, from its belongs-to relations: their constraint names
 * (known without the target, so a violation names the fields), the index that serves each,
 * and the full constraint once the target resolves. Tenant-scoped models whose target's key
 * includes the tenant reference it with the tenant: a relation never crosses tenants.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { ConfigurationError } from "../../Errors.js"
import { constraintName } from "../dialect/common.js"
import type { Dialect, ForeignKeySpec } from "../dialect/dialect.js"
import type { ModelDefinition } from "../model/definition.js"
import { declaredOf, foreignKeys } from "../model/relations.js"

/** @internal */
export interface TableForeignKey {
  readonly relation: string
  readonly name: string
  /** The model's foreign key fields. */
  readonly fields: ReadonlyArray<string>
  /** Their columns. */
  readonly columns: ReadonlyArray<string>
  /** The index serving the key (joins, and the referential checks of deletes on the target). */
  readonly index: { readonly name: string; readonly columns: ReadonlyArray<string> }
}

/** Foreign key constraint names the library declared, to the model and relation they belong to. */
const declaredNames = new Map<string, { readonly model: string; readonly relation: string }>()

/** The model and relation of a foreign key constraint the library declared, by its name. @internal */
export const relationOfConstraint = (name: string) => declaredNames.get(name)

/** The foreign keys a model's table declares, from its own fields alone. @internal */
export const foreignKeysOf = (def: ModelDefinition, dialect: Dialect): ReadonlyArray<TableForeignKey> => {
  const keys: Array<TableForeignKey> = []
  for (const [relation, spec] of declaredOf(def)) {
    if (spec.kind !== "belongsTo") continue
    const columns = spec.foreignKey.map((f) => def.byField.get(f)!.name)
    const indexed = def.tenantScoped ? [def.byField.get("tenantId")!.name, ...columns] : columns
    const name = constraintName(dialect, "fk", def.table, columns)
    declaredNames.set(name, { model: def.name, relation })
    keys.push({
      relation,
      name,
      fields: spec.foreignKey,
      columns,
      index: { name: constraintName(dialect, "ix", def.table, indexed), columns: indexed }
    })
  }
  return keys
}

/** The target's key includes the tenant: a tenant-scoped target with an application key. @internal */
export const tenantKeyed = (target: ModelDefinition, references: ReadonlyArray<string>) =>
  target.tenantScoped && !(target.autoIncrement && references.length === 1 && references[0] === target.pk.field)

/**
 * Checks the resolved foreign keys can be declared: a model that is not tenant-scoped cannot
 * refer to a tenant-scoped model whose key includes the tenant.
 * @internal
 */
export const checkForeignKeys = (def: ModelDefinition, operation: string) =>
  Either.flatMap(foreignKeys(def, operation), (keys) => {
    const crossing = keys.find((k) => !def.tenantScoped && tenantKeyed(k.target, k.references))
    return crossing === undefined
      ? Either.right(keys)
      : Either.left(
        new ConfigurationError({
          model: def.name,
          operation,
          reason: `relation ${crossing.relation}: ${def.name} is not tenant-scoped and ${crossing.target.name} is`
        })
      )
  })

/** The constraints of CREATE TABLE (the targets resolved: checked by `checkForeignKeys` first). @internal */
export const foreignKeySpecs = (
  def: ModelDefinition,
  keys: ReadonlyArray<TableForeignKey>,
  schema: string | undefined
): ReadonlyArray<ForeignKeySpec> => {
  const resolved = checkForeignKeys(def, "migrate")
  if (Either.isLeft(resolved)) throw resolved.left
  return keys.map((key) => {
    const fk = resolved.right.find((r) => r.relation === key.relation)!
    const column = (d: ModelDefinition, f: string) => d.byField.get(f)!.name
    const withTenant = def.tenantScoped && tenantKeyed(fk.target, fk.references)
    return {
      name: key.name,
      // the resolved order: the referenced key's (a composite key referred to in another order is paired to it)
      columns: [...(withTenant ? ["tenantId"] : []), ...fk.fields].map((f) => column(def, f)),
      table: fk.target.table,
      // a tenant's schema holds the tenant-scoped tables; shared tables stay where they are
      schema: fk.target.tenantScoped === def.tenantScoped ? schema : undefined,
      references: [...(withTenant ? [column(fk.target, "tenantId")] : []), ...fk.references.map((f) => column(fk.target, f))],
      onDelete: fk.onDelete,
      onUpdate: fk.onUpdate
    }
  })
}

/** The models a model's resolved foreign keys refer to, itself left out (a self-reference needs no order). */
const referencedModels = (def: ModelDefinition): ReadonlyArray<ModelDefinition> => {
  const keys = foreignKeys(def, "migrate")
  return Either.isLeft(keys) ? [] : keys.right.map((k) => k.target).filter((t) => t !== def)
}

/** The models reachable from `def` through foreign keys. */
const reachable = (def: ModelDefinition): ReadonlySet<ModelDefinition> => {
  const seen = new Set<ModelDefinition>()
  const stack = [def]
  while (stack.length > 0) {
    for (const target of referencedModels(stack.pop()!)) {
      if (!seen.has(target)) {
        seen.add(target)
        stack.push(target)
      }
    }
  }
  return seen
}

/**
 * The other models of a cycle of foreign keys through `def` (A.bId → B, B.aId → A; or
 * longer): their tables and `def`'s can only be created together, the constraints between
 * them added once all exist. Empty when `def` is in no cycle (a self-reference is none).
 * @internal
 */
export const cycleOf = (def: ModelDefinition): ReadonlyArray<ModelDefinition> => {
  const fromDef = reachable(def)
  if (!fromDef.has(def)) return []
  return [...fromDef].filter((m) => m !== def && reachable(m).has(def))
}
