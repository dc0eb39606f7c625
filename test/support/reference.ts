/**
 * Reference semantics for text, written independently of the library: what the databases
 * must answer for comparisons and patterns. They live in the testing kit now.
 */
export { compareCodePoints, foldAscii, likeMatcher } from "../../src/internal/testing/text.js"
