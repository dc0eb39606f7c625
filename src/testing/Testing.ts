/**
 * A testing kit for programs built on effect-dataflow (`effect-dataflow/testing`): fast-check
 * arbitraries of what every database stores exactly, derived from a model, and test layers for
 * `@effect/vitest`.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as FastCheck from "effect/FastCheck"
import type * as Schema from "effect/Schema"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { CurrentTenant } from "../Tenant.js"
import type { DatabaseError } from "../Errors.js"
import type * as Model from "../Model.js"
import { definitionOf } from "../internal/model/definition.js"
import * as arbitrary from "../internal/testing/arbitrary.js"
import * as equivalence from "../internal/testing/equivalence.js"
import * as commandsRunner from "../internal/testing/commands.js"
import * as layers from "../internal/testing/layers.js"
import * as referenceImpl from "../internal/testing/reference.js"
import * as nested from "../internal/testing/reference/nested.js"
import * as referenceLayer from "../internal/testing/referenceLayer.js"
import * as workflowsRunner from "../internal/testing/workflows.js"
import type * as Workflow from "../Workflow.js"

/**
 * A model the kit derives arbitraries from (any model `Model.make` returns).
 *
 * @since 0.1.0
 * @category models
 */
export interface AnyModel extends Model.Any {
  readonly fields: Schema.Struct.Fields
  readonly primaryKey: string | ReadonlyArray<string>
  readonly Type: unknown
  readonly Input: unknown
}

/**
 * `create`'s input type of a model.
 *
 * @since 0.1.0
 * @category models
 */
export type InputOf<M extends AnyModel> = M["Input"]

/**
 * The record type a model's nodes return.
 *
 * @since 0.1.0
 * @category models
 */
export type RecordOf<M extends AnyModel> = M["Type"]

/**
 * The fields of a model's primary key: its key field, or every field of a composite key.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyFieldsOf<M extends AnyModel> = M["primaryKey"] extends ReadonlyArray<infer K> ? K : M["primaryKey"]

/**
 * A plain patch of a model: any declared field but the primary key's, with a value of its type.
 *
 * @since 0.1.0
 * @category models
 */
export type PatchOf<M extends AnyModel> = {
  readonly [K in Exclude<keyof Schema.Struct.Type<M["fields"]>, KeyFieldsOf<M>>]?: Schema.Struct.Type<M["fields"]>[K]
}

/**
 * Per-field arbitraries replacing the generated ones; one that draws `undefined` leaves the
 * key out.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export type Overrides<A> = { readonly [K in keyof A]?: FastCheck.Arbitrary<A[K] | undefined> }

/**
 * Options of the arbitraries.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export interface ArbitraryOptions<A> {
  readonly overrides?: Overrides<A>
}

/**
 * Inputs of a model's `create` that every database stores exactly: finite numbers without -0,
 * dates between 1000-01-01 and 9999-12-31 with millisecond precision, 64-bit bigints,
 * decimals within their column's precision and scale, well-formed text without NUL within the
 * column's length, enum members, JSON without non-finite numbers or `__proto__` keys; `null`
 * for nullable fields; optional fields and fields with a constructor default sometimes left
 * out; a database-generated integer primary key left out unless overridden; every field of a
 * composite primary key always drawn. Fields with
 * refinements (`Schema.pattern`, `Schema.between`, …) are drawn from their own schema and
 * filtered by the same storage checks. Shrinks like any fast-check arbitrary.
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Testing } from "effect-dataflow/testing"
 *
 * it.effect.prop("a created user reads back", [Testing.createInput(User)], ([input]) =>
 *   Effect.flatMap(User.create(input), (user) => User.read(user.id)))
 * ```
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const createInput = <M extends AnyModel>(
  model: M,
  options?: ArbitraryOptions<InputOf<M>>
): FastCheck.Arbitrary<InputOf<M>> =>
  arbitrary.createInput(definitionOf(model), options?.overrides as arbitrary.Overrides | undefined) as FastCheck.Arbitrary<
    InputOf<M>
  >

/**
 * Records as a model's nodes return them: every declared field and the managed ones
 * (`createdAt`, `updatedAt`, `deletedAt`, `version`, `tenantId`), with storable values.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const record = <M extends AnyModel>(
  model: M,
  options?: ArbitraryOptions<RecordOf<M>>
): FastCheck.Arbitrary<RecordOf<M>> =>
  arbitrary.record(definitionOf(model), options?.overrides as arbitrary.Overrides | undefined) as FastCheck.Arbitrary<
    RecordOf<M>
  >

/**
 * Patches for a model's `update`: any subset of the declared fields but the primary key's (every
 * field of a composite key), with storable values (the empty patch included).
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const patch = <M extends AnyModel>(
  model: M,
  options?: ArbitraryOptions<PatchOf<M>>
): FastCheck.Arbitrary<PatchOf<M>> =>
  arbitrary.patch(definitionOf(model), options?.overrides as arbitrary.Overrides | undefined) as FastCheck.Arbitrary<
    PatchOf<M>
  >

/**
 * How many rows {@link rows} draws: an exact count, or a range (default 0 to 10).
 *
 * @since 0.1.0
 * @category arbitraries
 */
