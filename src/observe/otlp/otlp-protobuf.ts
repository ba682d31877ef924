// OTLP/protobuf in: the ExportTraceServiceRequest decoded by code generated from the
// pinned opentelemetry-proto files (src/observe/otlp/proto, scripts/otlp-proto.sh), then
// turned into the decoded form the JSON decoder gives too. The generated decoder skips
// unknown fields, as protobuf requires, and refuses messages nested past 100 levels.
import { SwitchyardError } from '../../control/index.js'
import { ExportTraceServiceRequest } from './generated/opentelemetry/proto/collector/trace/v1/trace_service.js'
import type { AnyValue, KeyValue } from './generated/opentelemetry/proto/common/v1/common.js'
import type { OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from './otlp-request.js'
import type { AttributeValue } from '../store/index.js'

function malformed(reason: string): SwitchyardError {
  return new SwitchyardError('BAD_REQUEST', `OTLP/protobuf body is malformed: ${reason}`)
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

/** Decode an OTLP/protobuf ExportTraceServiceRequest. Throws BAD_REQUEST when malformed. */
export function decodeOtlpProtobuf(body: Uint8Array): OtlpResourceSpans[] {
  let request: ExportTraceServiceRequest
  try {
    request = ExportTraceServiceRequest.decode(body)
  } catch (error) {
    throw malformed(error instanceof Error ? error.message : String(error))
  }
  return request.resourceSpans.map((batch) => ({
    resource: (batch.resource?.attributes ?? []).map(keyValue),
    spans: batch.scopeSpans.flatMap((scope) => scope.spans.map(span)),
  }))
}

function span(decoded: ExportTraceServiceRequest['resourceSpans'][number]['scopeSpans'][number]['spans'][number]): OtlpSpan {
  const traceId = hex(decoded.traceId)
  const spanId = hex(decoded.spanId)
  if (traceId.length !== 32 || spanId.length !== 16) throw malformed(`span '${decoded.name}' has no valid trace or span id`)
  return {
    traceId,
    spanId,
    parentSpanId: hex(decoded.parentSpanId),
    name: decoded.name,
    kind: decoded.kind,
    // Nanoseconds as the nearest double: sub-microsecond precision is plenty for a run tree.
    startTimeUnixNano: Number(decoded.startTimeUnixNano),
    endTimeUnixNano: Number(decoded.endTimeUnixNano),
    attributes: decoded.attributes.map(keyValue),
    events: decoded.events.map((event) => ({
      timeUnixNano: Number(event.timeUnixNano),
      name: event.name,
      attributes: event.attributes.map(keyValue),
    })),
    status: { code: decoded.status?.code ?? 0, message: decoded.status?.message ?? '' },
  }
}

function keyValue(kv: KeyValue): OtlpKeyValue {
  return { key: kv.key, value: kv.value === undefined ? null : anyValue(kv.value) }
}

function anyValue(value: AnyValue): AttributeValue {
  if (value.stringValue !== undefined) return value.stringValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.arrayValue !== undefined) return value.arrayValue.values.map(anyValue)
  if (value.kvlistValue !== undefined) return Object.fromEntries(value.kvlistValue.values.map((kv) => [kv.key, keyValue(kv).value]))
  if (value.bytesValue !== undefined) return Buffer.from(value.bytesValue).toString('base64')
  return null
}
