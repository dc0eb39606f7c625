/**
 * Checks the premise of the comparison: the hand-written statements (bench/sql.ts) are the
 * ones the generated nodes send. Each operation runs once through the nodes and once
 * hand-written, on a SqlClient that records every statement text it is given; the two lists
 * must be equal. A difference is reported (stderr and the report), not fatal: the library's
 * SQL may change, and then bench/sql.ts must follow.
 */
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { Effect } from "effect"
import { Effect as E } from "effect"
import { DataFlow } from "../src/index.js"
import { handWrittenOps, nodeOps, viaSqlClient } from "./impl/effect.js"
import { Items, makeItems, Walk, Writes } from "./model.js"
import type { EffectOps } from "./ops.js"
import type { Target } from "./targets.js"

/** The type ids by which the library recognises a client it may bypass `unsafe` on. */
const clientTypeIds: ReadonlyArray<PropertyKey> = [SqliteClient.TypeId, PgClient.TypeId, MysqlClient.TypeId]

/**
 * The client with `unsafe` recording each statement text. It hides which driver's client it
 * is: on a client it recognises, with no tracer that records spans and no statement
 * transformer, the library sends its statements straight to the connection and never calls
 * `unsafe`; on an unknown one it goes through `unsafe` (the same texts).
 */
export const recording = (sql: SqlClient.SqlClient, log: Array<string>): SqlClient.SqlClient =>
  new Proxy(sql, {
    get: (target, prop) =>
      prop === "unsafe"
        ? (text: string, params?: ReadonlyArray<unknown>) => {
          log.push(text)
          return target.unsafe(text, params)
        }
        : Reflect.get(target, prop, target),
    has: (target, prop) => !clientTypeIds.includes(prop) && Reflect.has(target, prop)
  })

type Probe = (ops: EffectOps) => Effect.Effect<unknown, unknown, SqlClient.SqlClient>

export const checkStatements = async (target: Target, itemId: number): Promise<Array<string>> => {
  const sql = await target.rt.runPromise(SqlClient.SqlClient)
  // one row more than a statement holds: the chunking is checked too
  const rows = makeItems("check", target.stmts.bulkChunk + 1)
  const probes: ReadonlyArray<readonly [string, Probe]> = [
    ["create", (ops) => ops.create(makeItems("check-one", 1)[0]!)],
    ["read", (ops) => ops.read(itemId)],
    ["list", (ops) => ops.list("c1")],
    ["count", (ops) => ops.count("c1")],
    ["update", (ops) => ops.update(itemId, { name: "checked", qty: 1 })],
    ["bulkCreate", (ops) => ops.bulkCreate(rows)],
    ["bulkUpdate", (ops) => ops.bulkUpdate("c1", 2)],
    ["bulkUpsert", (ops) => ops.bulkUpsert(rows)],
    ["bulkDelete", (ops) => ops.bulkDelete("c1")],
    // the first page, then the next one after it (the keyset condition), when bench_walk has one
    [
      "walk",
      (ops) => E.flatMap(ops.walkPage(undefined), (first) => (first.next === undefined ? E.void : ops.walkPage(first.next)))
    ]
  ]
  const run = async (ops: EffectOps, probe: Probe) => {
    const log: Array<string> = []
    const client = recording(sql, log)
    await target.rt.runPromise(
      E.zipRight(DataFlow.migrate([Items, Writes, Walk]), E.sync(() => void log.splice(0))).pipe(
        E.zipRight(probe(ops)),
        E.provideService(SqlClient.SqlClient, client)
      )
    )
    return log
  }
  // the named-statement floor (PostgreSQL) is the same code over another StatementRunner: the same texts
  const hand = handWrittenOps(target.stmts, viaSqlClient)
  const differences: Array<string> = []
  for (const [name, probe] of probes) {
    await target.resetWrites()
    const fromNodes = await run(nodeOps, probe)
    await target.resetWrites()
    const byHand = await run(hand, probe)
    const same = fromNodes.length === byHand.length && fromNodes.every((t, i) => t === byHand[i])
    if (fromNodes.length === 0) {
      // every probe sends at least one statement: the recording did not see the nodes' (they bypassed `unsafe`)
      differences.push(`${name}: no statement of the nodes was recorded (bench/check-sql.ts must follow the library)`)
    } else if (!same) {
      const show = (texts: ReadonlyArray<string>) =>
        JSON.stringify(texts.map((t) => (t.length > 300 ? `${t.slice(0, 300)}… (${t.length} chars)` : t)))
      differences.push(`${name}: the nodes sent ${show(fromNodes)}, the hand-written code ${show(byHand)}`)
    }
  }
  await target.resetWrites()
  return differences
}
