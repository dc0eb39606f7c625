/**
 * Connection settings of the test servers and raw-driver helpers used outside Effect
 * (global setup and teardown).
 */
import mysql from "mysql2/promise"
import pg from "pg"

export const pgUrl = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
export const mysqlUrl = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test"

/** `true`, or the reason the server did not answer. */
export const probe = async (which: "pg" | "mysql"): Promise<true | string> => {
  try {
    if (which === "pg") {
      const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5000 })
      await client.connect()
      await client.query("SELECT 1")
      await client.end()
    } else {
      const conn = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 5000 })
      await conn.query("SELECT 1")
      await conn.end()
    }
    return true
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** Drops every schema (PostgreSQL) / database (MySQL) a run created. */
export const dropRunObjects = async (runId: string, which: { pg: boolean; mysql: boolean }) => {
  const prefixes = [`df_${runId}_`, `tenant_df_${runId}_`]
  const ours = (name: string) => prefixes.some((p) => name.startsWith(p))
  if (which.pg) {
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    const { rows } = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace")
    for (const r of rows) if (ours(r.nspname)) await client.query(`DROP SCHEMA "${r.nspname}" CASCADE`)
    await client.end()
  }
  if (which.mysql) {
    const conn = await mysql.createConnection({ uri: mysqlUrl })
    const [rows] = await conn.query("SHOW DATABASES")
    for (const r of rows as Array<Record<string, string>>) {
      const name = Object.values(r)[0]!
      if (ours(name)) await conn.query(`DROP DATABASE \`${name}\``)
    }
    await conn.end()
  }
}
