/**
 * Relations between models: what a model declares (belongs-to with its foreign key, has-many,
 * has-one), checked where it can be at declaration, and resolved against the target model on
 * first use (targets are thunks, so models can be declared in any order and refer to
 * themselves).
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import { ConfigurationError } from "../../Errors.js"
import type { ModelDefinition } from "./definition.js"
import { definitionOf } from "./definition.js"

/** What the database does to referencing rows when the referenced key is deleted or updated. @internal */
export type ReferentialAction = "cascade" | "restrict" | "setNull" | "noAction"

/** @internal */
export type RelationKind = "belongsTo" | "hasMany" | "hasOne" | "manyToMany"

/** A relation as declared (the target not yet resolved). @internal */
export interface RelationSpec {
  readonly kind: RelationKind
  readonly target: () => object
  /** belongs-to: this model's fields; has-many / has-one: the target's fields referring to this model. */
  readonly foreignKey: ReadonlyArray<string>
  /** The referenced fields (belongs-to: the target's; has-many / has-one: this model's); default the primary key. */
  readonly references: ReadonlyArray<string> | undefined
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
  /** many-to-many: the junction model; `foreignKey` its fields referring to this model, `otherKey` to the target. */
  readonly through?: (() => object) | undefined
  readonly otherKey?: ReadonlyArray<string> | undefined
}

/** A relation with its target resolved: how a parent's fields meet the target's. @internal */
export interface Relation {
  readonly name: string
  readonly kind: RelationKind
  readonly source: ModelDefinition
  readonly target: ModelDefinition
  /** Fields of the source whose values the target's `targetFields` hold. */
  readonly sourceFields: ReadonlyArray<string>
  readonly targetFields: ReadonlyArray<string>
  readonly spec: RelationSpec
  /** many-to-many: the junction, its fields holding `sourceFields`' values and `targetFields`' values. */
  readonly through?: {
    readonly definition: ModelDefinition
    readonly sourceFields: ReadonlyArray<string>
    readonly targetFields: ReadonlyArray<string>
  } | undefined
}

/** A foreign key the source table of a belongs-to relation declares. @internal */
export interface ForeignKey {
  readonly relation: string
  readonly fields: ReadonlyArray<string>
  readonly target: ModelDefinition
  readonly references: ReadonlyArray<string>
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
}

const actions: ReadonlySet<string> = new Set(["cascade", "restrict", "setNull", "noAction"])

const declared = new WeakMap<ModelDefinition, ReadonlyMap<string, RelationSpec>>()

const fieldList = (value: unknown): ReadonlyArray<string> | undefined =>
  typeof value === "string"
    ? [value]
    : Array.isArray(value) && value.length > 0 && value.every((f) => typeof f === "string")
    ? value as ReadonlyArray<string>
    : undefined

/**
 * A relation declaration from its parts, checked for shape (the fields against the models are
 * checked when the model is made and on first use).
 * @internal
 */
export const spec = (
  kind: RelationKind,
  target: () => object,
  options: {
    readonly foreignKey: string | ReadonlyArray<string>
    readonly references?: string | ReadonlyArray<string> | undefined
    readonly onDelete?: ReferentialAction | undefined
    readonly onUpdate?: ReferentialAction | undefined
    readonly through?: (() => object) | undefined
    readonly otherKey?: string | ReadonlyArray<string> | undefined
  }
): RelationSpec => {
  if (kind === "manyToMany") {
    const foreignKey = fieldList(options?.foreignKey)
    const otherKey = fieldList(options?.otherKey)
    if (typeof target !== "function" || typeof options?.through !== "function") {
      throw new TypeError("Model.manyToMany: the target and through must be functions returning models")
    }
    if (foreignKey === undefined || otherKey === undefined) {
      throw new TypeError("Model.manyToMany: foreignKey and otherKey must be field names of the junction model")
    }
    return { kind, target, foreignKey, references: undefined, onDelete: "noAction", onUpdate: "noAction", through: options.through, otherKey }
  }
  if (typeof target !== "function") throw new TypeError(`Model.${kind}: the target must be a function returning a model`)
  const foreignKey = fieldList(options?.foreignKey)
  if (foreignKey === undefined) throw new TypeError(`Model.${kind}: foreignKey must be a field name or a non-empty list of them`)
  const references = options.references === undefined ? undefined : fieldList(options.references)
  if (options.references !== undefined && references === undefined) {
    throw new TypeError(`Model.${kind}: references must be a field name or a non-empty list of them`)
  }
  if (references !== undefined && references.length !== foreignKey.length) {
    throw new TypeError(`Model.${kind}: foreignKey and references must name as many fields`)
  }
  for (const [name, action] of [["onDelete", options.onDelete], ["onUpdate", options.onUpdate]] as const) {
    if (action !== undefined && !actions.has(action)) {
      throw new TypeError(`Model.${kind}: ${name} must be one of cascade, restrict, setNull, noAction`)
    }
  }
  return {
    kind,
    target,
    foreignKey,
    references,
    onDelete: options.onDelete ?? "noAction",
    onUpdate: options.onUpdate ?? "noAction"
  }
}

