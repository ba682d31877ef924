// The broker seam between the gateway (producer) and the pool workers (consumers):
// the interface both adapters implement and the errors they throw. Adapters: ./memory, ./redis.
export type { Broker, PoolStats, RunError, RunRecord, RunStatus, SubmitOptions, SubmitResult, WaitOptions } from './broker.js'
export type { Delivery, Outcome, RunHandler, RunSource } from './run-source.js'
export { PoolSaturatedError } from './pool-saturated.js'
export { PoolUnavailableError } from './pool-unavailable.js'
export { cancelledError, crashedError, lostError } from './run-errors.js'
