/**
 * The peers of the N+1 relations workload (bench/relations.ts), written as their documentation
 * shows, on the tables the library created:
 *
 * - Drizzle ORM's relational queries: `relations()` declared beside the tables, then
 *   `db.query.posts.findMany({ with: { author: true, comments: true } })` — one statement
 *   (PostgreSQL: lateral joins with `json_agg`; SQLite: `json_array` subqueries; MySQL:
 *   `mode: "planetscale"`, correlated subqueries, since MariaDB has no LATERAL).
 * - Kysely with `jsonObjectFrom` / `jsonArrayFrom` (kysely/helpers/postgres, /sqlite, /mysql):
 *   one statement; on SQLite and MySQL with `ParseJSONResultsPlugin`, as Kysely's docs say.
 *
 * A peer whose first load fails on MariaDB / MySQL is reported as not applicable there, with the
 * driver's error (on MariaDB both fail: Drizzle's derived tables refer to the outer query, and
 * Kysely's MySQL helper writes `CAST(… AS JSON)`); on SQLite and PostgreSQL a failure ends the run.
 */
import Database from "better-sqlite3"
import { asc, relations } from "drizzle-orm"
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3"
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2"
import * as mysqlCore from "drizzle-orm/mysql-core"
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres"
import * as pgCore from "drizzle-orm/pg-core"
import * as sqliteCore from "drizzle-orm/sqlite-core"
import type { ColumnType } from "kysely"
import { Kysely, MysqlDialect, ParseJSONResultsPlugin, PostgresDialect, SqliteDialect } from "kysely"
import * as kyMysql from "kysely/helpers/mysql"
import * as kyPg from "kysely/helpers/postgres"
import * as kySqlite from "kysely/helpers/sqlite"
import mysql from "mysql2/promise"
import pg from "pg"
import type { DbName } from "./config.js"
import type { LoadedPost } from "./relations-model.js"
import { REL_POSTS, REL_TABLES } from "./relations-model.js"
import { versionOf } from "./versions.js"

export interface PeerLoad {
  readonly name: string
  readonly load: () => Promise<ReadonlyArray<LoadedPost>>
  readonly close: () => Promise<void>
}

const sqliteSchema = () => {
  const users = sqliteCore.sqliteTable(REL_TABLES.users, {
    id: sqliteCore.integer("id").primaryKey({ autoIncrement: true }),
    name: sqliteCore.text("name").notNull()
  })
  const posts = sqliteCore.sqliteTable(REL_TABLES.posts, {
    id: sqliteCore.integer("id").primaryKey({ autoIncrement: true }),
    authorId: sqliteCore.integer("author_id").notNull(),
    title: sqliteCore.text("title").notNull()
  })
  const comments = sqliteCore.sqliteTable(REL_TABLES.comments, {
    id: sqliteCore.integer("id").primaryKey({ autoIncrement: true }),
    postId: sqliteCore.integer("post_id").notNull(),
    body: sqliteCore.text("body").notNull()
  })
  return { users, posts, comments }
}

const pgSchema = () => {
  const id = () => pgCore.bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity()
  const users = pgCore.pgTable(REL_TABLES.users, { id: id(), name: pgCore.varchar("name", { length: 100 }).notNull() })
  const posts = pgCore.pgTable(REL_TABLES.posts, {
    id: id(),
    authorId: pgCore.bigint("author_id", { mode: "number" }).notNull(),
    title: pgCore.varchar("title", { length: 200 }).notNull()
  })
  const comments = pgCore.pgTable(REL_TABLES.comments, {
    id: id(),
    postId: pgCore.bigint("post_id", { mode: "number" }).notNull(),
    body: pgCore.varchar("body", { length: 200 }).notNull()
  })
  return { users, posts, comments }
}

const mysqlSchema = () => {
  const id = () => mysqlCore.bigint("id", { mode: "number" }).primaryKey().autoincrement()
  const users = mysqlCore.mysqlTable(REL_TABLES.users, { id: id(), name: mysqlCore.varchar("name", { length: 100 }).notNull() })
  const posts = mysqlCore.mysqlTable(REL_TABLES.posts, {
    id: id(),
    authorId: mysqlCore.bigint("author_id", { mode: "number" }).notNull(),
    title: mysqlCore.varchar("title", { length: 200 }).notNull()
  })
  const comments = mysqlCore.mysqlTable(REL_TABLES.comments, {
    id: id(),
    postId: mysqlCore.bigint("post_id", { mode: "number" }).notNull(),
    body: mysqlCore.varchar("body", { length: 200 }).notNull()
  })
  return { users, posts, comments }
}

/** A pool for a peer: the size the main benchmark gives its peers. */
const PEER_POOL = 4

