// switchyard-ai/client: the typed client. fetch + the OpenTelemetry API, nothing else.
export { createClient } from './client.js'
export { SwitchyardClientError, RunFailedError } from './errors.js'
export { retryDelay } from './retry.js'
export type { RetryDelayOptions } from './retry.js'
export type { ClientErrorFields } from './errors.js'
export type {
  AnyWorkflows,
  CallOptions,
  ClientOptions,
  InputIssue,
  InputOf,
  OutputOf,
  ProblemBody,
  RunInfo,
  RunFilter,
  RunOptions,
  RunStatus,
  SwitchyardClient,
  WorkflowInfo,
  WorkflowMap,
  WorkflowName,
  WorkflowShape,
} from './types.js'
