/**
 * `DataFlow.layer`: the library's own client for a URL (`client/layer.ts`) with the settings
 * its options name (the default schema).
 * (Internal module: not part of the public API.)
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Config, ConfigError, Effect, Layer } from "effect"
import type { DriverNotInstalled } from "../../Errors.js"
import type { ClientExecutor } from "../client/executor.js"
import type { LayerOptions } from "../client/layer.js"
import * as Client from "../client/layer.js"
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
): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError | ConfigError.ConfigError | DriverNotInstalled> =>
  options.schema === undefined ? Client.fromUrl(options) : Layer.merge(Client.fromUrl(options), schema(options.schema))

/** {@link fromUrl} with its options read from configuration. @internal */
export const fromConfig = (
  config: Config.Config.Wrap<LayerOptions>
): Layer.Layer<SqlClient.SqlClient | ClientExecutor, SqlError | ConfigError.ConfigError | DriverNotInstalled> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), fromUrl))
