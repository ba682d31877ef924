// A SpanExporter wrapper that applies a capture mode to every exported attribute,
// event and error message, so nothing recorded by any code in the process (a graph,
// a model provider) leaks what the pool's `capture` forbids. A worker has one
// pool's setting; the gateway, serving every pool, resolves it per span.
import type { ExportResult } from '@opentelemetry/core'
import type { Attributes, AttributeValue } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { ATTR, GENAI } from '../../control/index.js'
import type { Pool, TracingConfig } from '../../control/index.js'
import { MASK, redactText } from '../capture/index.js'

export type CaptureSetting = Pick<TracingConfig, 'capture' | 'redact'>
/** The capture setting of one span; undefined = record as is. */
export type CapturePolicy = CaptureSetting | ((span: ReadableSpan) => CaptureSetting | undefined)

// What a run carries in: its input and output, and what its model calls sent and got back.
const PAYLOAD_KEYS: ReadonlySet<string> = new Set([ATTR.input, ATTR.output, GENAI.inputMessages, GENAI.outputMessages])

/**
 * The capture setting of each span from the pool it names (`switchyard.pool`, else
 * `switchyard.project`): for the gateway, whose spans belong to many pools.
 *
 * @example initTracing({ service: SERVICE.gateway, env, tracing: captureByPool(registry.pools.values()) })
 */
export function captureByPool(pools: Iterable<Pool>): (span: ReadableSpan) => CaptureSetting | undefined {
  const byPool = new Map<string, CaptureSetting>()
  const byProject = new Map<string, CaptureSetting>()
  for (const pool of pools) {
    byPool.set(pool.name, pool.tracing)
    byProject.set(pool.tracing.project, pool.tracing)
  }
  return (span) => {
    const pool = span.attributes[ATTR.pool] ?? span.resource.attributes[ATTR.pool]
    const project = span.attributes[ATTR.project] ?? span.resource.attributes[ATTR.project]
    return (typeof pool === 'string' ? byPool.get(pool) : undefined) ?? (typeof project === 'string' ? byProject.get(project) : undefined)
  }
}

/** Masks (`redacted`) or drops (`none`) recorded values before `inner` exports them; `full` passes spans through. */
export class RedactingExporter implements SpanExporter {
  private readonly keys = new WeakMap<CaptureSetting, ReadonlySet<string>>()

  constructor(
    private readonly inner: SpanExporter,
    private readonly policy: CapturePolicy,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (typeof this.policy !== 'function' && this.policy.capture === 'full') return this.inner.export(spans, resultCallback)
    this.inner.export(
      spans.map((span) => {
        const setting = typeof this.policy === 'function' ? this.policy(span) : this.policy
        return setting === undefined || setting.capture === 'full' ? span : this.clean(span, setting)
      }),
      resultCallback,
    )
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }

  private clean(span: ReadableSpan, setting: CaptureSetting): ReadableSpan {
    const attributes = this.attributes(span.attributes, setting)
    const events = span.events.map((event) =>
      event.attributes ? { ...event, attributes: this.attributes(event.attributes, setting) } : event,
    )
    // Error messages can quote the input (an address that failed validation, say).
    const status =
      span.status.message && setting.capture === 'redacted' ? { ...span.status, message: redactText(span.status.message) } : span.status
    // A view over the original: methods such as spanContext() keep their receiver.
    return Object.create(span, { attributes: { value: attributes }, events: { value: events }, status: { value: status } }) as ReadableSpan
  }

  private attributes(attributes: Attributes, setting: CaptureSetting): Attributes {
    const keys = this.keysOf(setting)
    const out: Attributes = {}
    for (const [key, value] of Object.entries(attributes)) {
      if (setting.capture === 'none' && PAYLOAD_KEYS.has(key)) continue
      const last = key.slice(key.lastIndexOf('.') + 1).toLowerCase()
      out[key] = keys.has(key.toLowerCase()) || keys.has(last) ? MASK.key : this.value(value, setting)
    }
    return out
  }

  private keysOf(setting: CaptureSetting): ReadonlySet<string> {
    let keys = this.keys.get(setting)
    if (keys === undefined) {
      keys = new Set(setting.redact.map((key) => key.toLowerCase()))
      this.keys.set(setting, keys)
    }
    return keys
  }

  private value(value: AttributeValue | undefined, setting: CaptureSetting): AttributeValue | undefined {
    if (setting.capture !== 'redacted') return value
    if (typeof value === 'string') return redactText(value)
    if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? redactText(item) : item)) as AttributeValue
    return value
  }
}
