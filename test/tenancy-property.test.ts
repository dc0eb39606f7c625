/**
 * Seeded property test of tenant isolation.
 *
 * Every sequence draws 3–4 tenants and 32 steps of operations interleaved between them (about
 * one step in eight runs one operation of each of several tenants concurrently) on a fresh
 * tenant-scoped table: creates (with a slug the tenant already uses, one another tenant uses,
 * or a fresh one), reads and finds, updates and deletes by id (the tenant's own, another
 * tenant's, a missing one), upserts and bulk upserts by slug, bulk creates, bulk updates and
 * deletes by filter (including filters naming other tenants' ids and `$or` groups), counts,
 * lists, findFirst and keyset-paged walks. A reference model — a Map per tenant of that
 * tenant's own rows — predicts every answer: an operation of one tenant depends only on that
 * tenant's rows, whatever the others did. After every step the acting tenants' `list` (ordered
 * by id, with its `total`) must equal their reference; halfway and at the end every tenant is
 * checked with `count`, reads of its own ids and probes of other tenants' ids; at the end raw
 * SQL checks where the rows are physically stored and that none lacks a tenant
 * (`COUNT(*) WHERE tenant_id IS NULL` = 0).
 *
 * The same sequences run on every strategy and database: "row" on SQLite, PostgreSQL and
 * MariaDB/MySQL; "schema" on PostgreSQL and MariaDB/MySQL; "database" (`layerPerTenant`) on
 * SQLite (a `:memory:` database per tenant), PostgreSQL (a schema per tenant) and
 * MariaDB/MySQL (a database per tenant).
 *
 * A targeted test runs next to the row-strategy sequences: upserts of two tenants at the same
 * moment whose new rows fall into the same gap of the shared (tenant_id, slug) index. On
 * MariaDB/MySQL the concurrent steps of other seeds can meet the same failure (ER_LOCK_DEADLOCK).
 *
 * Every configuration also runs its first sequences with a recording tracer installed, which
 * sends every statement through `@effect/sql`'s statement pipeline instead of straight to the
 * connection: both paths are held to the same reference.
 *
 * Reproduce a failure with `DATAFLOW_SEED=<base seed> npx vitest run test/tenancy-property.test.ts`;
 * every failure names the configuration, the base seed, the sequence, the step, the operation
 * and the operations before it.
 */
import type { Vitest } from "@effect/vitest"
import { expect, layer as effectLayer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Cause, Context, Effect, Exit, Layer, Option, Redacted, Schema } from "effect"
import { inject } from "vitest"
import type { Filter } from "../src/Filter.js"
import { DataFlow, Errors, Model, Tenant } from "../src/index.js"
import * as Db from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { mix, rngOf } from "./support/random.js"
import type { Rng } from "./support/random.js"
import { onPipeline, pipelineProblems } from "./support/pipeline.js"
import { mysqlUrl, pgUrl } from "./support/servers.js"

// ---------------------------------------------------------------------------
// seeds and random numbers
// ---------------------------------------------------------------------------

const BASE_SEED = process.env.DATAFLOW_SEED === undefined ? 0x7e_4a_2c_5d : Number(process.env.DATAFLOW_SEED)
/** Sequences per strategy and database (`DATAFLOW_TENANCY_SEQUENCES` runs more). */
const SEQUENCES = process.env.DATAFLOW_TENANCY_SEQUENCES === undefined ? 10 : Number(process.env.DATAFLOW_TENANCY_SEQUENCES)
/** Sequences run a second time on the statement pipeline (a recording tracer installed). */
const PIPELINE_SEQUENCES = process.env.DATAFLOW_PIPELINE_SEQUENCES === undefined ? 3 : Number(process.env.DATAFLOW_PIPELINE_SEQUENCES)
const STEPS = 32
/** Every tenant is checked (count, spot reads) after this many steps, and at the end. */
const FULL_CHECK_EVERY = 16
/** Share of steps that run one operation of each of several tenants concurrently. */
const PARALLEL_SHARE = 0.12


// ---------------------------------------------------------------------------
// the model and the reference
// ---------------------------------------------------------------------------

const fields = { id: Schema.Int, slug: Schema.String, title: Schema.String, n: Schema.Int }
type F = typeof fields
type B = Model.BehavioursOf<{ readonly tenantScoped: true }>
type PageRecord = Model.RecordOf<F, B>
type Page<R> = Model.Model<"PropPage", F, "id", B, R, Errors.ConfigurationError>

/** Case variants ("home" / "Home") are distinct slugs on every database. */
const SLUGS = ["home", "Home", "about", "blog", "news", "faq", "team", "jobs", "shop", "help", "docs", "a", "b_c", "x%"]
const TITLES = ["alpha", "beta", "Gamma", "delta", "zeta", "omega", "é", "x y"]

interface Rec {
  readonly id: number
  readonly slug: string
  readonly title: string
  readonly n: number
}
interface Input {
  readonly slug: string
  readonly title: string
  readonly n: number
}
interface PatchSpec {
  readonly slug?: string
  readonly title?: string
  readonly n?: number
}
/** tenant → id → row: each tenant's own rows. */
type Tables = Map<string, Map<number, Rec>>

type FilterSpec =
  | { readonly kind: "all" }
  | { readonly kind: "nGte"; readonly v: number }
  | { readonly kind: "nLt"; readonly v: number }
  | { readonly kind: "slugIn"; readonly v: ReadonlyArray<string> }
  | { readonly kind: "title"; readonly v: string }
  | { readonly kind: "idIn"; readonly v: ReadonlyArray<number> }
  | { readonly kind: "orNSlug"; readonly n: number; readonly slug: string }
  | { readonly kind: "notSlugStarts"; readonly v: string }

const toFilter = (f: FilterSpec): Filter<PageRecord> => {
  switch (f.kind) {
    case "all":
      return {}
    case "nGte":
      return { n: { $gte: f.v } }
    case "nLt":
      return { n: { $lt: f.v } }
    case "slugIn":
      return { slug: { $in: f.v } }
    case "title":
      return { title: f.v }
    case "idIn":
      return { id: { $in: f.v } }
    case "orNSlug":
      return { $or: [{ n: f.n }, { slug: f.slug }] }
    case "notSlugStarts":
      return { $not: { slug: { $startsWith: f.v } } }
  }
}

