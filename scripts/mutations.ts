/**
 * Planted bugs for `npm run mutate` (scripts/mutate.ts): each is one small edit of one file
 * under src/, a bug someone could really write. The suite must catch every one; when one
 * escapes, write the test that catches it and keep the mutation here.
 *
 * `search` must occur exactly once in the file (a mutation whose text no longer occurs is
 * reported as stale: rewrite it for the current code, planting the same bug). `tests` names
 * the test files that should catch it: `npm run mutate` runs only those (`--all` runs the whole
 * suite instead), so a mutation whose bug moves to code other tests cover needs its list
 * widened, or an escape is a list that is too short rather than a hole in the suite.
 */
export interface Mutation {
  /** A short, unique name: `npm run mutate -- <name>` runs this one only. */
  readonly name: string
  /** The file, relative to src/. */
  readonly file: string
  readonly search: string
  readonly replace: string
  /** What the planted bug breaks, in one line. */
  readonly breaks: string
  /** The test files (relative to the repository) that matter; the whole suite when absent. */
  readonly tests?: ReadonlyArray<string>
}

const atomicity = "test/atomicity.test.ts"
const arith = "test/arith.test.ts"
const complete = "test/complete.test.ts"
const crud = "test/crud.test.ts"
const differential = "test/differential.test.ts"
const errors = "test/errors.test.ts"
const isolation = "test/isolation.test.ts"
const limits = "test/limits.test.ts"
const observability = "test/observability.test.ts"
const paths = "test/paths.test.ts"
const query = "test/query.test.ts"
const reliability = "test/reliability.test.ts"
const tenancy = "test/tenancy.test.ts"
const tenancyProperty = "test/tenancy-property.test.ts"
const transaction = "test/transaction.test.ts"

