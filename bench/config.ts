/**
 * Command-line options of the benchmark and the two preset sizes.
 */

export type DbName = "sqlite" | "pg" | "mysql"

export interface Config {
  /** Preset the sizes came from; "custom" is appended to the label when a size was overridden. */
  readonly size: "tiny" | "full"
  readonly label: string
  /** Operations per run of a single-row workload: the most, see `budgetMs`. */
  readonly n: number
  /**
   * Target duration of one timed run of a single-row workload. From the warm-up, each such
   * workload gets as many operations (at most `n`, at least 10) as its median
   * implementation runs in this time; the same count for every implementation and round.
   * 0: exactly `n` operations.
   */
  readonly budgetMs: number
  /** Operations per implementation in the warm-up of a single-row workload. */
  readonly warmup: number
  /** Row counts of bulkCreate; the first one is also used by bulkUpdate, bulkDelete and bulkUpsert. */
  readonly bulk: ReadonlyArray<number>
  /** Run bulkUpdate, bulkDelete and bulkUpsert at every bulk size, not only the first. */
  readonly bulkAll: boolean
  /** Timed rounds; the tables report medians over them. */
  readonly rounds: number
  /** Rows in the table that read, list, count and update work on. */
  readonly seedRows: number
  /**
   * Rows of "bulkCreate streamed from a generator" (the nodes only, once per database per
   * run, with the process's peak RSS); 0 leaves it out.
   */
  readonly stream: number
  /** Rows of the keyset walk's table, walked whole once per timed run; 0 leaves it out. */
  readonly walk: number
  readonly databases: ReadonlyArray<DbName>
  /** Add Drizzle ORM and Kysely rows (SQLite and PostgreSQL). */
  readonly peers: boolean
  /** Write bench/results/<date>-<label>.md. */
  readonly write: boolean
  /** Run the concurrency benchmark (bench/concurrency.ts) after the suite. */
  readonly concurrency: boolean
  /** Run the N+1 relations benchmark (bench/relations.ts) after the suite. */
  readonly relations: boolean
  readonly pgUrl: string
  readonly mysqlUrl: string
}

const presets = {
  tiny: { n: 10, budgetMs: 0, warmup: 5, bulk: [500], rounds: 3, seedRows: 1_000, stream: 20_000, walk: 2_000 },
  full: {
    n: 2_000,
    budgetMs: 250,
    warmup: 50,
    bulk: [10_000, 100_000],
    // the report gives verdicts from 9 rounds on (MIN_VERDICT_ROUNDS)
    rounds: 9,
    seedRows: 20_000,
    stream: 1_000_000,
    walk: 100_000
  }
} as const

export const usage = `Usage: npm run bench -- [options]

  --size tiny|full     preset sizes (default full; tiny is the CI smoke run)
  --n N                operations per run of a single-row workload (create, read, list, count,
                       update); exactly N when given, else see --budget-ms
  --budget-ms T        size each single-row workload per database so that one run of its median
                       implementation takes about T ms (measured in the warm-up): at most N
                       (default 2000), at least 10 operations; full default 250, 0 = exactly N
  --bulk B[,B2...]     bulkCreate row counts (full: 10000,100000, tiny: 500); the first
                       one is also used by bulkUpdate, bulkDelete, bulkUpsert and by the peers
  --bulk-all           run bulkUpdate, bulkDelete and bulkUpsert at every --bulk size
  --rounds R           timed rounds, medians reported (full: 9, tiny: 3); the report gives
                       verdicts on the issue's timing targets only from 9 rounds on
  --seed-rows S        rows in the read/list/count/update table (full: 20000, tiny: 1000)
  --stream S           rows of "bulkCreate streamed from a generator", run once per database
                       with the process's peak RSS (full: 1000000, tiny: 20000; 0 = leave out)
  --walk W             rows of the keyset walk: a table of W rows walked whole, page by page
                       (1000 rows a page, price desc, id) in every timed run (full: 100000,
                       tiny: 2000; 0 = leave out)
  --db sqlite,pg,mysql databases to run (default: all; a server that does not answer is skipped)
  --no-peers           leave out Drizzle ORM and Kysely
  --no-write           print only; do not write bench/results/<date>-<size>.md
  --no-concurrency     leave out the concurrency benchmark (PostgreSQL, MariaDB; sizes from
                       BENCH_CONCURRENCY_* or the preset, see npm run bench:concurrency -- --help)
  --no-relations       leave out the N+1 relations benchmark (every database; --rounds and the
                       preset's size, see npm run bench:relations -- --help)

  Servers: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test),
           BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/test).
`

