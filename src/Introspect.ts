/**
 * Introspection: the live tables of a database — columns with their types, nullability and
 * defaults, primary keys, unique constraints, indexes and foreign keys — read from
 * PostgreSQL's `pg_catalog` (schema-aware: the connection's current schema unless one is
 * named), MySQL/MariaDB's `information_schema` (the current database) and SQLite's pragmas.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type { DatabaseError } from "./Errors.js"
import { stateOf } from "./internal/runtime/clientState.js"
import { toDatabaseError } from "./internal/runtime/errors.js"
import * as internal from "./internal/schema/introspect.js"
import { toSource as internalToSource } from "./internal/schema/source.js"

/**
 * A live table.
 *
 * @since 0.1.0
 * @category models
 */
export type Table = internal.Table

/**
 * A column of a live table: its name, its type as the catalog shows it (normalized: lower
 * case, no integer display widths), nullability, default expression, and whether the
 * database generates it.
 *
 * @since 0.1.0
 * @category models
 */
export type TableColumn = internal.TableColumn

/**
 * An index or unique constraint of a live table.
 *
 * @since 0.1.0
 * @category models
 */
export type TableIndex = internal.TableIndex

/**
 * A foreign key of a live table.
 *
 * @since 0.1.0
 * @category models
 */
export type ForeignKey = internal.ForeignKey

/**
 * A foreign key's referential action, as the catalog reports it.
 *
 * @since 0.1.0
 * @category models
 */
export type ReferentialAction = internal.ReferentialAction

/**
 * Options of {@link tables}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The PostgreSQL schema / MySQL database to read; default: the connection's current one. */
  readonly schema?: string | undefined
  /** Only these tables; default: every table of the schema. */
  readonly tables?: ReadonlyArray<string> | undefined
}

/**
 * Reads the tables of the default `SqlClient`'s current schema (or `options.schema`), sorted
 * by name.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DataFlow, Introspect } from "effect-dataflow"
 *
 * const program = Introspect.tables().pipe(
 *   Effect.tap((tables) => Effect.log(tables.map((t) => t.name))),
 *   Effect.provide(DataFlow.layer({ url: "sqlite::memory:" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category introspection
 */
export const tables = (options: Options = {}): Effect.Effect<ReadonlyArray<Table>, DatabaseError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const { dialect } = stateOf(sql)
    const wanted = options.tables === undefined ? undefined : new Set(options.tables)
    const one = options.tables?.length === 1 ? options.tables[0] : undefined
    return internal.tables(dialect.catalog, internal.onClient(sql), options.schema, one).pipe(
      Effect.map((all) => (wanted === undefined ? all : all.filter((t) => wanted.has(t.name)))),
      Effect.mapError((e) => toDatabaseError(dialect, "Introspect", "introspect", e))
    )
  })

/**
 * TypeScript source declaring a `Model.make` model for each table: Effect Schema fields from
 * the column kinds (see docs/migrations.md for the mapping), nullable columns as
 * `Schema.NullOr`, column names that are not the snake_case of a field as `Column.annotate`,
 * the primary key, unique constraints and indexes as options, `timestamps: false` (timestamp
 * columns become plain fields). A column of a type the library does not map is declared as
 * text with a comment; a table without a single-column primary key is left out with a comment.
 *
 * @since 0.1.0
 * @category introspection
 */
export const toSource: (tables: ReadonlyArray<Table>) => string = internalToSource
