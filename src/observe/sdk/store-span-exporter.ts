// A SpanExporter that writes straight into a trace store: for the process that
// hosts the store (the embedded gateway), its own spans need no OTLP round trip
// through its own HTTP receiver. The stored spans are what the receiver would store
// for the same spans (toStoredSpans), built from the SDK's spans without the OTLP shape
// in between.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import type { HrTime } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { ATTR } from '../../control/index.js'
import { KINDS, nanosToMillis, processOf, projectOf, STATUSES } from '../otlp/index.js'
import type { Attributes, StoredSpan, TraceStore } from '../store/index.js'

/**
 * @example
 * const gateway = await startGateway({ …, traceDir })
 * initTracing({ service: SERVICE.gateway, env, exporter: new StoreSpanExporter(store) })
 */
export class StoreSpanExporter implements SpanExporter {
  constructor(private readonly store: TraceStore) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.store.add(storedSpans(spans)).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: unknown) =>
        resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    )
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

type Resource = ReadableSpan['resource']

/** What the spans of one resource (one process) share: its service, its project, and each trace's project among them. */
interface Origin {
  readonly service: string
  readonly project: string | undefined
  readonly resource: Attributes
  readonly traceProjects: Map<string, string>
}

/** The SDK's spans as stored spans, filed by the rule of toStoredSpans (otlp-request.ts). */
export function storedSpans(spans: readonly ReadableSpan[]): StoredSpan[] {
  const origins = new Map<Resource, Origin>()
  for (const span of spans) {
    let origin = origins.get(span.resource)
    if (origin === undefined) {
      const resource = span.resource.attributes as Attributes
      origin = { ...processOf(resource), resource, traceProjects: new Map() }
      origins.set(span.resource, origin)
    }
    const own = span.attributes[ATTR.project]
    const traceId = span.spanContext().traceId
    if (typeof own === 'string' && !origin.traceProjects.has(traceId)) origin.traceProjects.set(traceId, own)
  }
  return spans.map((span) => {
    const origin = origins.get(span.resource) as Origin
    const { traceId, spanId } = span.spanContext()
    const message = span.status.message
    return {
      traceId,
      spanId,
      parentSpanId: span.parentSpanContext?.spanId || null,
      name: span.name,
      // SDK SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0.
      kind: KINDS[span.kind + 1] ?? 'unspecified',
      service: origin.service,
      project: projectOf(span.attributes[ATTR.project], origin.project, origin.traceProjects.get(traceId), origin.service),
      start: millis(span.startTime),
      end: millis(span.endTime),
      status: STATUSES[span.status.code] ?? 'unset',
      ...(message ? { statusMessage: message } : {}),
      // The SDK's own objects: ended spans never change, and the store only serializes them.
      attributes: span.attributes as Attributes,
      resource: origin.resource,
      ...(span.events.length
        ? {
            events: span.events.map((event) => ({
              name: event.name,
              time: millis(event.time),
              attributes: (event.attributes ?? {}) as Attributes,
            })),
          }
        : {}),
    }
  })
}

/** The same arithmetic as the receiver's (epoch nanoseconds as a double, then milliseconds), so both store equal times. */
function millis([seconds, nanos]: HrTime): number {
  return nanosToMillis(seconds * 1e9 + nanos)
}
