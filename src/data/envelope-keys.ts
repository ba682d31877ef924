// The keys that sign and verify run envelopes (DESIGN §2.4, §6). Ed25519: the gateway
// alone holds the private key; a pool's workers hold only public keys, so a graph that
// reads everything its process can reach still cannot mint an envelope for any pool.
//   private key   PEM (PKCS#8), what `openssl genpkey -algorithm ed25519` and
//                 `switchyard keys generate` write; read from a file, never from the env
//   public keys   SWITCHYARD_VERIFY_KEYS: one or more keys separated by commas or
//                 whitespace, each the 32-byte raw key in base64 (or base64url), or a PEM
//                 `PUBLIC KEY` block. More than one during a rotation: the new key first.
//   key id        16 hex digits of SHA-256 over the raw public key, carried in `sig`,
//                 so a worker names the key an envelope was signed with when it lacks it.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs'

import { SwitchyardError } from '../control/index.js'

/** The env variable a worker reads its public keys from. */
export const VERIFY_KEYS_ENV = 'SWITCHYARD_VERIFY_KEYS'
/** The env variable naming the gateway's private key file (or --signing-key FILE). */
export const SIGNING_KEY_FILE_ENV = 'SWITCHYARD_SIGNING_KEY_FILE'

/** The gateway's private key, parsed once. */
export interface SigningKey {
  readonly id: string
  readonly privateKey: KeyObject
  /** The matching public key: raw 32 bytes in base64, as SWITCHYARD_VERIFY_KEYS lists it. */
  readonly publicKey: string
}

/** The public keys a worker accepts, by key id. */
export interface VerifyKeys {
  /** Key ids, in the order given. */
  readonly ids: readonly string[]
  get(id: string): KeyObject | undefined
  /** The SWITCHYARD_VERIFY_KEYS value that lists these keys. */
  toString(): string
}

/** The 32 raw bytes of an Ed25519 public key, in an SPKI DER prefix (RFC 8410). */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/g
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/

function invalid(message: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError('CONFIG_INVALID', message, cause === undefined ? {} : { cause })
}

/** 16 hex digits of SHA-256 over the raw public key. */
export function keyIdOf(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16)
}

function rawOf(publicKey: KeyObject): Buffer {
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return der.subarray(der.length - 32)
}

function publicFromRaw(raw: Buffer, source: string): KeyObject {
  if (raw.length !== 32) throw invalid(`${source}: an Ed25519 public key is 32 bytes, this one is ${raw.length}`)
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
}

function signingKeyOf(privateKey: KeyObject, source: string): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw invalid(`${source}: envelopes are signed with Ed25519; this is a ${privateKey.asymmetricKeyType ?? 'symmetric'} key`)
  }
  const raw = rawOf(createPublicKey(privateKey))
  return { id: keyIdOf(raw), privateKey, publicKey: raw.toString('base64') }
}

/**
 * A new random signing key (dev and start make one per session when given none).
 * @example const key = generateSigningKey(); env.SWITCHYARD_VERIFY_KEYS = key.publicKey
 */
export function generateSigningKey(): SigningKey {
  return signingKeyOf(generateKeyPairSync('ed25519').privateKey, 'a generated key')
}

/** Parse a PEM (PKCS#8) Ed25519 private key; `source` names it in errors. */
export function signingKeyFromPem(pem: string, source: string): SigningKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' })
  } catch (error) {
    throw invalid(`${source}: not a PEM private key (${(error as Error).message})`, error)
  }
  return signingKeyOf(privateKey, source)
}

