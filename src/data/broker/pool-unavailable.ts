// The error a broker throws at submit time for a pool nothing can serve right now
// (no worker connected and none on its way): the caller hears 503 at once instead of
// waiting out the run's deadline for a 504. The gateway sends `Retry-After` from
// `retryAfterMs`.
import { SwitchyardError } from '../../control/index.js'

/** POOL_UNAVAILABLE: no worker serves `pool` here. Retryable (a worker may connect later). */
export class PoolUnavailableError extends SwitchyardError {
  readonly pool: string
  /** A hint for the caller: try again after this many milliseconds. */
  readonly retryAfterMs: number

  constructor(pool: string, why: string, retryAfterMs: number) {
    super('POOL_UNAVAILABLE', `pool '${pool}' is unavailable: ${why}; retry later`, { retryable: true })
    this.name = 'PoolUnavailableError'
    this.pool = pool
    this.retryAfterMs = retryAfterMs
  }
}
