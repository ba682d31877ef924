// One closed map of error codes (status, retryable, when), shared with other languages
// through spec/error-codes.json.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ERROR_CODES, SwitchyardError, isErrorCode } from '../../../src/control/index.js'
import { errorCodesSpec } from '../../../scripts/spec.js'

void test('spec/error-codes.json is the map in src/control (npm run spec rewrites it)', () => {
  const onDisk = readFileSync(new URL('../../../spec/error-codes.json', import.meta.url), 'utf8')
  assert.equal(onDisk, errorCodesSpec())
})

void test('every code has a status a response can carry and a one-line reason', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[A-Z][A-Z_]+$/)
    assert.ok(info.status === 0 || (info.status >= 400 && info.status < 600), `${code}: status ${info.status}`)
    assert.ok(info.when.length > 10 && !info.when.includes('\n'), `${code}: when`)
  }
})

void test('an error keeps a known code and its default retryability; an unknown code becomes the fallback', () => {
  assert.equal(new SwitchyardError('POOL_SATURATED', 'full').retryable, true)
  assert.equal(new SwitchyardError('INVALID_INPUT', 'bad').retryable, false)
  assert.equal(new SwitchyardError('GRAPH_FAILED', 'x', { retryable: false }).retryable, false)
  const known = SwitchyardError.from(Object.assign(new Error('gone'), { code: 'BROKER_UNAVAILABLE' }))
  assert.equal(known.code, 'BROKER_UNAVAILABLE')
  // A system error's code is not one of ours: it must not leak through as a code (it used to).
  const system = SwitchyardError.from(
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }),
    'BROKER_UNAVAILABLE',
  )
  assert.equal(system.code, 'BROKER_UNAVAILABLE')
  assert.equal(system.message, 'connect ECONNREFUSED 127.0.0.1:6379')
  const plain = SwitchyardError.from({ code: 'SOMETHING_ELSE', message: 'from another process', retryable: true }, 'GRAPH_FAILED')
  assert.deepEqual(plain.toJSON(), { code: 'GRAPH_FAILED', message: 'from another process', retryable: true })
  assert.equal(isErrorCode('UNKNOWN_RUN'), true)
  assert.equal(isErrorCode('toString'), false)
  assert.equal(isErrorCode(undefined), false)
})
