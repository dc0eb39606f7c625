/**
 * The registry: node types by name — every node of every model (`UserCreateNode`,
 * `User_Create`, …) and custom nodes (any Effect with an input and an output Schema).
 * (Internal module: not part of the public API.)
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import type * as Model from "../../Model.js"
import { nodeTypes } from "./modelNodes.js"
import type { NodeType, Params } from "./nodeType.js"
import { paramError } from "./nodeType.js"
import * as Shape from "./shape.js"

/** @internal */
export interface Registry<E = unknown, R = unknown> {
  /** Every node type by each of its names. */
  readonly types: ReadonlyMap<string, NodeType<E, R>>
}

/** @internal */
export const make = <E, R>(
  models: ReadonlyArray<Model.Any>,
  custom: ReadonlyArray<NodeType<E, R>>
): Registry<E, R> => {
  const types = new Map<string, NodeType<E, R>>()
  const add = (node: NodeType<E, R>) => {
    for (const name of [node.type, ...node.aliases]) {
      if (types.has(name)) throw new Error(`Workflow.registry: two node types are named ${JSON.stringify(name)}`)
      types.set(name, node)
    }
  }
  for (const model of models) nodeTypes<E, R>(model).forEach(add)
  custom.forEach(add)
  return { types }
}

/** The parameters a Struct-like input Schema names, and which are required. */
const parametersOf = (ast: SchemaAST.AST): { readonly names?: ReadonlyArray<string>; readonly required: ReadonlyArray<string> } => {
  const encoded = SchemaAST.encodedAST(ast)
  if (encoded._tag !== "TypeLiteral" || encoded.indexSignatures.length > 0) return { required: [] }
  return {
    names: encoded.propertySignatures.map((p) => String(p.name)),
    required: encoded.propertySignatures.filter((p) => !p.isOptional).map((p) => String(p.name))
  }
}

/** A custom node: its parameters decoded by `input` (from JSON), its result described by `output`. @internal */
export const custom = <I, IE, A, AE, E, R>(options: {
  readonly type: string
  readonly aliases?: ReadonlyArray<string>
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<A, AE>
  readonly run: (input: I) => Effect.Effect<A, E, R>
}): NodeType<E, R> => {
  // unknown top-level names are refused before running (`parameters`); nested values may carry more
  const decode = Schema.decodeUnknown(options.input, { errors: "first" })
  const { names, required } = parametersOf(options.input.ast)
  return {
    type: options.type,
    aliases: options.aliases ?? [],
    parameters: names,
    required: required.map((name) => [name]),
    decode: (params: Params) =>
      Effect.mapError(decode(params), (error) => {
        const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
        return paramError((issue?.path ?? []).map(String).join("."), issue?.message ?? error.message, error)
      }),
    run: (input) => options.run(input as I),
    output: Shape.ofAst(options.output.ast)
  }
}
