/**
 * The reference's calls, outcomes and tables as data: what a command sequence is made of, and
 * what the reference answers.
 * (Internal module: not part of the public API.)
 */
import type {
  ConfigurationError,
  ConflictTargetError,
  DatabaseError,
  ForeignKeyViolation,
  InvalidCursor,
  InvalidFilter,
  NotFound,
  OptimisticLockError,
  UniqueViolation,
  UnsafeOperation,
  ValidationError
} from "../../../Errors.js"
import type { ModelDefinition } from "../../model/definition.js"

/** @internal */
export type Row = Record<string, unknown>

/** A `list` call's query. @internal */
export interface ListCall {
  readonly where?: unknown
  readonly orderBy?: ReadonlyArray<string>
  readonly limit?: number
  readonly offset?: number
  readonly cursor?: string
  readonly includeDeleted?: boolean
  readonly select?: ReadonlyArray<string>
  readonly total?: boolean
  /** Related records to load (docs/relations.md "Loading related records"). */
  readonly include?: unknown
  /** The node an include's errors name, when not `list` (`findFirst` reads through list). */
  readonly operation?: "findFirst" | "stream"
}

/** A call of a node, as data (what a command sequence is made of). @internal */
export type Call =
  | { readonly node: "create"; readonly input: unknown }
  | {
    readonly node: "bulkCreate"
    readonly rows: ReadonlyArray<unknown>
    readonly returnRecords?: boolean
    /** `"skip"`: rows conflicting on a unique key (or `conflictOn`) left out and counted. */
    readonly onConflict?: unknown
    readonly conflictOn?: unknown
    /** Told the rows inserted so far after every chunk the node would write (its chunk sizes on the dialect). */
    readonly onProgress?: (inserted: number) => void
  }
  | { readonly node: "read" | "find"; readonly id: unknown; readonly includeDeleted?: boolean; readonly include?: unknown }
  | { readonly node: "readBy" | "findBy"; readonly key: unknown; readonly includeDeleted?: boolean }
  | { readonly node: "update"; readonly id: unknown; readonly patch: unknown; readonly expectedVersion?: unknown }
  | { readonly node: "delete" | "restore"; readonly id: unknown }
  | { readonly node: "bulkUpdate"; readonly where: unknown; readonly patch: unknown; readonly confirm?: boolean }
  /** `bulkUpdate(items, { requireAll })`: a patch per record, named by id or unique key. */
  | { readonly node: "bulkUpdateItems"; readonly items: ReadonlyArray<unknown>; readonly requireAll?: boolean }
  | { readonly node: "bulkDelete"; readonly where: unknown; readonly confirm?: boolean }
  | { readonly node: "list"; readonly query: ListCall }
  | { readonly node: "count" | "exists"; readonly where?: unknown; readonly includeDeleted?: boolean }
  | {
    readonly node: "upsert"
    readonly args: { readonly where?: unknown; readonly create?: unknown; readonly update?: unknown; readonly conflictOn?: unknown }
  }
  | { readonly node: "createIgnore"; readonly input: unknown; readonly conflictOn?: unknown }
  | {
    readonly node: "bulkUpsert"
    readonly rows: ReadonlyArray<unknown>
    readonly conflictOn?: unknown
    readonly returnRecords?: boolean
  }
  | { readonly node: "aggregate"; readonly query?: unknown }

/** The errors a reference call can fail with. @internal */
export type ReferenceError =
  | ValidationError
  | NotFound
  | UniqueViolation
  | InvalidFilter
  | InvalidCursor
  | UnsafeOperation
  | OptimisticLockError
  | ConflictTargetError
  | DatabaseError
  /** Nested writes: a link to no record, a relation that cannot be written through. */
  | ForeignKeyViolation
  | ConfigurationError

/** What a call gave: its value, or the error it failed with. @internal */
export type Outcome =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly error: ReferenceError }

/** @internal */
export const success = (value: unknown): Outcome => ({ _tag: "Success", value })
/** @internal */
export const failure = (error: ReferenceError): Outcome => ({ _tag: "Failure", error })

/**
 * The database whose by-design behaviour the reference follows where the databases differ:
 * MySQL's `ON DUPLICATE KEY UPDATE` (a `bulkUpsert` row conflicting with *any* unique key
 * updates that row) against the conflict target alone elsewhere. Default: `"sqlite"`.
 * @internal
 */
export type ReferenceDialect = "sqlite" | "pg" | "mysql"

/** Where a call runs: the time it stamps, the tenant it runs as, the key that signs cursors, the database it models. @internal */
export interface Env {
  readonly now: Date
  readonly tenant?: string | undefined
  readonly cursorKey?: string | undefined
  readonly dialect?: ReferenceDialect | undefined
}

/** A table's rows at one moment. @internal */
export interface Snapshot {
  readonly stored: ReadonlyMap<string, Row>
  readonly nextId: number
}

/** One model's rows in memory and its nodes over them. @internal */
export interface ReferenceTable {
  readonly definition: ModelDefinition
  /** Runs a call (tenant-scoped models: the tenant's rows only, stamped with it). */
  readonly execute: (call: Call, env: Env) => Outcome
  /** Every stored row (soft-deleted ones included) as the nodes return records, by primary key. */
  readonly rows: () => ReadonlyArray<Row>
  readonly clear: () => void
  /** The rows as they are now, for {@link ReferenceTable.restore} (a transaction's rollback). */
  readonly snapshot: () => Snapshot
  readonly restore: (snapshot: Snapshot) => void
  /** The rows as stored (every tenant's, soft-deleted ones too), for the relations of other tables. */
  readonly stored: () => Iterable<Row>
}

/**
 * The reference's other tables by model, for relations (include, relation filters): undefined
 * for a model that is not among the reference's models.
 * @internal
 */
export type Tables = (def: ModelDefinition) => ReferenceTable | undefined
