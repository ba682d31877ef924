// wait() on Redis, bounded and never hanging. BullMQ's waitUntilFinished can hang
// and fails with "Missing key" once a finished job is removed, so instead:
// - one QueueEvents per pool queue, started at a fixed stream position (the stream's
//   newest id when it opens), so no final event of a later run is missed;
// - an event speaks only for its own pool's runs: waits and watched runs are keyed by
//   pool and run id, and a listener wakes only its pool's. A pool's Redis user writes its
//   own events stream, so an event naming another pool's run id (a forged `completed`
//   with an output of its choosing) must settle nothing there (SECURITY.md row 11). Within
//   its pool an event is trusted as it stands: what it could forge there (its own runs'
//   outputs) the pool's worker writes anyway;
// - runs this broker submitted after that are "watched": their completed/failed event
//   carries the worker's stamp (redis-record.ts), which settles the wait with no read;
// - any other run is checked with one HGET, then read when final;
// - a slow poll is the safety net, and `until` (or the signal) ends every wait with
//   the record as it stands; a read that could not reach Redis before then is tried again.
import { QueueEvents } from 'bullmq'

import { SwitchyardError } from '../../../control/index.js'
import type { RunRecord, RunStatus, WaitOptions } from '../broker.js'
import { unreachable } from './connection.js'
import { RedisErrorLog } from './error-log.js'
import { recordFromEvent } from './record.js'

/** How a wait reads the run when events alone do not settle it. */
export interface RunReader {
  /** The record; `final` is a status an event already settled (saves reading the state). */
  read(runId: string, final: RunStatus | null): Promise<RunRecord | null>
  /** Whether the run finished (null: no such run), by one cheap read. */
  hasFinished(runId: string): Promise<boolean | null>
}

/** A run submitted while its queue's events were being read: its record then, and its final status once known. */
interface Watched {
  readonly submitted: RunRecord
  status: RunStatus | null
}

type Wake = (final: RunStatus | null, record: RunRecord | null) => void

const CACHE = 10_000
/** How soon a wait reads its finished run again after a read failed. */
const REREAD_MS = 250

/** Set a key in a Map used as a bounded cache: the oldest entry goes first. */
export function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= CACHE && !map.has(key)) {
    const oldest = map.keys().next()
    if (!oldest.done) map.delete(oldest.value)
  }
  map.set(key, value)
}

/** The key of one pool's run in the maps below (a pool name has no newline: registry rules). */
function slot(pool: string, runId: string): string {
  return `${pool}\n${runId}`
}

/** The waits of one broker: its QueueEvents listeners, watched runs and waiters, each keyed by pool and run id. */
export class RunWaits {
  private readonly watched = new Map<string, Watched>()
  /** slot(pool, runId) → callbacks of the wait() calls listening for it. */
  private readonly waiters = new Map<string, Set<Wake>>()

  /** Redis down: each listener's connection fails about once a second; said once until it is back. */
  private readonly errors: RedisErrorLog

  constructor(
    private readonly pollMs: number,
    private readonly warn: (message: string) => void,
  ) {
    this.errors = new RedisErrorLog(warn)
  }

  /** QueueEvents for the queue of `pool`, reading from `lastEventId` on, wired to that pool's waits only. */
  listen(pool: string, queue: string, options: { connection: { url: string }; prefix: string; lastEventId: string }): QueueEvents {
    const events = new QueueEvents(queue, options)
    const label = `${queue} (its events)`
    events.on('error', (error) =>
      this.errors.reportConnection(label, options.connection.url, error, () => this.warn(`Redis queue events ${queue}: ${error.message}`)),
    )
    this.errors.clearWhenReady(label, options.connection.url, events.client)
    events.on('completed', ({ jobId, returnvalue }) =>
      this.wake(pool, jobId, 'succeeded', (submitted) => recordFromEvent(submitted, { status: 'succeeded', returnvalue })),
    )
    events.on('failed', ({ jobId, failedReason }) =>
      this.wake(pool, jobId, 'failed', (submitted) => recordFromEvent(submitted, { status: 'failed', failedReason })),
    )
    events.on('removed', ({ jobId }) => this.wake(pool, jobId, null, () => null))
    return events
  }

