// OTLP/protobuf decoded by hand: the trace request is a handful of small messages
// (opentelemetry/proto/trace/v1/trace.proto), and @opentelemetry/otlp-transformer
// no longer ships a generated decoder. Unknown fields are skipped, as protobuf requires.
//
// One reader walks the whole body; a nested message is the range up to its `end`, so
// decoding allocates the decoded values and nothing else (the receiver's hot path).
import { SwitchyardError } from '../../control/index.js'
import type { OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from './otlp-request.js'
import type { AttributeValue } from '../store/index.js'

const VARINT = 0
const FIXED64 = 1
const BYTES = 2
const FIXED32 = 5

/** A field's tag as it is on the wire: (field number << 3) | wire type. */
const tag = (field: number, wire: number) => (field << 3) | wire

// ExportTraceServiceRequest
const RESOURCE_SPANS = tag(1, BYTES)
// ResourceSpans, Resource, ScopeSpans
const RESOURCE = tag(1, BYTES)
const SCOPE_SPANS = tag(2, BYTES)
const RESOURCE_ATTRIBUTE = tag(1, BYTES)
const SPAN = tag(2, BYTES)
// Span
const TRACE_ID = tag(1, BYTES)
const SPAN_ID = tag(2, BYTES)
const PARENT_SPAN_ID = tag(4, BYTES)
const NAME = tag(5, BYTES)
const KIND = tag(6, VARINT)
const START = tag(7, FIXED64)
const END = tag(8, FIXED64)
const ATTRIBUTE = tag(9, BYTES)
const EVENT = tag(11, BYTES)
const STATUS = tag(15, BYTES)
// Span.Event
const EVENT_TIME = tag(1, FIXED64)
const EVENT_NAME = tag(2, BYTES)
const EVENT_ATTRIBUTE = tag(3, BYTES)
// Status
const STATUS_MESSAGE = tag(2, BYTES)
const STATUS_CODE = tag(3, VARINT)
// KeyValue; ArrayValue and KeyValueList hold field 1, repeated
const KEY = tag(1, BYTES)
const VALUE = tag(2, BYTES)
const ITEM = tag(1, BYTES)
// AnyValue
const STRING_VALUE = tag(1, BYTES)
const BOOL_VALUE = tag(2, VARINT)
const INT_VALUE = tag(3, VARINT)
const DOUBLE_VALUE = tag(4, FIXED64)
const ARRAY_VALUE = tag(5, BYTES)
const KVLIST_VALUE = tag(6, BYTES)
const BYTES_VALUE = tag(7, BYTES)

class Reader {
  pos = 0

  constructor(private readonly buf: Buffer) {}

  get length(): number {
    return this.buf.length
  }

  /** A varint as a number: exact below 2^53, which covers tags, lengths, enums and booleans. */
  varint(): number {
    let byte = this.byte()
    if (byte < 0x80) return byte
    let result = byte & 0x7f
    let multiplier = 128
    for (let i = 1; i < 10; i++) {
      byte = this.byte()
      result += (byte & 0x7f) * multiplier
      if (byte < 0x80) return result
      multiplier *= 128
    }
    throw malformed('varint longer than 10 bytes')
  }

  /** An int64 varint (two's complement: a negative number takes 10 bytes). */
  int64(): number {
    const start = this.pos
    const value = this.varint()
    if (value <= Number.MAX_SAFE_INTEGER) return value
    // Past 2^53, a double is not exact: decode again as a BigInt.
    let result = 0n
    for (let i = start, shift = 0n; i < this.pos; i++, shift += 7n) result |= BigInt((this.buf[i] as number) & 0x7f) << shift
    return Number(BigInt.asIntN(64, result))
  }

  /** A fixed64 as a double: nanosecond timestamps keep sub-microsecond precision. */
  fixed64(): number {
    const at = this.advance(8)
    return this.buf.readUInt32LE(at + 4) * 4294967296 + this.buf.readUInt32LE(at)
  }

  double(): number {
    return this.buf.readDoubleLE(this.advance(8))
  }

  /** Read a length prefix; returns where the length-delimited field ends (within `limit`). */
  end(limit: number): number {
    const length = this.varint()
    const end = this.pos + length
    if (end > limit) throw end > this.buf.length ? malformed('message truncated') : malformed('a field runs past the end of its message')
    return end
  }

  /** A length-delimited field as text: `utf8` (strings), `hex` (ids) or `base64` (bytes values). */
  text(limit: number, encoding: 'utf8' | 'hex' | 'base64'): string {
    const end = this.end(limit)
    const text = this.buf.toString(encoding, this.pos, end)
    this.pos = end
    return text
  }

  skip(wire: number, limit: number): void {
    if (wire === VARINT) this.varint()
    else if (wire === FIXED64) this.advance(8)
    else if (wire === BYTES) this.pos = this.end(limit)
    else if (wire === FIXED32) this.advance(4)
    else throw malformed(`unsupported wire type ${wire}`)
  }

  /** After a message's fields: they must have ended exactly at its end. */
  close(end: number): void {
    if (this.pos > end) throw malformed('a field runs past the end of its message')
  }

  private byte(): number {
    return this.buf[this.pos++] ?? this.truncated()
  }

  private truncated(): never {
    throw malformed('message truncated')
  }

  private advance(n: number): number {
    const start = this.pos
    if (start + n > this.buf.length) this.truncated()
    this.pos += n
    return start
  }
}

function malformed(reason: string): SwitchyardError {
  return new SwitchyardError('BAD_REQUEST', `OTLP/protobuf body is malformed: ${reason}`)
}

/** Decode an OTLP/protobuf ExportTraceServiceRequest. Throws BAD_REQUEST when malformed. */
export function decodeOtlpProtobuf(body: Uint8Array): OtlpResourceSpans[] {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const r = new Reader(buf)
  const out: OtlpResourceSpans[] = []
  while (r.pos < r.length) {
    const key = r.varint()
    if (key === RESOURCE_SPANS) out.push(resourceSpans(r, r.end(r.length)))
    else r.skip(key & 7, r.length)
  }
  return out
}

function resourceSpans(r: Reader, end: number): OtlpResourceSpans {
  const resource: OtlpKeyValue[] = []
  const spans: OtlpSpan[] = []
  while (r.pos < end) {
    const key = r.varint()
    if (key === RESOURCE) repeated(r, r.end(end), RESOURCE_ATTRIBUTE, resource, keyValue)
    else if (key === SCOPE_SPANS) repeated(r, r.end(end), SPAN, spans, span)
    else r.skip(key & 7, end)
  }
  r.close(end)
  return { resource, spans }
}

/** Decode each `field` of the message up to `end` with `decode`, into `out`; skip the rest. */
function repeated<T>(r: Reader, end: number, field: number, out: T[], decode: (r: Reader, end: number) => T): T[] {
  while (r.pos < end) {
    const key = r.varint()
    if (key === field) out.push(decode(r, r.end(end)))
    else r.skip(key & 7, end)
  }
  r.close(end)
  return out
}

function span(r: Reader, end: number): OtlpSpan {
  let traceId = ''
  let spanId = ''
  let parentSpanId = ''
  let name = ''
  let kind = 0
  let startTimeUnixNano = 0
  let endTimeUnixNano = 0
  const attributes: OtlpKeyValue[] = []
  const events: OtlpSpan['events'][number][] = []
  let status = { code: 0, message: '' }
  while (r.pos < end) {
    const key = r.varint()
    switch (key) {
      case TRACE_ID:
        traceId = r.text(end, 'hex')
        break
      case SPAN_ID:
        spanId = r.text(end, 'hex')
        break
      case PARENT_SPAN_ID:
        parentSpanId = r.text(end, 'hex')
        break
      case NAME:
        name = r.text(end, 'utf8')
        break
      case KIND:
        kind = r.varint()
        break
      case START:
        startTimeUnixNano = r.fixed64()
        break
      case END:
        endTimeUnixNano = r.fixed64()
        break
      case ATTRIBUTE:
        attributes.push(keyValue(r, r.end(end)))
        break
      case EVENT:
        events.push(event(r, r.end(end)))
        break
      case STATUS:
        status = spanStatus(r, r.end(end))
        break
      default:
        r.skip(key & 7, end)
    }
  }
  r.close(end)
  if (traceId.length !== 32 || spanId.length !== 16) throw malformed(`span '${name}' has no valid trace or span id`)
  return { traceId, spanId, parentSpanId, name, kind, startTimeUnixNano, endTimeUnixNano, attributes, events, status }
}

function event(r: Reader, end: number): OtlpSpan['events'][number] {
  let timeUnixNano = 0
  let name = ''
  const attributes: OtlpKeyValue[] = []
  while (r.pos < end) {
    const key = r.varint()
    if (key === EVENT_TIME) timeUnixNano = r.fixed64()
    else if (key === EVENT_NAME) name = r.text(end, 'utf8')
    else if (key === EVENT_ATTRIBUTE) attributes.push(keyValue(r, r.end(end)))
    else r.skip(key & 7, end)
  }
  r.close(end)
  return { timeUnixNano, name, attributes }
}

function spanStatus(r: Reader, end: number): OtlpSpan['status'] {
  let code = 0
  let message = ''
  while (r.pos < end) {
    const key = r.varint()
    if (key === STATUS_MESSAGE) message = r.text(end, 'utf8')
    else if (key === STATUS_CODE) code = r.varint()
    else r.skip(key & 7, end)
  }
  r.close(end)
  return { code, message }
}

function keyValue(r: Reader, end: number): OtlpKeyValue {
  let key = ''
  let value: AttributeValue = null
  while (r.pos < end) {
    const field = r.varint()
    if (field === KEY) key = r.text(end, 'utf8')
    else if (field === VALUE) value = anyValue(r, r.end(end))
    else r.skip(field & 7, end)
  }
  r.close(end)
  return { key, value }
}

function anyValue(r: Reader, end: number): AttributeValue {
  let value: AttributeValue = null
  while (r.pos < end) {
    const key = r.varint()
    switch (key) {
      case STRING_VALUE:
        value = r.text(end, 'utf8')
        break
      case BOOL_VALUE:
        value = r.varint() !== 0
        break
      case INT_VALUE:
        value = r.int64()
        break
      case DOUBLE_VALUE:
        value = r.double()
        break
      case ARRAY_VALUE:
        value = repeated(r, r.end(end), ITEM, [], anyValue)
        break
      case KVLIST_VALUE:
        value = Object.fromEntries(repeated(r, r.end(end), ITEM, [], keyValue).map((kv) => [kv.key, kv.value]))
        break
      case BYTES_VALUE:
        value = r.text(end, 'base64')
        break
      default:
        r.skip(key & 7, end)
    }
  }
  r.close(end)
  return value
}
