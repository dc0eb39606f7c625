/**
 * Private schemas (PostgreSQL) / databases (MySQL) for suites that open their own clients
 * (through a proxy, or many per test), and raw-driver connections that check what a test wrote
 * without going through the library. Names follow db.ts (`df_<run>_<tag>`), so global teardown
 * drops them.
 */
import type { Scope } from "effect"
import { Effect } from "effect"
import mysql from "mysql2/promise"
import pg from "pg"
import { inject } from "vitest"
import { mysqlUrl, pgUrl } from "./servers.js"

export type ServerName = "pg" | "mysql"

/** A raw connection: plain queries, rows as objects; a driver failure is a defect. */
export interface RawConnection {
  readonly query: (text: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>>
}

export interface PrivateTarget {
  readonly name: ServerName
  /** The URL of the server, on the private schema/database (for `DataFlow.layer`). */
  readonly url: string
  /** A raw connection to the same schema/database, not through the library. */
  readonly raw: RawConnection
}

/** `df_<run>_<tag>`, as db.ts names them. */
export const privateName = (tag: string) => `df_${inject("runId")}_${tag.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`

export const available = (name: ServerName): boolean => inject(name === "pg" ? "pgAvailable" : "mysqlAvailable")

const pgTarget = (tag: string) =>
  Effect.gen(function*() {
    const schema = privateName(tag)
    const u = new URL(pgUrl)
    u.searchParams.set("options", `-c search_path=${schema}`)
    const url = u.toString()
    const client = yield* Effect.acquireRelease(
      Effect.promise(async () => {
        const client = new pg.Client({ connectionString: url })
        client.on("error", () => {})
        await client.connect()
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
        return client
      }),
      (client) => Effect.promise(() => client.end())
    )
    const raw: RawConnection = {
      query: (text) => Effect.promise(() => client.query(text).then((r) => r.rows as ReadonlyArray<Record<string, unknown>>))
    }
    return { name: "pg" as const, url, raw }
  })

const mysqlTarget = (tag: string) =>
  Effect.gen(function*() {
    const database = privateName(tag)
    const u = new URL(mysqlUrl)
    u.pathname = `/${database}`
    const url = u.toString()
    const conn = yield* Effect.acquireRelease(
      Effect.promise(async () => {
        const conn = await mysql.createConnection({ uri: mysqlUrl })
        await conn.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
        await conn.query(`USE \`${database}\``)
        return conn
      }),
      (conn) => Effect.promise(() => conn.end())
    )
    const raw: RawConnection = {
      query: (text) =>
        Effect.promise(() => conn.query(text).then(([rows]) => (Array.isArray(rows) ? rows : []) as ReadonlyArray<Record<string, unknown>>))
    }
    return { name: "mysql" as const, url, raw }
  })

/** A private schema/database named after `tag` and a raw connection to it, for the scope. */
export const privateTarget = (name: ServerName, tag: string): Effect.Effect<PrivateTarget, never, Scope.Scope> =>
  name === "pg" ? pgTarget(tag) : mysqlTarget(tag)
