/**
 * A program as a list of calls recorded with their answers and the rows after each, run on a
 * database and on the testing kit's reference layer and compared step by step.
 */
import { expect } from "@effect/vitest"
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Testing from "../../src/testing/Testing.js"

/** What a caller sees of an error: its tag and the fields that say what was wrong. */
export const summary = (e: unknown): Record<string, unknown> => {
  const fields = ["_tag", "model", "operation", "path", "columns", "relation", "id", "expectedVersion"] as const
  const out: Record<string, unknown> = {}
  for (const f of fields) {
    const v = (e as Record<string, unknown>)[f]
    if (v !== undefined) out[f] = v
  }
  return out
}

/** A list call's records. */
export const records = <E, R>(list: Effect.Effect<{ readonly records: ReadonlyArray<unknown> }, E, R>) => Effect.map(list, (p) => p.records)

/**
 * A recorder of steps: `step(name, call)` runs the call (not in a transaction of its own),
 * then reads the rows with `stored`; `steps` holds each name, answer or error, and rows.
 */
export const recorder = <E, R>(stored: Effect.Effect<unknown, E, R>) => {
  const steps: Array<{ readonly name: string; readonly result: unknown; readonly rows: unknown }> = []
  const step = <A, E2, R2>(name: string, call: Effect.Effect<A, E2, R2>) =>
    Effect.gen(function*() {
      const result = yield* call.pipe(
        Effect.map((value) => ({ value })),
        Effect.catchAll((e) => Effect.succeed({ error: summary(e) }))
      )
      steps.push({ name, result, rows: yield* stored })
    })
  return { step, steps }
}

/**
 * Runs a program on the database (rolled back) and on the reference layer of `models`: the
 * same steps, compared one by one. `tables` (reading every model) runs first, outside the
 * transaction: a table created inside it fails MySQL's repeatable-read snapshot.
 */
export const sameOnReference = <E, E2>(
  program: Effect.Effect<ReadonlyArray<unknown>, E, SqlClient.SqlClient>,
  models: ReadonlyArray<Testing.AnyModel>,
  tables: Effect.Effect<unknown, E2, SqlClient.SqlClient>
) =>
  Effect.gen(function*() {
    yield* tables
    const database = Testing.canonical(yield* Testing.rollback(program)) as ReadonlyArray<{ readonly name: string }>
    const reference = Testing.canonical(yield* program.pipe(Effect.provide(Testing.layerReference(models)))) as ReadonlyArray<unknown>
    expect(reference.length).toBe(database.length)
    // step by step: the first difference names its call
    for (const [i, expected] of database.entries()) expect([expected.name, reference[i]]).toEqual([expected.name, expected])
  })
