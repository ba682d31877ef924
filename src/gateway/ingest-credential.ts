// A pool's trace-ingest credential (DESIGN §3, §6): what a pool's workers send with
// their spans to the embedded receiver. It is an HMAC of the pool's name under a secret
// only the gateway (and the supervisor that starts it) holds, so it names its pool and
// cannot be forged for another; the receiver lets it write that pool's project and
// nothing else — no runs, no reads, no other project. It replaces a gateway token in
// workers' env, which let any graph read every run and write into any trace.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Grant } from './scopes.js'

const PREFIX = 'ingest.'
const CONTEXT = 'switchyard trace ingest v1\n'

/** A fresh random secret (one `dev` or `start` session's). */
export function newIngestSecret(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The credential for `pool`'s processes: `ingest.<pool>.<mac>`.
 *
 * @example workerEnv.SWITCHYARD_TRACES_TOKEN = ingestToken(secret, 'email')
 */
export function ingestToken(secret: string, pool: string): string {
  return `${PREFIX}${pool}.${mac(secret, pool)}`
}

/** The grant of a genuine ingest credential, or null when `token` is not one (or is forged). */
export function verifyIngestToken(secret: string, token: string): Grant | null {
  if (!token.startsWith(PREFIX)) return null
  const dot = token.lastIndexOf('.')
  const pool = token.slice(PREFIX.length, dot)
  if (dot <= PREFIX.length || pool.includes('.')) return null
  const presented = Buffer.from(token.slice(dot + 1))
  const expected = Buffer.from(mac(secret, pool))
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null
  return { name: `ingest:${pool}`, id: `ingest:${pool}`, roles: ['ingest'], pools: [pool] }
}

function mac(secret: string, pool: string): string {
  return createHmac('sha256', secret)
    .update(CONTEXT + pool)
    .digest('base64url')
}