/**
 * Records a model's relations (at `Model.make`), checking what this model alone decides: the
 * relation names do not clash with fields, a belongs-to's foreign key fields exist, `setNull`
 * only on nullable fields. Throws, like any other model that cannot be stored.
 * @internal
 */
export const declare = (def: ModelDefinition, relations: unknown): void => {
  if (relations === undefined) return
  if (typeof relations !== "object" || relations === null) throw new TypeError(`${def.name}: relations must be an object`)
  const specs = new Map<string, RelationSpec>()
  for (const [name, value] of Object.entries(relations)) {
    if (def.byField.has(name)) throw new TypeError(`${def.name}: relation ${name} has the name of a field`)
    const r = value as RelationSpec
    if (typeof r !== "object" || r === null || typeof r.target !== "function" || !Array.isArray(r.foreignKey)) {
      throw new TypeError(`${def.name}: relation ${name} must be made by Model.belongsTo, Model.hasMany or Model.hasOne`)
    }
    if (r.kind === "belongsTo") {
      for (const f of r.foreignKey) {
        const column = def.byField.get(f)
        if (column === undefined) throw new TypeError(`${def.name}: relation ${name}: foreign key field ${f} is not a field`)
        if ((r.onDelete === "setNull" || r.onUpdate === "setNull") && !column.nullable && !column.optional) {
          throw new TypeError(`${def.name}: relation ${name}: setNull needs a nullable field, ${f} is not`)
        }
      }
      if (def.tenantScoped && (r.onDelete === "setNull" || r.onUpdate === "setNull")) {
        throw new TypeError(`${def.name}: relation ${name}: setNull is not available on tenant-scoped models (the key includes tenantId)`)
      }
    }
    specs.set(name, r)
  }
  declared.set(def, specs)
}

/** The relations a model declares. @internal */
export const declaredOf = (def: ModelDefinition): ReadonlyMap<string, RelationSpec> => declared.get(def) ?? new Map()

const resolvedCache = new WeakMap<ModelDefinition, Map<string, Either.Either<Relation, ConfigurationError>>>()

const resolveOne = (def: ModelDefinition, name: string, r: RelationSpec, operation: string): Either.Either<Relation, ConfigurationError> => {
  const fail = (reason: string) => Either.left(new ConfigurationError({ model: def.name, operation, reason: `relation ${name}: ${reason}` }))
  let target: ModelDefinition | undefined
  try {
    const model = r.target()
    target = typeof model === "object" && model !== null ? definitionOf(model) : undefined
  } catch {
    target = undefined
  }
  if (target === undefined) return fail("its target is not a model (is it declared yet?)")
  if (target.instance !== def.instance) return fail(`${def.name} and ${target.name} are bound to different instances`)
  if (r.kind === "manyToMany") return resolveThrough(def, name, r, target, fail)
  const [owner, other] = r.kind === "belongsTo" ? [def, target] : [target, def]
  const paired = pairKeys(owner, other, r.foreignKey, r.references ?? other.key.map((c) => c.field))
  if (typeof paired === "string") return fail(paired)
  return Either.right({
    name,
    kind: r.kind,
    source: def,
    target,
    sourceFields: r.kind === "belongsTo" ? paired.foreignKey : paired.referenced,
    targetFields: r.kind === "belongsTo" ? paired.referenced : paired.foreignKey,
    spec: r
  })
}

/**
 * The foreign key fields of `owner` paired with the fields of `other` they refer to — its
 * primary key (one field or several) or one of its unique sets — both put in that key's
 * declared order (MySQL wants a referenced index in column order); the reason otherwise.
 */
