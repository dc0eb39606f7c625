import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Either, FastCheck, Layer, Option, Schema, TestClock } from "effect"
import { inject } from "vitest"
import { DataFlow, Model, Tenant } from "../src/index.js"
import * as Db from "./support/db.js"
import { forEachDatabase, uniqueTable } from "./support/db.js"

const fields = Schema.Struct({ id: Schema.Int, slug: Schema.String, title: Schema.String })
const makePage = () => Model.make("Page", fields, { table: uniqueTable("pages"), unique: ["slug"], tenantScoped: true })

/** Tenant ids unique to this run, so schema/database names never collide between runs. */
const tenantId = (name: string) => `df_${inject("runId")}_${name}`

describe("tenant ids", () => {
  it("are validated: letters of either case, digits, _ - and ., up to 63 characters", () => {
    for (const good of ["acme_1", "Acme", "acme-corp", "eu.acme_2", "9", "A".repeat(63)]) {
      expect(Either.isRight(Tenant.validate(good))).toBe(true)
    }
    for (const bad of ["", "a b", "x".repeat(64), "_a", "-a", ".a", "a;drop", "a$b", "a/b", "ä", "a\u0000"]) {
      expect(Either.isLeft(Tenant.validate(bad))).toBe(true)
    }
  })

  it("map one-to-one onto lowercase schema and database names of at most 63 characters", () => {
    expect(Tenant.storageName("acme")).toBe("tenant_acme")
    expect(Tenant.storageName("acme_1")).toBe("tenant_acme_1")
    expect(Tenant.storageName("Acme-Corp")).toBe("tenant_$acme$0$corp")
    expect(Tenant.storageName("eu.acme")).toBe("tenant_eu$1acme")
    const long = Tenant.storageName("Z".repeat(63))
    expect(long).toMatch(/^tenant_(\$z){14}\$\$[a-z2-7]{26}$/)
    expect(long.length).toBeLessThanOrEqual(63)
    const alphabet = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."]
    const id = FastCheck.tuple(
      FastCheck.constantFrom(...alphabet.slice(0, 62)),
      FastCheck.array(FastCheck.constantFrom(...alphabet), { maxLength: 62 })
    ).map(([first, rest]) => first + rest.join(""))
    // near-collisions: ids that differ in case only, in one character, or share a long prefix
    const similar = FastCheck.tuple(id, FastCheck.nat(62), FastCheck.constantFrom(...alphabet)).map(([a, at, ch]) => {
      const i = Math.min(at, a.length - 1)
      return [a, i === 0 && !/[A-Za-z0-9]/.test(ch) ? a : a.slice(0, i) + ch + a.slice(i + 1)] as const
    })
    const check = (a: string, b: string) => {
      for (const x of [a, b]) {
        expect(Either.isRight(Tenant.validate(x))).toBe(true)
        expect(Tenant.storageName(x)).toMatch(/^tenant_[a-z0-9_$]{1,56}$/)
      }
      expect(Tenant.storageName(a) === Tenant.storageName(b)).toBe(a === b)
    }
    FastCheck.assert(FastCheck.property(id, id, check), { numRuns: 20_000 })
    FastCheck.assert(FastCheck.property(similar, ([a, b]) => check(a, b)), { numRuns: 20_000 })
    FastCheck.assert(FastCheck.property(id, (a) => check(a, a.toUpperCase())), { numRuns: 5_000 })
  })

  it.effect("Tenant.with fails with a typed error for a malformed id", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.void.pipe(Tenant.with("Bad Id")))
      expect(error._tag).toBe("InvalidTenantId")
    }))

  it("a tenant-scoped node needs a tenant to compile", () => {
    const Page = makePage()
    const run = (_: Effect.Effect<unknown, unknown, never>) => undefined
    const program = Page.count()
    // @ts-expect-error CurrentTenant (and SqlClient) are not provided
    run(program.pipe(Effect.provide(Db.sqlite.layer("x"))))
    run(program.pipe(Tenant.with("acme"), Effect.provide(Db.sqlite.layer("x")), Effect.orDie))
  })
})

