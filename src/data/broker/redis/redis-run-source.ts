// The consumer side of the Redis broker: a BullMQ Worker on one pool's queue that
// hands each job's envelope to the worker's handler and settles the job by the
// outcome. Retry policy lives in the job (attempts, backoff, set at submit); this
// file only says which failures may be retried:
//   ok                         → complete with the output, stamped with the attempt's
//                                timings (redis-record.ts: the producer settles wait()
//                                from the completed event alone)
//   retryable error            → throw: BullMQ retries with backoff while attempts remain,
//                                then the job lands in the failed set (dead letter)
//   non-retryable error        → throw UnrecoverableError: failed at once
// A worker killed mid-run leaves its job locked; once the lock expires another
// worker's stalled-job check puts it back in the queue (at-least-once).
import { UnrecoverableError, Worker, type Job } from 'bullmq'

import { queueName } from '../../../control/index.js'
import type { RunError } from '../broker.js'
import { checkEvictionPolicy, connectionFor, within, type EvictionCheck } from './connection.js'
import { encodeRunError, stampResult, type RunStamp } from './record.js'
import type { RunHandler, RunSource } from '../run-source.js'

export interface RedisRunSourceOptions {
  readonly url: string
  /** BullMQ key prefix; must match the broker's. @default 'bull' */
  readonly prefix?: string
  /** How long a run's lock lasts without renewal; a dead worker's runs are retaken after it. @default 30000 */
  readonly lockDurationMs?: number
  /** How often this worker looks for runs whose worker died. @default 30000 */
  readonly stalledIntervalMs?: number
  /** Times a run may be retaken from a dead worker before it fails. @default 1 */
  readonly maxStalledCount?: number
  /** @default 'warn' (a worker should keep serving; the broker refuses at start) */
  readonly evictionCheck?: EvictionCheck
  /** Where warnings go. @default process.emitWarning */
  readonly warn?: (message: string) => void
  /** Bound on close() when Redis does not answer. @default 10000 */
  readonly closeTimeoutMs?: number
}

function defaultWarn(message: string): void {
  process.emitWarning(message, { code: 'SWITCHYARD_REDIS' })
}

/** Turn a failed outcome into the exception that tells BullMQ what to do next. */
function failure(error: RunError, stamp: RunStamp): Error {
  const message = encodeRunError(error, stamp)
  return error.retryable ? new Error(message) : new UnrecoverableError(message)
}

/**
 * A RunSource on a BullMQ Worker for one pool.
 * @example
 * const source = redisRunSource('email', { url: process.env.SWITCHYARD_REDIS_URL })
 * source.start(handler, { concurrency: pool.concurrency })
 */
export function redisRunSource(pool: string, options: RedisRunSourceOptions): RunSource {
  const warn = options.warn ?? defaultWarn
  const hard = new AbortController()
  let worker: Worker | null = null

  return {
    start(handler: RunHandler, { concurrency }: { concurrency: number }): void {
      if (worker) throw new Error(`redisRunSource('${pool}') is already started`)
      const processor = async (job: Job, _token?: string, signal?: AbortSignal): Promise<unknown> => {
        // One signal for the run: aborted by a hard close or by BullMQ (a cancelled job).
        // Linked by hand: AbortSignal.any() costs ~30 µs a call on Node 20 and keeps
        // growing the long-lived source signal's listener list.
        const run = new AbortController()
        const abort = () => run.abort(hard.signal.reason ?? signal?.reason)
        hard.signal.addEventListener('abort', abort, { once: true })
        signal?.addEventListener('abort', abort, { once: true })
        try {
          const outcome = await handler({ raw: job.data, attempt: job.attemptsMade + 1, signal: run.signal })
          // attemptsStarted already counts this attempt (moveToActive raised it); a run
          // retaken from a dead worker counts the lost attempt too.
          const stamp = {
            startedAt: job.processedOn ?? Date.now(),
            finishedAt: Date.now(),
            attempts: Math.max(job.attemptsStarted, job.attemptsMade + 1),
          }
          if (outcome.ok) return stampResult(outcome.output, stamp)
          throw failure(outcome.error, stamp)
        } finally {
          hard.signal.removeEventListener('abort', abort)
          signal?.removeEventListener('abort', abort)
        }
      }
      worker = new Worker(queueName(pool), processor, {
        connection: connectionFor(options.url),
        prefix: options.prefix ?? 'bull',
        concurrency,
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        maxStalledCount: options.maxStalledCount ?? 1,
      })
      worker.on('error', (error) => warn(`Redis worker for pool '${pool}': ${error.message}`))
      const current = worker
      void current.client
        .then((client) => checkEvictionPolicy(client, options.url, options.evictionCheck ?? 'warn', warn))
        .catch((error: unknown) => warn(String((error as Error).message ?? error)))
    },

    async drain(): Promise<void> {
      // Worker.close() without force stops fetching and waits for active jobs.
      await worker?.close()
    },

    async close(): Promise<void> {
      hard.abort(new Error(`the run source for pool '${pool}' was closed`))
      if (!worker) return
      // With Redis gone BullMQ's close() never returns: past the bound, drop the connection.
      const closing = worker
      await within(closing.close(true), options.closeTimeoutMs ?? 10_000, `closing the worker of pool '${pool}'`).catch(async () => {
        ;(await closing.client).disconnect()
      })
    },
  }
}
