// OTLP/protobuf decoded by hand: the trace request is a handful of small messages
// (opentelemetry/proto/trace/v1/trace.proto), and @opentelemetry/otlp-transformer
// no longer ships a generated decoder. Unknown fields are skipped, as protobuf requires.
import { SwitchyardError } from '../control/errors.js'
import type { OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from './otlp-request.js'
import type { AttributeValue } from './stored-span.js'

const VARINT = 0
const FIXED64 = 1
const BYTES = 2
const FIXED32 = 5

class Reader {
  pos = 0
  private readonly view: DataView
  private readonly text: Buffer

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    // A Buffer over the same bytes: strings decode without copying.
    this.text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  get done(): boolean {
    return this.pos >= this.buf.length
  }

  tag(): { field: number; wire: number } {
    const tag = this.uint32()
    return { field: tag >>> 3, wire: tag & 7 }
  }

  /** A varint read as a number: exact for tags, lengths and enums (BigInt only where int64 needs it). */
  uint32(): number {
    let result = 0
    let multiplier = 1
    for (let i = 0; i < 10; i++) {
      const byte = this.byte()
      result += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) return result
      multiplier *= 128
    }
    throw malformed('varint longer than 10 bytes')
  }

  varint(): bigint {
    let result = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.byte()
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
    }
    throw malformed('varint longer than 10 bytes')
  }

  /** A fixed64 as a double: nanosecond timestamps keep sub-microsecond precision. */
  fixed64(): number {
    const at = this.advance(8)
    return this.view.getUint32(at + 4, true) * 4294967296 + this.view.getUint32(at, true)
  }

  double(): number {
    return this.view.getFloat64(this.advance(8), true)
  }

  bytes(): Uint8Array {
    const length = this.uint32()
    const start = this.advance(length)
    return this.buf.subarray(start, start + length)
  }

  string(): string {
    const length = this.uint32()
    const start = this.advance(length)
    return this.text.toString('utf8', start, start + length)
  }

  hex(): string {
    const length = this.uint32()
    const start = this.advance(length)
    return this.text.toString('hex', start, start + length)
  }

  skip(wire: number): void {
    if (wire === VARINT) this.uint32()
    else if (wire === FIXED64) this.advance(8)
    else if (wire === BYTES) this.advance(this.uint32())
    else if (wire === FIXED32) this.advance(4)
    else throw malformed(`unsupported wire type ${wire}`)
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw malformed('message truncated')
    return this.buf[this.pos++] as number
  }

  private advance(n: number): number {
    const start = this.pos
    if (start + n > this.buf.length) throw malformed('message truncated')
    this.pos += n
    return start
  }
}

function malformed(reason: string): SwitchyardError {
  return new SwitchyardError('BAD_REQUEST', `OTLP/protobuf body is malformed: ${reason}`)
}

/** Run `field` for each field of the message in `bytes`. */
function each(bytes: Uint8Array, field: (reader: Reader, number: number, wire: number) => boolean): void {
  const reader = new Reader(bytes)
  while (!reader.done) {
    const { field: number, wire } = reader.tag()
    if (!field(reader, number, wire)) reader.skip(wire)
  }
}

/** Decode an OTLP/protobuf ExportTraceServiceRequest. Throws BAD_REQUEST when malformed. */
export function decodeOtlpProtobuf(body: Uint8Array): OtlpResourceSpans[] {
  const out: OtlpResourceSpans[] = []
  each(body, (r, n, w) => {
    if (n !== 1 || w !== BYTES) return false
    out.push(resourceSpans(r.bytes()))
    return true
  })
  return out
}

function resourceSpans(bytes: Uint8Array): OtlpResourceSpans {
  const resource: OtlpKeyValue[] = []
  const spans: OtlpSpan[] = []
  each(bytes, (r, n, w) => {
    if (w !== BYTES) return false
    if (n === 1) each(r.bytes(), (rr, nn, ww) => (nn === 1 && ww === BYTES ? (resource.push(keyValue(rr.bytes())), true) : false))
    else if (n === 2) each(r.bytes(), (rr, nn, ww) => (nn === 2 && ww === BYTES ? (spans.push(span(rr.bytes())), true) : false))
    else return false
    return true
  })
  return { resource, spans }
}

