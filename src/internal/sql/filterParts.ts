/**
 * What the filter compilers share: the field and target descriptions, the compiler's state
 * passed to each family of operators (JSON ones in jsonFilter.ts, the rest in filter.ts), and
 * the small predicates of the filter language's shape.
 * (Internal module: not part of the public API.)
 */
import type { Kind } from "../../Column.js"
import type { Dialect } from "../dialect/dialect.js"
import type { Params } from "./params.js"

/** What the compiler needs to know about a field. @internal */
export interface FieldInfo {
  readonly quoted: string
  readonly kind: Kind
  /** NULL can occur in the column (`IS NULL` tests are constant otherwise). */
  readonly nullable: boolean
  readonly toDb: (value: unknown) => unknown
  readonly isValue: (u: unknown) => boolean
}

/** @internal */
export interface Target {
  readonly model: string
  readonly operation: string
  readonly dialect: Dialect
  readonly field: (name: string) => FieldInfo | undefined
  /** A relation of the model by name, for relation filters (see relationFilter.ts). */
  readonly relation?: ((name: string) => RelationTarget | undefined) | undefined
}

/** A relation a filter key names: its model as a filter target, and its EXISTS subquery. @internal */
export interface RelationTarget {
  /** has-many: `some` / `every` / `none`; otherwise a filter of the related record. */
  readonly many: boolean
  readonly target: Target
  /** `EXISTS (…)` of a related row meeting `condition` (undefined: any related row). */
  readonly exists: (condition: string | undefined) => string
}

/** The condition no row meets. @internal */
export const never = "1=0"

/** @internal */
export const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

/** @internal */
export const isOperatorObject = (u: unknown): u is Record<string, unknown> =>
  isPlainObject(u) && Object.keys(u).length > 0 && Object.keys(u).every((k) => k.startsWith("$"))

/** A dotted path one key further. @internal */
export const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`)

/** The kinds operands of text and number operators are checked against. @internal */
export const textKind: Kind = { _tag: "string", maxLength: undefined }
/** @internal */
export const numberKind: Kind = { _tag: "float" }

/** One compilation's state, shared by the operator families. @internal */
export interface Compiler {
  readonly dialect: Dialect
  readonly params: Params
  /** Binds a value, returning its placeholder. */
  readonly placeholder: (value: unknown) => string
  /** Throws the `InvalidFilter` naming `path` (caught once, at the top). */
  readonly fail: (path: string, reason: string) => never
  /** Counts `n` bound values against the filter's limit. */
  readonly counted: (n: number, path: string) => void
  /** AND / OR of parts with constants folded (see filter.ts). */
  readonly joinParts: (parts: ReadonlyArray<string | undefined>, joiner: " AND " | " OR ", mark: number) => string | undefined
}
