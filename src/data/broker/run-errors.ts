// The errors a run ends with when it was not the graph that failed: cancelled by a
// caller, expired in its queue, or its worker died under it. Both brokers (and the worker, for a run retaken
// from a dead worker) word them the same, so a caller reads one story on either broker.
import { SwitchyardError } from '../../control/index.js'
import type { RunError } from './broker.js'

/**
 * CANCELLED, not retryable: a caller asked for it. `signal` makes the SwitchyardError a
 * worker's abort signal carries (a graph reads `signal.reason`); otherwise the plain RunError.
 */
export function cancelledError(runId: string, when: 'while queued' | 'while running'): RunError
export function cancelledError(runId: string, when: 'while queued' | 'while running', signal: true): SwitchyardError
export function cancelledError(runId: string, when: 'while queued' | 'while running', signal?: true): RunError | SwitchyardError {
  const message = `run ${runId} was cancelled ${when} (POST /v1/runs/${runId}/cancel)`
  if (signal) return new SwitchyardError('CANCELLED', message, { retryable: false })
  return { code: 'CANCELLED', message, retryable: false }
}

/** What a run that no worker took before its deadline ends with (DEADLINE_EXCEEDED), on either broker. */
export const EXPIRED_MESSAGE = 'expired in the queue: no worker took it before its deadline'

/** DEADLINE_EXCEEDED, not retryable: the run waited in its queue past its deadline, and never started. */
export function expiredError(): RunError {
  return { code: 'DEADLINE_EXCEEDED', message: EXPIRED_MESSAGE, retryable: false }
}

/** WORKER_CRASHED, not retryable: the run took its worker down `crashes` times and is dead-lettered. */
export function crashedError(runId: string, crashes: number, pool: string, last: string): RunError {
  return {
    code: 'WORKER_CRASHED',
    message:
      `run ${runId} was dead-lettered after its worker died under it ${crashes} times (last: ${last}), ` +
      `so that it cannot keep taking pool '${pool}' down`,
    retryable: false,
  }
}

/** WORKER_LOST: the run's worker died under it, and the deadline passed before another worker could run it. */
export function lostError(runId: string, deadline: string, last: string): RunError {
  return {
    code: 'WORKER_LOST',
    message: `run ${runId} lost its worker (${last}) and its deadline ${deadline} passed before another worker could run it`,
    retryable: true,
  }
}
