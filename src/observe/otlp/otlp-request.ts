// The decoded form of an OTLP ExportTraceServiceRequest, shared by the JSON and
// protobuf decoders, and its conversion into stored spans.
import { ATTR } from '../../control/index.js'
import type { AttributeValue, Attributes, SpanKindName, SpanStatusName, StoredEvent, StoredSpan } from '../store/index.js'

export interface OtlpKeyValue {
  readonly key: string
  readonly value: AttributeValue
}

export interface OtlpSpan {
  /** Lowercase hex. */
  readonly traceId: string
  readonly spanId: string
  /** '' when the span is a root. */
  readonly parentSpanId: string
  readonly name: string
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number
  /** Epoch nanoseconds, as a double (sub-microsecond precision is plenty for a run tree). */
  readonly startTimeUnixNano: number
  readonly endTimeUnixNano: number
  readonly attributes: readonly OtlpKeyValue[]
  readonly events: readonly { readonly timeUnixNano: number; readonly name: string; readonly attributes: readonly OtlpKeyValue[] }[]
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string }
}

export interface OtlpResourceSpans {
  readonly resource: readonly OtlpKeyValue[]
  readonly spans: readonly OtlpSpan[]
}

export const KINDS: readonly SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']
export const STATUSES: readonly SpanStatusName[] = ['unset', 'ok', 'error']

/**
 * Stored spans from decoded resource spans. The project is the span's own
 * `switchyard.project`, else its resource's, else that of a span of the same trace
 * from the same process that names one (the gateway's `route` span belongs to
 * its run's pool project), else the service name.
 */
export function toStoredSpans(batches: readonly OtlpResourceSpans[]): StoredSpan[] {
  const out: StoredSpan[] = []
  for (const batch of batches) {
    const resource = toAttributes(batch.resource)
    const { service, project: resourceProject } = processOf(resource)
    const traceProjects = new Map<string, string>()
    for (const span of batch.spans) {
      const own = span.attributes.find((kv) => kv.key === ATTR.project)?.value
      if (typeof own === 'string' && !traceProjects.has(span.traceId)) traceProjects.set(span.traceId, own)
    }
    for (const span of batch.spans) {
      const attributes = toAttributes(span.attributes)
      const own = attributes[ATTR.project]
      const project = projectOf(own, resourceProject, traceProjects.get(span.traceId), service)
      const events: StoredEvent[] = span.events.map((event) => ({
        name: event.name,
        time: nanosToMillis(event.timeUnixNano),
        attributes: toAttributes(event.attributes),
      }))
      out.push({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId === '' ? null : span.parentSpanId,
        name: span.name,
        kind: KINDS[span.kind] ?? 'unspecified',
        service,
        project,
        start: nanosToMillis(span.startTimeUnixNano),
        end: nanosToMillis(span.endTimeUnixNano),
        status: STATUSES[span.status.code] ?? 'unset',
        ...(span.status.message ? { statusMessage: span.status.message } : {}),
        attributes,
        resource,
        ...(events.length ? { events } : {}),
      })
    }
  }
  return out
}

/** A process's service name and project, from its resource attributes. */
export function processOf(resource: Attributes): { service: string; project: string | undefined } {
  return { service: text(resource['service.name']) ?? 'unknown_service', project: text(resource[ATTR.project]) }
}

/** The filing rule above, shared with StoreSpanExporter: the span's own project, else its process's, else its trace's, else the service. */
export function projectOf(own: unknown, resourceProject: string | undefined, traceProject: string | undefined, service: string): string {
  return typeof own === 'string' ? own : (resourceProject ?? traceProject ?? service)
}

function text(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function toAttributes(list: readonly OtlpKeyValue[]): Attributes {
  const attributes: Record<string, AttributeValue> = {}
  for (const { key, value } of list) attributes[key] = value
  return attributes
}

/** Epoch nanoseconds to epoch milliseconds, keeping the sub-millisecond part. */
export function nanosToMillis(nanos: number): number {
  return nanos / 1e6
}
