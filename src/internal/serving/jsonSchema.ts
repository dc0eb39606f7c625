/**
 * JSON Schemas of a served model's JSON forms, derived from its columns: the record (as
 * `Json.encode` writes it, hidden fields left out), the create input, the patch, the filter
 * (recursive through `$and` / `$or` / `$not`), and the arguments of each node. OpenAPI
 * (components) and MCP (tool input schemas) both use them; a `$ref` prefix says where the
 * filter schema lives (`#/components/schemas/` or `#/$defs/`).
 * (Internal module: not part of the public API.)
 */
import * as JSONSchema from "effect/JSONSchema"
import * as Schema from "effect/Schema"
import type { Column } from "../../Column.js"
import type { NodeName, Served } from "./operations.js"
import { limits } from "../../Filter.js"
import { isMany, servedRelations } from "./relations.js"

/** @internal */
export type JsonSchema = Record<string, unknown>

/** The parts of a served model that have a schema of their own (a component, a `$defs` entry). @internal */
export type Part = "Record" | "Create" | "Patch" | "Filter" | "Include"

/** Where the schema of a served model's part is: `#/components/schemas/…` (OpenAPI), `#/$defs/…` (MCP). @internal */
export type Refs = (s: Served, part: Part) => string

/** The served models a model's relations reach, itself first (transitively). @internal */
export const reachable = (s: Served): ReadonlyArray<Served> => {
  const seen = new Set<Served>([s])
  const queue = [s]
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const { target } of servedRelations(next)) {
      if (!seen.has(target)) {
        seen.add(target)
        queue.push(target)
      }
    }
  }
  return [...seen]
}

const decimalPattern = "^-?\\d+(\\.\\d+)?$"

/** A field's JSON form. */
const valueSchema = (s: Served, column: Column): JsonSchema => {
  const kind = column.kind
  switch (kind._tag) {
    case "string":
      return kind.maxLength === undefined ? { type: "string" } : { type: "string", maxLength: kind.maxLength }
    case "integer":
      return { type: "integer" }
    case "float":
      return { type: "number" }
    case "boolean":
      return { type: "boolean" }
    case "datetime":
      return { type: "string", format: "date-time" }
    case "bigint":
      return { type: "string", pattern: "^-?\\d+$", description: "a 64-bit integer, as decimal text" }
    case "decimal":
      return { type: "string", pattern: decimalPattern, description: "an exact decimal, as text" }
    case "enum":
      return { type: "string", enum: [...kind.values] }
    case "json":
      return jsonFieldSchema(s, column.field)
  }
}

/** A JSON field's schema from its Effect Schema when it has a self-contained one; else any JSON. */
const jsonFieldSchema = (s: Served, field: string): JsonSchema => {
  const schema = s.def.fields[field]
  if (schema !== undefined && Schema.isSchema(schema)) {
    try {
      const { $schema: _, ...rest }: JsonSchema = { ...JSONSchema.make(Schema.encodedSchema(schema)) }
      if (!JSON.stringify(rest).includes("$ref")) return rest
    } catch {
      // no JSON Schema for it: any JSON
    }
  }
  return { description: "a JSON value" }
}

const nullable = (schema: JsonSchema, column: Column): JsonSchema =>
  column.nullable ? { anyOf: [schema, { type: "null" }] } : schema

const visible = (s: Served) => s.def.columns.filter((c) => !s.hidden.has(c.field))

const object = (properties: Record<string, JsonSchema>, required: ReadonlyArray<string>, extra: JsonSchema = {}): JsonSchema => ({
  type: "object",
  properties,
  ...(required.length > 0 ? { required: [...required] } : {}),
  additionalProperties: false,
  ...extra
})

/** A stored record, as responses carry it; the relations an `include` may add, optional. @internal */
export const recordSchema = (s: Served, refs: Refs): JsonSchema =>
  object(
    {
      ...Object.fromEntries(visible(s).map((c) => [c.field, nullable(valueSchema(s, c), c)])),
      ...Object.fromEntries(servedRelations(s).map(({ relation, target }) => {
        const record = { $ref: refs(target, "Record") }
        return [relation.name, isMany(relation) ? { type: "array", items: record } : { anyOf: [record, { type: "null" }] }]
      }))
    },
    visible(s).filter((c) => !c.optional).map((c) => c.field),
    { description: `A ${s.def.name} record` }
  )

