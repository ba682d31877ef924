import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { propagation, context, trace } from '@opentelemetry/api'
import { exporterSettings, initTracing } from '../../../src/observe/index.js'
import { batchConfig } from '../../../src/observe/sdk/tracing.js'

interface Received {
  readonly path: string
  readonly contentType: string
  readonly body: Buffer
}

async function receiver() {
  const received: Received[] = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

void test("the embedded gateway's bearer token goes to the embedded gateway only", () => {
  const embedded = exporterSettings({ SWITCHYARD_TRACES_URL: 'http://127.0.0.1:7070', SWITCHYARD_TRACES_TOKEN: 'ingest' })
  assert.equal(embedded?.headers.authorization, 'Bearer ingest')
  const elsewhere = exporterSettings({
    SWITCHYARD_TRACES_URL: 'http://127.0.0.1:7070',
    SWITCHYARD_TRACES_TOKEN: 'ingest',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
  })
  assert.equal(elsewhere?.url, 'http://collector:4318/v1/traces')
  assert.equal(elsewhere?.headers.authorization, undefined)
  assert.equal(embedded?.embedded, true)
  assert.equal(elsewhere?.embedded, false)
})

void test("spans are batched for the SDK's default 5 s wherever they go; OTEL_BSP_* wins", () => {
  assert.equal(batchConfig({}).scheduledDelayMillis, 5000)
  assert.equal(batchConfig({ OTEL_BSP_SCHEDULE_DELAY: '2000' }).scheduledDelayMillis, 2000)
  assert.equal(batchConfig({ OTEL_BSP_SCHEDULE_DELAY: 'soon' }).scheduledDelayMillis, 5000)
  assert.deepEqual(batchConfig({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10', OTEL_BSP_EXPORT_TIMEOUT: '3000' }), {
    maxQueueSize: 100,
    maxExportBatchSize: 10,
    scheduledDelayMillis: 5000,
    exportTimeoutMillis: 3000,
  })
})

void test('endpoint resolution follows the given env, never the process env', () => {
  assert.equal(exporterSettings({}), undefined)
  assert.equal(exporterSettings({ SWITCHYARD_TRACES_URL: 'http://127.0.0.1:7070' })?.url, 'http://127.0.0.1:7070/v1/traces')
  assert.equal(exporterSettings({ SWITCHYARD_TRACES_URL: 'http://127.0.0.1:7070/v1/traces' })?.url, 'http://127.0.0.1:7070/v1/traces')
  assert.equal(exporterSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })?.url, 'http://collector:4318/v1/traces')
  const specific = exporterSettings({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/custom',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%20b,x-team=sales',
  })
  assert.deepEqual(specific, {
    url: 'http://other:4318/custom',
    embedded: false,
    protocol: 'http/json',
    headers: { 'x-api-key': 'a b', 'x-team': 'sales' },
    timeoutMillis: undefined,
    compression: 'none',
  })
})

void test('spans are exported as OTLP protobuf by default, with the process resource, and W3C context propagates', async (t) => {
  const collector = await receiver()
  t.after(collector.close)
  const tracing = initTracing({
    service: 'switchyard-pool-email',
    pool: 'email',
    project: 'sales-email',
    env: { SWITCHYARD_TRACES_URL: collector.url },
  })
  assert.equal(tracing.enabled, true)
  const carrier: Record<string, string> = {}
  await trace.getTracer('t').startActiveSpan('run email.compose', async (span) => {
    propagation.inject(context.active(), carrier)
    span.end()
  })
  // A trace started in this process: sampled, and its ids are random (the Level 2 random flag).
  assert.match(carrier.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/)
  await tracing.shutdown()
  assert.equal(collector.received.length, 1)
  const [request] = collector.received
  assert.equal(request?.path, '/v1/traces')
  assert.equal(request?.contentType, 'application/x-protobuf')
  assert.ok(request?.body.includes(Buffer.from('switchyard-pool-email')))
  assert.ok(request?.body.includes(Buffer.from('run email.compose')))
})

void test('OTEL_SDK_DISABLED or no endpoint: nothing recorded, trace ids still flow unsampled', async () => {
  for (const env of [{}, { OTEL_SDK_DISABLED: 'true', SWITCHYARD_TRACES_URL: 'http://127.0.0.1:9' }]) {
    const tracing = initTracing({ service: 'switchyard-gateway', env })
    assert.equal(tracing.enabled, false)
    const span = trace.getTracer('t').startSpan('POST /v1/workflows/x/run')
    assert.equal(span.isRecording(), false)
    assert.match(span.spanContext().traceId, /^(?!0{32})[0-9a-f]{32}$/)
    span.end()
    await tracing.shutdown()
  }
})

void test('forceFlush() waits for a batch the timer already handed to the exporter (switchyard trace right after a run finds it)', async () => {
  // An exporter that holds every export until released: the batch timer's export is in flight.
  const started: Array<() => void> = []
  const exporter = {
    export(_spans: unknown[], done: (result: { code: number }) => void) {
      started.push(() => done({ code: 0 }))
    },
    shutdown: async () => {},
  }
  const tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter, register: false })
  tracing.tracerProvider.getTracer('t').startSpan('POST /v1/workflows/{name}/run').end()
  // The 50 ms timer fires and the export starts; nothing is buffered any more.
  const until = Date.now() + 10_000
  while (started.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(started.length, 1, 'the batch timer started an export')
  let flushed = false
  const flushing = tracing.forceFlush().then(() => (flushed = true))
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(flushed, false, 'forceFlush() resolved while the export was still in flight')
  started[0]?.()
  await flushing
  assert.equal(flushed, true)
  await tracing.shutdown()
})
