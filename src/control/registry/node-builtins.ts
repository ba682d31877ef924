// Node's built-in modules for the control plane's cold path. Every process that routes
// loads the registry at start, so the built-ins it needs at once are taken with
// process.getBuiltinModule (public since Node 20.16): an ES import of `node:fs` builds
// its module namespace, which loads Node's stream modules too (bench/control-plane
// prints what each way costs). require() stays for what a routing process rarely
// needs (the compiler, Ajv's runtime helpers).
import { createRequire } from 'node:module'
import type * as Crypto from 'node:crypto'

let localRequire: NodeJS.Require | undefined

/**
 * require() relative to src/control, made on first use: for what a routing
 * process rarely needs (the compiler, Ajv's runtime helpers, built-ins on old Nodes).
 */
export function requireHere(id: string): unknown {
  return (localRequire ??= createRequire(import.meta.url))(id)
}

/** A built-in module as require() returns it: process.getBuiltinModule where Node has it, else require(). */
export const builtin: <T>(id: string) => T =
  typeof process.getBuiltinModule === 'function'
    ? <T>(id: string) => process.getBuiltinModule(id) as T
    : <T>(id: string) => requireHere(id) as T

// node:crypto is loaded on first use: a fresh compiled registry never hashes.
let crypto: typeof Crypto | undefined

/** `sha256:<hex>` of the bytes. */
export function sha256(data: string | Uint8Array): string {
  crypto ??= builtin<typeof Crypto>('node:crypto')
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`
}

/** `bytes` random bytes as hex: names nobody can guess (the cache's temp files). */
export function randomHex(bytes: number): string {
  crypto ??= builtin<typeof Crypto>('node:crypto')
  return crypto.randomBytes(bytes).toString('hex')
}