const pairKeys = (
  owner: ModelDefinition,
  other: ModelDefinition,
  foreignKey: ReadonlyArray<string>,
  referenced: ReadonlyArray<string>
): { readonly foreignKey: ReadonlyArray<string>; readonly referenced: ReadonlyArray<string> } | string => {
  const fields = (d: ModelDefinition, list: ReadonlyArray<string>) => `${d.name}.${list.length === 1 ? list[0] : `(${list.join(", ")})`}`
  if (foreignKey.length !== referenced.length) {
    return `${fields(owner, foreignKey)} cannot refer to ${fields(other, referenced)}: foreignKey and the referenced key must name as many fields`
  }
  for (const f of foreignKey) if (!owner.byField.has(f)) return `${owner.name} has no field ${f}`
  for (const f of referenced) if (!other.byField.has(f)) return `${other.name} has no field ${f}`
  if (new Set(foreignKey).size !== foreignKey.length) return `foreignKey ${fields(owner, foreignKey)} names a field twice`
  const sameSet = (set: ReadonlyArray<string>) => set.length === referenced.length && set.every((x) => referenced.includes(x))
  const keyFields = other.key.map((c) => c.field)
  const key = sameSet(keyFields) ? keyFields : other.uniqueSets.find(sameSet)
  if (key === undefined) return `${fields(other, referenced)} is not its primary key or a unique constraint`
  const ordered = key.map((f) => foreignKey[referenced.indexOf(f)]!)
  for (let i = 0; i < key.length; i++) {
    if (other.byField.get(key[i]!)!.kind._tag !== owner.byField.get(ordered[i]!)!.kind._tag) {
      return `${owner.name}.${ordered[i]} and ${other.name}.${key[i]} are not of the same type`
    }
  }
  return { foreignKey: ordered, referenced: key }
}

/**
 * A many-to-many relation: both sides' primary keys (one field or several), held by the
 * junction's fields — `foreignKey[i]` holds the model's i-th key field, `otherKey[i]` the
 * target's.
 */
const resolveThrough = (
  def: ModelDefinition,
  name: string,
  r: RelationSpec,
  target: ModelDefinition,
  fail: (reason: string) => Either.Either<never, ConfigurationError>
): Either.Either<Relation, ConfigurationError> => {
  let junction: ModelDefinition | undefined
  try {
    const model = r.through!()
    junction = typeof model === "object" && model !== null ? definitionOf(model) : undefined
  } catch {
    junction = undefined
  }
  if (junction === undefined) return fail("its junction (through) is not a model (is it declared yet?)")
  if (junction.instance !== def.instance) return fail(`${def.name} and ${junction.name} are bound to different instances`)
  for (const [option, fields, side] of [["foreignKey", r.foreignKey, def], ["otherKey", r.otherKey!, target]] as const) {
    if (fields.length !== side.key.length) {
      const key = side.key.map((c) => c.field)
      return fail(`${option} must name as many fields of ${junction.name} as ${side.name}'s primary key has (${key.join(", ")})`)
    }
    for (let i = 0; i < fields.length; i++) {
      const column = junction.byField.get(fields[i]!)
      const keyColumn = side.key[i]!
      if (column === undefined) return fail(`${junction.name} has no field ${fields[i]}`)
      if (column.kind._tag !== keyColumn.kind._tag) {
        return fail(`${junction.name}.${fields[i]} and ${side.name}.${keyColumn.field} are not of the same type`)
      }
    }
  }
  return Either.right({
    name,
    kind: r.kind,
    source: def,
    target,
    sourceFields: def.key.map((c) => c.field),
    targetFields: target.key.map((c) => c.field),
    spec: r,
    through: { definition: junction, sourceFields: r.foreignKey, targetFields: r.otherKey! }
  })
}

/** A relation of a model by name, resolved (cached once it resolves). @internal */
export const relation = (def: ModelDefinition, name: string, operation: string): Either.Either<Relation, ConfigurationError> | undefined => {
  const r = declaredOf(def).get(name)
  if (r === undefined) return undefined
  let byName = resolvedCache.get(def)
  if (byName === undefined) resolvedCache.set(def, byName = new Map())
  const cached = byName.get(name)
  if (cached !== undefined && Either.isRight(cached)) return cached
  const resolved = resolveOne(def, name, r, operation)
  byName.set(name, resolved)
  return resolved
}

/** The foreign keys of a model's belongs-to relations, resolved; the first relation that cannot be, as an error. @internal */
export const foreignKeys = (def: ModelDefinition, operation: string): Either.Either<ReadonlyArray<ForeignKey>, ConfigurationError> => {
  const keys: Array<ForeignKey> = []
  for (const [name, r] of declaredOf(def)) {
    if (r.kind !== "belongsTo") continue
    const resolved = relation(def, name, operation)!
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    const rel = resolved.right
    keys.push({
      relation: name,
      fields: rel.sourceFields,
      target: rel.target,
      references: rel.targetFields,
      onDelete: r.onDelete,
      onUpdate: r.onUpdate
    })
  }
  return Either.right(keys)
}
