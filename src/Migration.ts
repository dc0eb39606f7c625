/**
 * Explicit migrations. `plan(models)` introspects the live database and diffs it with the
 * models: a typed plan of operations (create table, add / drop / retype a column, nullability,
 * indexes, unique constraints, declared renames), each with its SQL for this database, marked
 * destructive or not and reversible or not. `apply(plan)` runs it behind a lock (PostgreSQL
 * advisory lock, MySQL `GET_LOCK`, SQLite `BEGIN IMMEDIATE`), in one transaction on
 * PostgreSQL and SQLite, and records it in the history table `dataflow_migrations`, so
 * applying the same plan again does nothing. `status` tells applied, pending and drifted.
 *
 * MySQL/MariaDB commit every DDL statement: there, when an operation in the middle fails, the
 * operations before it stay applied (`MigrationFailed.completed` says how many), no history
 * row is written, and a new plan holds exactly what is left.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as ParseResult from "effect/ParseResult"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { DatabaseError, MigrationFailed } from "./Errors.js"
import { ConfigurationError, MigrationRefused } from "./Errors.js"
import type { Dialect } from "./internal/dialect/dialect.js"
import { definitionOf } from "./internal/model/definition.js"
import { stateOf } from "./internal/runtime/clientState.js"
import { serverInfo } from "./internal/runtime/ddl.js"
import { toDatabaseError } from "./internal/runtime/errors.js"
import { DefaultSchema } from "./internal/runtime/settings.js"
import type { OperationKind } from "./internal/schema/diff.js"
import { onClient } from "./internal/schema/introspect.js"
import * as internal from "./internal/schema/migration.js"
import { checkForeignKeys } from "./internal/sql/foreignKeys.js"
import { statementsFor } from "./internal/sql/statements.js"
import type * as Model from "./Model.js"
import * as Tenant from "./Tenant.js"

/**
 * One operation of a plan: what it does (`kind`, `description`), its SQL (`up`), the SQL that
 * undoes it (`down`, absent when it cannot be undone: the data it removes is gone), whether
 * it can lose data (`destructive`), whether it only adds (`additive`), and why it cannot run
 * (`blocked`: a NOT NULL column without a default on a table with rows).
 *
 * @since 0.1.0
 * @category models
 */
export const Operation = Schema.Struct({
  kind: Schema.Literal(
    "createTable",
    "dropTable",
    "addColumn",
    "dropColumn",
    "alterColumnType",
    "alterNullability",
    "addIndex",
    "dropIndex",
    "addUnique",
    "dropUnique",
    "rebuildTable",
    "renameColumn",
    "primaryKey",
    "addForeignKey",
    "dropForeignKey",
    "alterDefault"
  ) satisfies Schema.Schema<OperationKind>,
  table: Schema.String,
  column: Schema.optional(Schema.String),
  index: Schema.optional(Schema.String),
  description: Schema.String,
  up: Schema.Array(Schema.String),
  down: Schema.optional(Schema.Array(Schema.String)),
  destructive: Schema.Boolean,
  additive: Schema.Boolean,
  blocked: Schema.optional(Schema.String)
})

/**
 * An operation of a plan (see {@link Operation}).
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = typeof Operation.Type

/**
 * A migration plan, as `plan` makes it and as its JSON file keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export const Plan = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  dialect: Schema.Literal("sqlite", "pg", "mysql"),
  tables: Schema.Array(Schema.String),
  checksum: Schema.String,
  operations: Schema.Array(Operation)
})

/**
 * A migration plan (see {@link Plan}).
 *
 * @since 0.1.0
 * @category models
 */
export type Plan = typeof Plan.Type

/**
 * Options of {@link plan}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlanOptions {
  /** The migration's name (default: from its first operation). */
  readonly name?: string | undefined
  /** Declared column renames, `{ "users.full_name": "name" }`: never guessed (a plan offers drop + add otherwise). */
  readonly renames?: Readonly<Record<string, string>> | undefined
  /** Also drop the tables of the schema that no model declares. */
  readonly dropUnknownTables?: boolean | undefined
}

/**
 * A migration in the history table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Applied {
  readonly id: string
  readonly name: string
  readonly checksum: string
  readonly appliedAt: string
  readonly operations: ReadonlyArray<Operation>
}

/**
 * Where the database stands: the migrations applied, the plan still pending (empty when the
 * tables are the models'), and whether the tables of the last migration changed since it was
 * applied (`drifted`: someone changed them outside the library).
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly applied: ReadonlyArray<Applied>
  readonly pending: Plan
  readonly drifted: boolean
  /**
   * Migrations started after the last applied one that did not finish (MySQL/MariaDB, where
   * each DDL statement commits: the process died, or an operation failed), with how many of
   * their operations are done; applying the same plan again goes on from there. Always empty
   * on PostgreSQL and SQLite, where an unfinished migration leaves nothing.
   */
  readonly interrupted: ReadonlyArray<Interrupted>
  /**
   * A session holds the migration lock now: a migration is running (or its session has not
   * ended yet). Always false on SQLite, where it cannot be asked.
   */
  readonly locked: boolean
}

