// OTLP/protobuf encoded by hand, for the exporter every worker runs on its hot path.
// The bytes mean what @opentelemetry/otlp-transformer's ProtobufTraceSerializer
// writes (trace.proto, the same fields and flags), in one pass instead of its two
// (a size estimate, then a write), and long strings are copied by the runtime
// (Buffer#utf8Write) rather than a character at a time.
//
// A nested message reserves one byte for its length and moves its bytes along in the
// rare case the length needs more (a message of 128 bytes or more).
import type { HrTime, Link, SpanContext } from '@opentelemetry/api'
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base'

const VARINT = 0
const FIXED64 = 1
const BYTES = 2
const FIXED32 = 5

/** A field's tag as it is on the wire: (field number << 3) | wire type. */
const tag = (field: number, wire: number) => (field << 3) | wire

// Span flags (trace.proto SpanFlags): the W3C trace flags, and whether the parent is remote.
const HAS_IS_REMOTE = 0x100
const IS_REMOTE = 0x200

/** A Buffer, with its own UTF-8 write (Buffer#write without the argument handling) typed. */
type Bytes = Buffer & { utf8Write(text: string, offset: number, length: number): number }

const allocate = (size: number) => Buffer.allocUnsafe(size) as Bytes

/** The value of each ASCII hex digit (either case); 0 for anything else. */
const HEX = new Uint8Array(128)
for (let digit = 0; digit < 16; digit++) {
  HEX[digit.toString(16).charCodeAt(0)] = digit
  HEX[digit.toString(16).toUpperCase().charCodeAt(0)] = digit
}

type Resource = ReadableSpan['resource']
type Scope = ReadableSpan['instrumentationScope']

const MIN_BUFFER = 64 * 1024

class Writer {
  buf = allocate(MIN_BUFFER)
  pos = 0

  /** Room for `bytes` more. */
  room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + bytes) size *= 2
    const grown = allocate(size)
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }

  /** A non-negative integer below 2^53 (tags, lengths, counts, enums). */
  varint(value: number): void {
    this.room(10)
    const buf = this.buf
    while (value > 0x7f) {
      buf[this.pos++] = (value % 128) | 0x80
      value = Math.floor(value / 128)
    }
    buf[this.pos++] = value
  }

  /** An int64 varint: a negative number in two's complement, ten bytes. */
  int64(value: number): void {
    if (value >= 0) return this.varint(value)
    let bits = BigInt.asUintN(64, BigInt(value))
    this.room(10)
    while (bits > 0x7fn) {
      this.buf[this.pos++] = Number(bits & 0x7fn) | 0x80
      bits >>= 7n
    }
    this.buf[this.pos++] = Number(bits)
  }

  fixed32(value: number): void {
    this.room(4)
    this.pos = this.buf.writeUInt32LE(value >>> 0, this.pos)
  }

  /** An HrTime [seconds, nanoseconds] as fixed64 epoch nanoseconds, exact. */
  time([seconds, nanos]: HrTime): void {
    this.room(8)
    // seconds * 1e9 + nanos is past 2^53: sum it in parts that are exact as doubles,
    // seconds = high * 2^16 + low16, then split into two 32-bit words.
    const high = Math.floor(seconds / 65536) * 1e9
    const low = (seconds % 65536) * 1e9 + nanos
    const lowWord = (high % 65536) * 65536 + (low % 4294967296)
    const highWord = Math.floor(high / 65536) + Math.floor(low / 4294967296) + Math.floor(lowWord / 4294967296)
    this.buf.writeUInt32LE(lowWord % 4294967296, this.pos)
    this.buf.writeUInt32LE(highWord >>> 0, this.pos + 4)
    this.pos += 8
  }

  double(value: number): void {
    this.room(8)
    this.pos = this.buf.writeDoubleLE(value, this.pos)
  }

  string(text: string): void {
    const count = text.length
    if (count < 128) {
      // Keys, names, ids and most values: ASCII, copied here faster than a call into the runtime.
      this.room(count + 1)
      const buf = this.buf
      let at = this.pos + 1
      for (let i = 0; i < count; i++) {
        const code = text.charCodeAt(i)
        if (code > 0x7f) return this.utf8(text)
        buf[at++] = code
      }
      buf[this.pos] = count
      this.pos = at
      return
    }
    this.utf8(text)
  }

  private utf8(text: string): void {
    const length = Buffer.byteLength(text, 'utf8')
    this.varint(length)
    this.room(length)
    this.pos += this.buf.utf8Write(text, this.pos, length)
  }

  /** A hex id (trace, span) as its bytes; the SDK's ids are valid hex (anything else still takes its length). */
  hex(id: string): void {
    const length = id.length >>> 1
    this.room(length + 1)
    const buf = this.buf
    let at = this.pos
    buf[at++] = length
    for (let i = 0; i < 2 * length; i += 2)
      buf[at++] = (HEX[id.charCodeAt(i) & 0x7f] as number) * 16 + (HEX[id.charCodeAt(i + 1) & 0x7f] as number)
    this.pos = at
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length)
    this.room(value.length)
    this.buf.set(value, this.pos)
    this.pos += value.length
  }

  /** Open a length-delimited message: returns where its one-byte length goes. */
  begin(): number {
    this.room(1)
    return this.pos++
  }

  /** Close the message opened at `at`: write its length, moving its bytes when the length takes more than one byte. */
  end(at: number): void {
    const length = this.pos - at - 1
    if (length < 0x80) {
      this.buf[at] = length
      return
    }
    let size = 1
    for (let rest = length; rest > 0x7f; rest = Math.floor(rest / 128)) size++
    this.room(size - 1)
    this.buf.copy(this.buf, at + size, at + 1, this.pos)
    this.pos += size - 1
    let value = length
    for (let i = at; value > 0x7f; i++) {
      this.buf[i] = (value % 128) | 0x80
      value = Math.floor(value / 128)
    }
    this.buf[at + size - 1] = value
  }
}