  /** Remember a run about to be submitted (to `submitted.pool`) after its queue's listener started (see listen()). */
  watch(submitted: RunRecord): void {
    bounded(this.watched, slot(submitted.pool, submitted.runId), { submitted, status: null })
  }

  unwatch(pool: string, runId: string): void {
    this.watched.delete(slot(pool, runId))
  }

  private wake(pool: string, jobId: string, status: RunStatus | null, record: (submitted: RunRecord) => RunRecord | null): void {
    const key = slot(pool, jobId)
    const watched = this.watched.get(key)
    const waiting = this.waiters.get(key)
    let final: RunRecord | null = null
    // Removed (ended in the queue: cancelled, expired): no final event will follow, so the
    // run is watched no more, and a wait begun from now on reads it at once instead of
    // waiting for the slow poll.
    if (watched && status === null) this.watched.delete(key)
    if (watched && status !== null) {
      watched.status = status
      // The record (with its output) is built only for a wait listening now: a run nobody
      // waits for (respond-async) keeps its status here, not its output, so this cache of
      // 10,000 runs never holds 10,000 outputs; a later wait reads the one it needs.
      if (waiting) final = record(watched.submitted)
    }
    waiting?.forEach((notify) => notify(status, final))
  }

  /**
   * Resolve with the final record of `pool`'s run, or at `until`/abort with the record as it
   * stands. Only `pool`'s events wake it; `reader` reads the run in that pool.
   */
  wait(pool: string, runId: string, options: WaitOptions, reader: RunReader): Promise<RunRecord> {
    const key = slot(pool, runId)
    return new Promise<RunRecord>((resolve, reject) => {
      let settled = false
      let checking = false
      let again = false
      let reread: NodeJS.Timeout | undefined
      const listeners = this.waiters.get(key) ?? new Set<Wake>()
      this.waiters.set(key, listeners)

      const finish = (record: RunRecord | null, error?: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        clearTimeout(reread)
        clearInterval(poll)
        options.signal?.removeEventListener('abort', onStop)
        listeners.delete(onEvent)
        if (listeners.size === 0) this.waiters.delete(key)
        this.watched.delete(key)
        if (record) resolve(record)
        else reject(error ?? new SwitchyardError('UNKNOWN_RUN', `run '${runId}' was removed while waiting for it`))
      }
      // Settle with the full record once the run is final (or when told to stop). A read that
      // could not reach Redis before the wait is over (Redis restarting, a connection that
      // broke under it) is tried again shortly: the run may well have succeeded, and a wait
      // ended by the failure would answer its caller 503 for it. An answer Redis gave (an
      // error) ends it, and so does the last read (`until`, or the signal).
      const settle = async (final: RunStatus | null, last = false) => {
        try {
          finish(await reader.read(runId, final))
        } catch (error) {
          if (last || settled || !unreachable(error)) finish(null, error)
          else {
            clearTimeout(reread)
            reread = setTimeout(() => void settle(final), REREAD_MS)
          }
        }
      }
      // A wake-up that arrives during a check is not dropped: it checks once more afterwards.
      const check = async (): Promise<void> => {
        if (settled) return
        if (checking) {
          again = true
          return
        }
        checking = true
        again = false
        try {
          if ((await reader.hasFinished(runId)) !== false) await settle(null)
        } catch {
          // Redis hiccup: the next event, poll or the deadline tries again.
        } finally {
          checking = false
        }
        if (again) await check()
      }
      const onEvent: Wake = (final, record) => {
        if (record) finish(record)
        else void (final === null ? check() : settle(final))
      }
      const onStop = () => {
        clearTimeout(reread)
        void settle(null, true)
      }
      listeners.add(onEvent)
      // In the same tick as subscribing, so a run finishing in between is not missed.
      const watched = this.watched.get(key)
      const timer = setTimeout(onStop, Math.max(0, options.until - Date.now()))
      // A watched run's final event cannot be missed: its poll is only a rare safety net.
      const poll = setInterval(() => void check(), watched ? this.pollMs * 5 : this.pollMs)
      options.signal?.addEventListener('abort', onStop, { once: true })
      if (Date.now() >= options.until || options.signal?.aborted === true) onStop()
      else if (watched?.status) void settle(watched.status)
      else if (!watched) void check()
      // else: submitted while listening; its final event will come (the poll is the safety net).
    })
  }
}
