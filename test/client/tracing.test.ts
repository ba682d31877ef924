// With an SDK registered by the host: the client's span is the parent of the
// gateway's, and the whole run (client → gateway → worker) is one trace.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { SpanKind, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createClient } from '../../src/client/index.js'
import { initTracing, type Tracing } from '../../src/observe/index.js'
import { startFixture, type Fixture } from '../gateway/fixture.js'

const exporter = new InMemorySpanExporter()
let tracing: Tracing
let fx: Fixture
before(async () => {
  tracing = initTracing({ service: 'host-app', env: {}, exporter })
  fx = await startFixture()
})
after(async () => {
  await fx.close()
  await tracing.shutdown()
})

function byName(list: ReadableSpan[], name: string): ReadableSpan {
  const span = list.find((s) => s.name === name)
  assert.ok(span, `no span '${name}' among ${list.map((s) => s.name).join(', ')}`)
  return span
}

void test('client run → gateway request → route/enqueue → worker run: one trace, connected', async () => {
  exporter.reset()
  const client = createClient({ url: fx.url })
  const output = await trace.getTracer('host-app').startActiveSpan('handle lead', async (span) => {
    try {
      return await client.run('echo.say', { text: 'traced' })
    } finally {
      span.end()
    }
  })
  assert.deepEqual(output, { said: 'traced' })
  await tracing.forceFlush()
  const spans = exporter.getFinishedSpans()
  const host = byName(spans, 'handle lead')
  const clientSpan = byName(spans, 'client run echo.say')
  const request = byName(spans, 'POST /v1/workflows/{name}/run')
  const enqueue = byName(spans, 'enqueue email')
  const run = byName(spans, 'run echo.say')
  assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1)
  assert.equal(clientSpan.kind, SpanKind.CLIENT)
  assert.equal(clientSpan.parentSpanContext?.spanId, host.spanContext().spanId)
  assert.equal(request.parentSpanContext?.spanId, clientSpan.spanContext().spanId)
  assert.equal(run.parentSpanContext?.spanId, enqueue.spanContext().spanId)
  assert.equal(clientSpan.attributes['http.response.status_code'], 200)
  assert.equal(clientSpan.attributes['switchyard.run_id'], enqueue.attributes['switchyard.run_id'])
})

void test('a failed run marks the client span with the error code', async () => {
  exporter.reset()
  const client = createClient({ url: fx.url })
  await assert.rejects(client.run('echo.fail', {}), { code: 'GRAPH_FAILED', status: 502 })
  await tracing.forceFlush()
  const clientSpan = byName(exporter.getFinishedSpans(), 'client run echo.fail')
  assert.equal(clientSpan.attributes['switchyard.error.code'], 'GRAPH_FAILED')
  assert.equal(clientSpan.status.message, 'GRAPH_FAILED: the lead has no e-mail address')
})
