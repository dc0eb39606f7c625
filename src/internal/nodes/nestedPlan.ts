/**
 * Nested writes checked before anything is written: a `create` / `update` input split into the
 * record's own fields, the writes of its belongs-to relations (run before the record: they give
 * its foreign key) and those of its other relations (run after: they need its key). Every
 * shape problem is a `ValidationError` whose `path` says where.
 * (Internal module: not part of the public API.)
 */
import * as Either from "effect/Either"
import type { ValidationError } from "../../Errors.js"
import { ConfigurationError } from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import { relation } from "../model/relations.js"
import { checkId, isRecord, valueProblem } from "../model/validate.js"
import type { Row } from "./shared.js"
import { invalid, keyFieldsOf } from "./shared.js"

/** A belongs-to's nested write: the referenced record created, found (or created), or the key cleared. */
export interface ParentWrite {
  readonly relation: Relation
  /** `create`, or `connectOrCreate`'s record. */
  readonly create: Row | undefined
  /** `connect` / `connectOrCreate`'s record: the target's id, or an object of a unique key's fields. */
  readonly connect: unknown
  readonly disconnect: boolean
}

/** A has-many / has-one / many-to-many's nested write, checked. */
export interface ChildWrite {
  readonly relation: Relation
  readonly create: ReadonlyArray<Row>
  readonly connect: ReadonlyArray<unknown>
  /** Links removed (`update` of a many-to-many only). */
  readonly disconnect: ReadonlyArray<unknown>
  /** The links replaced by these (many-to-many, `update`). */
  readonly set: ReadonlyArray<unknown> | undefined
  /** Children deleted by key (has-many, `update`). */
  readonly delete: ReadonlyArray<unknown>
  /** Children matching a filter deleted (has-many, `update`). */
  readonly deleteMany: Row | undefined
  /** Children matching a filter updated (has-many, `update`). */
  readonly updateMany: { readonly where: Row; readonly data: Row } | undefined
  /** Children updated by a unique key (has-many `update: [{ where, data }]`); a has-one's child (`where` undefined). */
  readonly update: ReadonlyArray<{ readonly where: unknown; readonly data: Row }>
  /** A has-one's child deleted or its foreign key cleared (`update`). */
  readonly remove: "delete" | "disconnect" | undefined
}

/** @internal */
export interface Plan {
  readonly own: Row
  readonly parents: ReadonlyArray<ParentWrite>
  readonly children: ReadonlyArray<ChildWrite>
}

type Operation = "create" | "update"

const allowedKeys: Record<Operation, Record<Relation["kind"], ReadonlyArray<string>>> = {
  create: {
    belongsTo: ["create", "connect", "connectOrCreate"],
    hasMany: ["create"],
    hasOne: ["create"],
    manyToMany: ["create", "connect"]
  },
  update: {
    belongsTo: ["create", "connect", "connectOrCreate", "disconnect"],
    hasMany: ["create", "delete", "deleteMany", "updateMany", "update", "disconnect"],
    hasOne: ["create", "update", "delete", "disconnect"],
    manyToMany: ["create", "connect", "disconnect", "set"]
  }
}

/**
 * Why `value` does not name one record of `def` by a unique key: a primary key, or an object
 * of the primary key's or of a unique constraint's fields.
 */
const uniqueProblem = (def: ModelDefinition, value: unknown, operation: string): string | undefined => {
  if (!isRecord(value)) return checkId(def, value, operation)?.reason
  const fields = Object.keys(value)
  const same = (set: ReadonlyArray<string>) => set.length === fields.length && set.every((f) => fields.includes(f))
  if (!same(keyFieldsOf(def)) && !def.uniqueSets.some(same)) {
    const keys = [keyFieldsOf(def), ...def.uniqueSets].map((s) => s.join(" + ")).join(", ")
    return `expected the ${def.name}'s id or an object of a unique key's fields (${keys})`
  }
  for (const f of fields) {
    if (value[f] === null || value[f] === undefined) return `${f}: a key needs a value`
    const problem = valueProblem(def, f, value[f])
    if (problem !== undefined) return `${f}: ${problem}`
  }
  return undefined
}