/**
 * A migration that did not finish (see {@link Status}): the operations done (`completed` of
 * `operations`, in plan order) are in the database, the rest are not.
 *
 * @since 0.1.0
 * @category models
 */
export interface Interrupted {
  readonly id: string
  readonly name: string
  readonly startedAt: string
  readonly completed: number
  readonly operations: ReadonlyArray<Operation>
}

/**
 * An operation of `apply` starting, or finished (with `elapsedMs`): `index` (0-based) of
 * `total`.
 *
 * @since 0.1.0
 * @category models
 */
export type Progress = internal.Progress

/**
 * Options of {@link apply}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ApplyOptions {
  /** Run operations that can lose data. */
  readonly allowDestructive?: boolean | undefined
  /** Called as each operation starts and finishes (the CLI prints it). */
  readonly onProgress?: ((event: Progress) => Effect.Effect<void>) | undefined
}

/**
 * What `apply` did: `applied` false when the plan was applied before (its id is in the
 * history) or is empty.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  readonly applied: boolean
  readonly operations: number
}

const cleanOperation = (o: internal.Plan["operations"][number]): Operation => ({
  kind: o.kind,
  table: o.table,
  description: o.description,
  up: o.up,
  destructive: o.destructive,
  additive: o.additive,
  ...(o.column === undefined ? {} : { column: o.column }),
  ...(o.index === undefined ? {} : { index: o.index }),
  ...(o.down === undefined ? {} : { down: o.down }),
  ...(o.blocked === undefined ? {} : { blocked: o.blocked })
})

const flag = (u: unknown) => u === true || u === 1 || u === 1n || u === "1" || u === "t"

const environment = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const state = stateOf(sql)
  const schema = yield* DefaultSchema
  const mapError = (e: unknown) => toDatabaseError(state.dialect, "Migration", "migrate", e)
  const server = yield* Effect.mapError(serverInfo(sql, state), mapError)
  return { sql, dialect: state.dialect, schema, server, mapError }
})

/** The models' tables; a relation that cannot be resolved is a ConfigurationError. */
const specsOf = (dialect: Dialect, models: ReadonlyArray<Model.Any>, schema: string | undefined) =>
  Effect.forEach(models, (m) => {
    const def = definitionOf(m)
    return Either.map(checkForeignKeys(def, "migrate"), () => statementsFor(def, dialect, schema).tableSpec)
  })

/**
 * The plan that turns the live tables into the models' (on the default `SqlClient`, in its
 * current schema or `DataFlow.schema`). Nothing is changed.
 *
 * @example
 * ```ts
 * import { Console, Effect, Schema } from "effect"
 * import { DataFlow, Migration, Model } from "effect-dataflow"
 *
 * const User = Model.make("User", Schema.Struct({ id: Schema.Int, email: Schema.String }), { unique: ["email"] })
 * const program = Effect.gen(function*() {
 *   const plan = yield* Migration.plan([User])
 *   for (const op of plan.operations) yield* Console.log(op.description, op.up)
 *   yield* Migration.apply(plan)
 * }).pipe(Effect.provide(DataFlow.layer({ url: "sqlite::memory:" })))
 * ```
 *
 * @since 0.1.0
 * @category migrations
 */
export const plan = (
  models: ReadonlyArray<Model.Any>,
  options: PlanOptions = {}
): Effect.Effect<Plan, DatabaseError | ConfigurationError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const env = yield* environment
    const specs = yield* specsOf(env.dialect, models, env.schema)
    const made = yield* Effect.mapError(internal.plan(env.dialect, env.server, env.sql, specs, env.schema, options), env.mapError)
    return { ...made, operations: made.operations.map(cleanOperation) }
  })

/**
 * Applies a plan: refused before anything runs (`MigrationRefused`) when it holds destructive
 * operations without `allowDestructive`, blocked operations, or was made for another
 * database; a no-op when it is in the history (by its id; two plans of the same operations
 * are two migrations). Several processes applying at once
 * are serialised by the migration lock: the plan runs once.
 *
 * @since 0.1.0
 * @category migrations
 */
export const apply = (
  plan: Plan,
  options: ApplyOptions = {}
): Effect.Effect<Outcome, DatabaseError | MigrationRefused | MigrationFailed, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const env = yield* environment
    if (plan.dialect !== env.dialect.name) {
      return yield* new MigrationRefused({ reason: `the plan was made for ${plan.dialect}, the database is ${env.dialect.name}`, operations: [] })
    }
    const refused = internal.refusal(plan, options.allowDestructive === true)
    if (refused !== undefined) return yield* refused
    return yield* internal.apply(env.dialect, env.server, env.sql, env.schema, plan, options.onProgress).pipe(
      Effect.catchTag("SqlError", (e) => Effect.fail(env.mapError(e)))
    )
  })

