/**
 * Settings a user changes with a layer, each with a default (`Context.Reference`): the schema
 * policy, node spans, the cursor signing key.
 * (Internal module: not part of the public API; `DataFlow` exports them.)
 */
import * as Context from "effect/Context"

/**
 * What happens to a model's table on first use (once per client). `"auto"` (the default):
 * created when missing, given the columns, unique constraints and indexes it lacks (additive
 * changes only, never a drop or a type change), then checked; `"existing"`: the database
 * belongs to someone else, no DDL, only the check; `"none"`: neither. A table that cannot
 * serve the model fails the node with `SchemaMismatch` before any of its statements runs.
 *
 * @since 0.1.0
 * @category schema
 */
export class SchemaPolicy extends Context.Reference<SchemaPolicy>()("effect-dataflow/SchemaPolicy", {
  defaultValue: (): "auto" | "existing" | "none" => "auto"
}) {}

/**
 * Whether each node call opens its own span (`dataflow.<Model>.<node>`) when a tracer that
 * records spans is installed; on by default.
 *
 * @since 0.1.0
 * @category tracing
 */
export class NodeSpans extends Context.Reference<NodeSpans>()("effect-dataflow/NodeSpans", {
  defaultValue: (): boolean => true
}) {}

/**
 * The key that signs keyset cursors (`DataFlow.cursorKey`); unset by default. With a key, a
 * cursor the application did not make is an `InvalidCursor` before any of it is read.
 *
 * @since 0.1.0
 * @category cursors
 */
export class CursorKey extends Context.Reference<CursorKey>()("effect-dataflow/CursorKey", {
  defaultValue: (): string | undefined => undefined
}) {}

/**
 * The PostgreSQL schema / MySQL database the models' tables live in when no tenant schema
 * applies (`DataFlow.layer({ schema })`, `DataFlow.schema`); unset: the connection's default
 * (PostgreSQL's `search_path`, the URL's MySQL database). Statements name it explicitly.
 *
 * @since 0.1.0
 * @category schema
 */
export class DefaultSchema extends Context.Reference<DefaultSchema>()("effect-dataflow/DefaultSchema", {
  defaultValue: (): string | undefined => undefined
}) {}

/**
 * Whether node calls are counted and timed in the `Metrics` (duration, failures, rows
 * written); on by default.
 *
 * @since 0.1.0
 * @category metrics
 */
export class NodeMetrics extends Context.Reference<NodeMetrics>()("effect-dataflow/NodeMetrics", {
  defaultValue: (): boolean => true
}) {}
