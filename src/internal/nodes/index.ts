/**
 * A model's nodes, one family per file (read, create, update, delete, upsert), assembled with
 * the guards that give untyped callers (JSON, workflows) a ValidationError naming the argument
 * instead of a TypeError.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { ModelDefinition } from "../model/definition.js"
import * as Aggregate from "./aggregate.js"
import * as Create from "./create.js"
import * as Batch from "./batch.js"
import * as BatchList from "./batchList.js"
import * as Delete from "./delete.js"
import * as Include from "./include.js"
import * as Nested from "./nested.js"
import * as Read from "./read.js"
import { invalid, withObjectArguments } from "./shared.js"
import { substitutable } from "./substitute.js"
import * as Update from "./update.js"
import * as Upsert from "./upsert.js"

/** Every node of a model; `R` is what they require. @internal */
export interface Nodes<R>
  extends
    Read.ReadNodes<R>,
    Aggregate.AggregateNodes<R>,
    Omit<Create.CreateNodes<R>, "create">,
    Omit<Update.UpdateNodes<R>, "update" | "bulkUpdate" | "bulkUpdateItems">,
    Delete.DeleteNodes<R>,
    Upsert.UpsertNodes<R>,
    Nested.NestedNodes<R>
{
  /** A filter and one patch for every record it matches, or a list of `{ id | key, patch }`. */
  readonly bulkUpdate: (
    first: unknown,
    second?: unknown,
    third?: unknown
  ) => Effect.Effect<
    { readonly updated: number; readonly missing?: ReadonlyArray<unknown> },
    Effect.Effect.Error<ReturnType<Update.UpdateNodes<R>["bulkUpdate" | "bulkUpdateItems"]>>,
    R
  >
}

/** Rows of a bulk node: an Iterable (or, where `streams`, a Stream) — never a string or null. */
const isRows = (rows: unknown, streams: boolean): boolean =>
  typeof rows === "object" && rows !== null && (Symbol.iterator in rows || (streams && Stream.StreamTypeId in rows))

const notAnObject = (value: unknown) => value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))

/** @internal */
export const make = <R>(def: ModelDefinition): Nodes<R> => {
  const read = Include.withIncludes(def, BatchList.withListBatching(def, Batch.withBatching(def, Read.make<R>(def))))
  const create = Create.make<R>(def)
  const update = Update.make<R>(def)
  const nested = Nested.make<R>(def, create.create, update.update)
  const remove = Delete.make<R>(def)
  const upsert = Upsert.make<R>(def)
  const { aggregate } = Aggregate.make<R>(def)
  const bulkCreate: Nodes<R>["bulkCreate"] = (rows, options) =>
    !isRows(rows, true)
      ? Effect.fail(invalid(def, "bulkCreate", "", "expected an array, an iterable or a Stream of rows"))
      : notAnObject(options)
      ? Effect.fail(invalid(def, "bulkCreate", "options", "expected an object"))
      : create.bulkCreate(rows, options)
  const bulkUpsert: Nodes<R>["bulkUpsert"] = (rows, options) =>
    !isRows(rows, false)
      ? Effect.fail(invalid(def, "bulkUpsert", "", "expected an array or an iterable of rows"))
      : notAnObject(options)
      ? Effect.fail(invalid(def, "bulkUpsert", "options", "expected an object"))
      : upsert.bulkUpsert(rows, options)
  const bulkUpdateItems = withObjectArguments(def, "bulkUpdate", [[1, "options"]], update.bulkUpdateItems)
  const bulkUpdate = withObjectArguments(def, "bulkUpdate", [[2, "options"]], update.bulkUpdate)
  // a substitute in the fiber's context (the testing kit's reference layer) runs the calls instead
  return substitutable(def, {
    read: withObjectArguments(def, "read", [[1, "options"]], read.read),
    find: withObjectArguments(def, "find", [[1, "options"]], read.find),
    list: withObjectArguments(def, "list", [[0, "query"]], read.list),
    findFirst: withObjectArguments(def, "findFirst", [[1, "options"]], read.findFirst),
    count: withObjectArguments(def, "count", [[1, "options"]], read.count),
    exists: withObjectArguments(def, "exists", [[1, "options"]], read.exists),
    findBy: withObjectArguments(def, "findBy", [[1, "options"]], read.findBy),
    readBy: withObjectArguments(def, "readBy", [[1, "options"]], read.readBy),
    aggregate,
    stream: (query) =>
      notAnObject(query) ? Stream.fail(invalid(def, "stream", "query", "expected an object")) : read.stream(query),
    create: nested.create,
    connect: nested.connect,
    disconnect: nested.disconnect,
    bulkCreate,
    update: withObjectArguments(def, "update", [[2, "options"]], nested.update),
    // a list of { id | key, patch } items, or a filter and one patch for every record
    bulkUpdate: (first, second, third) =>
      Array.isArray(first)
        ? bulkUpdateItems(first, second as {} | undefined)
        : bulkUpdate(first, second, third as {} | undefined),
    delete: remove.delete,
    restore: remove.restore,
    bulkDelete: withObjectArguments(def, "bulkDelete", [[1, "options"]], remove.bulkDelete),
    upsert: upsert.upsert,
    createIgnore: withObjectArguments(def, "createIgnore", [[1, "options"]], upsert.createIgnore),
    bulkUpsert
  })
}
