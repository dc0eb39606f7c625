/**
 * The errors of serving the nodes (HTTP, MCP) that are not the nodes' own: a caller who is not
 * authenticated or not allowed, a missing tenant, a request that is not JSON, too large or too
 * slow. Like the library's errors they name what was wrong, never a value.
 * (Internal module: not part of the public API; `DataFlowHttp` and `DataFlowMcp` export them.)
 */
import * as Schema from "effect/Schema"

/** @internal */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  reason: Schema.String
}) {
  override get message(): string {
    return `not authenticated: ${this.reason}`
  }
}

/** @internal */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  model: Schema.String,
  operation: Schema.String,
  reason: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: not allowed${this.reason === undefined ? "" : `: ${this.reason}`}`
  }
}

/** @internal */
export class MissingTenant extends Schema.TaggedError<MissingTenant>()("MissingTenant", {
  model: Schema.String,
  operation: Schema.String,
  /** Where the tenant was expected (a header's name, the authentication layer). */
  source: Schema.String
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: the model is tenant-scoped and no tenant was given (${this.source})`
  }
}

/** @internal */
export class MalformedRequest extends Schema.TaggedError<MalformedRequest>()("MalformedRequest", {
  /** The part of the request: `body`, or a query parameter's name. */
  part: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `malformed request ${this.part}: ${this.reason}`
  }
}

/** @internal */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  /** The limit, in bytes. */
  limit: Schema.Number
}) {
  override get message(): string {
    return `the request body is larger than ${this.limit} bytes`
  }
}

/** @internal */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()("RequestTimeout", {
  model: Schema.String,
  operation: Schema.String,
  /** The timeout, in milliseconds. */
  timeout: Schema.Number
}) {
  override get message(): string {
    return `${this.model}.${this.operation}: no answer within ${this.timeout} ms; the operation was interrupted (with the library's clients it has not happened or was rolled back)`
  }
}
