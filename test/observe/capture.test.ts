import { test } from 'node:test'
import assert from 'node:assert/strict'
import { captureValue, redactText } from '../../src/observe/index.js'

const lead = { name: 'Ada Lovelace', email: 'ada.lovelace@analytical.example', phone: '+1 415-555-2671', notes: 'call (415) 555-2671 or mail ada@example.org', apiKey: 'sk-123' }
const config = (capture: 'full' | 'redacted' | 'none') => ({ capture, redact: ['apiKey'] })

void test('full records the value as JSON', () => {
  assert.equal(captureValue(lead, config('full')), JSON.stringify(lead))
})

void test('redacted masks e-mail addresses, phone numbers and the configured keys', () => {
  const recorded = captureValue(lead, config('redacted'))
  assert.equal(
    recorded,
    '{"name":"Ada Lovelace","email":"[email]","phone":"[phone]","notes":"call [phone] or mail [email]","apiKey":"[redacted]"}',
  )
})

void test('redacted leaves dates, ids and short numbers alone', () => {
  assert.equal(redactText('run 2026-11-24T07:04:40Z took 1234 ms, id 42'), 'run 2026-11-24T07:04:40Z took 1234 ms, id 42')
})

void test('none records nothing', () => {
  assert.equal(captureValue(lead, config('none')), undefined)
})
