/**
 * The served nodes of a model: each takes its arguments as JSON (what an HTTP request or an
 * MCP tool call carries), decodes them with the `Json` module's decoders, checks the serving
 * rules (exposed fields only, relations to served models only, the page ceiling) — `prepare`,
 * before anything runs, which also says what models the relations reach — then calls the
 * model's node and gives its result as JSON (`Json.encode`, hidden fields left out). HTTP and
 * MCP both call these: one behaviour, one wording of errors.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { NotFound, ValidationError } from "../../Errors.js"
import * as Json from "../../Json.js"
import type * as Model from "../../Model.js"
import type { ModelDefinition } from "../model/definition.js"
import { definitionOf } from "../model/definition.js"
import { decodeCreate as decodeRow } from "../model/json.js"
import type { Nodes } from "../nodes/index.js"
import { idOf as idText } from "../nodes/shared.js"
import { checkGroups, encodeAggregate, prepareAggregate } from "./aggregate.js"
import { MalformedRequest } from "./errors.js"
import type { At } from "./relations.js"
import { checkFields, encodeIncluded, encodeOwn, prepareFilter, prepareInclude } from "./relations.js"

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
  "bulkUpsert",
  "aggregate"
] as const

/** @internal */
export type NodeName = typeof nodeNames[number]

/** What `"read"` exposes: the reading nodes but `aggregate` (a full scan; opt in to it). @internal */
export const readNodes: ReadonlyArray<NodeName> = ["read", "list", "count"]

/** The nodes that change nothing (MCP's read-only hint). @internal */
export const readOnlyNodes: ReadonlyArray<NodeName> = [...readNodes, "aggregate"]

/** Which nodes a model has (append-only models have no mutations; `restore` needs soft delete). @internal */
export const nodesOf = (def: ModelDefinition): ReadonlyArray<NodeName> =>
  nodeNames.filter((n) =>
    def.appendOnly
      ? n === "create" || n === "bulkCreate" || readOnlyNodes.includes(n)
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
  /** Every served model of the api (or MCP server), by definition: the targets relations may reach. */
  readonly peers: ReadonlyMap<ModelDefinition, Served>
}

/** How one model is served (the options of `DataFlowHttp.api` / `DataFlowMcp` for it). @internal */
export interface ServeOptions {
  readonly expose: "read" | "all" | ReadonlyArray<string>
  readonly hidden: ReadonlyArray<string>
  readonly maxLimit: number
  readonly defaultLimit: number
  readonly maxRows: number
}

/**
 * The node arguments a composite key's fields sit beside (a served call takes the key's fields
 * as arguments of their own): a key field of one of these names cannot be served.
 */
const keyArgumentClashes = ["id", "patch", "expectedVersion", "includeDeleted", "include"]

/** Served settings of a model from the options, checked (`peers`: every served model, filled by the caller). */
const served = (model: Model.Any, options: ServeOptions, peers: ReadonlyMap<ModelDefinition, Served>): Served => {
  const def = definitionOf(model)
  const available = nodesOf(def)
  const wanted = options.expose === "all" ? available : options.expose === "read" ? readNodes : options.expose
  for (const n of wanted) {
    if (!available.includes(n as NodeName)) throw new Error(`${def.name} has no node ${JSON.stringify(n)} to expose`)
  }
  for (const f of options.hidden) {
    if (!def.byField.has(f)) throw new Error(`${def.name} has no field ${JSON.stringify(f)} to hide`)
    if (def.key.some((c) => c.field === f)) {
      throw new Error(`${def.name}: the primary key cannot be hidden (${JSON.stringify(f)} is a field of it)`)
    }
  }
  const clash = def.compositeKey ? def.key.find((c) => keyArgumentClashes.includes(c.field)) : undefined
  if (clash !== undefined) {
    throw new Error(`${def.name}: the key field ${JSON.stringify(clash.field)} is also the name of a node argument; it cannot be served`)
  }
  return {
    model,
    def,
    nodes: new Set(wanted as ReadonlyArray<NodeName>),
    hidden: new Set(options.hidden),
    maxLimit: options.maxLimit,
    defaultLimit: Math.min(options.defaultLimit, options.maxLimit),
    maxRows: options.maxRows,
    peers
  }
}