const matches = (f: FilterSpec, r: Rec): boolean => {
  switch (f.kind) {
    case "all":
      return true
    case "nGte":
      return r.n >= f.v
    case "nLt":
      return r.n < f.v
    case "slugIn":
      return f.v.includes(r.slug)
    case "title":
      return r.title === f.v
    case "idIn":
      return f.v.includes(r.id)
    case "orNSlug":
      return r.n === f.n || r.slug === f.slug
    case "notSlugStarts":
      return !r.slug.startsWith(f.v)
  }
}

type OrderSpec = "id" | "-n" | "title"
const orderByOf = (o: OrderSpec): ReadonlyArray<"id" | "-n" | "title"> => (o === "id" ? [] : [o])
const compareCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const sortRecs = (rows: ReadonlyArray<Rec>, o: OrderSpec): Array<Rec> =>
  [...rows].sort((a, b) =>
    (o === "-n" ? b.n - a.n : o === "title" ? compareCodeUnits(a.title, b.title) : 0) || a.id - b.id
  )

type Op =
  | { readonly kind: "create"; readonly tenant: string; readonly input: Input }
  | { readonly kind: "read" | "find" | "delete"; readonly tenant: string; readonly id: number }
  | { readonly kind: "update"; readonly tenant: string; readonly id: number; readonly patch: PatchSpec }
  | {
    readonly kind: "upsert"
    readonly tenant: string
    readonly slug: string
    readonly create: { readonly title: string; readonly n: number }
    readonly update: PatchSpec | undefined
  }
  | {
    readonly kind: "bulkUpdate"
    readonly tenant: string
    readonly filter: FilterSpec
    readonly patch: { readonly title?: string; readonly n?: number }
    readonly confirm: boolean
  }
  | { readonly kind: "bulkDelete"; readonly tenant: string; readonly filter: FilterSpec; readonly confirm: boolean }
  | { readonly kind: "bulkUpsert" | "bulkCreate"; readonly tenant: string; readonly rows: ReadonlyArray<Input> }
  | { readonly kind: "count"; readonly tenant: string; readonly filter: FilterSpec }
  | { readonly kind: "list" | "findFirst"; readonly tenant: string; readonly filter: FilterSpec; readonly orderBy: OrderSpec }
  | {
    readonly kind: "page"
    readonly tenant: string
    readonly filter: FilterSpec
    readonly orderBy: OrderSpec
    readonly limit: number
  }

// ---------------------------------------------------------------------------
// generating operations from the reference state
// ---------------------------------------------------------------------------

const own = (tables: Tables, t: string) => tables.get(t)!
const ownRows = (tables: Tables, t: string) => [...own(tables, t).values()]
const othersRows = (tables: Tables, t: string) => [...tables].filter(([k]) => k !== t).flatMap(([, m]) => [...m.values()])

/** A slug the tenant uses, one only another tenant uses, or any. */
const genSlug = (rng: Rng, tables: Tables, t: string): string => {
  const mine = ownRows(tables, t).map((r) => r.slug)
  const theirs = othersRows(tables, t).map((r) => r.slug).filter((s) => !mine.includes(s))
  const r = rng.next()
  if (r < 0.3 && mine.length > 0) return rng.pick(mine)
  if (r < 0.6 && theirs.length > 0) return rng.pick(theirs)
  return rng.pick(SLUGS)
}

/** A slug the tenant does not use (when there is one). */
const genFreshSlug = (rng: Rng, tables: Tables, t: string): string => {
  const mine = ownRows(tables, t).map((r) => r.slug)
  const free = SLUGS.filter((s) => !mine.includes(s))
  return free.length > 0 ? rng.pick(free) : rng.pick(SLUGS)
}

/** The tenant's own id, another tenant's, or one nobody has. */
const genTarget = (rng: Rng, tables: Tables, t: string): number => {
  const mine = [...own(tables, t).keys()]
  const theirs = othersRows(tables, t).map((r) => r.id)
  const r = rng.next()
  if (r < 0.45 && mine.length > 0) return rng.pick(mine)
  if (r < 0.85 && theirs.length > 0) return rng.pick(theirs)
  return 900_000 + rng.int(0, 999)
}

const genInput = (rng: Rng, tables: Tables, t: string, fresh = false): Input => ({
  slug: fresh ? genFreshSlug(rng, tables, t) : genSlug(rng, tables, t),
  title: rng.pick(TITLES),
  n: rng.int(0, 9)
})

const genFilter = (rng: Rng, tables: Tables, t: string): FilterSpec => {
  switch (rng.int(0, 7)) {
    case 0:
      return { kind: "all" }
    case 1:
      return { kind: "nGte", v: rng.int(0, 10) }
    case 2:
      return { kind: "nLt", v: rng.int(0, 10) }
    case 3:
      return { kind: "slugIn", v: [genSlug(rng, tables, t), genSlug(rng, tables, t)] }
    case 4:
      return { kind: "title", v: rng.pick(TITLES) }
    case 5:
      return { kind: "idIn", v: [genTarget(rng, tables, t), genTarget(rng, tables, t), genTarget(rng, tables, t)] }
    case 6:
      return { kind: "orNSlug", n: rng.int(0, 9), slug: genSlug(rng, tables, t) }
    default:
      return { kind: "notSlugStarts", v: rng.pick(["h", "H", "b", "x%", "a"]) }
  }
}

const genPatch = (rng: Rng, tables: Tables, t: string, withSlug: boolean): PatchSpec => {
  const slug = withSlug && rng.chance(0.35) ? { slug: genSlug(rng, tables, t) } : {}
  const title = rng.chance(0.6) ? { title: rng.pick(TITLES) } : {}
  const n = rng.chance(0.6) ? { n: rng.int(0, 9) } : {}
  return { ...slug, ...title, ...n }
}

const weights: ReadonlyArray<readonly [Op["kind"], number]> = [
  ["create", 18],
  ["read", 7],
  ["find", 5],
  ["update", 14],
  ["delete", 8],
  ["upsert", 10],
  ["bulkUpdate", 7],
  ["bulkDelete", 5],
  ["bulkUpsert", 9],
  ["bulkCreate", 5],
  ["count", 5],
  ["list", 5],
  ["findFirst", 3],
  ["page", 4]
]
const totalWeight = weights.reduce((s, [, w]) => s + w, 0)