const writable = (s: Served) => s.def.userColumns.filter((c) => !s.def.managedFields.has(c.field))

/** The create input. @internal */
export const createSchema = (s: Served): JsonSchema => {
  const required = new Set(s.def.createGuards.filter((g) => g.required).map((g) => g.field))
  const columns = writable(s).filter((c) => !(s.def.tenantScoped && s.def.autoIncrement && c === s.def.pk))
  return object(
    Object.fromEntries(columns.map((c) => [c.field, nullable(valueSchema(s, c), c)])),
    columns.filter((c) => required.has(c.field) && !(s.def.autoIncrement && c === s.def.pk)).map((c) => c.field),
    { description: `A new ${s.def.name}` }
  )
}

/** A patch: any writable field but the primary key. @internal */
export const patchSchema = (s: Served): JsonSchema => {
  const columns = writable(s).filter((c) => !s.def.key.includes(c))
  return object(Object.fromEntries(columns.map((c) => [c.field, nullable(valueSchema(s, c), c)])), [], {
    description: `Changes to a ${s.def.name}`
  })
}

const scalar: JsonSchema = { type: ["string", "number", "boolean"] }
const ordered: JsonSchema = { type: ["string", "number"] }

/** A comparison at a path inside a JSON object (docs/queries.md#json-paths). */
const jsonPathSchema: JsonSchema = object({
  $path: { type: "array", items: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" }, minItems: 1, maxItems: limits.pathKeys },
  $eq: { anyOf: [scalar, { type: "null" }] },
  $ne: { anyOf: [scalar, { type: "null" }] },
  $gt: ordered,
  $gte: ordered,
  $lt: ordered,
  $lte: ordered,
  $in: { type: "array", items: scalar },
  $nin: { type: "array", items: scalar },
  $null: { type: "boolean" }
}, ["$path"])

/** A condition on a relation: a filter of the target, or `some` / `every` / `none` of one. */
const relationFilters = (s: Served, refs: Refs): Record<string, JsonSchema> =>
  Object.fromEntries(servedRelations(s).map(({ relation, target }) => {
    const filter = { $ref: refs(target, "Filter") }
    return [relation.name, isMany(relation) ? object({ some: filter, every: filter, none: filter }, []) : filter]
  }))

/** The filter, recursive through the logical operators and the relations. @internal */
export const filterSchema = (s: Served, refs: Refs): JsonSchema => {
  const ref = refs(s, "Filter")
  const properties: Record<string, JsonSchema> = {}
  for (const c of visible(s)) {
    const value = valueSchema(s, c)
    if (c.kind._tag === "json") {
      const element = c.kind.element
      const size: JsonSchema = { type: "integer", minimum: 0 }
      // JSON arrays of scalars: membership and length (docs/queries.md#json-arrays)
      const arrayOperators: Record<string, JsonSchema> = element === undefined ? {} : {
        $has: { type: element },
        $hasAny: { type: "array", items: { type: element } },
        $hasAll: { type: "array", items: { type: element } },
        $size: { anyOf: [size, object({ $eq: size, $gt: size, $gte: size, $lt: size, $lte: size }, [])] }
      }
      const operators = object({ ...arrayOperators, $null: { type: "boolean" } }, [])
      properties[c.field] = { anyOf: [{ type: "null" }, operators, ...(element === undefined ? [jsonPathSchema] : [])] }
      continue
    }
    const operators: Record<string, JsonSchema> = {
      $eq: { anyOf: [value, { type: "null" }] },
      $ne: { anyOf: [value, { type: "null" }] },
      $gt: value,
      $gte: value,
      $lt: value,
      $lte: value,
      $in: { type: "array", items: value },
      $nin: { type: "array", items: value },
      $null: { type: "boolean" }
    }
    if (c.kind._tag === "string" || c.kind._tag === "enum") {
      for (const op of ["$like", "$ilike", "$startsWith", "$endsWith", "$contains"]) operators[op] = { type: "string" }
    }
    properties[c.field] = { anyOf: [value, { type: "null" }, object(operators, [])] }
  }
  Object.assign(properties, relationFilters(s, refs))
  properties.$and = { type: "array", items: { $ref: ref } }
  properties.$or = { type: "array", items: { $ref: ref } }
  properties.$not = { $ref: ref }
  return object(properties, [], { description: `A filter over ${s.def.name} records` })
}

/** Field names usable in `orderBy` (`-` in front: descending) and `select`. */
const fieldNames = (s: Served) => visible(s).filter((c) => c.kind._tag !== "json").map((c) => c.field)

/** `include`: per relation whose target is served, `true` or its options (nested includes too). @internal */
export const includeSchema = (s: Served, refs: Refs): JsonSchema =>
  object(
    Object.fromEntries(servedRelations(s).map(({ relation, target }) => [relation.name, {
      anyOf: [
        { type: "boolean" },
        object({
          where: { $ref: refs(target, "Filter") },
          orderBy: { type: "array", items: { type: "string", enum: fieldNames(target).flatMap((f) => [f, `-${f}`]) } },
          select: { type: "array", items: { type: "string", enum: visible(target).map((c) => c.field) } },
          ...(isMany(relation) ? { limit: { type: "integer", minimum: 0, description: "at most this many per record" } } : {}),
          ...(target.def.softDelete ? { includeDeleted: { type: "boolean" } } : {}),
          ...(servedRelations(target).length > 0 ? { include: { $ref: refs(target, "Include") } } : {})
        }, [])
      ]
    }])),
    [],
    { description: `Relations of ${s.def.name} to load with each record` }
  )

/** The `include` property, when the model has relations to served models. */
const includeProperty = (s: Served, refs: Refs): Record<string, JsonSchema> =>
  servedRelations(s).length > 0 ? { include: { $ref: refs(s, "Include") } } : {}

/** The query of `list` (a search body, the arguments of the list tool). @internal */
export const listQuerySchema = (s: Served, refs: Refs): JsonSchema =>
  object({
    where: { $ref: refs(s, "Filter") },
    orderBy: { type: "array", items: { type: "string", enum: fieldNames(s).flatMap((f) => [f, `-${f}`]) } },
    limit: { type: "integer", minimum: 0, maximum: s.maxLimit, description: `page size (default ${s.defaultLimit})` },
    offset: { type: "integer", minimum: 0 },
    cursor: { type: "string", description: "the nextCursor of the previous page" },
    select: { type: "array", items: { type: "string", enum: visible(s).map((c) => c.field) } },
    total: { type: "boolean", description: "also count every record matching where" },
    ...(s.def.softDelete ? { includeDeleted: { type: "boolean" } } : {}),
    ...includeProperty(s, refs)
  }, [])

/** The result of `list`. @internal */
export const listResultSchema = (recordRef: string): JsonSchema =>
  object({
    records: { type: "array", items: { $ref: recordRef } },
    nextCursor: { type: "string" },
    total: { type: "integer" }
  }, ["records"])

/** The schema of one field of a model's key (a path parameter, a tool argument). @internal */
export const keyFieldSchema = (s: Served, column: Column): JsonSchema => valueSchema(s, column)

/** The key's arguments: `id`, or each field of a composite key (all required). */
const keySchema = (s: Served): Record<string, JsonSchema> =>
  s.def.compositeKey
    ? Object.fromEntries(s.def.key.map((c) => [c.field, valueSchema(s, c)]))
    : { id: valueSchema(s, s.def.pk) }

/**
 * The arguments of a node as one object (the MCP tool's input; HTTP takes the same parts from
 * the path, the query and the body). @internal
 */
export const argumentsSchema = (s: Served, node: NodeName, refs: Refs): JsonSchema => {
  const ref = (part: Part) => refs(s, part)
  const id = keySchema(s)
  const key = Object.keys(id)
  const filter = { $ref: ref("Filter") }
  switch (node) {
    case "create":
      return createSchema(s)
    case "read":
      return object({ ...id, ...(s.def.softDelete ? { includeDeleted: { type: "boolean" } } : {}), ...includeProperty(s, refs) }, key)
    case "update":
      return object({ ...id, patch: { $ref: ref("Patch") }, ...(s.def.versioned ? { expectedVersion: { type: "integer" } } : {}) }, [
        ...key,
        "patch"
      ])
    case "delete":
    case "restore":
      return object(id, key)
    case "list":
      return listQuerySchema(s, refs)
    case "aggregate":
      return aggregateQuerySchema(s, refs)
    case "count":
      return object({ where: filter, ...(s.def.softDelete ? { includeDeleted: { type: "boolean" } } : {}) }, [])
    case "upsert":
      return object({
        where: { type: "object", description: "the primary key or a unique constraint's fields, with their values" },
        create: { type: "object", description: "the other fields of a new record" },
        update: { $ref: ref("Patch") }
      }, ["where", "create"])
    case "bulkCreate":
      return object({ rows: { type: "array", items: { $ref: ref("Create") }, maxItems: s.maxRows }, returnRecords: { type: "boolean" } }, [
        "rows"
      ])
    case "bulkUpdate":
      return object({ where: filter, patch: { $ref: ref("Patch") }, confirm: { type: "boolean", description: "required when where matches every row" } }, [
        "where",
        "patch"
      ])
    case "bulkDelete":
      return object({ where: filter, confirm: { type: "boolean", description: "required when where matches every row" } }, ["where"])
    case "bulkUpsert":
      return object({
        rows: { type: "array", items: { $ref: ref("Create") }, maxItems: s.maxRows },
        conflictOn: { type: "array", items: { type: "string", enum: s.def.userColumns.map((c) => c.field) } }
      }, ["rows"])
  }
}

/** A node's result. @internal */
export const resultSchema = (s: Served, node: NodeName, refs: Refs): JsonSchema => {
  const recordRef = refs(s, "Record")
  const record = { $ref: recordRef }
  const n = { type: "integer" }
  switch (node) {
    case "create":
    case "read":
    case "update":
      return record
    case "delete":
      return object({ deleted: { type: "boolean" } }, ["deleted"])
    case "restore":
      return object({ restored: { type: "boolean" } }, ["restored"])
    case "list":
      return listResultSchema(recordRef)
    case "count":
      return object({ count: n }, ["count"])
    case "upsert":
      return object({ record, created: { type: "boolean" } }, ["record", "created"])
    case "bulkCreate":
      return object({ inserted: n, records: { type: "array", items: record } }, ["inserted"])
    case "bulkUpdate":
      return object({ updated: n }, ["updated"])
    case "bulkDelete":
      return object({ deleted: n }, ["deleted"])
    case "bulkUpsert":
      return object({ inserted: n, updated: n }, ["inserted", "updated"])
    case "aggregate":
      return aggregateResultSchema(s)
  }
}

const numericKinds = new Set(["integer", "float", "bigint", "decimal"])
const orderableKinds = new Set([...numericKinds, "string", "enum", "datetime"])

/** Visible field names of the kinds a list of aggregate fields takes. */
const fieldsOfKinds = (s: Served, kinds?: ReadonlySet<string>) =>
  visible(s).filter((c) => c.kind._tag !== "json" && (kinds === undefined || kinds.has(c.kind._tag))).map((c) => c.field)

const fieldArray = (fields: ReadonlyArray<string>): JsonSchema => ({ type: "array", items: { type: "string", enum: [...fields] } })

/** The query of `aggregate` (docs/queries.md: aggregates). @internal */
export const aggregateQuerySchema = (s: Served, refs: Refs): JsonSchema =>
  object({
    where: { $ref: refs(s, "Filter") },
    groupBy: fieldArray(fieldsOfKinds(s)),
    count: { anyOf: [{ const: true }, fieldArray(visible(s).map((c) => c.field))] },
    countDistinct: fieldArray(fieldsOfKinds(s)),
    sum: fieldArray(fieldsOfKinds(s, numericKinds)),
    avg: fieldArray(fieldsOfKinds(s, numericKinds)),
    min: fieldArray(fieldsOfKinds(s, orderableKinds)),
    max: fieldArray(fieldsOfKinds(s, orderableKinds)),
    having: { type: "object", description: "conditions on the groups' results: group fields, _count, _sum.<field>, … (needs groupBy)" },
    orderBy: { type: "array", items: { type: "string" }, description: "group fields or results (`_count`, `_sum.<field>`), `-` in front for descending (needs groupBy)" },
    limit: { type: "integer", minimum: 0, maximum: s.maxLimit, description: `groups returned (needs groupBy); without it, more than ${s.maxLimit} groups is refused` },
    offset: { type: "integer", minimum: 0 },
    ...(s.def.softDelete ? { includeDeleted: { type: "boolean" } } : {})
  }, [], { description: `An aggregate over ${s.def.name} records, per group of groupBy or over them all` })

/** One result of `aggregate`, or the groups (with `groupBy`). @internal */
export const aggregateResultSchema = (s: Served): JsonSchema => {
  const perField = (fields: ReadonlyArray<string>, value: (c: Column) => JsonSchema) =>
    object(Object.fromEntries(visible(s).filter((c) => fields.includes(c.field)).map((c) => [c.field, value(c)])), [])
  const orNull = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: "null" }] })
  const sumOf = (c: Column): JsonSchema =>
    c.kind._tag === "bigint" || c.kind._tag === "decimal" ? orNull(valueSchema(s, c)) : orNull({ type: "number" })
  const avgOf = (c: Column): JsonSchema => (c.kind._tag === "decimal" ? orNull(valueSchema(s, c)) : orNull({ type: "number" }))
  const result = object({
    ...Object.fromEntries(visible(s).filter((c) => c.kind._tag !== "json").map((c) => [c.field, nullable(valueSchema(s, c), c)])),
    _count: { anyOf: [{ type: "integer" }, perField(visible(s).map((c) => c.field), () => ({ type: "integer" }))] },
    _countDistinct: perField(fieldsOfKinds(s), () => ({ type: "integer" })),
    _sum: perField(fieldsOfKinds(s, numericKinds), sumOf),
    _avg: perField(fieldsOfKinds(s, numericKinds), avgOf),
    _min: perField(fieldsOfKinds(s, orderableKinds), (c) => orNull(valueSchema(s, c))),
    _max: perField(fieldsOfKinds(s, orderableKinds), (c) => orNull(valueSchema(s, c)))
  }, [], { description: `An aggregate result: the group's fields (with groupBy), then what the query asks for` })
  return { anyOf: [result, { type: "array", items: result }] }
}

