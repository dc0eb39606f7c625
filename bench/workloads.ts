/**
 * The workloads. Each round, a workload makes one set of inputs that every implementation
 * gets unchanged, an untimed `before` step run before each implementation's turn (empty or
 * seed the write table), and the timed loop, once over Promise operations and once as a
 * single Effect. The loop returns a check value that must be the same for every
 * implementation (rows found, rows changed …): it catches a benchmark that measures the
 * wrong thing, never a timing.
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { ItemPatch, NewItem } from "./model.js"
import { CATEGORIES, categoryOf, LIST_LIMIT, makeItems, prng, WALK_PAGE } from "./model.js"
import type { EffectOps, PromiseOps, WalkCursor, WalkPage } from "./ops.js"
import type { Target } from "./targets.js"

export interface RoundPlan {
  /** Untimed, before each implementation's timed run. */
  readonly before: () => Promise<void>
  readonly promise: (ops: PromiseOps) => Promise<number>
  readonly effect: (ops: EffectOps) => Effect.Effect<number, unknown, SqlClient.SqlClient>
  readonly expected: number
}

export interface Workload {
  readonly key: string
  /** The operation it measures (several workloads can measure one operation at different sizes). */
  readonly op: Op
  readonly title: string
  readonly unit: "ops/s" | "rows/s"
  /** Operations (ops/s) or rows (rows/s) per timed run. */
  readonly amount: number
  /** One operation per run: running it with one runPromise or inside one Effect is the same thing. */
  readonly singleOp: boolean
  /** Drizzle ORM and Kysely run it too. */
  readonly peers: boolean
  readonly plan: (round: number) => RoundPlan
}

export type SingleKey = "create" | "read" | "list" | "count" | "update"
export const singleKeys: ReadonlyArray<SingleKey> = ["create", "read", "list", "count", "update"]
export type Op = SingleKey | "bulkCreate" | "bulkUpdate" | "bulkUpsert" | "bulkDelete" | "walk"
export const isSingle = (w: Workload): boolean => (singleKeys as ReadonlyArray<string>).includes(w.op)

export interface Sizes {
  /** Operations per run of each single-row workload. */
  readonly n: Readonly<Record<SingleKey, number>>
  readonly bulk: ReadonlyArray<number>
  /** bulkUpdate, bulkDelete and bulkUpsert at every bulk size, not only the first. */
  readonly bulkAll: boolean
  readonly seedRows: number
  /** Rows in bench_walk, walked whole by the keyset walk; 0 leaves the workload out. */
  readonly walk: number
  /** Stop the walk after this many pages (the warm-up); absent: walk to the end. */
  readonly walkPages?: number
}

const missing = (op: string): never => {
  throw new Error(`this implementation has no ${op}`)
}

/**
 * Counts the rows of a walk and checks their order on the way: every row must come strictly
 * after the one before in `price DESC, id ASC` order (so no row twice, none out of place).
 * The result is the number of rows walked, or -1 when the order was broken.
 */
class WalkTally {
  rows = 0
  ordered = true
  price = Infinity
  id = -Infinity
  add(page: WalkPage) {
    for (const r of page.records) {
      if (r.price > this.price || (r.price === this.price && r.id <= this.id)) this.ordered = false
      this.price = r.price
      this.id = r.id
    }
    this.rows += page.records.length
  }
  result() {
    return this.ordered ? this.rows : -1
  }
}

