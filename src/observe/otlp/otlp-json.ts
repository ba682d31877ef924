// OTLP/JSON (the protobuf JSON mapping, with hex trace and span ids as the OTLP
// spec requires) decoded into resource spans. Lenient where senders differ:
// enum names or numbers, int64 as string or number, ids in hex or base64.
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
    const resource = isObject(rs.resource) ? keyValues(rs.resource.attributes) : []
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
    attributes: keyValues(span.attributes),
    events: list(span.events).map((event) => {
      const e = isObject(event) ? event : {}
      return { timeUnixNano: int64(e.timeUnixNano), name: typeof e.name === 'string' ? e.name : '', attributes: keyValues(e.attributes) }
    }),
    status: { code: enumValue(status.code, STATUS_NAMES), message: typeof status.message === 'string' ? status.message : '' },
  }
}

function keyValues(value: unknown): OtlpKeyValue[] {
  return list(value).flatMap((kv) => (isObject(kv) && typeof kv.key === 'string' ? [{ key: kv.key, value: anyValue(kv.value) }] : []))
}

function anyValue(value: unknown): AttributeValue {
  if (!isObject(value)) return null
  if (typeof value.stringValue === 'string') return value.stringValue
  if (typeof value.boolValue === 'boolean') return value.boolValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return Number(value.doubleValue)
  if (isObject(value.arrayValue)) return list(value.arrayValue.values).map(anyValue)
  if (isObject(value.kvlistValue)) {
    return Object.fromEntries(keyValues(value.kvlistValue.values).map((kv) => [kv.key, kv.value]))
  }
  if (typeof value.bytesValue === 'string') return value.bytesValue
  return null
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
