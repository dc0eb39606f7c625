/**
 * Any failure of a served node as a problem (RFC 9457 body): the HTTP status, the error's tag,
 * a detail worded by the error itself, and the names a client can react to (model, operation,
 * field, constraint, row index) — never a value. HTTP responds with it, MCP returns it as the
 * tool error: one wording for both.
 * (Internal module: not part of the public API.)
 */
import * as Schema from "effect/Schema"

/** The body of every error response. @internal */
export const Problem = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  status: Schema.Int,
  /** The error's tag (`ValidationError`, `NotFound`, …). */
  error: Schema.String,
  detail: Schema.String,
  model: Schema.optional(Schema.String),
  operation: Schema.optional(Schema.String),
  /** The offending field or filter path. */
  field: Schema.optional(Schema.String),
  constraint: Schema.optional(Schema.String),
  columns: Schema.optional(Schema.Array(Schema.String)),
  rowIndex: Schema.optional(Schema.Int),
  /** Sending the same request again can succeed. */
  retryable: Schema.optional(Schema.Boolean),
  /** The workflow node the failure belongs to (`POST /workflows/execute`). */
  node: Schema.optional(Schema.String)
}).annotations({ identifier: "Problem", description: "An error (RFC 9457 problem details); never carries a field value" })

/** @internal */
export type Problem = typeof Problem.Type

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  503: "Service Unavailable"
}

/** The status of each error tag (a `DatabaseError` depends on `retryable`). */
const statusOf: Record<string, number> = {
  ValidationError: 400,
  InvalidFilter: 400,
  InvalidCursor: 400,
  UnsafeOperation: 400,
  NotNullViolation: 400,
  InvalidTenantId: 400,
  MissingTenant: 400,
  MalformedRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  RouteNotFound: 404,
  UniqueViolation: 409,
  OptimisticLockError: 409,
  ConflictTargetError: 409,
  ForeignKeyViolation: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TransactionTimeout: 503,
  RequestTimeout: 503,
  TransactionOutcomeUnknown: 500,
  ConfigurationError: 500,
  SchemaMismatch: 500
}

type Fields = Record<string, unknown>

const str = (f: Fields, k: string) => (typeof f[k] === "string" ? (f[k] as string) : undefined)

/** A problem of a status, with a detail. @internal */
export const make = (status: number, error: string, detail: string, extra: Partial<Problem> = {}): Problem => ({
  type: "about:blank",
  title: titles[status] ?? "Error",
  status,
  error,
  detail,
  ...extra
})

/** An error (a tagged error of the library or of serving; anything else is internal) as a problem. @internal */
export const fromError = (error: unknown): Problem => {
  if (typeof error !== "object" || error === null || typeof (error as Fields)._tag !== "string") return internal
  const f = error as Fields
  const tag = f._tag as string
  // a workflow node's failure: its own error's problem, naming the node
  if (tag === "NodeFailed" && typeof f.nodeId === "string") return { ...fromError(f.cause), node: f.nodeId }
  if (tag === "WorkflowError") {
    return make(400, tag, typeof f.reason === "string" ? f.reason : tag, {
      ...(typeof f.nodeId === "string" ? { node: f.nodeId } : {}),
      ...(typeof f.path === "string" && f.path !== "" ? { field: f.path } : {})
    })
  }
  const retryableDb = tag === "DatabaseError" && f.retryable === true
  const status = tag === "DatabaseError" ? (retryableDb ? 503 : 500) : statusOf[tag]
  if (status === undefined) return internal
  const model = str(f, "model")
  const operation = str(f, "operation")
  const extra: { -readonly [K in keyof Problem]?: Problem[K] } = {}
  if (model !== undefined) extra.model = model
  if (operation !== undefined) extra.operation = operation
  const path = str(f, "path")
  if (path !== undefined && path !== "") extra.field = path
  const constraint = str(f, "constraint")
  if (constraint !== undefined) extra.constraint = constraint
  if (Array.isArray(f.columns)) extra.columns = f.columns.filter((c): c is string => typeof c === "string")
  if (typeof f.rowIndex === "number") extra.rowIndex = f.rowIndex
  if (tag === "DatabaseError" || tag === "TransactionTimeout" || tag === "RequestTimeout") {
    extra.retryable = tag !== "DatabaseError" || retryableDb
  }
  return make(status, tag, detailOf(tag, f, model, operation), extra)
}

/** The error's own message, except where it would repeat an id or leak a driver's text. */
const detailOf = (tag: string, f: Fields, model: string | undefined, operation: string | undefined): string => {
  const at = model === undefined ? "" : `${model}.${operation ?? ""}: `
  switch (tag) {
    case "NotFound":
      return `${at}no ${model ?? "record"} with this id`
    case "OptimisticLockError":
      return `${at}the record is no longer at the expected version`
    case "DatabaseError":
      return `${at}database error${typeof f.code === "string" ? ` ${f.code}` : ""}${f.retryable === true ? " (retryable)" : ""}`
    case "TransactionOutcomeUnknown":
      return `${at}the connection was lost after COMMIT was sent; the write may or may not have happened`
    case "ConfigurationError":
      return `${at}the server is not configured for this model`
    default: {
      const message = f.message
      return typeof message === "string" && message !== "" ? message : tag
    }
  }
}

/** A failure that is no error of the API (a defect): nothing of it is shown. @internal */
export const internal: Problem = make(500, "InternalError", "internal error")
