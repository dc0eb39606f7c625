/**
 * SQL LIKE patterns as tokens: what `$like` / `$ilike` mean, independent of how each database
 * writes them (LIKE with `!` escapes, SQLite's GLOB).
 * (Internal module: not part of the public API.)
 */

/** One element of a pattern: any run of characters, exactly one character, or a literal one. @internal */
export type PatternToken = { readonly _tag: "any" } | { readonly _tag: "one" } | { readonly _tag: "text"; readonly value: string }

/** Reads a SQL LIKE pattern with `\` as the escape character. @internal */
export const parsePattern = (pattern: string): ReadonlyArray<PatternToken> => {
  const tokens: Array<PatternToken> = []
  const chars = Array.from(pattern)
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    if (ch === "\\" && i + 1 < chars.length) tokens.push({ _tag: "text", value: chars[++i]! })
    else if (ch === "%") tokens.push({ _tag: "any" })
    else if (ch === "_") tokens.push({ _tag: "one" })
    else tokens.push({ _tag: "text", value: ch })
  }
  return tokens
}

/** The tokens matching a text literally. @internal */
export const literal = (text: string): ReadonlyArray<PatternToken> => Array.from(text).map((value) => ({ _tag: "text", value }))

