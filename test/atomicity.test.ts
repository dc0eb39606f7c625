/**
 * Atomicity across statements: `bulkCreate` and `bulkUpsert` write a large input in several
 * statements ("chunks") inside one transaction. A row that fails in the LAST chunk — in
 * validation or in the database — must leave nothing of the earlier chunks behind.
 *
 * Rows per statement are the documented ones (docs/nodes.md), written here as literals so the
 * tests do not lean on the library's own constants: on PostgreSQL one UNNEST statement per
 * 10,000 rows (1000 when records are returned), elsewhere at most 1000 rows a statement. A
 * first test checks that chunk size + 1 rows really take two INSERT statements, so the bad row
 * below really is alone in a second chunk. What was written is counted with raw SQL, not
 * through the model.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema, Stream } from "effect"
import { Model } from "../src/index.js"
import type { DbName, TestDb } from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { onPipeline } from "./support/pipeline.js"

/** Rows per INSERT statement of bulkCreate and bulkUpsert, per database (docs/nodes.md). */
const CHUNK: Record<DbName, number> = { pg: 10_000, sqlite: 1_000, mysql: 1_000 }
/** bulkCreate with `returnRecords: true`: multi-row INSERT … RETURNING / re-select everywhere. */
const RETURNING_CHUNK = 1_000
/** Items of a per-record bulkUpdate between two yields to the event loop. */
const ITEMS = 500

const fields = { id: Schema.Int, slug: Schema.String, code: Schema.String, n: Schema.Int }
type Input = { readonly slug: string; readonly code: string; readonly n: number }

const makeModel = (softDelete: boolean) =>
  Model.make("Chunked", Schema.Struct(fields), {
    table: uniqueTable("chunked"),
    unique: ["slug", "code"],
    timestamps: false,
    softDelete
  })

const input = (count: number): Array<Input> => Array.from({ length: count }, (_, i) => ({ slug: `s${i}`, code: `c${i}`, n: i }))

/**
 * Two rows that are there before every failed write, and must be untouched after it. Their
 * slugs sort after every slug of `input` ("s0" … "s10000"): bulkUpsert writes its rows in the
 * order of their conflict keys, so a bad row updating one of them is written in the last chunk.
 */
const kept: ReadonlyArray<Input> = [{ slug: "z0", code: "kc0", n: -1 }, { slug: "z1", code: "kc1", n: -2 }]

/** The same rows as an array, a Stream, a Stream of a generator, and a plain generator. */
const sources = (rows: ReadonlyArray<Input>): ReadonlyArray<readonly [string, Iterable<Input> | Stream.Stream<Input>]> => [
  ["an array", rows],
  ["a Stream", Stream.fromIterable(rows)],
  ["a Stream of a generator", Stream.fromIterable(generate(rows))],
  ["a generator", generate(rows)]
]

function* generate(rows: ReadonlyArray<Input>) {
  yield* rows
}

/** Valid as a TypeScript value, invalid for the model: `n` is a `Schema.Int`. */
const notAnInteger = (slug: string, code: string, n: number): Input => ({ slug, code, n: n + 0.5 })

/** The table's rows as raw SQL sees them: (slug, code, n), ordered by slug. */
const rawRows = (db: TestDb, table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
    const rows = yield* sql.unsafe<{ slug: string; code: string; n: number | string }>(
      `SELECT ${q("slug")} AS slug, ${q("code")} AS code, ${q("n")} AS n FROM ${q(table)} ORDER BY ${q("slug")}`
    ).withoutTransform
    return rows.map((r) => ({ slug: r.slug, code: r.code, n: Number(r.n) }))
  })

/** INSERT statements a write ran, counted from the `sql.execute` spans of the pipeline. */
const insertsOf = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const pipeline = onPipeline()
    yield* pipeline.run(self)
    return pipeline.spans.filter((s) =>
      s.name === "sql.execute" && /^INSERT /.test(String(s.attributes.get("db.query.text") ?? ""))
    ).length
  })

