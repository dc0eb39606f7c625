/**
 * Node calls as data, both ways: a node's arguments as a reference {@link Call} (what the
 * reference layer runs instead of the nodes), and a Call made on a model's nodes (what the
 * model-based runner does on the database), with the answers in one shape.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ValidationError } from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import { validation } from "../model/validate.js"
import type { Call } from "./reference.js"

type Options = Record<string, unknown>

/** A node the reference does not run (or an option of one it does not model). @internal */
export interface Unsupported {
  readonly _tag: "Unsupported"
  readonly what: string
}

const unsupported = (what: string): Unsupported => ({ _tag: "Unsupported", what })

/** How the reference's answer becomes the node's: Options for the finding nodes. @internal */
export type Answer = "value" | "option" | "first"

/** A node call's arguments as a reference call, with how to shape the answer. @internal */
export type FromNode =
  | { readonly _tag: "Call"; readonly call: Call; readonly answer: Answer }
  | Unsupported
  | { readonly _tag: "Invalid"; readonly error: ValidationError }

const isOptions = (u: unknown): u is Options | undefined =>
  u === undefined || (typeof u === "object" && u !== null && !Array.isArray(u))

const opt = (o: Options | undefined, key: string) => (o === undefined ? undefined : o[key])
const flag = (o: Options | undefined, key: string) => (opt(o, key) === true ? { [key]: true } : {})
const given = (o: Options | undefined, key: string) => (opt(o, key) === undefined ? {} : { [key]: opt(o, key) })

/** The options arguments of each node (index, name), guarded as the nodes guard them. */
const optionArgs: Record<string, ReadonlyArray<readonly [number, string]>> = {
  read: [[1, "options"]],
  find: [[1, "options"]],
  readBy: [[1, "options"]],
  findBy: [[1, "options"]],
  list: [[0, "query"]],
  findFirst: [[1, "options"]],
  count: [[1, "options"]],
  exists: [[1, "options"]],
  update: [[2, "options"]],
  bulkDelete: [[1, "options"]],
  createIgnore: [[1, "options"]],
  bulkCreate: [[1, "options"]],
  bulkUpsert: [[1, "options"]]
}

const call = (c: Call, answer: Answer = "value"): FromNode => ({ _tag: "Call", call: c, answer })

/**
 * A node call's arguments as a reference call. Rows of a `bulkCreate` must be an array here (the
 * caller collects an iterable or a Stream first).
 * @internal
 */
export const fromNode = (def: ModelDefinition, node: string, args: ReadonlyArray<unknown>): FromNode => {
  for (const [index, name] of optionArgs[node] ?? []) {
    if (!isOptions(args[index])) return { _tag: "Invalid", error: validation(def, node, name, "expected an object") }
  }
  const [a, b, c] = args as [unknown, Options | undefined, Options | undefined]
  switch (node) {
    case "create":
      return call({ node, input: a })
    case "bulkCreate": {
      // onProgress is the caller's to run (an Effect): the reference tells it the counts
      const onProgress = opt(b, "onProgress")
      if (onProgress !== undefined && typeof onProgress !== "function") {
        return { _tag: "Invalid", error: validation(def, node, "onProgress", "expected a function") }
      }
      return call({ node, rows: a as ReadonlyArray<unknown>, ...flag(b, "returnRecords"), ...given(b, "onConflict"), ...given(b, "conflictOn") })
    }
    case "read":
    case "find":
      return call({ node, id: a, ...flag(b, "includeDeleted"), ...given(b, "include") }, node === "find" ? "option" : "value")
    case "readBy":
    case "findBy":
      return call({ node, key: a, ...flag(b, "includeDeleted") }, node === "findBy" ? "option" : "value")
    case "list":
      return call({ node, query: (a ?? {}) as Options })
    case "findFirst":
      return call({
        node: "list",
        query: { ...(b ?? {}), ...(a === undefined ? {} : { where: a }), limit: 1, ...(opt(b, "include") === undefined ? {} : { operation: "findFirst" }) }
      }, "first")
    case "count":
    case "exists":
      return call({ node, where: a, ...flag(b, "includeDeleted") })
    case "update":
      return call({ node, id: a, patch: b, ...(opt(c, "expectedVersion") === undefined ? {} : { expectedVersion: opt(c, "expectedVersion") }) })
    case "delete":
    case "restore":
      return call({ node, id: a })
    case "bulkUpdate":
      if (Array.isArray(a)) {
        if (!isOptions(b)) return { _tag: "Invalid", error: validation(def, node, "options", "expected an object") }
        return call({ node: "bulkUpdateItems", items: a, ...flag(b, "requireAll") })
      }
      if (!isOptions(c)) return { _tag: "Invalid", error: validation(def, node, "options", "expected an object") }
      return call({ node, where: a, patch: b, ...flag(c, "confirm") })
    case "bulkDelete":
      return call({ node, where: a, ...flag(b, "confirm") })
    case "upsert":
      return call({ node, args: a as Extract<Call, { node: "upsert" }>["args"] })
    case "createIgnore":
      return call({ node, input: a, ...(opt(b, "conflictOn") === undefined ? {} : { conflictOn: opt(b, "conflictOn") }) })
    case "bulkUpsert":
      return call({
        node,
        rows: a as ReadonlyArray<unknown>,
        ...(opt(b, "conflictOn") === undefined ? {} : { conflictOn: opt(b, "conflictOn") }),
        ...flag(b, "returnRecords")
      })
    case "aggregate":
      return call({ node, query: a })
    default:
      return unsupported(node)
  }
}

