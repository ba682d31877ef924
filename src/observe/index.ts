// The observability plane (DESIGN §3). Each concern has its own front door, so a
// process loads only what it uses (the CLI's `trace` must not load the SDK):
//   ./sdk (OpenTelemetry SDK wiring) · ./otlp (receiver) · ./store (trace store)
//   ./view (run tree, rendering, routes, UI) · ./capture · ./metrics · ./langgraph (node spans)
// This index lists the plane's public names for readers; code imports the folders.
export {
  initTracing,
  exporterSettings,
  SwitchyardSampler,
  sampledAt,
  RedactingExporter,
  captureByPool,
  StoreSpanExporter,
} from './sdk/index.js'
export type { Tracing, TracingOptions, Env, ExporterSettings, CapturePolicy, CaptureSetting } from './sdk/index.js'
export { captureValue, redactValue, redactText, CAPTURE_LIMIT, MASK } from './capture/index.js'
export { FileTraceStore, encodeProject, summarizeRun } from './store/index.js'
export type { FileTraceStoreOptions, TracedRunFilter, RunOutcome, RunSummary, TraceStore } from './store/index.js'
export type { AttributeValue, Attributes, SpanKindName, SpanStatusName, StoredEvent, StoredSpan } from './store/index.js'
export { decodeOtlpJson, decodeOtlpProtobuf, toStoredSpans, receiveOtlp, OTLP_BODY_LIMIT } from './otlp/index.js'
export {
  buildRunTree,
  renderRunTree,
  formatDuration,
  formatCost,
  observeRoutes,
  tracedRunFilterFromQuery,
  fetchTraceApi,
  traceApiOptions,
  DEFAULT_URL,
} from './view/index.js'
export type { RunNode, RunTree, RenderOptions, ObserveExchange, ObserveRoute, TraceApiOptions } from './view/index.js'
export { MetricsRegistry, METRICS_CONTENT_TYPE, registerMetrics } from './metrics/index.js'
export type { MetricOf } from './metrics/index.js'
