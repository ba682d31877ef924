// Ending a queued run for good, while no worker holds it: cancel-while-queued
// (RedisBroker.cancel) and the expiry pass (expiry.ts) both do it, through this one helper.
// Its steps are separate round trips: the run's final record written under
// `sy-cancelled:<id>` (SET NX: of several enders, one record), then BullMQ's Queue.remove
// (which refuses a job a worker holds), then the run's place in the cancelled index. Any
// step may fail, or its ender die, half-way; each step is safe to take again, by the same
// ender or another:
// - a record already there (NX failed) whose job is still queued was left by an ender that
//   died or failed before its removal, or is racing this one: this one removes the job itself
//   and finishes the ending with the STORED record (never overwritten);
// - Queue.remove answers 1 both for the job it removed and for one already gone, so who
//   ended the run is decided by the index (ZADD NX): one ender is told 'ended' (the one that
//   counts it), the others 'ended-by-other';
// - a removal refused (a worker holds the run) takes back this ender's record (only while
//   it is still this ender's: scripts.ts TAKE_BACK) and leaves the run to its worker;
// - a removal that threw (Redis gone, a timeout) takes back this ender's record best-effort
//   (only while the job is still there: a removal whose reply was lost did end the run) and
//   rethrows: the caller answers 503, or the pass warns and looks again next time;
// - an ender whose removal ran but whose reply was lost (or that died after it) left the run
//   ended (record there, job gone) but not in the index: the next ender to find it so (a
//   retried cancel, the expiry pass) finishes it (finishEnding), its row with it.
// The index's companion hash (keys.cancelledRows) gets the record's small fields in the same
// round trip as its place in the index, and both are trimmed together: a list filters on
// them and reads records (which hold the run's input) only for the rows it returns, at most
// 64 KiB each (redis-broker.ts listCancelled: the pool's user writes both).
// No BullMQ internals: its public Queue API, and reads of its job key in our scripts.
import type { Queue } from 'bullmq'

import type { RunRecord } from '../broker.js'
import { commands } from './commands.js'
import type { PoolKeys } from './keys.js'
import { finishEnded, takeBackRecord } from './scripts.js'

/** BullMQ states of a run still in its queue. */
export const QUEUED = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'paused'])

export type Ending =
  /**
   * This call ended the run, with the record `stored` (its own, or one an earlier ender
   * left: as stored, unparsed, since the pool's own user can write that key: the broker
   * reads it as it reads any such record).
   */
  | { readonly kind: 'ended'; readonly stored: string }
  /** Another ender ended it, with the record `stored`. */
  | { readonly kind: 'ended-by-other'; readonly stored: string }
  /** A worker holds the run (or ran it): it is the worker's to end. */
  | { readonly kind: 'taken' }

/** How many times a record that vanished between SET NX and GET (its ender took it back) is written again. */
const TRIES = 3

/**
 * End the queued run `runId` of `queue` with `record` (kept `retainMs`), or find who did.
 * Throws when Redis fails a step; calling again finishes what is left.
 */