/** The filter finding the record a unique key value names. @internal */
export const uniqueWhere = (def: ModelDefinition, value: unknown): Row => isRecord(value) ? value : { [def.pk.field]: value }

type Fail = (path: string, reason: string) => Either.Either<never, ValidationError>

/** A belongs-to's nested write: exactly one of create / connect / connectOrCreate (/ disconnect). */
const planParent = (rel: Relation, value: Row, operation: Operation, fail: Fail): Either.Either<ParentWrite, ValidationError> => {
  const keys = Object.keys(value).filter((k) => value[k] !== undefined)
  if (keys.length !== 1) return fail(rel.name, `expected exactly one of ${allowedKeys[operation].belongsTo.join(", ")}`)
  const key = keys[0]!
  const at = `${rel.name}.${key}`
  const target = rel.target
  const none = { relation: rel, create: undefined, connect: undefined, disconnect: false }
  switch (key) {
    case "create":
      return isRecord(value.create) ? Either.right({ ...none, create: value.create }) : fail(at, "expected a record")
    case "connect": {
      const problem = uniqueProblem(target, value.connect, operation)
      return problem === undefined ? Either.right({ ...none, connect: value.connect }) : fail(at, problem)
    }
    case "connectOrCreate": {
      const both = value.connectOrCreate
      if (!isRecord(both)) return fail(at, "expected { where, create }")
      const extra = Object.keys(both).find((k) => k !== "where" && k !== "create")
      if (extra !== undefined) return fail(`${at}.${extra}`, "expected { where, create }")
      if (!isRecord(both.create)) return fail(`${at}.create`, "expected a record")
      const problem = uniqueProblem(target, both.where, operation)
      return problem === undefined ? Either.right({ ...none, create: both.create, connect: both.where }) : fail(`${at}.where`, problem)
    }
    default: {
      if (value.disconnect !== true) return fail(at, "expected true")
      const required = rel.sourceFields.find((f) => rel.source.byField.get(f)?.nullable !== true)
      if (required !== undefined) return fail(at, `${required} is not nullable: a ${rel.source.name} needs its ${rel.name}`)
      return Either.right({ ...none, disconnect: true })
    }
  }
}

const idList = (rel: Relation, list: unknown, path: string, operation: Operation, fail: Fail): Either.Either<ReadonlyArray<unknown>, ValidationError> => {
  if (!Array.isArray(list)) return fail(path, "expected an array of ids")
  for (let i = 0; i < list.length; i++) {
    const bad = checkId(rel.target, list[i], operation)
    if (bad !== undefined) return fail(`${path}.${i}`, bad.reason)
  }
  return Either.right(list)
}

/** A filter / patch of the children must not name the foreign key the relation holds. */
const ownsKey = (rel: Relation, value: Row, path: string, fail: Fail) => {
  const set = rel.targetFields.find((f) => value[f] !== undefined)
  return set === undefined ? undefined : fail(`${path}.${set}`, "set by the relation (the parent's key)")
}

