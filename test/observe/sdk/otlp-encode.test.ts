import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpanKind, SpanStatusCode, TraceFlags, context, trace, type Attributes } from '@opentelemetry/api'
import { TraceState } from '@opentelemetry/core'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { decodeOtlpProtobuf } from '../../../src/observe/index.js'
import { encodeOtlpProtobuf } from '../../../src/observe/sdk/otlp-protobuf-writer.js'

// The encoder is checked against OpenTelemetry's own serializer field by field: both
// bodies are parsed with trace.proto's message layout into plain trees, with proto3
// defaults (zero varints) left out, since either side may write or omit them.

/** Which fields of each message are messages themselves (everything else length-delimited is bytes). */
const LAYOUT: Record<string, Record<number, string>> = {
  Request: { 1: 'ResourceSpans' },
  ResourceSpans: { 1: 'Resource', 2: 'ScopeSpans' },
  Resource: { 1: 'KeyValue' },
  ScopeSpans: { 1: 'Scope', 2: 'Span' },
  Scope: { 3: 'KeyValue' },
  Span: { 9: 'KeyValue', 11: 'Event', 13: 'Link', 15: 'Status' },
  Event: { 3: 'KeyValue' },
  Link: { 4: 'KeyValue' },
  Status: {},
  KeyValue: { 2: 'AnyValue' },
  AnyValue: { 5: 'ArrayValue', 6: 'KeyValueList' },
  ArrayValue: { 1: 'AnyValue' },
  KeyValueList: { 1: 'KeyValue' },
}

type Tree = Record<string, unknown[]>

function parse(bytes: Uint8Array, message = 'Request'): Tree {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tree: Tree = {}
  let pos = 0
  const varint = () => {
    let value = 0n
    for (let shift = 0n; ; shift += 7n) {
      const byte = buf[pos++] as number
      value |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return value
    }
  }
  while (pos < buf.length) {
    const key = Number(varint())
    const field = key >>> 3
    let value: unknown
    switch (key & 7) {
      case 0:
        value = varint()
        if (value === 0n) continue
        break
      case 1:
        value = buf.readBigUInt64LE(pos)
        pos += 8
        break
      case 5:
        value = buf.readUInt32LE(pos)
        pos += 4
        break
      case 2: {
        const length = Number(varint())
        const body = buf.subarray(pos, pos + length)
        pos += length
        const inner = LAYOUT[message]?.[field]
        value = inner ? parse(body, inner) : body.toString('hex')
        break
      }
      default:
        throw new Error(`wire type ${key & 7} at ${pos}`)
    }
    ;(tree[field] ??= []).push(value)
  }
  return tree
}

async function record(build: (provider: BasicTracerProvider) => void, resource: Attributes = { 'service.name': 'svc' }) {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  build(provider)
  await provider.forceFlush()
  return exporter.getFinishedSpans()
}

function sameAsOpenTelemetry(spans: ReadableSpan[]): Buffer {
  const ours = encodeOtlpProtobuf(spans)
  assert.deepEqual(parse(ours), parse(ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array()))
  return ours
}

void test('the encoder writes what OpenTelemetry writes: every value type, events, links, status, flags, trace state', async () => {
  const long = 'x'.repeat(200) + 'é'.repeat(9000) // past one- and two-byte lengths, multi-byte characters
  const spans = await record((provider) => {
    const tracer = provider.getTracer('switchyard', '1.2.3')
    const remote = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=a,other=b'),
    })
    const span = tracer.startSpan(
      'chat gpt',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          s: 'ünïcode ✓ 🚀',
          empty: '',
          long,
          i: 42,
          zero: 0,
          neg: -7,
          big: 2 ** 40,
          huge: 2 ** 60,
          d: 0.125,
          nan: NaN,
          b: true,
          f: false,
          arr: ['a', 'b'],
          nums: [1, 2.5, -3],
          holes: ['a', null, undefined, 'b'],
        },
        links: [{ context: { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceFlags: 0 }, attributes: { why: 'batch' } }],
      },
      remote,
    )
    span.addEvent('retry', { attempt: 2 })
    span.addEvent('plain')
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'MODEL_FAILED: 429' })
    span.end()
    const child = tracer.startSpan('node draft', {}, trace.setSpan(context.active(), span))
    child.setStatus({ code: SpanStatusCode.OK })
    child.end()
  })
  const body = sameAsOpenTelemetry(spans)

  // And what the receiver reads from it.
  const [batch] = decodeOtlpProtobuf(body)
  const decoded = batch?.spans.find((s) => s.name === 'chat gpt')
  assert.equal(decoded?.traceId, '0af7651916cd43dd8448eb211c80319c')
  assert.equal(decoded?.parentSpanId, 'b7ad6b7169203331')
  assert.equal(decoded?.attributes.find((kv) => kv.key === 'long')?.value, long)
  assert.equal(decoded?.attributes.find((kv) => kv.key === 'huge')?.value, 2 ** 60)
  assert.equal(decoded?.attributes.find((kv) => kv.key === 'neg')?.value, -7)
})

void test('the encoder keeps every nanosecond of the span times', async () => {
  const start: [number, number] = [1_764_000_000, 123_456_789]
  const end: [number, number] = [4_294_967_296 + 17, 999_999_999] // seconds past 2^32 too
  const spans = await record((provider) => {
    const span = provider.getTracer('t').startSpan('timed', { startTime: start })
    span.end(end)
  })
  const tree = parse(sameAsOpenTelemetry(spans)) as { 1: { 2: { 2: Tree[] }[] }[] }
  const span = tree[1][0]?.[2][0]?.[2][0]
  assert.equal(span?.[7]?.[0], 1_764_000_000_123_456_789n)
  assert.equal(span?.[8]?.[0], 4_294_967_313_999_999_999n)
})

void test('the encoder groups spans by resource, then by instrumentation scope', async () => {
  const email = await record(
    (provider) => {
      provider.getTracer('a').startSpan('one').end()
      provider.getTracer('b', '2').startSpan('two').end()
      provider.getTracer('a').startSpan('three').end()
    },
    { 'service.name': 'switchyard-pool-email', 'switchyard.pool': 'email' },
  )
  const gateway = await record((provider) => provider.getTracer('a').startSpan('four').end(), { 'service.name': 'switchyard-gateway' })
  const body = sameAsOpenTelemetry([...email, ...gateway])
  const batches = decodeOtlpProtobuf(body)
  assert.deepEqual(
    batches.map((b) => b.spans.map((s) => s.name)),
    [['one', 'three', 'two'], ['four']],
  )
  assert.equal(parse(body)[1]?.length, 2)
})

void test('each export gets bytes of its own: a later export never changes an earlier body', async () => {
  const first = await record((provider) => provider.getTracer('t').startSpan('first').end())
  const second = await record((provider) => provider.getTracer('t').startSpan('second').end())
  const a = encodeOtlpProtobuf(first)
  const copy = Buffer.from(a)
  encodeOtlpProtobuf(second)
  assert.deepEqual(a, copy)
  assert.equal(encodeOtlpProtobuf([]).length, 0)
})
