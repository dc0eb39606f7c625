/**
 * The cold-start benchmark's models as plain data: `count` tables of realistic width (8 to 14
 * columns of mixed types), the same for the library's models, Drizzle's tables and the raw
 * driver's query. No import: the child process turns them into models only after it has
 * timed importing the library.
 */
import type { Schema } from "effect"

/** A column type the three implementations each declare their own way. */
export type ColumnType = "string" | "int" | "number" | "boolean" | "date" | "status" | "nullableString"

export interface ColumnSpec {
  /** The field name (camelCase) and its column (snake_case). */
  readonly field: string
  readonly column: string
  readonly type: ColumnType
}

export interface ModelSpec {
  readonly name: string
  readonly table: string
  /** Without the generated `id` and the managed `createdAt` / `updatedAt`. */
  readonly columns: ReadonlyArray<ColumnSpec>
}

const cycle: ReadonlyArray<readonly [string, ColumnType]> = [
  ["title", "string"],
  ["quantity", "int"],
  ["amount", "number"],
  ["enabled", "boolean"],
  ["dueAt", "date"],
  ["status", "status"],
  ["note", "nullableString"],
  ["ownerName", "string"],
  ["rank", "int"],
  ["weight", "number"],
  ["archived", "boolean"],
  ["seenAt", "date"],
  ["label", "string"],
  ["comment", "nullableString"]
]

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** Model `i`: 8 + (i mod 7) columns besides id and the timestamps. */
export const modelSpec = (i: number): ModelSpec => ({
  name: `ColdModel${i}`,
  table: `cold_m${i}`,
  columns: cycle.slice(0, 8 + (i % 7)).map(([field, type]) => ({ field, column: snake(field), type }))
})

export const modelSpecs = (count: number): ReadonlyArray<ModelSpec> => Array.from({ length: count }, (_, i) => modelSpec(i))

export const STATUSES = ["draft", "active", "closed"] as const

/** A stored value of one of the column types. */
export type Value = string | number | boolean | Date | null

/** The one row each table holds in the warm-schema case (id 1). */
export const sampleRow = (spec: ModelSpec): { readonly id: number; readonly [field: string]: Value } => {
  const values: Record<ColumnType, Value> = {
    string: "a value",
    int: 42,
    number: 3.5,
    boolean: true,
    date: new Date("2026-01-02T03:04:05.678Z"),
    status: "active",
    nullableString: null
  }
  return { ...Object.fromEntries(spec.columns.map((c) => [c.field, values[c.type]])), id: 1 }
}

/** A model's Schema fields from its spec (`S`: effect's `Schema` module, passed in so that this file imports nothing). */
export const schemaFields = (S: typeof Schema, columns: ReadonlyArray<ColumnSpec>) => {
  const of = (c: ColumnSpec) => {
    switch (c.type) {
      case "string":
        return S.String.pipe(S.maxLength(200))
      case "int":
        return S.Int
      case "number":
        return S.Number
      case "boolean":
        return S.Boolean
      case "date":
        return S.DateFromSelf
      case "status":
        return S.Literal(...STATUSES)
      case "nullableString":
        return S.NullOr(S.String.pipe(S.maxLength(500)))
    }
  }
  return Object.fromEntries([["id", S.Int], ...columns.map((c) => [c.field, of(c)] as const)])
}

/**
 * The Prisma schema of the models (`prisma-client` generator, output `output`), with the column
 * types the library gives their tables (SQLite, or PostgreSQL: `Schema.Int` is a bigint there).
 */
export const prismaSchema = (specs: ReadonlyArray<ModelSpec>, db: "sqlite" | "pg", output: string): string => {
  const pg = db === "pg"
  const types: Record<ColumnType, string> = {
    string: pg ? "String @db.VarChar(200)" : "String",
    int: pg ? "BigInt" : "Int",
    number: "Float",
    boolean: "Boolean",
    date: pg ? "DateTime @db.Timestamptz(3)" : "DateTime",
    status: "String",
    nullableString: pg ? "String? @db.VarChar(500)" : "String?"
  }
  const stamp = pg ? " @db.Timestamptz(3)" : ""
  const model = (spec: ModelSpec) =>
    [
      `model ${spec.name} {`,
      `  id ${pg ? "BigInt" : "Int"} @id @default(autoincrement())`,
      ...spec.columns.map((c) => `  ${c.field} ${types[c.type].replace(/^(\S+)/, `$1 @map("${c.column}")`)}`),
      `  createdAt DateTime @map("created_at")${stamp}`,
      `  updatedAt DateTime @map("updated_at")${stamp}`,
      `  @@map("${spec.table}")`,
      "}"
    ].join("\n")
  return [
    `generator client {\n  provider = "prisma-client"\n  output   = "${output}"\n}`,
    `datasource db {\n  provider = "${pg ? "postgresql" : "sqlite"}"\n}`,
    ...specs.map(model)
  ].join("\n\n") + "\n"
}
