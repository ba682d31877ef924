// A span processor around the batch processor that exports a forced run's spans as
// soon as this process's part of the run ends: its local root (the gateway's request
// span, the worker's `run` span) closes with the gateway's forced mark in its
// `tracestate` (sampler.ts). Every other run waits for the batch delay as usual, so
// flushing costs only the runs an authorised caller is looking at right now
// (`switchyard run --trace`), and they appear whole at once.
import type { Context } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { isForced } from './sampler.js'

export class FlushForcedProcessor implements SpanProcessor {
  constructor(private readonly inner: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext)
  }

  onEnd(span: ReadableSpan): void {
    this.inner.onEnd(span)
    const parent = span.parentSpanContext
    const localRoot = parent === undefined || parent.isRemote === true
    // A failed flush is the batch processor's to report; the spans are then lost as any failed batch is.
    if (localRoot && isForced(span.spanContext().traceState)) this.inner.forceFlush().catch(() => undefined)
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }
}
