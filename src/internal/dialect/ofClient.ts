/**
 * The dialect of a client, from the client's own account of what it is.
 * (Internal module: not part of the public API.)
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Dialect } from "./dialect.js"
import { mysql } from "./mysql.js"
import { pg } from "./pg.js"
import { sqlite } from "./sqlite.js"

/** @internal */
export const fromClient = (sql: SqlClient.SqlClient): Dialect =>
  sql.onDialectOrElse({
    pg: () => pg,
    mysql: () => mysql,
    sqlite: () => sqlite,
    orElse: () => {
      throw new TypeError("effect-dataflow supports SQLite, PostgreSQL and MySQL/MariaDB clients")
    }
  })
