/**
 * Type helpers shared by the relation types: what a relation's target model records,
 * relates, requires and filters by. (Internal module: not part of the public API.)
 */
import type * as Internal from "./relations.js"
import type { Relation, Target, Where } from "../../Relation.js"

/** The record type of a relation's target model. */
export type RecordOfTarget<M> = M extends Target<infer R> ? R : never
/** The relations a target model declares (`{}` for none). */
export type RelationsOfTarget<M> = M extends { readonly "~relations"?: infer X } ? ([X] extends [undefined] ? {} : NonNullable<X>) : {}
/** The target model of a relation. */
export type TargetOf<Rel> = Rel extends Relation<Internal.RelationKind, infer M> ? M : never
/** What a target model's nodes require (its client, its tenant). */
export type RequirementsOfTarget<M> = M extends { readonly "~requirements"?: infer R } ? R : never
/** The filter of a target model: its fields and its relations. */
export type WhereOfTarget<M> = Where<RecordOfTarget<M>, RelationsOfTarget<M>>
/**
 * The junction's fields holding a many-to-many target's primary key: one field, or on a
 * composite key one per key field (the side the relation is declared on is checked on first use).
 */
export type JunctionKey<M> = M extends { readonly primaryKey: ReadonlyArray<string> } ? readonly [string, string, ...ReadonlyArray<string>]
  : M extends { readonly primaryKey: string } ? string
  : string | readonly [string, string, ...ReadonlyArray<string>]