/**
 * The served settings of a set of models, each knowing the others (relations reach only
 * served models). Throws on a model name the options name but the set lacks.
 * @internal
 */
export const servedAll = (
  models: ReadonlyArray<Model.Any>,
  options: {
    readonly expose?: Readonly<Record<string, "read" | "all" | ReadonlyArray<string>>> | undefined
    readonly hidden?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
    readonly maxLimit?: number | undefined
    readonly defaultLimit?: number | undefined
    readonly maxRows?: number | undefined
  },
  owner: string
): ReadonlyArray<Served> => {
  const names = new Set(models.map((m) => m.name))
  for (const key of [...Object.keys(options.expose ?? {}), ...Object.keys(options.hidden ?? {})]) {
    if (!names.has(key)) throw new Error(`${owner}: no model named ${JSON.stringify(key)}`)
  }
  const peers = new Map<ModelDefinition, Served>()
  const all = models.map((model) =>
    served(model, {
      expose: options.expose?.[model.name] ?? "read",
      hidden: options.hidden?.[model.name] ?? [],
      maxLimit: options.maxLimit ?? 1000,
      defaultLimit: options.defaultLimit ?? 100,
      maxRows: options.maxRows ?? 10_000
    }, peers)
  )
  for (const s of all) peers.set(s.def, s)
  return all
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
export const encodeRecord = (s: Served, record: unknown): Json => encodeOwn(s, record)

const invalid = (s: Served, node: string, path: string, reason: string) =>
  new ValidationError({ model: s.def.name, operation: node, path, reason })

const optionalBoolean = (s: Served, node: string, args: Json, name: string): Either.Either<boolean | undefined, ValidationError> => {
  const v = args[name]
  return v === undefined || typeof v === "boolean" ? Either.right(v) : Either.left(invalid(s, node, name, "expected a boolean"))
}

/** The untyped view of a model's nodes: `Model.make` puts `Nodes.make`'s functions on the model. */
const nodes = <R>(s: Served): Partial<Nodes<R>> => s.model as unknown as Partial<Nodes<R>>

/**
 * The argument names of a model's key: `id`, or a composite key's fields (each an argument of
 * its own, in key order). @internal
 */
export const keyArguments = (def: ModelDefinition): ReadonlyArray<string> =>
  def.compositeKey ? def.key.map((c) => c.field) : ["id"]

/** The key of a call, decoded: `id`, or the composite key's fields, each decoded as its field. */
const keyOf = (s: Served, node: string, args: Json) => {
  if (!s.def.compositeKey) {
    return args.id === undefined ? Effect.fail(invalid(s, node, s.def.pk.field, "missing")) : Json.decodeId(s.model, args.id)
  }
  return Json.decodeId(s.model, Object.fromEntries(s.def.key.map((c) => [c.field, args[c.field]])))
}

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

/**
 * A call being prepared: its model and node (the errors' names) and the served models its
 * relations reach (the caller authorises them and provides their tenant).
 */
interface Call {
  readonly s: Served
  readonly at: At
  readonly reached: Set<Served>
}

const filterOf = (call: Call, where: unknown, path = "where") =>
  where === undefined ? Effect.succeed(undefined) : prepareFilter(call.at, call.s, where, call.reached, path === "where" ? "" : path)

const includeOf = (call: Call, include: unknown) =>
  include === undefined ? Effect.succeed(undefined) : prepareInclude(call.at, call.s, include, call.reached)

const listKeys = ["where", "orderBy", "limit", "offset", "cursor", "select", "total", "includeDeleted", "include"]

const listQuery = (call: Call, args: Json) =>
  Effect.gen(function*() {
    const { s, at } = call
    const node = "list"
    const unknown = Object.keys(args).find((key) => !listKeys.includes(key))
    if (unknown !== undefined) return yield* invalid(s, node, unknown, "unknown query option")
    const limit = args.limit ?? s.defaultLimit
    if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0) {
      return yield* invalid(s, node, "limit", "expected a non-negative integer")
    }
    if (limit > s.maxLimit) return yield* invalid(s, node, "limit", `at most ${s.maxLimit}`)
    const badOrder = checkFields(at, s, "orderBy", args.orderBy) ?? checkFields(at, s, "select", args.select)
    if (badOrder !== undefined) return yield* badOrder
    const where = yield* filterOf(call, args.where)
    const include = yield* includeOf(call, args.include)
    const query: Json = { ...args, limit }
    if (where === undefined) delete query.where
    else query.where = where
    if (include === undefined) delete query.include
    else query.include = include.value
    return { query, include }
  })