const genOp = (rng: Rng, tables: Tables, tenant: string): Op => {
  let roll = rng.next() * totalWeight
  let kind: Op["kind"] = "create"
  for (const [k, w] of weights) {
    if (roll < w) {
      kind = k
      break
    }
    roll -= w
  }
  switch (kind) {
    case "create":
      return { kind, tenant, input: genInput(rng, tables, tenant) }
    case "read":
    case "find":
    case "delete":
      return { kind, tenant, id: genTarget(rng, tables, tenant) }
    case "update":
      return { kind, tenant, id: genTarget(rng, tables, tenant), patch: genPatch(rng, tables, tenant, true) }
    case "upsert":
      return {
        kind,
        tenant,
        slug: genSlug(rng, tables, tenant),
        create: { title: rng.pick(TITLES), n: rng.int(0, 9) },
        update: rng.chance(0.8) ? genPatch(rng, tables, tenant, rng.chance(0.3)) : undefined
      }
    case "bulkUpdate": {
      const { title, n } = genPatch(rng, tables, tenant, false)
      return {
        kind,
        tenant,
        filter: genFilter(rng, tables, tenant),
        patch: { ...(title === undefined ? {} : { title }), ...(n === undefined ? {} : { n }) },
        confirm: rng.chance(0.85)
      }
    }
    case "bulkDelete":
      return { kind, tenant, filter: genFilter(rng, tables, tenant), confirm: rng.chance(0.85) }
    case "bulkUpsert":
      return { kind, tenant, rows: Array.from({ length: rng.int(1, 5) }, () => genInput(rng, tables, tenant)) }
    case "bulkCreate":
      return {
        kind,
        tenant,
        rows: Array.from({ length: rng.int(1, 3) }, () => genInput(rng, tables, tenant, rng.chance(0.6)))
      }
    case "count":
      return { kind, tenant, filter: genFilter(rng, tables, tenant) }
    case "list":
    case "findFirst":
      return { kind, tenant, filter: genFilter(rng, tables, tenant), orderBy: rng.pick(["id", "-n", "title"] as const) }
    case "page":
      return {
        kind,
        tenant,
        filter: genFilter(rng, tables, tenant),
        orderBy: rng.pick(["id", "-n", "title"] as const),
        limit: rng.int(1, 3)
      }
  }
}

// ---------------------------------------------------------------------------
// reporting
// ---------------------------------------------------------------------------

const show = (u: unknown): string =>
  JSON.stringify(u, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(u)

const tagOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "_tag" in e ? String((e as { readonly _tag: unknown })._tag) : String(e)

/** One line about a failure: the error's tag and fields, or the defect. */
const describeFailure = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => `defect/interruption: ${Cause.pretty(cause).split("\n").slice(0, 3).join(" ")}`,
    onSome: (e) => {
      const { cause: inner, ...rest } = { ...(e as Record<string, unknown>) }
      const innerMessage = typeof inner === "object" && inner !== null && "message" in inner
        ? ` (${String((inner as { readonly message: unknown }).message)})`
        : ""
      return `failure ${tagOf(e)} ${show(rest)}${innerMessage}`
    }
  })

const describeExit = <A, E>(exit: Exit.Exit<A, E>): string =>
  Exit.isSuccess(exit) ? `success ${show(exit.value)}` : describeFailure(exit.cause)

const failureOf = <A, E>(exit: Exit.Exit<A, E>): Option.Option<E> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

const failedWith = <A, E>(exit: Exit.Exit<A, E>, tag: string): boolean =>
  Option.match(failureOf(exit), { onNone: () => false, onSome: (e) => tagOf(e) === tag })

/** A UniqueViolation that names the slug among its columns. */
const slugViolation = <A, E>(exit: Exit.Exit<A, E>): boolean =>
  Option.match(failureOf(exit), {
    onNone: () => false,
    onSome: (e) => {
      const columns = (e as { readonly columns?: unknown }).columns
      return tagOf(e) === "UniqueViolation" && Array.isArray(columns) && columns.includes("slug")
    }
  })

const describeOp = (op: Op, short: (t: string) => string): string => {
  const { kind, tenant, ...args } = op
  return `${short(tenant)}.${kind}(${show(args)})`
}

// ---------------------------------------------------------------------------
// configurations
// ---------------------------------------------------------------------------

type Dialect = "sqlite" | "pg" | "mysql"

const quoteIn = (dialect: Dialect) => (name: string) => (dialect === "mysql" ? `\`${name}\`` : `"${name}"`)

/** Where rows are physically stored, and which tenant ids they carry. */
interface Location {
  readonly location: string
  /** tenant_id → number of rows (null: rows without a tenant). */
  readonly groups: ReadonlyArray<readonly [string | null, number]>
  /** `COUNT(*) WHERE tenant_id IS NULL`. */
  readonly withoutTenant: number
  /** Something that must not be there. */
  readonly unexpected?: string
}

const storedIn = (sql: SqlClient.SqlClient, dialect: Dialect, table: string, location: string) =>
  Effect.gen(function*() {
    const q = quoteIn(dialect)
    const groups = yield* sql.unsafe<{ readonly t: string | null; readonly n: number | string }>(
      `SELECT ${q("tenant_id")} AS t, COUNT(*) AS n FROM ${table} GROUP BY ${q("tenant_id")}`
    ).withoutTransform
    const orphans = yield* sql.unsafe<{ readonly n: number | string }>(
      `SELECT COUNT(*) AS n FROM ${table} WHERE ${q("tenant_id")} IS NULL`
    ).withoutTransform
    return {
      location,
      groups: groups.map((g) => [g.t, Number(g.n)] as const),
      withoutTenant: Number(orphans[0]?.n ?? -1)
    } satisfies Location
  })

interface Config<R> {
  /** e.g. "row/pg". */
  readonly name: string
  /** Generated ids are unique across tenants (one shared table). */
  readonly globalIds: boolean
  readonly makePage: () => Page<R | Tenant.CurrentTenant>
  /** The tenancy strategy of the default client, when not "row". */
  readonly strategy?: Layer.Layer<never>
  readonly tenantIds: ReadonlyArray<string>
  /** Where a tenant's rows must be stored. */
  readonly locationOf: (tenant: string) => string
  readonly storage: (table: string, tenants: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Location>, unknown, R>
}

const TENANT_KEYS = ["a", "b", "c", "d"] as const
/** Tenant ids unique to this run and file: schema/database names never collide between runs or files. */
const runTenants = () => TENANT_KEYS.map((k) => `df_${inject("runId")}_prop_${k}`)
const shortName = (tenant: string) => tenant.slice(tenant.lastIndexOf("_") + 1)

const makeDefaultPage = () =>
  Model.make("PropPage", Schema.Struct(fields), { table: uniqueTable("prop_pages"), unique: ["slug"], tenantScoped: true })

/** "row" on the default client: one shared table. */
const rowConfig = (dialect: Dialect): Config<SqlClient.SqlClient> => ({
  name: `row/${dialect}`,
  globalIds: true,
  makePage: makeDefaultPage,
  tenantIds: runTenants(),
  locationOf: () => "shared table",
  storage: (table) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.map(storedIn(sql, dialect, quoteIn(dialect)(table), "shared table"), (l) => [l]))
})

