// Where `dev`, `start`, `gateway` and `worker` get their envelope keys (DESIGN §2.4):
// the gateway reads an Ed25519 private key file (--signing-key FILE or
// SWITCHYARD_SIGNING_KEY_FILE); `dev` and `start` make one for the session when given
// none; a worker reads only public keys (SWITCHYARD_VERIFY_KEYS). The HMAC secret of
// the first version (SWITCHYARD_SIGNING_KEY, shared with every pool) is refused loudly
// rather than ignored, so nobody believes it still protects anything.
import { resolve } from 'node:path'

import {
  SIGNING_KEY_FILE_ENV,
  VERIFY_KEYS_ENV,
  generateSigningKey,
  parseVerifyKeys,
  readSigningKeyFile,
  type SigningKey,
  type VerifyKeys,
} from '../data/index.js'

export const SIGNING_KEY_OPTION = { 'signing-key': { type: 'string' } } as const

const LEGACY = 'SWITCHYARD_SIGNING_KEY'

/** Throws when the env still sets the HMAC secret of the first envelope version. */
export function refuseLegacyKey(env: NodeJS.ProcessEnv): void {
  if (!env[LEGACY]) return
  throw new Error(
    `${LEGACY} (an HMAC secret every pool held, so any graph could sign) is no longer read: the gateway signs ` +
      `with an Ed25519 private key file (--signing-key FILE or ${SIGNING_KEY_FILE_ENV}) and workers verify with ` +
      `${VERIFY_KEYS_ENV} (public keys only). 'switchyard keys generate --out FILE' makes a pair; unset ${LEGACY}.`,
  )
}

export interface ResolvedSigningKey {
  readonly key: SigningKey
  /** Lines the command prints: where the key came from, and any warning. */
  readonly notes: readonly string[]
}

/**
 * The gateway's signing key: --signing-key FILE, else SWITCHYARD_SIGNING_KEY_FILE, else
 * (`ephemeral`: dev and start) a key made for this session; without one a standalone
 * gateway refuses to start, since its workers could verify nothing.
 */
export function resolveSigningKey(options: { flag: string | undefined; env: NodeJS.ProcessEnv; ephemeral: boolean }): ResolvedSigningKey {
  refuseLegacyKey(options.env)
  const path = options.flag ?? (options.env[SIGNING_KEY_FILE_ENV] || undefined)
  if (path !== undefined) {
    const { key, warning } = readSigningKeyFile(resolve(path))
    return { key, notes: [`envelopes signed with ${resolve(path)} (key ${key.id})`, ...(warning ? [`WARNING: ${warning}`] : [])] }
  }
  if (!options.ephemeral) {
    throw new Error(
      `no signing key: pass --signing-key FILE or set ${SIGNING_KEY_FILE_ENV} (an Ed25519 private key in PEM; ` +
        `'switchyard keys generate --out FILE' makes one and prints the public key its workers need in ${VERIFY_KEYS_ENV})`,
    )
  }
  const key = generateSigningKey()
  return {
    key,
    notes: [
      `envelopes signed with a key made for this session (key ${key.id}); its workers verify with ${VERIFY_KEYS_ENV}=${key.publicKey}`,
      `(workers started elsewhere need that public key; --signing-key FILE keeps one key across restarts: see 'switchyard keys')`,
    ],
  }
}

/** A worker's public keys from SWITCHYARD_VERIFY_KEYS; without them it refuses to start (it could verify nothing). */
export function resolveVerifyKeys(env: NodeJS.ProcessEnv): VerifyKeys {
  refuseLegacyKey(env)
  const text = env[VERIFY_KEYS_ENV]
  if (!text?.trim()) {
    throw new Error(
      `${VERIFY_KEYS_ENV} is not set: a worker runs only envelopes signed by the gateway, so it needs the gateway's ` +
        `public key(s) (comma-separated; 'switchyard keys public --signing-key FILE' prints one)`,
    )
  }
  return parseVerifyKeys(text)
}
