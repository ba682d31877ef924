// What a span may record of a run's input and output, per the pool's `capture`
// (DESIGN §3): `full` records it, `redacted` masks e-mail addresses, phone numbers
// and the configured keys, `none` records nothing.
import { findPhoneNumbersInText } from 'libphonenumber-js'
import type { TracingConfig } from '../../control/index.js'

/** Longest recorded value, in characters; longer values are cut (and say so). */
export const CAPTURE_LIMIT = 8192

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g
// A phone number has at least 7 digits; cheaper to check than to parse every string.
const SEVEN_DIGITS = /(?:\d\D{0,3}){7}/
export const MASK = { email: '[email]', phone: '[phone]', key: '[redacted]' } as const

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

/** A deep copy of `value` with configured keys masked and e-mails/phones masked in every string. */
export function redactValue(value: unknown, keys: readonly string[]): unknown {
  const masked = new Set(keys.map((key) => key.toLowerCase()))
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return redactText(node)
    if (node === null || typeof node !== 'object' || depth > 32) return node
    if (Array.isArray(node)) return node.map((item) => walk(item, depth + 1))
    const copy: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(node)) {
      copy[key] = masked.has(key.toLowerCase()) ? MASK.key : walk(item, depth + 1)
    }
    return copy
  }
  return walk(value, 0)
}

/** `text` with e-mail addresses and phone numbers masked. */
export function redactText(text: string): string {
  let out = text.replace(EMAIL, MASK.email)
  if (!SEVEN_DIGITS.test(out)) return out
  // Replace from the end so earlier offsets stay valid.
  const found = findPhoneNumbersInText(out, 'US')
  for (let i = found.length - 1; i >= 0; i--) {
    const match = found[i]
    if (match) out = out.slice(0, match.startsAt) + MASK.phone + out.slice(match.endsAt)
  }
  return out
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