export const makeWorkloads = (target: Target, sizes: Sizes, itemIds: ReadonlyArray<number>): Array<Workload> => {
  const noop = async () => {}
  const randomIds = (n: number, seed: number) => {
    const rand = prng(seed)
    return Array.from({ length: n }, () => itemIds[Math.floor(rand() * itemIds.length)]!)
  }
  const categories = (n: number, round: number) => Array.from({ length: n }, (_, i) => categoryOf(i + round))
  const perCategory = (c: string) => {
    const k = Number(c.slice(1))
    return Math.floor(sizes.seedRows / CATEGORIES) + (k < sizes.seedRows % CATEGORIES ? 1 : 0)
  }
  const allCategories = Array.from({ length: CATEGORIES }, (_, i) => categoryOf(i))

  const create = (n: number): Workload => ({
    key: "create",
    op: "create",
    title: `create × ${n} (one row each, autocommit)`,
    unit: "ops/s",
    amount: n,
    singleOp: false,
    peers: true,
    plan: (round) => {
      const rows = makeItems(`r${round}`, n)
      return {
        before: target.resetWrites,
        promise: async (ops) => {
          let ok = 0
          for (const row of rows) if ((await ops.create(row)).id > 0) ok++
          return ok
        },
        effect: (ops) =>
          Effect.gen(function*() {
            let ok = 0
            for (const row of rows) if ((yield* ops.create(row)).id > 0) ok++
            return ok
          }),
        expected: n
      }
    }
  })

  const read = (n: number): Workload => ({
    key: "read",
    op: "read",
    title: `read by id × ${n}`,
    unit: "ops/s",
    amount: n,
    singleOp: false,
    peers: true,
    plan: (round) => {
      const ids = randomIds(n, round + 1)
      return {
        before: noop,
        promise: async (ops) => {
          let found = 0
          for (const id of ids) if ((await ops.read(id))?.id === id) found++
          return found
        },
        effect: (ops) =>
          Effect.gen(function*() {
            let found = 0
            for (const id of ids) if ((yield* ops.read(id))?.id === id) found++
            return found
          }),
        expected: n
      }
    }
  })

  const list = (n: number): Workload => ({
    key: "list",
    op: "list",
    title: `list × ${n} (category = ?, order by price desc, limit ${LIST_LIMIT})`,
    unit: "ops/s",
    amount: n,
    singleOp: false,
    peers: true,
    plan: (round) => {
      const cs = categories(n, round)
      return {
        before: noop,
        promise: async (ops) => {
          let rows = 0
          for (const c of cs) rows += (await ops.list(c)).length
          return rows
        },
        effect: (ops) =>
          Effect.gen(function*() {
            let rows = 0
            for (const c of cs) rows += (yield* ops.list(c)).length
            return rows
          }),
        expected: cs.reduce((sum, c) => sum + Math.min(LIST_LIMIT, perCategory(c)), 0)
      }
    }
  })

  const count = (n: number): Workload => ({
    key: "count",
    op: "count",
    title: `count × ${n} (category = ?)`,
    unit: "ops/s",
    amount: n,
    singleOp: false,
    peers: true,
    plan: (round) => {
      const cs = categories(n, round + 3)
      return {
        before: noop,
        promise: async (ops) => {
          let total = 0
          for (const c of cs) total += await ops.count(c)
          return total
        },
        effect: (ops) =>
          Effect.gen(function*() {
            let total = 0
            for (const c of cs) total += yield* ops.count(c)
            return total
          }),
        expected: cs.reduce((sum, c) => sum + perCategory(c), 0)
      }
    }
  })

  const update = (n: number): Workload => ({
    key: "update",
    op: "update",
    title: `update by id × ${n} (2 fields + updatedAt, returns the row)`,
    unit: "ops/s",
    amount: n,
    singleOp: false,
    peers: true,
    plan: (round) => {
      const ids = randomIds(n, round + 1000)
      const patches: Array<ItemPatch> = ids.map((_, i) => ({ name: `updated ${round}-${i}`, qty: i % 1000 }))
      return {
        before: noop,
        promise: async (ops) => {
          let ok = 0
          for (let i = 0; i < ids.length; i++) if ((await ops.update(ids[i]!, patches[i]!)).qty === patches[i]!.qty) ok++
          return ok
        },
        effect: (ops) =>
          Effect.gen(function*() {
            let ok = 0
            for (let i = 0; i < ids.length; i++) if ((yield* ops.update(ids[i]!, patches[i]!)).qty === patches[i]!.qty) ok++
            return ok
          }),
        expected: n
      }
    }
  })

  const bulkCreate = (b: number, i: number): Workload => ({
    key: `bulkCreate-${b}`,
    op: "bulkCreate",
    title: `bulkCreate of ${b.toLocaleString("en-US")} rows (one transaction)`,
    unit: "rows/s",
    amount: b,
    singleOp: true,
    // the peers run the first size only (on this kind of machine a 100,000-row Drizzle run alone takes ~13 s)
    peers: i === 0,
    plan: (round) => {
      const rows = makeItems(`b${round}`, b)
      return {
        before: target.resetWrites,
        promise: (ops) => ops.bulkCreate(rows),
        effect: (ops) => ops.bulkCreate(rows),
        expected: b
      }
    }
  })

  /** Empties bench_writes and fills it with a copy of a template table (server-side, fast). */
  const seeded = (name: string, rows: () => ReadonlyArray<NewItem>) => () => target.fillWrites(name, rows)

  const bulkUpdate = (b: number): Workload => ({
    key: `bulkUpdate-${b}`,
    op: "bulkUpdate",
    title: `bulkUpdate by filter: ${CATEGORIES} × (category = ?) over ${b.toLocaleString("en-US")} rows`,
    unit: "rows/s",
    amount: b,
    singleOp: false,
    peers: false,
    plan: (round) => ({
      before: seeded(`s${b}`, () => makeItems("s", b)),
      promise: async (ops) => {
        let changed = 0
        for (const c of allCategories) changed += await (ops.bulkUpdate ?? missing("bulkUpdate"))(c, round + 1)
        return changed
      },
      effect: (ops) =>
        Effect.gen(function*() {
          let changed = 0
          for (const c of allCategories) changed += yield* ops.bulkUpdate(c, round + 1)
          return changed
        }),
      expected: b
    })
  })

  const bulkDelete = (b: number): Workload => ({
    key: `bulkDelete-${b}`,
    op: "bulkDelete",
    title: `bulkDelete by filter: ${CATEGORIES} × (category = ?) over ${b.toLocaleString("en-US")} rows`,
    unit: "rows/s",
    amount: b,
    singleOp: false,
    peers: false,
    plan: () => ({
      before: seeded(`s${b}`, () => makeItems("s", b)),
      promise: async (ops) => {
        let deleted = 0
        for (const c of allCategories) deleted += await (ops.bulkDelete ?? missing("bulkDelete"))(c)
        return deleted
      },
      effect: (ops) =>
        Effect.gen(function*() {
          let deleted = 0
          for (const c of allCategories) deleted += yield* ops.bulkDelete(c)
          return deleted
        }),
      expected: b
    })
  })

  const bulkUpsert = (b: number): Workload => ({
    key: `bulkUpsert-${b}`,
    op: "bulkUpsert",
    title: `bulkUpsert of ${b.toLocaleString("en-US")} rows on sku, half of them existing (one transaction)`,
    unit: "rows/s",
    amount: b,
    singleOp: true,
    peers: false,
    plan: (round) => {
      const rows = makeItems("u", b).map((r) => ({ ...r, name: `${r.name} v${round}`, qty: (r.qty + 1) % 1000 }))
      // exact counts or -1: every implementation must report the same split
      const checked = (r: { readonly inserted: number; readonly updated: number }) =>
        r.inserted + r.updated === b ? r.inserted : -1
      return {
        before: seeded(`u${b}`, () => makeItems("u", b).filter((_, i) => i % 2 === 0)),
        promise: async (ops) => checked(await (ops.bulkUpsert ?? missing("bulkUpsert"))(rows)),
        effect: (ops) => Effect.map(ops.bulkUpsert(rows), checked),
        expected: Math.floor(b / 2)
      }
    }
  })

  /** Walks bench_walk page by page (each page one operation), following each page's cursor until there is none. */
  const walk = (rows: number, maxPages: number | undefined): Workload => {
    const walked = maxPages === undefined ? rows : Math.min(rows, maxPages * WALK_PAGE)
    return {
      key: "walk",
      op: "walk",
      title: `walk ${rows.toLocaleString("en-US")} rows with keyset pagination (pages of ${
        WALK_PAGE.toLocaleString("en-US")
      }, order by price desc, id)${walked === rows ? "" : `, first ${walked.toLocaleString("en-US")} rows`}`,
      unit: "rows/s",
      amount: walked,
      singleOp: false,
      peers: true,
      plan: () => {
        const more = (tally: WalkTally, next: WalkCursor | undefined, pages: number): next is WalkCursor =>
          next !== undefined && (maxPages === undefined || pages < maxPages) && tally.rows < rows + WALK_PAGE
        return {
          before: noop,
          promise: async (ops) => {
            const tally = new WalkTally()
            let next: WalkCursor | undefined
            let pages = 0
            do {
              const page = await ops.walkPage(next)
              tally.add(page)
              next = page.next
              pages++
            } while (more(tally, next, pages))
            return tally.result()
          },
          effect: (ops) =>
            Effect.gen(function*() {
              const tally = new WalkTally()
              let next: WalkCursor | undefined
              let pages = 0
              do {
                const page = yield* ops.walkPage(next)
                tally.add(page)
                next = page.next
                pages++
              } while (more(tally, next, pages))
              return tally.result()
            }),
          expected: walked
        }
      }
    }
  }

  const other = sizes.bulkAll ? sizes.bulk : sizes.bulk.slice(0, 1)
  return [
    create(sizes.n.create),
    read(sizes.n.read),
    list(sizes.n.list),
    count(sizes.n.count),
    update(sizes.n.update),
    ...sizes.bulk.map(bulkCreate),
    ...other.map(bulkUpdate),
    ...other.map(bulkUpsert),
    ...other.map(bulkDelete),
    ...(sizes.walk > 0 ? [walk(sizes.walk, sizes.walkPages)] : [])
  ]
}
