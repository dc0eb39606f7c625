/**
 * Driver failures as the library's typed errors: the dialect classifies the driver's code,
 * constraint names map back to the model's fields, and nothing carries a value.
 * (Internal module: not part of the public API.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as Dialect from "../dialect/dialect.js"
import { DatabaseError, ForeignKeyViolation, NotNullViolation, UniqueViolation } from "../../Errors.js"
import type { ModelDefinition } from "../model/definition.js"
import { declaredOf } from "../model/relations.js"
import { relationOfConstraint } from "../sql/foreignKeys.js"
import type { ModelStatements } from "../sql/statements.js"

/** Operations that write nothing (DDL is `IF NOT EXISTS`: running it again is safe too). */
const readOperations = new Set(["read", "find", "list", "findFirst", "count", "migrate", "begin"])

/**
 * A driver failure as a DatabaseError: classified (code, retryable, connection lost), the
 * driver error kept. `error` may be an SqlError (its cause is the driver error) or the driver
 * error itself.
 * @internal
 */
export const toDatabaseError = (dialect: Dialect.Dialect, model: string, operation: string, error: unknown) => {
  const cause = typeof error === "object" && error !== null && "cause" in error && error.cause !== undefined
    ? error.cause
    : error
  const f = dialect.classify(cause)
  return new DatabaseError({
    model,
    operation,
    // a read that lost its connection changed nothing: running it again is safe
    retryable: f.retryable || (f.connectionLost && readOperations.has(operation)),
    cause,
    ...(f.code === undefined ? {} : { code: f.code }),
    ...(f.connectionLost ? { connectionLost: true } : {}),
    ...(f.missing?.table === undefined ? {} : { table: f.missing.table }),
    ...(f.missing?.column === undefined ? {} : { column: f.missing.column }),
    ...(f.hint === undefined ? {} : { hint: f.hint })
  })
}

/** @internal */
export type WriteFailure = UniqueViolation | ForeignKeyViolation | NotNullViolation | DatabaseError

/**
 * SQLite names no constraint or column in a foreign key failure: a write of a model with one
 * foreign key can only have broken that one (a delete breaks another model's).
 */
const soleForeignKey = (def: ModelDefinition, operation: string) => {
  if (operation.toLowerCase().includes("delete")) return undefined
  const keys = [...declaredOf(def)].filter(([, r]) => r.kind === "belongsTo")
  return keys.length === 1 ? { relation: keys[0]![0], fields: keys[0]![1].foreignKey } : undefined
}

/** A failed statement of a node as its typed error, naming the fields of the violated constraint. @internal */
export const writeError = (s: ModelStatements, operation: string, rowIndex?: number) => (error: SqlError): WriteFailure => {
  const def = s.definition
  const f = s.dialect.classify(error.cause)
  const byConstraint = f.constraint === undefined ? undefined : s.constraintFields.get(f.constraint)
  const columns = f.columns.length > 0
    ? f.columns.map((name) => def.columns.find((c) => c.name === name)?.field ?? name)
    : byConstraint ?? []
  const base = { model: def.name, operation }
  switch (f.kind) {
    case "unique":
      return new UniqueViolation({
        ...base,
        columns,
        ...(f.constraint === undefined ? {} : { constraint: f.constraint }),
        ...(rowIndex === undefined ? {} : { rowIndex })
      })
    case "foreignKey": {
      const sole = columns.length > 0 || f.constraint !== undefined ? undefined : soleForeignKey(def, operation)
      const owner = f.constraint === undefined ? undefined : relationOfConstraint(f.constraint)
      const relation = sole !== undefined
        ? sole.relation
        : owner === undefined
        ? undefined
        : owner.model === def.name
        ? owner.relation
        : `${owner.model}.${owner.relation}`
      return new ForeignKeyViolation({
        ...base,
        columns: sole?.fields ?? columns,
        ...(f.constraint === undefined ? {} : { constraint: f.constraint }),
        ...(relation === undefined ? {} : { relation })
      })
    }
    case "notNull":
      return new NotNullViolation({ ...base, columns })
    case "other":
      return toDatabaseError(s.dialect, def.name, operation, error)
  }
}
