// Tracing setup for one process (gateway or pool worker): the OpenTelemetry SDK,
// registered globally, exporting OTLP/HTTP with settings read from the env it is
// given — the pool's own env, never another pool's (DESIGN §3).
import { context, propagation, trace } from '@opentelemetry/api'
import { CompositePropagator, W3CBaggagePropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOffSampler, BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { ATTR } from '../../control/index.js'
import { W3CTraceContext } from '../propagation/index.js'
import type { TracingConfig } from '../../control/index.js'
import { RefinedContextManager } from './context-manager.js'
import { exporterSettings, type Env } from './exporter-settings.js'
import { FlushForcedProcessor } from './flush-forced.js'
import { otlpExporter } from './otlp-exporter.js'
import type { Scrub } from '../capture/index.js'
import { RedactingExporter, type CapturePolicy } from './redacting-exporter.js'
import { SwitchyardSampler } from './sampler.js'
import { TrackedExporter } from './tracked-exporter.js'

// Re-exported: callers that import tracing.ts directly read the Env type too.
export type { Env } from './exporter-settings.js'

export interface TracingOptions {
  /** `service.name`: `switchyard-gateway` or `switchyard-pool-<pool>` (SERVICE in control/attributes). */
  readonly service: string
  readonly pool?: string
  /** `switchyard.project` on the resource; the store files spans without their own project here. */
  readonly project?: string
  /** Where the OTEL_EXPORTER_OTLP_* (and SWITCHYARD_TRACES_URL, OTEL_SDK_DISABLED) settings come from. */
  readonly env: Env
  /**
   * What exported spans may carry: a worker passes its pool's tracing config; the
   * gateway passes captureByPool(registry.pools.values()), resolved per span.
   * With `redacted` or `none`, attributes, events and error messages are masked/dropped.
   */
  readonly tracing?: TracingConfig | CapturePolicy
  /** Scrubs the process's secrets (secretScrubber) from every exported string, whatever `tracing` says. */
  readonly secrets?: Scrub
  /** Register as the global provider, context manager and propagator. @default true */
  readonly register?: boolean
  /** Use this exporter instead of OTLP/HTTP (tests, benchmarks). */
  readonly exporter?: SpanExporter
}

export interface Tracing {
  readonly tracerProvider: NodeTracerProvider
  /** True when spans are recorded and exported. */
  readonly enabled: boolean
  /** Where spans go (undefined when tracing is off or a custom exporter is used). */
  readonly endpoint: string | undefined
  /** Export what is buffered now, and wait for exports already under way: spans ended before the call are then stored. */
  forceFlush(): Promise<void>
  /** Flush, stop exporting, and unregister the globals this call registered. */
  shutdown(): Promise<void>
}

/**
 * Start tracing for this process. With `OTEL_SDK_DISABLED=true`, or no endpoint,
 * spans are not recorded, but context and W3C propagation still work (trace ids
 * still flow downstream, with the sampled flag off).
 *
 * Endpoint: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), else
 * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`, else SWITCHYARD_TRACES_URL (the
 * embedded gateway's receiver; set by `dev`/`start`).
 *
 * @example
 * const tracing = initTracing({ service: SERVICE.pool('email'), pool: 'email', project: 'sales-email', env: process.env })
 * // … at exit:
 * await tracing.shutdown()
 */
export function initTracing(options: TracingOptions): Tracing {
  const settings = exporterSettings(options.env)
  const disabled = options.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true'
  const base = disabled ? undefined : (options.exporter ?? (settings ? otlpExporter(settings) : undefined))
  const redacting =
    base && (options.tracing || options.secrets)
      ? new RedactingExporter(base, options.tracing ?? { capture: 'full', redact: [] }, options.secrets)
      : base
  // The SDK's forceFlush() skips a batch already being exported: this one waits for it too.
  const exporter = redacting ? new TrackedExporter(redacting) : undefined
  // Batches every scheduled delay; a forced run's spans at once when its part here ends.
  const spanProcessors: SpanProcessor[] = exporter
    ? [new FlushForcedProcessor(new BatchSpanProcessor(exporter, batchConfig(options.env)))]
    : []
  const tracerProvider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.service,
      ...(options.pool === undefined ? {} : { [ATTR.pool]: options.pool }),
      ...(options.project === undefined ? {} : { [ATTR.project]: options.project }),
    }),
    sampler: exporter ? new SwitchyardSampler() : new AlwaysOffSampler(),
    spanProcessors,
  })
  const register = options.register ?? true
  if (register) {
    // OpenTelemetry's AsyncLocalStorage context manager (refined inside LangGraph nodes:
    // context-manager.ts), and W3C trace context (Level 2, strict: ../propagation) + baggage.
    tracerProvider.register({
      contextManager: new RefinedContextManager(),
      propagator: new CompositePropagator({ propagators: [new W3CTraceContext(), new W3CBaggagePropagator()] }),
    })
  }
  return {
    tracerProvider,
    enabled: exporter !== undefined,
    endpoint: exporter && !options.exporter ? settings?.url : undefined,
    async forceFlush() {
      await tracerProvider.forceFlush()
      await exporter?.forceFlush()
    },
    async shutdown() {
      try {
        await tracerProvider.shutdown()
      } finally {
        if (register) {
          trace.disable()
          context.disable()
          propagation.disable()
        }
      }
    },
  }
}

/** The batch span processor's settings: OTEL_BSP_* from `env`, else ours, else the SDK's. */
export function batchConfig(env: Env) {
  const number = (name: string) => {
    const value = Number(env[name])
    return Number.isFinite(value) && value > 0 ? value : undefined
  }
  return {
    // Larger than the SDK's defaults (2048 / 512): a busy pool ends thousands of spans a
    // second, and a full queue drops spans, which would leave kept runs with holes.
    maxQueueSize: number('OTEL_BSP_MAX_QUEUE_SIZE') ?? 16_384,
    maxExportBatchSize: number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 2048,
    // The SDK's default delay (5000 ms) unless OTEL_BSP_SCHEDULE_DELAY says otherwise: a
    // kept run's spans reach the store within about that long of their end. `switchyard
    // trace` waits for a trace to be whole, and a forced run is flushed at its end
    // (flush-forced.ts), so no reader depends on a short delay.
    scheduledDelayMillis: number('OTEL_BSP_SCHEDULE_DELAY') ?? 5000,
    exportTimeoutMillis: number('OTEL_BSP_EXPORT_TIMEOUT'),
  }
}
