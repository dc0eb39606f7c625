/**
 * Multi-tenancy. A tenant-scoped model (`Model.make(…, { tenantScoped: true })`) has nodes that
 * require {@link CurrentTenant}: a program that runs one without a tenant does not compile.
 * How tenants are kept apart is the database binding's strategy:
 *
 * - `"row"` (default): a `tenant_id` column, set on every write and added to every statement;
 *   unique constraints and upsert targets include it.
 * - `"schema"`: additionally a PostgreSQL schema / MySQL database per tenant (named by
 *   {@link storageName}), created on first use. Not available on SQLite.
 * - `"database"`: one client per tenant (see `DataFlow.Instance` `layerPerTenant`).
 *
 * @since 0.1.0
 */
import type * as Brand from "effect/Brand"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Function from "effect/Function"
import * as Layer from "effect/Layer"
import { createHash } from "node:crypto"
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

const pattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

/**
 * Checks a tenant id: 1–63 characters of letters (either case), digits, `_`, `-` and `.`,
 * starting with a letter or digit. `"acme"`, `"Acme-Corp"` and `"eu.acme_2"` are three
 * different tenants; see {@link storageName} for the schema or database each gets.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (id: string): Either.Either<TenantId, InvalidTenantId> =>
  isTenantId(id)
    ? Either.right(id)
    : Either.left(
      new InvalidTenantId({
        reason: "expected 1-63 characters of letters, digits, _, - and ., starting with a letter or digit"
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

/** Longest name a schema (PostgreSQL: 63 bytes) or database (MySQL: 64 characters) can have. */
const MAX_NAME = 63
/** Of an encoded id too long for a name: the readable part kept before the hash. */
const KEPT = 28

/**
 * The id in lowercase letters, digits, `_` and `$`, one-to-one: `a-z`, `0-9` and `_` stand for
 * themselves, an uppercase letter is `$` and the letter in lowercase, `-` is `$0`, `.` is `$1`.
 * Every `$` starts a two-character escape, so the text reads back one way only.
 */
const escaped = (id: string): Array<string> => {
  const out: Array<string> = []
  for (const ch of id) {
    if (ch >= "A" && ch <= "Z") out.push(`$${ch.toLowerCase()}`)
    else if (ch === "-") out.push("$0")
    else if (ch === ".") out.push("$1")
    else out.push(ch)
  }
  return out
}

/**
 * The name of a tenant's schema (PostgreSQL), database (MySQL) or database file under the
 * `"schema"` and `"database"` strategies: `tenant_` and the id, with uppercase letters, `-` and
 * `.` escaped so that the name is lowercase (MySQL database names are case-insensitive on some
 * file systems) — `acme` → `tenant_acme`, `Acme-Corp` → `tenant_$acme$0$corp`. Two different
 * ids never get the same name: the escaping reads back one way only. A name longer than 63
 * characters keeps its first 28 escaped characters and ends in `$$` and 26 characters of the
 * id's SHA-256 (130 bits; a form the escaping never produces).
 *
 * @since 0.1.0
 * @category naming
 */
export const storageName = (tenant: string): string => {
  const tokens = escaped(tenant)
  const full = `tenant_${tokens.join("")}`
  if (full.length <= MAX_NAME) return full
  let kept = ""
  for (const t of tokens) {
    if (kept.length + t.length > KEPT) break
    kept += t
  }
  return `tenant_${kept}$$${base32(createHash("sha256").update(tenant, "utf8").digest()).slice(0, 26)}`
}

const alphabet = "abcdefghijklmnopqrstuvwxyz234567"

/** RFC 4648 base32 in lowercase, without padding. */
const base32 = (bytes: Uint8Array): string => {
  let out = ""
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out
}

/** @internal */
export const schemaName = storageName
