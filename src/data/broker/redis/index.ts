// The Redis broker (BullMQ, one queue per pool): the gateway's producer side, a pool
// worker's consumer side, queue depth for a worker's metrics, and the per-pool ACL rules.
export { RedisBroker } from './redis-broker.js'
export { redisRunSource } from './redis-run-source.js'
export { redisQueueDepth, type QueueDepth } from './queue-depth.js'
export { redactUrl } from './connection.js'
export { poolAclRules, producerAclRules } from './acl.js'
