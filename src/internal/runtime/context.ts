/**
 * A node call's context: the client (the default `SqlClient`, the model's instance, or the
 * tenant's own), the tenant, the model's statements for the client's dialect (and the tenant's
 * schema), the client's executor, and the table ensured. Resolved synchronously from the
 * fiber's services and cached per model, client and schema, so a call pays a few lookups.
 * (Internal module: not part of the public API.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { ConfigurationError, InvalidTenantId, SchemaMismatch } from "../../Errors.js"
import type { DatabaseError } from "../../Errors.js"
import * as Tenant from "../../Tenant.js"
import { ClientExecutor } from "../client/executor.js"
import type { ModelDefinition } from "../model/definition.js"
import { declaredOf, relation } from "../model/relations.js"
import { checkForeignKeys, cycleOf } from "../sql/foreignKeys.js"
import { statementsFor } from "../sql/statements.js"
import type { Binding, Connected } from "./binding.js"
import { connect, inOwnTransaction, onOwnConnection } from "./binding.js"
import type { ClientState } from "./clientState.js"
import { stateOf } from "./clientState.js"
import { cycleWork } from "./cycles.js"
import type { TableWork } from "./ddl.js"
import { ensure, serverInfo } from "./ddl.js"
import { onClient } from "../schema/introspect.js"
import { changesOf, liveTable, reconcile } from "../schema/reconcile.js"
import { pick, ReadFromPrimary, ReadReplicas, readOperations } from "./replicas.js"
import { toDatabaseError } from "./errors.js"
import { DefaultSchema } from "./settings.js"
import type { NodeContext } from "./executor.js"

/** @internal */
export const uncheckedTenant = () =>
  new InvalidTenantId({
    reason: "Tenant.CurrentTenant holds a value that was not checked (provide it with Tenant.with, Tenant.layer or Tenant.make)"
  })

/**
 * The key of a context's table in the client's ready map: per model, so two models of one
 * table (an old and a new version of it) are each checked.
 */
const readyKeys = new WeakMap<NodeContext, string>()
const modelIds = new WeakMap<ModelDefinition, number>()
let lastModelId = 0
const modelId = (def: ModelDefinition) => {
  let id = modelIds.get(def)
  if (id === undefined) modelIds.set(def, id = ++lastModelId)
  return id
}

/** The part of a context that does not depend on the tenant, made once per model, client and schema. */
const baseContexts = new WeakMap<ModelDefinition, WeakMap<SqlClient.SqlClient, Map<string, NodeContext>>>()

