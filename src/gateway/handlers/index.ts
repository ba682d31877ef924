// The gateway's handlers, one resource each; server.ts mounts them on the router.
export { cancelRun } from './cancel-run.js'
export { getRun } from './get-run.js'
export { listRuns } from './list-runs.js'
export { healthz, metrics, readyz } from './health.js'
export { runWorkflow } from './run-workflow.js'
export { getWorkflow, listWorkflows, type WorkflowView } from './workflows.js'
export type { RunView } from './run-view.js'
export { listPools, POOL_WINDOW_MINUTES } from './pools.js'
