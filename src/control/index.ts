// switchyard/control: the registry and the routing contract (DESIGN §2.1, §2.2).
// Pure data and functions; imports no queue client, LLM library, OTel SDK or graph.
// Every process that routes imports this, so it holds only the runtime path:
// `switchyard check` and `codegen` use ./tooling.ts.

export { loadRegistry, rebuildRegistry } from './registry/load-registry.js'
export { route } from './route/route.js'
export { parseDuration, parseSize, queueName, WORKFLOW_NAME, POOL_NAME, POOL_DEFAULTS } from './registry/registry-rules.js'
export { suggest } from './suggest.js'
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
export { ATTR, GENAI, SERVICE } from './attributes.js'
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
export type { Problem, RunError, RunFilter, RunList, RunStatus, RunView, WorkflowView } from './wire.js'