/** "schema" on the default client: a schema (PostgreSQL) / database (MySQL) per tenant. */
const schemaConfig = (dialect: Dialect): Config<SqlClient.SqlClient> => ({
  name: `schema/${dialect}`,
  globalIds: false,
  makePage: makeDefaultPage,
  strategy: Tenant.strategy("schema"),
  tenantIds: runTenants(),
  locationOf: (t) => `tenant_${t}`,
  storage: (table, tenants) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const q = quoteIn(dialect)
      const perTenant = yield* Effect.forEach(tenants, (t) => storedIn(sql, dialect, `${q(`tenant_${t}`)}.${q(table)}`, `tenant_${t}`))
      // nothing of a tenant-scoped model goes to the client's own schema / database
      const inDefault = yield* sql.unsafe<{ readonly n: number | string }>(
        dialect === "mysql"
          ? "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
          : "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
        [table]
      ).withoutTransform
      const defaultLocation: ReadonlyArray<Location> = Number(inDefault[0]?.n ?? 0) === 0 ? [] : [{
        location: "the client's own schema",
        groups: [],
        withoutTenant: 0,
        unexpected: `a table ${table} exists in the client's own schema under the schema strategy`
      }]
      return [...perTenant, ...defaultLocation]
    })
})

const generic = <E>(driver: Layer.Layer<SqlClient.SqlClient, E>) =>
  Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient).pipe(Layer.provide(driver))

class SqliteTenants extends DataFlow.Instance<SqliteTenants>()("PropSqliteTenants") {}
class PgTenants extends DataFlow.Instance<PgTenants>()("PropPgTenants") {}
class MysqlTenants extends DataFlow.Instance<MysqlTenants>()("PropMysqlTenants") {}

/**
 * "database": `layerPerTenant` over `client(tenant)`; the clients it builds are remembered so
 * the storage check can look into each tenant's own database.
 */
const databaseConfig = <I, N extends string>(
  dialect: Dialect,
  instance: DataFlow.InstanceClass<I, N>,
  client: (tenant: string) => Layer.Layer<SqlClient.SqlClient, unknown>
): { readonly config: Config<I>; readonly layer: Layer.Layer<I> } => {
  const clients = new Map<string, SqlClient.SqlClient>()
  const layer = instance.layerPerTenant(
    (tenant) =>
      Layer.tap(client(tenant), (ctx) => Effect.sync(() => void clients.set(tenant, Context.get(ctx, SqlClient.SqlClient)))),
    { idleTimeToLive: "10 minutes" }
  )
  const config: Config<I> = {
    name: `database/${dialect}`,
    globalIds: false,
    makePage: () =>
      Model.make("PropPage", Schema.Struct(fields), {
        table: uniqueTable("prop_pages"),
        unique: ["slug"],
        tenantScoped: true,
        instance
      }),
    tenantIds: runTenants(),
    locationOf: (t) => `database of ${shortName(t)}`,
    storage: (table, tenants) =>
      Effect.forEach(tenants, (t) => {
        const sql = clients.get(t)
        return sql === undefined
          ? Effect.succeed({ location: `database of ${shortName(t)} (never built)`, groups: [], withoutTenant: 0 })
          : storedIn(sql, dialect, quoteIn(dialect)(table), `database of ${shortName(t)}`)
      })
  }
  return { config, layer }
}

