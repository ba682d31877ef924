// W3C Trace Context Level 2 (https://www.w3.org/TR/trace-context-2/), the header grammar
// alone: pure functions, so the gateway, the workers and the typed client read and write
// `traceparent` and `tracestate` by one set of rules. The OpenTelemetry propagator built
// on them is src/observe/propagation; this file knows nothing of OpenTelemetry.
//
// Where OpenTelemetry JS differs from the spec, the spec wins here: a `tracestate` with
// one invalid member, or more than 32, is discarded whole (OpenTelemetry drops members
// one by one); keys follow Level 2's grammar (`@` anywhere after the first character,
// which Level 1's `tenant@vendor` form only allowed once); and the random flag (0x02)
// is kept (the SDK keeps only the sampled bit).

/** The caller may have recorded trace data (trace-flags bit 0). */
export const TRACE_FLAG_SAMPLED = 0x01
/** At least the right-most 7 bytes of the trace id are random (trace-flags bit 1, Level 2). */
export const TRACE_FLAG_RANDOM = 0x02
/** The flags this version defines; "vendors MUST set those [others] to zero". */
const KNOWN_FLAGS = TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM

/** At most 32 list-members in a `tracestate` list. */
export const TRACESTATE_MAX_MEMBERS = 32

export interface Traceparent {
  /** The version the caller sent (0 for `00`); we always write `00`. */
  readonly version: number
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string
  /** 16 lowercase hex digits, not all zero. */
  readonly parentId: string
  /** The trace-flags byte as received. */
  readonly flags: number
}

export type TracestateMember = readonly [key: string, value: string]

const HEX2 = /^[0-9a-f]{2}$/
const TRACE_ID = /^[0-9a-f]{32}$/
const PARENT_ID = /^[0-9a-f]{16}$/
const ZERO_TRACE_ID = '0'.repeat(32)
const ZERO_PARENT_ID = '0'.repeat(16)
// key = ( lcalpha / DIGIT ) 0*255 ( keychar ); keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
const KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/
// value = 0*255(chr) nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E; chr = %x20 / nblk-chr
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/
/** OWS (RFC 9110 §5.6.3): spaces and horizontal tabs. */
const OWS = /^[ \t]+|[ \t]+$/g

/**
 * The `traceparent` header, or null when it must be ignored (the trace restarts).
 * Several header fields (an array, or a list Node joined with commas) are invalid.
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03')
 * // => { version: 0, traceId: '4bf9…', parentId: '00f0…', flags: 3 }
 */
export function parseTraceparent(header: string | readonly string[] | undefined): Traceparent | null {
  if (typeof header !== 'string') return null
  const value = header.replace(OWS, '')
  const version = value.slice(0, 2)
  if (!HEX2.test(version) || version === 'ff' || value[2] !== '-') return null
  // Version 00 is exactly 55 characters; a higher version may append fields after a dash.
  if (version === '00' ? value.length !== 55 : value.length < 55 || (value.length > 55 && value[55] !== '-')) return null
  const traceId = value.slice(3, 35)
  const parentId = value.slice(36, 52)
  const flags = value.slice(53, 55)
  if (value[35] !== '-' || value[52] !== '-') return null
  if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE_ID) return null
  if (!PARENT_ID.test(parentId) || parentId === ZERO_PARENT_ID) return null
  if (!HEX2.test(flags)) return null
  return { version: parseInt(version, 16), traceId, parentId, flags: parseInt(flags, 16) }
}

/** A version-00 `traceparent`; flags this version does not define are written as zero. */
export function formatTraceparent(traceId: string, parentId: string, flags: number): string {
  return `00-${traceId}-${parentId}-${(flags & KNOWN_FLAGS).toString(16).padStart(2, '0')}`
}

/**
 * The list-members of a `tracestate` header (several header fields are combined in
 * order, RFC 9110 §5.3), or null when the header must be discarded whole: a member
 * breaks the grammar, or there are more than 32. Empty and whitespace-only members
 * are allowed and dropped; of a duplicated key, the first (left-most) is kept.
 * An absent or empty header is an empty list.
 *
 * @example
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE')  // => [['rojo', '00f0…'], ['congo', 't61…']]
 * parseTracestate('foo=1,FOO=2')                                 // => null (an upper-case key)
 */
export function parseTracestate(header: string | readonly string[] | undefined): TracestateMember[] | null {
  if (header === undefined) return []
  const combined = typeof header === 'string' ? header : header.join(',')
  const members: TracestateMember[] = []
  const seen = new Set<string>()
  let count = 0
  for (const raw of combined.split(',')) {
    const member = raw.replace(OWS, '')
    if (member === '') continue
    // Duplicates count: the limit is on what was sent.
    if (++count > TRACESTATE_MAX_MEMBERS) return null
    const eq = member.indexOf('=')
    if (eq < 0) return null
    const key = member.slice(0, eq)
    const value = member.slice(eq + 1)
    if (!KEY.test(key) || !VALUE.test(value)) return null
    if (seen.has(key)) continue
    seen.add(key)
    members.push([key, value])
  }
  return members
}

/** The header value of a list of members, as `key=value` joined by commas. */
export function formatTracestate(members: readonly TracestateMember[]): string {
  return members.map(([key, value]) => `${key}=${value}`).join(',')
}

/** Whether `key` and `value` may form a `tracestate` list-member. */
export function isTracestateMember(key: string, value: string): boolean {
  return KEY.test(key) && VALUE.test(value)
}
