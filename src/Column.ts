/**
 * Columns: what a model field becomes in its table — its kind (which decides the column type
 * per dialect and the codec), its nullability — and the annotation that adjusts a column.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Annotation id for per-field column settings.
 *
 * @since 0.1.0
 * @category annotations
 */
export const ColumnAnnotationId: unique symbol = Symbol.for("effect-dataflow/Column")

/**
 * Per-field column settings, attached with {@link annotate}.
 *
 * @since 0.1.0
 * @category annotations
 */
export interface ColumnAnnotation {
  /** Column name; default: the field name in snake_case. */
  readonly name?: string
  /** Decimal precision and scale (`DECIMAL(p, s)`). */
  readonly precision?: number
  readonly scale?: number
  /** Maximum string length (VARCHAR(n)); default: read from `Schema.maxLength`. */
  readonly maxLength?: number
  /**
   * The column's database default (`DEFAULT …` in its DDL; `Migration.plan` compares it with
   * the live one): a string for a string or enum field, a number for a numeric one, a boolean
   * for a boolean one. The library's own inserts write every column, so it serves rows other
   * programs insert.
   */
  readonly default?: string | number | boolean
}

/**
 * Attaches column settings to a field schema.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Column } from "effect-dataflow"
 *
 * const price = Schema.BigDecimal.pipe(Column.annotate({ precision: 12, scale: 2 }))
 * ```
 *
 * @since 0.1.0
 * @category annotations
 */
export const annotate = (annotation: ColumnAnnotation) => <S extends Schema.Schema.Any>(self: S): S =>
  self.annotations({ [ColumnAnnotationId]: annotation }) as S

/**
 * The storage kind of a column: what its values are on the TypeScript side.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind =
  | { readonly _tag: "string"; readonly maxLength: number | undefined }
  | { readonly _tag: "integer" }
  | { readonly _tag: "float" }
  | { readonly _tag: "boolean" }
  | { readonly _tag: "datetime" }
  | { readonly _tag: "bigint" }
  | { readonly _tag: "decimal"; readonly precision: number | undefined; readonly scale: number | undefined }
  | { readonly _tag: "enum"; readonly values: ReadonlyArray<string> }
  | {
    readonly _tag: "json"
    /**
     * The field is an array of strings, numbers or booleans (`Schema.Array(Schema.String)`):
     * the element type, which the JSON-array filter operators (`$has`, `$hasAny`, `$hasAll`,
     * `$size`) need.
     */
    readonly element?: JsonElement | undefined
  }

/**
 * The element type of a JSON field that is an array of scalars.
 *
 * @since 0.1.0
 * @category models
 */
export type JsonElement = "string" | "number" | "boolean"

/**
 * A column of a model's table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Column {
  /** Field name on the record. */
  readonly field: string
  /** Column name in the table. */
  readonly name: string
  readonly kind: Kind
  /** The value may be `null` (`Schema.NullOr`). */
  readonly nullable: boolean
  /** The key may be absent (`Schema.optional`); stored as NULL, read back as an absent key. */
  readonly optional: boolean
  /** The database default declared with `Column.annotate({ default })`. */
  readonly default?: string | number | boolean | undefined
  /** For json columns: Type -> JSON-compatible encoded value, and back. */
  readonly jsonEncode: (value: unknown) => unknown
  readonly jsonDecode: (value: unknown) => unknown
}

/**
 * Any JSON value but `null`: a JSON field stored in a NOT NULL column (`Schema.Unknown` and
 * `Schema.Any` accept `null` and so are nullable columns). `Introspect.toSource` writes it for a
 * NOT NULL JSON column.
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonValue: Schema.Union<[
  Schema.Record$<typeof Schema.String, typeof Schema.Unknown>,
  Schema.Array$<typeof Schema.Unknown>,
  typeof Schema.String,
  typeof Schema.Number,
  typeof Schema.Boolean
]> = Schema.Union(
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  Schema.Array(Schema.Unknown),
  Schema.String,
  Schema.Number,
  Schema.Boolean
)
