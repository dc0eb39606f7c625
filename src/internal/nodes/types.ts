/**
 * The errors of each node, declared once: the internal nodes return exactly these (the
 * compiler checks it), and the public node types in `Model.ts` are derived from them.
 * (Internal module: not part of the public API.)
 */
import type {
  ConflictTargetError,
  DatabaseError,
  InvalidCursor,
  InvalidFilter,
  NotFound,
  OptimisticLockError,
  SchemaMismatch,
  UnsafeOperation,
  ValidationError,
  WriteError
} from "../../Errors.js"

/** @internal */
export interface NodeErrors {
  readonly create: ValidationError | WriteError
  readonly read: NotFound | ValidationError | DatabaseError | SchemaMismatch
  readonly find: ValidationError | DatabaseError | SchemaMismatch
  readonly list: InvalidFilter | InvalidCursor | ValidationError | DatabaseError | SchemaMismatch
  readonly count: InvalidFilter | ValidationError | DatabaseError | SchemaMismatch
  readonly aggregate: InvalidFilter | ValidationError | DatabaseError | SchemaMismatch
  readonly bulkCreate: ConflictTargetError | ValidationError | WriteError
  readonly update: NotFound | ValidationError | WriteError | OptimisticLockError
  readonly delete: ValidationError | WriteError
  readonly restore: ValidationError | WriteError
  readonly upsert: ConflictTargetError | ValidationError | InvalidFilter | WriteError
  readonly bulkUpdate: UnsafeOperation | InvalidFilter | ValidationError | WriteError
  /** bulkUpdate with a list of `{ id | key, patch }`. */
  readonly bulkUpdateItems: ConflictTargetError | NotFound | OptimisticLockError | ValidationError | WriteError
  readonly bulkDelete: UnsafeOperation | InvalidFilter | ValidationError | WriteError
  readonly bulkUpsert: ConflictTargetError | ValidationError | WriteError
}
