// OTLP/JSON (the protobuf JSON mapping, with hex trace and span ids as the OTLP
// spec requires) decoded into resource spans. Lenient where senders differ:
// enum names or numbers, int64 as string or number, ids in hex or base64. Attribute
// values nest (arrays of arrays, lists of key-values): past 100 levels of messages, as the
// protobuf decoder counts them, a body is refused, before the recursion can exhaust the stack.
import { SwitchyardError } from '../../control/index.js'
import type { OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from './otlp-request.js'
import type { AttributeValue } from '../store/index.js'

type Json = Record<string, unknown>

const KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
]
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']

/**
 * How deep messages may nest, the request itself at 1: the generated protobuf decoder's
 * recursion limit, so both encodings take the same values. A span's attributes are
 * KeyValues at depth 5 (request, resourceSpans, scopeSpans, span), each array level two more.
 */
const MAX_DEPTH = 100
const RESOURCE_ATTRIBUTES = 4
const SPAN_ATTRIBUTES = 5
const EVENT_ATTRIBUTES = 6

/** Decode an OTLP/JSON ExportTraceServiceRequest. Throws BAD_REQUEST naming what is wrong. */
export function decodeOtlpJson(text: string): OtlpResourceSpans[] {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new SwitchyardError('BAD_REQUEST', `OTLP/JSON body is not valid JSON: ${(error as Error).message}`)
  }
  if (!isObject(body)) throw new SwitchyardError('BAD_REQUEST', 'OTLP/JSON body must be an object with resourceSpans')
  return list(body.resourceSpans).map((resourceSpans, r) => {
    const rs = object(resourceSpans, `resourceSpans[${r}]`)
    const resource = isObject(rs.resource) ? keyValues(rs.resource.attributes, RESOURCE_ATTRIBUTES) : []
    const spans = list(rs.scopeSpans).flatMap((scopeSpans, s) =>
      list(object(scopeSpans, `resourceSpans[${r}].scopeSpans[${s}]`).spans).map((span, i) =>
        decodeSpan(object(span, `resourceSpans[${r}].scopeSpans[${s}].spans[${i}]`), `resourceSpans[${r}].scopeSpans[${s}].spans[${i}]`),
      ),
    )
    return { resource, spans }
  })
}

function decodeSpan(span: Json, where: string): OtlpSpan {
  const status = isObject(span.status) ? span.status : {}
  return {
    traceId: id(span.traceId, 16, `${where}.traceId`),
    spanId: id(span.spanId, 8, `${where}.spanId`),
    parentSpanId: span.parentSpanId === undefined || span.parentSpanId === '' ? '' : id(span.parentSpanId, 8, `${where}.parentSpanId`),
    name: typeof span.name === 'string' ? span.name : '',
    kind: enumValue(span.kind, KIND_NAMES),
    startTimeUnixNano: int64(span.startTimeUnixNano),
    endTimeUnixNano: int64(span.endTimeUnixNano),
    attributes: keyValues(span.attributes, SPAN_ATTRIBUTES),
    events: list(span.events).map((event) => {
      const e = isObject(event) ? event : {}
      return {
        timeUnixNano: int64(e.timeUnixNano),
        name: typeof e.name === 'string' ? e.name : '',
        attributes: keyValues(e.attributes, EVENT_ATTRIBUTES),
      }
    }),
    status: { code: enumValue(status.code, STATUS_NAMES), message: typeof status.message === 'string' ? status.message : '' },
  }
}

/** KeyValue messages at `depth`. */
function keyValues(value: unknown, depth: number): OtlpKeyValue[] {
  const entries = list(value)
  if (entries.length > 0) nested(depth)
  return entries.flatMap((kv) =>
    isObject(kv) && typeof kv.key === 'string' ? [{ key: kv.key, value: anyValue(kv.value, depth + 1) }] : [],
  )
}

/** An AnyValue message at `depth`: an ArrayValue or KeyValueList in it is one deeper, their values two or three. */
function anyValue(value: unknown, depth: number): AttributeValue {
  if (!isObject(value)) return null
  nested(depth)
  if (typeof value.stringValue === 'string') return value.stringValue
  if (typeof value.boolValue === 'boolean') return value.boolValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return Number(value.doubleValue)
  if (isObject(value.arrayValue)) {
    nested(depth + 1)
    return list(value.arrayValue.values).map((item) => anyValue(item, depth + 2))
  }
  if (isObject(value.kvlistValue)) {
    nested(depth + 1)
    return Object.fromEntries(keyValues(value.kvlistValue.values, depth + 2).map((kv) => [kv.key, kv.value]))
  }
  if (typeof value.bytesValue === 'string') return value.bytesValue
  return null
}

function nested(depth: number): void {
  if (depth > MAX_DEPTH) {
    throw new SwitchyardError(
      'BAD_REQUEST',
      `OTLP/JSON attribute values nest past ${MAX_DEPTH} levels of messages (the limit, as for OTLP/protobuf)`,
    )
  }
}

/** A trace or span id: hex (the OTLP spec), or base64 (the generic protobuf JSON mapping). */
function id(value: unknown, bytes: number, where: string): string {
  if (typeof value === 'string') {
    if (value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase()
    const decoded = Buffer.from(value, 'base64')
    if (decoded.length === bytes) return decoded.toString('hex')
  }
  throw new SwitchyardError('BAD_REQUEST', `OTLP/JSON ${where} must be ${bytes * 2} hex digits, got ${JSON.stringify(value)}`)
}

/** An int64 timestamp (string, number or {low, high}) as a double. */
function int64(value: unknown): number {
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value)
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (isObject(value) && typeof value.low === 'number' && typeof value.high === 'number') {
    return (value.high >>> 0) * 4294967296 + (value.low >>> 0)
  }
  return 0
}

function enumValue(value: unknown, names: readonly string[]): number {
  if (typeof value === 'number') return value
  if (typeof value === 'string') return Math.max(0, names.indexOf(value))
  return 0
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function object(value: unknown, where: string): Json {
  if (!isObject(value)) throw new SwitchyardError('BAD_REQUEST', `OTLP/JSON ${where} must be an object`)
  return value
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
