// A SpanExporter wrapper that applies a capture mode to every exported attribute,
// event and error message, so nothing recorded by any code in the process (a graph,
// a model provider) leaks what the pool's `capture` forbids. A worker has one
// pool's setting; the gateway, serving every pool, resolves it per span. A worker's
// secrets (capture/secrets.ts) are scrubbed from every span whatever the setting.
import type { ExportResult } from '@opentelemetry/core'
import type { Attributes, AttributeValue } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { ATTR, GENAI } from '../../control/index.js'
import type { Pool, TracingConfig } from '../../control/index.js'
import { MASK, redactRecorded, redactText, type Scrub } from '../capture/index.js'

export type CaptureSetting = Pick<TracingConfig, 'capture' | 'redact'>
/** The capture setting of one span; undefined = record as is. */
export type CapturePolicy = CaptureSetting | ((span: ReadableSpan) => CaptureSetting | undefined)

const FULL: CaptureSetting = { capture: 'full', redact: [] }

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

  /** @param secrets scrubs the process's secrets from every string, whatever the policy */
  constructor(
    private readonly inner: SpanExporter,
    private readonly policy: CapturePolicy,
    private readonly secrets?: Scrub,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (typeof this.policy !== 'function' && this.policy.capture === 'full' && !this.secrets)
      return this.inner.export(spans, resultCallback)
    this.inner.export(
      spans.map((span) => {
        const setting = (typeof this.policy === 'function' ? this.policy(span) : this.policy) ?? FULL
        return setting.capture === 'full' && !this.secrets ? span : this.clean(span, setting)
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
    const status = span.status.message ? { ...span.status, message: this.text(span.status.message, setting) } : span.status
    // A view over the original: methods such as spanContext() keep their receiver.
    return Object.create(span, { attributes: { value: attributes }, events: { value: events }, status: { value: status } }) as ReadableSpan
  }

  private attributes(attributes: Attributes, setting: CaptureSetting): Attributes {
    const keys = this.keysOf(setting)
    const out: Attributes = {}
    for (const [key, value] of Object.entries(attributes)) {
      if (setting.capture === 'none' && PAYLOAD_KEYS.has(key)) continue
      const last = key.slice(key.lastIndexOf('.') + 1).toLowerCase()
      if (setting.capture !== 'full' && (keys.has(key.toLowerCase()) || keys.has(last))) out[key] = MASK.key
      else if (setting.capture === 'redacted' && PAYLOAD_KEYS.has(key) && typeof value === 'string')
        // A recorded input, output or message list (JSON): the pool's keys masked at any depth.
        out[key] = redactRecorded(this.secrets ? this.secrets(value) : value, setting.redact)
      else out[key] = this.value(value, setting)
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
    if (typeof value === 'string') return this.text(value, setting)
    if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? this.text(item, setting) : item)) as AttributeValue
    return value
  }

  /**
   * A string as it may be exported: secrets scrubbed always (first: a secret may hold an
   * @ or digits); e-mails and phones masked unless `full` — with `none`, what is left
   * (error messages, exception events) is masked as with `redacted`, never shown more.
   */
  private text(value: string, setting: CaptureSetting): string {
    const scrubbed = this.secrets ? this.secrets(value) : value
    return setting.capture === 'full' ? scrubbed : redactText(scrubbed)
  }
}
