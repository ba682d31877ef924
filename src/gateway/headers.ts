// Response headers built from request values. Node throws from setHeader/writeHead on a
// value it cannot send (NUL, CR, LF, DEL, anything past Latin-1); thrown there, outside
// a handler's error path, that ended the process. Every header the gateway writes goes
// through this filter, so a request value that cannot be a header is left out, never thrown.
import { validateHeaderValue } from 'node:http'

/** True when Node can send `value` as a header value as it is. */
export function isHeaderSafe(value: string): boolean {
  try {
    validateHeaderValue('x', value)
    return true
  } catch {
    return false
  }
}

/** The headers whose values can be sent; the others are dropped (the body still names them). */
export function safeHeaders(headers: Readonly<Record<string, string | number>>): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'number' || isHeaderSafe(value)) out[name] = value
  }
  return out
}
