// The broker seam between the gateway (producer) and the pool workers (consumers):
// the interface both adapters implement and the errors they throw. Adapters: ./memory, ./redis.
export type { Broker, PoolStats, RunRecord } from './broker.js'
export { ANONYMOUS_OWNER } from './broker.js'
export type { Delivery, Outcome, RunSource } from './run-source.js'
export { lostError } from './run-errors.js'
