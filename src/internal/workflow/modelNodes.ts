/**
 * A model's nodes as workflow node types: `UserCreateNode` (Kailash's spelling) and
 * `User_Create`, for every node the model has. Parameters are read under Kailash's names and
 * this library's own, decoded with the `Json` module's decoders (the nodes' own validation and
 * errors), and each result has the shape Kailash users read (`{ records, count, limit }`,
 * `{ created, record, action }`, `{ processed, inserted, … }`).
 * (Internal module: not part of the public API.)
 */
import { Effect, Option } from "effect"
import type { WorkflowError } from "../../Errors.js"
import * as Json from "../../Json.js"
import type * as Model from "../../Model.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { definitionOf } from "../model/definition.js"
import { isRecord } from "../model/validate.js"
import type { Nodes } from "../nodes/index.js"
import type { NodeName } from "../serving/operations.js"
import { nodesOf } from "../serving/operations.js"
import type { NodeType, Params } from "./nodeType.js"
import { paramError } from "./nodeType.js"
import { arrayParam, count, fieldList, flag, type Given, objectParam, oneOf, under } from "./params.js"
import * as Shape from "./shape.js"

type Row = Record<string, unknown>

/** How one node of a model reads its parameters, runs, and what its result looks like. */
interface Operation {
  /** Kailash's name of the operation (`BulkCreate`). */
  readonly name: string
  /** Parameter names (aliases included); `undefined`: computed from the model (create). */
  readonly parameters: (def: ModelDefinition) => ReadonlyArray<string>
  readonly required: ReadonlyArray<ReadonlyArray<string>>
  readonly decode: (model: Model.Any, def: ModelDefinition, params: Params) => Effect.Effect<unknown, WorkflowError>
  readonly run: <R>(nodes: Nodes<R>, def: ModelDefinition, input: never) => Effect.Effect<unknown, unknown, R>
  readonly output: (record: Shape.Shape) => Shape.Shape
}

const idNames = ["id", "record_id", "conditions", "filter"] as const
const includeDeletedNames = ["include_deleted", "includeDeleted"]
const confirmNames = ["confirmed", "confirm"]
const rowNames = ["records", "data", "rows"]
const returnRecordsNames = ["return_records", "returnRecords"]
const conflictOnNames = ["conflict_on", "conflictOn"]
const filterNames = ["filter", "where", "conditions"]

/**
 * The primary key: `id`, `record_id`, or `conditions` / `filter` naming only the key (a
 * composite key: its fields, in any of them).
 */
const idOf = (model: Model.Any, def: ModelDefinition, params: Params) =>
  Effect.gen(function*() {
    const given = yield* oneOf(params, idNames)
    if (given === undefined) return yield* paramError("id", "missing: give id (or record_id, or filter: { id })")
    let value = given.value
    let path = given.name
    if ((given.name === "conditions" || given.name === "filter") && !def.compositeKey) {
      const selector = yield* objectParam(given)
      const keys = Object.keys(selector)
      if (keys.length !== 1 || keys[0] !== def.pk.field) {
        return yield* paramError(given.name, `must name the primary key only ({ ${def.pk.field} }); use the Bulk node for a filter`)
      }
      value = selector[def.pk.field]
      path = `${given.name}.${def.pk.field}`
    }
    // a composite key's error names the key field under the parameter
    return yield* Effect.mapError(Json.decodeId(model, value), (e) =>
      paramError(def.compositeKey && e.path !== "" ? `${path}.${e.path.replace(/^id\./, "")}` : path, e.reason, e))
  })

/** A record's key as fields of a result: `{ id }`, or a composite key's own fields. */
const keyFields = (def: ModelDefinition, id: unknown): Row =>
  def.compositeKey ? { ...(id as Row) } : { [def.pk.field]: id }

const filterOf = (model: Model.Any, given: Given | undefined) =>
  given === undefined
    ? Effect.succeed(undefined)
    : Effect.flatMap(objectParam(given), (where) => Effect.mapError(Json.decodeFilter(model, where), under(given.name)))

/** Kailash's `order_by` forms (`"name"`, `"-name"`, `{ name: 1 | -1 }`) and `sort` as this library's `orderBy`. */
const orderByOf = (params: Params) =>
  Effect.gen(function*() {
    const given = yield* oneOf(params, ["order_by", "orderBy", "sort"])
    if (given === undefined) return undefined
    const items = typeof given.value === "string" ? [given.value] : given.value
    if (!Array.isArray(items)) return yield* paramError(given.name, "expected a list of fields")
    const out: Array<unknown> = []
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i]
      if (typeof item === "string") out.push(item)
      else if (given.name === "sort" && isRecord(item) && typeof item.field === "string") {
        out.push(item.order === "desc" ? `-${item.field}` : item.field)
      } else if (isRecord(item) && Object.keys(item).length === 1) {
        const [[field, direction]] = Object.entries(item) as [[string, unknown]]
        if (direction !== 1 && direction !== -1 && direction !== "asc" && direction !== "desc") {
          return yield* paramError(`${given.name}.${i}.${field}`, "expected 1, -1, \"asc\" or \"desc\"")
        }
        out.push(direction === -1 || direction === "desc" ? `-${field}` : field)
      } else return yield* paramError(`${given.name}.${i}`, "expected \"field\", \"-field\" or { field: 1 | -1 }")
    }
    return { name: given.name, value: out }
  })

