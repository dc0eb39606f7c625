/**
 * A model's nodes as workflow node types: `UserCreateNode` (Kailash's spelling) and
 * `User_Create`, for every node the model has. Parameters are read under Kailash's names and
 * this library's own, decoded with the `Json` module's decoders (the nodes' own validation and
 * errors), and each result has the shape Kailash users read (`{ records, count, limit }`,
 * `{ created, record, action }`, `{ processed, inserted, … }`).
 * (Internal module: not part of the public API.)
 */
import type * as Effect from "effect/Effect"
import type * as Model from "../../Model.js"
import type { ModelDefinition } from "../model/definition.js"
import { definitionOf } from "../model/definition.js"
import type { Nodes } from "../nodes/index.js"
import type { NodeName } from "../serving/operations.js"
import { nodesOf } from "../serving/operations.js"
import { bulkCreate, bulkDelete, bulkUpdate, bulkUpsert } from "./modelBulk.js"
import type { Operation } from "./modelParams.js"
import { byId, countOp, create, list, read, update, upsert } from "./modelSingle.js"
import type { NodeType } from "./nodeType.js"
import * as Shape from "./shape.js"

/** The served nodes with a workflow node type (`aggregate` has none yet). */
type WorkflowNode = Exclude<NodeName, "aggregate">

const operations: Readonly<Record<WorkflowNode, Operation>> = {
  create,
  read,
  update,
  delete: byId("Delete", "delete", "deleted"),
  restore: byId("Restore", "restore", "restored"),
  list,
  count: countOp,
  upsert,
  bulkCreate,
  bulkUpdate,
  bulkDelete,
  bulkUpsert
}

/** The shape of a model's record: its columns (JSON columns open). @internal */
export const recordShape = (def: ModelDefinition): Shape.Shape =>
  Shape.object(Object.fromEntries(def.columns.map((c) => [c.field, c.kind._tag === "json" ? Shape.any : Shape.value])))

/** Every node of a model as a workflow node type. @internal */
export const nodeTypes = <E, R>(model: Model.Any): ReadonlyArray<NodeType<E, R>> => {
  const def = definitionOf(model)
  const nodes = model as unknown as Nodes<R>
  const record = recordShape(def)
  const withType = nodesOf(def).filter((node): node is WorkflowNode => node !== "aggregate")
  return withType.map((node) => {
    const op = operations[node]
    return {
      type: `${def.name}${op.name}Node`,
      aliases: [`${def.name}_${op.name}`],
      parameters: op.parameters(def),
      required: op.required,
      decode: (params) => op.decode(model, def, params),
      run: (input) => op.run(nodes, def, input as never) as Effect.Effect<unknown, E, R>,
      output: op.output(record),
      origin: { model: def.name, node }
    }
  })
}
