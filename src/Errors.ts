/**
 * Typed, tagged errors for everything a caller of a generated node can cause.
 *
 * No error carries a field value: they name the model, the operation, the field or
 * constraint, and (for bulk nodes) the row index, so they are safe to log.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const rowSuffix = (rowIndex: number | undefined) => (rowIndex === undefined ? "" : ` (row ${rowIndex})`)

/**
 * Input that does not fit the model: a missing required field, a value of the wrong
 * type, a refinement that fails, or an attempt to write a managed field.
 *
 * @since 0.1.0
 * @category errors
 */
export class ValidationError extends Schema.TaggedError<ValidationError>()("ValidationError", {
  model: Schema.String,
  operation: Schema.String,
  /** Dotted path of the offending field, `""` for the record itself. */
  path: Schema.String,
  /** Index of the offending row in a bulk input. */
  rowIndex: Schema.optional(Schema.Number),
  reason: Schema.String
}) {
  override get message(): string {
    const at = this.path === "" ? "" : ` at "${this.path}"`
    return `${this.model}.${this.operation}: invalid input${at}${rowSuffix(this.rowIndex)}: ${this.reason}`
  }
}

/**
 * No record with the given primary key (or it belongs to another scope).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  model: Schema.String,
  operation: Schema.String,
  id: Schema.Union(Schema.String, Schema.Number),
  /** The relation a nested write named the record through (`Post.author`), when it did. */
  relation: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const through = this.relation === undefined ? "" : ` (relation ${this.relation})`
    return `${this.model}.${this.operation}: no ${this.model} with id ${JSON.stringify(this.id)}${through}`
  }
}

/**
 * A unique constraint or primary key was violated. Names the constraint and its columns,
 * never the duplicated value.
 *
 * @since 0.1.0
 * @category errors
 */
export class UniqueViolation extends Schema.TaggedError<UniqueViolation>()("UniqueViolation", {
  model: Schema.String,
  operation: Schema.String,
  constraint: Schema.optional(Schema.String),
  columns: Schema.Array(Schema.String),
  rowIndex: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: duplicate value for unique (${this.columns.join(", ")})${
      rowSuffix(this.rowIndex)
    }`
  }
}

/**
 * A foreign key constraint was violated.
 *
 * @since 0.1.0
 * @category errors
 */
export class ForeignKeyViolation extends Schema.TaggedError<ForeignKeyViolation>()("ForeignKeyViolation", {
  model: Schema.String,
  operation: Schema.String,
  constraint: Schema.optional(Schema.String),
  columns: Schema.Array(Schema.String),
  /** The relation whose foreign key it is (`author`, or `Post.author` for another model's), when known. */
  relation: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const what = this.constraint ?? (this.columns.length > 0 ? this.columns.join(", ") : "a foreign key")
    return `${this.model}.${this.operation}: foreign key violation on ${what}${
      this.relation === undefined ? "" : ` (relation ${this.relation})`
    }`
  }
}

/**
 * A NOT NULL column received no value.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotNullViolation extends Schema.TaggedError<NotNullViolation>()("NotNullViolation", {
  model: Schema.String,
  operation: Schema.String,
  columns: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: missing value for NOT NULL column ${this.columns.join(", ")}`
  }
}

/**
 * An upsert names conflict columns that no primary key or unique constraint covers.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConflictTargetError extends Schema.TaggedError<ConflictTargetError>()("ConflictTargetError", {
  model: Schema.String,
  operation: Schema.String,
  columns: Schema.Array(Schema.String),
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: conflict target (${this.columns.join(", ")}) ${this.reason}`
  }
}

/**
 * A bulk update or delete without a filter, and without `{ confirm: true }`.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsafeOperation extends Schema.TaggedError<UnsafeOperation>()("UnsafeOperation", {
  model: Schema.String,
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: ${this.reason}`
  }
}

/**
 * A filter names an unknown field, uses an unknown operator or carries a value of the
 * wrong type. `path` points at the offending part (`$or[1].age.$gt`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidFilter extends Schema.TaggedError<InvalidFilter>()("InvalidFilter", {
  model: Schema.String,
  operation: Schema.String,
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: invalid filter at "${this.path}": ${this.reason}`
  }
}

/**
 * Any other database failure. Keeps the driver error in `cause` and says whether running
 * the same work again can succeed (serialization failure, deadlock, lock timeout, busy).
 *
 * @since 0.1.0
 * @category errors
 */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  model: Schema.String,
  operation: Schema.String,
  /** The driver's error code (SQLSTATE, `SQLITE_*`, `ER_*`), when it gave one. */
  code: Schema.optional(Schema.String),
  /**
   * Running the same work again can succeed and cannot do it twice: a serialization failure,
   * a deadlock, a lock or pool wait that timed out, a busy database — and a lost connection
   * where nothing can have been written (a read, or a transaction that had not sent COMMIT).
   */
  retryable: Schema.Boolean,
  /**
   * The connection to the server was lost. Outside a transaction a write may or may not have
   * happened (then `retryable` is false); see `TransactionOutcomeUnknown` for COMMIT.
   */
  connectionLost: Schema.optional(Schema.Boolean),
  /** A table the statement names that the database does not have, when the driver says which. */
  table: Schema.optional(Schema.String),
  /** A column the statement names that the table does not have (the model changed?), when the driver says which. */
  column: Schema.optional(Schema.String),
  /** What to do about it, when the failure has a likely cause (a pooler in front, say). */
  hint: Schema.optional(Schema.String),
  cause: Schema.Unknown
}) {
  override get message(): string {
    const missing = this.column !== undefined
      ? `: no column "${this.column}"${this.table === undefined ? "" : ` in table "${this.table}"`} (does the table match the model?)`
      : this.table !== undefined
      ? `: no table "${this.table}"`
      : ""
    return `${this.model}.${this.operation}: database error${this.code === undefined ? "" : ` ${this.code}`}${missing}${
      this.connectionLost === true ? " (connection lost)" : ""
    }${this.retryable ? " (retryable)" : ""}${this.hint === undefined ? "" : `: ${this.hint}`}`
  }
}

