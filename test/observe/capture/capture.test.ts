import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpanStatusCode } from '@opentelemetry/api'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { ATTR, GENAI } from '../../../src/control/index.js'
import type { Pool } from '../../../src/control/index.js'
import { captureByPool, captureValue, initTracing, redactText, secretScrubber } from '../../../src/observe/index.js'

const lead = {
  name: 'Ada Lovelace',
  email: 'ada.lovelace@analytical.example',
  phone: '+1 415-555-2671',
  notes: 'call (415) 555-2671 or mail ada@example.org',
  apiKey: 'sk-123',
}
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

void test('the exporter applies the pool capture mode to every attribute, event and error message it ships', async () => {
  const shipped = async (capture: 'full' | 'redacted' | 'none') => {
    const exporter = new InMemorySpanExporter()
    const tracing = initTracing({
      service: 'switchyard-pool-email',
      env: {},
      exporter,
      register: false,
      tracing: { project: 'p', sampleRate: 1, ...config(capture) },
    })
    const span = tracing.tracerProvider
      .getTracer('t')
      .startSpan('node draft', { attributes: { [ATTR.input]: JSON.stringify(lead), 'lead.email': lead.email, apiKey: 'sk-123' } })
    span.addEvent('note', { text: 'mail ada@example.org' })
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'bounced: ada.lovelace@analytical.example' })
    span.end()
    await tracing.forceFlush()
    const [out] = exporter.getFinishedSpans()
    await tracing.shutdown()
    return out
  }
  const full = await shipped('full')
  assert.equal(full?.attributes['lead.email'], lead.email)
  const redacted = await shipped('redacted')
  assert.equal(redacted?.attributes['lead.email'], '[email]')
  assert.equal(redacted?.attributes.apiKey, '[redacted]')
  assert.equal(redacted?.events[0]?.attributes?.text, 'mail [email]')
  assert.equal(redacted?.status.message, 'bounced: [email]')
  assert.ok(!JSON.stringify(redacted?.attributes).includes('analytical.example'))
  assert.match(redacted?.spanContext().traceId ?? '', /^[0-9a-f]{32}$/, 'the masked view still answers spanContext()')
  const none = await shipped('none')
  assert.equal(none?.attributes[ATTR.input], undefined)
})

void test('the gateway redacts per span, by the pool the span belongs to', async () => {
  const pool = (name: string, capture: 'full' | 'redacted') =>
    ({ name, tracing: { project: `sales-${name}`, sampleRate: 1, capture, redact: [] } }) as unknown as Pool
  const exporter = new InMemorySpanExporter()
  const tracing = initTracing({
    service: 'switchyard-gateway',
    env: {},
    exporter,
    register: false,
    tracing: captureByPool([pool('classify', 'redacted'), pool('email', 'full')]),
  })
  const tracer = tracing.tracerProvider.getTracer('t')
  const note = 'lead ada@example.org'
  tracer.startSpan('route lead.classify', { attributes: { [ATTR.pool]: 'classify', note } }).end()
  tracer.startSpan('enqueue classify', { attributes: { [ATTR.project]: 'sales-classify', note } }).end()
  tracer.startSpan('route email.compose', { attributes: { [ATTR.pool]: 'email', note } }).end()
  tracer.startSpan('GET /healthz', { attributes: { note } }).end()
  await tracing.forceFlush()
  const notes = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s.attributes.note]))
  await tracing.shutdown()
  assert.deepEqual(notes, {
    'route lead.classify': 'lead [email]',
    'enqueue classify': 'lead [email]',
    'route email.compose': note,
    'GET /healthz': note,
  })
})

void test('the exporter masks the pool’s keys at any depth inside recorded JSON, and scrubs secrets in every mode', async () => {
  const shipped = async (capture: 'full' | 'redacted' | 'none', recorded: string) => {
    const exporter = new InMemorySpanExporter()
    const tracing = initTracing({
      service: 'switchyard-pool-email',
      env: {},
      exporter,
      register: false,
      tracing: { project: 'p', sampleRate: 1, capture, redact: ['ssn'] },
      secrets: secretScrubber({ PROVIDER_API_KEY: 'sk-live-123456' }),
    })
    const span = tracing.tracerProvider.getTracer('t').startSpan('node draft', {
      attributes: { [ATTR.input]: recorded, [GENAI.outputMessages]: recorded, note: 'key sk-live-123456 used' },
    })
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'bad key sk-live-123456' })
    span.end()
    await tracing.forceFlush()
    const [out] = exporter.getFinishedSpans()
    await tracing.shutdown()
    return out
  }
  // A node span's input (recorded as is, masked by the exporter): the key three levels down.
  const nested = JSON.stringify({ lead: { profile: { SSN: '078-05-1120', city: 'Oslo' } }, key: 'sk-live-123456' })
  const redacted = await shipped('redacted', nested)
  assert.deepEqual(JSON.parse(String(redacted?.attributes[ATTR.input])), {
    lead: { profile: { SSN: '[redacted]', city: 'Oslo' } },
    key: '[secret]',
  })
  assert.equal(redacted?.attributes[GENAI.outputMessages], redacted?.attributes[ATTR.input])
  // Cut at the capture limit, it no longer parses: masked whole when it names a key.
  const cut = `${nested.slice(0, 30)}…[99 more]`
  assert.equal((await shipped('redacted', cut))?.attributes[ATTR.input], '[redacted]')
  for (const capture of ['full', 'redacted', 'none'] as const) {
    const out = await shipped(capture, nested)
    assert.ok(!JSON.stringify([out?.attributes, out?.status]).includes('sk-live-123456'), capture)
    assert.equal(out?.attributes.note, 'key [secret] used')
    assert.equal(out?.status.message, 'bad key [secret]')
  }
})
