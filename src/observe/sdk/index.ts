// The OpenTelemetry SDK wiring of every process: the only folder that imports an
// @opentelemetry/sdk-* package. Tracing setup, the sampler, exporters, capture
// policy at export time, and the context manager (which observe/langgraph refines).
export { initTracing, type Tracing, type TracingOptions } from './tracing.js'
export { exporterSettings, type Env, type ExporterSettings } from './exporter-settings.js'
export { SwitchyardSampler, sampledAt } from './sampler.js'
export { RedactingExporter, captureByPool, type CapturePolicy, type CaptureSetting } from './redacting-exporter.js'
export { StoreSpanExporter } from './store-span-exporter.js'
export { RefinedContextManager, refineActiveContext, type ContextRefiner } from './context-manager.js'
