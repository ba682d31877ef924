// Reading a JSON request body: JSON only, bounded, and every failure a 4xx.
import type { IncomingMessage } from 'node:http'
import getRawBody from 'raw-body'
import { SwitchyardError } from '../control/index.js'

/** `application/json` or any `+json` media type, parameters (charset) ignored. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false
  const type = header.split(';')[0]?.trim().toLowerCase() ?? ''
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/**
 * How deep a body may nest arrays and objects (the top-level value is level 1):
 * route() refuses deeper input too, and here the caller learns it before any work.
 */
export const MAX_JSON_DEPTH = 64

/**
 * The body's bytes, once all of them have arrived: what a request waits on the caller for.
 * Throws UNSUPPORTED_MEDIA_TYPE (415) or PAYLOAD_TOO_LARGE (413) before reading what it would refuse.
 */
export async function readJsonBytes(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  if (!isJsonContentType(req.headers['content-type'])) {
    const got = req.headers['content-type'] ? `'${req.headers['content-type']}'` : 'no content-type'
    throw new SwitchyardError('UNSUPPORTED_MEDIA_TYPE', `the body must be JSON (content-type: application/json); got ${got}`)
  }
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > limitBytes) throw tooLarge(limitBytes)
  return readBounded(req, limitBytes)
}

/** The input in a body's bytes: BAD_REQUEST (400) when not UTF-8, empty, malformed, or nested deeper than MAX_JSON_DEPTH. */
export function parseJsonBody(bytes: Buffer): unknown {
  const text = decodeUtf8(bytes)
  if (text.trim() === '') {
    throw new SwitchyardError('BAD_REQUEST', 'the body is empty; send the workflow input as JSON ({} when it takes none)')
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new SwitchyardError('BAD_REQUEST', `the body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep (the limit)`)
  }
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new SwitchyardError('BAD_REQUEST', `the body is not valid JSON: ${(error as Error).message}`)
  }
}

function decodeUtf8(bytes: Buffer): string {
  try {
    // Strict: a lossy decode would hand the graph U+FFFD where the caller sent something else.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new SwitchyardError('BAD_REQUEST', 'the body is not valid UTF-8; send JSON encoded as UTF-8')
  }
}

/**
 * The body, up to `limitBytes` (raw-body). Past the limit it throws PAYLOAD_TOO_LARGE and
 * leaves the request paused, not destroyed (that would reset the connection before the
 * 413 is sent): the gateway reads the rest and discards it (body-limit.test.ts).
 */
async function readBounded(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit: limitBytes })
  } catch (error) {
    if ((error as { type?: unknown }).type === 'entity.too.large') throw tooLarge(limitBytes)
    // The caller hung up mid-body: nobody will read the answer, but it is their fault, not ours.
    throw new SwitchyardError('BAD_REQUEST', `the body could not be read: ${(error as Error).message}`, { cause: error })
  }
}

/** Whether arrays and objects nest deeper than `max`, brackets inside strings not counted. */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

function tooLarge(limitBytes: number): SwitchyardError {
  return new SwitchyardError('PAYLOAD_TOO_LARGE', `the body is larger than the limit of ${limitBytes} bytes`)
}