/**
 * The connection was lost after COMMIT was sent and before its answer came: the transaction
 * may or may not have been committed. Not retryable as such — check the data first (or make
 * the work idempotent).
 *
 * @since 0.1.0
 * @category errors
 */
export class TransactionOutcomeUnknown extends Schema.TaggedError<TransactionOutcomeUnknown>()("TransactionOutcomeUnknown", {
  model: Schema.String,
  operation: Schema.String,
  cause: Schema.Unknown
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: the connection was lost after COMMIT was sent; the transaction may or may not have been committed`
  }
}

/**
 * A transaction ran past its `timeout` before COMMIT was sent: it was rolled back, nothing of
 * it happened.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransactionTimeout extends Schema.TaggedError<TransactionTimeout>()("TransactionTimeout", {
  /** The timeout, in milliseconds. */
  timeout: Schema.Number
}) {
  override get message(): string {
    return `the transaction did not reach COMMIT within ${this.timeout} ms and was rolled back`
  }
}

/**
 * Errors a write can fail with once the input was valid.
 *
 * @since 0.1.0
 * @category errors
 */
export type WriteError =
  | UniqueViolation
  | ForeignKeyViolation
  | NotNullViolation
  | DatabaseError
  | SchemaMismatch
  | TransactionOutcomeUnknown

/**
 * An update carried an expected version that no longer matches the stored one: someone else
 * changed the record first. Nothing was written.
 *
 * @since 0.1.0
 * @category errors
 */
export class OptimisticLockError extends Schema.TaggedError<OptimisticLockError>()("OptimisticLockError", {
  model: Schema.String,
  operation: Schema.String,
  id: Schema.Union(Schema.String, Schema.Number),
  expectedVersion: Schema.Number
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: ${this.model} ${JSON.stringify(this.id)} is no longer at version ${this.expectedVersion}`
  }
}

/**
 * A pagination cursor that is malformed, or was made by another model or ordering.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCursor extends Schema.TaggedError<InvalidCursor>()("InvalidCursor", {
  model: Schema.String,
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: invalid cursor: ${this.reason}`
  }
}

/**
 * A tenant id that is not valid: 1–63 characters of letters, digits, `_`, `-` and `.`,
 * starting with a letter or digit.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidTenantId extends Schema.TaggedError<InvalidTenantId>()("InvalidTenantId", {
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid tenant id: ${this.reason}`
  }
}

/**
 * The database setup cannot do what the model asks (for example the `schema` tenancy strategy
 * on SQLite, which has no schemas).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigurationError extends Schema.TaggedError<ConfigurationError>()("ConfigurationError", {
  model: Schema.String,
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: ${this.reason}`
  }
}

/**
 * A database URL names a database whose driver package is not installed. The message says
 * what to install (`npm install pg @effect/sql-pg`, `npm install mysql2`, `npm install better-sqlite3`).
 *
 * @since 0.1.0
 * @category errors
 */
export class DriverNotInstalled extends Schema.TaggedError<DriverNotInstalled>()("DriverNotInstalled", {
  /** The database the URL names. */
  database: Schema.String,
  /** The packages to install. */
  packages: Schema.Array(Schema.String),
  cause: Schema.Unknown
}) {
  override get message(): string {
    return `${this.database} needs the package${this.packages.length > 1 ? "s" : ""} ${this.packages.join(" and ")}: npm install ${
      this.packages.join(" ")
    }`
  }
}

