/**
 * The testing kit's model-based workflow tests (effect-dataflow/testing): random workflows of
 * a registry's model nodes, valid and broken, give the same results or failures on the
 * database and on the reference layer (`DATAFLOW_WORKFLOWS_RUNS` workflows per database,
 * default 15; `DATAFLOW_SEED` replays).
 */
import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Model, Workflow } from "../src/index.js"
import * as Testing from "../src/testing/Testing.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const RUNS = Number(process.env.DATAFLOW_WORKFLOWS_RUNS ?? 15)
const SEED = process.env.DATAFLOW_SEED === undefined ? undefined : Number(process.env.DATAFLOW_SEED)

const Author = Model.make("WfAuthor", {
  id: Schema.String.pipe(Schema.maxLength(6)),
  name: Schema.String.pipe(Schema.maxLength(6)),
  level: Schema.Literal("a", "b"),
  score: Schema.NullOr(Schema.Int)
}, { table: uniqueTable("wf_authors"), unique: ["name"], softDelete: true })

const Note = Model.make("WfNote", {
  id: Schema.Int,
  title: Schema.String.pipe(Schema.maxLength(8)),
  words: Schema.Number
}, { table: uniqueTable("wf_notes"), versioned: true })

/** A composite primary key: by-id nodes take the key object of an earlier create's input. */
const Seat = Model.make("WfSeat", {
  row: Schema.Literal("a", "b"),
  seat: Schema.Int,
  holder: Schema.String.pipe(Schema.maxLength(6))
}, { table: uniqueTable("wf_seats"), primaryKey: ["row", "seat"], versioned: true })

const registry = Workflow.registry([Author, Note])
const seats = Workflow.registry([Seat])

forEachDatabase("testing kit: workflows", (it) => {
  it.effect(`${RUNS} random workflows agree with the reference`, () =>
    Effect.gen(function*() {
      const { runs } = yield* Testing.workflows(registry, [Author, Note], {
        numRuns: RUNS,
        ...(SEED === undefined ? {} : { seed: SEED })
      })
      expect(runs).toBe(RUNS)
    }), 300_000)

  it.effect("a composite-keyed model's workflows agree with the reference", () =>
    Effect.gen(function*() {
      const { runs } = yield* Testing.workflows(seats, [Seat], { numRuns: 8, ...(SEED === undefined ? {} : { seed: SEED }) })
      expect(runs).toBe(8)
    }), 300_000)
})
