/**
 * Writes through relations: `create` with nested records (`User.create({ name, posts: { create:
 * [...] } })`: the parent, then its has-many / has-one children with their foreign key set, and
 * many-to-many targets created or connected through the junction), and `connect` /
 * `disconnect` of many-to-many links. Each runs in one transaction (a savepoint inside the
 * caller's): a bad child rolls back the parent. The related models' own nodes do the writes,
 * so their validation, stamping, tenancy and typed errors apply.
 * (Internal module: not part of the public API.)
 */
import type { Effect as E } from "effect"
import { Effect, Either } from "effect"
import type { ConfigurationError, NotFound, ValidationError, WriteError } from "../../Errors.js"
import { ForeignKeyViolation } from "../../Errors.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import { declaredOf, relation } from "../model/relations.js"
import { checkId, isRecord } from "../model/validate.js"
import { context } from "../runtime/context.js"
import { atomic } from "../runtime/executor.js"
import * as Create from "./create.js"
import * as Delete from "./delete.js"
import * as Read from "./read.js"
import * as Update from "./update.js"
import type { Row } from "./shared.js"
import { invalid, keyText, traced } from "./shared.js"
import type { NodeErrors } from "./types.js"

type CreateError = NodeErrors["create"] | ConfigurationError
type UpdateError = NodeErrors["update"] | NodeErrors["create"] | ConfigurationError

/** The errors of `connect` / `disconnect`. @internal */
export type LinkError = NotFound | ValidationError | WriteError | ConfigurationError

/** @internal */
export interface NestedNodes<R> {
  readonly create: (input: unknown) => E.Effect<Row, CreateError, R>
  readonly update: (id: unknown, patch: unknown, options?: { readonly expectedVersion?: number }) => E.Effect<Row, UpdateError, R>
  readonly connect: (relation: unknown, id: unknown, ids: unknown) => E.Effect<{ readonly connected: number }, LinkError, R>
  readonly disconnect: (
    relation: unknown,
    id: unknown,
    ids: unknown
  ) => E.Effect<{ readonly disconnected: number }, LinkError, R>
}

/** A relation's nested write, checked: what to create, what to connect. */
interface Planned {
  readonly relation: Relation
  readonly create: ReadonlyArray<Row>
  readonly connect: ReadonlyArray<unknown>
  /** Links removed (`update` of a many-to-many only). */
  readonly disconnect: ReadonlyArray<unknown>
}

const allowedKeys = {
  create: { hasMany: ["create"], hasOne: ["create"], manyToMany: ["create", "connect"] },
  update: { hasMany: ["create"], hasOne: ["create"], manyToMany: ["create", "connect", "disconnect"] }
} as const

/** One relation's nested value checked against its kind; the children must not set their foreign key. */
const planOne = (def: ModelDefinition, rel: Relation, value: unknown, operation: "create" | "update"): Either.Either<Planned, ValidationError> => {
  const fail = (path: string, reason: string) => Either.left(invalid(def, operation, path, reason))
  if (rel.kind === "belongsTo") {
    return fail(rel.name, `a nested create goes from a record to its children: create the ${rel.target.name} first and set ${rel.sourceFields.join(", ")}`)
  }
  const allowed: ReadonlyArray<string> = allowedKeys[operation][rel.kind]
  if (!isRecord(value)) return fail(rel.name, `expected an object with ${allowed.join(" or ")}`)
  const unknown = Object.keys(value).find((k) => !allowed.includes(k))
  if (unknown !== undefined) return fail(`${rel.name}.${unknown}`, `not a nested write of a ${rel.kind} relation (${allowed.join(", ")})`)
  const many = rel.kind !== "hasOne"
  const create = value.create === undefined ? [] : many ? value.create : [value.create]
  if (!Array.isArray(create) || (!many && !isRecord(value.create))) {
    return fail(`${rel.name}.create`, many ? "expected an array of records" : "expected a record")
  }
  const owned = rel.through === undefined ? rel.targetFields : []
  for (let i = 0; i < create.length; i++) {
    const child: unknown = create[i]
    const path = many ? `${rel.name}.create.${i}` : `${rel.name}.create`
    if (!isRecord(child)) return fail(path, "expected a record")
    const set = owned.find((f) => child[f] !== undefined)
    if (set !== undefined) return fail(`${path}.${set}`, `set by the nested create (the ${def.name}'s key)`)
  }
  const connect = value.connect ?? []
  if (!Array.isArray(connect)) return fail(`${rel.name}.connect`, "expected an array of ids")
  const disconnect = value.disconnect ?? []
  if (!Array.isArray(disconnect)) return fail(`${rel.name}.disconnect`, "expected an array of ids")
  for (const [list, name] of [[connect, "connect"], [disconnect, "disconnect"]] as const) {
    for (let i = 0; i < list.length; i++) {
      const bad = checkId(rel.target, list[i], operation)
      if (bad !== undefined) return fail(`${rel.name}.${name}.${i}`, bad.reason)
    }
  }
  return Either.right({ relation: rel, create: create as ReadonlyArray<Row>, connect, disconnect })
}