/** The reference's answer in the shape the node returns. @internal */
export const toNodeAnswer = (answer: Answer, value: unknown): unknown =>
  answer === "option"
    ? Option.fromNullable(value)
    : answer === "first"
    ? Option.fromNullable((value as { readonly records: ReadonlyArray<unknown> }).records[0])
    : value

/** A model's nodes by name, untyped (as `Model.make` puts them on the model). @internal */
export type NodeFunctions<R> = {
  readonly [node: string]: ((...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown, R>) | undefined
}

const includeDeleted = (c: { readonly includeDeleted?: boolean }) => (c.includeDeleted === true ? { includeDeleted: true } : {})

/**
 * Makes a Call on a model's nodes; the answer in the reference's shape (a found record or
 * undefined, never an Option).
 * @internal
 */
export const onNodes = <R>(nodes: NodeFunctions<R>, c: Call): Effect.Effect<unknown, unknown, R> => {
  const node = (name: string) => {
    const f = nodes[name]
    if (f === undefined) throw new TypeError(`the model has no node ${name}`)
    return f
  }
  const optional = (e: Effect.Effect<unknown, unknown, R>) => Effect.map(e, (o) => Option.getOrUndefined(o as Option.Option<unknown>))
  switch (c.node) {
    case "create":
      return node("create")(c.input)
    case "bulkCreate": {
      const onProgress = c.onProgress
      return node("bulkCreate")(c.rows, {
        ...(c.returnRecords === true ? { returnRecords: true } : {}),
        ...(c.onConflict === undefined ? {} : { onConflict: c.onConflict }),
        ...(c.conflictOn === undefined ? {} : { conflictOn: c.conflictOn }),
        ...(onProgress === undefined ? {} : { onProgress: (n: number) => Effect.sync(() => onProgress(n)) })
      })
    }
    case "read":
      return node("read")(c.id, { ...includeDeleted(c), ...(c.include === undefined ? {} : { include: c.include }) })
    case "find":
      return optional(node("find")(c.id, { ...includeDeleted(c), ...(c.include === undefined ? {} : { include: c.include }) }))
    case "readBy":
      return node("readBy")(c.key, includeDeleted(c))
    case "findBy":
      return optional(node("findBy")(c.key, includeDeleted(c)))
    case "update":
      return node("update")(c.id, c.patch, c.expectedVersion === undefined ? {} : { expectedVersion: c.expectedVersion })
    case "delete":
    case "restore":
      return node(c.node)(c.id)
    case "bulkUpdate":
      return node("bulkUpdate")(c.where, c.patch, { confirm: c.confirm === true })
    case "bulkDelete":
      return node("bulkDelete")(c.where, { confirm: c.confirm === true })
    case "list":
      return node("list")(c.query)
    case "count":
    case "exists":
      return node(c.node)(c.where === undefined ? {} : c.where, includeDeleted(c))
    case "upsert":
      return node("upsert")(c.args)
    case "createIgnore":
      return node("createIgnore")(c.input, c.conflictOn === undefined ? {} : { conflictOn: c.conflictOn })
    case "bulkUpsert":
      return node("bulkUpsert")(c.rows, {
        ...(c.conflictOn === undefined ? {} : { conflictOn: c.conflictOn }),
        ...(c.returnRecords === true ? { returnRecords: true } : {})
      })
    case "bulkUpdateItems":
      return node("bulkUpdate")(c.items, c.requireAll === true ? { requireAll: true } : {})
    case "aggregate":
      return node("aggregate")(c.query)
  }
}

/** Is this a Stream (of bulkCreate rows)? @internal */
export const isStream = (u: unknown): u is Stream.Stream<unknown, unknown, unknown> =>
  typeof u === "object" && u !== null && Stream.StreamTypeId in u
