/**
 * Binding values to placeholders, so that a statement's text and its parameter order are made
 * by the same code: nothing is numbered by hand.
 *
 * - {@link Params}: values bound as the text is written (statements whose shape varies per
 *   call: filters, bulk writes).
 * - {@link plan}: a text made once per shape, with a recipe that reads a call's arguments into
 *   parameters in the order the text binds them (statements cached by shape: by-id reads,
 *   updates by patch keys).
 * (Internal module: not part of the public API.)
 */
import type { Dialect } from "../dialect/dialect.js"

/** Values bound in text order; `bind` returns the placeholder. @internal */
export class Params {
  readonly values: Array<unknown> = []
  constructor(readonly dialect: Dialect) {}
  bind(value: unknown): string {
    this.values.push(value)
    return this.dialect.placeholder(this.values.length)
  }
  /** The number of values bound so far: a mark to {@link reset} to. */
  get mark(): number {
    return this.values.length
  }
  /** Drops the values bound since `mark` (their text was dropped too). */
  reset(mark: number): void {
    this.values.length = mark
  }
}

/** A statement text made once, and the parameters of a call in the order the text binds them. @internal */
export interface Plan<A> {
  readonly text: string
  readonly params: (args: A) => ReadonlyArray<unknown>
}

/**
 * Builds a {@link Plan}: `build` writes the text, binding with `bind(get)` where `get` reads the
 * value from a call's arguments.
 * @internal
 */
export const plan = <A>(dialect: Dialect, build: (bind: (get: (args: A) => unknown) => string) => string): Plan<A> => {
  const getters: Array<(args: A) => unknown> = []
  const text = build((get) => {
    getters.push(get)
    return dialect.placeholder(getters.length)
  })
  const n = getters.length
  return {
    text,
    params: (args) => {
      const out = new Array<unknown>(n)
      for (let i = 0; i < n; i++) out[i] = getters[i]!(args)
      return out
    }
  }
}
