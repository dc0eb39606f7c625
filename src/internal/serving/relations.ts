/**
 * Relations of served models: `include` and relation filters from JSON, checked against what
 * the api serves, and included records written as JSON. A relation is usable only when its
 * target model is served with `list` exposed (an include or a relation filter reads the
 * target's records as its `list` would); any other relation is refused with the wording of an
 * unknown one, so the api never tells what it does not serve. At every depth the current
 * model's hidden fields are refused in filters, orders and projections and left out of
 * records; values are decoded and encoded with each model's own codecs.
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { InvalidFilter, ValidationError } from "../../Errors.js"
import { limits } from "../../Filter.js"
import * as Json from "../../Json.js"
import type * as Model from "../../Model.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import { declaredOf, relation } from "../model/relations.js"

/** What relations need to know of a served model (`operations.ts`'s `Served`). @internal */
export interface ServedModel {
  readonly model: Model.Any
  readonly def: ModelDefinition
  readonly nodes: ReadonlySet<string>
  readonly hidden: ReadonlySet<string>
  /** Every served model of the api (or MCP server), by definition. */
  readonly peers: ReadonlyMap<ModelDefinition, ServedModel>
}

/** A relation whose target is served with `list`. @internal */
export interface ServedRelation<S extends ServedModel> {
  readonly relation: Relation
  readonly target: S
}

