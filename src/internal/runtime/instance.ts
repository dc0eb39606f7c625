/**
 * Named database instances (`DataFlow.Instance`). A model bound to an instance has nodes that
 * require the instance's tag instead of the generic `SqlClient`, so the type shows which
 * database each effect touches; two instances never share a connection or a transaction.
 * (Internal module: `DataFlow` exports `Instance` and `InstanceClass`.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Function from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import type { DriverNotInstalled } from "../../Errors.js"
import { ConfigurationError } from "../../Errors.js"
import * as Tenant from "../../Tenant.js"
import type * as Transaction from "../../Transaction.js"
import type { Executor } from "../client/executor.js"
import { ClientExecutor } from "../client/executor.js"
import type { LayerOptions } from "../client/layer.js"
import type { Binding, Connected } from "./binding.js"
import { connect } from "./binding.js"
import { uncheckedTenant } from "./context.js"
import * as Layers from "./layers.js"
import { ReadReplicas } from "./replicas.js"
import { DefaultSchema } from "./settings.js"
import { run } from "./transaction.js"

/** A client from a built context, with the executor its layer provides (the library's own clients). */
const connectedOf = (services: Context.Context<SqlClient.SqlClient>): Connected => {
  const sql = Context.get(services, SqlClient.SqlClient)
  const executor: Executor | undefined = Option.getOrUndefined(Context.getOption(services as Context.Context<never>, ClientExecutor))
  return {
    sql,
    executor: executor?.client === sql ? executor : undefined,
    schema: Context.get(services as Context.Context<never>, DefaultSchema),
    replicas: Option.getOrUndefined(Context.getOption(services as Context.Context<never>, ReadReplicas))
  }
}

/**
 * Declares an instance: `class Analytics extends DataFlow.Instance<Analytics>()("Analytics") {}`.
 * Bind models with `Model.make(…, { instance: Analytics })` and provide it with
 * `Analytics.layer(clientLayer)`, `Analytics.layerUrl({ url })` or `Analytics.layerPerTenant(f)`.
 *
 * @example
 * ```ts
 * import { SqliteClient } from "@effect/sql-sqlite-node"
 * import { Schema } from "effect"
 * import { DataFlow, Model } from "effect-dataflow"
 *
 * class Analytics extends DataFlow.Instance<Analytics>()("Analytics") {}
 * const Event = Model.make("Event", Schema.Struct({ id: Schema.Int, kind: Schema.String }), { instance: Analytics })
 * // Event.create(…): Effect<…, …, Analytics>
 * const AnalyticsLive = Analytics.layer(SqliteClient.layer({ filename: "analytics.db" }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export interface InstanceClass<Self, Name extends string>
  extends Context.TagClass<Self, `effect-dataflow/Instance/${Name}`, Binding>
{
  readonly instanceName: Name
  /** The instance on a client layer (`PgClient.layer(…)`, `SqliteClient.layer(…)`, …). */
  layer<E, R>(
    client: Layer.Layer<SqlClient.SqlClient, E, R>,
    options?: { readonly tenancy?: "row" | "schema" }
  ): Layer.Layer<Self, E, R>
  /** The instance on a URL, like `DataFlow.layer({ url })`. */
  layerUrl(
    options: LayerOptions & { readonly tenancy?: "row" | "schema" }
  ): Layer.Layer<Self, SqlError | ConfigError.ConfigError | DriverNotInstalled>
  /**
   * The `database` tenancy strategy: one client per tenant, built on first use from
   * `make(tenantId)`, shared while in use and closed after `idleTimeToLive` (default one
   * minute) without use.
   */
  layerPerTenant<E>(
    make: (tenant: string) => Layer.Layer<SqlClient.SqlClient, E>,
    options?: { readonly idleTimeToLive?: Duration.DurationInput }
  ): Layer.Layer<Self>
  /**
   * A transaction on this instance; models of other instances inside it run outside it.
   * On a per-tenant instance it is the current tenant's database.
   */
  readonly transaction: {
    <O extends Transaction.Options = {}>(options?: O): <A, E, R>(
      self: Effect.Effect<A, E, R>
    ) => Effect.Effect<A, E | Transaction.ErrorsOf<O> | ConfigurationError, R | Self>
    <A, E, R, O extends Transaction.Options = {}>(
      self: Effect.Effect<A, E, R>,
      options?: O
    ): Effect.Effect<A, E | Transaction.ErrorsOf<O> | ConfigurationError, R | Self>
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const Instance = <Self>() => <const Name extends string>(name: Name): InstanceClass<Self, Name> => {
  const Base = Context.Tag(`effect-dataflow/Instance/${name}`)<Self, Binding>()
  // signatures and docs live on InstanceClass
  return class InstanceTag extends Base {
    static readonly instanceName = name

    static layer<E, R>(
      client: Layer.Layer<SqlClient.SqlClient, E, R>,
      options: { readonly tenancy?: "row" | "schema" } = {}
    ) {
      return Layer.effect(
        Base,
        Effect.map(Effect.context<SqlClient.SqlClient>(), (services): Binding => {
          const connected = connectedOf(services)
          return { name, tenancy: options.tenancy ?? "row", client: () => Effect.succeed(connected) }
        })
      ).pipe(Layer.provide(client))
    }

    static layerUrl(options: LayerOptions & { readonly tenancy?: "row" | "schema" }) {
      return InstanceTag.layer(Layers.fromUrl(options), options.tenancy === undefined ? {} : { tenancy: options.tenancy })
    }

    static layerPerTenant<E>(
      make: (tenant: string) => Layer.Layer<SqlClient.SqlClient, E>,
      options: { readonly idleTimeToLive?: Duration.DurationInput } = {}
    ) {
      return Layer.scoped(
        Base,
        Effect.map(
          RcMap.make({
            lookup: (tenant: string) => Effect.map(Layer.build(make(tenant)), connectedOf),
            idleTimeToLive: options.idleTimeToLive ?? "1 minute"
          }),
          (clients): Binding => ({
            name,
            tenancy: "database",
            client: (tenant) =>
              tenant === undefined
                ? Effect.fail(
                  new ConfigurationError({
                    model: name,
                    operation: "connect",
                    reason: "a database per tenant serves tenant-scoped models only"
                  })
                )
                : RcMap.get(clients, tenant)
          })
        )
      )
    }

    static transaction = Function.dual(
      (args) => Effect.isEffect(args[0]),
      <A, E, R>(self: Effect.Effect<A, E, R>, options: Transaction.Options = {}) =>
        Effect.scoped(Effect.gen(function*() {
          const binding = yield* Base
          const tenant = yield* Effect.serviceOption(Tenant.CurrentTenant)
          if (tenant._tag === "Some" && !Tenant.isTenantId(tenant.value)) return yield* Effect.die(uncheckedTenant())
          const { sql } = yield* connect(binding, Option.getOrUndefined(tenant), name, "connect")
          return yield* run(sql, self, options)
        }))
    )
  } as unknown as InstanceClass<Self, Name>
}
