/**
 * `effect-dataflow migrate plan|apply|status|down` and `effect-dataflow pull`: the schema
 * lifecycle from a shell. Models come from a module the user names (`--models`), the
 * database from `--url` or `DATABASE_URL` (default: the embedded SQLite file).
 *
 * Exit codes: 0 done (or nothing to do); 1 an error (refused, failed, no database);
 * 2 `status` found pending operations or drift, `plan --check` found pending operations.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import * as DataFlow from "../DataFlow.js"
import * as Introspect from "../Introspect.js"
import * as Migration from "../Migration.js"
import { modelsOf } from "./serve.js"

const url = Options.text("url").pipe(
  Options.withFallbackConfig(Config.string("DATABASE_URL")),
  Options.optional,
  Options.withDescription("the database URL (default: DATABASE_URL, else the embedded SQLite file)")
)
const models = Options.text("models").pipe(Options.withDescription("a module exporting the models (or a models array)"))

const loadModels = (path: string) =>
  Effect.tryPromise({
    try: () => import(pathToFileURL(resolve(path)).href) as Promise<Record<string, unknown>>,
    catch: (cause) => new Error(`cannot load the models module ${path}: ${String(cause)}`)
  }).pipe(
    Effect.flatMap((module) => {
      const found = modelsOf(module)
      return found.length === 0 ? Effect.fail(new Error(`${path} exports no model`)) : Effect.succeed(found)
    })
  )

const database = (u: Option.Option<string>) => DataFlow.layer(Option.isSome(u) ? { url: u.value } : {})

const withDatabase = <A, E>(u: Option.Option<string>, effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.provide(effect, database(u))

/** Sets the exit code a CI script reads (0 unless set). */
const exitWith = (code: number) => Effect.sync(() => {
  process.exitCode = code
})

const plan = Command.make(
  "plan",
  {
    models,
    url,
    name: Options.text("name").pipe(Options.optional, Options.withDescription("the migration's name")),
    out: Options.directory("out").pipe(Options.optional, Options.withDescription("write up.sql, down.sql and plan.json there")),
    check: Options.boolean("check").pipe(Options.withDescription("exit with 2 when there is anything to do"))
  },
  (args) =>
    Effect.gen(function*() {
      const list = yield* loadModels(args.models)
      const made = yield* withDatabase(args.url, Migration.plan(list, { name: Option.getOrUndefined(args.name) }))
      yield* Console.log(Migration.describe(made))
      for (const op of made.operations) for (const s of op.up) yield* Console.log(`  ${s};`)
      if (Option.isSome(args.out) && made.operations.length > 0) {
        const dir = join(args.out.value, made.id)
        mkdirSync(dir, { recursive: true })
        for (const [file, text] of Object.entries(Migration.toFiles(made))) writeFileSync(join(dir, file), text)
        yield* Console.log(`written to ${dir}`)
      }
      if (args.check && made.operations.length > 0) yield* exitWith(2)
    })
).pipe(Command.withDescription("show what it takes to bring the tables in line with the models (changes nothing)"))

/** One line on stderr per operation started and finished: stdout stays the account scripts read. */
const progressLine = (event: Migration.Progress) =>
  Console.error(
    `[${event.index + 1}/${event.total}] ${event._tag === "started" ? "start" : "done "} ${event.table}: ${event.description}${
      event.elapsedMs === undefined ? "" : ` (${event.elapsedMs} ms)`
    }`
  )

