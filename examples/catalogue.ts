/**
 * A product catalogue kept in sync with a supplier feed, on the embedded SQLite (no server):
 * rows from JSON, an import that skips products already listed, per-product price changes in
 * one transaction, an export streamed page by page, totals and the most stocked products, and tenants
 * with real-world slugs.
 *
 *   npx tsx examples/catalogue.ts
 */
import { BigDecimal, Console, Effect, Schema, Stream } from "effect"
import { DataFlow, Json, Model, Tenant } from "../src/index.js"

const Product = Model.make(
  "Product",
  Schema.Struct({
    id: Schema.Int,
    sku: Schema.String,
    name: Schema.String,
    price: Schema.BigDecimalFromSelf,
    stock: Schema.Int
  }),
  { unique: ["sku"], versioned: true, tenantScoped: true }
)

// what a supplier sends: JSON, decimals as text
const feed = `[
  { "sku": "A-1", "name": "Anchor", "price": "12.50", "stock": 4 },
  { "sku": "B-2", "name": "Buoy", "price": "30.00", "stock": 0 },
  { "sku": "A-1", "name": "Anchor (again)", "price": "13.00", "stock": 9 },
  { "sku": "C-3", "name": "Chain", "price": "7.25", "stock": 120 }
]`

const program = Effect.gen(function*() {
  // 1. rows from JSON, each field with its own schema; a bad row is a ValidationError naming it
  const rows = yield* Json.decodeRows(Product, JSON.parse(feed))

  // 2. import, leaving out products already listed (and repeats inside the feed)
  yield* Product.create({ sku: "C-3", name: "Chain", price: BigDecimal.unsafeFromString("7.00"), stock: 100 })
  const imported = yield* Product.bulkCreate(rows, { onConflict: "skip" })
  yield* Console.log("imported", imported) // { inserted: 2, skipped: 2 }

  // 3. each product its own change, in one transaction; unknown SKUs are reported
  const repriced = yield* Product.bulkUpdate([
    { key: { sku: "A-1" }, patch: { price: BigDecimal.unsafeFromString("11.99") } },
    { key: { sku: "B-2" }, patch: { stock: 25 }, expectedVersion: 1 },
    { key: { sku: "Z-9" }, patch: { stock: 1 } }
  ])
  yield* Console.log("repriced", repriced) // { updated: 2, missing: [{ sku: "Z-9" }] }

  // 4. an export as a Stream: keyset pages of 2 here, one page in memory at a time
  yield* Product.stream({ orderBy: ["sku"], select: ["sku", "price", "stock"], pageSize: 2 }).pipe(
    Stream.map((p) => `${p.sku};${BigDecimal.format(p.price)};${p.stock}`),
    Stream.runForEach((line) => Console.log("export", line))
  )

  // 5. an upsert names its conflict target the way bulkUpsert does
  const { created } = yield* Product.upsert({
    create: { sku: "D-4", name: "Davit", price: BigDecimal.unsafeFromString("99"), stock: 1 },
    update: { stock: 2 },
    conflictOn: ["sku"]
  })
  yield* Console.log("D-4 created", created)

  // 6. aggregates: the whole catalogue, then per group (exact decimal sums on every database)
  const totals = yield* Product.aggregate({ count: true, sum: ["stock", "price"], avg: ["price"], max: ["price"] })
  yield* Console.log(
    "catalogue:",
    totals._count,
    "products,",
    totals._sum.stock,
    "in stock, average price",
    totals._avg.price === null ? "-" : BigDecimal.format(totals._avg.price)
  )
  const inStock = yield* Product.aggregate({
    where: { stock: { $gt: 0 } },
    groupBy: ["name"],
    count: true,
    sum: ["stock"],
    having: { _sum: { stock: { $gte: 2 } } },
    orderBy: ["-_sum.stock"],
    limit: 3
  })
  for (const group of inStock) yield* Console.log("most stocked:", group.name, group._sum.stock)
})

// tenant slugs as applications have them: case, "-" and "." are fine
await Effect.runPromise(
  program.pipe(
    Tenant.with("Acme-Marine.eu"),
    Effect.provide(DataFlow.layer({ url: ":memory:" }))
  )
)
console.log("schema name of that tenant under the schema strategy:", Tenant.storageName("Acme-Marine.eu"))