export async function endQueued(queue: Queue, keys: PoolKeys, runId: string, record: RunRecord, retainMs: number): Promise<Ending> {
  const client = await queue.client
  const redis = commands(client)
  const ours = JSON.stringify(record)
  for (let i = 0; i < TRIES; i++) {
    const wrote = (await redis.set(keys.cancelled(runId), ours, 'PX', retainMs, 'NX')) !== null
    const stored = wrote ? ours : await client.get(keys.cancelled(runId))
    if (stored === null) continue
    let gone = false
    if (!wrote) {
      const state = await queue.getJobState(runId)
      // Running or finished: the record is another ender's, which takes it back itself.
      if (!QUEUED.has(state) && state !== 'unknown') return { kind: 'taken' }
      gone = state === 'unknown'
    }
    if (!gone) {
      let removed: number
      try {
        // removeChildren: false. A job's dependency sets are data its pool's user writes:
        // BullMQ's child removal deletes the keys they name, under the gateway's user, which
        // reaches every pool (a planted job could have us delete another pool's keys). Runs
        // have no children.
        removed = await queue.remove(runId, { removeChildren: false })
      } catch (error) {
        if (wrote) await takeBackRecord(client, keys, runId, ours).catch(() => undefined)
        throw error
      }
      if (removed !== 1) {
        if (wrote) await takeBackRecord(client, keys, runId, ours)
        return { kind: 'taken' }
      }
    }
    // The job is gone: the run's place in the index says who ended it, once. Its deadline entry
    // and its count of takes not run (crashes.ts) are no longer read: sent with it, one round trip.
    const now = Date.now()
    const row = cancelledRow(stored)
    const [first] = await Promise.all([
      redis.zadd(keys.cancelledIndex, 'NX', now, runId),
      redis.zrem(keys.deadlines, runId),
      client.hdel(keys.unrun, runId),
      ...(row === null ? [] : [redis.hset(keys.cancelledRows, runId, row)]),
    ])
    void trimIndex(client, keys, now - retainMs).catch(() => undefined)
    return { kind: first === 1 ? 'ended' : 'ended-by-other', stored }
  }
  // Written and taken back TRIES times over: a worker takes and hands the run back as fast as we look.
  return { kind: 'taken' }
}

/** How many entries past retention one ending drops from the index and its rows (the next ending drops more). */
const TRIM = 1000

/** Drop the index's entries older than `before`, and their rows. */
async function trimIndex(client: Awaited<Queue['client']>, keys: PoolKeys, before: number): Promise<void> {
  const redis = commands(client)
  const old = await redis.zrangebyscore(keys.cancelledIndex, '-inf', before, 'LIMIT', 0, TRIM)
  if (old.length === 0) return
  await Promise.all([redis.zrem(keys.cancelledIndex, ...old), client.hdel(keys.cancelledRows, ...old)])
}

/**
 * The fields of a stored record, unchecked (the pool's own user can write that key: the
 * broker checks a record before it shows one); null when it is not a JSON object.
 */
export function storedFields(stored: string): Partial<Record<keyof RunRecord, unknown>> | null {
  try {
    const record = JSON.parse(stored) as unknown
    return typeof record === 'object' && record !== null ? record : null
  } catch {
    return null
  }
}

/** A list's row of a stored record: its workflow, status and createdAt, as JSON; null when it is no record of ours. */
function cancelledRow(stored: string): string | null {
  return rowOf(storedFields(stored))
}

function rowOf(record: Partial<Record<keyof RunRecord, unknown>> | null): string | null {
  return record && JSON.stringify({ workflow: record.workflow, status: record.status, createdAt: record.createdAt })
}

/** Whether `stored` is a record of a run that failed (an expiry's; false for anything else, junk included). */
export function failedRecord(stored: string): boolean {
  return storedFields(stored)?.status === 'failed'
}

/**
 * Finish the ending of `runId` when its job is gone and its final record is there (see
 * scripts.ts FINISH): in the cancelled index (scored at the record's `finishedAt`, now when it
 * has none) with its row (unless it has one), its deadline entry and `sy-unrun` count dropped.
 * 'indexed' when this call put it in the index (the one ender that counts it); nothing when
 * the job is still there. `record`: the stored record's fields (storedFields), unchecked.
 */
export async function finishEnding(
  queue: Queue,
  keys: PoolKeys,
  runId: string,
  record: Partial<Record<keyof RunRecord, unknown>> | null,
): Promise<'indexed' | 'already' | 'not-ended'> {
  const finishedAt = record?.finishedAt
  const score = typeof finishedAt === 'number' && Number.isFinite(finishedAt) ? finishedAt : Date.now()
  return finishEnded(await queue.client, keys, runId, score, rowOf(record))
}