/** A has-many / has-one / many-to-many's nested write; the children must not set their foreign key. */
const planChildren = (rel: Relation, value: Row, operation: Operation, fail: Fail): Either.Either<ChildWrite, ValidationError> => {
  const many = rel.kind !== "hasOne"
  const create = value.create === undefined ? [] : many ? value.create : [value.create]
  if (!Array.isArray(create) || (!many && value.create !== undefined && !isRecord(value.create))) {
    return fail(`${rel.name}.create`, many ? "expected an array of records" : "expected a record")
  }
  const owned = rel.through === undefined ? rel.targetFields : []
  for (let i = 0; i < create.length; i++) {
    const child: unknown = create[i]
    const path = many ? `${rel.name}.create.${i}` : `${rel.name}.create`
    if (!isRecord(child)) return fail(path, "expected a record")
    const set = owned.find((f) => child[f] !== undefined)
    if (set !== undefined) return fail(`${path}.${set}`, "set by the nested create (the parent's key)")
  }
  const lists: Record<string, ReadonlyArray<unknown>> = {}
  // a has-one's delete / disconnect are flags (planOwned)
  for (const name of many ? ["connect", "disconnect", "delete"] as const : []) {
    const list = value[name] === undefined ? Either.right([]) : idList(rel, value[name], `${rel.name}.${name}`, operation, fail)
    if (Either.isLeft(list)) return Either.left(list.left)
    lists[name] = list.right
  }
  let set: ReadonlyArray<unknown> | undefined
  if (value.set !== undefined) {
    if (value.connect !== undefined || value.disconnect !== undefined) {
      return fail(`${rel.name}.set`, "replaces every link: not with connect or disconnect")
    }
    const list = idList(rel, value.set, `${rel.name}.set`, operation, fail)
    if (Either.isLeft(list)) return Either.left(list.left)
    set = list.right
  }
  let deleteMany: Row | undefined
  if (value.deleteMany !== undefined) {
    if (!isRecord(value.deleteMany)) return fail(`${rel.name}.deleteMany`, "expected a filter of the children")
    const owns = ownsKey(rel, value.deleteMany, `${rel.name}.deleteMany`, fail)
    if (owns !== undefined) return owns
    deleteMany = value.deleteMany
  }
  let updateMany: ChildWrite["updateMany"]
  if (value.updateMany !== undefined) {
    const at = `${rel.name}.updateMany`
    const u = value.updateMany
    if (!isRecord(u)) return fail(at, "expected { where?, data }")
    const extra = Object.keys(u).find((k) => k !== "where" && k !== "data")
    if (extra !== undefined) return fail(`${at}.${extra}`, "expected { where?, data }")
    const where = u.where ?? {}
    if (!isRecord(where)) return fail(`${at}.where`, "expected a filter of the children")
    if (!isRecord(u.data)) return fail(`${at}.data`, "expected a patch of the children")
    const owns = ownsKey(rel, where, `${at}.where`, fail) ?? ownsKey(rel, u.data, `${at}.data`, fail)
    if (owns !== undefined) return owns
    updateMany = { where, data: u.data }
  }
  const named = rel.through === undefined ? planOwned(rel, value, operation, fail) : Either.right({ update: [], remove: undefined })
  if (Either.isLeft(named)) return Either.left(named.left)
  return Either.right({
    relation: rel,
    create: create as ReadonlyArray<Row>,
    connect: lists.connect ?? [],
    disconnect: lists.disconnect ?? [],
    delete: lists.delete ?? [],
    set,
    deleteMany,
    updateMany,
    ...named.right
  })
}

/** A patch of children: a record that does not name the foreign key the relation holds. */
const childPatch = (rel: Relation, data: unknown, path: string, fail: Fail): Either.Either<Row, ValidationError> => {
  if (!isRecord(data)) return fail(path, "expected a patch of the child")
  return ownsKey(rel, data, path, fail) ?? Either.right(data)
}

/**
 * An update's writes to children it names: has-many `update: [{ where, data }]` (`where`: the
 * child's id or unique key) and `disconnect: [ids]`; has-one `update: data`, `delete: true`,
 * `disconnect: true` (with `create`: the child replaced). `disconnect` needs a nullable foreign key.
 */
