/**
 * The served nodes of a model: each takes its arguments as JSON (what an HTTP request or an
 * MCP tool call carries), decodes them with the `Json` module's decoders, checks the serving
 * rules (exposed fields only, the page ceiling), calls the model's node and gives its result as
 * JSON (`Json.encode`, hidden fields left out). HTTP and MCP both call these: one behaviour,
 * one wording of errors.
 * (Internal module: not part of the public API.)
 */
import { Effect, Either } from "effect"
import { InvalidFilter, NotFound, ValidationError } from "../../Errors.js"
import * as Json from "../../Json.js"
import type * as Model from "../../Model.js"
import type { ModelDefinition } from "../model/definition.js"
import { definitionOf } from "../model/definition.js"
import { decodeCreate as decodeRow } from "../model/json.js"
import type { Nodes } from "../nodes/index.js"
import { MalformedRequest } from "./errors.js"

/** The nodes that can be served. @internal */
export const nodeNames = [
  "create",
  "read",
  "update",
  "delete",
  "restore",
  "list",
  "count",
  "upsert",
  "bulkCreate",
  "bulkUpdate",
  "bulkDelete",
  "bulkUpsert"
] as const

/** @internal */
export type NodeName = typeof nodeNames[number]

/** The nodes that only read. @internal */
export const readNodes: ReadonlyArray<NodeName> = ["read", "list", "count"]

/** Which nodes a model has (append-only models have no mutations; `restore` needs soft delete). @internal */
export const nodesOf = (def: ModelDefinition): ReadonlyArray<NodeName> =>
  nodeNames.filter((n) =>
    def.appendOnly
      ? n === "create" || n === "bulkCreate" || readNodes.includes(n)
      : n !== "restore" || def.softDelete
  )

/** How a model is served. @internal */
export interface Served {
  readonly model: Model.Any
  readonly def: ModelDefinition
  /** The nodes served. */
  readonly nodes: ReadonlySet<NodeName>
  /** Fields never shown in a response nor usable in a filter, an order or a projection. */
  readonly hidden: ReadonlySet<string>
  /** The largest page `list` hands out; a larger `limit` is refused. */
  readonly maxLimit: number
  /** The page size of a `list` without `limit`. */
  readonly defaultLimit: number
  /** The most rows one bulk call takes. */
  readonly maxRows: number
}

/** Served settings of a model from the options, checked. @internal */
export const served = (
  model: Model.Any,
  options: {
    readonly expose: "read" | "all" | ReadonlyArray<string>
    readonly hidden: ReadonlyArray<string>
    readonly maxLimit: number
    readonly defaultLimit: number
    readonly maxRows: number
  }
): Served => {
  const def = definitionOf(model)
  const available = nodesOf(def)
  const wanted = options.expose === "all" ? available : options.expose === "read" ? readNodes : options.expose
  for (const n of wanted) {
    if (!available.includes(n as NodeName)) throw new Error(`${def.name} has no node ${JSON.stringify(n)} to expose`)
  }
  for (const f of options.hidden) {
    if (!def.byField.has(f)) throw new Error(`${def.name} has no field ${JSON.stringify(f)} to hide`)
    if (f === def.pk.field) throw new Error(`${def.name}: the primary key cannot be hidden`)
  }
  return {
    model,
    def,
    nodes: new Set(wanted as ReadonlyArray<NodeName>),
    hidden: new Set(options.hidden),
    maxLimit: options.maxLimit,
    defaultLimit: Math.min(options.defaultLimit, options.maxLimit),
    maxRows: options.maxRows
  }
}

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The arguments object of a call (absent: empty). */
const argsOf = (s: Served, node: string, u: unknown): Either.Either<Json, ValidationError> =>
  u === undefined || u === null
    ? Either.right({})
    : isObject(u)
    ? Either.right(u)
    : Either.left(new ValidationError({ model: s.def.name, operation: node, path: "", reason: "expected an object" }))

/** A record as JSON, without the hidden fields. @internal */
export const encodeRecord = (s: Served, record: unknown): Json => {
  const json = Json.encode(s.model, record as never)
  if (s.hidden.size === 0) return json
  for (const f of s.hidden) delete json[f]
  return json
}

