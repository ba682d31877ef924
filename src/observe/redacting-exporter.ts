// A SpanExporter wrapper that applies the pool's capture mode to every exported
// attribute and event, so nothing recorded by any code in the process (a graph,
// a model provider) leaks what the pool's `capture` forbids.
import type { ExportResult } from '@opentelemetry/core'
import type { Attributes, AttributeValue } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { ATTR } from '../control/attributes.js'
import type { TracingConfig } from '../control/types.js'
import { MASK, redactText } from './capture.js'

const PAYLOAD_KEYS: ReadonlySet<string> = new Set([ATTR.input, ATTR.output])

/** Masks (`redacted`) or drops (`none`) recorded values before `inner` exports them; `full` passes spans through. */
export class RedactingExporter implements SpanExporter {
  private readonly keys: ReadonlySet<string>

  constructor(
    private readonly inner: SpanExporter,
    private readonly tracing: Pick<TracingConfig, 'capture' | 'redact'>,
  ) {
    this.keys = new Set(tracing.redact.map((key) => key.toLowerCase()))
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.tracing.capture === 'full') return this.inner.export(spans, resultCallback)
    this.inner.export(spans.map((span) => this.clean(span)), resultCallback)
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }

  private clean(span: ReadableSpan): ReadableSpan {
    const attributes = this.attributes(span.attributes)
    const events = span.events.map((event) => (event.attributes ? { ...event, attributes: this.attributes(event.attributes) } : event))
    // Error messages can quote the input (an address that failed validation, say).
    const status = span.status.message && this.tracing.capture === 'redacted' ? { ...span.status, message: redactText(span.status.message) } : span.status
    // A view over the original: methods such as spanContext() keep their receiver.
    return Object.create(span, { attributes: { value: attributes }, events: { value: events }, status: { value: status } }) as ReadableSpan
  }

  private attributes(attributes: Attributes): Attributes {
    const out: Attributes = {}
    for (const [key, value] of Object.entries(attributes)) {
      if (this.tracing.capture === 'none' && PAYLOAD_KEYS.has(key)) continue
      const last = key.slice(key.lastIndexOf('.') + 1).toLowerCase()
      out[key] = this.keys.has(key.toLowerCase()) || this.keys.has(last) ? MASK.key : this.value(value)
    }
    return out
  }

  private value(value: AttributeValue | undefined): AttributeValue | undefined {
    if (typeof value === 'string') return this.tracing.capture === 'redacted' ? redactText(value) : value
    if (Array.isArray(value) && this.tracing.capture === 'redacted') {
      return value.map((item) => (typeof item === 'string' ? redactText(item) : item)) as AttributeValue
    }
    return value
  }
}