/** The fields of a create input, from `data` or flat. */
const createInputOf = (def: ModelDefinition, params: Params): Given =>
  params.data !== undefined && !def.byField.has("data") ? { name: "data", value: params.data } : { name: "", value: params }

const writableFields = (def: ModelDefinition) => def.userColumns.map((c) => c.field)

const create: Operation = {
  name: "Create",
  parameters: (def) => def.byField.has("data") ? writableFields(def) : [...writableFields(def), "data"],
  required: [],
  decode: (model, def, params) => {
    const given = createInputOf(def, params)
    const beside = given.name === "data" ? Object.keys(params).find((k) => k !== "data") : undefined
    return beside !== undefined
      ? Effect.fail(paramError(beside, "give the fields either inside data or beside it, not both"))
      : Effect.mapError(Json.decodeCreate(model, given.value), under(given.name))
  },
  run: (nodes, _def, input: Row) => nodes.create(input),
  output: (record) => record
}

const read: Operation = {
  name: "Read",
  parameters: () => [...idNames, "raise_on_not_found", "raiseOnNotFound", ...includeDeletedNames],
  required: [idNames],
  decode: (model, def, params) =>
    Effect.all({
      id: idOf(model, def, params),
      raise: flag(params, ["raise_on_not_found", "raiseOnNotFound"]),
      includeDeleted: flag(params, includeDeletedNames)
    }),
  run: (nodes, def, input: { id: unknown; raise?: boolean; includeDeleted?: boolean }) => {
    const options = input.includeDeleted === undefined ? {} : { includeDeleted: input.includeDeleted }
    return input.raise === false
      ? Effect.map(nodes.find(input.id, options), Option.match({
        onNone: () => ({ ...keyFields(def, input.id), found: false }),
        onSome: (record) => ({ ...record, found: true })
      }))
      : Effect.map(nodes.read(input.id, options), (record) => ({ ...record, found: true }))
  },
  output: (record) => withFields(record, { found: Shape.value })
}

