/**
 * What the model nodes of a workflow share: the operation's shape, the parameter names under
 * Kailash's spelling and this library's, and the decoders of keys, filters and orderings.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import type { WorkflowError } from "../../Errors.js"
import * as Json from "../../Json.js"
import type * as Model from "../../Model.js"
import type { ModelDefinition } from "../model/definition.js"
import { isRecord } from "../model/validate.js"
import type { Nodes } from "../nodes/index.js"
import type { Params } from "./nodeType.js"
import { paramError } from "./nodeType.js"
import { type Given, objectParam, oneOf, under } from "./params.js"
import * as Shape from "./shape.js"

export type Row = Record<string, unknown>

/** How one node of a model reads its parameters, runs, and what its result looks like. */
export interface Operation {
  /** Kailash's name of the operation (`BulkCreate`). */
  readonly name: string
  /** Parameter names (aliases included); `undefined`: computed from the model (create). */
  readonly parameters: (def: ModelDefinition) => ReadonlyArray<string>
  readonly required: ReadonlyArray<ReadonlyArray<string>>
  readonly decode: (model: Model.Any, def: ModelDefinition, params: Params) => Effect.Effect<unknown, WorkflowError>
  readonly run: <R>(nodes: Nodes<R>, def: ModelDefinition, input: never) => Effect.Effect<unknown, unknown, R>
  readonly output: (record: Shape.Shape) => Shape.Shape
}

export const idNames = ["id", "record_id", "conditions", "filter"] as const
export const includeDeletedNames = ["include_deleted", "includeDeleted"]
export const confirmNames = ["confirmed", "confirm"]
export const rowNames = ["records", "data", "rows"]
export const returnRecordsNames = ["return_records", "returnRecords"]
export const conflictOnNames = ["conflict_on", "conflictOn"]
export const filterNames = ["filter", "where", "conditions"]

/**
 * The primary key: `id`, `record_id`, or `conditions` / `filter` naming only the key (a
 * composite key: its fields, in any of them).
 */
export const idOf = (model: Model.Any, def: ModelDefinition, params: Params) =>
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
export const keyFields = (def: ModelDefinition, id: unknown): Row =>
  def.compositeKey ? { ...(id as Row) } : { [def.pk.field]: id }

export const filterOf = (model: Model.Any, given: Given | undefined) =>
  given === undefined
    ? Effect.succeed(undefined)
    : Effect.flatMap(objectParam(given), (where) => Effect.mapError(Json.decodeFilter(model, where), under(given.name)))

/** Kailash's `order_by` forms (`"name"`, `"-name"`, `{ name: 1 | -1 }`) and `sort` as this library's `orderBy`. */
export const orderByOf = (params: Params) =>
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
export const createInputOf = (def: ModelDefinition, params: Params): Given =>
  params.data !== undefined && !def.byField.has("data") ? { name: "data", value: params.data } : { name: "", value: params }

export const writableFields = (def: ModelDefinition) => def.userColumns.map((c) => c.field)

/** A record's shape with result fields beside its own. */
export const withFields = (shape: Shape.Shape, fields: Readonly<Record<string, Shape.Shape>>): Shape.Shape =>
  shape._tag === "object" ? Shape.object({ ...shape.fields, ...fields }) : shape