function attributes(w: Writer, field: number, values: Readonly<Record<string, unknown>> | undefined): void {
  if (values === undefined) return
  for (const key in values) {
    if (!Object.prototype.hasOwnProperty.call(values, key)) continue
    w.varint(tag(field, BYTES))
    keyValue(w, key, values[key])
  }
}

function keyValue(w: Writer, key: string, value: unknown): void {
  const kv = w.begin()
  w.varint(tag(1, BYTES))
  w.string(key)
  w.varint(tag(2, BYTES))
  const any = w.begin()
  anyValue(w, value)
  w.end(any)
  w.end(kv)
}

/** AnyValue: what OpenTelemetry's serializer writes for each JavaScript value (null and undefined: an empty AnyValue). */
function anyValue(w: Writer, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.varint(tag(1, BYTES))
      w.string(value)
      return
    case 'boolean':
      w.varint(tag(2, VARINT))
      w.varint(value ? 1 : 0)
      return
    case 'number':
      if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
        w.varint(tag(3, VARINT))
        w.int64(value)
      } else {
        w.varint(tag(4, FIXED64))
        w.double(value)
      }
      return
    case 'object':
      if (value === null) return
      if (value instanceof Uint8Array) {
        w.varint(tag(7, BYTES))
        w.bytes(value)
      } else if (Array.isArray(value)) {
        w.varint(tag(5, BYTES))
        const array = w.begin()
        for (const item of value) {
          w.varint(tag(1, BYTES))
          const at = w.begin()
          anyValue(w, item)
          w.end(at)
        }
        w.end(array)
      } else {
        w.varint(tag(6, BYTES))
        const list = w.begin()
        attributes(w, 1, value as Record<string, unknown>)
        w.end(list)
      }
      return
    default:
  }
}

/** An optional count: written only when it is not 0 (proto3's default). */
function count(w: Writer, field: number, value: number | undefined): void {
  if (!value) return
  w.varint(tag(field, VARINT))
  w.varint(value)
}

/** A repeated message field: one tag and message per item. */
function each<T>(w: Writer, field: number, items: readonly T[], write: (w: Writer, item: T) => void): void {
  for (const item of items) {
    w.varint(tag(field, BYTES))
    write(w, item)
  }
}

/** Fields 1–3 of a span and of a link alike: trace id, span id, and the trace state when there is one. */
function ids(w: Writer, context: SpanContext): void {
  w.varint(tag(1, BYTES))
  w.hex(context.traceId)
  w.varint(tag(2, BYTES))
  w.hex(context.spanId)
  const traceState = context.traceState?.serialize()
  if (traceState) {
    w.varint(tag(3, BYTES))
    w.string(traceState)
  }
}

function spanFlags(traceFlags: number, remote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (remote ? IS_REMOTE : 0)
}

function event(w: Writer, e: TimedEvent): void {
  const at = w.begin()
  w.varint(tag(1, FIXED64))
  w.time(e.time)
  w.varint(tag(2, BYTES))
  w.string(e.name)
  attributes(w, 3, e.attributes)
  count(w, 4, e.droppedAttributesCount)
  w.end(at)
}

