// spec/vectors/redaction.json: what `capture: redacted` masks and which secrets are
// scrubbed in every mode, the same in TypeScript as in Python (python/tests/test_capture.py).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { MASK, redactText, redactValue, secretNames, secretScrubber } from '../../../src/observe/capture/index.js'

interface Vectors {
  masks: Record<string, string>
  text: { description: string; in: string; out: string }[]
  value: { description: string; keys: string[]; in: unknown; out: unknown }[]
  secrets: { env: Record<string, string>; names: string[]; secret: string[]; text: { description: string; in: string; out: string }[] }
}
const vectors = JSON.parse(readFileSync(new URL('../../../spec/vectors/redaction.json', import.meta.url), 'utf8')) as Vectors

void test('the masks are the vectors’ masks', () => {
  assert.deepEqual({ ...MASK }, vectors.masks)
})

for (const c of vectors.text) {
  void test(`text: ${c.description}`, () => assert.equal(redactText(c.in), c.out))
}

for (const c of vectors.value) {
  void test(`value: ${c.description}`, () => assert.deepEqual(redactValue(c.in, c.keys), c.out))
}

void test('secrets: which env variables are secrets', () => {
  assert.deepEqual(secretNames(vectors.secrets.env, vectors.secrets.names), vectors.secrets.secret)
})

const scrub = secretScrubber(vectors.secrets.env, vectors.secrets.names)
for (const c of vectors.secrets.text) {
  void test(`secrets: ${c.description}`, () => assert.equal(scrub(c.in), c.out))
}
