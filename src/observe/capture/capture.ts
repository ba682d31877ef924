// What a span may record of a run's input and output, per the pool's `capture`
// (DESIGN §3): `full` records it, `redacted` masks e-mail addresses, phone numbers
// and the configured keys, `none` records nothing. The rules are the Python worker's
// too, held to spec/vectors/redaction.json by both.
import type { TracingConfig } from '../../control/index.js'

/** Longest recorded value, in characters; longer values are cut (and say so). */
export const CAPTURE_LIMIT = 8192

/** Objects and arrays deeper than this are masked whole: a value is never passed through unmasked. */
export const REDACT_DEPTH = 32

export const MASK = { email: '[email]', phone: '[phone]', key: '[redacted]', secret: '[secret]' } as const

// E-mail: any run of characters that are not space or a delimiter, with an @ inside it
// (something before, something after). That covers IDN addresses (jörg@müller.de,
// 用户@例子.广告) and addresses without a TLD (root@localhost), which a pattern of
// ASCII labels and a TLD misses; it masks a little more (pkg@1.2.3), never less.
// Tokens are matched in one pass: linear in the text, whatever it holds.
const TOKEN = /[^\s<>()[\]{}\\,;:"'`]+/g
const TRAILING = /[.!?]+$/

// Phone numbers in any national or international format (0664 1234567, +43 664 1234567,
// (555) 123-4567, 0664/1234567): at least seven digits with at most three separators
// between two. A library finds numbers only for a country it is told; a pool's inputs
// come from any country. Bounded repetition between digits: linear time. Digits that
// touch a letter or digit (ids, hashes: a1234567b) and dates are not phone numbers.
const PHONE = /\+?\(?\d(?:[ \t\u00a0().\-/]{0,3}\d){6,}/g
const DATE = /^(?:\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{4})$/
const WORD = /[A-Za-z0-9_]/

/**
 * The string a span records for `value`, or undefined when nothing may be recorded.
 *
 * @example
 * captureValue({ email: 'ada@example.com' }, { project: 'p', sampleRate: 1, capture: 'redacted', redact: [] })
 * // => '{"email":"[email]"}'
 */
export function captureValue(value: unknown, tracing: Pick<TracingConfig, 'capture' | 'redact'>): string | undefined {
  if (tracing.capture === 'none' || value === undefined) return undefined
  const recorded = tracing.capture === 'redacted' ? redactValue(value, tracing.redact) : value
  return limit(typeof recorded === 'string' ? recorded : safeJson(recorded))
}

/**
 * A deep copy of `value` with configured keys masked (any case, any depth) and
 * e-mails/phones masked in every string; objects deeper than REDACT_DEPTH are masked whole.
 */
export function redactValue(value: unknown, keys: readonly string[]): unknown {
  const masked = new Set(keys.map((key) => key.toLowerCase()))
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return redactText(node)
    if (node === null || typeof node !== 'object') return node
    if (depth > REDACT_DEPTH) return MASK.key
    if (Array.isArray(node)) return node.map((item) => walk(item, depth + 1))
    const copy: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(node)) {
      copy[key] = masked.has(key.toLowerCase()) ? MASK.key : walk(item, depth + 1)
    }
    return copy
  }
  return walk(value, 0)
}

/**
 * A recorded value (JSON text, as captureValue writes it) with the keys masked at any
 * depth: parsed and masked when it parses; when it does not (cut at CAPTURE_LIMIT),
 * masked whole if it names a key, else its text masked.
 */
export function redactRecorded(text: string, keys: readonly string[]): string {
  if (keys.length > 0) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      const lower = text.toLowerCase()
      return keys.some((key) => lower.includes(`"${key.toLowerCase()}"`)) ? MASK.key : redactText(text)
    }
    if (parsed !== null && typeof parsed === 'object') return safeJson(redactValue(parsed, keys))
  }
  return redactText(text)
}

/** `text` with e-mail addresses and phone numbers masked. */
export function redactText(text: string): string {
  let out = text
  if (out.includes('@')) {
    out = out.replace(TOKEN, (token) => {
      const at = token.indexOf('@')
      if (at <= 0 || at === token.length - 1) return token
      const tail = TRAILING.exec(token)?.[0] ?? ''
      return token.length - tail.length - 1 > at ? MASK.email + tail : token
    })
  }
  return out.replace(PHONE, (match: string, at: number, whole: string) =>
    DATE.test(match) || WORD.test(whole.charAt(at - 1)) || WORD.test(whole.charAt(at + match.length)) ? match : MASK.phone,
  )
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function limit(text: string): string {
  return text.length <= CAPTURE_LIMIT ? text : `${text.slice(0, CAPTURE_LIMIT)}…[${text.length - CAPTURE_LIMIT} more]`
}