export type Size = number | { readonly min?: number; readonly max?: number }

/**
 * Arrays of `create` inputs (for `bulkCreate`, or a data set to seed) whose primary keys (a
 * composite key as a whole) and declared unique constraints, single and composite, really are unique, compared as the
 * databases compare them (dates by instant, decimals by value; NULLs never collide). A
 * constraint over few values (an enum) cannot hold more rows than it has values.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const rows = <M extends AnyModel>(
  model: M,
  options?: ArbitraryOptions<InputOf<M>> & { readonly size?: Size }
): FastCheck.Arbitrary<ReadonlyArray<InputOf<M>>> =>
  arbitrary.rows(definitionOf(model), {
    size: options?.size,
    overrides: options?.overrides as arbitrary.Overrides | undefined
  }) as FastCheck.Arbitrary<ReadonlyArray<InputOf<M>>>

/**
 * Whether two values (records, field values, results) are equal as stored: dates by instant,
 * decimals by value, bigints by value, JSON objects whatever their key order, a `undefined`
 * field equal to an absent one; -0 differs from 0.
 *
 * @since 0.1.0
 * @category comparison
 */
export const equivalent: (a: unknown, b: unknown) => boolean = equivalence.equivalent

/**
 * A plain JSON-compatible form of a value in which values stored alike are deep-equal (for
 * `expect(Testing.canonical(actual)).toEqual(Testing.canonical(expected))` and readable diffs).
 *
 * @since 0.1.0
 * @category comparison
 */
export const canonical: (value: unknown) => unknown = equivalence.canonical

/**
 * What building a test layer can fail with: the driver's connection error, a bad URL, a
 * driver that is not installed.
 *
 * @since 0.1.0
 * @category layers
 */
export type LayerError = layers.LayerError

/**
 * A fresh in-memory SQLite database each time the layer is built: with `@effect/vitest`,
 * `layer(Testing.layerMemory)(…)` gives a block its own database, and
 * `Effect.provide(Testing.layerMemory)` gives one test its own.
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import * as Testing from "effect-dataflow/testing"
 *
 * it.effect("creates a user", () =>
 *   User.create({ name: "Ada" }).pipe(Effect.provide(Testing.layerMemory)))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<SqlClient.SqlClient, LayerError> = layers.layerMemory

/**
 * Runs a test's effect in a transaction of the `SqlClient` in context and rolls it back at
 * its end, whatever the outcome, returning the effect's own result or failure. Each call has
 * its own connection and transaction, so tests running at the same time never see each
 * other's writes (on SQLite, whose one connection a transaction holds, they take turns);
 * `DataFlow.transaction`s inside become savepoints. Tables created on first use stay (on
 * SQLite they are created again after a rollback removed them). Models bound to a
 * `DataFlow.Instance` use their instance's client and are not rolled back.
 *
 * @example
 * ```ts
 * import { layer } from "@effect/vitest"
 * import * as Testing from "effect-dataflow/testing"
 *
 * layer(DataFlow.layer({ url: process.env.DATABASE_URL }))("users", (it) => {
 *   it.effect("creates a user", () =>
 *     Effect.gen(function*() {
 *       yield* User.create({ name: "Ada" })
 *       expect(yield* User.count()).toBe(1)
 *     }).pipe(Testing.rollback))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const rollback: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R | SqlClient.SqlClient> =
  layers.rollback

/**
 * Creates the schema (PostgreSQL) or database (MySQL) `name` on the server of `url` when
 * missing and returns the URL whose tables live there (`search_path` on PostgreSQL, the path
 * on MySQL), for clients a test opens itself; a SQLite URL is returned as it is.
 *
 * @since 0.1.0
 * @category layers
 */