/** Splits a create input into the record's own fields and its checked nested writes. */
const split = (
  def: ModelDefinition,
  input: Row,
  operation: "create" | "update"
): Either.Either<{ readonly own: Row; readonly nested: ReadonlyArray<Planned> }, ValidationError | ConfigurationError> => {
  const own: Row = {}
  const nested: Array<Planned> = []
  for (const [key, value] of Object.entries(input)) {
    const resolved = relation(def, key, operation)
    if (resolved === undefined) {
      own[key] = value
      continue
    }
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    if (value === undefined) continue
    const planned = planOne(def, resolved.right, value, operation)
    if (Either.isLeft(planned)) return Either.left(planned.left)
    nested.push(planned.right)
  }
  return Either.right({ own, nested })
}

interface ModelNodes {
  readonly nested: NestedNodes<unknown>
  readonly create: Create.CreateNodes<unknown>
  readonly read: Read.ReadNodes<unknown>
  readonly remove: Delete.DeleteNodes<unknown>
}

const made = new WeakMap<ModelDefinition, ModelNodes>()
/** A related model's nodes (what they require is theirs: `unknown` here, the public types add it). */
const nodesOf = (def: ModelDefinition): ModelNodes => {
  let nodes = made.get(def)
  if (nodes === undefined) {
    const create = Create.make<unknown>(def)
    const update = Update.make<unknown>(def)
    nodes = { create, read: Read.make<unknown>(def), remove: Delete.make<unknown>(def), nested: make(def, create.create, update.update) }
    made.set(def, nodes)
  }
  return nodes
}

/** Lists can hold any number of ids: read in pages of the filter language's `$in` limit. */
const byIds = (def: ModelDefinition, ids: ReadonlyArray<unknown>) =>
  Effect.map(
    nodesOf(def).read.list({ where: { [def.pk.field]: { $in: ids } } } as ListQuery<Row>),
    (page) => new Map(page.records.map((r) => [keyText([r[def.pk.field]]), r]))
  )

const isTagged = (e: unknown): e is { readonly _tag: string } => typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string"
/** Errors that cannot come from the arguments written here (our own filters, no conflict target): defects. */
const dieOn = <const T extends string>(...tags: ReadonlyArray<T>) =>
<A, Err, R>(self: E.Effect<A, Err, R>): E.Effect<A, Exclude<Err, { readonly _tag: T }>, R> =>
  Effect.catchIf(
    self,
    (e): e is Extract<Err, { readonly _tag: T }> => isTagged(e) && tags.includes(e._tag as T),
    (e) => Effect.die(e)
  ) as E.Effect<A, Exclude<Err, { readonly _tag: T }>, R>

const orDieFilter = dieOn("InvalidFilter", "InvalidCursor")

/**
 * Links a record (`key`: its primary key) to existing target records through the junction:
 * every id must name a live target (else a `ForeignKeyViolation` naming the relation and the
 * junction's field), links already there are kept. The targets, in the order of `ids`.
 */
