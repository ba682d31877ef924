// `switchyard keys`: the envelope key pair for deployments where the gateway and the
// pools' workers start apart (`switchyard gateway`, `switchyard worker`, k8s).
//   generate --out FILE        a new Ed25519 private key, mode 0600, never over an existing file
//   public --signing-key FILE  the public key workers list in SWITCHYARD_VERIFY_KEYS
// Rotation: add the new public key to every worker's SWITCHYARD_VERIFY_KEYS (new,old),
// switch the gateway to the new private key, then drop the old public key once the
// runs it signed have passed their deadlines.
import { resolve } from 'node:path'

import { SIGNING_KEY_FILE_ENV, VERIFY_KEYS_ENV, generateSigningKey, readSigningKeyFile, writeSigningKeyFile } from '../data/index.js'
import { parse, str } from './args.js'
import { SIGNING_KEY_OPTION } from './signing-key.js'

const USAGE = `usage: switchyard keys generate --out FILE
       switchyard keys public [--signing-key FILE]

Envelope keys (Ed25519): the gateway signs every run with its private key; pool
workers hold only public keys (${VERIFY_KEYS_ENV}), so they can verify but never mint.
  generate --out FILE        write a new private key (PEM, mode 0600; refuses to overwrite)
                             and print the public key for ${VERIFY_KEYS_ENV}
  public --signing-key FILE  print the public key of a private key file
                             (default ${SIGNING_KEY_FILE_ENV})
Give the gateway the private key (--signing-key FILE or ${SIGNING_KEY_FILE_ENV}) and every
worker the public key. To rotate, list both public keys (new first, comma-separated)
on the workers, switch the gateway to the new key, then drop the old one.`

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { out: { type: 'string' }, ...SIGNING_KEY_OPTION }, true)
  const [action, ...extra] = parsed.positionals
  if (parsed.values.help) {
    console.log(USAGE)
    return 0
  }
  if (extra.length > 0) throw new Error(`unexpected argument '${extra[0]}'\n\n${USAGE}`)
  if (action === 'generate') {
    const out = str(parsed, 'out')
    if (!out) throw new Error(`keys generate needs --out FILE\n\n${USAGE}`)
    const key = generateSigningKey()
    writeSigningKeyFile(resolve(out), key)
    console.error(`wrote ${resolve(out)} (Ed25519 private key ${key.id}, mode 0600): give it to the gateway only`)
    console.log(`${VERIFY_KEYS_ENV}=${key.publicKey}`)
    return 0
  }
  if (action === 'public') {
    const path = str(parsed, 'signing-key') ?? (process.env[SIGNING_KEY_FILE_ENV] || undefined)
    if (!path) throw new Error(`keys public needs --signing-key FILE (or ${SIGNING_KEY_FILE_ENV})\n\n${USAGE}`)
    const { key, warning } = readSigningKeyFile(resolve(path))
    if (warning) console.error(`WARNING: ${warning}`)
    console.log(`${VERIFY_KEYS_ENV}=${key.publicKey}`)
    return 0
  }
  throw new Error(`${action === undefined ? 'missing action' : `unknown action '${action}'`}: generate or public\n\n${USAGE}`)
}
