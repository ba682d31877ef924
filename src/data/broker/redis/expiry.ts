// Ends the queued runs no worker took before their deadline (issue 13: every accepted run
// ends, as its caller asked). Without it a run queued into a pool whose workers are all
// down or busy stays `queued` until some worker takes it, and refuses it, maybe never.
//
// The admission script (scripts.ts ADMIT) writes each run's deadline into its pool's
// `sy-deadlines` sorted set; a worker (node or Python) drops the entry when it takes the run and
// writes it back when the run goes back to the queue (a retry's backoff, a hand-back; a reaper's hand-on). Every
// EXPIRY.passMs, a pass reads at most EXPIRY.perPass entries past due per pool (one script
// for all the pools of a Redis server: scripts.ts DUE) and ends each run BullMQ still holds
// waiting or delayed as cancel-while-queued does (RedisBroker.cancel), through the same helper
// (end-queued.ts): its failed record (DEADLINE_EXCEEDED; WORKER_LOST for a run queued again
// after its worker died) under `sy-cancelled:<id>` with SET NX, then Queue.remove, which
// BullMQ refuses for a job a worker holds (then the record is taken back: the worker refuses
// the run itself, past its deadline). A removal refused while the job is still queued is tried
// once more (a worker may have handed it back in between); refused again, the job is one no
// worker holds that cannot be removed (its pool's user planted a lock on it): its entry is
// dropped, so no later pass reads it again. The pools of a pass are worked side by side, each
// pool's runs in turn: a pool's own costly entries delay no other pool's runs. A record already there whose job is still queued (a
// cancel or another pass racing this one, or one that failed or died half-way) does not stop
// it: the pass removes the job itself and finishes the ending with that record, so a pass
// that failed half-way is finished by the next. A run is counted by the one ender the
// cancelled index takes it from. An entry whose run is running, finished or gone is dropped:
// so a worker that does not drop its entries (a plain BullMQ Worker) leaves none behind that
// could end a run; so is the entry of an admission abandoned before its job was added (its gateway died
// between ADMIT and the add), once it is older than ADMIT's own bound, or stamped further ahead
// than that (scripts.ts ABANDONED). A run whose job is gone with its record there (an ender's
// removal whose reply was lost, or an ender that died after it) is finished: put in the
// cancelled index it was left out of (end-queued.ts finishEnding), counted if that is this pass.
import { Job, type Queue, type RedisClient } from 'bullmq'

import type { RunRecord } from '../broker.js'
import { expiredError, lostError } from '../run-errors.js'
import { commands } from './commands.js'
import { crashesOf } from './crashes.js'
import { QUEUED, endQueued, failedRecord, finishEnding, storedFields } from './end-queued.js'
import type { PoolKeys } from './keys.js'
import { recordFromJob, type JobLike } from './record.js'
import { admissionOf, dueRuns } from './scripts.js'

export const EXPIRY = {
  /** How often a pass runs. */
  passMs: 500,
  /** Runs past due looked at per pool and pass (the rest wait for the next pass). */
  perPass: 100,
} as const

/** One pool an expiry pass watches: its queue (whose connection ends its runs) and keys. */
export interface ExpiryTarget {
  readonly queue: Queue
  readonly keys: PoolKeys
  readonly pool: string
}

export interface ExpiryOptions {
  /** The pools to watch, all on one Redis server: one round trip a pass finds the runs due in all. */
  readonly targets: readonly ExpiryTarget[]
  /** How long an expired run's record stays readable (the broker's retainFailedMs). */
  readonly retainMs: number
  /** How long an admission may wait for its job (ADMIT's admission lifetime): one older was abandoned. */
  readonly admissionMs: number
  /** Called once per run this process ended (the metric's count). */
  readonly expired: (pool: string, runId: string) => void
  readonly warn: (message: string) => void
}

export interface Expiry {
  /** One pass over every pool (tests call it; the timer calls it every EXPIRY.passMs): the runs this pass ended. */
  pass(): Promise<number>
  stop(): void
}

