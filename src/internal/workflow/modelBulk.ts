/**
 * A model's bulk nodes in a workflow (BulkCreate, BulkUpsert, BulkUpdate, BulkDelete), with
 * Kailash's summary fields (`processed`, `batch_size`, `operation`, `success`).
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Json from "../../Json.js"
import type * as Model from "../../Model.js"
import type { ModelDefinition } from "../model/definition.js"
import { isRecord } from "../model/validate.js"
import type { Params } from "./nodeType.js"
import { paramError } from "./nodeType.js"
import { arrayParam, count, fieldList, flag, oneOf, under } from "./params.js"
import * as Shape from "./shape.js"
import { conflictOnNames, confirmNames, filterNames, filterOf, type Operation, returnRecordsNames, type Row, rowNames } from "./modelParams.js"

/** Rows of a bulk node: `records` (or `data`, `rows`), each decoded as a create input. */
const rowsOf = (model: Model.Any, params: Params) =>
  Effect.gen(function*() {
    const given = yield* oneOf(params, rowNames)
    if (given === undefined) return yield* paramError("records", "missing: the rows to write")
    return yield* Effect.mapError(Json.decodeRows(model, given.value), under(given.name))
  })

/** `conflict_resolution`: what a bulk write does with a row whose key is stored. */
const resolutionOf = (params: Params, allowed: ReadonlyArray<string>) =>
  Effect.flatMap(oneOf(params, ["conflict_resolution", "onConflict"]), (given) =>
    given === undefined || allowed.includes(given.value as string)
      ? Effect.succeed(given?.value as string | undefined)
      : Effect.fail(paramError(given.name, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`)))

const skips = (resolution: string | undefined) => resolution === "skip" || resolution === "ignore"

interface BulkWriteInput {
  readonly rows: ReadonlyArray<Row>
  readonly skip: boolean
  readonly conflictOn?: ReadonlyArray<string>
  readonly returnRecords?: boolean
  readonly batchSize?: number
}

const bulkWriteOf = (model: Model.Any, def: ModelDefinition, params: Params, resolutions: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const rows = (yield* rowsOf(model, params)) as ReadonlyArray<Row>
    const resolution = yield* resolutionOf(params, resolutions)
    const conflictOn = yield* fieldList(def, params, conflictOnNames)
    const returnRecords = yield* flag(params, returnRecordsNames)
    const batchSize = yield* count(params, ["batch_size", "batchSize"], 1)
    const input: BulkWriteInput = {
      rows,
      skip: skips(resolution),
      ...(conflictOn === undefined ? {} : { conflictOn }),
      ...(returnRecords === undefined ? {} : { returnRecords }),
      ...(batchSize === undefined ? {} : { batchSize })
    }
    return input
  })

/** Kailash's summary fields: what was asked, and (given) the batch size. */
const summary = (operation: string, input: { readonly batchSize?: number }, processed: number) => ({
  processed,
  ...(input.batchSize === undefined ? {} : { batch_size: input.batchSize }),
  operation,
  success: true
})

export const bulkCreate: Operation = {
  name: "BulkCreate",
  parameters: () => [
    ...rowNames,
    "conflict_resolution",
    "onConflict",
    ...conflictOnNames,
    ...returnRecordsNames,
    "batch_size",
    "batchSize"
  ],
  required: [rowNames],
  decode: (model, def, params) => bulkWriteOf(model, def, params, ["error", "fail", "skip", "ignore"]),
  run: (nodes, _def, input: BulkWriteInput) =>
    Effect.map(
      nodes.bulkCreate(input.rows, {
        ...(input.skip ? { onConflict: "skip" as const } : {}),
        ...(input.skip && input.conflictOn !== undefined ? { conflictOn: input.conflictOn } : {}),
        ...(input.returnRecords === true ? { returnRecords: true } : {})
      }),
      (result) => ({ ...summary("bulk_create", input, input.rows.length), skipped: 0, ...result })
    ),
  output: (record) => bulkShape(record, ["inserted", "skipped"])
}

export const bulkUpsert: Operation = {
  name: "BulkUpsert",
  parameters: bulkCreate.parameters,
  required: [rowNames],
  decode: (model, def, params) => bulkWriteOf(model, def, params, ["update", "skip", "ignore"]),
  run: (nodes, _def, input: BulkWriteInput) => {
    const options = {
      ...(input.conflictOn === undefined ? {} : { conflictOn: input.conflictOn }),
      ...(input.returnRecords === true ? { returnRecords: true } : {})
    }
    // skipping existing keys is an insert that leaves conflicts out
    const write = input.skip
      ? Effect.map(nodes.bulkCreate(input.rows, { ...options, onConflict: "skip" }), (r) => ({ ...r, updated: 0 }))
      : Effect.map(nodes.bulkUpsert(input.rows, options), (r) => ({ ...r, skipped: 0 }))
    return Effect.map(write, (result) => ({
      ...summary("bulk_upsert", input, input.rows.length),
      ...result,
      upserted: result.inserted + result.updated,
      total: result.inserted + result.updated
    }))
  },
  output: (record) => bulkShape(record, ["inserted", "updated", "skipped", "upserted", "total"])
}

const bulkShape = (record: Shape.Shape, counts: ReadonlyArray<string>) =>
  Shape.object({
    processed: Shape.value,
    batch_size: Shape.value,
    operation: Shape.value,
    success: Shape.value,
    records: Shape.array(record),
    ...Object.fromEntries(counts.map((c) => [c, Shape.value]))
  })

/** A Kailash per-record update `{ id, ...fields }` as this library's `{ id, patch }` item. */
const itemOf = (def: ModelDefinition, item: unknown): unknown => {
  if (!isRecord(item) || "patch" in item || "key" in item) return item
  const { expected_version: expectedVersion, ...fields } = item
  const keys = def.key.map((c) => c.field)
  const patch = Object.fromEntries(Object.entries(fields).filter(([k]) => !keys.includes(k)))
  const id = def.compositeKey ? Object.fromEntries(keys.map((k) => [k, fields[k]])) : fields[def.pk.field]
  return { id, patch, ...(expectedVersion === undefined ? {} : { expectedVersion }) }
}

export const bulkUpdate: Operation = {
  name: "BulkUpdate",
  parameters: () => [...filterNames, "fields", "update", "patch", ...confirmNames, ...rowNames, "items", "require_all", "requireAll"],
  required: [["fields", "update", "patch", ...rowNames, "items"]],
  decode: (model, def, params) =>
    Effect.gen(function*() {
      const items = yield* oneOf(params, [...rowNames, "items"])
      const fields = yield* oneOf(params, ["fields", "update", "patch"])
      if (items !== undefined) {
        if (fields !== undefined) return yield* paramError(fields.name, `give either ${items.name} (one patch per record) or ${fields.name} (one patch for a filter)`)
        const list = yield* arrayParam(items)
        const decoded = yield* Effect.mapError(Json.decodeUpdateItems(model, list.map((i) => itemOf(def, i))), (e) =>
          under(items.name)({ ...e, path: e.path.replace(/^patch\./, "") }))
        return { items: decoded, requireAll: (yield* flag(params, ["require_all", "requireAll"])) === true }
      }
      if (fields === undefined) return yield* paramError("fields", "missing: the fields to set (or records: one patch per record)")
      const where = yield* filterOf(model, (yield* oneOf(params, filterNames)) ?? { name: "filter", value: {} })
      const patch = yield* Effect.mapError(Json.decodePatch(model, fields.value), under(fields.name))
      return { where, patch, confirm: (yield* flag(params, confirmNames)) === true }
    }),
  run: (nodes, _def, input: { items?: ReadonlyArray<unknown>; requireAll?: boolean; where?: unknown; patch?: Row; confirm?: boolean }) =>
    input.items !== undefined
      ? Effect.map(nodes.bulkUpdate(input.items, { requireAll: input.requireAll === true }), (result) => ({
        ...summary("bulk_update", {}, input.items!.length),
        ...result
      }))
      : Effect.map(nodes.bulkUpdate(input.where, input.patch, { confirm: input.confirm === true }), (result) => ({
        ...summary("bulk_update", {}, result.updated),
        ...result
      })),
  output: () =>
    Shape.object({ processed: Shape.value, updated: Shape.value, missing: Shape.array(Shape.any), operation: Shape.value, success: Shape.value })
}

export const bulkDelete: Operation = {
  name: "BulkDelete",
  parameters: () => [...filterNames, "ids", ...confirmNames],
  required: [],
  decode: (model, def, params) =>
    Effect.gen(function*() {
      const ids = params.ids === undefined ? undefined : yield* arrayParam({ name: "ids", value: params.ids })
      const filter = yield* oneOf(params, filterNames)
      if (ids !== undefined && filter !== undefined) return yield* paramError("ids", `give either ids or ${filter.name}`)
      const given = ids === undefined
        ? filter ?? { name: "filter", value: {} }
        : { name: "ids", value: def.compositeKey ? { $or: ids } : { [def.pk.field]: { $in: ids } } }
      const where = yield* Effect.mapError(filterOf(model, given), (e) =>
        ids === undefined ? e : paramError(e.path.replace(/^ids\.[^.]+\.\$in(?:\[(\d+)\])?/, (_, i) => i === undefined ? "ids" : `ids.${i}`), e.reason, e.cause))
      return { where, confirm: (yield* flag(params, confirmNames)) === true }
    }),
  run: (nodes, _def, input: { where?: unknown; confirm: boolean }) =>
    Effect.map(nodes.bulkDelete(input.where, { confirm: input.confirm }), (result) => ({
      ...summary("bulk_delete", {}, result.deleted),
      ...result
    })),
  output: () => Shape.object({ processed: Shape.value, deleted: Shape.value, operation: Shape.value, success: Shape.value })
}