const link = (def: ModelDefinition, rel: Relation, key: unknown, ids: ReadonlyArray<unknown>, operation: string) =>
  Effect.gen(function*() {
    const through = rel.through!
    const [sourceField, targetField] = [through.sourceFields[0]!, through.targetFields[0]!]
    const distinct = [...new Map(ids.map((id) => [keyText([id]), id])).values()]
    if (distinct.length === 0) return { records: [], connected: 0 }
    const targets = yield* orDieFilter(byIds(rel.target, distinct))
    const missing = distinct.find((id) => !targets.has(keyText([id])))
    if (missing !== undefined) {
      return yield* new ForeignKeyViolation({ model: def.name, operation, columns: [targetField], relation: rel.name })
    }
    const existing = yield* orDieFilter(nodesOf(through.definition).read.list({
      where: { [sourceField]: key, [targetField]: { $in: distinct } },
      select: [targetField]
    } as ListQuery<Row>))
    const linked = new Set(existing.records.map((r) => keyText([r[targetField]])))
    const rows = distinct.filter((id) => !linked.has(keyText([id]))).map((id) => ({ [sourceField]: key, [targetField]: id }))
    if (rows.length > 0) yield* dieOn("ConflictTargetError")(nodesOf(through.definition).create.bulkCreate(rows))
    return { records: ids.map((id) => targets.get(keyText([id]))!), connected: rows.length }
  })

/** The nested writes of one relation once its parent exists: the related records written (created, then connected). */
const writeNested = (def: ModelDefinition, parent: Row, planned: Planned, operation: "create" | "update") =>
  Effect.gen(function*() {
    const rel = planned.relation
    const target = nodesOf(rel.target).nested
    if (rel.through === undefined) {
      const keys = Object.fromEntries(rel.targetFields.map((f, i) => [f, parent[rel.sourceFields[i]!]]))
      return yield* Effect.forEach(planned.create, (child) => target.create({ ...child, ...keys }))
    }
    const created = yield* Effect.forEach(planned.create, (child) => target.create(child))
    const pk = rel.target.pk.field
    const { records } = yield* link(def, rel, parent[def.pk.field], [...created.map((r) => r[pk]), ...planned.connect], operation)
    if (planned.disconnect.length > 0) yield* unlink(rel, parent[def.pk.field], planned.disconnect)
    return records
  })

/** Removes the links of a record (`key`) to the targets `ids`: how many there were. */
const unlink = (rel: Relation, key: unknown, ids: ReadonlyArray<unknown>) => {
  const through = rel.through!
  const where = { [through.sourceFields[0]!]: key, [through.targetFields[0]!]: { $in: ids } }
  return Effect.map(
    dieOn("InvalidFilter", "UnsafeOperation")(nodesOf(through.definition).remove.bulkDelete(where)),
    ({ deleted }) => deleted
  )
}

/** A model's many-to-many relation named by a `connect` / `disconnect` argument. */
const manyToManyOf = (def: ModelDefinition, name: unknown, operation: string): Either.Either<Relation, ValidationError | ConfigurationError> => {
  const resolved = typeof name === "string" ? relation(def, name, operation) : undefined
  if (resolved === undefined) return Either.left(invalid(def, operation, "relation", "not a relation of the model"))
  if (Either.isLeft(resolved)) return resolved
  if (resolved.right.kind !== "manyToMany") return Either.left(invalid(def, operation, "relation", `${resolved.right.name} is not a many-to-many relation`))
  return Either.right(resolved.right)
}

/** Ids of the target: an array of valid keys. */
const checkIds = (def: ModelDefinition, rel: Relation, ids: unknown, operation: string): ValidationError | undefined => {
  if (!Array.isArray(ids)) return invalid(def, operation, "ids", "expected an array of ids")
  for (const id of ids) {
    const bad = checkId(rel.target, id, operation)
    if (bad !== undefined) return invalid(def, operation, "ids", `${rel.target.name}: ${bad.reason}`)
  }
  return undefined
}

