// The OpenTelemetry SDK wiring of every process: the only folder that imports an
// @opentelemetry/sdk-* package. Tracing setup, the sampler, exporters, capture
// policy at export time, and the context manager (which observe/langgraph refines).
export { initTracing, type Tracing } from './tracing.js'
export { exporterSettings } from './exporter-settings.js'
export { SwitchyardSampler, sampledAt } from './sampler.js'
export { captureByPool } from './redacting-exporter.js'
export { StoreSpanExporter } from './store-span-exporter.js'
export { RefinedContextManager, refineActiveContext } from './context-manager.js'