const resolved = (
  def: ModelDefinition,
  operation: string,
  connected: Connected,
  tenancy: "row" | "schema" | "database",
  tenant: string | undefined,
  /** No DDL: a replica's tables are the primary's, ensured there. */
  replica = false,
  /** Models whose tables are being ensured: a cycle of relations stops here. */
  visiting: ReadonlySet<ModelDefinition> = new Set()
): Effect.Effect<NodeContext, DatabaseError | ConfigurationError | SchemaMismatch> => {
  const { sql } = connected
  const state = stateOf(sql)
  if (state.executor === undefined && connected.executor?.client === sql) state.executor = connected.executor
  let schema: string | undefined
  if (tenancy === "schema" && tenant !== undefined) {
    if (!state.dialect.supportsSchemas) {
      return Effect.fail(
        new ConfigurationError({
          model: def.name,
          operation,
          reason: "the schema tenancy strategy needs a database with schemas (PostgreSQL, MySQL); SQLite has none"
        })
      )
    }
    schema = Tenant.schemaName(tenant)
  } else if (connected.schema !== undefined) {
    if (!state.dialect.supportsSchemas) {
      return Effect.fail(
        new ConfigurationError({
          model: def.name,
          operation,
          reason: "a schema option needs a database with schemas (PostgreSQL, MySQL); SQLite has none"
        })
      )
    }
    schema = connected.schema
  }
  let byClient = baseContexts.get(def)
  if (byClient === undefined) baseContexts.set(def, byClient = new WeakMap())
  let bySchema = byClient.get(sql)
  if (bySchema === undefined) byClient.set(sql, bySchema = new Map())
  let base = bySchema.get(schema ?? "")
  if (base === undefined) {
    base = { sql, statements: statementsFor(def, state.dialect, schema), tenant: undefined, executor: state.executor }
    bySchema.set(schema ?? "", base)
    readyKeys.set(base, `${schema === undefined ? def.table : `${schema}.${def.table}`}#${modelId(def)}`)
  }
  const ctx = tenant !== undefined ? { ...base, tenant } : connected.relationTenant !== undefined ? { ...base, relationTenant: connected.relationTenant } : base
  const key = readyKeys.get(base)!
  if (replica || state.ready.get(key) === true) return Effect.succeed(ctx)
  const table = schema === undefined ? def.table : `${schema}.${def.table}`
  const spec = base.statements.tableSpec
  const work: TableWork<SchemaMismatch> = (server, conn, policy) =>
    Effect.flatMap(reconcile(state.dialect, server, conn, spec, policy), (differences) =>
      differences.length === 0
        ? Effect.void
        : Effect.fail(schemaMismatch(def.name, operation, def.table, differences)))
  const mapError = (e: unknown) => e instanceof SchemaMismatch ? e : toDatabaseError(state.dialect, def.name, operation, e)
  const checked = checkForeignKeys(def, operation)
  if (Either.isLeft(checked)) return Effect.fail(checked.left)
  // a cycle of foreign keys: its tables are created together first, once per client
  const cycle = state.dialect.alter.addForeignKey === undefined ? [] : cycleOf(def)
  const together = cycle.length === 0 ? Effect.void : ensureCycle(sql, state, def, cycle, schema, mapError)
  return Effect.as(
    referenced([def, ...cycle], operation, connected, tenancy, tenant, visiting).pipe(
      Effect.zipRight(onOwnConnection(sql)(Effect.zipRight(together, ensure(sql, state, key, table, work, mapError, spec)))),
      Effect.zipRight(referencing(def, operation, connected, tenancy, tenant, visiting))
    ),
    ctx
  )
}

/**
 * The tables of a cycle of foreign keys (`def` and `cycle`) created together, under one DDL
 * lock and one ready entry for all of them: concurrent first uses of any of them wait for the
 * one that runs it.
 */
const ensureCycle = <E>(
  sql: SqlClient.SqlClient,
  state: ClientState,
  def: ModelDefinition,
  cycle: ReadonlyArray<ModelDefinition>,
  schema: string | undefined,
  mapError: (e: unknown) => E
): Effect.Effect<void, E> => {
  const specs = [def, ...cycle]
    .map((m) => statementsFor(m, state.dialect, m.tenantScoped === def.tenantScoped ? schema : undefined).tableSpec)
    .sort((a, b) => (a.table < b.table ? -1 : 1))
  const key = `cycle:${specs.map((s) => (s.schema === undefined ? s.table : `${s.schema}.${s.table}`)).join(",")}`
  return ensure(sql, state, key, key, cycleWork(state.dialect, specs), mapError)
}

/** The span attribute naming where a node's statements went when replicas are provided. */
const ROUTE = "dataflow.route"

/** The tables of related models ensured (their own contexts resolved), `def` marked as visited. */
const ensureTables = (
  targets: ReadonlyArray<ModelDefinition>,
  def: ModelDefinition,
  operation: string,
  connected: Connected,
  tenancy: "row" | "schema" | "database",
  tenant: string | undefined,
  visiting: ReadonlySet<ModelDefinition>
): Effect.Effect<void, DatabaseError | ConfigurationError | SchemaMismatch> => {
  if (targets.length === 0) return Effect.void
  const inside = new Set([...visiting, def])
  return Effect.forEach(
    targets,
    (target) => resolved(target, operation, connected, tenancy, target.tenantScoped ? tenant : undefined, false, inside),
    { discard: true }
  )
}

/**
 * The tables of a model's has-many and has-one targets, ensured after its own: a relation
 * filter's subquery reads them (their own foreign keys refer to this table, now there).
 */