/**
 * A served call, prepared: its arguments decoded and checked (nothing has run), the served
 * models its relations reach, and the node's run giving JSON.
 * @internal
 */
export interface Prepared<R> {
  readonly reached: ReadonlySet<Served>
  readonly run: Effect.Effect<unknown, unknown, R>
}

const missing = (node: string) => new MalformedRequest({ part: node, reason: "the model has no such node" })

/**
 * Decodes a served node's JSON arguments and checks them against the serving rules; the run
 * of the node, its result as JSON. The caller provides the tenant (of the model and of every
 * reached tenant-scoped model) and checks that the node is exposed.
 * @internal
 */
export const prepare = <R>(s: Served, node: NodeName, input: unknown): Effect.Effect<Prepared<R>, unknown> =>
  Effect.gen(function*() {
    const call: Call = { s, at: { model: s.def.name, operation: node }, reached: new Set() }
    const run = yield* runOf<R>(call, node, input)
    return { reached: call.reached, run }
  })

/** The run of a node after its arguments are decoded: the reading nodes. */
const runOf = <R>(call: Call, node: NodeName, input: unknown): Effect.Effect<Effect.Effect<unknown, unknown, R>, unknown> =>
  Effect.gen(function*() {
    const { s } = call
    const n = nodes<R>(s)
    if (node === "create") {
      const record = yield* Json.decodeCreate(s.model, input)
      if (n.create === undefined) return yield* missing(node)
      return Effect.map(n.create(record), (r) => encodeRecord(s, r))
    }
    const args = yield* argsOf(s, node, input)
    switch (node) {
      case "read": {
        const id = yield* keyOf(s, node, args)
        const includeDeleted = yield* optionalBoolean(s, node, args, "includeDeleted")
        const known = [...keyArguments(s.def), "includeDeleted", "include"]
        const unknown = Object.keys(args).find((k) => !known.includes(k))
        if (unknown !== undefined) return yield* invalid(s, node, unknown, "unknown option")
        const include = yield* includeOf(call, args.include)
        if (n.read === undefined) return yield* missing(node)
        const options = {
          ...(includeDeleted === undefined ? {} : { includeDeleted }),
          ...(include === undefined ? {} : { include: include.value })
        }
        return Effect.map(n.read(id, options), (r) => encodeIncluded(s, r, include))
      }
      case "list": {
        const { include, query } = yield* listQuery(call, args)
        if (n.list === undefined) return yield* missing(node)
        return Effect.map(n.list(query), (result) => ({
          records: result.records.map((r) => encodeIncluded(s, r, include)),
          ...(result.nextCursor === undefined ? {} : { nextCursor: result.nextCursor }),
          ...(result.total === undefined ? {} : { total: result.total })
        }))
      }
      case "count": {
        const where = yield* filterOf(call, args.where)
        const includeDeleted = yield* optionalBoolean(s, node, args, "includeDeleted")
        if (n.count === undefined) return yield* missing(node)
        return Effect.map(n.count(where, includeDeleted === undefined ? {} : { includeDeleted }), (count) => ({ count }))
      }
      case "aggregate": {
        const prepared = yield* prepareAggregate(call.at, s, s.maxLimit, args, call.reached)
        if (n.aggregate === undefined) return yield* missing(node)
        return Effect.flatMap(n.aggregate(prepared.query), (output) => {
          const tooMany = checkGroups(call.at, prepared, output)
          return tooMany === undefined ? Effect.succeed(encodeAggregate(s, output)) : Effect.fail(tooMany)
        })
      }
      default:
        return yield* writeOf<R>(call, node, args)
    }
  })

