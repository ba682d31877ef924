// Hands a dead worker's runs on, at once. Each worker process records, per run it
// holds, BullMQ's lock token in its `sy-leases:<worker>` hash; when its heartbeat
// expires (heartbeat.ts), the first live worker of the pool to notice takes its leases
// and, through BullMQ's own job API with that token, puts each run back in the queue —
// or ends it: WORKER_CRASHED once it has taken its workers down maxCrashes times,
// WORKER_LOST when its deadline passed, CANCELLED when a caller asked for that.
// A supervisor that sees its child exit does not wait for the heartbeat to expire: it
// reaps that worker at once (RedisBroker.workerExited → reapWorker), so a run that kills
// its worker is retried, and counted, within a short deadline too.
//
// BullMQ's lock (a minute, redis-run-source.ts) is only the backstop of this: for a run
// whose lease was never written, or a worker that does not write leases. A lock that
// short enough to find crashes fast would also expire during a Redis outage or a long
// garbage-collection pause, and hand a run that is still running to a second worker.
import { Job, UnrecoverableError, type Queue, type RedisClient } from 'bullmq'

import { crashedError, cancelledError, lostError } from '../run-errors.js'
import type { RunError } from '../broker.js'
import { commands } from './commands.js'
import { HEARTBEAT } from './heartbeat.js'
import type { PoolKeys } from './keys.js'
import { encodeRunError } from './record.js'
import { expiredWorkers } from './scripts.js'

export interface ReaperOptions {
  readonly queue: Queue
  readonly keys: PoolKeys
  readonly pool: string
  /** This process's worker id: never reaped by itself. */
  readonly self: string
  /** A run whose worker died under it this many times is dead-lettered (WORKER_CRASHED). */
  readonly maxCrashes: number
  readonly warn: (message: string) => void
}

export interface Reaper {
  /** One pass (tests call it; the timer calls it every HEARTBEAT.reapMs). */
  reap(): Promise<number>
  stop(): void
}

/** Start reaping every HEARTBEAT.reapMs, armed once this process has been connected for HEARTBEAT.armMs. */
export function startReaper(options: ReaperOptions): Reaper {
  let readySince: number | null = null
  let stopped = false
  let running: Promise<number> | null = null
  void options.queue.client
    .then((client) => {
      if (client.status === 'ready') readySince = Date.now()
      client.on('ready', () => (readySince = Date.now()))
      client.on('close', () => (readySince = null))
      client.on('end', () => (readySince = null))
    })
    .catch(() => undefined)

  const reap = async (): Promise<number> => {
    const client = await options.queue.client
    let released = 0
    for (const worker of await expiredWorkers(client, options.keys, 20)) {
      if (worker === options.self) continue
      released += await reapWorker(client, options, worker, 'stopped beating')
    }
    return released
  }

  const timer = setInterval(() => {
    if (stopped || running || readySince === null || Date.now() - readySince < HEARTBEAT.armMs) return
    running = reap()
      .catch((error: unknown) => {
        options.warn(`pool '${options.pool}': reaping dead workers failed: ${(error as Error).message}`)
        return 0
      })
      .finally(() => (running = null))
  }, HEARTBEAT.reapMs)
  timer.unref()
  return {
    reap,
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}

/** What reaping one dead worker needs: its pool's queue and keys, and the crash limit. */
export type ReapOptions = Omit<ReaperOptions, 'self'>

/**
 * Hand on every run `worker` held (its leases) and drop it from the pool's workers;
 * the number of runs handed on. Exactly one caller reaps a worker: the ZREM is the claim.
 * `how` says how it was found dead ("stopped beating", or its supervisor saw it exit).
 */
export async function reapWorker(client: RedisClient, options: ReapOptions, worker: string, how: string): Promise<number> {
  // ZREM is the claim: of the reapers that saw it, exactly one goes on.
  if ((await commands(client).zrem(options.keys.workers, worker)) !== 1) return 0
  let released = 0
  const leases = await client.hgetall(options.keys.leases(worker))
  for (const [runId, token] of Object.entries(leases ?? {})) {
    try {
      if (await releaseRun(client, options, runId, token, `worker ${worker} ${how}`)) released += 1
    } catch (error) {
      options.warn(`pool '${options.pool}': could not hand on run ${runId} of dead worker ${worker}: ${(error as Error).message}`)
    }
  }
  await client.del(options.keys.leases(worker))
  return released
}

/** Put one run of a dead worker back in the queue, or end it; false when it was no longer that worker's. */
async function releaseRun(client: RedisClient, options: ReapOptions, runId: string, token: string, how: string): Promise<boolean> {
  const job = await Job.fromId(options.queue, runId)
  if (!job || !(await job.isActive())) return false
  // attemptsStarted counts this attempt; attemptsMade only attempts that ended with an outcome.
  const lost = Math.max(1, (job.attemptsStarted ?? 0) - job.attemptsMade)
  const deadline = String((job.data as { deadline?: unknown } | null)?.deadline ?? '')
  let end: RunError | null = null
  if ((await client.zscore(options.keys.cancels, runId)) !== null) end = cancelledError(runId, 'while running')
  else if (lost >= options.maxCrashes) end = crashedError(runId, lost, options.pool, how)
  else if (!(Date.parse(deadline) > Date.now())) end = lostError(runId, deadline, how)
  if (end === null) {
    // The lock is checked against the dead worker's token: a worker that is alive after all keeps its run.
    return (await job.moveToWait(token)) >= 0
  }
  const now = Date.now()
  const stamp = { startedAt: job.processedOn ?? now, finishedAt: now, attempts: Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1) }
  await job.moveToFailed(new UnrecoverableError(encodeRunError(end, stamp)), token)
  return true
}
