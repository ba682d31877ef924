// The envelope against the language-neutral vectors in spec/vectors and the
// JSON Schema in spec/envelope.schema.json (the Python worker reads the same files).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import { Ajv2020 } from 'ajv/dist/2020.js'

import { SwitchyardError, canonicalJson } from '../../src/control/index.js'
import type { RoutePlan } from '../../src/control/index.js'
import {
  canonicalEnvelope,
  createEnvelope,
  envelopeTraceId,
  idempotencyFingerprint,
  generateSigningKey,
  parseEnvelope,
  parseVerifyKeys,
  signEnvelope,
  signingKeyFromPem,
  verifyEnvelope,
  verifyKeysFor,
  type Envelope,
} from '../../src/data/index.js'

const spec = new URL('../../spec/', import.meta.url)
const read = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, spec), 'utf8')) as T

const valid = read<{ description: string; envelope: Envelope }[]>('vectors/valid.json')
const invalid = read<{ description: string; envelope: unknown; error: string; schemaValid?: boolean }[]>('vectors/invalid.json')
const signed = read<{ description: string; key: string; canonical: string; envelope: Envelope }[]>('vectors/signed.json')
const tampered = read<{ description: string; envelope: unknown; error: string }[]>('vectors/tampered.json')
interface VectorKey {
  keyId: string
  publicKey: string
  publicKeyPem: string
  privateKeyPem: string
}
const keys = read<{ keys: Record<string, VectorKey>; verifyKeys: string }>('vectors/keys.json')
const verifyKeys = parseVerifyKeys(keys.verifyKeys)
const privateKey = (name: string) => signingKeyFromPem(keys.keys[name]?.privateKeyPem ?? '', `vector key ${name}`)
const canonical = read<{ value: unknown; canonical: string }[]>('vectors/canonical.json')

const ajv = new Ajv2020({ allErrors: true, strict: true })
const schemaValid = ajv.compile(read<object>('envelope.schema.json'))

function refusal(fn: () => unknown): SwitchyardError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof SwitchyardError, `expected a SwitchyardError, got ${String(error)}`)
    return error
  }
  assert.fail('expected the envelope to be refused')
}

void describe('envelope vectors', () => {
  for (const v of valid) {
    void test(`valid: ${v.description}`, () => {
      assert.deepEqual(verifyEnvelope(v.envelope, null), v.envelope)
      assert.equal(schemaValid(v.envelope), true, JSON.stringify(schemaValid.errors))
    })
  }
  for (const v of invalid) {
    void test(`invalid: ${v.description}`, () => {
      const error = refusal(() => verifyEnvelope(v.envelope, null))
      assert.equal(error.code, 'INVALID_ENVELOPE')
      assert.equal(error.retryable, false)
      assert.ok(error.message.includes(v.error), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(v.error)}`)
      assert.equal(schemaValid(v.envelope), v.schemaValid === true)
    })
  }
  for (const v of signed) {
    void test(`signed: ${v.description}`, () => {
      assert.equal(canonicalEnvelope(v.envelope), v.canonical)
      assert.equal(signEnvelope({ ...v.envelope, sig: '' }, privateKey(v.key)).sig, v.envelope.sig)
      assert.deepEqual(verifyEnvelope(v.envelope, verifyKeys), v.envelope)
      assert.equal(schemaValid(v.envelope), true)
    })
  }
  for (const v of tampered) {
    void test(`tampered: ${v.description}`, () => {
      const error = refusal(() => verifyEnvelope(v.envelope, verifyKeys))
      assert.equal(error.code, 'INVALID_ENVELOPE')
      assert.ok(error.message.includes(v.error), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(v.error)}`)
    })
  }
  void test('keys: ids and public keys as keys.json states them; the verify list is current and previous', () => {
    for (const [name, key] of Object.entries(keys.keys)) {
      const parsed = privateKey(name)
      assert.equal(parsed.id, key.keyId)
      assert.equal(parsed.publicKey, key.publicKey)
      assert.deepEqual(parseVerifyKeys(key.publicKeyPem).ids, [key.keyId], 'a PEM public key parses to the same key')
    }
    assert.deepEqual(verifyKeys.ids, [keys.keys.current?.keyId, keys.keys.previous?.keyId])
  })
  void test('canonical JSON', () => {
    for (const v of canonical) assert.equal(canonicalJson(v.value), v.canonical)
  })
})