function span(bytes: Uint8Array): OtlpSpan {
  const s = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0,
    endTimeUnixNano: 0,
    attributes: [] as OtlpKeyValue[],
    events: [] as { timeUnixNano: number; name: string; attributes: OtlpKeyValue[] }[],
    status: { code: 0, message: '' },
  }
  each(bytes, (r, n, w) => {
    if (n === 1 && w === BYTES) s.traceId = r.hex()
    else if (n === 2 && w === BYTES) s.spanId = r.hex()
    else if (n === 4 && w === BYTES) s.parentSpanId = r.hex()
    else if (n === 5 && w === BYTES) s.name = r.string()
    else if (n === 6 && w === VARINT) s.kind = r.uint32()
    else if (n === 7 && w === FIXED64) s.startTimeUnixNano = r.fixed64()
    else if (n === 8 && w === FIXED64) s.endTimeUnixNano = r.fixed64()
    else if (n === 9 && w === BYTES) s.attributes.push(keyValue(r.bytes()))
    else if (n === 11 && w === BYTES) s.events.push(event(r.bytes()))
    else if (n === 15 && w === BYTES) s.status = status(r.bytes())
    else return false
    return true
  })
  if (s.traceId.length !== 32 || s.spanId.length !== 16) throw malformed(`span '${s.name}' has no valid trace or span id`)
  return s
}

function event(bytes: Uint8Array) {
  const e = { timeUnixNano: 0, name: '', attributes: [] as OtlpKeyValue[] }
  each(bytes, (r, n, w) => {
    if (n === 1 && w === FIXED64) e.timeUnixNano = r.fixed64()
    else if (n === 2 && w === BYTES) e.name = r.string()
    else if (n === 3 && w === BYTES) e.attributes.push(keyValue(r.bytes()))
    else return false
    return true
  })
  return e
}

function status(bytes: Uint8Array) {
  const s = { code: 0, message: '' }
  each(bytes, (r, n, w) => {
    if (n === 2 && w === BYTES) s.message = r.string()
    else if (n === 3 && w === VARINT) s.code = r.uint32()
    else return false
    return true
  })
  return s
}

function keyValue(bytes: Uint8Array): OtlpKeyValue {
  let key = ''
  let value: AttributeValue = null
  each(bytes, (r, n, w) => {
    if (n === 1 && w === BYTES) key = r.string()
    else if (n === 2 && w === BYTES) value = anyValue(r.bytes())
    else return false
    return true
  })
  return { key, value }
}

function anyValue(bytes: Uint8Array): AttributeValue {
  let value: AttributeValue = null
  each(bytes, (r, n, w) => {
    if (n === 1 && w === BYTES) value = r.string()
    else if (n === 2 && w === VARINT) value = r.uint32() !== 0
    else if (n === 3 && w === VARINT) value = Number(BigInt.asIntN(64, r.varint()))
    else if (n === 4 && w === FIXED64) value = r.double()
    else if (n === 5 && w === BYTES) value = repeated(r.bytes(), anyValue)
    else if (n === 6 && w === BYTES) value = Object.fromEntries(repeated(r.bytes(), keyValue).map((kv) => [kv.key, kv.value]))
    else if (n === 7 && w === BYTES) value = Buffer.from(r.bytes()).toString('base64')
    else return false
    return true
  })
  return value
}

/** Field 1, repeated, of ArrayValue / KeyValueList. */
function repeated<T>(bytes: Uint8Array, decode: (bytes: Uint8Array) => T): T[] {
  const out: T[] = []
  each(bytes, (r, n, w) => (n === 1 && w === BYTES ? (out.push(decode(r.bytes())), true) : false))
  return out
}