/** Refuses a filter that names a hidden field (at any depth), as an unknown field. */
const checkFilter = (s: Served, node: string, where: unknown, path = ""): InvalidFilter | undefined => {
  if (s.hidden.size === 0 || !isObject(where)) return undefined
  for (const [key, value] of Object.entries(where)) {
    const at = path === "" ? key : `${path}.${key}`
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(value)) continue
      for (let i = 0; i < value.length; i++) {
        const bad = checkFilter(s, node, value[i], `${at}[${i}]`)
        if (bad !== undefined) return bad
      }
    } else if (key === "$not") {
      const bad = checkFilter(s, node, value, at)
      if (bad !== undefined) return bad
    } else if (s.hidden.has(key)) {
      return new InvalidFilter({ model: s.def.name, operation: node, path: at, reason: "unknown field" })
    }
  }
  return undefined
}

const filterOf = (s: Served, node: string, where: unknown) => {
  if (where === undefined) return Effect.succeed(undefined)
  const bad = checkFilter(s, node, where)
  return bad !== undefined ? Effect.fail(bad) : Json.decodeFilter(s.model, where)
}

/** Field lists (`orderBy`, `select`) must not name hidden fields. */
const checkFields = (s: Served, node: string, name: string, fields: unknown): ValidationError | undefined => {
  if (!Array.isArray(fields)) return undefined
  for (const f of fields) {
    const field = typeof f === "string" && f.startsWith("-") ? f.slice(1) : f
    if (typeof field === "string" && s.hidden.has(field)) {
      return new ValidationError({ model: s.def.name, operation: node, path: name, reason: "unknown field" })
    }
  }
  return undefined
}

const invalid = (s: Served, node: string, path: string, reason: string) =>
  new ValidationError({ model: s.def.name, operation: node, path, reason })

const optionalBoolean = (s: Served, node: string, args: Json, name: string): Either.Either<boolean | undefined, ValidationError> => {
  const v = args[name]
  return v === undefined || typeof v === "boolean" ? Either.right(v) : Either.left(invalid(s, node, name, "expected a boolean"))
}

/** The untyped view of a model's nodes: `Model.make` puts `Nodes.make`'s functions on the model. */
const nodes = <R>(s: Served): Partial<Nodes<R>> => s.model as unknown as Partial<Nodes<R>>

const idOf = (s: Served, node: string, args: Json) =>
  args.id === undefined ? Effect.fail(invalid(s, node, s.def.pk.field, "missing")) : Json.decodeId(s.model, args.id)

const rowsOf = (s: Served, node: string, rows: unknown): Either.Either<ReadonlyArray<unknown>, ValidationError> => {
  if (!Array.isArray(rows)) return Either.left(invalid(s, node, "rows", "expected an array of rows"))
  if (rows.length > s.maxRows) return Either.left(invalid(s, node, "rows", `at most ${s.maxRows} rows in one call`))
  const out: Array<unknown> = []
  for (let i = 0; i < rows.length; i++) {
    const row = decodeRow(s.def, rows[i], node, i)
    if (Either.isLeft(row)) return Either.left(row.left)
    out.push(row.right)
  }
  return Either.right(out)
}

const listQuery = (s: Served, args: Json) =>
  Effect.gen(function*() {
    const node = "list"
    for (const key of Object.keys(args)) {
      if (!["where", "orderBy", "limit", "offset", "cursor", "select", "total", "includeDeleted"].includes(key)) {
        return yield* invalid(s, node, key, "unknown query option")
      }
    }
    const limit = args.limit ?? s.defaultLimit
    if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0) {
      return yield* invalid(s, node, "limit", "expected a non-negative integer")
    }
    if (limit > s.maxLimit) return yield* invalid(s, node, "limit", `at most ${s.maxLimit}`)
    const badOrder = checkFields(s, node, "orderBy", args.orderBy) ?? checkFields(s, node, "select", args.select)
    if (badOrder !== undefined) return yield* badOrder
    const where = yield* filterOf(s, node, args.where)
    const query: Json = { ...args, limit }
    if (where === undefined) delete query.where
    else query.where = where
    return query
  })

/**
 * Runs a served node with JSON arguments; its result as JSON. The caller provides the tenant
 * (tenant-scoped models) and checks that the node is exposed.
 * @internal
 */