/** The run of a writing node after its arguments are decoded. */
const writeOf = <R>(call: Call, node: NodeName, args: Json): Effect.Effect<Effect.Effect<unknown, unknown, R>, unknown> =>
  Effect.gen(function*() {
    const { s } = call
    const n = nodes<R>(s)
    switch (node) {
      case "update": {
        const id = yield* keyOf(s, node, args)
        const patch = yield* Json.decodePatch(s.model, args.patch ?? {})
        const expected = args.expectedVersion
        if (expected !== undefined && (typeof expected !== "number" || !Number.isSafeInteger(expected))) {
          return yield* invalid(s, node, "expectedVersion", "expected an integer")
        }
        if (n.update === undefined) return yield* missing(node)
        return Effect.map(n.update(id, patch, expected === undefined ? {} : { expectedVersion: expected }), (r) => encodeRecord(s, r))
      }
      case "delete": {
        const id = yield* keyOf(s, node, args)
        if (n.delete === undefined) return yield* missing(node)
        return Effect.flatMap(n.delete(id), ({ deleted }) =>
          deleted
            ? Effect.succeed({ deleted })
            : Effect.fail(new NotFound({ model: s.def.name, operation: node, id: idText(id) })))
      }
      case "restore": {
        const id = yield* keyOf(s, node, args)
        if (n.restore === undefined) return yield* missing(node)
        return n.restore(id)
      }
      case "upsert": {
        if (!isObject(args.where)) return yield* invalid(s, node, "where", "expected an object")
        const where = yield* filterOf(call, args.where)
        const create = yield* Json.decodeCreate(s.model, { ...(isObject(args.create) ? args.create : {}), ...args.where })
        const update = args.update === undefined ? undefined : yield* Json.decodePatch(s.model, args.update)
        if (n.upsert === undefined) return yield* missing(node)
        return Effect.map(
          n.upsert(update === undefined ? { where, create } : { where, create, update }),
          ({ created, record }) => ({ record: encodeRecord(s, record), created })
        )
      }
      case "bulkCreate": {
        const rows = yield* rowsOf(s, node, args.rows)
        const returnRecords = yield* optionalBoolean(s, node, args, "returnRecords")
        if (n.bulkCreate === undefined) return yield* missing(node)
        return Effect.map(n.bulkCreate(rows, returnRecords === true ? { returnRecords } : {}), (result) =>
          "records" in result && Array.isArray(result.records)
            ? { inserted: result.inserted, records: result.records.map((r) => encodeRecord(s, r)) }
            : { inserted: result.inserted })
      }
      case "bulkUpdate": {
        const where = yield* filterOf(call, args.where ?? {})
        const patch = yield* Json.decodePatch(s.model, args.patch ?? {})
        const confirm = yield* optionalBoolean(s, node, args, "confirm")
        if (n.bulkUpdate === undefined) return yield* missing(node)
        return n.bulkUpdate(where, patch, confirm === undefined ? {} : { confirm })
      }
      case "bulkDelete": {
        const where = yield* filterOf(call, args.where ?? {})
        const confirm = yield* optionalBoolean(s, node, args, "confirm")
        if (n.bulkDelete === undefined) return yield* missing(node)
        return n.bulkDelete(where, confirm === undefined ? {} : { confirm })
      }
      case "bulkUpsert": {
        const rows = yield* rowsOf(s, node, args.rows)
        const conflictOn = args.conflictOn
        if (conflictOn !== undefined && (!Array.isArray(conflictOn) || conflictOn.some((f) => typeof f !== "string"))) {
          return yield* invalid(s, node, "conflictOn", "expected an array of field names")
        }
        if (n.bulkUpsert === undefined) return yield* missing(node)
        return n.bulkUpsert(rows, conflictOn === undefined ? {} : { conflictOn: conflictOn as ReadonlyArray<string> })
      }
      default:
        return yield* missing(node)
    }
  })
