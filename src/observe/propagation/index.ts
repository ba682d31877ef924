// W3C Trace Context Level 2 for OpenTelemetry: a propagator and a TraceState held to
// the spec (strict tracestate, the random flag kept). OpenTelemetry API only: the
// gateway uses it without the SDK, and observe/sdk registers it in every process.
export { W3CTraceContext, hasRandomTraceId } from './w3c-trace-context.js'
export { W3CTraceState } from './w3c-trace-state.js'