const referencing = (
  def: ModelDefinition,
  operation: string,
  connected: Connected,
  tenancy: "row" | "schema" | "database",
  tenant: string | undefined,
  visiting: ReadonlySet<ModelDefinition>
): Effect.Effect<void, DatabaseError | ConfigurationError | SchemaMismatch> => {
  const targets: Array<ModelDefinition> = []
  for (const [name, spec] of declaredOf(def)) {
    if (spec.kind === "belongsTo") continue
    const resolved = relation(def, name, operation)!
    if (Either.isLeft(resolved)) return Effect.fail(resolved.left)
    for (const target of [resolved.right.target, resolved.right.through?.definition]) {
      if (target !== undefined && target !== def && !visiting.has(target) && !targets.includes(target)) targets.push(target)
    }
  }
  return ensureTables(targets, def, operation, connected, tenancy, tenant, visiting)
}

/**
 * The tables the foreign keys of `models` (a model, or the models of a cycle, the first one
 * being ensured) reference outside them, ensured before theirs (relations checked first).
 */
const referenced = (
  models: ReadonlyArray<ModelDefinition>,
  operation: string,
  connected: Connected,
  tenancy: "row" | "schema" | "database",
  tenant: string | undefined,
  visiting: ReadonlySet<ModelDefinition>
): Effect.Effect<void, DatabaseError | ConfigurationError | SchemaMismatch> => {
  const targets: Array<ModelDefinition> = []
  for (const model of models) {
    const checked = checkForeignKeys(model, operation)
    if (Either.isLeft(checked)) return Effect.fail(checked.left)
    for (const { target } of checked.right) {
      if (!models.includes(target) && !visiting.has(target) && !targets.includes(target)) targets.push(target)
    }
  }
  return ensureTables(targets, models[0]!, operation, connected, tenancy, tenant, new Set([...visiting, ...models]))
}

/**
 * The context on the client's primary, or — for a read outside the client's transaction and
 * outside `DataFlow.primary`, when the client has replicas that answer — on the next replica
 * (the table ensured on the primary). The span says which (`dataflow.route`).
 */
const routed = (
  def: ModelDefinition,
  operation: string,
  services: Context.Context<never>,
  connected: Connected,
  tenancy: "row" | "schema" | "database",
  tenant: string | undefined
): Effect.Effect<NodeContext, DatabaseError | ConfigurationError | SchemaMismatch> => {
  const primary = resolved(def, operation, connected, tenancy, tenant)
  const replicas = connected.replicas
  if (replicas === undefined || !readOperations.has(operation)) return primary
  const replica = Context.get(services, ReadFromPrimary) || inOwnTransaction(services, connected.sql)
    ? undefined
    : pick(replicas)
  if (replica === undefined) return Effect.zipLeft(primary, Effect.annotateCurrentSpan(ROUTE, "primary"))
  return Effect.zipRight(
    primary,
    Effect.zipLeft(
      resolved(def, operation, { ...connected, sql: replica.sql, executor: replica.executor }, tenancy, tenant, true),
      Effect.annotateCurrentSpan(ROUTE, replica.label)
    )
  )
}

/** The differences of a table as the typed error. @internal */
export const schemaMismatch = (
  model: string,
  operation: string,
  table: string,
  differences: ReadonlyArray<{ readonly column?: string | undefined; readonly reason: string }>
) =>
  new SchemaMismatch({
    model,
    operation,
    table,
    ...(differences[0]!.column === undefined ? {} : { column: differences[0]!.column }),
    reason: differences[0]!.reason,
    differences: differences.map((d) => (d.column === undefined ? { reason: d.reason } : { column: d.column, reason: d.reason }))
  })

/**
 * A global model's relation filters reach tenant-scoped models' rows: under the row strategy
 * they are the current tenant's (when there is one), so the context carries it — it never
 * scopes the global model's own rows (they have no tenant column) nor picks a schema.
 */
const relatedTenant = (def: ModelDefinition, tenancy: "row" | "schema" | "database", services: Context.Context<never>) => {
  if (tenancy !== "row" || declaredOf(def).size === 0) return undefined
  const current = Option.getOrUndefined(Context.getOption(services, Tenant.CurrentTenant))
  return current !== undefined && Tenant.isTenantId(current) ? current : undefined
}

