/**
 * What every implementation provides: the same operations, as Promises (raw driver, peers,
 * and Effect implementations run with one `runPromise` per operation) or as Effects.
 * Read, list, count and update work on `bench_items`; create and the bulk operations on
 * `bench_writes`; walkPage on `bench_walk`.
 */
import type { SqlClient } from "@effect/sql"
import type { Effect, ManagedRuntime } from "effect"
import type { Item, ItemPatch, NewItem } from "./model.js"

export interface UpsertResult {
  readonly inserted: number
  readonly updated: number
}

/** The sort key of a row of the walk (`price` descending, then `id`): where the next page starts. */
export interface WalkKey {
  readonly price: number
  readonly id: number
}

/**
 * Where a page of the walk starts: the nodes' opaque `nextCursor`, or (hand-written, raw
 * driver, peers) the sort key of the previous page's last row.
 */
export type WalkCursor = string | WalkKey

/** One page of the keyset walk (at most WALK_PAGE rows) and where the next one starts, if there is one. */
export interface WalkPage {
  readonly records: ReadonlyArray<Item>
  readonly next: WalkCursor | undefined
}

/** The sort key a hand-written page was given (a string cursor is the nodes' only). */
export const walkKey = (cursor: WalkCursor): WalkKey => {
  if (typeof cursor === "string") throw new Error("a nodes cursor given to a hand-written walk")
  return cursor
}

export interface PromiseOps {
  readonly create: (row: NewItem) => Promise<Item>
  readonly read: (id: number) => Promise<Item | undefined>
  readonly list: (category: string) => Promise<ReadonlyArray<Item>>
  readonly count: (category: string) => Promise<number>
  readonly update: (id: number, patch: ItemPatch) => Promise<Item>
  readonly bulkCreate: (rows: ReadonlyArray<NewItem>) => Promise<number>
  /** One page of the keyset walk over `bench_walk`: the first without a cursor. */
  readonly walkPage: (cursor: WalkCursor | undefined) => Promise<WalkPage>
  /** Absent for the peers (Drizzle, Kysely), which run the single-row workloads and bulkCreate only. */
  readonly bulkUpdate?: (category: string, qty: number) => Promise<number>
  readonly bulkDelete?: (category: string) => Promise<number>
  readonly bulkUpsert?: (rows: ReadonlyArray<NewItem>) => Promise<UpsertResult>
}

/** An operation of an Effect implementation (the hand-written ones on node-postgres need no SqlClient). */
export type Eff<A> = Effect.Effect<A, unknown, SqlClient.SqlClient>

export interface EffectOps {
  readonly create: (row: NewItem) => Eff<Item>
  readonly read: (id: number) => Eff<Item | undefined>
  readonly list: (category: string) => Eff<ReadonlyArray<Item>>
  readonly count: (category: string) => Eff<number>
  readonly update: (id: number, patch: ItemPatch) => Eff<Item>
  readonly bulkCreate: (rows: ReadonlyArray<NewItem>) => Eff<number>
  readonly walkPage: (cursor: WalkCursor | undefined) => Eff<WalkPage>
  readonly bulkUpdate: (category: string, qty: number) => Eff<number>
  readonly bulkDelete: (category: string) => Eff<number>
  readonly bulkUpsert: (rows: ReadonlyArray<NewItem>) => Eff<UpsertResult>
}

export type Runtime = ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown>

/** Effect operations run with one `runPromise` each. */
export const perOperation = (ops: EffectOps, rt: Runtime): Required<PromiseOps> => ({
  create: (row) => rt.runPromise(ops.create(row)),
  read: (id) => rt.runPromise(ops.read(id)),
  list: (category) => rt.runPromise(ops.list(category)),
  count: (category) => rt.runPromise(ops.count(category)),
  update: (id, patch) => rt.runPromise(ops.update(id, patch)),
  bulkCreate: (rows) => rt.runPromise(ops.bulkCreate(rows)),
  walkPage: (cursor) => rt.runPromise(ops.walkPage(cursor)),
  bulkUpdate: (category, qty) => rt.runPromise(ops.bulkUpdate(category, qty)),
  bulkDelete: (category) => rt.runPromise(ops.bulkDelete(category)),
  bulkUpsert: (rows) => rt.runPromise(ops.bulkUpsert(rows))
})
