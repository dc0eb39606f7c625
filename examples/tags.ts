/**
 * Articles with a tag list, on the embedded SQLite (no server): the tags stored once, as a JSON
 * array, and filtered by membership and length; a value inside a JSON object compared at its
 * path; a user's favourites read with one long `$in`.
 *
 *   npx tsx examples/tags.ts
 */
import { Console, Effect, Schema } from "effect"
import { DataFlow, Json, Model } from "../src/index.js"

const Article = Model.make(
  "Article",
  Schema.Struct({
    id: Schema.Int,
    title: Schema.String,
    tagList: Schema.Array(Schema.String),
    meta: Schema.Struct({ language: Schema.String, readingMinutes: Schema.Number })
  })
)

const program = Effect.gen(function*() {
  yield* Article.bulkCreate([
    { title: "How to train your dragon", tagList: ["dragons", "training"], meta: { language: "en", readingMinutes: 7 } },
    { title: "Elves and dragons", tagList: ["elves", "dragons", "lore"], meta: { language: "en", readingMinutes: 25 } },
    { title: "Gardening", tagList: [], meta: { language: "fr", readingMinutes: 4 } },
    { title: "Elvish for beginners", tagList: ["elves", "languages"], meta: { language: "sjn", readingMinutes: 12 } }
  ])
  const titles = (r: { readonly records: ReadonlyArray<{ readonly title: string }> }) => r.records.map((a) => a.title)

  // tagged "dragons"
  yield* Console.log("dragons:", titles(yield* Article.list({ where: { tagList: { $has: "dragons" } }, orderBy: ["id"] })))
  // either tag, both tags
  yield* Console.log("elves or lore:", yield* Article.count({ tagList: { $hasAny: ["elves", "lore"] } }))
  yield* Console.log("elves and dragons:", titles(yield* Article.list({ where: { tagList: { $hasAll: ["elves", "dragons"] } } })))
  // untagged, or with at least three tags
  yield* Console.log("untagged:", titles(yield* Article.list({ where: { tagList: { $size: 0 } } })))
  yield* Console.log("3+ tags:", titles(yield* Article.list({ where: { tagList: { $size: { $gte: 3 } } } })))

  // inside a JSON object: the path's keys and the operand's type are checked against the schema
  yield* Console.log("English, under 10 minutes:", titles(yield* Article.list({
    where: { $and: [{ meta: { $path: ["language"], $eq: "en" } }, { meta: { $path: ["readingMinutes"], $lt: 10 } }] }
  })))

  // the same filter from an HTTP query string, decoded and checked against the model
  const where = yield* Json.decodeFilter(Article, JSON.parse(`{ "tagList": { "$hasAny": ["languages"] } }`))
  yield* Console.log("from JSON:", titles(yield* Article.list({ where })))

  // a wrong element is an InvalidFilter naming it, before any SQL runs
  const bad = yield* Effect.flip(Json.decodeFilter(Article, { tagList: { $hasAny: ["elves", 42] } }))
  yield* Console.log(`${bad._tag} at ${bad.path}: ${bad.reason}`)

  // a user with many favourites: one $in of 50,000 ids is one bound parameter
  const favourites = Array.from({ length: 50_000 }, (_, i) => i + 2)
  yield* Console.log("favourites:", yield* Article.count({ id: { $in: favourites } }))
})

await Effect.runPromise(program.pipe(Effect.provide(DataFlow.layer({ url: ":memory:" }))))
