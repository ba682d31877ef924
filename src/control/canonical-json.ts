// The canonical form behind the registry digest: JSON with object keys sorted and
// no whitespace, so key order and formatting never change a digest.
import { createRequire } from 'node:module'
import type * as Crypto from 'node:crypto'

// node:crypto costs ~5 ms to load; a fresh compiled registry never hashes, so
// it is required on first use only.
let crypto: typeof Crypto | undefined

/** JSON text of `value` with every object's keys sorted; `undefined` members are dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
  return `{${entries.join(',')}}`
}

/** `sha256:<hex>` of the text. */
export function sha256(text: string | Uint8Array): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto
  return `sha256:${crypto.createHash('sha256').update(text).digest('hex')}`
}
