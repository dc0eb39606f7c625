/**
 * `DataFlow.layer`: the library's own client for a URL (`client/layer.ts`) with the settings
 * its options name (the default schema).
 * (Internal module: not part of the public API.)
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { DriverNotInstalled } from "../../Errors.js"
import type { ClientExecutor } from "../client/executor.js"
import type { LayerOptions } from "../client/layer.js"
import * as Client from "../client/layer.js"
import * as Replicas from "./replicas.js"
import { DefaultSchema } from "./settings.js"

const schemaName = /^[A-Za-z0-9_$-]{1,63}$/

/**
 * A layer that sets the schema (PostgreSQL) or database (MySQL) the models' tables live in,
 * for any client (see `DataFlow.schema`); a name outside the rule is a `ConfigError`.
 * @internal
 */
export const schema = (name: string): Layer.Layer<never, ConfigError.ConfigError> =>
  schemaName.test(name)
    ? Layer.succeed(DefaultSchema, name)
    : Layer.fail(
      ConfigError.InvalidData(["schema"], "expected 1-63 letters, digits, _, $ and - (a PostgreSQL schema or MySQL database)")
    )

/** The library's client for a URL, with its options' settings. @internal */
export const fromUrl = (
  options: LayerOptions = {}
): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError | ConfigError.ConfigError | DriverNotInstalled> => {
  const primary = options.schema === undefined ? Client.fromUrl(options) : Layer.merge(Client.fromUrl(options), schema(options.schema))
  const urls = options.replicas ?? []
  if (urls.length === 0) return primary
  const kind = Client.parseUrl(options.url)?._tag
  const mismatch = urls.findIndex((url) => Client.parseUrl(url)?._tag !== kind)
  if (kind === "sqlite" || mismatch !== -1) {
    return Layer.fail(ConfigError.InvalidData(
      ["replicas"],
      kind === "sqlite"
        ? "read replicas are for PostgreSQL and MySQL URLs, not SQLite"
        : `replicas[${mismatch}] is not a ${kind === "pg" ? "PostgreSQL" : "MySQL"} URL as url is`
    ))
  }
  const replicas = Replicas.layer(urls, (url) => Client.fromUrl({ ...options, url, replicas: undefined }), {
    interval: options.replicaCheck?.interval ?? "1 second",
    timeout: options.replicaCheck?.timeout ?? "1 second"
  })
  // ReadReplicas is an internal service: the layer's type names what users provide it for
  return Layer.merge(primary, replicas) as Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError | ConfigError.ConfigError | DriverNotInstalled>
}

/** {@link fromUrl} with its options read from configuration. @internal */
export const fromConfig = (
  config: Config.Config.Wrap<LayerOptions>
): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError | ConfigError.ConfigError | DriverNotInstalled> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), fromUrl))
