// The vocabulary every plane shares, and nothing else: error classes and codes, span
// attribute names, the registry's types and what crosses HTTP. No I/O, no Node
// built-ins, so the typed client can bundle it for browsers and edge runtimes.
export {
  SwitchyardError,
  RegistryError,
  UnknownWorkflowError,
  InvalidInputError,
  type ErrorCode,
  type SwitchyardErrorOptions,
  type RegistryProblem,
  type InputIssue,
} from './errors.js'
export { ERROR_CODES, isErrorCode, type ErrorCodeInfo } from './error-codes.js'
export { ATTR, GENAI, SERVICE } from './attributes.js'
export { METRICS, DURATION_BUCKETS, type EnvelopeRejectReason, type MetricInfo, type MetricKey, type MetricType } from './metrics.js'
export {
  TRACE_FLAG_RANDOM,
  TRACE_FLAG_SAMPLED,
  TRACESTATE_MAX_MEMBERS,
  formatTraceparent,
  formatTracestate,
  isTracestateMember,
  parseTraceparent,
  parseTracestate,
  type Traceparent,
  type TracestateMember,
} from './trace-context.js'
export type {
  Runtime,
  Capture,
  JsonSchema,
  TracingConfig,
  Pool,
  GraphRef,
  Workflow,
  Registry,
  RouteRequest,
  RetryPolicy,
  RoutePlan,
} from './types.js'
export type { PoolList, PoolRecent, PoolView, Problem, RunError, RunFilter, RunList, RunStatus, RunView, WorkflowView } from './wire.js'
