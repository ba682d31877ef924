// Span attribute names, shared with other languages through spec/attributes.json: the file
// must be what src/control says, or the Python worker's names drift from the gateway's.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ATTR, GENAI } from '../../../src/control/index.js'
import { attributesSpec } from '../../../scripts/spec.js'

void test('spec/attributes.json is the names in src/control (npm run spec rewrites it)', () => {
  const onDisk = readFileSync(new URL('../../../spec/attributes.json', import.meta.url), 'utf8')
  assert.equal(onDisk, attributesSpec())
})

void test('every name lives in its namespace and none is given twice', () => {
  const names = [...Object.values(ATTR), ...Object.values(GENAI)]
  assert.equal(new Set(names).size, names.length)
  for (const name of Object.values(ATTR)) assert.match(name, /^switchyard\.[a-z_.]+$/)
  for (const name of Object.values(GENAI)) assert.match(name, /^gen_ai\.[a-z_.]+$/)
})