/**
 * The applied migrations, the pending plan for the models, and whether the tables changed
 * outside the library since the last migration.
 *
 * @since 0.1.0
 * @category migrations
 */
export const status = (
  models: ReadonlyArray<Model.Any>
): Effect.Effect<Status, DatabaseError | ConfigurationError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const env = yield* environment
    const pending = yield* plan(models)
    const query = onClient(env.sql)
    const all = yield* Effect.mapError(internal.history(env.dialect, query, env.schema), env.mapError)
    const entries = all.filter((e) => e.completed === undefined)
    const last = entries.at(-1)
    // an unfinished migration matters until a later one is applied
    const interrupted = all.slice(last === undefined ? 0 : all.indexOf(last) + 1).filter((e) => e.completed !== undefined)
    const held = env.dialect.migrationLock.held
    const locked = held === undefined
      ? false
      : yield* Effect.mapError(Effect.map(query({ text: held, params: [] }), (rows) => flag(rows[0]?.held)), env.mapError)
    const drifted = last === undefined
      ? false
      : (yield* Effect.mapError(internal.schemaFingerprint(env.dialect, query, env.schema, last.tables), env.mapError)) !== last.schema
    return {
      applied: entries.map((e) => ({
        id: e.id,
        name: e.name,
        checksum: e.checksum,
        appliedAt: e.appliedAt,
        operations: e.operations.map(cleanOperation)
      })),
      pending,
      drifted,
      interrupted: interrupted.map((e) => ({
        id: e.id,
        name: e.name,
        startedAt: e.appliedAt,
        completed: e.completed ?? 0,
        operations: e.operations.map(cleanOperation)
      })),
      locked
    }
  })

/**
 * Undoes the last applied migration (its operations' `down` SQL, in reverse order) and
 * removes it from the history; `MigrationRefused` when one of its operations is not
 * reversible. Succeeds with the migration undone, or undefined when none was applied.
 *
 * @since 0.1.0
 * @category migrations
 */
export const rollback = (): Effect.Effect<Applied | undefined, DatabaseError | MigrationRefused | MigrationFailed, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const env = yield* environment
    const undone = yield* internal.rollback(env.dialect, env.server, env.sql, env.schema).pipe(
      Effect.catchTag("SqlError", (e) => Effect.fail(env.mapError(e)))
    )
    return undone === undefined ? undefined : { ...undone, operations: undone.operations.map(cleanOperation) }
  })

/**
 * A plan as files to review and commit: `up.sql`, `down.sql` (when every operation is
 * reversible) and `plan.json` (what `fromJson` reads back to apply later).
 *
 * @since 0.1.0
 * @category files
 */
export const toFiles = (plan: Plan): Readonly<Record<string, string>> => {
  const sql = (statements: ReadonlyArray<string>) => statements.map((s) => `${s};`).join("\n")
  const up = plan.operations.map((o) => `-- ${o.description}${o.destructive ? " [destructive]" : ""}\n${sql(o.up)}`).join("\n\n")
  const reversible = plan.operations.every((o) => o.down !== undefined)
  const down = [...plan.operations].reverse().map((o) => `-- undo: ${o.description}\n${sql(o.down ?? [])}`).join("\n\n")
  return {
    "up.sql": `-- ${plan.id} (${plan.dialect}), checksum ${plan.checksum}\n${up}\n`,
    ...(reversible ? { "down.sql": `-- undo ${plan.id} (${plan.dialect})\n${down}\n` } : {}),
    "plan.json": `${JSON.stringify(plan, null, 2)}\n`
  }
}

/**
 * A plan read back from its `plan.json`.
 *
 * @since 0.1.0
 * @category files
 */
export const fromJson = (json: string): Either.Either<Plan, ParseResult.ParseError> =>
  Schema.decodeUnknownEither(Schema.parseJson(Plan))(json)

/**
 * A short, readable account of a plan (one line per operation, flags in brackets).
 *
 * @since 0.1.0
 * @category files
 */
export const describe = (plan: Plan): string =>
  plan.operations.length === 0
    ? "nothing to do: the tables are the models'"
    : plan.operations.map((o) =>
      `${o.destructive ? "!" : o.blocked !== undefined ? "x" : "+"} ${o.table}: ${o.description}${
        o.down === undefined ? " [irreversible]" : ""
      }${o.blocked === undefined ? "" : ` [blocked: ${o.blocked}]`}`
    ).join("\n")


