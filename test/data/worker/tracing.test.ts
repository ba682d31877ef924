// The worker continues the caller's trace: one CONSUMER span `run <workflow>` per
// attempt, child of the envelope's traceparent, with switchyard.* attributes and the
// error code; LangGraph nodes become its children.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'

import { ATTR, SERVICE } from '../../../src/control/index.js'
import type { Registry } from '../../../src/control/index.js'
import type { Envelope } from '../../../src/data/index.js'
import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../../src/data/worker/index.js'
import { initTracing, type Tracing } from '../../../src/observe/sdk/index.js'
import { envelopeFor, fixtureRegistry, VERIFY, LONG, TRACE } from './worker-helpers.js'

const exporter = new InMemorySpanExporter()
let tracing: Tracing
let registry: Registry
let broker: MemoryBroker
let worker: PoolWorker

before(async () => {
  registry = fixtureRegistry()
  tracing = initTracing({ service: SERVICE.pool('work'), pool: 'work', project: 'test-work', env: {}, exporter })
  broker = new MemoryBroker({ pools: registry.pools.values(), retryDelayMs: 10 })
  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  worker = createWorker({
    pool: 'work',
    registry,
    source: broker.source('work'),
    verifyKeys: VERIFY,
    watchdogGraceMs: null,
    log: { ...quiet, child: () => quiet },
  })
  await worker.start()
})

after(async () => {
  await worker.close()
  await broker.close()
  await tracing.shutdown()
})

async function spansOf(envelope: Envelope): Promise<ReadableSpan[]> {
  await broker.submit(envelope)
  await broker.wait(envelope.runId, { until: Date.now() + LONG })
  await tracing.forceFlush()
  const runSpans = exporter.getFinishedSpans().filter((s) => s.attributes[ATTR.runId] === envelope.runId)
  const ids = new Set(runSpans.map((s) => s.spanContext().spanId))
  return [...runSpans, ...exporter.getFinishedSpans().filter((s) => s.parentSpanContext && ids.has(s.parentSpanContext.spanId))]
}

void test("a run is a CONSUMER span under the envelope's traceparent, with the run's attributes", async () => {
  const envelope = envelopeFor(registry, 'work.echo', { name: 'Ada' })
  const [span] = await spansOf(envelope)
  assert.ok(span)
  assert.equal(span.name, 'run work.echo')
  assert.equal(span.kind, SpanKind.CONSUMER)
  assert.equal(span.spanContext().traceId, TRACE.traceparent.split('-')[1])
  assert.equal(span.parentSpanContext?.spanId, TRACE.traceparent.split('-')[2])
  assert.equal(span.status.code, SpanStatusCode.OK)
  assert.equal(span.attributes[ATTR.pool], 'work')
  assert.equal(span.attributes[ATTR.project], 'test-work')
  assert.equal(span.attributes[ATTR.workflow], 'work.echo')
  assert.equal(span.attributes[ATTR.attempt], 1)
  assert.equal(span.attributes[ATTR.registry], registry.digest)
  assert.match(String(span.attributes[ATTR.promptHash]), /^sha256:/)
})

void test('a failed run records its error code; each attempt is its own span', async () => {
  const spans = await spansOf(envelopeFor(registry, 'work.flaky', {}))
  const runs = spans
    .filter((s) => s.name === 'run work.flaky')
    .sort((a, b) => Number(a.attributes[ATTR.attempt]) - Number(b.attributes[ATTR.attempt]))
  assert.deepEqual(
    runs.map((s) => [s.attributes[ATTR.attempt], s.status.code, s.attributes[ATTR.errorCode]]),
    [
      [1, SpanStatusCode.ERROR, 'GRAPH_FAILED'],
      [2, SpanStatusCode.OK, undefined],
    ],
  )
  assert.equal(runs[0]?.status.message, 'GRAPH_FAILED: flaky: first attempt fails')
})

void test('LangGraph nodes become child spans of the run span', async () => {
  const spans = await spansOf(envelopeFor(registry, 'work.langgraph', { name: 'Grace' }))
  const run = spans.find((s) => s.name === 'run work.langgraph')
  assert.ok(run)
  const children = spans.filter((s) => s.parentSpanContext?.spanId === run.spanContext().spanId).map((s) => s.name)
  assert.ok(
    children.some((name) => name.includes('greet')),
    `node spans: ${children.join(', ')}`,
  )
})
