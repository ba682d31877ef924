// Why the gateway may execute what it reads from `.switchyard/` (issue 12.3): graph code
// of any pool can write the registry's folder, so the compiled registry (which names the
// validator ids, pools and graph modules) carries a keyed MAC (HMAC-SHA256), and every
// file it names is checked against the content hash it records. The key is a file of
// the operator's, `.switchyard/cache.key` (mode 0600, created by the first process of
// the operator's that writes the cache); workers load the registry without it (they
// never execute cached code) and never read it. A key file another user owns, or that
// others may read, is not used: a pool running as its own OS user could have planted it.
// What `dev` (one OS user for everything) can and cannot protect: SECURITY.md.
import type * as Crypto from 'node:crypto'
import type * as Fs from 'node:fs'
import { builtin } from './node-builtins.js'

const { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, writeSync } = builtin<typeof Fs>('node:fs')

/** The key file's name inside `.switchyard/`. */
export const CACHE_KEY_FILE = 'cache.key'

/** First line of a compiled registry written with a key; the JSON follows on the next line. */
export const MAC_PREFIX = 'hmac-sha256:'

const KEY_BYTES = 32
const HEX_KEY = /^[0-9a-f]{64}$/

let crypto: typeof Crypto | undefined
const cryptoModule = (): typeof Crypto => (crypto ??= builtin<typeof Crypto>('node:crypto'))

/** Why a cached file was not used: counted, so an operator (and a test) sees tampering. */
export type CacheRefusal =
  /** The compiled registry has no MAC (written without the key, or the key file is gone). */
  | 'unsigned'
  /** The compiled registry's MAC does not match its bytes. */
  | 'mac'
  /** A validator file's code does not hash to the id the compiled registry names. */
  | 'validator'
  /** The schema table does not hash to the id the compiled registry names. */
  | 'schemas'
  /** The key file is not the operator's own (another owner, readable by others, not a file). */
  | 'key'
  /** A sub-folder of the cache is a symlink or not a folder (cache-files.ts): removed, never followed. */
  | 'folder'

const refused = new Map<CacheRefusal, number>()

/** Counts a refusal and says so once per reason (a process warning, not a crash). */
export function refuse(reason: CacheRefusal, file: string): void {
  const before = refused.get(reason) ?? 0
  refused.set(reason, before + 1)
  if (before === 0) {
    const done =
      reason === 'folder' ? 'removed (never followed) and made again as a folder' : 'not executed or trusted; rebuilt from the registry'
    process.emitWarning(`refused ${file} (${reason}): ${done}`, {
      code: 'SWITCHYARD_CACHE_REFUSED',
    })
  }
}

/**
 * How often this process refused a file of the compiled registry's cache, by reason
 * (the gateway serves it as `switchyard_registry_cache_refused_total`).
 */
export function cacheRefusals(): ReadonlyMap<CacheRefusal, number> {
  return new Map(refused)
}

/** Keys by cache folder, read once per process; null: a key file that must not be used (refused once). */
const keys = new Map<string, Buffer | null>()

/**
 * The cache key of the `.switchyard` folder `dir`, or null when there is none yet or
 * the file is not one the operator alone could have written (refused, counted).
 * `create`: make one when there is none (only a process that writes the cache).
 */
export function cacheKey(dir: string, create: boolean): Buffer | null {
  const known = keys.get(dir)
  if (known !== undefined) return known
  const file = `${dir}/${CACHE_KEY_FILE}`
  let key = readKey(file)
  if (key === undefined && create) key = makeKey(dir, file)
  // No key file (or none could be made): looked for again next time.
  if (key !== undefined) keys.set(dir, key)
  return key ?? null
}

/** undefined: no key file; null: one that must not be used. */
function readKey(file: string): Buffer | null | undefined {
  let fd: number
  try {
    // O_NOFOLLOW: a symlink planted in place of the key is refused, never followed.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    refuse('key', file)
    return null
  }
  try {
    const stat = fstatSync(fd)
    const uid = process.getuid?.()
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (process.platform !== 'win32' && (stat.mode & 0o077) !== 0)) {
      refuse('key', file)
      return null
    }
    const text = Buffer.alloc(KEY_BYTES * 2)
    const hex = text.toString('latin1', 0, readSync(fd, text, 0, text.length, 0))
    if (!HEX_KEY.test(hex)) {
      refuse('key', file)
      return null
    }
    return Buffer.from(hex, 'hex')
  } finally {
    closeSync(fd)
  }
}

/** A new key, created exclusively with mode 0600; another process's if it won the race. */
function makeKey(dir: string, file: string): Buffer | null | undefined {
  const key = cryptoModule().randomBytes(KEY_BYTES)
  let fd: number
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 })
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readKey(file)
    // A folder we cannot write: no key, so nothing cached is trusted (loading rebuilds).
    return undefined
  }
  try {
    writeSync(fd, key.toString('hex'))
  } finally {
    closeSync(fd)
  }
  return key
}

/** `hmac-sha256:<hex>` of the text under the key. */
export function macOf(key: Buffer, text: string): string {
  return `${MAC_PREFIX}${cryptoModule().createHmac('sha256', key).update(text).digest('hex')}`
}

/** Whether `mac` is the MAC of `text` under `key`, compared in constant time. */
export function macMatches(key: Buffer, text: string, mac: string): boolean {
  const expected = Buffer.from(macOf(key, text))
  const given = Buffer.from(mac)
  return given.length === expected.length && cryptoModule().timingSafeEqual(given, expected)
}

/** The 32-hex content id the compiled registry names files by (validators, schema tables). */
export function contentId(text: string): string {
  return cryptoModule().createHash('sha256').update(text).digest('hex').slice(0, 32)
}