export const isolatedUrl: (url: string, name: string) => Effect.Effect<string, LayerError> = layers.isolatedUrl

/**
 * Options of {@link layerIsolated}.
 *
 * @since 0.1.0
 * @category layers
 */
export interface IsolatedOptions {
  /** The server: a PostgreSQL or MySQL/MariaDB URL (a SQLite URL is used as it is). */
  readonly url: string
  /** The schema / database name; default `dataflow_test_` and a random suffix. */
  readonly name?: string | undefined
  /** Drop the schema / database when the layer is released; default true. */
  readonly drop?: boolean | undefined
}

/**
 * A client (as `DataFlow.layer` opens) on a schema (PostgreSQL) or database (MySQL) of its
 * own, created when the layer is built and dropped when it is released: a test run, or a test
 * file, that never meets another one's tables on a shared server.
 *
 * @example
 * ```ts
 * import { layer } from "@effect/vitest"
 * import * as Testing from "effect-dataflow/testing"
 *
 * layer(Testing.layerIsolated({ url: "postgres://postgres@127.0.0.1:5432/test" }))("users", (it) => { … })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerIsolated: (options: IsolatedOptions) => Layer.Layer<SqlClient.SqlClient, LayerError> =
  layers.layerIsolated

/**
 * A node call as data: what {@link Reference} runs and {@link commands} generates.
 *
 * @since 0.1.0
 * @category reference
 */
export type Call = referenceImpl.Call

/**
 * What a reference call can fail with: the same typed errors as the nodes.
 *
 * @since 0.1.0
 * @category reference
 */
export type ReferenceError = referenceImpl.ReferenceError

/**
 * Options of {@link reference} and {@link layerReference}.
 *
 * @since 0.1.0
 * @category reference
 */
export interface ReferenceOptions {
  /**
   * The database whose by-design behaviour the reference follows where the databases differ:
   * with `"mysql"`, the stored row a `bulkUpsert` row updates is the first it shares a unique
   * key with — the primary key checked first, then the constraints in declared order —
   * whatever `conflictOn` names, as MySQL's `ON DUPLICATE KEY UPDATE` does; elsewhere only a
   * match on `conflictOn` is updated and another shared key is a `UniqueViolation`. Default
   * `"sqlite"`.
   */
  readonly dialect?: referenceImpl.ReferenceDialect
}

/**
 * A node call the reference does not know (a node added to the library and not yet to the
 * reference): a defect naming the model and the node, never a wrong answer.
 *
 * @since 0.1.0
 * @category reference
 */
export const ReferenceUnsupported: typeof referenceLayer.ReferenceUnsupported = referenceLayer.ReferenceUnsupported

/**
 * The defect of a node call the reference does not implement.
 *
 * @since 0.1.0
 * @category reference
 */
export type ReferenceUnsupported = referenceLayer.ReferenceUnsupported

/**
 * A relation (`include`, a relation filter) whose model the reference was not given: a defect
 * naming the model, the relation and its target. List every related model in
 * {@link reference} / {@link layerReference}.
 *
 * @since 0.1.0
 * @category reference
 */
export const ReferenceModelMissing: typeof referenceImpl.ReferenceModelMissing = referenceImpl.ReferenceModelMissing

/**
 * The defect of a relation whose model the reference was not given.
 *
 * @since 0.1.0
 * @category reference
 */
export type ReferenceModelMissing = referenceImpl.ReferenceModelMissing