/** Drizzle's relational query, one per database. */
export const drizzlePeer = (db: DbName, url: string): PeerLoad => {
  const name = `drizzle-orm ${versionOf("drizzle-orm")}, db.query.posts.findMany({ with })`
  if (db === "sqlite") {
    const t = sqliteSchema()
    const schema = {
      ...t,
      postsRelations: relations(t.posts, ({ many, one }) => ({
        author: one(t.users, { fields: [t.posts.authorId], references: [t.users.id] }),
        comments: many(t.comments)
      })),
      commentsRelations: relations(t.comments, ({ one }) => ({ post: one(t.posts, { fields: [t.comments.postId], references: [t.posts.id] }) }))
    }
    const client = new Database(url)
    const d = drizzleSqlite({ client, schema })
    return {
      name,
      load: async () =>
        d.query.posts.findMany({ limit: REL_POSTS, orderBy: [asc(t.posts.id)], with: { author: true, comments: true } }).sync(),
      close: async () => void client.close()
    }
  }
  if (db === "pg") {
    const t = pgSchema()
    const schema = {
      ...t,
      postsRelations: relations(t.posts, ({ many, one }) => ({
        author: one(t.users, { fields: [t.posts.authorId], references: [t.users.id] }),
        comments: many(t.comments)
      })),
      commentsRelations: relations(t.comments, ({ one }) => ({ post: one(t.posts, { fields: [t.comments.postId], references: [t.posts.id] }) }))
    }
    const pool = new pg.Pool({ connectionString: url, max: PEER_POOL })
    const d = drizzlePg({ client: pool, schema })
    return {
      name,
      load: () => d.query.posts.findMany({ limit: REL_POSTS, orderBy: [asc(t.posts.id)], with: { author: true, comments: true } }),
      close: () => pool.end()
    }
  }
  const t = mysqlSchema()
  const schema = {
    ...t,
    postsRelations: relations(t.posts, ({ many, one }) => ({
      author: one(t.users, { fields: [t.posts.authorId], references: [t.users.id] }),
      comments: many(t.comments)
    })),
    commentsRelations: relations(t.comments, ({ one }) => ({ post: one(t.posts, { fields: [t.comments.postId], references: [t.posts.id] }) }))
  }
  const pool = mysql.createPool({ uri: url, connectionLimit: PEER_POOL })
  const d = drizzleMysql({ client: pool, schema, mode: "planetscale" })
  return {
    name: `${name}, mode "planetscale" (MariaDB has no LATERAL)`,
    load: () => d.query.posts.findMany({ limit: REL_POSTS, orderBy: [asc(t.posts.id)], with: { author: true, comments: true } }),
    close: () => pool.end()
  }
}

interface KyDb {
  readonly bench_rel_users: { readonly id: ColumnType<number | string, never, never>; readonly name: string }
  readonly bench_rel_posts: { readonly id: ColumnType<number | string, never, never>; readonly author_id: number | string; readonly title: string }
  readonly bench_rel_comments: { readonly id: ColumnType<number | string, never, never>; readonly post_id: number | string; readonly body: string }
}

/** Kysely with the JSON helpers of the dialect: one statement. */
export const kyselyPeer = (db: DbName, url: string): PeerLoad => {
  const name = `kysely ${versionOf("kysely")}, jsonObjectFrom / jsonArrayFrom`
  const close: Array<() => Promise<void>> = []
  let k: Kysely<KyDb>
  let helpers: Pick<typeof kySqlite, "jsonArrayFrom" | "jsonObjectFrom">
  if (db === "sqlite") {
    const database = new Database(url)
    k = new Kysely<KyDb>({ dialect: new SqliteDialect({ database }), plugins: [new ParseJSONResultsPlugin()] })
    helpers = kySqlite
  } else if (db === "pg") {
    k = new Kysely<KyDb>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: PEER_POOL }) }) })
    helpers = kyPg
  } else {
    k = new Kysely<KyDb>({
      dialect: new MysqlDialect({ pool: mysql.createPool({ uri: url, connectionLimit: PEER_POOL }).pool }),
      plugins: [new ParseJSONResultsPlugin()]
    })
    helpers = kyMysql
  }
  close.push(() => k.destroy())
  const { jsonArrayFrom, jsonObjectFrom } = helpers
  return {
    name,
    load: async () => {
      const rows = await k.selectFrom("bench_rel_posts as p")
        .select((eb) => [
          "p.id",
          "p.author_id",
          "p.title",
          jsonObjectFrom(eb.selectFrom("bench_rel_users as u").select(["u.id", "u.name"]).whereRef("u.id", "=", "p.author_id")).as("author"),
          jsonArrayFrom(
            eb.selectFrom("bench_rel_comments as c").select(["c.id", "c.post_id", "c.body"]).whereRef("c.post_id", "=", "p.id").orderBy("c.id")
          ).as("comments")
        ])
        .orderBy("p.id").limit(REL_POSTS).execute()
      return rows.map((r): LoadedPost => ({
        id: r.id,
        authorId: r.author_id,
        title: r.title,
        author: r.author,
        comments: r.comments.map((c) => ({ id: c.id, postId: c.post_id, body: c.body }))
      }))
    },
    close: async () => {
      for (const c of close) await c()
    }
  }
}
