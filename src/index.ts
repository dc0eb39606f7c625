/**
 * effect-dataflow: declare a model as an Effect Schema, get typed create / read / update /
 * delete / list / count / upsert and bulk operations on SQLite, PostgreSQL and MySQL/MariaDB.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Column from "./Column.js"
/** @since 0.1.0 */
export * as DataFlow from "./DataFlow.js"
/** @since 0.1.0 */
export * as Dialect from "./Dialect.js"
/** @since 0.1.0 */
export * as Errors from "./Errors.js"
/** @since 0.1.0 */
export * as Filter from "./Filter.js"
/** @since 0.1.0 */
export * as Introspect from "./Introspect.js"
/** @since 0.1.0 */
export * as Json from "./Json.js"
/** @since 0.1.0 */
export * as Metrics from "./Metrics.js"
/** @since 0.1.0 */
export * as Migration from "./Migration.js"
/** @since 0.1.0 */
export * as Model from "./Model.js"
/** @since 0.1.0 */
export * as Node from "./Node.js"
/** @since 0.1.0 */
export * as Relation from "./Relation.js"
/** @since 0.1.0 */
export * as Tenant from "./Tenant.js"
/** @since 0.1.0 */
export * as Transaction from "./Transaction.js"
/** @since 0.1.0 */
export * as Workflow from "./Workflow.js"