export const mutations: ReadonlyArray<Mutation> = [
  {
    name: "bulkcreate-non-atomic-pg",
    file: "internal/nodes/create.ts",
    search: "yield* transaction(ctx, typedErrors(s, operation)(work))",
    replace: "yield* (s.dialect.arrayInsert !== undefined ? typedErrors(s, operation)(work) : transaction(ctx, typedErrors(s, operation)(work)))",
    breaks: "bulkCreate on PostgreSQL writes its chunks outside a transaction: a bad row in a later chunk leaves the earlier ones",
    tests: [atomicity]
  },
  {
    name: "bulkupsert-non-atomic",
    file: "internal/nodes/upsert.ts",
    search: "return yield* retryDeadlocks(ctx, transaction(ctx, typedErrors(s, operation)(work)))",
    replace: "return yield* retryDeadlocks(ctx, typedErrors(s, operation)(work))",
    breaks: "bulkUpsert writes its chunks outside a transaction",
    tests: [atomicity]
  },
  {
    name: "bulkupdate-items-non-atomic",
    file: "internal/nodes/update.ts",
    search: "const result = yield* transaction(ctx, typedErrors(s, operation)(work))",
    replace: "const result = yield* typedErrors(s, operation)(work)",
    breaks: "a per-record bulkUpdate runs its items outside a transaction: a failing item leaves the earlier ones updated",
    tests: [atomicity, complete]
  },
  {
    name: "isolation-dropped-mysql",
    file: "internal/dialect/mysql.ts",
    search: "...(isolation === undefined ? [] : [`SET TRANSACTION ISOLATION LEVEL ${isolationSql[isolation]}`]),",
    replace: "...(isolation === undefined ? [] : []),",
    breaks: "MySQL/MariaDB transactions ignore the isolation option (always the server default)",
    tests: [isolation, transaction]
  },
  {
    name: "isolation-dropped-pg",
    file: "internal/dialect/pg.ts",
    search: "begin: (isolation) => [isolation === undefined ? \"BEGIN\" : `BEGIN ISOLATION LEVEL ${isolationSql[isolation]}`],",
    replace: "begin: (isolation) => [isolation === undefined || isolationSql === undefined ? \"BEGIN\" : \"BEGIN\"],",
    breaks: "PostgreSQL transactions ignore the isolation option (always read committed)",
    tests: [isolation, transaction]
  },
  {
    name: "serialization-failure-not-retryable-pg",
    file: "internal/dialect/pg.ts",
    search: `case "40001":`,
    replace: `case "40001 (mutated)":`,
    breaks: "a PostgreSQL serialization failure is not retryable: DataFlow.transaction's retry gives up",
    tests: [isolation, transaction]
  },
  {
    name: "deadlock-not-retryable-mysql",
    file: "internal/dialect/mysql.ts",
    search: `case "ER_LOCK_DEADLOCK":`,
    replace: `case "ER_LOCK_DEADLOCK (mutated)":`,
    breaks: "a MySQL/MariaDB deadlock is not retryable: retry gives up, concurrent upserts fail",
    tests: [isolation, transaction]
  },
  {
    name: "ne-misses-null",
    file: "internal/sql/filter.ts",
    search: "parts.push(info.nullable ? `(${q} <> ${mark} OR ${q} IS NULL)` : `${q} <> ${mark}`)",
    replace: "parts.push(`${q} <> ${mark}`)",
    breaks: "$ne no longer matches NULL rows (SQL three-valued logic leaks through)",
    tests: [query, differential]
  },
  {
    name: "nin-misses-null",
    file: "internal/sql/filter.ts",
    search: "parts.push(info.nullable ? `(${q} NOT IN (${marks.join(\", \")}) OR ${q} IS NULL)` : `${q} NOT IN (${marks.join(\", \")})`)",
    replace: "parts.push(`${q} NOT IN (${marks.join(\", \")})`)",
    breaks: "$nin no longer matches NULL rows",
    tests: [query, differential]
  },
  {
    name: "not-three-valued",
    file: "internal/sql/filter.ts",
    search: "`NOT COALESCE(${inner}, FALSE)`",
    replace: "`NOT (${inner})`",
    breaks: "$not of a comparison with NULL is NULL (no row) instead of true",
    tests: [query, differential]
  },
  {
    name: "keyset-page-off-by-one",
    file: "internal/nodes/read.ts",
    search: "const more = query.limit !== undefined && rows.length > query.limit",
    replace: "const more = query.limit !== undefined && rows.length >= query.limit",
    breaks: "a full last page still gets a nextCursor: the walk ends with an extra empty page",
    tests: [query]
  },
  {
    name: "keyset-desc-null",
    file: "internal/sql/where.ts",
    search: "? `(${q} < ${bind(t, v)} OR ${q} IS NULL)`",
    replace: "? `${q} < ${bind(t, v)}`",
    breaks: "a keyset page after a non-NULL value, descending, skips the NULL rows that sort last",
    tests: [query, differential]
  },
  {
    name: "null-order-flipped-pg",
    file: "internal/dialect/pg.ts",
    search: "d === \"asc\" ? `${q} ASC${nullable ? \" NULLS FIRST\" : \"\"}`",
    replace: "d === \"asc\" ? `${q} ASC${nullable ? \" NULLS LAST\" : \"\"}`",
    breaks: "PostgreSQL sorts NULL last ascending, unlike SQLite and MySQL (and the keyset condition)",
    tests: [query, differential]
  },
  {
    name: "unsafe-guard-removed",
    file: "internal/nodes/update.ts",
    search: "condition === undefined && confirm !== true",
    replace: "condition === undefined && confirm !== true && false",
    breaks: "bulkUpdate / bulkDelete with an empty filter touch every row without { confirm: true }",
    tests: [crud, reliability]
  },
  {
    name: "soft-delete-scope-dropped-from-count",
    file: "internal/nodes/read.ts",
    search: "operation: \"count\",\n        includeDeleted: options.includeDeleted === true,",
    replace: "operation: \"count\",\n        includeDeleted: true,",
    breaks: "count includes soft-deleted rows",
    tests: [query, crud]
  },
  {
    name: "tenant-dropped-from-bulkdelete",
    file: "internal/nodes/delete.ts",
    search: "const filtered = where(s, filter, params, { operation, includeDeleted: false, tenant: ctx.tenant })",
    replace: "const filtered = where({ ...s, tenantColumn: undefined }, filter, params, { operation, includeDeleted: false, tenant: ctx.tenant })",
    breaks: "bulkDelete on a tenant-scoped model (row strategy) deletes other tenants' rows",
    tests: [tenancy, tenancyProperty]
  },
  {
    name: "optimistic-lock-not-checked",
    file: "internal/sql/builders.ts",
    search: "const conditions = [byKey(s, bind)]\n      if (s.notDeleted !== undefined) conditions.push(s.notDeleted)\n" +
      "      if (versioned) conditions.push(`${s.byField.get(\"version\")!.quoted} = ${bind((a) => a.expectedVersion)}`)",
    replace: "const conditions = [byKey(s, bind)]\n      if (s.notDeleted !== undefined) conditions.push(s.notDeleted)\n" +
      "      if (versioned) conditions.push(`${s.byField.get(\"version\")!.quoted} >= ${bind((a) => a.expectedVersion)}`)",
    breaks: "update with a stale expectedVersion overwrites a newer version",
    tests: [crud, query]
  },
  {
    name: "upsert-created-inverted-pg",
    file: "internal/nodes/upsert.ts",
    search: "created: rows[0]!.__created === true }",
    replace: "created: rows[0]!.__created !== true }",
    breaks: "upsert on PostgreSQL reports an insert as an update and the other way round",
    tests: [crud]
  },
  {
    name: "decimal-not-normalised-sqlite",
    file: "internal/model/storage.ts",
    search: "encode: (n: BigDecimal.BigDecimal): string => {\n    const d = BigDecimal.normalize(n)",
    replace: "encode: (n: BigDecimal.BigDecimal): string => {\n    const d = n",
    breaks: "SQLite's decimal text is not order-preserving: 1.5 and 1.50 are stored differently, compare unequal",
    tests: [query, differential]
  },
  {
    name: "nul-storage-check-removed",
    file: "internal/model/storage.ts",
    search: "if (value.includes(\"\\u0000\")) return \"text cannot contain the NUL character (U+0000)\"",
    replace: "if (value.includes(\"\\u0000\") && false) return \"text cannot contain the NUL character (U+0000)\"",
    breaks: "text with NUL reaches the database (PostgreSQL refuses it: a DatabaseError, not a ValidationError)",
    tests: [reliability, errors]
  },
  {
    name: "like-escape-char-not-escaped",
    file: "internal/dialect/common.ts",
    search: "/[!%_]/.test(t.value) ? `!${t.value}`",
    replace: "/[%_]/.test(t.value) ? `!${t.value}`",
    breaks: "a literal ! in a LIKE pattern (PostgreSQL, MySQL, SQLite $ilike) is read as the escape character",
    tests: [query, differential]
  },
  {
    name: "glob-bracket-not-escaped-sqlite",
    file: "internal/dialect/common.ts",
    search: "/[*?[]/.test(t.value) ? `[${t.value}]`",
    replace: "/[*?]/.test(t.value) ? `[${t.value}]`",
    breaks: "a literal [ in a SQLite $like pattern opens a GLOB character class",
    tests: [query, differential]
  },
  {
    name: "ilike-case-sensitive-pg",
    file: "internal/dialect/pg.ts",
    search: "`${q} ${ci ? \"ILIKE\" : \"LIKE\"} ${param} ESCAPE '!'`",
    replace: "`${q} ${ci ? \"LIKE\" : \"LIKE\"} ${param} ESCAPE '!'`",
    breaks: "$ilike on PostgreSQL is case-sensitive",
    tests: [query, differential]
  },
  {
    name: "mysql-changed-rows",
    file: "internal/dialect/mysql.ts",
    search: "affectedRows: (raw) => Number((raw as { affectedRows?: number }).affectedRows ?? 0)",
    replace: "affectedRows: (raw) => Number((raw as { changedRows?: number }).changedRows ?? 0)",
    breaks: "MySQL bulkUpdate / delete report changed rows: a row matched but already equal counts as not updated",
    tests: [crud, query]
  },
  {
    name: "in-list-limit-off-by-one",
    file: "internal/sql/filter.ts",
    search: "if (operand.length > limits.list) return fail",
    replace: "if (operand.length >= limits.list) return fail",
    breaks: "an $in / $nin of exactly 10,000 values (the documented limit) is refused",
    tests: [limits]
  },
  {
    name: "depth-limit-off-by-one",
    file: "internal/sql/filter.ts",
    search: "if (depth > limits.depth) return fail",
    replace: "if (depth > limits.depth + 1) return fail",
    breaks: "a filter nested 33 levels deep is accepted (past the documented limit)",
    tests: [limits]
  },
  {
    name: "pattern-limit-loosened",
    file: "internal/sql/filter.ts",
    search: "operand.length > limits.pattern) {",
    replace: "operand.length > limits.pattern * 2) {",
    breaks: "a $like pattern past 10,000 characters is sent to the database",
    tests: [limits]
  },
  {
    name: "pipeline-raw-as-rows",
    file: "internal/runtime/executor.ts",
    search: "return (unprepared ? s.unprepared : mode === \"raw\" ? s.raw : s.withoutTransform)",
    replace: "return (unprepared ? s.unprepared : s.withoutTransform)",
    breaks: "on the statement pipeline (other clients, a statement transformer) writes read rows instead of the driver result: affected-row counts and insert ids are lost",
    tests: [crud, paths]
  },
  {
    name: "tracer-ignored",
    file: "internal/runtime/executor.ts",
    search: "return recording(fiber)\n          ? statementSpan(",
    replace: "return false\n          ? statementSpan(",
    breaks: "the library's clients run statements without sql.execute spans under a recording tracer",
    tests: [observability, paths]
  },
  // code added since the first list
  {
    name: "arith-decrement-adds",
    file: "internal/model/arith.ts",
    search: "const negated = name === \"$decrement\"",
    replace: "const negated = name === \"$decrement (mutated)\"",
    breaks: "$decrement adds its operand",
    tests: [arith]
  },
  {
    name: "arith-range-unchecked-increment",
    file: "internal/model/arith.ts",
    search: "if (operator === \"+\") return d >= 0 ? [-max, max - d] : [-max - d, max]",
    replace: "if (operator === \"+\") return [-max, max]",
    breaks: "an $increment / $decrement of an integer or float field past its range is written (PostgreSQL, MySQL, SQLite do the arithmetic unchecked)",
    tests: [arith]
  },
  {
    name: "arith-result-not-validated",
    file: "internal/nodes/update.ts",
    search: "      if (problem !== undefined) {\n        return Either.left(validation(def, operation, k,",
    replace: "      if (problem !== undefined && false) {\n        return Either.left(validation(def, operation, k,",
    breaks: "an arithmetic update whose result breaks the schema's refinements (a range, a positive number) is written",
    tests: [arith]
  },
  {
    name: "skip-conflicts-counted-as-inserted",
    file: "internal/nodes/create.ts",
    search: "const written = skip ? s.dialect.affectedRows(raw) : encoded",
    replace: "const written = encoded",
    breaks: "bulkCreate onConflict skip (PostgreSQL, SQLite: ON CONFLICT DO NOTHING) reports skipped rows as inserted",
    tests: [complete]
  },
  {
    name: "skip-duplicates-in-input-mysql",
    file: "internal/nodes/create.ts",
    search: "if (stored.has(text) || seen.has(text)) continue",
    replace: "if (stored.has(text)) continue",
    breaks: "bulkCreate onConflict skip on MySQL (keys checked before the insert) fails on a key repeated inside the input",
    tests: [complete]
  },
  {
    name: "tenant-storage-name-case-folded",
    file: "Tenant.ts",
    search: "if (ch >= \"A\" && ch <= \"Z\") out.push(`$${ch.toLowerCase()}`)",
    replace: "if (ch >= \"A\" && ch <= \"Z\") out.push(ch.toLowerCase())",
    breaks: "tenants Acme and acme share one schema (PostgreSQL), database (MySQL) or database file",
    tests: [tenancy, tenancyProperty]
  }
]
