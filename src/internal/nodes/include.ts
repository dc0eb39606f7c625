/**
 * `include` on the reading nodes: the related records of a page loaded with one statement per
 * relation (`WHERE key IN (…)`, chunked under the filter's limits: `keys.ts`), never one per record, then
 * routed to their parents. The related model's own `list` runs them, so its tenancy, soft
 * delete, instance and nested includes apply.
 * (Internal module: not part of the public API.)
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ConfigurationError, ValidationError } from "../../Errors.js"
import type { ListQuery, StreamQuery } from "../../Node.js"
import type { ModelDefinition } from "../model/definition.js"
import type { Relation } from "../model/relations.js"
import { relation } from "../model/relations.js"
import { isRecord } from "../model/validate.js"
import { keyFilters, valueText } from "./keys.js"
import * as Read from "./read.js"
import type { Row } from "./shared.js"
import { invalid } from "./shared.js"
import type { NodeErrors } from "./types.js"

type Include = Readonly<Record<string, unknown>>

/** A relation an `include` names, with its options. @internal */
export interface Planned {
  readonly relation: Relation
  readonly options: {
    readonly where?: unknown
    readonly orderBy?: ReadonlyArray<string>
    readonly select?: ReadonlyArray<string>
    readonly limit?: number
    readonly include?: Include
    readonly includeDeleted?: boolean
  }
}

type IncludeError = NodeErrors["list"] | ConfigurationError

const optionKeys = new Set(["where", "orderBy", "select", "limit", "include", "includeDeleted"])

/** The relations an `include` names, resolved and checked (the testing kit's reference checks with it too). @internal */
export const plan = (
  def: ModelDefinition,
  include: unknown,
  operation: string,
  path: string
): Either.Either<ReadonlyArray<Planned>, ValidationError | ConfigurationError> => {
  if (!isRecord(include)) return Either.left(invalid(def, operation, path, "expected an object of relation names"))
  const planned: Array<Planned> = []
  for (const [name, value] of Object.entries(include)) {
    if (value === undefined || value === false) continue
    const resolved = relation(def, name, operation)
    if (resolved === undefined) return Either.left(invalid(def, operation, `${path}.${name}`, "not a relation of the model"))
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    if (value !== true && !isRecord(value)) {
      return Either.left(invalid(def, operation, `${path}.${name}`, "expected true or an object of options"))
    }
    const options = value === true ? {} : value
    const unknown = Object.keys(options).find((k) => !optionKeys.has(k))
    if (unknown !== undefined) return Either.left(invalid(def, operation, `${path}.${name}.${unknown}`, "not an include option"))
    const limit = options.limit
    if (limit !== undefined && (!Number.isSafeInteger(limit) || (limit as number) < 0)) {
      return Either.left(invalid(def, operation, `${path}.${name}.limit`, "must be a non-negative integer"))
    }
    planned.push({ relation: resolved.right, options: options as Planned["options"] })
  }
  return Either.right(planned)
}

/** A key's values as one string: equal keys meet in a Map whatever their type. */
const keyOf = (record: Row, fields: ReadonlyArray<string>): string | undefined => {
  let key = ""
  for (const f of fields) {
    const v = record[f]
    if (v === null || v === undefined) return undefined
    key += valueText(v)
  }
  return key
}

const readNodes = new WeakMap<ModelDefinition, Read.ReadNodes<unknown>>()
/** The related model's reading nodes (with include: nested relations load the same way). */
const nodesOf = (def: ModelDefinition): Read.ReadNodes<unknown> => {
  let nodes = readNodes.get(def)
  if (nodes === undefined) readNodes.set(def, nodes = withIncludes(def, Read.make<unknown>(def)))
  return nodes
}

/** The distinct keys of `fields` in some records (records without one left out). */
const distinctKeys = (records: ReadonlyArray<Row>, fields: ReadonlyArray<string>) => {
  const keys = new Map<string, ReadonlyArray<unknown>>()
  for (const r of records) {
    const key = keyOf(r, fields)
    if (key !== undefined && !keys.has(key)) keys.set(key, fields.map((f) => r[f]))
  }
  return [...keys.values()]
}

/** Rows of a model whose `fields` hold one of `keys`: one list per filter of keys (one in practice). */
const rowsByKeys = (
  def: ModelDefinition,
  fields: ReadonlyArray<string>,
  keys: ReadonlyArray<ReadonlyArray<unknown>>,
  query: Omit<ListQuery<Row>, "where"> & { readonly where?: unknown; readonly include?: Include }
) => {
  const { where, ...rest } = query
  return Effect.map(
    Effect.forEach(keyFilters(fields, keys), (byKey) =>
      nodesOf(def).list({ ...rest, where: where === undefined ? byKey : { $and: [where, byKey] } } as ListQuery<Row>)),
    (pages) => pages.flatMap((p) => p.records)
  )
}

