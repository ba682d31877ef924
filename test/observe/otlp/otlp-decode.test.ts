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
} from '../../../src/observe/index.js'

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

// A minimal protobuf writer: enough to build requests the SDK never sends.
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n))
  const out: number[] = []
  do {
    const low = Number(v & 0x7fn)
    v >>= 7n
    out.push(v > 0n ? low | 0x80 : low)
  } while (v > 0n)
  return out
}
const field = (n: number, wire: number, payload: number[]) => [...varint((n << 3) | wire), ...payload]
const bytes = (n: number, payload: number[]) => field(n, 2, [...varint(payload.length), ...payload])
const text = (n: number, s: string) => bytes(n, [...Buffer.from(s)])
const hex = (n: number, s: string) => bytes(n, [...Buffer.from(s, 'hex')])
const fixed64 = (n: number, value: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(value)
  return field(n, 1, [...b])
}
const TRACE = '0af7651916cd43dd8448eb211c80319c'
const request = (...spanFields: number[][]) => Uint8Array.from(bytes(1, bytes(2, bytes(2, spanFields.flat()))))
const ids = [hex(1, TRACE), hex(2, 'b7ad6b7169203331')]

void test('protobuf: kvlist, bytes, large and negative int64 values; unknown fields are skipped', () => {
  const attribute = (key: string, value: number[]) => bytes(9, [...text(1, key), ...bytes(2, value)])
  const [batch] = decodeOtlpProtobuf(
    request(
      ...ids,
      text(5, 'lookup'),
      fixed64(7, 1_700_000_000_123_456_789n),
      attribute('kv', bytes(6, bytes(1, [...text(1, 'country'), ...bytes(2, text(1, 'DE'))]))),
      attribute('raw', bytes(7, [0xde, 0xad])),
      attribute('min', field(3, 0, varint(-(2n ** 63n)))),
      attribute('huge', field(3, 0, varint(2n ** 60n))),
      attribute('neg', field(3, 0, varint(-1))),
      field(99, 0, varint(5)), // an unknown varint field
      bytes(98, [1, 2, 3]), // an unknown length-delimited field
      fixed64(97, 1n), // an unknown fixed64
      field(96, 5, [0, 0, 0, 0]), // an unknown fixed32
    ),
  )
  const [span] = batch?.spans ?? []
  assert.equal(span?.name, 'lookup')
  assert.equal(span?.startTimeUnixNano, Number(1_700_000_000_123_456_789n), 'nanoseconds as the nearest double')
  assert.deepEqual(Object.fromEntries(span?.attributes.map((kv) => [kv.key, kv.value]) ?? []), {
    kv: { country: 'DE' },
    raw: '3q0=',
    min: -(2 ** 63),
    huge: 2 ** 60,
    neg: -1,
  })
})

void test('protobuf: a malformed body is a BAD_REQUEST that says what is wrong; nesting past 100 levels is refused', () => {
  const rejects = (body: Uint8Array, detail: RegExp) =>
    assert.throws(
      () => decodeOtlpProtobuf(body),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'BAD_REQUEST')
        assert.match(error.message, /^OTLP\/protobuf body is malformed: /)
        assert.match(error.message, detail)
        return true
      },
    )
  const whole = request(...ids, text(5, 'x'))
  rejects(whole.subarray(0, whole.length - 1), /premature EOF/)
  rejects(Uint8Array.from([(1 << 3) | 3]), /premature EOF/)
  rejects(request(text(5, 'orphan')), /span 'orphan' has no valid trace or span id/)
  // An attribute value nested 200 arrays deep: refused before it can exhaust the stack.
  let deep = text(1, 'x')
  for (let i = 0; i < 200; i++) deep = bytes(5, bytes(1, deep))
  rejects(request(...ids, bytes(9, [...text(1, 'k'), ...bytes(2, deep)])), /recursion limit/)
  // 90 levels are fine.
  let nested = text(1, 'x')
  for (let i = 0; i < 45; i++) nested = bytes(5, bytes(1, nested))
  const [batch] = decodeOtlpProtobuf(request(...ids, bytes(9, [...text(1, 'k'), ...bytes(2, nested)])))
  assert.equal(batch?.spans[0]?.attributes[0]?.key, 'k')
})

void test('JSON: attribute values nested past the protobuf limit are refused as BAD_REQUEST, at the same depth as protobuf', () => {
  /** A span attribute holding `levels` arrays, each inside the last. */
  const json = (levels: number, where: 'span' | 'resource' | 'event' = 'span') => {
    let value = '{"stringValue":"x"}'
    for (let i = 0; i < levels; i++) value = `{"arrayValue":{"values":[${value}]}}`
    const attributes = `[{"key":"k","value":${value}}]`
    const span = `{"traceId":"${TRACE}","spanId":"b7ad6b7169203331","name":""${where === 'span' ? `,"attributes":${attributes}` : ''}${
      where === 'event' ? `,"events":[{"name":"e","attributes":${attributes}}]` : ''
    }}`
    const resource = where === 'resource' ? `"resource":{"attributes":${attributes}},` : ''
    return `{"resourceSpans":[{${resource}"scopeSpans":[{"spans":[${span}]}]}]}`
  }
  const protobuf = (levels: number) => {
    let value = text(1, 'x')
    for (let i = 0; i < levels; i++) value = bytes(5, bytes(1, value))
    return request(...ids, bytes(9, [...text(1, 'k'), ...bytes(2, value)]))
  }
  const refused = (body: string) =>
    assert.throws(
      () => decodeOtlpJson(body),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'BAD_REQUEST')
        assert.match(error.message, /^OTLP\/JSON attribute values nest past 100 levels/)
        return true
      },
    )
  // 47 arrays deep is the deepest protobuf takes; both decoders agree on either side of it.
  const [batch] = decodeOtlpJson(json(47))
  assert.equal(batch?.spans[0]?.attributes[0]?.key, 'k')
  assert.deepEqual(decodeOtlpJson(json(47)), decodeOtlpProtobuf(protobuf(47)))
  assert.throws(() => decodeOtlpProtobuf(protobuf(48)), /recursion limit/)
  refused(json(48))
  // The review's body: 5,000 levels once overflowed the stack (a RangeError, answered 500).
  refused(json(5000))
  refused(json(5000, 'resource'))
  refused(json(5000, 'event'))
})