/**
 * A workflow that cannot run as given: an unknown node type, a duplicate node id, a connection
 * to a missing node or to an output path the node does not have, a cycle, a parameter that is
 * unknown, missing or does not decode. Names the node and the parameter path; no SQL has run
 * for it (parameters filled by connections are decoded just before their node runs).
 *
 * @since 0.1.0
 * @category errors
 */
export class WorkflowError extends Schema.TaggedError<WorkflowError>()("WorkflowError", {
  /** The node the problem is in, when it is in one. */
  nodeId: Schema.optional(Schema.String),
  /** Dotted path of the parameter (or connection output) at fault, `""` for the node itself. */
  path: Schema.String,
  reason: Schema.String,
  /** The decoder's own error (a `ValidationError`, an `InvalidFilter`), when there is one. */
  cause: Schema.optional(Schema.Unknown)
}) {
  override get message(): string {
    const node = this.nodeId === undefined ? "" : ` node "${this.nodeId}"`
    const at = this.path === "" ? "" : ` at "${this.path}"`
    return `workflow${node}${at}: ${this.reason}`
  }
}

/**
 * A workflow node failed while running: `cause` is the node's own typed error (a
 * `UniqueViolation`, a `NotFound`, …). Nodes already finished keep their effects unless the
 * workflow ran in a transaction.
 *
 * @since 0.1.0
 * @category errors
 */
export class NodeFailed extends Schema.TaggedError<NodeFailed>()("NodeFailed", {
  runId: Schema.String,
  nodeId: Schema.String,
  nodeType: Schema.String,
  cause: Schema.Unknown
}) {
  override get message(): string {
    const inner = typeof this.cause === "object" && this.cause !== null && "message" in this.cause
      ? `: ${String(this.cause.message)}`
      : ""
    return `workflow node "${this.nodeId}" (${this.nodeType}) failed${inner}`
  }
}

/**
 * A model's table differs from the model in a way the schema policy will not (or cannot)
 * change: a column the model needs that cannot be added safely (NOT NULL without a default on
 * a table with rows), a changed type, a column that cannot hold NULL where the model writes
 * NULL, a different primary key. Raised before any statement of the node runs; under the
 * `"existing"` policy, anything missing. `differences` lists every one; `column` and `reason`
 * repeat the first.
 *
 * @since 0.1.0
 * @category errors
 */
export class SchemaMismatch extends Schema.TaggedError<SchemaMismatch>()("SchemaMismatch", {
  model: Schema.String,
  operation: Schema.String,
  table: Schema.String,
  column: Schema.optional(Schema.String),
  reason: Schema.String,
  differences: Schema.Array(Schema.Struct({ column: Schema.optional(Schema.String), reason: Schema.String }))
}) {
  override get message(): string {
    const at = this.column === undefined ? `table "${this.table}"` : `table "${this.table}", column "${this.column}"`
    const more = this.differences.length > 1 ? ` (and ${this.differences.length - 1} more difference(s))` : ""
    return `${this.model}.${this.operation}: ${at} does not match the model: ${this.reason}${more}`
  }
}

/**
 * `Migration.apply` refused a plan before running anything: it holds destructive operations
 * and `allowDestructive` was not given, or operations that cannot run (`blocked`). Lists them.
 *
 * @since 0.1.0
 * @category errors
 */
export class MigrationRefused extends Schema.TaggedError<MigrationRefused>()("MigrationRefused", {
  reason: Schema.String,
  operations: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `migration refused: ${this.reason}: ${this.operations.join("; ")}`
  }
}

/**
 * An operation of `Migration.apply` failed. Where DDL is transactional (PostgreSQL, SQLite)
 * nothing of the migration remains; on MySQL/MariaDB, which commits each DDL statement, the
 * `completed` operations before it stay applied, no history row is written, and a new plan
 * holds what is left.
 *
 * @since 0.1.0
 * @category errors
 */
export class MigrationFailed extends Schema.TaggedError<MigrationFailed>()("MigrationFailed", {
  migration: Schema.String,
  /** The index of the operation that failed. */
  operation: Schema.Number,
  description: Schema.String,
  /** Operations that stay applied (0 where the migration rolled back as a whole). */
  completed: Schema.Number,
  cause: Schema.Unknown
}) {
  override get message(): string {
    return `migration ${this.migration}: operation ${this.operation} (${this.description}) failed; ${
      this.completed === 0 ? "nothing was applied" : `${this.completed} operation(s) before it stay applied (MySQL commits DDL)`
    }`
  }
}
