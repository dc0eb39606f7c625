/**
 * JSON Schemas of a served model's JSON forms, derived from its columns: the record (as
 * `Json.encode` writes it, hidden fields left out), the create input, the patch, the filter
 * (recursive through `$and` / `$or` / `$not`), and the arguments of each node. OpenAPI
 * (components) and MCP (tool input schemas) both use them; a `$ref` prefix says where the
 * filter schema lives (`#/components/schemas/` or `#/$defs/`).
 * (Internal module: not part of the public API.)
 */
import { JSONSchema, Schema } from "effect"
import type { Column } from "../../Column.js"
import type { NodeName, Served } from "./operations.js"
import { limits } from "../../Filter.js"

/** @internal */
export type JsonSchema = Record<string, unknown>

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

/** A stored record, as responses carry it. @internal */
export const recordSchema = (s: Served): JsonSchema =>
  object(
    Object.fromEntries(visible(s).map((c) => [c.field, nullable(valueSchema(s, c), c)])),
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
  const columns = writable(s).filter((c) => c !== s.def.pk)
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

/** The filter, recursive through the logical operators (`ref` points at this schema). @internal */
export const filterSchema = (s: Served, ref: string): JsonSchema => {
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
  properties.$and = { type: "array", items: { $ref: ref } }
  properties.$or = { type: "array", items: { $ref: ref } }
  properties.$not = { $ref: ref }
  return object(properties, [], { description: `A filter over ${s.def.name} records` })
}

/** Field names usable in `orderBy` (`-` in front: descending) and `select`. */
const fieldNames = (s: Served) => visible(s).filter((c) => c.kind._tag !== "json").map((c) => c.field)

/** The query of `list` (a search body, the arguments of the list tool). @internal */
export const listQuerySchema = (s: Served, filterRef: string): JsonSchema =>
  object({
    where: { $ref: filterRef },
    orderBy: { type: "array", items: { type: "string", enum: fieldNames(s).flatMap((f) => [f, `-${f}`]) } },
    limit: { type: "integer", minimum: 0, maximum: s.maxLimit, description: `page size (default ${s.defaultLimit})` },
    offset: { type: "integer", minimum: 0 },
    cursor: { type: "string", description: "the nextCursor of the previous page" },
    select: { type: "array", items: { type: "string", enum: visible(s).map((c) => c.field) } },
    total: { type: "boolean", description: "also count every record matching where" },
    ...(s.def.softDelete ? { includeDeleted: { type: "boolean" } } : {})
  }, [])

/** The result of `list`. @internal */
export const listResultSchema = (recordRef: string): JsonSchema =>
  object({
    records: { type: "array", items: { $ref: recordRef } },
    nextCursor: { type: "string" },
    total: { type: "integer" }
  }, ["records"])

const idSchema = (s: Served) => valueSchema(s, s.def.pk)

/**
 * The arguments of a node as one object (the MCP tool's input; HTTP takes the same parts from
 * the path, the query and the body). @internal
 */
export const argumentsSchema = (s: Served, node: NodeName, ref: (name: "Record" | "Create" | "Patch" | "Filter") => string): JsonSchema => {
  const id = { id: idSchema(s) }
  const filter = { $ref: ref("Filter") }
  switch (node) {
    case "create":
      return createSchema(s)
    case "read":
      return object({ ...id, ...(s.def.softDelete ? { includeDeleted: { type: "boolean" } } : {}) }, ["id"])
    case "update":
      return object({ ...id, patch: { $ref: ref("Patch") }, ...(s.def.versioned ? { expectedVersion: { type: "integer" } } : {}) }, [
        "id",
        "patch"
      ])
    case "delete":
    case "restore":
      return object(id, ["id"])
    case "list":
      return listQuerySchema(s, ref("Filter"))
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
export const resultSchema = (node: NodeName, recordRef: string): JsonSchema => {
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
  }
}