const withDatabase = (url: string, database: string) => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** PostgreSQL: a client per tenant on its own schema (named for the global teardown). */
const pgTenantClient = (tenant: string) => {
  const schema = `df_${inject("runId")}_propdb_${shortName(tenant)}`
  const u = new URL(pgUrl)
  u.searchParams.set("options", `-c search_path=${schema}`)
  return Layer.effectDiscard(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`))
  ).pipe(Layer.provideMerge(generic(PgClient.layer({ url: Redacted.make(u.toString()), maxConnections: 4 }))))
}

/** MySQL: a client per tenant on its own database (named for the global teardown). */
const mysqlTenantClient = (tenant: string) => {
  const database = `df_${inject("runId")}_propdb_${shortName(tenant)}`
  const create = Effect.gen(function*() {
    const sql = yield* MysqlClient.MysqlClient
    yield* sql.unsafe(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
  }).pipe(Effect.provide(MysqlClient.layer({ url: Redacted.make(mysqlUrl) })))
  return Layer.unwrapEffect(
    Effect.as(create, generic(MysqlClient.layer({ url: Redacted.make(withDatabase(mysqlUrl, database)), maxConnections: 4 })))
  )
}

// ---------------------------------------------------------------------------
// running a sequence
// ---------------------------------------------------------------------------

const runSequence = <R>(cfg: Config<R>, seq: number) =>
  Effect.gen(function*() {
    const rng = rngOf(mix(BASE_SEED, seq))
    const tenants = cfg.tenantIds.slice(0, rng.int(3, 4))
    const Page = cfg.makePage()
    const tables: Tables = new Map(tenants.map((t) => [t, new Map<number, Rec>()]))
    const log: Array<string> = []
    const header = `[${cfg.name}] base seed ${BASE_SEED} (DATAFLOW_SEED=${BASE_SEED}), sequence ${seq}, ` +
      `tenants ${tenants.map(shortName).join(", ")}, table ${Page.table}`
    const as = <A, E>(t: string, self: Effect.Effect<A, E, R | Tenant.CurrentTenant>) => Tenant.with(self, t)
    const expectedOf = (t: string, r: Rec) => ({ id: r.id, slug: r.slug, title: r.title, n: r.n, tenantId: t })
    const stored = (r: PageRecord) => ({ id: r.id, slug: r.slug, title: r.title, n: r.n, tenantId: r.tenantId })
    const idTaken = (t: string, id: number) =>
      cfg.globalIds ? [...tables.values()].some((m) => m.has(id)) : own(tables, t).has(id)
    const slugOwner = (t: string, slug: string) => ownRows(tables, t).find((r) => r.slug === slug)

    /** Runs one operation and compares its answer with the reference; updates the reference. */
    const step = (op: Op): Effect.Effect<ReadonlyArray<string>, never, R> =>
      Effect.gen(function*() {
        const t = op.tenant
        const mine = own(tables, t)
        const bad = (what: string) => [`${describeOp(op, shortName)}: ${what}`]
        switch (op.kind) {
          case "create": {
            const exit = yield* Effect.exit(as(t, Page.create(op.input)))
            if (slugOwner(t, op.input.slug) !== undefined) {
              return slugViolation(exit) ? [] : bad(`the tenant already has this slug: expected UniqueViolation on slug, got ${describeExit(exit)}`)
            }
            if (Exit.isFailure(exit)) return bad(`expected success, got ${describeExit(exit)}`)
            const rec = exit.value
            if (idTaken(t, rec.id)) return bad(`returned id ${rec.id}, which is already in use`)
            const want = expectedOf(t, { id: rec.id, ...op.input })
            if (show(stored(rec)) !== show(want)) return bad(`returned ${show(stored(rec))}, expected ${show(want)}`)
            mine.set(rec.id, { id: rec.id, ...op.input })
            return []
          }
          case "read": {
            const exit = yield* Effect.exit(as(t, Page.read(op.id)))
            const want = mine.get(op.id)
            if (want === undefined) {
              return failedWith(exit, "NotFound") ? [] : bad(`not the tenant's row: expected NotFound, got ${describeExit(exit)}`)
            }
            if (Exit.isFailure(exit)) return bad(`expected ${show(expectedOf(t, want))}, got ${describeExit(exit)}`)
            return show(stored(exit.value)) === show(expectedOf(t, want))
              ? []
              : bad(`got ${show(stored(exit.value))}, expected ${show(expectedOf(t, want))}`)
          }
          case "find": {
            const exit = yield* Effect.exit(as(t, Page.find(op.id)))
            const want = mine.get(op.id)
            if (Exit.isFailure(exit)) return bad(`expected success, got ${describeExit(exit)}`)
            const got = Option.map(exit.value, stored)
            const expected = want === undefined ? Option.none() : Option.some(expectedOf(t, want))
            return show(Option.getOrNull(got)) === show(Option.getOrNull(expected))
              ? []
              : bad(`got ${show(Option.getOrNull(got))}, expected ${show(Option.getOrNull(expected))}`)
          }
          case "update": {
            const exit = yield* Effect.exit(as(t, Page.update(op.id, op.patch)))
            const before = mine.get(op.id)
            if (before === undefined) {
              return failedWith(exit, "NotFound") ? [] : bad(`not the tenant's row: expected NotFound, got ${describeExit(exit)}`)
            }
            const clash = op.patch.slug === undefined ? undefined : slugOwner(t, op.patch.slug)
            if (clash !== undefined && clash.id !== op.id) {
              return slugViolation(exit) ? [] : bad(`slug used by row ${clash.id} of the tenant: expected UniqueViolation on slug, got ${describeExit(exit)}`)
            }
            const after: Rec = { ...before, ...op.patch }
            if (Exit.isFailure(exit)) return bad(`expected ${show(expectedOf(t, after))}, got ${describeExit(exit)}`)
            mine.set(op.id, after)
            return show(stored(exit.value)) === show(expectedOf(t, after))
              ? []
              : bad(`returned ${show(stored(exit.value))}, expected ${show(expectedOf(t, after))}`)
          }
          case "delete": {
            const exit = yield* Effect.exit(as(t, Page.delete(op.id)))
            const want = { deleted: mine.has(op.id) }
            mine.delete(op.id)
            return Exit.isSuccess(exit) && show(exit.value) === show(want) ? [] : bad(`expected ${show(want)}, got ${describeExit(exit)}`)
          }
          case "upsert": {
            const exit = yield* Effect.exit(as(
              t,
              Page.upsert({ where: { slug: op.slug }, create: op.create, ...(op.update === undefined ? {} : { update: op.update }) })
            ))
            const existing = slugOwner(t, op.slug)
            if (existing !== undefined) {
              const patch = op.update ?? {}
              const clash = patch.slug === undefined ? undefined : slugOwner(t, patch.slug)
              if (clash !== undefined && clash.id !== existing.id) {
                return slugViolation(exit) ? [] : bad(`update renames onto row ${clash.id}'s slug: expected UniqueViolation on slug, got ${describeExit(exit)}`)
              }
              const after: Rec = { ...existing, ...patch }
              const want = { record: expectedOf(t, after), created: false }
              if (Exit.isFailure(exit)) return bad(`expected ${show(want)}, got ${describeExit(exit)}`)
              mine.set(after.id, after)
              const got = { record: stored(exit.value.record), created: exit.value.created }
              return show(got) === show(want) ? [] : bad(`returned ${show(got)}, expected ${show(want)}`)
            }
            if (Exit.isFailure(exit)) return bad(`expected a created record, got ${describeExit(exit)}`)
            const rec = exit.value.record
            if (idTaken(t, rec.id)) return bad(`created id ${rec.id}, which is already in use`)
            const created: Rec = { id: rec.id, slug: op.slug, ...op.create }
            const want = { record: expectedOf(t, created), created: true }
            const got = { record: stored(rec), created: exit.value.created }
            if (show(got) !== show(want)) return bad(`returned ${show(got)}, expected ${show(want)}`)
            mine.set(rec.id, created)
            return []
          }
          case "bulkUpdate": {
            const exit = yield* Effect.exit(as(t, Page.bulkUpdate(toFilter(op.filter), op.patch, { confirm: op.confirm })))
            if (op.filter.kind === "all" && !op.confirm) {
              return failedWith(exit, "UnsafeOperation") ? [] : bad(`empty filter without confirm: expected UnsafeOperation, got ${describeExit(exit)}`)
            }
            const hit = ownRows(tables, t).filter((r) => matches(op.filter, r))
            for (const r of hit) mine.set(r.id, { ...r, ...op.patch })
            const want = { updated: hit.length }
            return Exit.isSuccess(exit) && show(exit.value) === show(want) ? [] : bad(`expected ${show(want)}, got ${describeExit(exit)}`)
          }
          case "bulkDelete": {
            const exit = yield* Effect.exit(as(t, Page.bulkDelete(toFilter(op.filter), { confirm: op.confirm })))
            if (op.filter.kind === "all" && !op.confirm) {
              return failedWith(exit, "UnsafeOperation") ? [] : bad(`empty filter without confirm: expected UnsafeOperation, got ${describeExit(exit)}`)
            }
            const hit = ownRows(tables, t).filter((r) => matches(op.filter, r))
            for (const r of hit) mine.delete(r.id)
            const want = { deleted: hit.length }
            return Exit.isSuccess(exit) && show(exit.value) === show(want) ? [] : bad(`expected ${show(want)}, got ${describeExit(exit)}`)
          }
          case "bulkUpsert": {
            const exit = yield* Effect.exit(as(t, Page.bulkUpsert(op.rows, { conflictOn: ["slug"] })))
            // the last row wins for a slug given twice
            const bySlug = new Map<string, Input>()
            for (const r of op.rows) {
              bySlug.delete(r.slug)
              bySlug.set(r.slug, r)
            }
            const fresh: Array<Input> = []
            let updated = 0
            for (const r of bySlug.values()) {
              const existing = slugOwner(t, r.slug)
              if (existing === undefined) fresh.push(r)
              else {
                updated++
                mine.set(existing.id, { ...existing, title: r.title, n: r.n })
              }
            }
            const want = { inserted: fresh.length, updated }
            if (Exit.isFailure(exit) || show(exit.value) !== show(want)) return bad(`expected ${show(want)}, got ${describeExit(exit)}`)
            if (fresh.length === 0) return []
            // learn the generated ids of the inserted rows
            const listed = yield* Effect.exit(as(t, Page.list({ where: { slug: { $in: fresh.map((r) => r.slug) } } })))
            if (Exit.isFailure(listed)) return bad(`listing the inserted rows failed: ${describeExit(listed)}`)
            const problems: Array<string> = []
            for (const r of fresh) {
              const rows = listed.value.records.filter((x) => x.slug === r.slug)
              const rec = rows[0]
              if (rows.length !== 1 || rec === undefined) {
                problems.push(`inserted slug ${show(r.slug)} lists as ${show(rows.map(stored))}`)
                continue
              }
              if (idTaken(t, rec.id)) problems.push(`inserted ${show(r.slug)} with id ${rec.id}, which is already in use`)
              mine.set(rec.id, { id: rec.id, ...r })
            }
            return problems.length === 0 ? [] : bad(problems.join("; "))
          }
          case "bulkCreate": {
            const exit = yield* Effect.exit(as(t, Page.bulkCreate(op.rows, { returnRecords: true })))
            const slugs = op.rows.map((r) => r.slug)
            const duplicate = slugs.some((s, i) => slugs.indexOf(s) !== i || slugOwner(t, s) !== undefined)
            if (duplicate) {
              return slugViolation(exit) ? [] : bad(`a slug repeats or is the tenant's: expected UniqueViolation on slug (nothing written), got ${describeExit(exit)}`)
            }
            if (Exit.isFailure(exit)) return bad(`expected success, got ${describeExit(exit)}`)
            const { inserted, records } = exit.value
            const problems: Array<string> = []
            if (inserted !== op.rows.length || records.length !== op.rows.length) {
              problems.push(`inserted ${inserted} with ${records.length} records for ${op.rows.length} rows`)
            }
            records.forEach((rec, i) => {
              const input = op.rows[i]!
              if (idTaken(t, rec.id)) problems.push(`record ${i} has id ${rec.id}, which is already in use`)
              const want = expectedOf(t, { id: rec.id, ...input })
              if (show(stored(rec)) !== show(want)) problems.push(`record ${i} is ${show(stored(rec))}, expected ${show(want)}`)
              mine.set(rec.id, { id: rec.id, ...input })
            })
            return problems.length === 0 ? [] : bad(problems.join("; "))
          }
          case "count": {
            const exit = yield* Effect.exit(as(t, Page.count(toFilter(op.filter))))
            const want = ownRows(tables, t).filter((r) => matches(op.filter, r)).length
            return Exit.isSuccess(exit) && exit.value === want ? [] : bad(`expected ${want}, got ${describeExit(exit)}`)
          }
          case "list": {
            const exit = yield* Effect.exit(as(t, Page.list({ where: toFilter(op.filter), orderBy: orderByOf(op.orderBy) })))
            const want = sortRecs(ownRows(tables, t).filter((r) => matches(op.filter, r)), op.orderBy).map((r) => expectedOf(t, r))
            if (Exit.isFailure(exit)) return bad(`expected ${show(want)}, got ${describeExit(exit)}`)
            const got = exit.value.records.map(stored)
            return show(got) === show(want) ? [] : bad(`got ${show(got)}, expected ${show(want)}`)
          }
          case "findFirst": {
            const exit = yield* Effect.exit(as(t, Page.findFirst(toFilter(op.filter), { orderBy: orderByOf(op.orderBy) })))
            const first = sortRecs(ownRows(tables, t).filter((r) => matches(op.filter, r)), op.orderBy)[0]
            const want = first === undefined ? null : expectedOf(t, first)
            if (Exit.isFailure(exit)) return bad(`expected ${show(want)}, got ${describeExit(exit)}`)
            const got = Option.getOrNull(Option.map(exit.value, stored))
            return show(got) === show(want) ? [] : bad(`got ${show(got)}, expected ${show(want)}`)
          }
          case "page": {
            // a keyset walk: every page continues after the previous one's cursor
            const want = sortRecs(ownRows(tables, t).filter((r) => matches(op.filter, r)), op.orderBy).map((r) => expectedOf(t, r))
            const pages: Array<ReadonlyArray<ReturnType<typeof stored>>> = []
            let cursor: string | undefined
            do {
              const exit = yield* Effect.exit(as(t, Page.list({
                where: toFilter(op.filter),
                orderBy: orderByOf(op.orderBy),
                limit: op.limit,
                ...(cursor === undefined ? {} : { cursor })
              })))
              if (Exit.isFailure(exit)) return bad(`page ${pages.length} failed: ${describeExit(exit)}`)
              pages.push(exit.value.records.map(stored))
              cursor = exit.value.nextCursor
            } while (cursor !== undefined && pages.length <= want.length + 1)
            const wantPages: Array<ReadonlyArray<ReturnType<typeof expectedOf>>> = []
            for (let i = 0; i < want.length; i += op.limit) wantPages.push(want.slice(i, i + op.limit))
            if (wantPages.length === 0) wantPages.push([])
            return show(pages) === show(wantPages) ? [] : bad(`pages ${show(pages)}, expected ${show(wantPages)}`)
          }
        }
      })

    /**
     * The tenant's whole view equals its reference: `list` (by id) with its `total`, and, on a
     * full check, `count` too.
     */
    const checkTenant = (t: string, when: string, full: boolean): Effect.Effect<ReadonlyArray<string>, never, R> =>
      Effect.gen(function*() {
        const want = sortRecs(ownRows(tables, t), "id").map((r) => expectedOf(t, r))
        const problems: Array<string> = []
        const listed = yield* Effect.exit(as(t, Page.list({ total: true })))
        if (Exit.isFailure(listed)) problems.push(`${when}: list of ${shortName(t)} failed: ${describeExit(listed)}`)
        else {
          const got = listed.value.records.map(stored)
          if (show(got) !== show(want)) {
            const gotIds = got.map((r) => r.id)
            const wantIds = want.map((r) => r.id)
            problems.push(
              `${when}: list of ${shortName(t)} differs from its reference\n    database:  ${show(got)}\n    reference: ${show(want)}` +
                `\n    ids only in the database: ${show(gotIds.filter((i) => !wantIds.includes(i)))}` +
                `, only in the reference: ${show(wantIds.filter((i) => !gotIds.includes(i)))}`
            )
          }
          if (listed.value.total !== want.length) {
            problems.push(`${when}: list total of ${shortName(t)}: expected ${want.length}, got ${listed.value.total}`)
          }
        }
        if (full) {
          const counted = yield* Effect.exit(as(t, Page.count()))
          if (Exit.isFailure(counted) || counted.value !== want.length) {
            problems.push(`${when}: count of ${shortName(t)}: expected ${want.length}, got ${describeExit(counted)}`)
          }
        }
        return problems
      })

    /** Reads of the tenant's own ids, finds and counts of other tenants' ids. */
    const spotCheck = (t: string, when: string): Effect.Effect<ReadonlyArray<string>, never, R> =>
      Effect.gen(function*() {
        const problems: Array<string> = []
        const mine = ownRows(tables, t)
        for (const r of mine.filter(() => rng.chance(0.5)).slice(0, 2)) {
          const exit = yield* Effect.exit(as(t, Page.read(r.id)))
          if (Exit.isFailure(exit) || show(stored(exit.value)) !== show(expectedOf(t, r))) {
            problems.push(`${when}: ${shortName(t)}.read(${r.id}): expected ${show(expectedOf(t, r))}, got ${describeExit(exit)}`)
          }
        }
        const theirs = [...new Set(othersRows(tables, t).map((r) => r.id))].filter(() => rng.chance(0.5)).slice(0, 2)
        for (const id of theirs) {
          const exit = yield* Effect.exit(as(t, Page.find(id)))
          const want = own(tables, t).get(id)
          const wantText = show(want === undefined ? null : expectedOf(t, want))
          if (Exit.isFailure(exit) || show(Option.getOrNull(Option.map(exit.value, stored))) !== wantText) {
            problems.push(`${when}: ${shortName(t)}.find(${id}) of another tenant's id: expected ${wantText}, got ${describeExit(exit)}`)
          }
        }
        if (theirs.length > 0) {
          const exit = yield* Effect.exit(as(t, Page.count({ id: { $in: theirs } })))
          const want = theirs.filter((id) => own(tables, t).has(id)).length
          if (Exit.isFailure(exit) || exit.value !== want) {
            problems.push(`${when}: ${shortName(t)}.count({ id: { $in: ${show(theirs)} } }): expected ${want}, got ${describeExit(exit)}`)
          }
        }
        return problems
      })

    /** Raw SQL: each tenant's rows are where its strategy puts them, and every row has a tenant. */
    const checkStorage = Effect.gen(function*() {
      const exit = yield* Effect.exit(cfg.storage(Page.table, tenants))
      if (Exit.isFailure(exit)) return [`storage check failed: ${describeExit(exit)}`]
      const normal = (groups: ReadonlyArray<readonly [string | null, number]>) =>
        [...groups].filter(([, n]) => n > 0).sort(([a], [b]) => compareCodeUnits(String(a), String(b)))
      const got = new Map(exit.value.map((l) => [l.location, normal(l.groups)] as const))
      const expected = new Map<string, Array<readonly [string | null, number]>>()
      for (const t of tenants) {
        const size = own(tables, t).size
        const where = cfg.locationOf(t)
        if (!expected.has(where)) expected.set(where, [])
        if (size > 0) expected.get(where)!.push([t, size])
      }
      const problems: Array<string> = []
      for (const l of exit.value) {
        if (l.withoutTenant !== 0) problems.push(`storage: ${l.location} holds ${l.withoutTenant} row(s) without a tenant`)
        if (l.unexpected !== undefined) problems.push(`storage: ${l.unexpected}`)
      }
      const keys = new Set([...got.keys(), ...expected.keys()])
      for (const k of keys) {
        const g = show(got.get(k) ?? null)
        const w = show(normal(expected.get(k) ?? []))
        if (g !== w) problems.push(`storage: ${k} holds rows per tenant_id ${g}, expected ${w}`)
      }
      return problems
    })

    let failures: ReadonlyArray<string> = []
    // every tenant touches the model first: its table (schema / database) exists and is empty
    for (const t of tenants) {
      if (failures.length === 0) failures = yield* checkTenant(t, "initially", false)
    }
    for (let i = 0; i < STEPS && failures.length === 0; i++) {
      const parallel = rng.chance(PARALLEL_SHARE)
      const actors = parallel
        ? [...tenants].sort(() => rng.next() - 0.5).slice(0, rng.int(2, tenants.length))
        : [rng.pick(tenants)]
      // each op is drawn from the state before the step; ops of distinct tenants commute
      const ops = actors.map((t) => genOp(rng, tables, t))
      const text = ops.map((op) => describeOp(op, shortName)).join(" ‖ ")
      log.push(`${i}: ${text}`)
      const results = yield* Effect.forEach(ops, step, { concurrency: parallel ? "unbounded" : 1 })
      const when = `after step ${i} (${text})`
      failures = results.flat()
      for (const t of actors) if (failures.length === 0) failures = yield* checkTenant(t, when, false)
      if (failures.length === 0 && (i + 1) % FULL_CHECK_EVERY === 0 && i + 1 < STEPS) {
        for (const t of tenants) {
          if (failures.length === 0) failures = [...(yield* checkTenant(t, when, true)), ...(yield* spotCheck(t, when))]
        }
      }
      if (failures.length > 0) failures = failures.map((f) => `step ${i}: ${f}`)
    }
    if (failures.length === 0) {
      for (const t of tenants) {
        if (failures.length === 0) failures = [...(yield* checkTenant(t, "at the end", true)), ...(yield* spotCheck(t, "at the end"))]
      }
    }
    if (failures.length === 0) failures = yield* checkStorage
    const sizes = tenants.map((t) => `${shortName(t)}:${own(tables, t).size}`).join(" ")
    expect(
      failures,
      `${header}\n${failures.join("\n")}\n  operations so far (reference rows per tenant now ${sizes}):\n    ${log.slice(-12).join("\n    ")}`
    ).toEqual([])
  }).pipe((self) => (cfg.strategy === undefined ? self : Effect.provide(self, cfg.strategy)))