forEachDatabase("atomicity", (it, db) => {
  const chunk = CHUNK[db.name]

  it.effect(`chunk size + 1 rows (${chunk + 1}) take two INSERT statements: the tests below cross a chunk boundary`, () =>
    Effect.gen(function*() {
      const M = makeModel(false)
      expect(yield* insertsOf(M.bulkCreate(input(chunk + 1)))).toBe(2)
      const R = makeModel(false)
      expect(yield* insertsOf(R.bulkCreate(input(RETURNING_CHUNK + 1), { returnRecords: true }))).toBe(2)
      const U = makeModel(false)
      expect(yield* insertsOf(U.bulkUpsert(input(chunk + 1), { conflictOn: ["slug"] }))).toBe(2)
      expect((yield* rawRows(db, U.table)).length).toBe(chunk + 1)
    }), { timeout: 120_000 })

  it.effect(`bulkCreate of ${chunk + 1} rows, an invalid last row: ValidationError naming it, nothing written`, () =>
    Effect.gen(function*() {
      const M = makeModel(false)
      yield* M.bulkCreate(kept)
      const rows = input(chunk + 1)
      rows[chunk] = notAnInteger("bad", "bad", 1)
      for (const [what, source] of sources(rows)) {
        const error = yield* Effect.flip(M.bulkCreate(source))
        expect(error, what).toMatchObject({ _tag: "ValidationError", operation: "bulkCreate", path: "n", rowIndex: chunk })
        expect(yield* rawRows(db, M.table), what).toEqual(kept)
      }
    }), { timeout: 120_000 })

  it.effect(`bulkCreate of ${chunk + 1} rows, the last one a duplicate of the first: UniqueViolation, nothing written`, () =>
    Effect.gen(function*() {
      const M = makeModel(false)
      yield* M.bulkCreate(kept)
      const rows = input(chunk + 1)
      rows[chunk] = { slug: "s0", code: "fresh", n: 0 }
      for (const [what, source] of sources(rows)) {
        const error = yield* Effect.flip(M.bulkCreate(source))
        expect(error, what).toMatchObject({ _tag: "UniqueViolation", operation: "bulkCreate", columns: ["slug"] })
        expect(yield* rawRows(db, M.table), what).toEqual(kept)
      }
    }), { timeout: 120_000 })

  it.effect(`bulkCreate returning records, ${RETURNING_CHUNK + 1} rows, a bad last row: nothing written`, () =>
    Effect.gen(function*() {
      const M = makeModel(false)
      yield* M.bulkCreate(kept)
      const duplicate = input(RETURNING_CHUNK + 1)
      duplicate[RETURNING_CHUNK] = { slug: "s0", code: "fresh", n: 0 }
      const invalid = input(RETURNING_CHUNK + 1)
      invalid[RETURNING_CHUNK] = notAnInteger("bad", "bad", 1)
      for (const [what, source] of [...sources(duplicate), ...sources(invalid)]) {
        const error = yield* Effect.flip(M.bulkCreate(source, { returnRecords: true }))
        expect(error._tag, what).toMatch(/^(UniqueViolation|ValidationError)$/)
        if (error._tag === "ValidationError") expect(error, what).toMatchObject({ path: "n", rowIndex: RETURNING_CHUNK })
        expect(yield* rawRows(db, M.table), what).toEqual(kept)
      }
    }), { timeout: 120_000 })

  // per-record bulkUpdate: one statement per item, all in one transaction (the event loop runs
  // between batches of items); a failing last item leaves none of the earlier updates
  it.effect(`bulkUpdate of ${ITEMS + 1} items, the last one failing: nothing written`, () =>
    Effect.gen(function*() {
      const M = makeModel(false)
      const rows = input(ITEMS + 1)
      yield* M.bulkCreate([...kept, ...rows])
      const before = yield* rawRows(db, M.table)
      const items: Array<{ readonly key: { readonly slug: string }; readonly patch: Partial<Input> }> = rows.map((r) => ({
        key: { slug: r.slug },
        patch: { n: r.n + 1 }
      }))
      // the last item takes a kept row's code: a unique violation
      items[ITEMS] = { key: { slug: rows[ITEMS]!.slug }, patch: { code: "kc0" } }
      const collision = yield* Effect.flip(M.bulkUpdate(items))
      expect(collision).toMatchObject({ _tag: "UniqueViolation", operation: "bulkUpdate" })
      expect(yield* rawRows(db, M.table)).toEqual(before)
      // the last item names no record, and every record is required
      items[ITEMS] = { key: { slug: "absent" }, patch: { n: 0 } }
      const missing = yield* Effect.flip(M.bulkUpdate(items, { requireAll: true }))
      expect(missing).toMatchObject({ _tag: "NotFound", operation: "bulkUpdate" })
      expect(yield* rawRows(db, M.table)).toEqual(before)
    }), { timeout: 120_000 })

  for (const softDelete of [false, true]) {
    const model = softDelete ? "a soft-delete model" : "a plain model"

    it.effect(`bulkUpsert of ${chunk + 1} rows on ${model}, an invalid last row: ValidationError naming it, nothing written`, () =>
      Effect.gen(function*() {
        const M = makeModel(softDelete)
        yield* M.bulkCreate(kept)
        const rows = input(chunk + 1)
        rows[chunk] = notAnInteger("z0", "kc0", 1)
        for (const [what, source] of [["an array", rows], ["a generator", generate(rows)]] as const) {
          const error = yield* Effect.flip(M.bulkUpsert(source, { conflictOn: ["slug"] }))
          expect(error, what).toMatchObject({ _tag: "ValidationError", operation: "bulkUpsert", path: "n", rowIndex: chunk })
          expect(yield* rawRows(db, M.table), what).toEqual(kept)
        }
      }), { timeout: 120_000 })

    // the last row (last in key order too) updates z0 to z1's code: a unique violation on every
    // database (MySQL's ON DUPLICATE KEY UPDATE would take a new row with a clashing code as an
    // update of z1)
    it.effect(`bulkUpsert of ${chunk + 1} rows on ${model}, the last one a unique violation: nothing written`, () =>
      Effect.gen(function*() {
        const M = makeModel(softDelete)
        yield* M.bulkCreate(kept)
        const rows = input(chunk + 1)
        rows[chunk] = { slug: "z0", code: "kc1", n: 99 }
        for (const [what, source] of [["an array", rows], ["a generator", generate(rows)]] as const) {
          const error = yield* Effect.flip(M.bulkUpsert(source, { conflictOn: ["slug"] }))
          expect(error, what).toMatchObject({ _tag: "UniqueViolation", operation: "bulkUpsert" })
          expect(yield* rawRows(db, M.table), what).toEqual(kept)
        }
      }), { timeout: 120_000 })
  }
})
