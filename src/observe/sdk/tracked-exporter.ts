// A SpanExporter wrapper that knows which exports are in flight. The SDK's
// BatchSpanProcessor.forceFlush() exports only the spans still in its buffer: a batch
// its timer already handed to the exporter is not waited for, so "flush, then read the
// store" could find nothing (the 50 ms batch of the embedded gateway made that a race
// any busy machine lost). forceFlush() here resolves once every export started before
// it has called back, which is what a caller of Tracing.forceFlush() means.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'

export class TrackedExporter implements SpanExporter {
  private readonly inFlight = new Set<Promise<void>>()

  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let done!: () => void
    const settled = new Promise<void>((resolve) => (done = resolve))
    this.inFlight.add(settled)
    let called = false
    const finish = (result: ExportResult) => {
      if (called) return
      called = true
      this.inFlight.delete(settled)
      done()
      resultCallback(result)
    }
    try {
      this.inner.export(spans, finish)
    } catch (error) {
      finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) })
    }
  }

  /** Resolve once every export started so far has settled (not those started later), then flush the inner exporter. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.inFlight])
    await this.inner.forceFlush?.()
  }

  async shutdown(): Promise<void> {
    await this.forceFlush()
    await this.inner.shutdown()
  }
}