/**
 * Registers the sequences `0 … sequences - 1` of a configuration. On the pipeline path every
 * sequence runs under a recording tracer, so each statement goes through `@effect/sql`'s
 * statement pipeline instead of straight to the connection, and must show that it did.
 */
const registerSequences = <R>(
  it: Vitest.MethodsNonLive<R>,
  cfg: Config<R>,
  path: "direct" | "pipeline" = "direct"
) => {
  const sequences = path === "direct" ? SEQUENCES : PIPELINE_SEQUENCES
  for (let seq = 0; seq < sequences; seq++) {
    it.effect(`sequence ${seq}: ${STEPS} interleaved steps agree with a per-tenant reference`, () => {
      if (path === "direct") return runSequence(cfg, seq)
      const pipeline = onPipeline()
      return Effect.gen(function*() {
        yield* pipeline.run(runSequence({ ...cfg, name: `${cfg.name}, statement pipeline` }, seq))
        expect(pipelineProblems(pipeline.spans), `[${cfg.name}] sequence ${seq} on the pipeline path`).toEqual([])
      })
    })
  }
}

/**
 * The targeted form of what the concurrent steps above sometimes hit: on one shared table, an
 * upsert of one tenant must not fail because another tenant upserts at the same moment. The
 * slugs are chosen so both new rows fall into the same gap of the (tenant_id, slug) index:
 * tenant a's after all of a's rows, tenant b's before all of b's.
 */
