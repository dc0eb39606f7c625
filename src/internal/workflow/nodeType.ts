/**
 * What a workflow node type is: the names it answers to, the parameters it takes (checked
 * before anything runs), a decoder from JSON parameters to its input, the Effect that runs it,
 * and the shape of its result (for connection paths).
 * (Internal module: not part of the public API.)
 */
import type * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { WorkflowError } from "../../Errors.js"
import type { Shape } from "./shape.js"

/** A node's parameters: a JSON object. @internal */
export type Params = Readonly<Record<string, unknown>>

/** @internal */
export interface NodeType<E = unknown, R = unknown> {
  /** The name the node is registered under (`UserCreateNode`, `send_email`). */
  readonly type: string
  /** Other names for the same node (`User_Create`). */
  readonly aliases: ReadonlyArray<string>
  /** The parameter names the node takes; `undefined`: any (checked by the decoder). */
  readonly parameters: ReadonlyArray<string> | undefined
  /** Each group: one of these names must be given (in the parameters or by a connection). */
  readonly required: ReadonlyArray<ReadonlyArray<string>>
  /** The node's input from its JSON parameters; a `WorkflowError` names the parameter path. */
  readonly decode: (params: Params) => Effect.Effect<unknown, WorkflowError>
  /** Runs the node on a decoded input; its value is what `results[id].result` holds. */
  readonly run: (input: unknown) => Effect.Effect<unknown, E, R>
  /** The shape of `result`. */
  readonly output: Shape
  /** A model's node: which model and node it runs (serving checks exposure and encodes records). */
  readonly origin?: { readonly model: string; readonly node: string } | undefined
}

/** A `WorkflowError` for a parameter (the node id is added by the caller). @internal */
export const paramError = (path: string, reason: string, cause?: unknown) =>
  new WorkflowError({ path, reason, ...(cause === undefined ? {} : { cause }) })

/** The Schema of a node's parameters: JSON in, the decoded input out. @internal */
export const paramsSchema = (node: NodeType): Schema.Schema<unknown, unknown> =>
  Schema.transformOrFail(Schema.Unknown, Schema.Unknown, {
    strict: true,
    decode: (u, _, ast) =>
      typeof u !== "object" || u === null || Array.isArray(u)
        ? ParseResult.fail(new ParseResult.Type(ast, u, "expected an object of parameters"))
        : ParseResult.mapError(node.decode(u as Params), (e) => new ParseResult.Type(ast, u, e.message)),
    encode: ParseResult.succeed
  })