/**
 * The contexts of calls made with the same services (one fiber's calls, usually) on a model's
 * ready table: everything a context holds is read from the services, and a table once ready
 * stays so, so the next call skips the lookups. Not for instance models (their client is held
 * per call) nor with read replicas (each read picks the next one).
 */
const readyContexts = new WeakMap<ModelDefinition, WeakMap<Context.Context<never>, Effect.Effect<NodeContext>>>()

const remember = (def: ModelDefinition, services: Context.Context<never>, ctx: NodeContext) => {
  let byServices = readyContexts.get(def)
  if (byServices === undefined) readyContexts.set(def, byServices = new WeakMap())
  byServices.set(services, Effect.succeed(ctx))
}

/**
 * The context of a node call. `R` is what the model's nodes require (its client or instance,
 * and the tenant; a Scope for an instance, provided by the node): the services read here, the
 * one place where the nodes' requirements are introduced.
 * @internal
 */
export const context = <R>(
  def: ModelDefinition,
  operation: string
): Effect.Effect<NodeContext, DatabaseError | ConfigurationError | SchemaMismatch, R> =>
  Effect.withFiberRuntime((fiber) => {
    // services are read synchronously: a node call costs no extra Effect steps here
    const services = fiber.currentContext
    const known = def.instance === undefined ? readyContexts.get(def)?.get(services) : undefined
    if (known !== undefined) return known
    const tenant = def.tenantScoped ? Context.unsafeGet(services, Tenant.CurrentTenant) : undefined
    // a value put there with a cast never reaches a statement or a schema name
    if (tenant !== undefined && !Tenant.isTenantId(tenant)) return Effect.die(uncheckedTenant())
    if (def.instance === undefined) {
      const sql = Context.unsafeGet(services, SqlClient.SqlClient)
      const executor = Option.getOrUndefined(Context.getOption(services, ClientExecutor))
      const schema = Context.get(services, DefaultSchema)
      const replicas = Option.getOrUndefined(Context.getOption(services, ReadReplicas))
      const tenancy = Context.get(services, Tenant.Tenancy)
      const relationTenant = tenant === undefined ? relatedTenant(def, tenancy, services) : undefined
      const connected = { sql, executor, schema, replicas, relationTenant }
      if (replicas !== undefined) return routed(def, operation, services, connected, tenancy, tenant)
      return Effect.tap(resolved(def, operation, connected, tenancy, tenant), (ctx) => remember(def, services, ctx))
    }
    const binding = Context.unsafeGet(services, def.instance as unknown as Context.Tag<unknown, Binding>)
    // the client is held for the node's whole run: the node is scoped (see nodes/shared.ts)
    return Effect.flatMap(
      connect(binding, tenant, def.name, operation),
      (connected) => routed(def, operation, services, connected, binding.tenancy, tenant)
    ) as Effect.Effect<NodeContext, DatabaseError | ConfigurationError | SchemaMismatch>
  })

/**
 * Checks a model's table against the model strictly (`DataFlow.migrate`): after the policy's
 * first-use work, any difference left but an extra index is a `SchemaMismatch`.
 * @internal
 */
export const verify = <R>(
  def: ModelDefinition,
  operation: string
): Effect.Effect<void, DatabaseError | ConfigurationError | SchemaMismatch, R> =>
  Effect.flatMap(context<R>(def, operation), (ctx) => {
    const state = stateOf(ctx.sql)
    const spec = ctx.statements.tableSpec
    const conn = { query: onClient(ctx.sql), run: (s: string) => ctx.sql.unsafe(s).withoutTransform }
    return Effect.gen(function*() {
      const server = yield* serverInfo(ctx.sql, state)
      const live = yield* liveTable(state.dialect, conn, spec)
      if (live === undefined) return [{ reason: "the table does not exist" }]
      const { all } = yield* changesOf(state.dialect, server, conn, spec, live)
      return all.filter((c) => c.kind !== "dropIndex").map((c) => ({ column: c.column, reason: c.blocked ?? c.description }))
    }).pipe(
      Effect.mapError((e) => toDatabaseError(state.dialect, def.name, operation, e)),
      Effect.flatMap((differences) =>
        differences.length === 0 ? Effect.void : Effect.fail(schemaMismatch(def.name, operation, def.table, differences))
      )
    )
  })
