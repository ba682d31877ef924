// The backpressure error both brokers throw when a pool's queue is full.
// The gateway maps it to HTTP 429 with `Retry-After` from `retryAfterMs`.
import { SwitchyardError } from '../../control/index.js'

/** POOL_SATURATED: the pool already holds `maxQueued` queued runs. Retryable. */
export class PoolSaturatedError extends SwitchyardError {
  readonly pool: string
  readonly maxQueued: number
  /** A hint for the caller: try again after this many milliseconds. */
  readonly retryAfterMs: number

  constructor(pool: string, maxQueued: number, retryAfterMs: number) {
    super('POOL_SATURATED', `pool '${pool}' is saturated: ${maxQueued} runs are already queued; retry later`, {
      retryable: true,
    })
    this.name = 'PoolSaturatedError'
    this.pool = pool
    this.maxQueued = maxQueued
    this.retryAfterMs = retryAfterMs
  }
}
