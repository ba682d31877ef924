// The gateway's spans, recorded by the real SDK setup (src/observe initTracing with
// an in-memory exporter): request → route → enqueue → the worker's run span, one
// trace id; the caller's traceparent continued; the pool's rate decides once.
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { SpanKind } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { initTracing, type Tracing } from '../../src/observe/index.js'
import { post, startFixture, type Fixture } from './fixture.js'

const exporter = new InMemorySpanExporter()
let tracing: Tracing
let fx: Fixture
before(async () => {
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter })
  fx = await startFixture()
})
after(async () => {
  await fx.close()
  await tracing.shutdown()
})
beforeEach(() => exporter.reset())

async function spans(): Promise<ReadableSpan[]> {
  await tracing.forceFlush()
  return exporter.getFinishedSpans()
}

function byName(list: ReadableSpan[], name: string): ReadableSpan {
  const span = list.find((s) => s.name === name)
  assert.ok(span, `no span '${name}' among ${list.map((s) => s.name).join(', ')}`)
  return span
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

void test('no traceparent: one trace rooted at the gateway, request → route → enqueue → run', async () => {
  const res = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'hi' })
  assert.equal(res.status, 200)
  const traceId = res.headers.get('x-switchyard-trace-id')
  const all = await spans()
  assert.deepEqual(new Set(all.map((s) => s.spanContext().traceId)), new Set([traceId]))
  const request = byName(all, 'POST /v1/workflows/{name}/run')
  const route = byName(all, 'route echo.say')
  const enqueue = byName(all, 'enqueue email')
  const run = byName(all, 'run echo.say')
  assert.equal(request.parentSpanContext, undefined)
  assert.equal(request.kind, SpanKind.SERVER)
  assert.equal(parentOf(route), request.spanContext().spanId)
  assert.equal(parentOf(enqueue), request.spanContext().spanId)
  assert.equal(enqueue.kind, SpanKind.PRODUCER)
  assert.equal(parentOf(run), enqueue.spanContext().spanId)
  assert.equal(run.kind, SpanKind.CONSUMER)
  assert.deepEqual(
    [request.attributes['switchyard.pool'], request.attributes['switchyard.project'], request.attributes['switchyard.sample_rate']],
    ['email', 'sales-email', 1],
  )
  assert.equal(request.attributes['http.response.status_code'], 200)
  assert.equal(enqueue.attributes['switchyard.run_id'], res.headers.get('x-switchyard-run-id'))
  // The request span is back-dated to arrival: it starts before routing and ends after the run.
  assert.ok(request.startTime[0] * 1e9 + request.startTime[1] <= route.startTime[0] * 1e9 + route.startTime[1])
})

void test("a caller's sampled traceparent is continued, not replaced", async () => {
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736'
  const res = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'hi' }, { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` })
  assert.equal(res.headers.get('x-switchyard-trace-id'), callerTrace)
  const all = await spans()
  const request = byName(all, 'POST /v1/workflows/{name}/run')
  assert.equal(request.spanContext().traceId, callerTrace)
  assert.equal(parentOf(request), '00f067aa0ba902b7')
  assert.equal(byName(all, 'run echo.say').spanContext().traceId, callerTrace)
})

void test('a caller that marked its trace unsampled: nothing is kept, the trace id still comes back', async () => {
  const callerTrace = '0af7651916cd43dd8448eb211c80319c'
  const res = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'hi' }, { traceparent: `00-${callerTrace}-b7ad6b7169203331-00` })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-switchyard-trace-id'), callerTrace)
  assert.deepEqual(await spans(), [])
})

void test('a pool at sampleRate 0 keeps no span of its runs, even under a sampled caller, yet reports the trace id', async () => {
  const callerTrace = 'aaf7651916cd43dd8448eb211c80319c'
  const res = await post(`${fx.url}/v1/workflows/quiet.say/run`, {}, { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-switchyard-trace-id'), callerTrace)
  assert.deepEqual(await spans(), [])
})

void test('a request refused at routing still gets its spans, marked with the error code', async () => {
  const res = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 42 })
  assert.equal(res.status, 422)
  const all = await spans()
  const request = byName(all, 'POST /v1/workflows/{name}/run')
  assert.equal(request.spanContext().traceId, res.headers.get('x-switchyard-trace-id'))
  assert.equal(request.attributes['switchyard.error.code'], 'INVALID_INPUT')
  assert.equal(request.attributes['http.response.status_code'], 422)
  assert.equal(request.attributes['switchyard.project'], 'sales-email')
  const route = byName(all, 'route echo.say')
  assert.equal(route.attributes['switchyard.error.code'], 'INVALID_INPUT')
  assert.equal(
    all.find((s) => s.name.startsWith('enqueue')),
    undefined,
  )
})

void test("a request refused before routing (not JSON) is traced in its workflow's pool project", async () => {
  const res = await fetch(`${fx.url}/v1/workflows/echo.say/run`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' })
  assert.equal(res.status, 415)
  const request = byName(await spans(), 'POST /v1/workflows/{name}/run')
  assert.equal(request.spanContext().traceId, res.headers.get('x-switchyard-trace-id'))
  assert.equal(request.attributes['switchyard.project'], 'sales-email')
  assert.equal(request.attributes['switchyard.error.code'], 'UNSUPPORTED_MEDIA_TYPE')
})
