/**
 * Multi-tenancy. A tenant-scoped model (`Model.make(…, { tenantScoped: true })`) has nodes that
 * require {@link CurrentTenant}: a program that runs one without a tenant does not compile.
 * How tenants are kept apart is the database binding's strategy:
 *
 * - `"row"` (default): a `tenant_id` column, set on every write and added to every statement;
 *   unique constraints and upsert targets include it.
 * - `"schema"`: additionally a PostgreSQL schema / MySQL database per tenant (`tenant_<id>`),
 *   created on first use. Not available on SQLite.
 * - `"database"`: one client per tenant (see `DataFlow.Instance` `layerPerTenant`).
 *
 * @since 0.1.0
 */
import type { Brand } from "effect"
import { Context, Effect, Either, Function, Layer } from "effect"
import { InvalidTenantId } from "./Errors.js"

/**
 * A tenant id that has been checked (see {@link validate}): the only kind of value
 * {@link CurrentTenant} holds, so `Effect.provideService(CurrentTenant, "…")` with an unchecked
 * string does not compile. Make one with {@link make}, {@link with} or {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export type TenantId = string & Brand.Brand<"effect-dataflow/TenantId">

/**
 * The tenant the current effect acts for.
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentTenant extends Context.Tag("effect-dataflow/Tenant/CurrentTenant")<CurrentTenant, TenantId>() {}

/**
 * How tenants are separated.
 *
 * @since 0.1.0
 * @category models
 */
export type Strategy = "row" | "schema" | "database"

/**
 * The strategy for models on the default `SqlClient` (instances carry their own).
 *
 * @since 0.1.0
 * @category tags
 */
export class Tenancy extends Context.Reference<Tenancy>()("effect-dataflow/Tenant/Tenancy", {
  defaultValue: (): "row" | "schema" => "row"
}) {}

const pattern = /^[a-z0-9][a-z0-9_]{0,47}$/

/**
 * Checks a tenant id: 1–48 characters of lowercase letters, digits and `_`, starting with a
 * letter or digit (so it can name a schema or database on every server).
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (id: string): Either.Either<TenantId, InvalidTenantId> =>
  isTenantId(id)
    ? Either.right(id)
    : Either.left(
      new InvalidTenantId({
        reason: "expected 1-48 characters of lowercase letters, digits and _, starting with a letter or digit"
      })
    )

/**
 * Whether a value is a valid tenant id.
 *
 * @since 0.1.0
 * @category validation
 */
export const isTenantId = (u: unknown): u is TenantId => typeof u === "string" && pattern.test(u)

/**
 * A checked tenant id, or `InvalidTenantId`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (id: string): Effect.Effect<TenantId, InvalidTenantId> => validate(id)

/**
 * Provides the current tenant.
 *
 * @example
 * ```ts
 * import { Tenant } from "effect-dataflow"
 *
 * const Acme = Tenant.layer("acme")
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (id: string): Layer.Layer<CurrentTenant, InvalidTenantId> =>
  Layer.effect(CurrentTenant, validate(id))

const withTenant: {
  (id: string): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | InvalidTenantId, Exclude<R, CurrentTenant>>
  <A, E, R>(self: Effect.Effect<A, E, R>, id: string): Effect.Effect<A, E | InvalidTenantId, Exclude<R, CurrentTenant>>
} = Function.dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, id: string) =>
    Effect.flatMap(validate(id), (tenant) => Effect.provideService(self, CurrentTenant, tenant))
)

export {
  /**
   * Runs an effect as a tenant: `effect.pipe(Tenant.with("acme"))` or `Tenant.with(effect, "acme")`.
   *
   * @since 0.1.0
   * @category combinators
   */
  withTenant as with
}

/**
 * A layer that sets the tenancy strategy of the default `SqlClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const strategy = (strategy: "row" | "schema"): Layer.Layer<never> => Layer.succeed(Tenancy, strategy)

/** The schema (PostgreSQL) or database (MySQL) of a tenant. @internal */
export const schemaName = (tenant: string) => `tenant_${tenant}`