void describe('envelope functions', () => {
  const plan: RoutePlan = {
    workflow: 'lead.classify',
    pool: 'classify',
    queue: 'switchyard.classify',
    runtime: 'node',
    graph: 'workflows/classify/graph.ts#graph',
    prompt: null,
    input: { country: 'Deutschland' },
    timeoutMs: 20_000,
    deadline: '2026-11-24T09:00:20.000Z',
    retry: { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
    tracing: { project: 'sales-classify', sampleRate: 1, capture: 'full', redact: [] },
    registry: `sha256:${'0'.repeat(64)}`,
  }
  const trace = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: '', baggage: '' }

  void test('createEnvelope: attempt 1, maxAttempts from the plan, signed when a key is given', () => {
    const unsigned = createEnvelope(plan, { runId: 'r1', trace, idempotencyKey: null }, null)
    assert.equal(unsigned.sig, '')
    assert.equal(unsigned.attempt, 1)
    assert.equal(unsigned.maxAttempts, 3)
    assert.equal(envelopeTraceId(unsigned), '4bf92f3577b34da6a3ce929d0e0e4736')
    const key = generateSigningKey()
    const withKey = createEnvelope(plan, { runId: 'r1', trace, idempotencyKey: 'k' }, key)
    assert.match(withKey.sig, new RegExp(`^ed25519:${key.id}:[A-Za-z0-9_-]{86}$`))
    assert.deepEqual(verifyEnvelope(JSON.parse(JSON.stringify(withKey)), verifyKeysFor(key)), withKey)
    const other = generateSigningKey()
    assert.match(
      refusal(() => verifyEnvelope(withKey, verifyKeysFor(other))).message,
      new RegExp(`signed by key ${key.id}, which is not one`),
    )
    // Rotation: a worker listing the new key and the old one accepts both.
    assert.deepEqual(verifyEnvelope(withKey, verifyKeysFor(other, key)), withKey)
  })

  void test('SWITCHYARD_VERIFY_KEYS: commas or whitespace, base64 or base64url, PEM; anything else is CONFIG_INVALID', () => {
    const [a, b] = [generateSigningKey(), generateSigningKey()]
    const url = Buffer.from(b.publicKey, 'base64').toString('base64url')
    assert.deepEqual(parseVerifyKeys(` ${a.publicKey},\n${url} `).ids, [a.id, b.id])
    assert.deepEqual(parseVerifyKeys(`${a.publicKey} ${a.publicKey}`).ids, [a.id], 'a key listed twice counts once')
    const fails = (text: string, pattern: RegExp) => {
      try {
        parseVerifyKeys(text)
      } catch (error) {
        assert.ok(error instanceof SwitchyardError)
        assert.equal(error.code, 'CONFIG_INVALID')
        assert.match(error.message, pattern)
        return
      }
      assert.fail(`${JSON.stringify(text)} was accepted`)
    }
    fails('', /lists no key/)
    fails('not-a-key!', /entry 1 \('not-a-key!'\) is not base64/)
    fails(Buffer.alloc(31).toString('base64'), /32 bytes, this one is 31/)
    fails(keys.keys.current?.privateKeyPem ?? '', /PRIVATE KEY block is not a public key/)
  })

  void test('parseEnvelope names JSON syntax errors', () => {
    const error = refusal(() => parseEnvelope('{"v":1,', null))
    assert.equal(error.code, 'INVALID_ENVELOPE')
    assert.match(error.message, /^invalid envelope: not JSON/)
  })

  void test('the idempotency fingerprint follows workflow and input, not key order', () => {
    const a = createEnvelope({ ...plan, input: { a: 1, b: 2 } }, { runId: 'r1', trace, idempotencyKey: 'k' }, null)
    const b = createEnvelope({ ...plan, input: { b: 2, a: 1 } }, { runId: 'r2', trace, idempotencyKey: 'k' }, null)
    const c = createEnvelope({ ...plan, input: { a: 1, b: 3 } }, { runId: 'r3', trace, idempotencyKey: 'k' }, null)
    assert.equal(idempotencyFingerprint(a), idempotencyFingerprint(b))
    assert.notEqual(idempotencyFingerprint(a), idempotencyFingerprint(c))
  })
})
