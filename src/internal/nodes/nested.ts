/**
 * Writes through relations: `create` / `update` with nested records (`User.create({ name, posts:
 * { create: [...] } })`: belongs-to records created or found first (their keys set on the
 * record), the record, then its has-many / has-one children with their foreign key set, and
 * many-to-many targets created or connected through the junction; in `update` children deleted
 * or updated and links replaced), and `connect` / `disconnect` of many-to-many links. Each runs in one transaction (a savepoint inside the
 * caller's): a bad child rolls back the parent. The related models' own nodes do the writes,
 * so their validation, stamping, tenancy and typed errors apply.
 * (Internal module: not part of the public API.)
 */
import type * as E from "effect/Effect"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { ConfigurationError, InvalidFilter, ValidationError, WriteError } from "../../Errors.js"
import { NotFound } from "../../Errors.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import { declaredOf, relation } from "../model/relations.js"
import { checkId, isRecord } from "../model/validate.js"
import { context } from "../runtime/context.js"
import { transaction } from "../runtime/executor.js"
import * as Create from "./create.js"
import * as Delete from "./delete.js"
import * as Read from "./read.js"
import * as Update from "./update.js"
import { link, unlink, writeLinks } from "./links.js"
import { orphan, ownedByIds, writeOwned } from "./nestedChildren.js"
import type { ChildWrite, ParentWrite, Plan } from "./nestedPlan.js"
import { split, uniqueWhere } from "./nestedPlan.js"
import type { Row } from "./shared.js"
import { dieOn, idOf, invalid, orDieFilter, traced } from "./shared.js"
import type { NodeErrors } from "./types.js"

/** A nested write's errors beyond the node's own: a belongs-to `connect` names no record (`NotFound`). */
type CreateError = NodeErrors["create"] | NotFound | ConfigurationError
/** Beyond create's: the filters of `deleteMany` / `updateMany` (`InvalidFilter`). */
type UpdateError = NodeErrors["update"] | NodeErrors["create"] | InvalidFilter | ConfigurationError

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

interface ModelNodes {
  readonly nested: NestedNodes<unknown>
  readonly create: Create.CreateNodes<unknown>
  readonly update: Update.UpdateNodes<unknown>
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
    nodes = {
      create,
      update,
      read: Read.make<unknown>(def),
      remove: Delete.make<unknown>(def),
      nested: make(def, create.create, update.update)
    }
    made.set(def, nodes)
  }
  return nodes
}

/**
 * A belongs-to's nested write, before its record is written: the referenced record found
 * (`connect`: `NotFound` naming the relation when there is none — the target's own `list`, so
 * its tenancy and soft delete apply), created, or the key cleared. The foreign key's values.
 */
const writeParent = (def: ModelDefinition, write: ParentWrite, operation: "create" | "update") =>
  Effect.gen(function*() {
    const rel = write.relation
    if (write.disconnect) return { keys: Object.fromEntries(rel.sourceFields.map((f) => [f, null])), record: null }
    const target = nodesOf(rel.target)
    let record: Row | undefined
    if (write.connect !== undefined) {
      const page = yield* orDieFilter(target.read.list({ where: uniqueWhere(rel.target, write.connect), limit: 1 } as ListQuery<Row>))
      record = page.records[0]
      if (record === undefined && write.create === undefined) {
        return yield* new NotFound({ model: rel.target.name, operation, id: idOf(write.connect), relation: `${def.name}.${rel.name}` })
      }
    }
    record ??= yield* target.nested.create(write.create)
    return { keys: Object.fromEntries(rel.sourceFields.map((f, i) => [f, record[rel.targetFields[i]!]])), record }
  })

/**
 * The nested writes of one relation once its parent exists: children deleted and updated
 * (update), then created; links replaced, created, connected and disconnected. What was
 * created or connected, in order.
 */