/** The body of `POST …/workflows/execute`: a JSON workflow of the served node types (docs/workflows.md). @internal */
export const workflowRequestSchema = (types: ReadonlyArray<string>): JsonSchema =>
  object({
    workflow: object({
      name: { type: "string" },
      nodes: {
        type: "array",
        items: object({
          id: { type: "string" },
          type: { type: "string", enum: [...types], description: "an exposed node: <Model>_<Node> or <Model><Node>Node" },
          params: { type: "object", description: "the node's parameters (Kailash's names)" }
        }, ["id", "type"])
      },
      connections: {
        type: "array",
        items: object({
          from: { type: "string", description: "the node whose result is read" },
          output: { type: "string", description: "a dotted path in its result" },
          to: { type: "string", description: "the node whose parameter is set" },
          input: { type: "string", description: "a dotted path in its parameters" }
        }, ["from", "output", "to", "input"])
      }
    }, ["nodes"]),
    transaction: { type: "boolean", description: "run every node in one transaction: nothing stays when one fails" }
  }, ["workflow"], { description: "A workflow to run" })

/** The result of a workflow run: each node's result, records as JSON without hidden fields. @internal */
export const workflowResultSchema: JsonSchema = object({
  runId: { type: "string" },
  results: { type: "object", additionalProperties: object({ result: { description: "the node's result" } }, ["result"]) }
}, ["runId", "results"], { description: "The results of a workflow run, per node id" })