/** Start a pass every EXPIRY.passMs over `targets` (one Redis server's pools). */
export function startExpiry(options: ExpiryOptions): Expiry {
  const [first] = options.targets
  if (first === undefined) throw new Error('startExpiry: no pool to watch')
  let stopped = false
  let running: Promise<number> | null = null
  /** Said once until a pass succeeds again: Redis away for a minute is one warning, not 120. */
  let failing = false
  const pass = async (): Promise<number> => {
    const due = await dueRuns(
      await first.queue.client,
      options.targets.map((target) => target.keys.deadlines),
      Date.now(),
      EXPIRY.perPass,
    )
    // The pools side by side, each its own runs one after another: a pool whose user planted
    // costly entries (big jobs that cannot be removed) delays no other pool's runs.
    const ended = await Promise.all(
      options.targets.map(async (target, i) => {
        const runIds = due[i] ?? []
        if (runIds.length === 0) return 0
        // A pool whose keys its own user spoiled (a planted job that does not parse, say) must
        // not stop the pass for the other pools.
        const expired = await expireQueued(await target.queue.client, target, runIds, options).catch((error: unknown) => {
          options.warn(`pool '${target.pool}': expiring queued runs failed: ${(error as Error).message}`)
          return []
        })
        for (const runId of expired) options.expired(target.pool, runId)
        return expired.length
      }),
    )
    return ended.reduce((a, b) => a + b, 0)
  }
  const timer = setInterval(() => {
    if (stopped || running) return
    running = pass()
      .then((ended) => {
        failing = false
        return ended
      })
      .catch((error: unknown) => {
        if (!stopped && !failing) {
          const pools = options.targets.map((target) => `'${target.pool}'`).join(', ')
          options.warn(`pool${options.targets.length > 1 ? 's' : ''} ${pools}: expiring queued runs failed: ${(error as Error).message}`)
        }
        failing = true
        return 0
      })
      .finally(() => (running = null))
  }, EXPIRY.passMs)
  timer.unref()
  return {
    pass,
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}

/** End those of `due` (runs of one pool past their deadline) that are still queued: the ids this call ended. */
async function expireQueued(
  client: RedisClient,
  target: ExpiryTarget,
  due: readonly string[],
  options: Pick<ExpiryOptions, 'retainMs' | 'admissionMs'>,
): Promise<string[]> {
  const { keys, queue, pool } = target
  const redis = commands(client)
  const ended: string[] = []
  for (const runId of due) {
    const state = await queue.getJobState(runId)
    if (!QUEUED.has(state)) {
      // Admitted, its job not added yet (ADMIT → add): the next pass sees it. An admission older
      // than ADMIT's own bound was abandoned (its gateway died before the add): dropped from
      // both sets here, or every pass would read it again. Anything else (running, finished,
      // cancelled, gone) is not this pass's to end.
      if (state === 'unknown' && (await admissionOf(client, keys, runId, options.admissionMs)) !== 'none') continue
      // Gone with its final record there: an ender's removal ran but its reply was lost (or the
      // ender died after it), before the index took it. Finished here: indexed, entry dropped.
      if (state === 'unknown') {
        const stored = await client.get(keys.cancelled(runId))
        const finished = stored === null ? 'not-ended' : await finishEnding(queue, keys, runId, storedFields(stored))
        if (finished === 'indexed' && stored !== null && failedRecord(stored)) ended.push(runId)
        if (finished !== 'not-ended') continue
      }
      const deadline = await client.zscore(keys.deadlines, runId)
      await redis.zrem(keys.deadlines, runId)
      // A running run may have gone back to the queue since (its worker died, a reaper put it
      // back and wrote its entry again): that entry is put back, or the run would never expire.
      if (state === 'active' && deadline !== null && QUEUED.has(await queue.getJobState(runId)))
        await redis.zadd(keys.deadlines, Number(deadline), runId)
      continue
    }
    const job = await Job.fromId(queue, runId)
    if (!job) continue
    const crashes = await crashesOf(client, keys, job, 0)
    const record = expiredRecord(job as JobLike, crashes, pool, await client.get(keys.owner(runId)))
    // A worker that took it since is left to end it (it refuses a run past its deadline); a
    // cancel, or another gateway's pass, may have ended it first: the record is theirs then.
    // Counted once, by the pass that ended it with a record of its expiry.
    let ending = await endQueued(queue, keys, runId, record, options.retainMs)
    // Refused and still queued: either a worker took it and handed it back in between (the
    // second try ends it), or its removal is refused for a queued job (its pool's user planted
    // a lock): no worker holds that run, it is not this pass's to end, nor to read again.
    if (ending.kind === 'taken' && QUEUED.has(await queue.getJobState(runId))) {
      ending = await endQueued(queue, keys, runId, record, options.retainMs)
      if (ending.kind === 'taken' && QUEUED.has(await queue.getJobState(runId))) await redis.zrem(keys.deadlines, runId)
    }
    if (ending.kind === 'ended' && failedRecord(ending.stored)) ended.push(runId)
  }
  return ended
}

/**
 * The final record of a queued run past its deadline: DEADLINE_EXCEEDED, dead-lettered; or
 * WORKER_LOST when it was queued again after its worker died under it (as the reaper and the
 * worker say of such a run past its deadline).
 */
function expiredRecord(job: JobLike, lost: number, pool: string, owner: string | null): RunRecord {
  const queued = recordFromJob(job, 'queued', pool, owner)
  const error = lost > 0 ? lostError(queued.runId, queued.deadline, `${lost} earlier attempt(s) died with their worker`) : expiredError()
  return { ...queued, status: 'failed', error, finishedAt: Date.now(), deadLettered: true }
}