export const invoke = <R>(s: Served, node: NodeName, input: unknown): Effect.Effect<unknown, unknown, R> =>
  Effect.gen(function*() {
    const n = nodes<R>(s)
    const missing = () => new MalformedRequest({ part: node, reason: "the model has no such node" })
    if (node === "create") {
      const record = yield* Json.decodeCreate(s.model, input)
      if (n.create === undefined) return yield* missing()
      return encodeRecord(s, yield* n.create(record))
    }
    const args = yield* argsOf(s, node, input)
    switch (node) {
      case "read": {
        const id = yield* idOf(s, node, args)
        const includeDeleted = yield* optionalBoolean(s, node, args, "includeDeleted")
        if (n.read === undefined) return yield* missing()
        return encodeRecord(s, yield* n.read(id, includeDeleted === undefined ? {} : { includeDeleted }))
      }
      case "update": {
        const id = yield* idOf(s, node, args)
        const patch = yield* Json.decodePatch(s.model, args.patch ?? {})
        const expected = args.expectedVersion
        if (expected !== undefined && (typeof expected !== "number" || !Number.isSafeInteger(expected))) {
          return yield* invalid(s, node, "expectedVersion", "expected an integer")
        }
        if (n.update === undefined) return yield* missing()
        return encodeRecord(s, yield* n.update(id, patch, expected === undefined ? {} : { expectedVersion: expected }))
      }
      case "delete": {
        const id = yield* idOf(s, node, args)
        if (n.delete === undefined) return yield* missing()
        const { deleted } = yield* n.delete(id)
        if (!deleted) return yield* new NotFound({ model: s.def.name, operation: node, id: typeof id === "number" ? id : String(id) })
        return { deleted }
      }
      case "restore": {
        const id = yield* idOf(s, node, args)
        if (n.restore === undefined) return yield* missing()
        return yield* n.restore(id)
      }
      case "list": {
        const query = yield* listQuery(s, args)
        if (n.list === undefined) return yield* missing()
        const result = yield* n.list(query)
        return {
          records: result.records.map((r) => encodeRecord(s, r)),
          ...(result.nextCursor === undefined ? {} : { nextCursor: result.nextCursor }),
          ...(result.total === undefined ? {} : { total: result.total })
        }
      }
      case "count": {
        const where = yield* filterOf(s, node, args.where)
        const includeDeleted = yield* optionalBoolean(s, node, args, "includeDeleted")
        if (n.count === undefined) return yield* missing()
        return { count: yield* n.count(where, includeDeleted === undefined ? {} : { includeDeleted }) }
      }
      case "upsert": {
        if (!isObject(args.where)) return yield* invalid(s, node, "where", "expected an object")
        const where = yield* filterOf(s, node, args.where)
        const create = yield* Json.decodeCreate(s.model, { ...(isObject(args.create) ? args.create : {}), ...args.where })
        const update = args.update === undefined ? undefined : yield* Json.decodePatch(s.model, args.update)
        if (n.upsert === undefined) return yield* missing()
        const { record, created } = yield* n.upsert(update === undefined ? { where, create } : { where, create, update })
        return { record: encodeRecord(s, record), created }
      }
      case "bulkCreate": {
        const rows = yield* rowsOf(s, node, args.rows)
        const returnRecords = yield* optionalBoolean(s, node, args, "returnRecords")
        if (n.bulkCreate === undefined) return yield* missing()
        const result = yield* n.bulkCreate(rows, returnRecords === true ? { returnRecords } : {})
        return "records" in result && Array.isArray(result.records)
          ? { inserted: result.inserted, records: result.records.map((r) => encodeRecord(s, r)) }
          : { inserted: result.inserted }
      }
      case "bulkUpdate": {
        const where = yield* filterOf(s, node, args.where ?? {})
        const patch = yield* Json.decodePatch(s.model, args.patch ?? {})
        const confirm = yield* optionalBoolean(s, node, args, "confirm")
        if (n.bulkUpdate === undefined) return yield* missing()
        return yield* n.bulkUpdate(where, patch, confirm === undefined ? {} : { confirm })
      }
      case "bulkDelete": {
        const where = yield* filterOf(s, node, args.where ?? {})
        const confirm = yield* optionalBoolean(s, node, args, "confirm")
        if (n.bulkDelete === undefined) return yield* missing()
        return yield* n.bulkDelete(where, confirm === undefined ? {} : { confirm })
      }
      case "bulkUpsert": {
        const rows = yield* rowsOf(s, node, args.rows)
        const conflictOn = args.conflictOn
        if (conflictOn !== undefined && (!Array.isArray(conflictOn) || conflictOn.some((f) => typeof f !== "string"))) {
          return yield* invalid(s, node, "conflictOn", "expected an array of field names")
        }
        if (n.bulkUpsert === undefined) return yield* missing()
        return yield* n.bulkUpsert(rows, conflictOn === undefined ? {} : { conflictOn: conflictOn as ReadonlyArray<string> })
      }
    }
  })
