// switchyard-ai/control: the registry and the routing contract (DESIGN §2.1, §2.2).
// Pure data and functions; imports no queue client, LLM library, OTel SDK or graph.
// Every process that routes imports this, so it holds only the runtime path:
// `switchyard check` and `codegen` use ./tooling; the shared vocabulary alone is ./contract.

export {
  loadRegistry,
  rebuildRegistry,
  cacheRefusals,
  CACHE_KEY_FILE,
  type LoadOptions,
  type CacheTrust,
  type CacheRefusal,
} from './registry/index.js'
export { route } from './route/index.js'
export { parseDuration, parseSize, queueName, WORKFLOW_NAME, POOL_NAME, POOL_DEFAULTS } from './registry/index.js'
export { suggest } from './suggest.js'
export { allowedHostsFrom, hostCheck, parseHost, type HostCheck } from './host-names.js'
export {
  SwitchyardError,
  RegistryError,
  UnknownWorkflowError,
  InvalidInputError,
  ERROR_CODES,
  isErrorCode,
  type ErrorCodeInfo,
  ATTR,
  GENAI,
  SERVICE,
  METRICS,
  DURATION_BUCKETS,
  type EnvelopeRejectReason,
  type MetricInfo,
  type MetricKey,
  type MetricType,
  type ErrorCode,
  type SwitchyardErrorOptions,
  type RegistryProblem,
  type InputIssue,
  type Runtime,
  type Capture,
  type JsonSchema,
  type TracingConfig,
  type Pool,
  type GraphRef,
  type Workflow,
  type Registry,
  type RouteRequest,
  type RetryPolicy,
  type RoutePlan,
  type Problem,
  type RunError,
  type RunFilter,
  type RunList,
  type RunStatus,
  type RunView,
  type WorkflowView,
  type PoolList,
  type PoolRecent,
  type PoolView,
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
} from './contract/index.js'
export { canonicalDigest, canonicalJson } from './registry/index.js'