function link(w: Writer, l: Link & { droppedAttributesCount?: number }): void {
  const at = w.begin()
  ids(w, l.context)
  attributes(w, 4, l.attributes)
  count(w, 5, l.droppedAttributesCount)
  w.varint(tag(6, FIXED32))
  w.fixed32(spanFlags(l.context.traceFlags, l.context.isRemote))
  w.end(at)
}

function span(w: Writer, s: ReadableSpan): void {
  const at = w.begin()
  const context = s.spanContext()
  ids(w, context)
  const parent = s.parentSpanContext
  if (parent?.spanId) {
    w.varint(tag(4, BYTES))
    w.hex(parent.spanId)
  }
  w.varint(tag(5, BYTES))
  w.string(s.name)
  // SDK SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0.
  w.varint(tag(6, VARINT))
  w.varint(s.kind + 1)
  w.varint(tag(7, FIXED64))
  w.time(s.startTime)
  w.varint(tag(8, FIXED64))
  w.time(s.endTime)
  attributes(w, 9, s.attributes)
  count(w, 10, s.droppedAttributesCount)
  each(w, 11, s.events, event)
  count(w, 12, s.droppedEventsCount)
  each(w, 13, s.links, link)
  count(w, 14, s.droppedLinksCount)
  w.varint(tag(15, BYTES))
  const status = w.begin()
  if (s.status.message) {
    w.varint(tag(2, BYTES))
    w.string(s.status.message)
  }
  w.varint(tag(3, VARINT))
  w.varint(s.status.code)
  w.end(status)
  w.varint(tag(16, FIXED32))
  w.fixed32(spanFlags(context.traceFlags, parent?.isRemote))
  w.end(at)
}

function scopeSpans(w: Writer, scope: Scope, spans: readonly ReadableSpan[]): void {
  const at = w.begin()
  w.varint(tag(1, BYTES))
  const scopeAt = w.begin()
  w.varint(tag(1, BYTES))
  w.string(scope.name)
  if (scope.version) {
    w.varint(tag(2, BYTES))
    w.string(scope.version)
  }
  attributes(w, 3, (scope as { attributes?: Record<string, unknown> }).attributes)
  w.end(scopeAt)
  for (const s of spans) {
    w.varint(tag(2, BYTES))
    span(w, s)
  }
  if (scope.schemaUrl) {
    w.varint(tag(3, BYTES))
    w.string(scope.schemaUrl)
  }
  w.end(at)
}

function resourceSpans(w: Writer, resource: Resource, scopes: Map<Scope, ReadableSpan[]>): void {
  const at = w.begin()
  w.varint(tag(1, BYTES))
  const resourceAt = w.begin()
  attributes(w, 1, resource.attributes)
  w.end(resourceAt)
  for (const [scope, spans] of scopes) {
    w.varint(tag(2, BYTES))
    scopeSpans(w, scope, spans)
  }
  if (resource.schemaUrl) {
    w.varint(tag(3, BYTES))
    w.string(resource.schemaUrl)
  }
  w.end(at)
}

// Each export writes into a fresh buffer sized for the last one (the exporter keeps
// the bytes it sends until its retries are done).
const writer = new Writer()

/** An ExportTraceServiceRequest with `spans`, grouped by resource, then instrumentation scope. */
export function encodeOtlpProtobuf(spans: readonly ReadableSpan[]): Buffer {
  const groups = new Map<Resource, Map<Scope, ReadableSpan[]>>()
  for (const s of spans) {
    let scopes = groups.get(s.resource)
    if (scopes === undefined) {
      scopes = new Map()
      groups.set(s.resource, scopes)
    }
    const list = scopes.get(s.instrumentationScope)
    if (list === undefined) scopes.set(s.instrumentationScope, [s])
    else list.push(s)
  }
  const w = writer
  w.pos = 0
  for (const [resource, scopes] of groups) {
    w.varint(tag(1, BYTES))
    resourceSpans(w, resource, scopes)
  }
  const bytes = w.buf.subarray(0, w.pos)
  w.buf = allocate(Math.max(MIN_BUFFER, w.pos + (w.pos >>> 2)))
  return bytes
}

/**
 * The serializer an OTLP/HTTP protobuf exporter plugs in (see otlp-exporter.ts):
 * requests by encodeOtlpProtobuf, responses read by OpenTelemetry's own.
 */
export const protobufSpanSerializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: (spans) => encodeOtlpProtobuf(spans),
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
}
