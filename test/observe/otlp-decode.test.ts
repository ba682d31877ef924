import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  FileTraceStore,
  StoreSpanExporter,
  decodeOtlpJson,
  decodeOtlpProtobuf,
  initTracing,
  toStoredSpans,
} from '../../src/observe/index.js'

void test('protobuf and JSON decode to the same stored spans, every attribute type included', async (t) => {
  const exporter = new InMemorySpanExporter()
  const tracing = initTracing({
    service: 'switchyard-pool-email',
    pool: 'email',
    project: 'sales-email',
    env: {},
    exporter,
    register: false,
  })
  const span = tracing.tracerProvider.getTracer('t').startSpan('chat gpt', {
    kind: SpanKind.CLIENT,
    attributes: { s: 'ünïcode ✓', i: 42, neg: -7, big: 2 ** 40, d: 0.125, b: true, f: false, arr: ['a', 'b'], nums: [1, 2.5] },
  })
  span.addEvent('retry', { attempt: 2 })
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'MODEL_FAILED: 429' })
  span.end()
  await tracing.forceFlush()
  const spans = exporter.getFinishedSpans()
  await tracing.shutdown()

  const fromProtobuf = toStoredSpans(decodeOtlpProtobuf(ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array()))
  const fromJson = toStoredSpans(decodeOtlpJson(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans))))
  assert.deepEqual(fromProtobuf, fromJson)
  const [stored] = fromProtobuf
  assert.deepEqual(stored?.attributes, {
    s: 'ünïcode ✓',
    i: 42,
    neg: -7,
    big: 2 ** 40,
    d: 0.125,
    b: true,
    f: false,
    arr: ['a', 'b'],
    nums: [1, 2.5],
  })
  assert.equal(stored?.kind, 'client')
  assert.equal(stored?.status, 'error')
  assert.equal(stored?.statusMessage, 'MODEL_FAILED: 429')
  assert.equal(stored?.events?.[0]?.name, 'retry')
  assert.deepEqual(stored?.events?.[0]?.attributes, { attempt: 2 })
  const original = spans[0]
  assert.equal(stored?.traceId, original?.spanContext().traceId)
  assert.ok(
    Math.abs((stored?.start ?? 0) - ((original?.startTime[0] ?? 0) * 1000 + (original?.startTime[1] ?? 0) / 1e6)) < 0.001,
    'start time within a microsecond',
  )

  // The in-process path (no OTLP round trip) stores exactly what the receiver stores.
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-direct-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = await FileTraceStore.open(dir)
  const direct = new StoreSpanExporter(store)
  const result = await new Promise<{ code: number }>((resolve) => direct.export(spans, resolve))
  assert.equal(result.code, 0)
  assert.deepEqual(await store.getTrace(stored?.traceId ?? ''), fromProtobuf)
})