/**
 * Options of {@link applyTenants}.
 *
 * @since 0.1.0
 * @category models
 */
export interface TenantOptions extends ApplyOptions {
  /** Each tenant's migration's name (default: from its first operation). */
  readonly name?: string | undefined
  /** Go on with the next tenants after one fails (default: stop; the rest are `skipped`). */
  readonly continueOnFailure?: boolean | undefined
}

/**
 * What {@link applyTenants} did for one tenant: `applied` (its plan ran), `upToDate` (nothing
 * to do), `failed` (with the error: its schema is as `status` shows it), `skipped` (after an
 * earlier tenant failed, without `continueOnFailure`).
 *
 * @since 0.1.0
 * @category models
 */
export interface TenantResult {
  readonly tenant: string
  /** The tenant's schema (PostgreSQL) / database (MySQL): `Tenant.storageName(tenant)`. */
  readonly schema: string
  readonly result: "applied" | "upToDate" | "failed" | "skipped"
  readonly plan?: Plan | undefined
  readonly operations?: number | undefined
  readonly error?: DatabaseError | ConfigurationError | MigrationRefused | MigrationFailed | undefined
}

/** The tenant-scoped models, and the tenants' schemas (checked ids), on a database with schemas. */
const tenantTargets = (models: ReadonlyArray<Model.Any>, tenants: ReadonlyArray<string>, operation: string) =>
  Effect.gen(function*() {
    const env = yield* environment
    if (!env.dialect.supportsSchemas) {
      return yield* new ConfigurationError({ model: "Migration", operation, reason: `${env.dialect.name} has no schemas: the schema tenant strategy needs PostgreSQL or MySQL` })
    }
    const scoped = models.filter((m) => definitionOf(m).tenantScoped)
    const targets = yield* Effect.forEach(tenants, (tenant) =>
      Either.match(Tenant.validate(tenant), {
        onLeft: (e) => Effect.fail(new ConfigurationError({ model: "Migration", operation, reason: e.message })),
        onRight: (id) => Effect.succeed({ tenant: id as string, schema: Tenant.storageName(id) })
      }))
    return { scoped, targets }
  })

/** Runs an effect in a tenant's schema. */
const inSchema = (schema: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, DefaultSchema, schema)

/**
 * Plans and applies the tenant-scoped models in each tenant's schema (the `schema` tenant
 * strategy: `Tenant.storageName(tenant)`, created when missing), one tenant after the other,
 * each with its own plan, lock and history (`dataflow_migrations` in its schema). Models that
 * are not tenant-scoped are left out (their tables are shared: migrate them with
 * {@link plan} / {@link apply}). Reports per tenant; stops at the first failure unless
 * `continueOnFailure` (the tenants after it are `skipped`). A bad tenant id or a database
 * without schemas (SQLite) fails before anything runs.
 *
 * @since 0.1.0
 * @category migrations
 */
export const applyTenants = (
  models: ReadonlyArray<Model.Any>,
  tenants: ReadonlyArray<string>,
  options: TenantOptions = {}
): Effect.Effect<ReadonlyArray<TenantResult>, DatabaseError | ConfigurationError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const { scoped, targets } = yield* tenantTargets(models, tenants, "applyTenants")
    const results: Array<TenantResult> = []
    let failed = false
    for (const { schema, tenant } of targets) {
      if (failed && options.continueOnFailure !== true) {
        results.push({ tenant, schema, result: "skipped" })
        continue
      }
      const run = Effect.gen(function*() {
        const planned = yield* Effect.mapError(plan(scoped, { name: options.name }), (error) => ({ error, planned: undefined }))
        const outcome = yield* Effect.mapError(apply(planned, options), (error) => ({ error, planned }))
        return { planned, outcome }
      })
      const done = yield* Effect.either(inSchema(schema)(run))
      if (Either.isLeft(done)) {
        failed = true
        results.push({ tenant, schema, result: "failed", plan: done.left.planned, error: done.left.error })
      } else {
        const { outcome, planned } = done.right
        results.push({ tenant, schema, result: outcome.applied ? "applied" : "upToDate", plan: planned, operations: outcome.operations })
      }
    }
    return results
  })

/**
 * {@link status} in each tenant's schema (see {@link applyTenants}), for the tenant-scoped
 * models.
 *
 * @since 0.1.0
 * @category migrations
 */
export const statusTenants = (
  models: ReadonlyArray<Model.Any>,
  tenants: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<{ readonly tenant: string; readonly schema: string; readonly status: Status }>, DatabaseError | ConfigurationError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const { scoped, targets } = yield* tenantTargets(models, tenants, "statusTenants")
    return yield* Effect.forEach(targets, ({ schema, tenant }) =>
      Effect.map(inSchema(schema)(status(scoped)), (s) => ({ tenant, schema, status: s })))
  })
