// How many times a run's worker died under it. BullMQ's public counts tell most of it:
// attemptsStarted rises each time a worker takes the job, attemptsMade each time a take
// ends with an outcome, so a take without an outcome is a worker that went away holding
// it. Not quite all: a worker also takes runs it does not run (redis-run-source.ts hands a
// run back while a suspect holds its process, and a suspect waits, unrun, for the others to
// end). Those takes are counted in the pool's `sy-unrun` hash (keys.unrun), ours, beside
// BullMQ's keys, and subtracted here: a crash is counted only against the runs that were
// running in the process that died.
import type { Job, RedisClient } from 'bullmq'

import { commands } from './commands.js'
import type { PoolKeys } from './keys.js'

type Counts = Pick<Job, 'attemptsStarted' | 'attemptsMade'> & { readonly id?: string | undefined }

/**
 * Takes of `job` that ended with its worker gone, less `inFlight` takes still going on (1
 * for the take a worker's processor is in, 0 for a queued run or a dead worker's take).
 * Reads `sy-unrun` only when BullMQ's counts show a lost take at all: a run never handed
 * back costs no round trip.
 */
export async function crashesOf(client: RedisClient, keys: PoolKeys, job: Counts, inFlight: 0 | 1): Promise<number> {
  const takes = (job.attemptsStarted ?? 0) - job.attemptsMade - inFlight
  if (takes <= 0) return 0
  const unrun = Number((await client.hget(keys.unrun, job.id ?? '')) ?? 0)
  return Math.max(0, takes - (Number.isFinite(unrun) ? unrun : 0))
}

/** Count a take of `runId` as not run (+1), or take that back when it runs after all (−1). */
export async function countUnrun(client: RedisClient, keys: PoolKeys, runId: string, by: 1 | -1): Promise<void> {
  await commands(client).hincrby(keys.unrun, runId, by)
}

/**
 * The run ended for good: its `sy-unrun` count is no longer read. Every end forgets it: a
 * worker's final outcome (run or refused), BullMQ's stall limit (redis-run-source.ts), the
 * reaper's end, an ending in the queue (end-queued.ts: cancel, expiry).
 */
export async function forgetUnrun(client: RedisClient, keys: PoolKeys, runId: string): Promise<void> {
  await client.hdel(keys.unrun, runId)
}
