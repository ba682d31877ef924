// The observability plane (DESIGN §3). Each concern has its own front door, so a
// process loads only what it uses (the CLI's `trace` must not load the SDK):
//   ./sdk (OpenTelemetry SDK wiring) · ./otlp (receiver) · ./store (trace store)
//   ./view (run tree, rendering, routes, UI) · ./capture · ./metrics · ./langgraph (node spans)
// This index re-exports the names code outside the plane uses (tests mostly); knip keeps it to those.
export { initTracing, exporterSettings, SwitchyardSampler, sampledAt, captureByPool, StoreSpanExporter } from './sdk/index.js'
export type { Tracing } from './sdk/index.js'
export { captureValue, redactText, secretScrubber } from './capture/index.js'
export { FileTraceStore } from './store/index.js'
export type { TraceStore } from './store/index.js'
export type { StoredSpan } from './store/index.js'
export { decodeOtlpJson, decodeOtlpProtobuf, toStoredSpans } from './otlp/index.js'
export { buildRunTree, renderRunTree, observeRoutes } from './view/index.js'
export type { RunNode, RunTree } from './view/index.js'