const update: Operation = {
  name: "Update",
  parameters: () => [...idNames, "fields", "updates", "patch", "expected_version", "expectedVersion"],
  required: [idNames, ["fields", "updates", "patch"]],
  decode: (model, def, params) =>
    Effect.gen(function*() {
      const id = yield* idOf(model, def, params)
      const given = yield* oneOf(params, ["fields", "updates", "patch"])
      if (given === undefined) return yield* paramError("fields", "missing: the fields to set")
      const patch = yield* Effect.mapError(Json.decodePatch(model, given.value), under(given.name))
      const expectedVersion = yield* count(params, ["expected_version", "expectedVersion"])
      return { id, patch, expectedVersion }
    }),
  run: (nodes, _def, input: { id: unknown; patch: Row; expectedVersion?: number }) =>
    Effect.map(
      nodes.update(input.id, input.patch, input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
      (record) => ({ ...record, updated: true })
    ),
  output: (record) => withFields(record, { updated: Shape.value })
}

const byId = (name: string, node: "delete" | "restore", flagName: string): Operation => ({
  name,
  parameters: () => idNames,
  required: [idNames],
  decode: (model, def, params) => Effect.map(idOf(model, def, params), (id) => ({ id })),
  run: <R>(nodes: Nodes<R>, def: ModelDefinition, input: { id: unknown }) => {
    const call: Effect.Effect<object, unknown, R> = node === "delete" ? nodes.delete(input.id) : nodes.restore(input.id)
    return Effect.map(call, (result) => ({ ...keyFields(def, input.id), ...result }))
  },
  output: () => Shape.object({ id: Shape.value, [flagName]: Shape.value })
})

const list: Operation = {
  name: "List",
  parameters: () => [
    ...filterNames,
    "order_by",
    "orderBy",
    "sort",
    "limit",
    "offset",
    "cursor",
    "select",
    "total",
    "count_only",
    ...includeDeletedNames
  ],
  required: [],
  decode: (model, _def, params) =>
    Effect.gen(function*() {
      const where = yield* oneOf(params, filterNames)
      const orderBy = yield* orderByOf(params)
      const includeDeleted = yield* flag(params, includeDeletedNames)
      const countOnly = yield* flag(params, ["count_only"])
      const query: Row = {
        ...(where === undefined ? {} : { where: where.value }),
        ...(orderBy === undefined ? {} : { orderBy: orderBy.value }),
        ...(includeDeleted === undefined ? {} : { includeDeleted })
      }
      for (const key of ["limit", "offset", "cursor", "select", "total"]) {
        if (params[key] !== undefined) query[key] = params[key]
      }
      const decoded = yield* Effect.mapError(Json.decodeQuery(model, query), (e) =>
        // the query's own names back to the parameter's
        e.path === "orderBy" && orderBy !== undefined
          ? under(orderBy.name)({ ...e, path: "" })
          : e._tag === "InvalidFilter"
          ? under(where?.name ?? "filter")(e)
          : under("")(e))
      return { query: decoded, countOnly: countOnly === true }
    }),
  run: (nodes, _def, input: { query: ListQuery<Row>; countOnly: boolean }) =>
    input.countOnly
      ? Effect.map(
        nodes.count(input.query.where, input.query.includeDeleted === undefined ? {} : { includeDeleted: input.query.includeDeleted }),
        (n) => ({ count: n })
      )
      : Effect.map(nodes.list(input.query), (page) => ({
        ...page,
        count: page.records.length,
        limit: input.query.limit ?? null,
        offset: input.query.offset ?? 0
      })),
  output: (record) =>
    Shape.object({
      records: Shape.array(record),
      count: Shape.value,
      limit: Shape.value,
      offset: Shape.value,
      nextCursor: Shape.value,
      total: Shape.value
    })
}

const countOp: Operation = {
  name: "Count",
  parameters: () => [...filterNames, ...includeDeletedNames],
  required: [],
  decode: (model, _def, params) =>
    Effect.all({
      where: Effect.flatMap(oneOf(params, filterNames), (given) => filterOf(model, given)),
      includeDeleted: flag(params, includeDeletedNames)
    }),
  run: (nodes, _def, input: { where?: unknown; includeDeleted?: boolean }) =>
    Effect.map(
      nodes.count(input.where, input.includeDeleted === undefined ? {} : { includeDeleted: input.includeDeleted }),
      (n) => ({ count: n })
    ),
  output: () => Shape.object({ count: Shape.value })
}

const upsert: Operation = {
  name: "Upsert",
  parameters: () => ["where", "create", "update", ...conflictOnNames],
  required: [["create", "where"]],
  decode: (model, _def, params) =>
    Effect.gen(function*() {
      // Kailash: the insert is { ...where, ...create }, the target the keys of `where`
      const where = params.where === undefined ? undefined : yield* objectParam({ name: "where", value: params.where })
      const createValue = params.create ?? {}
      if (!isRecord(createValue)) return yield* paramError("create", "expected an object")
      const conflict = yield* oneOf(params, conflictOnNames)
      const conflictOn = conflict?.value ?? (where === undefined ? undefined : Object.keys(where))
      const args = {
        create: { ...createValue, ...where },
        ...(params.update === undefined ? {} : { update: params.update }),
        ...(conflictOn === undefined ? {} : { conflictOn })
      }
      return yield* Effect.mapError(Json.decodeUpsert(model, args), (e) =>
        e.path === "conflictOn"
          ? paramError(conflict?.name ?? "where", e.reason, e)
          : e.path.startsWith("create.") && where !== undefined && e.path.slice(7) in where
          ? paramError(`where.${e.path.slice(7)}`, e.reason, e)
          : under("")(e))
    }),
  run: (nodes, _def, input: { create: Row; update?: Row; conflictOn?: ReadonlyArray<string> }) =>
    Effect.map(nodes.upsert(input), ({ record, created }) => ({ record, created, action: created ? "created" : "updated" })),
  output: (record) => Shape.object({ record, created: Shape.value, action: Shape.value })
}

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

const bulkCreate: Operation = {
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

const bulkUpsert: Operation = {
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

const bulkUpdate: Operation = {
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

const bulkDelete: Operation = {
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

/** The served nodes with a workflow node type (`aggregate` has none yet). */
type WorkflowNode = Exclude<NodeName, "aggregate">

const operations: Readonly<Record<WorkflowNode, Operation>> = {
  create,
  read,
  update,
  delete: byId("Delete", "delete", "deleted"),
  restore: byId("Restore", "restore", "restored"),
  list,
  count: countOp,
  upsert,
  bulkCreate,
  bulkUpdate,
  bulkDelete,
  bulkUpsert
}

const withFields = (shape: Shape.Shape, fields: Readonly<Record<string, Shape.Shape>>): Shape.Shape =>
  shape._tag === "object" ? Shape.object({ ...shape.fields, ...fields }) : shape

/** The shape of a model's record: its columns (JSON columns open). @internal */
export const recordShape = (def: ModelDefinition): Shape.Shape =>
  Shape.object(Object.fromEntries(def.columns.map((c) => [c.field, c.kind._tag === "json" ? Shape.any : Shape.value])))

/** Every node of a model as a workflow node type. @internal */
export const nodeTypes = <E, R>(model: Model.Any): ReadonlyArray<NodeType<E, R>> => {
  const def = definitionOf(model)
  const nodes = model as unknown as Nodes<R>
  const record = recordShape(def)
  const withType = nodesOf(def).filter((node): node is WorkflowNode => node !== "aggregate")
  return withType.map((node) => {
    const op = operations[node]
    return {
      type: `${def.name}${op.name}Node`,
      aliases: [`${def.name}_${op.name}`],
      parameters: op.parameters(def),
      required: op.required,
      decode: (params) => op.decode(model, def, params),
      run: (input) => op.run(nodes, def, input as never) as Effect.Effect<unknown, E, R>,
      output: op.output(record),
      origin: { model: def.name, node }
    }
  })
}