const planOwned = (rel: Relation, value: Row, operation: Operation, fail: Fail): Either.Either<Pick<ChildWrite, "update" | "remove">, ValidationError> => {
  if (value.disconnect !== undefined) {
    const required = rel.targetFields.find((f) => rel.target.byField.get(f)?.nullable !== true)
    if (required !== undefined) {
      return fail(`${rel.name}.disconnect`, `${rel.target.name}.${required} is not nullable: a ${rel.target.name} needs its parent (delete it instead)`)
    }
  }
  if (rel.kind === "hasOne") {
    for (const flag of ["delete", "disconnect"]) {
      if (value[flag] !== undefined && value[flag] !== true) return fail(`${rel.name}.${flag}`, "expected true")
    }
    if (value.delete !== undefined && value.disconnect !== undefined) return fail(`${rel.name}.disconnect`, "delete or disconnect, not both")
    const remove = value.delete !== undefined ? "delete" : value.disconnect !== undefined ? "disconnect" : undefined
    if (value.update === undefined) return Either.right({ update: [], remove })
    if (value.create !== undefined || remove !== undefined) {
      return fail(`${rel.name}.update`, "updates the child: not with create, delete or disconnect")
    }
    return Either.map(childPatch(rel, value.update, `${rel.name}.update`, fail), (data) => ({ update: [{ where: undefined, data }], remove }))
  }
  if (value.update === undefined) return Either.right({ update: [], remove: undefined })
  if (!Array.isArray(value.update)) return fail(`${rel.name}.update`, "expected an array of { where, data }")
  const update: Array<{ readonly where: unknown; readonly data: Row }> = []
  for (let i = 0; i < value.update.length; i++) {
    const at = `${rel.name}.update.${i}`
    const u: unknown = value.update[i]
    if (!isRecord(u)) return fail(at, "expected { where, data }")
    const extra = Object.keys(u).find((k) => k !== "where" && k !== "data")
    if (extra !== undefined) return fail(`${at}.${extra}`, "expected { where, data }")
    const problem = uniqueProblem(rel.target, u.where, operation)
    if (problem !== undefined) return fail(`${at}.where`, problem)
    const owns = isRecord(u.where) ? ownsKey(rel, u.where, `${at}.where`, fail) : undefined
    if (owns !== undefined) return owns
    const data = childPatch(rel, u.data, `${at}.data`, fail)
    if (Either.isLeft(data)) return Either.left(data.left)
    update.push({ where: u.where, data: data.right })
  }
  return Either.right({ update, remove: undefined })
}

/** Splits a `create` / `update` input into the record's own fields and its checked nested writes. @internal */
export const split = (def: ModelDefinition, input: Row, operation: Operation): Either.Either<Plan, ValidationError | ConfigurationError> => {
  const own: Row = {}
  const parents: Array<ParentWrite> = []
  const children: Array<ChildWrite> = []
  const fail: Fail = (path, reason) => Either.left(invalid(def, operation, path, reason))
  for (const [key, value] of Object.entries(input)) {
    const resolved = relation(def, key, operation)
    if (resolved === undefined) {
      own[key] = value
      continue
    }
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    if (value === undefined) continue
    const rel = resolved.right
    const allowed = allowedKeys[operation][rel.kind]
    if (!isRecord(value)) return fail(rel.name, `expected an object with ${allowed.join(" or ")}`)
    const unknown = Object.keys(value).find((k) => !allowed.includes(k))
    if (unknown !== undefined) return fail(`${rel.name}.${unknown}`, `not a nested ${operation} of a ${rel.kind} relation (${allowed.join(", ")})`)
    if (rel.kind === "belongsTo") {
      const planned = planParent(rel, value, operation, fail)
      if (Either.isLeft(planned)) return Either.left(planned.left)
      parents.push(planned.right)
    } else {
      const planned = planChildren(rel, value, operation, fail)
      if (Either.isLeft(planned)) return Either.left(planned.left)
      children.push(planned.right)
    }
  }
  for (const p of parents) {
    const both = p.relation.sourceFields.find((f) => own[f] !== undefined)
    if (both !== undefined) return fail(p.relation.name, `give ${p.relation.name} or ${both}, not both`)
  }
  return Either.right({ own, parents, children })
}