/**
 * An in-memory implementation of the nodes with the library's documented semantics, written
 * apart from the SQL path: `create`, `bulkCreate` (atomic), `read` / `find`, `readBy` /
 * `findBy`, `update` (arithmetic updates, `expectedVersion`), `delete`, `restore`,
 * `bulkUpdate` by filter and by items (`{ id | key, patch, expectedVersion }`, `requireAll`),
 * `bulkDelete`, `upsert`, `createIgnore`, `bulkUpsert` (last row wins, soft-deleted rows
 * revived, `createdAt` kept and `version` counted on live ones), `aggregate` (groups, counts,
 * exact sums, averages rounded as the node rounds them, minima, maxima, `having`, order,
 * page), `list` (where, orderBy, limit, offset, cursor, select, total, includeDeleted),
 * `findFirst`, `count`, `exists`, `stream`; `include` and relation filters over the other
 * models given to it; `bulkCreate` with `onConflict` and `onProgress`; nested writes in `create` / `update` and
 * `connect` / `disconnect` (all or nothing across the related models' tables). Filters use two-valued logic (`$ne` / `$nin` match NULL), LIKE over code points,
 * NULL sorted smallest, code-point text order, the primary key as the final tie-break; soft
 * delete, versions, unique constraints (NULLs never collide, soft-deleted rows keep their
 * keys). Inputs, patches, ids, keys and filters are checked by the library's own validation,
 * so it fails with the same errors.
 *
 * @since 0.1.0
 * @category reference
 */
export interface Reference {
  /** Runs a node call on the in-memory rows (timestamps from the Clock; as the current tenant, if any). */
  readonly call: <M extends AnyModel>(model: M, call: Call) => Effect.Effect<unknown, ReferenceError>
  /** Every stored record of a model, soft-deleted ones included, by primary key. */
  readonly records: <M extends AnyModel>(model: M) => ReadonlyArray<RecordOf<M>>
  /** Forgets every row. */
  readonly clear: () => void
  /**
   * This reference as a layer: the program's own node calls (`User.create(…)`) run on its
   * rows, with no database. See {@link layerReference}.
   */
  readonly layer: Layer.Layer<SqlClient.SqlClient>
}

/**
 * An in-memory reference of these models (see {@link Reference}): a model of what the
 * databases must answer, for tests that compare a program's results with it, or that run a
 * program without a database (`Effect.provide(ref.layer)`). Models not listed get their rows
 * on first use.
 *
 * @example
 * ```ts
 * const ref = Testing.reference([User])
 * const user = yield* User.create({ name: "Ada" }).pipe(Effect.provide(ref.layer))
 * ref.records(User)   // [user]
 * ```
 *
 * @since 0.1.0
 * @category reference
 */
export const reference = (models: ReadonlyArray<AnyModel>, options?: ReferenceOptions): Reference => {
  const store = referenceLayer.makeStore(models.map(definitionOf), options?.dialect)
  return {
    call: (model, call) =>
      Effect.gen(function*() {
        const ms = yield* Clock.currentTimeMillis
        const tenant = Option.getOrUndefined(yield* Effect.serviceOption(CurrentTenant))
        const outcome = nested.execute(store, definitionOf(model), call, { now: new Date(ms), tenant, dialect: store.dialect })
        if (outcome._tag === "Failure") return yield* Effect.fail(outcome.error)
        return outcome.value
      }),
    records: (model) => store.tableOf(definitionOf(model)).rows() as ReadonlyArray<RecordOf<typeof model>>,
    clear: () => store.tables().forEach((t) => t.clear()),
    layer: referenceLayer.layer(store)
  }
}

/**
 * A layer under which a program's node calls run on an in-memory reference instead of a
 * database: an unchanged program (`User.create(…)`, `User.list(…)`, `DataFlow.transaction`)
 * runs with no database, fresh rows each time the layer is built. The program's type asks for
 * a `SqlClient`, and the layer provides one — with no database behind it: it runs transaction
 * control (as snapshots of the rows: a failed transaction leaves nothing behind) and fails any
 * other statement with a `SqlError`. Nodes the reference does not implement die with
 * {@link ReferenceUnsupported}. Calls run one at a time; a transaction holds the reference
 * until it ends. Tenant-scoped models run as the current tenant; a model bound to a
 * `DataFlow.Instance` still asks for its instance in its type.
 *
 * @example
 * ```ts
 * it.effect("registers a user", () =>
 *   register("ada@example.com").pipe(Effect.provide(Testing.layerReference([User]))))
 * ```
 *
 * @since 0.1.0
 * @category reference
 */
export const layerReference = (models: ReadonlyArray<AnyModel> = [], options?: ReferenceOptions): Layer.Layer<SqlClient.SqlClient> =>
  Layer.suspend(() => reference(models, options).layer)

/**
 * Options of {@link commands}.
 *
 * @since 0.1.0
 * @category model-based testing
 */