/**
 * Loads a many-to-many relation for a page: the junction rows of the parents' keys (one
 * statement), then the related records they name (one more), routed through the junction.
 */
const loadThrough = (records: ReadonlyArray<Row>, planned: Planned) => {
  const { relation: rel, options } = planned
  const through = rel.through!
  const select = options.select === undefined ? undefined : [...new Set([...options.select, ...rel.targetFields])]
  return Effect.gen(function*() {
    const links = yield* rowsByKeys(through.definition, through.sourceFields, distinctKeys(records, rel.sourceFields), {
      select: [...through.sourceFields, ...through.targetFields]
    })
    const related = yield* rowsByKeys(rel.target, rel.targetFields, distinctKeys(links, through.targetFields), {
      ...(options.where === undefined ? {} : { where: options.where }),
      ...(options.orderBy === undefined ? {} : { orderBy: options.orderBy }),
      ...(select === undefined ? {} : { select }),
      ...(options.include === undefined ? {} : { include: options.include }),
      ...(options.includeDeleted === undefined ? {} : { includeDeleted: options.includeDeleted })
    })
    const parentsOf = new Map<string, Array<string>>()
    for (const link of links) {
      const target = keyOf(link, through.targetFields)
      const source = keyOf(link, through.sourceFields)
      if (target === undefined || source === undefined) continue
      const list = parentsOf.get(target)
      if (list === undefined) parentsOf.set(target, [source])
      else list.push(source)
    }
    const byKey = new Map<string, Array<Row>>()
    for (const row of related) {
      const out = select === undefined || options.select!.length === select.length
        ? row
        : Object.fromEntries(Object.entries(row).filter(([f]) => options.select!.includes(f) || !rel.targetFields.includes(f)))
      for (const parent of parentsOf.get(keyOf(row, rel.targetFields)!) ?? []) {
        const list = byKey.get(parent)
        if (list === undefined) byKey.set(parent, [out])
        else list.push(out)
      }
    }
    return byKey
  })
}

/** Loads one relation for a page of parent records: one statement per filter of distinct keys. */
const loadRelation = (records: ReadonlyArray<Row>, planned: Planned) => {
  const { relation: rel, options } = planned
  if (rel.through !== undefined) return loadThrough(records, planned)
  const select = options.select === undefined
    ? undefined
    : [...new Set([...options.select, ...rel.targetFields])]
  return Effect.map(
    rowsByKeys(rel.target, rel.targetFields, distinctKeys(records, rel.sourceFields), {
      ...(options.where === undefined ? {} : { where: options.where }),
      ...(options.orderBy === undefined ? {} : { orderBy: options.orderBy }),
      ...(select === undefined ? {} : { select }),
      ...(options.include === undefined ? {} : { include: options.include }),
      ...(options.includeDeleted === undefined ? {} : { includeDeleted: options.includeDeleted })
    }),
    (rows) => {
      const byKey = new Map<string, Array<Row>>()
      for (const row of rows) {
        const key = keyOf(row, rel.targetFields)!
        const stripped = select === undefined || options.select!.length === select.length
          ? row
          : Object.fromEntries(Object.entries(row).filter(([f]) => options.select!.includes(f) || !rel.targetFields.includes(f)))
        const list = byKey.get(key)
        if (list === undefined) byKey.set(key, [stripped])
        else list.push(stripped)
      }
      return byKey
    }
  )
}

/**
 * The records of a page with the relations `include` names attached (new objects). What the
 * related models' nodes require is theirs (`unknown` here); the public node types add it
 * (`Relation.IncludeRequirements`).
 * @internal
 */
export const attach = (
  def: ModelDefinition,
  records: ReadonlyArray<Row>,
  include: unknown,
  operation: string
): Effect.Effect<ReadonlyArray<Row>, IncludeError, unknown> => {
  const planned = plan(def, include, operation, "include")
  if (Either.isLeft(planned)) return Effect.fail(planned.left)
  if (planned.right.length === 0 || records.length === 0) return Effect.succeed(records)
  return Effect.map(
    Effect.forEach(planned.right, (p) => loadRelation(records, p), { concurrency: "unbounded" }),
    (loaded) =>
      records.map((record) => {
        const out: Row = { ...record }
        planned.right.forEach((p, i) => {
          const key = keyOf(record, p.relation.sourceFields)
          const related = key === undefined ? [] : loaded[i]!.get(key) ?? []
          out[p.relation.name] = p.relation.kind === "hasMany" || p.relation.kind === "manyToMany"
            ? (p.options.limit === undefined ? related : related.slice(0, p.options.limit))
            : related[0] ?? null
        })
        return out
      })
  )
}