const registerConcurrentUpserts = (it: Vitest.MethodsNonLive<SqlClient.SqlClient>, dbName: Dialect) =>
  it.effect("row strategy: upserts of two tenants at the same moment both succeed", () =>
    Effect.gen(function*() {
      const Page = makeDefaultPage()
      const [a, b] = runTenants()
      if (a === undefined || b === undefined) return expect.fail("two tenants")
      yield* Page.count().pipe(Tenant.with(a))
      const rounds = 12
      const failures: Array<string> = []
      for (let round = 0; round < rounds; round++) {
        const bulk = round % 2 === 1
        const exits = yield* Effect.forEach(
          [[a, `z${100 + round}`], [b, `a${900 - round}`]] as const,
          ([t, slug]) =>
            Effect.exit(
              (bulk
                ? Effect.asVoid(Page.bulkUpsert([{ slug, title: "x", n: round }], { conflictOn: ["slug"] }))
                : Effect.asVoid(Page.upsert({ where: { slug }, create: { title: "x", n: round } }))).pipe(Tenant.with(t))
            ),
          { concurrency: "unbounded" }
        )
        exits.forEach((exit, i) => {
          if (Exit.isFailure(exit)) {
            failures.push(`round ${round}: ${bulk ? "bulkUpsert" : "upsert"} of tenant ${i === 0 ? "a" : "b"}: ${describeExit(exit)}`)
          }
        })
      }
      expect(
        failures,
        `[row/${dbName}] ${failures.length} of ${2 * rounds} concurrent upserts of two tenants failed on table ${Page.table}`
      ).toEqual([])
      expect([yield* Page.count().pipe(Tenant.with(a)), yield* Page.count().pipe(Tenant.with(b))]).toEqual([rounds, rounds])
    }))