/** The PEM (PKCS#8) text of a signing key, as a key file holds it. */
export function signingKeyPem(key: SigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/**
 * Read the gateway's private key file. `warning` is set when other users may read
 * it (mode beyond 0600): the key still loads, since a mounted secret is often 0644
 * inside a container, but whoever can read it can mint envelopes for every pool.
 */
export function readSigningKeyFile(path: string): { key: SigningKey; warning: string | null } {
  let text: string
  let mode: number
  try {
    const fd = openSync(path, 'r')
    try {
      mode = fstatSync(fd).mode
      text = readFileSync(fd, 'utf8')
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    throw invalid(`cannot read the signing key ${path}: ${(error as Error).message}`, error)
  }
  const key = signingKeyFromPem(text, `signing key ${path}`)
  const open = (mode & 0o077) !== 0
  const warning = open
    ? `signing key ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}): whoever reads it can mint envelopes for every pool; chmod 600 it`
    : null
  return { key, warning }
}

/** Write a signing key file, readable by its owner only; never over an existing file. */
export function writeSigningKeyFile(path: string, key: SigningKey): void {
  try {
    writeFileSync(path, signingKeyPem(key), { mode: 0o600, flag: 'wx' })
  } catch (error) {
    throw invalid(`cannot write the signing key ${path}: ${(error as Error).message}`, error)
  }
}

class KeyList implements VerifyKeys {
  readonly ids: readonly string[]
  readonly #keys: ReadonlyMap<string, KeyObject>
  readonly #raw: readonly string[]

  constructor(entries: readonly { id: string; key: KeyObject; raw: string }[]) {
    this.ids = entries.map((entry) => entry.id)
    this.#keys = new Map(entries.map((entry) => [entry.id, entry.key]))
    this.#raw = entries.map((entry) => entry.raw)
  }

  get(id: string): KeyObject | undefined {
    return this.#keys.get(id)
  }

  toString(): string {
    return this.#raw.join(',')
  }
}

/** The verify keys that accept envelopes signed by these signing keys (the first is the current one). */
export function verifyKeysFor(...keys: readonly SigningKey[]): VerifyKeys {
  return new KeyList(
    keys.map((key) => ({ id: key.id, key: publicFromRaw(Buffer.from(key.publicKey, 'base64'), 'a signing key'), raw: key.publicKey })),
  )
}

/**
 * Parse SWITCHYARD_VERIFY_KEYS: Ed25519 public keys separated by commas or whitespace,
 * each raw 32 bytes in base64 or base64url, or a PEM `PUBLIC KEY` block.
 * Throws CONFIG_INVALID naming the entry that is not a key; an empty list is an error too.
 *
 * @example parseVerifyKeys(process.env.SWITCHYARD_VERIFY_KEYS ?? '')
 */
export function parseVerifyKeys(text: string, source = VERIFY_KEYS_ENV): VerifyKeys {
  const entries: { id: string; key: KeyObject; raw: string }[] = []
  const add = (raw: Buffer, what: string) => {
    const key = publicFromRaw(raw, `${source}: ${what}`)
    const id = keyIdOf(raw)
    if (!entries.some((entry) => entry.id === id)) entries.push({ id, key, raw: raw.toString('base64') })
  }
  const rest = text.replace(PEM_BLOCK, (block: string, label: string) => {
    if (label !== 'PUBLIC KEY') throw invalid(`${source}: a ${label} block is not a public key (workers never hold a private key)`)
    let key: KeyObject
    try {
      key = createPublicKey({ key: block, format: 'pem' })
    } catch (error) {
      throw invalid(`${source}: a PUBLIC KEY block does not parse (${(error as Error).message})`, error)
    }
    if (key.asymmetricKeyType !== 'ed25519') throw invalid(`${source}: a ${key.asymmetricKeyType ?? 'unknown'} key is not an Ed25519 key`)
    add(rawOf(key), 'a PEM key')
    return ' '
  })
  rest
    .split(/[\s,]+/)
    .filter((item) => item !== '')
    .forEach((item, i) => {
      const shown = item.length > 12 ? `${item.slice(0, 12)}…` : item
      if (!BASE64.test(item)) throw invalid(`${source}: entry ${i + 1} ('${shown}') is not base64`)
      add(Buffer.from(item, item.includes('-') || item.includes('_') ? 'base64url' : 'base64'), `entry ${i + 1} ('${shown}')`)
    })
  if (entries.length === 0) throw invalid(`${source} lists no key`)
  return new KeyList(entries)
}
