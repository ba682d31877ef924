// A SpanExporter that writes straight into a trace store: for the process that
// hosts the store (the embedded gateway), its own spans need no OTLP round trip
// through its own HTTP receiver.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import type { HrTime, Attributes as OtelAttributes } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { toStoredSpans, type OtlpKeyValue, type OtlpResourceSpans } from './otlp-request.js'
import type { AttributeValue } from './stored-span.js'
import type { TraceStore } from './trace-store.js'

/**
 * @example
 * const gateway = await startGateway({ …, traceDir })
 * initTracing({ service: SERVICE.gateway, env, exporter: new StoreSpanExporter(store) })
 */
export class StoreSpanExporter implements SpanExporter {
  constructor(private readonly store: TraceStore) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.store.add(toStoredSpans(toResourceSpans(spans))).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: unknown) =>
        resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    )
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

/** SDK spans in the decoded-OTLP shape, grouped by resource (the same conversion as the receiver's). */
function toResourceSpans(spans: readonly ReadableSpan[]): OtlpResourceSpans[] {
  const groups = new Map<unknown, { resource: OtlpKeyValue[]; spans: OtlpResourceSpans['spans'][number][] }>()
  for (const span of spans) {
    let group = groups.get(span.resource)
    if (group === undefined) {
      group = { resource: keyValues(span.resource.attributes), spans: [] }
      groups.set(span.resource, group)
    }
    const context = span.spanContext()
    group.spans.push({
      traceId: context.traceId,
      spanId: context.spanId,
      parentSpanId: span.parentSpanContext?.spanId ?? '',
      name: span.name,
      // SDK SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0.
      kind: span.kind + 1,
      startTimeUnixNano: nanos(span.startTime),
      endTimeUnixNano: nanos(span.endTime),
      attributes: keyValues(span.attributes),
      events: span.events.map((event) => ({
        timeUnixNano: nanos(event.time),
        name: event.name,
        attributes: keyValues(event.attributes ?? {}),
      })),
      status: { code: span.status.code, message: span.status.message ?? '' },
    })
  }
  return [...groups.values()]
}

function keyValues(attributes: OtelAttributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = []
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) out.push({ key, value: value as AttributeValue })
  }
  return out
}

function nanos([seconds, nanoseconds]: HrTime): number {
  return seconds * 1e9 + nanoseconds
}