/** The fields a projected page must read so that its relations can be loaded. @internal */
export const withKeys = (def: ModelDefinition, select: unknown, include: unknown): unknown => {
  if (!Array.isArray(select) || !isRecord(include)) return select
  const extra: Array<string> = []
  for (const name of Object.keys(include)) {
    const resolved = relation(def, name, "list")
    if (resolved !== undefined && Either.isRight(resolved)) extra.push(...resolved.right.sourceFields)
  }
  return [...new Set([...(select as ReadonlyArray<string>), ...extra])]
}

/** A projected page's records: the fields selected and the relations loaded (keys read for them dropped). @internal */
export const project = (records: ReadonlyArray<Row>, select: unknown, include: unknown): ReadonlyArray<Row> => {
  if (!Array.isArray(select) || !isRecord(include)) return records
  const keep = new Set([...(select as ReadonlyArray<string>), ...Object.keys(include)])
  return records.map((r) => Object.fromEntries(Object.entries(r).filter(([f]) => keep.has(f))))
}

/**
 * A model's reading nodes taking `include`: read, find, list, findFirst and stream load the
 * relations it names after their own statement. Without `include` they are the nodes as made.
 * @internal
 */
export const withIncludes = <R>(def: ModelDefinition, nodes: Read.ReadNodes<R>): Read.ReadNodes<R> => {
  type Options = { readonly include?: unknown } & Record<string, unknown>
  const split = <O extends object | undefined>(options: O) => {
    const { include, ...rest } = (options ?? {}) as Options
    return { include, rest: rest as O }
  }
  const one = (operation: string, include: unknown) => (found: Option.Option<Row>) =>
    Option.isNone(found)
      ? Effect.succeed(found)
      : Effect.map(attach(def, [found.value], include, operation), (rs) => Option.some(rs[0]!))
  return {
    ...nodes,
    read: (id, options) => {
      // the hot path: no include, no copy of the options
      if ((options as Options | undefined)?.include === undefined) return nodes.read(id, options)
      const { include, rest } = split(options)
      return Effect.flatMap(nodes.read(id, rest), (r) => Effect.map(attach(def, [r], include, "read"), (rs) => rs[0]!)) as ReturnType<
        Read.ReadNodes<R>["read"]
      >
    },
    find: (id, options) => {
      // the hot path: no include, no copy of the options
      if ((options as Options | undefined)?.include === undefined) return nodes.find(id, options)
      const { include, rest } = split(options)
      return Effect.flatMap(nodes.find(id, rest), one("find", include)) as ReturnType<Read.ReadNodes<R>["find"]>
    },
    findFirst: (where, options) => {
      const { include, rest } = split(options)
      if (include === undefined) return nodes.findFirst(where, options)
      return Effect.flatMap(nodes.findFirst(where, rest), one("findFirst", include)) as ReturnType<Read.ReadNodes<R>["findFirst"]>
    },
    list: (query) => {
      const { include, rest } = split(query)
      if (include === undefined) return nodes.list(query)
      const select = (rest as ListQuery<Row> | undefined)?.select
      return Effect.flatMap(
        nodes.list({ ...rest, ...(select === undefined ? {} : { select: withKeys(def, select, include) }) } as ListQuery<Row>),
        (page) =>
          Effect.map(attach(def, page.records, include, "list"), (records) => ({ ...page, records: project(records, select, include) }))
      ) as ReturnType<Read.ReadNodes<R>["list"]>
    },
    stream: (query) => {
      const { include, rest } = split(query)
      if (include === undefined) return nodes.stream(query)
      const select = (rest as StreamQuery<Row> | undefined)?.select
      // one load per page: the stream's chunks are its pages
      return nodes.stream({ ...rest, ...(select === undefined ? {} : { select: withKeys(def, select, include) }) } as StreamQuery<Row>)
        .pipe(
          Stream.mapChunksEffect((chunk) =>
            Effect.map(
              attach(def, Chunk.toReadonlyArray(chunk), include, "stream"),
              (records) => Chunk.unsafeFromArray(project(records, select, include) as Array<Row>)
            )
          )
        ) as ReturnType<Read.ReadNodes<R>["stream"]>
    }
  }
}
