/**
 * Everything that differs between SQLite, PostgreSQL and MySQL/MariaDB, behind one interface:
 * named capabilities, SQL pieces, value codecs and failure classification. Code above the
 * dialects asks a {@link Dialect}; it never branches on a database's name. The three
 * implementations live in `internal/dialect/`.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Dialect } from "./internal/dialect/dialect.js"
import * as mysqlDialect from "./internal/dialect/mysql.js"
import * as pgDialect from "./internal/dialect/pg.js"
import * as ofClient from "./internal/dialect/ofClient.js"
import * as sqliteDialect from "./internal/dialect/sqlite.js"

export type {
  /**
   * How a value crosses the driver boundary for one kind of column.
   *
   * @since 0.1.0
   * @category models
   */
  Codec,
  /**
   * A database dialect: named capabilities, SQL pieces, value codecs, failure classification.
   *
   * @since 0.1.0
   * @category models
   */
  Dialect,
  /**
   * An exact SUM: the aggregate expressions a statement selects and how they add up.
   *
   * @since 0.1.0
   * @category models
   */
  ExactSum,
  /**
   * A database failure, classified from the driver's error code.
   *
   * @since 0.1.0
   * @category models
   */
  Failure,
  /**
   * Facts read from a live server that change DDL (MySQL versus MariaDB collations).
   *
   * @since 0.1.0
   * @category models
   */
  ServerInfo,
  /**
   * Table-level DDL input.
   *
   * @since 0.1.0
   * @category models
   */
  TableSpec
} from "./internal/dialect/dialect.js"

/**
 * SQLite: the embedded default.
 *
 * @since 0.1.0
 * @category dialects
 */
export const sqlite: Dialect = sqliteDialect.sqlite

/**
 * PostgreSQL.
 *
 * @since 0.1.0
 * @category dialects
 */
export const pg: Dialect = pgDialect.pg

/**
 * MySQL 8 and MariaDB. Uses no RETURNING, so the same code serves both.
 *
 * @since 0.1.0
 * @category dialects
 */
export const mysql: Dialect = mysqlDialect.mysql

/**
 * The dialect of a client.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromClient: (sql: SqlClient.SqlClient) => Dialect = ofClient.fromClient
