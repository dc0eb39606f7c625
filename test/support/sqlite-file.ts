/**
 * SQLite on a file opened by two clients at once: two connections to one database, as two
 * processes would have (the in-memory databases of `db.ts` have one connection each, so a
 * transaction there simply excludes everything else).
 */
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { Context, Scope } from "effect"
import { Effect, Layer } from "effect"
import { rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import { DataFlow } from "../../src/index.js"
import { sqlite, sqliteNode } from "./db.js"

export interface SqliteFileClient {
  readonly label: string
  readonly layer: (file: string) => Layer.Layer<SqlClient.SqlClient, unknown>
}

const generic = <E>(driver: Layer.Layer<SqlClient.SqlClient, E>) =>
  Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient).pipe(Layer.provide(driver))

/** The library's own SQLite client and `@effect/sql-sqlite-node`'s, both in WAL mode. */
export const sqliteFileClients: ReadonlyArray<SqliteFileClient> = [
  // a short busy wait: a second writer's SQLITE_BUSY comes after 200 ms instead of 5 s
  { label: sqlite.label, layer: (file) => DataFlow.layer({ url: `sqlite:${file}`, sqlite: { busyTimeout: "200 millis" } }) },
  { label: sqliteNode.label, layer: (file) => generic(SqliteClient.layer({ filename: file })) }
]

let files = 0

/**
 * Two clients of `client` on a fresh database file (removed when the scope closes): the same
 * model runs on either by providing its context.
 */
export const twoConnections = (
  client: SqliteFileClient
): Effect.Effect<
  readonly [Context.Context<SqlClient.SqlClient>, Context.Context<SqlClient.SqlClient>],
  unknown,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const file = join(tmpdir(), `df_${inject("runId")}_${process.pid}_${++files}.sqlite`)
    // added first, so it runs after both clients are closed
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true })
      })
    )
    const a = yield* Layer.build(client.layer(file))
    const b = yield* Layer.build(client.layer(file))
    return [a, b] as const
  })
