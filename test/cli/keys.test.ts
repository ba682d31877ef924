// The envelope keys at the CLI: `switchyard keys` makes a pair for separately deployed
// gateways and workers; a gateway without a private key, a worker without public
// keys, and the old shared HMAC secret are each refused with a message saying what to do.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, test } from 'node:test'

import {
  createEnvelope,
  generateSigningKey,
  parseVerifyKeys,
  readSigningKeyFile,
  signingKeyPem,
  verifyEnvelope,
} from '../../src/data/index.js'
import { FIXTURE_REGISTRY } from '../data/worker/worker-helpers.js'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')
const ENTRY = `const { main } = await import(${JSON.stringify(MAIN)}); await main(process.argv.slice(1))`
const dir = mkdtempSync(join(tmpdir(), 'switchyard-keys-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWITCHYARD_TOKENS: 'a-token', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

void test('keys generate writes a 0600 private key and prints its public key; keys public prints it again; no overwrite', () => {
  const file = join(dir, 'gateway.key')
  const made = cli(['keys', 'generate', '--out', file])
  assert.equal(made.code, 0, made.stderr)
  assert.equal(statSync(file).mode & 0o777, 0o600)
  assert.match(readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/)
  const { key, warning } = readSigningKeyFile(file)
  assert.equal(warning, null)
  assert.equal(made.stdout, `SWITCHYARD_VERIFY_KEYS=${key.publicKey}\n`)
  assert.match(made.stderr, new RegExp(`Ed25519 private key ${key.id}, mode 0600\\): give it to the gateway only`))

  // What a worker is given verifies what the gateway signs with the file.
  const verify = parseVerifyKeys(made.stdout.slice('SWITCHYARD_VERIFY_KEYS='.length))
  const plan = {
    workflow: 'work.echo',
    pool: 'work',
    graph: 'graphs.ts#echo',
    input: {},
    registry: `sha256:${'0'.repeat(64)}`,
    deadline: new Date(Date.now() + 60_000).toISOString(),
    retry: { maxAttempts: 1 },
  } as unknown as Parameters<typeof createEnvelope>[0]
  const envelope = createEnvelope(plan, { runId: 'k1', trace: { traceparent: '', tracestate: '', baggage: '' }, idempotencyKey: null }, key)
  assert.deepEqual(verifyEnvelope(envelope, verify), envelope)

  assert.deepEqual(cli(['keys', 'public', '--signing-key', file]).stdout, made.stdout)
  assert.equal(cli(['keys', 'public'], { SWITCHYARD_SIGNING_KEY_FILE: file }).stdout, made.stdout)
  const again = cli(['keys', 'generate', '--out', file])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /cannot write the signing key .*EEXIST/)
  assert.equal(readSigningKeyFile(file).key.id, key.id, 'the existing key is untouched')
})

void test('a signing key other users can read loads, with a warning naming the fix', () => {
  const file = join(dir, 'open.key')
  assert.equal(cli(['keys', 'generate', '--out', file]).code, 0)
  chmodSync(file, 0o644)
  const shown = cli(['keys', 'public', '--signing-key', file])
  assert.equal(shown.code, 0)
  assert.match(shown.stderr, /readable by other users \(mode 644\): whoever reads it can mint envelopes for every pool; chmod 600 it/)
})

void test('a gateway without a private key refuses to start and says how to make one', () => {
  const refused = cli(['gateway', '--redis', 'redis://127.0.0.1:1', '--config', FIXTURE_REGISTRY])
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /^switchyard gateway: no signing key: pass --signing-key FILE or set SWITCHYARD_SIGNING_KEY_FILE/)
  assert.match(refused.stderr, /'switchyard keys generate --out FILE' makes one/)
  const notAKey = join(dir, 'not-a-key')
  const garbage = cli(['gateway', '--redis', 'redis://127.0.0.1:1', '--config', FIXTURE_REGISTRY, '--signing-key', notAKey])
  assert.match(garbage.stderr, /cannot read the signing key .*not-a-key: ENOENT/)
})

void test('the shared HMAC secret of the first version is refused by gateway and worker alike', () => {
  for (const args of [
    ['gateway', '--redis', 'redis://127.0.0.1:1', '--config', FIXTURE_REGISTRY],
    ['worker', '--pool', 'work', '--redis', 'redis://127.0.0.1:1', '--config', FIXTURE_REGISTRY],
  ]) {
    const refused = cli(args, { SWITCHYARD_SIGNING_KEY: 'shared-secret' })
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /SWITCHYARD_SIGNING_KEY \(an HMAC secret every pool held, so any graph could sign\) is no longer read/)
  }
})

void test('a worker without SWITCHYARD_VERIFY_KEYS, or with a private key in it, refuses to start', () => {
  const args = ['worker', '--pool', 'work', '--redis', 'redis://127.0.0.1:1', '--config', FIXTURE_REGISTRY]
  const missing = cli(args)
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /^switchyard worker: SWITCHYARD_VERIFY_KEYS is not set: a worker runs only envelopes signed by the gateway/)
  const secret = cli(args, { SWITCHYARD_VERIFY_KEYS: signingKeyPem(generateSigningKey()) })
  assert.equal(secret.code, 1)
  assert.match(secret.stderr, /a PRIVATE KEY block is not a public key \(workers never hold a private key\)/)
})
