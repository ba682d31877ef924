// The observability plane (DESIGN §3): tracing setup for every process, the
// sampling rule, capture modes, LangGraph node spans, the embedded trace store
// and its HTTP handlers, and the run tree.
export { initTracing, exporterSettings } from './tracing.js'
export type { Env, ExporterSettings, Tracing, TracingOptions } from './tracing.js'
export { SwitchyardSampler, sampledAt } from './sampler.js'
export { captureValue, redactValue, redactText, CAPTURE_LIMIT, MASK } from './capture.js'
export { RedactingExporter } from './redacting-exporter.js'
export { graphCallbacks } from './graph-callbacks.js'
