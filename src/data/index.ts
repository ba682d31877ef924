// The data plane (DESIGN §2.4, §4): the broker seam and its two adapters, the run
// envelope, the pool worker and the supervisor. Public names only; the rest is internal.
export type { Broker, PoolStats, RunError, RunRecord, RunStatus, SubmitResult, WaitOptions } from './broker/broker.js'
export type { Delivery, Outcome, RunHandler, RunSource } from './broker/run-source.js'
export {
  canonicalEnvelope,
  createEnvelope,
  envelopeDeadlineMs,
  envelopeTraceId,
  idempotencyFingerprint,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type CreateEnvelopeOptions,
  type Envelope,
  type TraceCarrier,
} from './envelope.js'
export { PoolSaturatedError } from './broker/pool-saturated.js'
export { PoolUnavailableError } from './broker/pool-unavailable.js'
export { MemoryBroker, type MemoryBrokerOptions } from './broker/memory/memory-broker.js'
export { RedisBroker, type RedisBrokerOptions } from './broker/redis/redis-broker.js'
export { redisRunSource, type RedisRunSourceOptions } from './broker/redis/redis-run-source.js'
export { aclSetUserLine, poolAclRules, producerAclRules } from './broker/redis/acl.js'
export { createWorker, type PoolWorker, type WorkerOptions } from './worker/worker.js'
export type { WorkerMetrics } from './worker/metrics.js'
export { workerEnv, readEnvFile, BASE_ENV_KEYS, type WorkerEnvOptions } from './supervisor/worker-env.js'
export { ipcRunSource, type IpcRunSource } from './broker/memory/ipc-source.js'
export { linkChild, type ChildLink, type ChildLinkOptions } from './broker/memory/ipc-parent.js'
export { startSupervisor, type Supervisor, type SupervisorEvent, type SupervisorOptions } from './supervisor/supervisor.js'
export { renderStatus, type PoolStatus } from './supervisor/status.js'
