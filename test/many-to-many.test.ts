import { expect } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { DataFlow, Model, Relation } from "../src/index.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"
import { onPipeline } from "./support/pipeline.js"

interface PostRecord {
  readonly id: number
  readonly title: string
}

const models = () => {
  const Tag = Model.make("Tag", Schema.Struct({ id: Schema.Int, label: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("mm_tags"),
    timestamps: false,
    relations: {
      posts: Model.manyToMany((): Relation.Target<PostRecord> => Post, {
        through: (): Relation.Target => PostTag,
        foreignKey: "tagId",
        otherKey: "postId"
      })
    }
  })
  const Post = Model.make("Post", Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(20)) }), {
    table: uniqueTable("mm_posts"),
    timestamps: false,
    relations: {
      tags: Model.manyToMany(() => Tag, { through: (): Relation.Target => PostTag, foreignKey: "postId", otherKey: "tagId" })
    }
  })
  const PostTag = Model.make("PostTag", Schema.Struct({ id: Schema.Int, postId: Schema.Int, tagId: Schema.Int }), {
    table: uniqueTable("mm_post_tags"),
    timestamps: false,
    unique: [["postId", "tagId"]],
    relations: {
      post: Model.belongsTo((): Relation.Target<PostRecord> => Post, { foreignKey: "postId", onDelete: "cascade" }),
      tag: Model.belongsTo(() => Tag, { foreignKey: "tagId", onDelete: "cascade" })
    }
  })
  return { Tag, Post, PostTag }
}

forEachDatabase("many-to-many", (it, db) => {
  it.effect("include through the junction: two statements per page; some / every / none filters", () =>
    Effect.gen(function*() {
      const { Post, PostTag, Tag } = models()
      yield* DataFlow.migrate([PostTag])
      const tags = (yield* Tag.bulkCreate(["a", "b", "c"].map((label) => ({ label })), { returnRecords: true })).records
      const posts = (yield* Post.bulkCreate(["p0", "p1", "p2", "p3"].map((title) => ({ title })), { returnRecords: true })).records
      // p0: a, b; p1: b; p2: (none); p3: a, b, c
      const links: Array<[number, number]> = [[0, 0], [0, 1], [1, 1], [3, 0], [3, 1], [3, 2]]
      yield* PostTag.bulkCreate(links.map(([p, t]) => ({ postId: posts[p]!.id, tagId: tags[t]!.id })))
      const pipeline = onPipeline()
      const page = yield* pipeline.run(Post.list({ include: { tags: { orderBy: ["-label"], select: ["label"] } } }))
      const selects = pipeline.spans.filter((s) => s.name === "sql.execute" && /^\s*SELECT /i.test(String(s.attributes.get("db.query.text") ?? "")))
      expect(selects).toHaveLength(3)
      expect(page.records.map((p) => [p.title, p.tags.map((t) => t.label)])).toEqual([
        ["p0", ["b", "a"]],
        ["p1", ["b"]],
        ["p2", []],
        ["p3", ["c", "b", "a"]]
      ])
      const back = yield* Tag.read(tags[1]!.id, { include: { posts: true } })
      expect(back.posts.map((p) => p.title)).toEqual(["p0", "p1", "p3"])
      const titles = (where: unknown) => Effect.map(Post.list({ where: where as never }), (r) => r.records.map((p) => p.title))
      expect(yield* titles({ tags: { some: { label: "a" } } })).toEqual(["p0", "p3"])
      expect(yield* titles({ tags: { none: {} } })).toEqual(["p2"])
      expect(yield* titles({ tags: { every: { label: { $ne: "a" } } } })).toEqual(["p1", "p2"])
      yield* Tag.delete(tags[1]!.id)
      expect(yield* PostTag.count()).toBe(3)
    }))
  it.effect("a soft-delete junction: a link disconnected and connected again is restored (the pair stays unique), nested too", () =>
    Effect.gen(function*() {
      const Label = Model.make("Label", Schema.Struct({ id: Schema.Int, name: Schema.String.pipe(Schema.maxLength(20)) }), {
        table: uniqueTable("mm_labels"),
        timestamps: false
      })
      const Doc = Model.make("Doc", Schema.Struct({ id: Schema.Int, title: Schema.String.pipe(Schema.maxLength(20)) }), {
        table: uniqueTable("mm_docs"),
        timestamps: false,
        relations: { labels: Model.manyToMany(() => Label, { through: (): Relation.Target => DocLabel, foreignKey: "docId", otherKey: "labelId" }) }
      })
      const DocLabel = Model.make("DocLabel", Schema.Struct({ id: Schema.Int, docId: Schema.Int, labelId: Schema.Int }), {
        table: uniqueTable("mm_doc_labels"),
        timestamps: false,
        softDelete: true,
        unique: [["docId", "labelId"]],
        relations: {
          doc: Model.belongsTo(() => Doc, { foreignKey: "docId" }),
          label: Model.belongsTo(() => Label, { foreignKey: "labelId" })
        }
      })
      yield* DataFlow.migrate([DocLabel])
      const [red, blue] = (yield* Label.bulkCreate([{ name: "red" }, { name: "blue" }], { returnRecords: true })).records
      const doc = yield* Doc.create({ title: "d", labels: { connect: [red!.id, blue!.id] } })
      expect(yield* Doc.disconnect("labels", doc.id, [red!.id, blue!.id])).toEqual({ disconnected: 2 })
      expect(yield* DocLabel.count()).toBe(0)
      expect(yield* Doc.connect("labels", doc.id, [red!.id])).toEqual({ connected: 1 })
      yield* Doc.update(doc.id, { labels: { connect: [blue!.id] } })
      expect(yield* DocLabel.count()).toBe(2)
      expect(yield* DocLabel.count(undefined, { includeDeleted: true })).toBe(2)
      const back = yield* Doc.read(doc.id, { include: { labels: { orderBy: ["name"] } } })
      expect(back.labels.map((l) => l.name)).toEqual(["blue", "red"])
      // connecting what is linked changes nothing
      expect(yield* Doc.connect("labels", doc.id, [red!.id, blue!.id])).toEqual({ connected: 0 })
    }))
  it.effect("concurrent connects of the same pairs: each link inserted once, none fails (unique pair: skipped, not a UniqueViolation)", () =>
    Effect.gen(function*() {
      const { Post, PostTag, Tag } = models()
      yield* DataFlow.migrate([PostTag])
      const tags = (yield* Tag.bulkCreate(["a", "b", "c"].map((label) => ({ label })), { returnRecords: true })).records
      const post = yield* Post.create({ title: "p" })
      const ids = tags.map((t) => t.id)
      const results = yield* Effect.all(
        Array.from({ length: 6 }, () => Effect.either(Post.connect("tags", post.id, ids))),
        { concurrency: "unbounded" }
      )
      // MySQL: a connect that lost the race is a UniqueViolation (docs/relations.md)
      const failed = results.filter((r) => r._tag === "Left").map((r) => r._tag === "Left" ? r.left._tag : "")
      if (db.name === "mysql") expect(failed.every((tag) => tag === "UniqueViolation")).toBe(true)
      else expect(failed).toEqual([])
      const connected = results.reduce((n, r) => n + (r._tag === "Right" ? r.right.connected : 0), 0)
      expect(db.name === "mysql" ? connected <= 3 : connected === 3).toBe(true)
      expect(yield* PostTag.count()).toBe(3)
    }))
})
