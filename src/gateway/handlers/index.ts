// The gateway's handlers, one resource each; server.ts mounts them on the router.
export { cancelRun } from './cancel-run.js'
export { getRun } from './get-run.js'
export { listRuns } from './list-runs.js'
export { healthz, metrics, readyz } from './health.js'
export { runWorkflow } from './run-workflow.js'
export { getWorkflow, listWorkflows } from './workflows.js'

export { listPools } from './pools.js'