// ---------------------------------------------------------------------------
// the suites
// ---------------------------------------------------------------------------

// a server that does not answer has no suites here: global setup warns (and fails under CI=true)

// every configuration runs its sequences on the direct path, and its first sequences again
// through @effect/sql's statement pipeline (a recording tracer installed)
for (const path of PIPELINE_SEQUENCES > 0 ? ["direct", "pipeline"] as const : ["direct"] as const) {
  const suffix = path === "direct" ? "" : " pipeline"

  forEachDatabase(`tenancy property row${suffix}`, (it, db) => {
    registerSequences(it, rowConfig(db.name), path)
    if (path === "direct") registerConcurrentUpserts(it, db.name)
  })

  // the schema strategy needs schemas: on SQLite it is a ConfigurationError (test/tenancy.test.ts)
  for (const db of [Db.pg, Db.mysql].filter((d) => d.available)) {
    effectLayer(db.layer(`tenancy property schema${suffix}`), { timeout: 60_000 })(
      `tenancy property schema${suffix} [${db.name}]`,
      (it) => registerSequences(it, schemaConfig(db.name), path)
    )
  }

  {
    const sqlite = databaseConfig("sqlite", SqliteTenants, () => generic(SqliteClient.layer({ filename: ":memory:" })))
    effectLayer(sqlite.layer, { timeout: 60_000 })(
      `tenancy property database${suffix} [sqlite, a :memory: database per tenant]`,
      (it) => registerSequences(it, sqlite.config, path)
    )
  }

  if (Db.pg.available) {
    const pg = databaseConfig("pg", PgTenants, pgTenantClient)
    effectLayer(pg.layer, { timeout: 60_000 })(
      `tenancy property database${suffix} [pg, a schema per tenant]`,
      (it) => registerSequences(it, pg.config, path)
    )
  }

  if (Db.mysql.available) {
    const mysql = databaseConfig("mysql", MysqlTenants, mysqlTenantClient)
    effectLayer(mysql.layer, { timeout: 60_000 })(
      `tenancy property database${suffix} [mysql, a database per tenant]`,
      (it) => registerSequences(it, mysql.config, path)
    )
  }
}
