// Schema `pattern`s (and `patternProperties`) match in linear time: RE2's algorithm
// through re2js (pure JavaScript: no native build to fail in CI) instead of the
// backtracking RegExp, so a pattern such as ^(a+)+$ cannot stall a process for seconds
// on a 43-byte input (issue 12.9). Ajv calls linearRegExp for each pattern (its
// code.regExp option); standalone validator code reaches it as
// `require("switchyard/linear-regexp").linearRegExp`, which route() resolves to this
// module. RE2 has no lookaround and no backreferences: `switchyard check` refuses a
// pattern that uses them, naming it. re2js itself loads on the first pattern.
import { requireHere } from './node-builtins.js'

interface Re2Pattern {
  matcher(input: string): { find(): boolean }
}
interface Re2 {
  compile(pattern: string, flags?: number): Re2Pattern
  readonly CASE_INSENSITIVE: number
}

let engine: Re2 | undefined

/** What Ajv needs of a compiled pattern. */
export interface LinearPattern {
  test(input: string): boolean
  toString(): string
}

/**
 * Compile a JSON Schema `pattern` for linear-time matching (unanchored, as JSON Schema
 * matches). `flags` is Ajv's (`u`, or `i`); RE2 always works on Unicode code points.
 *
 * @throws Error naming the pattern when RE2 cannot run it (lookaround, backreferences)
 */
export const linearRegExp: ((source: string, flags: string) => LinearPattern) & { readonly code: string } = Object.assign(
  (source: string, flags: string): LinearPattern => {
    engine ??= (requireHere('re2js') as { RE2JS: Re2 }).RE2JS
    let compiled: Re2Pattern
    try {
      compiled = engine.compile(source, flags.includes('i') ? engine.CASE_INSENSITIVE : 0)
    } catch (error) {
      throw new Error(
        `pattern ${JSON.stringify(source)} cannot be matched in linear time (RE2 syntax: no lookaround, no backreferences): ` +
          (error instanceof Error ? error.message : String(error)),
      )
    }
    return { test: (input) => compiled.matcher(input).find(), toString: () => `/${source}/${flags}` }
  },
  { code: 'require("switchyard/linear-regexp").linearRegExp' },
)
