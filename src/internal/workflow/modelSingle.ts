/**
 * A model's single-record nodes in a workflow (Create, Read, Update, Delete, Restore, List,
 * Count, Upsert): parameters under Kailash's names, results in the shapes its users read.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Json from "../../Json.js"
import type { ListQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import { isRecord } from "../model/validate.js"
import type { Nodes } from "../nodes/index.js"
import { paramError } from "./nodeType.js"
import { count, flag, objectParam, oneOf, under } from "./params.js"
import * as Shape from "./shape.js"
import { conflictOnNames, createInputOf, idNames, filterNames, filterOf, idOf, includeDeletedNames, keyFields, type Operation, orderByOf, type Row, withFields, writableFields } from "./modelParams.js"

export const create: Operation = {
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

export const read: Operation = {
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

export const update: Operation = {
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

export const byId = (name: string, node: "delete" | "restore", flagName: string): Operation => ({
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

export const list: Operation = {
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

export const countOp: Operation = {
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

export const upsert: Operation = {
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