export interface CommandsOptions {
  /** Sequences to run; default 50. */
  readonly numRuns?: number
  /** Calls in one sequence at most; default 30. */
  readonly maxCommands?: number
  /** Replays a reported failure with its seed (and `path`). */
  readonly seed?: number
  readonly path?: string
}

/**
 * A sequence on which the database and the reference disagreed, shrunk to a minimal one:
 * the calls, the disagreement, and the seed and path that replay it.
 *
 * @since 0.1.0
 * @category model-based testing
 */
export type CommandsFailed = commandsRunner.CommandsFailed

/**
 * Model-based testing: random sequences of node calls on these models (creates, bulk creates,
 * reads, finds, updates, deletes, lists with random filters and orderings, counts, and failing
 * calls: duplicates of stored keys, missing ids, repeated rows in a bulk create, an unknown
 * filter field) run on the database in context and on the {@link reference}; after every
 * call the results (or error tags) and the stored rows are compared, timestamps apart. Each
 * sequence runs in a transaction rolled back at its end (so it starts from empty tables:
 * rows committed before are deleted inside it). The first disagreement is shrunk to a minimal
 * sequence and fails with `CommandsFailed`, whose message prints the calls, the seed and the
 * path; pass them back as options to replay it. Keys the database generates are paired with
 * the reference's as rows are created. A tenant-scoped model's commands need the current
 * tenant (both sides run as it); models bound to an instance are not supported yet.
 *
 * @example
 * ```ts
 * it.effect("nodes agree with the reference", () =>
 *   Testing.commands([User, Post], { numRuns: 100 }).pipe(Effect.provide(Testing.layerMemory)))
 * ```
 *
 * @since 0.1.0
 * @category model-based testing
 */
export const commands = <M extends AnyModel>(
  models: ReadonlyArray<M>,
  options?: CommandsOptions
): Effect.Effect<{ readonly runs: number; readonly steps: number }, CommandsFailed, SqlClient.SqlClient | Model.Requirements<M>> =>
  commandsRunner.run(
    models.map((m) => ({ definition: definitionOf(m), nodes: m as unknown as commandsRunner.Target["nodes"] })),
    options
  )

/**
 * Options of {@link workflows}.
 *
 * @since 0.1.0
 * @category model-based testing
 */
export interface WorkflowsOptions {
  /** Workflows to run; default 50. */
  readonly numRuns?: number
  /** Nodes in one workflow at most; default 6. */
  readonly maxNodes?: number
  /** Replays a reported failure with its seed (and `path`). */
  readonly seed?: number
  readonly path?: string
}

/**
 * A workflow on which the database and the reference disagreed, shrunk to a minimal one: the
 * workflow as JSON, the disagreement, and the seed and path that replay it.
 *
 * @since 0.1.0
 * @category model-based testing
 */
export type WorkflowsFailed = workflowsRunner.WorkflowsFailed

/**
 * Model-based testing of workflows: random workflows of these models' nodes in `registry` —
 * creates feeding reads, updates and deletes through connections, lists and counts, with
 * parameters drawn from the kit's arbitraries, and broken ones (an unknown node type, a
 * connection from a node that does not exist, an unknown parameter) — each executed with
 * `Workflow.execute` on the database in context (in a transaction rolled back at its end,
 * from empty tables) and on the reference layer. The results (timestamps and generated keys
 * apart), or the error and the node that failed, must agree. The first disagreement is shrunk
 * to a minimal workflow and fails with `WorkflowsFailed`, printing the workflow as JSON, the
 * seed and the path. Nodes run one at a time on both sides.
 *
 * @example
 * ```ts
 * it.effect("workflows agree with the reference", () =>
 *   Testing.workflows(Workflow.registry([User, Post]), [User, Post], { numRuns: 50 }))
 * ```
 *
 * @since 0.1.0
 * @category model-based testing
 */
export const workflows = <E, R, M extends AnyModel>(
  registry: Workflow.Registry<E, R>,
  models: ReadonlyArray<M>,
  options?: WorkflowsOptions
): Effect.Effect<{ readonly runs: number }, WorkflowsFailed, R | SqlClient.SqlClient | Model.Requirements<M>> =>
  workflowsRunner.run(
    registry,
    models.map((m) => ({ model: m, definition: definitionOf(m), nodes: m as unknown as commandsRunner.Target["nodes"] })),
    options
  )