const apply = Command.make(
  "apply",
  {
    models: models.pipe(Options.optional),
    url,
    plan: Options.file("plan").pipe(Options.optional, Options.withDescription("a plan.json written by `migrate plan --out`")),
    allowDestructive: Options.boolean("allow-destructive").pipe(Options.withDescription("run operations that can lose data")),
    quiet: Options.boolean("quiet").pipe(Options.withDescription("no progress lines on stderr"))
  },
  (args) =>
    Effect.gen(function*() {
      const program = Effect.gen(function*() {
        const chosen = Option.isSome(args.plan)
          ? yield* Either.match(Migration.fromJson(readFileSync(args.plan.value, "utf8")), {
            onLeft: (e) => Effect.fail(new Error(`${args.plan.pipe(Option.getOrElse(() => ""))}: ${e.message}`)),
            onRight: Effect.succeed
          })
          : Option.isSome(args.models)
          ? yield* Migration.plan(yield* loadModels(args.models.value))
          : yield* Effect.fail(new Error("give --models or --plan"))
        yield* Console.log(Migration.describe(chosen))
        const outcome = yield* Migration.apply(chosen, {
          allowDestructive: args.allowDestructive,
          ...(args.quiet ? {} : { onProgress: progressLine })
        })
        yield* Console.log(
          outcome.applied ? `applied ${chosen.id}: ${outcome.operations} operation(s)` : "nothing applied (already applied, or empty)"
        )
      })
      yield* withDatabase(args.url, program)
    })
).pipe(Command.withDescription("apply the plan for the models (or a plan file)"))

const status = Command.make("status", { models, url }, (args) =>
  Effect.gen(function*() {
    const list = yield* loadModels(args.models)
    const s = yield* withDatabase(args.url, Migration.status(list))
    for (const a of s.applied) yield* Console.log(`applied  ${a.id}  ${a.appliedAt}  (${a.operations.length} operation(s))`)
    if (s.applied.length === 0) yield* Console.log("no migration applied")
    yield* Console.log(s.pending.operations.length === 0 ? "pending  none" : `pending\n${Migration.describe(s.pending)}`)
    if (s.drifted) yield* Console.log("drifted  the tables changed outside effect-dataflow since the last migration")
    for (const i of s.interrupted) {
      yield* Console.log(
        `interrupted  ${i.id}  started ${i.startedAt}: ${i.completed} of ${i.operations.length} operation(s) done (${
          i.operations.slice(0, i.completed).map((o) => o.description).join("; ") || "none"
        }); apply its plan again to finish it`
      )
    }
    if (s.locked) yield* Console.log("locked  a migration holds the lock now (running, or its session has not ended yet)")
    if (s.pending.operations.length > 0 || s.drifted || s.interrupted.length > 0) yield* exitWith(2)
  })).pipe(Command.withDescription("applied migrations, pending operations, drift (exit 2 when not up to date)"))

const down = Command.make("down", { url }, (args) =>
  Effect.gen(function*() {
    const undone = yield* withDatabase(args.url, Migration.rollback())
    yield* Console.log(undone === undefined ? "no migration to undo" : `undid ${undone.id}`)
  })).pipe(Command.withDescription("undo the last applied migration (when it is reversible)"))

/**
 * The `migrate` command and its subcommands.
 *
 * @since 0.1.0
 * @category commands
 */
export const migrate = Command.make("migrate").pipe(
  Command.withDescription("plan, apply, inspect and undo migrations"),
  Command.withSubcommands([plan, apply, status, down])
)

/**
 * The `pull` command: the live tables as `Model.make` source.
 *
 * @since 0.1.0
 * @category commands
 */
export const pull = Command.make(
  "pull",
  {
    url,
    out: Options.file("out").pipe(Options.optional, Options.withDescription("write the source there (default: stdout)")),
    tables: Args.text({ name: "table" }).pipe(Args.repeated)
  },
  (args) =>
    Effect.gen(function*() {
      const found = yield* withDatabase(
        args.url,
        Introspect.tables(args.tables.length === 0 ? {} : { tables: args.tables })
      )
      const source = Introspect.toSource(found.filter((t) => t.name !== "dataflow_migrations"))
      if (Option.isSome(args.out)) {
        writeFileSync(args.out.value, source)
        yield* Console.log(`${found.length} table(s) written to ${args.out.value}`)
      } else {
        yield* Console.log(source)
      }
    })
).pipe(Command.withDescription("introspect the database and print (or write) Model.make source for its tables"))
