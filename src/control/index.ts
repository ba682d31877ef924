// switchyard/control: the registry and the routing contract (DESIGN §2.1, §2.2).
// Pure data and functions; imports no queue client, LLM library, OTel SDK or graph.

export { loadRegistry, rebuildRegistry } from './load-registry.js'
export { route } from './route.js'
export { queueName } from './queue-name.js'
export { parseDuration } from './parse-duration.js'
export { parseSize } from './parse-size.js'
export { canonicalJson } from './canonical-json.js'
export { suggest } from './suggest.js'
export { WORKFLOW_NAME, POOL_NAME, POOL_DEFAULTS } from './registry-compiler.js'
export { schemaToType, type Direction } from './json-schema-to-ts.js'
export { workflowTypes } from './workflow-types.js'
export { lintGraphs, lintFile, graphFiles, GRAPH_HELPERS, type ImportOffence } from './graph-lint.js'
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