const positiveInt = (flag: string, raw: string | undefined): number => {
  const value = Number(raw)
  if (raw === undefined || !Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(raw)}`)
  }
  return value
}

export const parseArgs = (argv: ReadonlyArray<string>): Config | "help" => {
  let size: "tiny" | "full" = "full"
  const overrides: {
    n?: number
    budgetMs?: number
    bulk?: ReadonlyArray<number>
    rounds?: number
    seedRows?: number
    stream?: number
    walk?: number
  } = {}
  let databases: ReadonlyArray<DbName> = ["sqlite", "pg", "mysql"]
  let peers = true
  let write = true
  let concurrency = true
  let relations = true
  let bulkAll = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined]
    const value = () => inline ?? argv[++i]
    switch (flag) {
      case "-h":
      case "--help":
        return "help"
      case "--size": {
        const s = value()
        if (s !== "tiny" && s !== "full") throw new Error(`--size must be tiny or full, got ${JSON.stringify(s)}`)
        size = s
        break
      }
      case "--n":
        overrides.n = positiveInt(flag, value())
        break
      case "--budget-ms": {
        const raw = value()
        overrides.budgetMs = raw === "0" ? 0 : positiveInt(flag, raw)
        break
      }
      case "--bulk":
        overrides.bulk = (value() ?? "").split(",").map((b) => positiveInt(flag, b.trim()))
        break
      case "--bulk-all":
        bulkAll = true
        break
      case "--rounds":
        overrides.rounds = positiveInt(flag, value())
        break
      case "--seed-rows":
        overrides.seedRows = positiveInt(flag, value())
        break
      case "--stream": {
        const raw = value()
        overrides.stream = raw === "0" ? 0 : positiveInt(flag, raw)
        break
      }
      case "--walk": {
        const raw = value()
        overrides.walk = raw === "0" ? 0 : positiveInt(flag, raw)
        break
      }
      case "--db": {
        const list = (value() ?? "").split(",").map((d) => d.trim())
        for (const d of list) {
          if (d !== "sqlite" && d !== "pg" && d !== "mysql") throw new Error(`--db: unknown database ${JSON.stringify(d)}`)
        }
        databases = list as ReadonlyArray<DbName>
        break
      }
      case "--no-peers":
        peers = false
        break
      case "--no-write":
        write = false
        break
      case "--no-concurrency":
        concurrency = false
        break
      case "--no-relations":
        relations = false
        break
      default:
        throw new Error(`unknown option ${JSON.stringify(arg)}\n\n${usage}`)
    }
  }
  const preset = presets[size]
  const custom = Object.keys(overrides).length > 0 || bulkAll
  const seedRows = overrides.seedRows ?? preset.seedRows
  return {
    size,
    label: custom ? `${size}-custom` : size,
    n: overrides.n ?? preset.n,
    // an explicit --n means exactly that many operations, unless --budget-ms is given too
    budgetMs: overrides.budgetMs ?? (overrides.n === undefined ? preset.budgetMs : 0),
    warmup: Math.min(preset.warmup, overrides.n ?? preset.n),
    bulk: overrides.bulk ?? preset.bulk,
    bulkAll,
    rounds: overrides.rounds ?? preset.rounds,
    // list returns up to 100 rows of one of 10 categories: keep at least 100 rows per category
    seedRows: Math.max(seedRows, 1_000),
    stream: overrides.stream ?? preset.stream,
    walk: overrides.walk ?? preset.walk,
    databases,
    peers,
    write,
    concurrency,
    relations,
    pgUrl: process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    mysqlUrl: process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test"
  }
}