forEachDatabase("tenancy row", (it, db) => {
  it.effect("every node is scoped to the current tenant", () =>
    Effect.gen(function*() {
      const Page = makePage()
      const acme = Tenant.with("acme")
      const globex = Tenant.with("globex")
      const a = yield* Page.create({ slug: "home", title: "Acme home" }).pipe(acme)
      const g = yield* Page.create({ slug: "home", title: "Globex home" }).pipe(globex)
      expect(a.tenantId).toBe("acme")
      expect(g.tenantId).toBe("globex")
      // the same natural key in two tenants; duplicates inside one tenant still fail
      expect((yield* Effect.flip(Page.create({ slug: "home", title: "x" }).pipe(acme)))._tag).toBe("UniqueViolation")
      // cross-tenant access by primary key is a missing row
      expect((yield* Effect.flip(Page.read(g.id).pipe(acme)))._tag).toBe("NotFound")
      expect(Option.isNone(yield* Page.find(g.id).pipe(acme))).toBe(true)
      expect((yield* Effect.flip(Page.update(g.id, { title: "hijack" }).pipe(acme)))._tag).toBe("NotFound")
      expect(yield* Page.delete(g.id).pipe(acme)).toEqual({ deleted: false })
      expect((yield* Page.read(g.id).pipe(globex)).title).toBe("Globex home")
      // filters, counts and bulk nodes see only the tenant's rows
      yield* Page.bulkCreate([{ slug: "a", title: "t" }, { slug: "b", title: "t" }]).pipe(acme)
      expect(yield* Page.count().pipe(acme)).toBe(3)
      expect(yield* Page.count().pipe(globex)).toBe(1)
      expect((yield* Page.list({ where: { slug: "home" } }).pipe(globex)).records.map((p) => p.title)).toEqual(["Globex home"])
      expect(yield* Page.bulkUpdate({}, { title: "all" }, { confirm: true }).pipe(acme)).toEqual({ updated: 3 })
      expect((yield* Page.read(g.id).pipe(globex)).title).toBe("Globex home")
      // upsert targets include the tenant
      const up = yield* Page.upsert({ where: { slug: "home" }, create: { title: "new" }, update: { title: "upd" } }).pipe(globex)
      expect(up).toMatchObject({ created: false, record: { id: g.id, title: "upd" } })
      const fresh = yield* Page.upsert({ where: { slug: "c" }, create: { title: "c" } }).pipe(globex)
      expect(fresh.created).toBe(true)
      expect(yield* Page.bulkUpsert([{ slug: "home", title: "h" }, { slug: "z", title: "z" }], { conflictOn: ["slug"] }).pipe(acme))
        .toEqual({ inserted: 1, updated: 1 })
      expect(yield* Page.bulkDelete({ slug: { $in: ["home", "c"] } }).pipe(globex)).toEqual({ deleted: 2 })
      expect(yield* Page.count().pipe(acme)).toBe(4)
      // a generated key is global: upserting tenant rows by it is refused
      expect((yield* Effect.flip(Page.upsert({ where: { id: a.id }, create: { slug: "q", title: "q" } }).pipe(acme)))._tag)
        .toBe("ConflictTargetError")
      // no stored row lacks a tenant
      const sql = yield* SqlClient.SqlClient
      const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
      const orphans = yield* sql.unsafe<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM ${q(Page.table)} WHERE ${q("tenant_id")} IS NULL`
      ).withoutTransform
      expect(Number(orphans[0]!.n)).toBe(0)
    }))

  it.effect("string keys are per tenant", () =>
    Effect.gen(function*() {
      const Doc = Model.make("Doc", Schema.Struct({ id: Schema.String, body: Schema.String }), {
        table: uniqueTable("docs"),
        tenantScoped: true
      })
      yield* Doc.create({ id: "readme", body: "acme" }).pipe(Tenant.with("acme"))
      yield* Doc.create({ id: "readme", body: "globex" }).pipe(Tenant.with("globex"))
      expect((yield* Doc.read("readme").pipe(Tenant.with("acme"))).body).toBe("acme")
      expect(yield* Doc.bulkUpsert([{ id: "readme", body: "g2" }]).pipe(Tenant.with("globex"))).toEqual({ inserted: 0, updated: 1 })
      expect((yield* Doc.read("readme").pipe(Tenant.with("acme"))).body).toBe("acme")
    }))
})

forEachDatabase("tenancy schema", (it, db) => {
  it.effect("a schema (PostgreSQL) or database (MySQL) per tenant; SQLite refuses", () =>
    Effect.gen(function*() {
      const Page = makePage()
      const one = tenantId("one")
      const two = tenantId("two")
      const program = Effect.gen(function*() {
        yield* Page.create({ slug: "home", title: "one" }).pipe(Tenant.with(one))
        yield* Page.create({ slug: "home", title: "two" }).pipe(Tenant.with(two))
        return [
          (yield* Page.list().pipe(Tenant.with(one))).records.map((p) => p.title),
          (yield* Page.list().pipe(Tenant.with(two))).records.map((p) => p.title)
        ]
      }).pipe(Effect.provide(Tenant.strategy("schema")))
      if (db.name === "sqlite") {
        const error = yield* Effect.flip(program)
        expect(error._tag).toBe("ConfigurationError")
        return
      }
      expect(yield* program).toEqual([["one"], ["two"]])
      const sql = yield* SqlClient.SqlClient
      const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
      const rows = yield* sql.unsafe<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM ${q(`tenant_${one}`)}.${q(Page.table)}`
      ).withoutTransform
      expect(Number(rows[0]!.n)).toBe(1)
    }))

  if (db.name !== "sqlite") {
    it.effect("ids differing in case or punctuation, and the longest ids, get schemas of their own", () =>
      Effect.gen(function*() {
        const Page = makePage()
        const ids = [tenantId("Acme-Corp"), tenantId("acme-corp"), tenantId("acme.corp"), tenantId("acme_corp")]
        const long = [tenantId("L".repeat(40)), tenantId("L".repeat(39) + "l")].map((t) => t.slice(0, 63))
        const all = [...ids, ...long]
        yield* Effect.forEach(all, (t, i) => Page.create({ slug: "home", title: `#${i}` }).pipe(Tenant.with(t)))
        const titles = yield* Effect.forEach(all, (t) =>
          Effect.map(Page.list().pipe(Tenant.with(t)), (r) => r.records.map((p) => p.title)))
        expect(titles).toEqual(all.map((_, i) => [`#${i}`]))
        const names = all.map(Tenant.storageName)
        expect(new Set(names).size).toBe(all.length)
        const sql = yield* SqlClient.SqlClient
        const q = (s: string) => (db.name === "mysql" ? `\`${s}\`` : `"${s}"`)
        for (const name of names) {
          const rows = yield* sql.unsafe<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(name)}.${q(Page.table)}`)
            .withoutTransform
          expect(Number(rows[0]!.n)).toBe(1)
        }
      }).pipe(Effect.provide(Tenant.strategy("schema"))))
  }
})

describe("tenancy database", () => {
  class Tenants extends DataFlow.Instance<Tenants>()("Tenants") {}
  const Page = Model.make("Page", fields, { unique: ["slug"], tenantScoped: true, instance: Tenants })
  const built: Array<string> = []
  const TenantsLive = Tenants.layerPerTenant((tenant) => {
    built.push(tenant)
    return SqliteClient.layer({ filename: ":memory:" })
  })

  it.effect("one database per tenant, built on demand and cached", () =>
    Effect.gen(function*() {
      yield* Page.create({ slug: "home", title: "acme" }).pipe(Tenant.with("acme"))
      yield* Page.create({ slug: "home", title: "globex" }).pipe(Tenant.with("globex"))
      yield* Page.create({ slug: "about", title: "acme" }).pipe(Tenant.with("acme"))
      expect(yield* Page.count().pipe(Tenant.with("acme"))).toBe(2)
      expect(yield* Page.count().pipe(Tenant.with("globex"))).toBe(1)
      expect(built.sort()).toEqual(["acme", "globex"])
      const inTx = yield* Effect.gen(function*() {
        yield* Page.create({ slug: "tx", title: "t" })
        return yield* Page.count()
      }).pipe(Tenants.transaction(), Tenant.with("acme"))
      expect(inTx).toBe(3)
    }).pipe(Effect.provide(TenantsLive)))
})

describe("tenancy database: idle clients are closed", () => {
  class Idle extends DataFlow.Instance<Idle>()("Idle") {}
  const Note = Model.make("Note", Schema.Struct({ id: Schema.Int, body: Schema.String }), { tenantScoped: true, instance: Idle })
  let built = 0
  let closed = 0
  const IdleLive = Idle.layerPerTenant(
    () => {
      built++
      return Layer.merge(
        Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient).pipe(Layer.provide(SqliteClient.layer({ filename: ":memory:" }))),
        Layer.scopedDiscard(Effect.addFinalizer(() => Effect.sync(() => closed++)))
      )
    },
    { idleTimeToLive: "1 minute" }
  )

  it.effect("a tenant's client is reused while in use and closed after the idle time", () =>
    Effect.gen(function*() {
      yield* Note.create({ body: "a" }).pipe(Tenant.with("acme"))
      yield* Note.create({ body: "b" }).pipe(Tenant.with("acme"))
      expect(built).toBe(1)
      expect(closed).toBe(0)
      yield* TestClock.adjust("2 minutes")
      expect(closed).toBe(1)
      // a fresh in-memory database after the old one was closed
      expect(yield* Note.count().pipe(Tenant.with("acme"))).toBe(0)
      expect(built).toBe(2)
    }).pipe(Effect.provide(IdleLive)))
})
