/**
 * Reference semantics for text, written independently of the library's SQL: what every
 * database must answer for comparisons (code-point order) and patterns (`$like`, `$ilike`).
 * (Internal module: not part of the public API.)
 */
/** Compares strings by Unicode code point (not UTF-16 code unit). @internal */
export const compareCodePoints = (a: string, b: string): number => {
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!
    const cb = b.codePointAt(j)!
    if (ca !== cb) return ca < cb ? -1 : 1
    i += ca > 0xffff ? 2 : 1
    j += cb > 0xffff ? 2 : 1
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0
}

type Token = { readonly t: "any" } | { readonly t: "one" } | { readonly t: "lit"; readonly c: string }

/** `%` any run, `_` one code point, `\x` a literal x (a trailing lone `\` is itself). */
const parseLike = (pattern: string): ReadonlyArray<Token> => {
  const cps = Array.from(pattern)
  const out: Array<Token> = []
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!
    if (c === "\\" && i + 1 < cps.length) out.push({ t: "lit", c: cps[++i]! })
    else if (c === "%") out.push({ t: "any" })
    else if (c === "_") out.push({ t: "one" })
    else out.push({ t: "lit", c })
  }
  return out
}

const folds = new Map<string, string>()
/** `$ilike` folds ASCII letters only. @internal */
export const foldAscii = (s: string) => {
  let folded = folds.get(s)
  if (folded === undefined) folds.set(s, folded = s.replace(/[A-Z]/g, (c) => c.toLowerCase()))
  return folded
}

const codePoints = new Map<string, ReadonlyArray<string>>()
const codePointsOf = (s: string) => {
  let cps = codePoints.get(s)
  if (cps === undefined) codePoints.set(s, cps = Array.from(s))
  return cps
}

/** A LIKE pattern as a matcher over code points (greedy, backtracking to the last `%`). @internal */
export const likeMatcher = (pattern: string, insensitive: boolean) => {
  const toks = parseLike(insensitive ? foldAscii(pattern) : pattern)
  return (value: string): boolean => {
    const cps = codePointsOf(insensitive ? foldAscii(value) : value)
    let i = 0
    let j = 0
    let star = -1
    let mark = 0
    while (i < cps.length) {
      const tok = toks[j]
      if (tok !== undefined && (tok.t === "one" || (tok.t === "lit" && tok.c === cps[i]))) {
        i++
        j++
      } else if (tok !== undefined && tok.t === "any") {
        star = j++
        mark = i
      } else if (star >= 0) {
        j = star + 1
        i = ++mark
      } else return false
    }
    while (toks[j]?.t === "any") j++
    return j === toks.length
  }
}