/**
 * A model's `create` taking nested writes of its relations, and `connect` / `disconnect`.
 * Without a relation key in the input, `create` is the plain node.
 * @internal
 */
export const make = <R>(
  def: ModelDefinition,
  create: Create.CreateNodes<R>["create"],
  update: Update.UpdateNodes<R>["update"]
): NestedNodes<R> => {
  const names = [...declaredOf(def).keys()]
  const nestedSpan = traced(def, "createNested")
  const inTransaction = <A, Err>(operation: string, work: E.Effect<A, Err, unknown>) =>
    Effect.flatMap(context<R>(def, operation), (ctx) => atomic(ctx, work)) as E.Effect<A, Err | CreateError, R>
  const createNested: NestedNodes<R>["create"] = (input) => {
    if (names.length === 0 || !isRecord(input) || !names.some((n) => input[n] !== undefined)) return create(input)
    const parts = split(def, input, "create")
    if (Either.isLeft(parts)) return Effect.fail(parts.left)
    return nestedSpan(inTransaction("create", withNested(create(parts.right.own), parts.right.nested, "create")))
  }
  /** The parent written, then each relation's nested writes: the record with what each wrote. */
  const withNested = <Err>(parent: E.Effect<Row, Err, R>, nested: ReadonlyArray<Planned>, operation: "create" | "update") =>
    Effect.gen(function*() {
      const record = yield* parent
      const out: Row = { ...record }
      for (const planned of nested) {
        const records = yield* writeNested(def, record, planned, operation)
        out[planned.relation.name] = planned.relation.kind === "hasOne" ? records[0] ?? null : records
      }
      return out
    })
  const updateSpan = traced(def, "updateNested")
  const updateNested: NestedNodes<R>["update"] = (id, patch, options) => {
    if (names.length === 0 || !isRecord(patch) || !names.some((n) => patch[n] !== undefined)) return update(id, patch, options)
    const parts = split(def, patch, "update")
    if (Either.isLeft(parts)) return Effect.fail(parts.left)
    const bad = checkId(def, id, "update")
    if (bad !== undefined) return Effect.fail(bad)
    // only relations: the record must exist, and is returned as it is
    const parent = Object.keys(parts.right.own).length > 0
      ? update(id, parts.right.own, options)
      : orDieFilter(nodesOf(def).read.read(id)) as E.Effect<Row, UpdateError, R>
    return updateSpan(inTransaction("update", withNested(parent, parts.right.nested, "update")))
  }
  const connect: NestedNodes<R>["connect"] = (name, id, ids) => {
    const rel = manyToManyOf(def, name, "connect")
    if (Either.isLeft(rel)) return Effect.fail(rel.left)
    const bad = checkId(def, id, "connect") ?? checkIds(def, rel.right, ids, "connect")
    if (bad !== undefined) return Effect.fail(bad)
    return traced(def, "connect")(inTransaction(
      "connect",
      Effect.gen(function*() {
        yield* orDieFilter(nodesOf(def).read.read(id))
        const { connected } = yield* link(def, rel.right, id, ids as ReadonlyArray<unknown>, "connect")
        return { connected }
      })
    ))
  }
  const disconnect: NestedNodes<R>["disconnect"] = (name, id, ids) => {
    const rel = manyToManyOf(def, name, "disconnect")
    if (Either.isLeft(rel)) return Effect.fail(rel.left)
    const bad = checkId(def, id, "disconnect") ?? checkIds(def, rel.right, ids, "disconnect")
    if (bad !== undefined) return Effect.fail(bad)
    if ((ids as ReadonlyArray<unknown>).length === 0) return Effect.succeed({ disconnected: 0 })
    return traced(def, "disconnect")(
      Effect.map(unlink(rel.right, id, ids as ReadonlyArray<unknown>), (disconnected) => ({ disconnected })) as E.Effect<
        { readonly disconnected: number },
        LinkError,
        R
      >
    )
  }
  return { create: createNested, update: updateNested, connect, disconnect }
}