/** Where a request came from: the model and node of the call, for the errors' names. @internal */
export interface At {
  readonly model: string
  readonly operation: string
}

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`)

/**
 * A relation of a served model by name, if its target is served with `list`; `undefined` for
 * anything else (not a relation, a relation that cannot be resolved, a target not served).
 * @internal
 */
export const servedRelation = <S extends ServedModel>(s: S, name: string): ServedRelation<S> | undefined => {
  const resolved = relation(s.def, name, "serve")
  if (resolved === undefined || Either.isLeft(resolved)) return undefined
  const target = s.peers.get(resolved.right.target)
  return target === undefined || !target.nodes.has("list") ? undefined : { relation: resolved.right, target: target as S }
}

/** The relations of a served model whose targets are served with `list`. @internal */
export const servedRelations = <S extends ServedModel>(s: S): ReadonlyArray<ServedRelation<S>> =>
  [...declaredOf(s.def).keys()].flatMap((name) => {
    const r = servedRelation(s, name)
    return r === undefined ? [] : [r]
  })

/** Whether a relation loads (and filters) as a list: has-many, many-to-many. @internal */
export const isMany = (r: Relation) => r.kind === "hasMany" || r.kind === "manyToMany"

const badFilter = (at: At, path: string, reason: string) =>
  new InvalidFilter({ model: at.model, operation: at.operation, path, reason })

/** A level's own-field conditions decoded with its model's codecs; errors at the full path. */
const decodeOwn = (at: At, s: ServedModel, own: Json, path: string) =>
  Object.keys(own).length === 0
    ? Effect.succeed({})
    : Effect.mapError(
      Json.decodeFilter(s.model, own),
      (e) => badFilter(at, join(path, e.path), e.reason)
    )

/**
 * A filter from JSON for a served model: own fields decoded with the model's codecs, relation
 * keys with their target's (recursively), hidden fields and relations to models not served
 * refused as unknown fields. Adds every model a relation key reaches to `reached`. The node
 * checks the whole filter again when it runs.
 * @internal
 */
export const prepareFilter = <S extends ServedModel>(
  at: At,
  s: S,
  where: unknown,
  reached: Set<S>,
  path = "",
  depth = 0
): Effect.Effect<unknown, InvalidFilter> =>
  Effect.suspend((): Effect.Effect<unknown, InvalidFilter> => {
    if (!isObject(where)) return Effect.succeed(where)
    if (depth > limits.depth * 2) return Effect.fail(badFilter(at, path, `nested deeper than ${limits.depth * 2} levels`))
    const own: Json = {}
    const parts: Array<Effect.Effect<readonly [string, unknown], InvalidFilter>> = []
    for (const [key, value] of Object.entries(where)) {
      const keyPath = join(path, key)
      if (key === "$and" || key === "$or") {
        parts.push(
          Array.isArray(value)
            ? Effect.map(
              Effect.forEach(value, (v, i) => prepareFilter(at, s, v, reached, `${keyPath}[${i}]`, depth + 1)),
              (vs) => [key, vs] as const
            )
            : Effect.succeed([key, value] as const)
        )
      } else if (key === "$not") {
        parts.push(Effect.map(prepareFilter(at, s, value, reached, keyPath, depth + 1), (v) => [key, v] as const))
      } else if (s.hidden.has(key)) {
        return Effect.fail(badFilter(at, keyPath, "unknown field"))
      } else if (s.def.byField.has(key) || key.startsWith("$")) {
        own[key] = value
      } else {
        const related = servedRelation(s, key)
        if (related === undefined) return Effect.fail(badFilter(at, keyPath, "unknown field"))
        reached.add(related.target)
        parts.push(Effect.map(relationCondition(at, related, value, reached, keyPath, depth + 1), (v) => [key, v] as const))
      }
    }
    return Effect.map(
      Effect.all([decodeOwn(at, s, own, path), Effect.all(parts)]),
      ([decoded, rest]) => ({ ...(decoded as Json), ...Object.fromEntries(rest) })
    )
  })

/** A relation key's condition: a filter of the target, or `some` / `every` / `none` of one. */
const relationCondition = <S extends ServedModel>(
  at: At,
  related: ServedRelation<S>,
  value: unknown,
  reached: Set<S>,
  path: string,
  depth: number
): Effect.Effect<unknown, InvalidFilter> => {
  if (!isMany(related.relation)) return prepareFilter(at, related.target, value, reached, path, depth)
  if (!isObject(value)) return Effect.fail(badFilter(at, path, "expected an object of some, every or none"))
  const unknown = Object.keys(value).find((k) => k !== "some" && k !== "every" && k !== "none")
  if (unknown !== undefined) return Effect.fail(badFilter(at, join(path, unknown), "expected some, every or none"))
  const notFilter = Object.entries(value).find(([, v]) => !isObject(v))
  if (notFilter !== undefined) return Effect.fail(badFilter(at, join(path, notFilter[0]), "expected a filter of the related records"))
  return Effect.map(
    Effect.forEach(Object.entries(value), ([k, v]) =>
      Effect.map(prepareFilter(at, related.target, v, reached, join(path, k), depth), (d) => [k, d] as const)),
    Object.fromEntries
  )
}

const includeOptions = new Set(["where", "orderBy", "select", "limit", "include", "includeDeleted"])

const invalid = (at: At, path: string, reason: string) =>
  new ValidationError({ model: at.model, operation: at.operation, path, reason })

/** A list of field names (`-` in front allowed for an order) must not name a hidden field. @internal */
export const checkFields = (at: At, s: ServedModel, path: string, fields: unknown): ValidationError | undefined => {
  if (!Array.isArray(fields)) return undefined
  for (const f of fields) {
    const field = typeof f === "string" && f.startsWith("-") ? f.slice(1) : f
    if (typeof field === "string" && s.hidden.has(field)) return invalid(at, path, `unknown field ${JSON.stringify(field)}`)
  }
  return undefined
}

/** An include whose relations were checked: per relation name, the nested include (if any). @internal */
export interface PreparedInclude<S extends ServedModel> {
  readonly value: Json
  readonly relations: ReadonlyArray<{ readonly related: ServedRelation<S>; readonly nested: PreparedInclude<S> | undefined }>
}

/**
 * `include` from JSON for a served model: each relation one whose target is served (anything
 * else is "not a relation of the model"), its options checked (filters as
 * {@link prepareFilter}, orders and projections without hidden fields), nested includes the
 * same way. Adds every target to `reached`.
 * @internal
 */
export const prepareInclude = <S extends ServedModel>(
  at: At,
  s: S,
  include: unknown,
  reached: Set<S>,
  path = "include",
  depth = 0
): Effect.Effect<PreparedInclude<S>, ValidationError | InvalidFilter> =>
  Effect.gen(function*() {
    if (!isObject(include)) return yield* invalid(at, path, "expected an object of relation names")
    if (depth > limits.depth) return yield* invalid(at, path, `nested deeper than ${limits.depth} levels`)
    const value: Json = {}
    const relations: Array<PreparedInclude<S>["relations"][number]> = []
    for (const [name, option] of Object.entries(include)) {
      const relPath = join(path, name)
      if (option === undefined || option === false) continue
      const related = servedRelation(s, name)
      if (related === undefined) return yield* invalid(at, relPath, "not a relation of the model")
      reached.add(related.target)
      if (option === true) {
        value[name] = true
        relations.push({ related, nested: undefined })
        continue
      }
      if (!isObject(option)) return yield* invalid(at, relPath, "expected true or an object of options")
      const unknown = Object.keys(option).find((k) => !includeOptions.has(k))
      if (unknown !== undefined) return yield* invalid(at, join(relPath, unknown), "not an include option")
      const target = related.target
      for (const key of ["orderBy", "select"] as const) {
        const fields = option[key]
        if (fields !== undefined && (!Array.isArray(fields) || fields.some((f) => typeof f !== "string"))) {
          return yield* invalid(at, join(relPath, key), "expected an array of field names")
        }
        const bad = checkFields(at, target, join(relPath, key), fields)
        if (bad !== undefined) return yield* bad
      }
      if (option.includeDeleted !== undefined && typeof option.includeDeleted !== "boolean") {
        return yield* invalid(at, join(relPath, "includeDeleted"), "expected true or false")
      }
      const out: Json = { ...option }
      if (option.where !== undefined) out.where = yield* prepareFilter(at, target, option.where, reached, join(relPath, "where"))
      let nested: PreparedInclude<S> | undefined
      if (option.include !== undefined) {
        nested = yield* prepareInclude(at, target, option.include, reached, join(relPath, "include"), depth + 1)
        out.include = nested.value
      }
      value[name] = out
      relations.push({ related, nested })
    }
    return { value, relations }
  })

/** A record of a served model as JSON, hidden fields left out (relations not included). @internal */
export const encodeOwn = (s: ServedModel, record: unknown): Json => {
  const json = Json.encode(s.model, record as never)
  for (const f of s.hidden) delete json[f]
  return json
}

/**
 * A record with the relations an include loaded, as JSON: each related record written with its
 * own model's codec, its hidden fields left out, at every depth.
 * @internal
 */
export const encodeIncluded = <S extends ServedModel>(s: S, record: unknown, include: PreparedInclude<S> | undefined): Json => {
  const json = encodeOwn(s, record)
  if (include === undefined || !isObject(record)) return json
  for (const { nested, related } of include.relations) {
    const name = related.relation.name
    const value = record[name]
    json[name] = Array.isArray(value)
      ? value.map((r) => encodeIncluded(related.target, r, nested))
      : value === null || value === undefined
      ? null
      : encodeIncluded(related.target, value, nested)
  }
  return json
}