const writeChildren = (def: ModelDefinition, parent: Row, planned: ChildWrite, operation: "create" | "update") =>
  Effect.gen(function*() {
    const rel = planned.relation
    const target = nodesOf(rel.target)
    if (rel.through === undefined) {
      const owned = Object.fromEntries(rel.targetFields.map((f, i) => [f, parent[rel.sourceFields[i]!]]))
      if (planned.delete.length > 0) {
        const where = yield* dieOn("InvalidFilter", "InvalidCursor")(ownedByIds(target, def, rel, owned, planned.delete, operation))
        yield* dieOn("UnsafeOperation")(target.remove.bulkDelete(where))
      }
      // a parent whose referenced key is null has no children: `fk IS NULL` would match orphans
      if (planned.deleteMany !== undefined && !orphan(owned)) {
        yield* dieOn("UnsafeOperation")(target.remove.bulkDelete({ ...planned.deleteMany, ...owned }))
      }
      if (planned.updateMany !== undefined && !orphan(owned)) {
        const { data, where } = planned.updateMany
        yield* dieOn("UnsafeOperation")(target.update.bulkUpdate({ ...where, ...owned }, data))
      }
      // our own filters of the children by the parent's key: never an InvalidFilter or unsafe
      const updated = yield* dieOn("InvalidFilter", "InvalidCursor", "UnsafeOperation")(writeOwned(target, def, planned, owned, operation))
      const created = yield* Effect.forEach(planned.create, (child) => target.nested.create({ ...child, ...owned }))
      return [...updated, ...created]
    }
    return yield* writeLinks(def, parent, planned, operation, (child) => target.nested.create(child))
  })

/** A model's many-to-many relation named by a `connect` / `disconnect` argument. @internal */
export const manyToManyOf = (def: ModelDefinition, name: unknown, operation: string): Either.Either<Relation, ValidationError | ConfigurationError> => {
  const resolved = typeof name === "string" ? relation(def, name, operation) : undefined
  if (resolved === undefined) return Either.left(invalid(def, operation, "relation", "not a relation of the model"))
  if (Either.isLeft(resolved)) return resolved
  if (resolved.right.kind !== "manyToMany") return Either.left(invalid(def, operation, "relation", `${resolved.right.name} is not a many-to-many relation`))
  return Either.right(resolved.right)
}

/** Ids of the target: an array of valid keys. @internal */
export const checkIds = (def: ModelDefinition, rel: Relation, ids: unknown, operation: string): ValidationError | undefined => {
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
  // a savepoint inside the caller's transaction: a failed nested write leaves none of its
  // rows there (and a failed statement does not abort PostgreSQL's enclosing transaction)
  const inTransaction = <A, Err>(operation: string, work: E.Effect<A, Err, unknown>) =>
    Effect.flatMap(context<R>(def, operation), (ctx) => transaction(ctx, work)) as E.Effect<A, Err | CreateError, R>
  const createNested: NestedNodes<R>["create"] = (input) => {
    if (names.length === 0 || !isRecord(input) || !names.some((n) => input[n] !== undefined)) return create(input)
    const plan = split(def, input, "create")
    if (Either.isLeft(plan)) return Effect.fail(plan.left)
    // a create plans no filtered writes (deleteMany / updateMany) and no updates: no InvalidFilter, no stale version
    const work = dieOn("InvalidFilter", "InvalidCursor", "OptimisticLockError")(withNested((own) => create(own), plan.right, "create"))
    return nestedSpan(inTransaction("create", work))
  }
  /**
   * The belong-to writes (the record's foreign keys), the record written with them, then each
   * other relation's nested writes: the record with what each wrote.
   */
  const withNested = <Err>(write: (own: Row) => E.Effect<Row, Err, R>, plan: Plan, operation: "create" | "update") =>
    Effect.gen(function*() {
      const own: Row = { ...plan.own }
      const related: Row = {}
      for (const parent of plan.parents) {
        const { keys, record } = yield* writeParent(def, parent, operation)
        Object.assign(own, keys)
        related[parent.relation.name] = record
      }
      const record = yield* write(own)
      const out: Row = { ...record, ...related }
      for (const planned of plan.children) {
        const records = yield* writeChildren(def, record, planned, operation)
        out[planned.relation.name] = planned.relation.kind === "hasOne" ? records[0] ?? null : records
      }
      return out
    })
  const updateSpan = traced(def, "updateNested")
  const updateNested: NestedNodes<R>["update"] = (id, patch, options) => {
    if (names.length === 0 || !isRecord(patch) || !names.some((n) => patch[n] !== undefined)) return update(id, patch, options)
    const plan = split(def, patch, "update")
    if (Either.isLeft(plan)) return Effect.fail(plan.left)
    const bad = checkId(def, id, "update")
    if (bad !== undefined) return Effect.fail(bad)
    // only relations: the record must exist, and is returned as it is
    const write = (own: Row) =>
      Object.keys(own).length > 0
        ? update(id, own, options)
        : orDieFilter(nodesOf(def).read.read(id)) as E.Effect<Row, UpdateError, R>
    return updateSpan(inTransaction("update", withNested(write, plan.right, "update")))
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
