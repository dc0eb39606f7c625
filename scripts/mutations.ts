/**
 * Planted bugs for `npm run mutate` (scripts/mutate.ts): each is one small edit of one file
 * under src/, a bug someone could really write. The suite must catch every one; when one
 * escapes, write the test that catches it and keep the mutation here.
 *
 * `search` must occur exactly once in the file (a mutation whose text no longer occurs is
 * reported as stale: rewrite it for the current code).
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
}

export const mutations: ReadonlyArray<Mutation> = [
  {
    name: "bulkcreate-non-atomic-pg",
    file: "internal/nodes.ts",
    search: `yield* mapSqlError(ctx, "bulkCreate")(ctx.transaction(work))`,
    replace: `yield* mapSqlError(ctx, "bulkCreate")(ctx.c.dialect.arrayType !== undefined ? work : ctx.transaction(work))`,
    breaks: "bulkCreate on PostgreSQL writes its chunks outside a transaction: a bad row in a later chunk leaves the earlier ones"
  },
  {
    name: "bulkupsert-non-atomic",
    file: "internal/nodes.ts",
    search: `return yield* retryDeadlocks(ctx, mapSqlError(ctx, operation)(ctx.transaction(work)))`,
    replace: `return yield* retryDeadlocks(ctx, mapSqlError(ctx, operation)(work))`,
    breaks: "bulkUpsert writes its chunks outside a transaction"
  },
  {
    name: "isolation-dropped-mysql",
    file: "Transaction.ts",
    search: "if (level !== undefined) yield* exec(`SET TRANSACTION ISOLATION LEVEL ${level}`, \"begin\")",
    replace: "void level",
    breaks: "MySQL/MariaDB transactions ignore the isolation option (always the server default)"
  },
  {
    name: "isolation-dropped-pg",
    file: "Transaction.ts",
    search: "yield* exec(level === undefined ? \"BEGIN\" : `BEGIN ISOLATION LEVEL ${level}`, \"begin\")",
    replace: "yield* exec(\"BEGIN\", \"begin\")",
    breaks: "PostgreSQL transactions ignore the isolation option (always read committed)"
  },
  {
    name: "serialization-failure-not-retryable-pg",
    file: "Dialect.ts",
    search: `case "40001":`,
    replace: `case "40001 (mutated)":`,
    breaks: "a PostgreSQL serialization failure is not retryable: DataFlow.transaction's retry gives up"
  },
  {
    name: "deadlock-not-retryable-mysql",
    file: "Dialect.ts",
    search: `case "ER_LOCK_DEADLOCK":`,
    replace: `case "ER_LOCK_DEADLOCK (mutated)":`,
    breaks: "a MySQL/MariaDB deadlock is not retryable: retry gives up, concurrent upserts fail"
  },
  {
    name: "ne-misses-null",
    file: "Filter.ts",
    search: ": `(${q} <> ${placeholder(value(info, operand, at))} OR ${q} IS NULL)`",
    replace: ": `${q} <> ${placeholder(value(info, operand, at))}`",
    breaks: "$ne no longer matches NULL rows (SQL three-valued logic leaks through)"
  },
  {
    name: "nin-misses-null",
    file: "Filter.ts",
    search: "else if (marks.length > 0) parts.push(`(${q} NOT IN (${marks.join(\", \")}) OR ${q} IS NULL)`)",
    replace: "else if (marks.length > 0) parts.push(`${q} NOT IN (${marks.join(\", \")})`)",
    breaks: "$nin no longer matches NULL rows"
  },
  {
    name: "not-three-valued",
    file: "Filter.ts",
    search: "part = inner === undefined ? \"1=0\" : `NOT COALESCE(${inner}, FALSE)`",
    replace: "part = inner === undefined ? \"1=0\" : `NOT (${inner})`",
    breaks: "$not of a comparison with NULL is NULL (no row) instead of true"
  },
  {
    name: "keyset-page-off-by-one",
    file: "internal/nodes.ts",
    search: "const more = query.limit !== undefined && rows.length > query.limit",
    replace: "const more = query.limit !== undefined && rows.length >= query.limit",
    breaks: "a full last page still gets a nextCursor: the walk ends with an extra empty page"
  },
  {
    name: "keyset-desc-null",
    file: "internal/nodes.ts",
    search: "? `(${t.quoted} < ${bind(t.field, v)} OR ${t.quoted} IS NULL)`",
    replace: "? `${t.quoted} < ${bind(t.field, v)}`",
    breaks: "a keyset page after a non-NULL value, descending, skips the NULL rows that sort last"
  },
  {
    name: "null-order-flipped-pg",
    file: "Dialect.ts",
    search: "d === \"asc\" ? `${q} ASC${nullable ? \" NULLS FIRST\" : \"\"}`",
    replace: "d === \"asc\" ? `${q} ASC${nullable ? \" NULLS LAST\" : \"\"}`",
    breaks: "PostgreSQL sorts NULL last ascending, unlike SQLite and MySQL (and the keyset condition)"
  },
  {
    name: "unsafe-guard-removed",
    file: "internal/nodes.ts",
    search: "condition === undefined && confirm !== true",
    replace: "condition === undefined && confirm !== true && false",
    breaks: "bulkUpdate / bulkDelete with an empty filter touch every row without { confirm: true }"
  },
  {
    name: "soft-delete-scope-dropped-from-count",
    file: "internal/nodes.ts",
    search: "const where = compileWhere(def, ctx.c, whereInput, \"count\", params, options.includeDeleted === true, ctx.tenant)",
    replace: "const where = compileWhere(def, ctx.c, whereInput, \"count\", params, true, ctx.tenant)",
    breaks: "count includes soft-deleted rows"
  },
  {
    name: "tenant-dropped-from-bulkdelete",
    file: "internal/nodes.ts",
    search: "params.push(ctx.c.byField.get(\"deletedAt\")!.toDb(yield* nowDate))\n" +
      "      const where = compileWhere(def, ctx.c, whereInput, operation, params, false, ctx.tenant)",
    replace: "params.push(ctx.c.byField.get(\"deletedAt\")!.toDb(yield* nowDate))\n" +
      "      const where = compileWhere(def, { ...ctx.c, tenantColumn: undefined }, whereInput, operation, params, false, ctx.tenant)",
    breaks: "bulkDelete on a tenant-scoped model (row strategy) deletes other tenants' rows"
  },
  {
    name: "optimistic-lock-not-checked",
    file: "internal/nodes.ts",
    search: "if (versioned) conditions.push(`${ctx.c.byField.get(\"version\")!.quoted} = ${dialect.placeholder(++n)}`)",
    replace: "if (versioned) conditions.push(`${ctx.c.byField.get(\"version\")!.quoted} >= ${dialect.placeholder(++n)}`)",
    breaks: "update with a stale expectedVersion overwrites a newer version"
  },
  {
    name: "upsert-created-inverted-pg",
    file: "internal/nodes.ts",
    search: "created: rows[0]!.__created === true }",
    replace: "created: rows[0]!.__created !== true }",
    breaks: "upsert on PostgreSQL reports an insert as an update and the other way round"
  },
  {
    name: "decimal-not-normalised-sqlite",
    file: "Column.ts",
    search: "encode: (n: BigDecimal.BigDecimal): string => {\n    const d = BigDecimal.normalize(n)",
    replace: "encode: (n: BigDecimal.BigDecimal): string => {\n    const d = n",
    breaks: "SQLite's decimal text is not order-preserving: 1.5 and 1.50 are stored differently, compare unequal"
  },
  {
    name: "nul-storage-check-removed",
    file: "Column.ts",
    search: "if (value.includes(\"\\u0000\")) return \"text cannot contain the NUL character (U+0000)\"",
    replace: "if (value.includes(\"\\u0000\") && false) return \"text cannot contain the NUL character (U+0000)\"",
    breaks: "text with NUL reaches the database (PostgreSQL refuses it: a DatabaseError, not a ValidationError)"
  },
  {
    name: "like-escape-char-not-escaped",
    file: "Dialect.ts",
    search: "/[!%_]/.test(t.value) ? `!${t.value}`",
    replace: "/[%_]/.test(t.value) ? `!${t.value}`",
    breaks: "a literal ! in a LIKE pattern (PostgreSQL, MySQL, SQLite $ilike) is read as the escape character"
  },
  {
    name: "glob-bracket-not-escaped-sqlite",
    file: "Dialect.ts",
    search: "/[*?[]/.test(t.value) ? `[${t.value}]`",
    replace: "/[*?]/.test(t.value) ? `[${t.value}]`",
    breaks: "a literal [ in a SQLite $like pattern opens a GLOB character class"
  },
  {
    name: "ilike-case-sensitive-pg",
    file: "Dialect.ts",
    search: "`${q} ${ci ? \"ILIKE\" : \"LIKE\"} ${param} ESCAPE '!'`",
    replace: "`${q} ${ci ? \"LIKE\" : \"LIKE\"} ${param} ESCAPE '!'`",
    breaks: "$ilike on PostgreSQL is case-sensitive"
  },
  {
    name: "mysql-changed-rows",
    file: "Dialect.ts",
    search: "affectedRows: (raw) => Number((raw as { affectedRows?: number }).affectedRows ?? 0)",
    replace: "affectedRows: (raw) => Number((raw as { changedRows?: number }).changedRows ?? 0)",
    breaks: "MySQL bulkUpdate / delete report changed rows: a row matched but already equal counts as not updated"
  },
  {
    name: "in-list-limit-off-by-one",
    file: "Filter.ts",
    search: "if (operand.length > limits.list) return fail",
    replace: "if (operand.length >= limits.list) return fail",
    breaks: "an $in / $nin of exactly 10,000 values (the documented limit) is refused"
  },
  {
    name: "depth-limit-off-by-one",
    file: "Filter.ts",
    search: "if (depth > limits.depth) return fail",
    replace: "if (depth > limits.depth + 1) return fail",
    breaks: "a filter nested 33 levels deep is accepted (past the documented limit)"
  },
  {
    name: "pattern-limit-loosened",
    file: "Filter.ts",
    search: "operand.length > limits.pattern) {",
    replace: "operand.length > limits.pattern * 2) {",
    breaks: "a $like pattern past 10,000 characters is sent to the database"
  },
  {
    name: "pipeline-raw-as-rows",
    file: "internal/core.ts",
    search: "(t) => (raw ? sql.unsafe(t, params).raw : sql.unsafe<Row>(t, params).withoutTransform) as Effect.Effect<A, SqlError>",
    replace: "(t) => sql.unsafe<Row>(t, params).withoutTransform as Effect.Effect<A, SqlError>",
    breaks: "on the statement pipeline (a tracer installed) writes read rows instead of the driver result: affected-row counts and insert ids are lost"
  },
  {
    name: "tracer-ignored",
    file: "internal/core.ts",
    search: "const direct = acquirer !== undefined && !foreign && fiber.currentTracer === builtInTracer &&",
    replace: "const direct = acquirer !== undefined && !foreign &&",
    breaks: "statements skip @effect/sql's pipeline under a real tracer: no sql.execute spans"
  }
]
