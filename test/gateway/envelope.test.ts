// What the gateway puts on the broker: a signed envelope (DESIGN §2.4) carrying the
// routed input, the idempotency key, and the enqueue span's context with the
// caller's tracestate and baggage. The real broker is wrapped only to look at it.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Broker } from '../../src/data/broker/index.js'
import { generateSigningKey, verifyEnvelope, verifyKeysFor, type Envelope } from '../../src/data/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { startGateway, type Gateway } from '../../src/gateway/index.js'
import { initTracing, type Tracing } from '../../src/observe/index.js'
import { post, writeRegistry } from './fixture.js'

const KEY = generateSigningKey()
const exporter = new InMemorySpanExporter()
const submitted: Envelope[] = []
let tracing: Tracing
let memory: MemoryBroker
let gateway: Gateway

before(async () => {
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter })
  const { registry } = writeRegistry()
  memory = new MemoryBroker({ pools: registry.pools.values() })
  const broker: Broker = {
    kind: memory.kind,
    submit: (envelope, options) => {
      submitted.push(envelope)
      return memory.submit(envelope, options)
    },
    cancel: (runId) => memory.cancel(runId),
    wait: (runId, options) => memory.wait(runId, options),
    get: (runId) => memory.get(runId),
    list: (filter) => memory.list(filter),
    stats: () => memory.stats(),
    workerExited: () => memory.workerExited(),
    ready: () => memory.ready(),
    close: () => memory.close(),
  }
  gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: KEY })
})
after(async () => {
  await gateway.close()
  await memory.close()
  await tracing.shutdown()
})

void test('the envelope is signed, carries the validated input and key, and continues the trace through enqueue', async () => {
  const callerTrace = '6bf92f3577b34da6a3ce929d0e0e4736'
  const res = await post(
    `${gateway.url}/v1/workflows/echo.say/run`,
    { text: 'hi' },
    {
      prefer: 'respond-async',
      'idempotency-key': 'lead-7',
      traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
      tracestate: 'vendor=abc',
      baggage: 'tenant=acme,lead.id=L%207',
    },
  )
  assert.equal(res.status, 202)
  const envelope = submitted.at(-1)
  assert.ok(envelope)
  assert.deepEqual(verifyEnvelope(envelope, verifyKeysFor(KEY)), envelope)
  assert.equal(envelope.runId, res.headers.get('x-switchyard-run-id'))
  assert.equal(envelope.workflow, 'echo.say')
  assert.equal(envelope.pool, 'email')
  assert.deepEqual(envelope.input, { text: 'hi', shout: false })
  assert.equal(envelope.idempotencyKey, 'lead-7')
  assert.equal(envelope.maxAttempts, 1)

  await tracing.forceFlush()
  const enqueue = exporter.getFinishedSpans().find((s) => s.name === 'enqueue email')
  assert.ok(enqueue)
  assert.equal(envelope.trace.traceparent, `00-${callerTrace}-${enqueue.spanContext().spanId}-01`)
  assert.equal(envelope.trace.tracestate, 'vendor=abc')
  assert.deepEqual(envelope.trace.baggage.split(',').sort(), ['lead.id=L%207', 'tenant=acme'])
})
