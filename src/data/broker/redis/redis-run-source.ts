// The consumer side of the Redis broker: a BullMQ Worker on one pool's queue that
// hands each job's envelope to the worker's handler and settles the job by the
// outcome. Retry policy lives in the job (attempts, backoff, set at submit); this
// file only says which failures may be retried:
//   ok                         → complete with the output, stamped with the attempt's
//                                timings (redis-record.ts: the producer settles wait()
//                                from the completed event alone)
//   retryable error            → throw: BullMQ retries with backoff while attempts remain
//                                and the retry would start before the deadline, then
//                                the job lands in the failed set (dead letter)
//   non-retryable error        → throw UnrecoverableError: failed at once
// Beside the BullMQ Worker, each process beats (heartbeat.ts), writes a lease per run
// it holds, reaps the runs of dead workers of its pool (reaper.ts), and listens for
// cancels: a run is aborted wherever it runs (`sy-cancel` channel), and a cancel that
// arrives while the process is disconnected is read back from `sy-cancels`. A run it takes
// leaves the `sy-deadlines` set (expiry.ts); one it hands back to the queue for a retry
// goes back into it.
// A suspect (a run whose worker already died under it once) runs alone in its process:
// the worker stops taking runs, waits for the ones in flight, runs it, and takes runs
// again; a run that comes while a suspect holds the process is handed back to the queue
// (and into `sy-deadlines`). So when a poison run takes its process down again, the runs
// that shared the process the first time are not counted a second crash beside it
// (WORKER_CRASHED is the poison's).
import { Queue, UnrecoverableError, WaitingError, Worker, type Job, type RedisClient } from 'bullmq'

import { queueName } from '../../../control/index.js'
import type { RunError } from '../broker.js'
import { cancelledError } from '../run-errors.js'
import { checkEvictionPolicy, closeBounded, connectionFor, RECONNECT_MAX_MS, within, type EvictionCheck } from './connection.js'
import { commands } from './commands.js'
import { RedisErrorLog } from './error-log.js'
import { startHeartbeat, newWorkerId, type Heartbeat } from './heartbeat.js'
import { poolKeys } from './keys.js'
import { countUnrun, crashesOf, forgetUnrun } from './crashes.js'
import { requeued, startReaper, type Reaper } from './reaper.js'
import { deadlineOf, encodeRunError, stampResult, type RunStamp } from './record.js'
import type { RunHandler, RunSource } from '../run-source.js'

/**
 * BullMQ's lock on a running job: the backstop behind heartbeats (see reaper.ts). Long
 * enough that runs survive a Redis outage of up to lockMs − renewMs and still complete
 * on reconnect, rather than being taken by a second worker while the first finishes.
 */
export const LOCK = { lockMs: 60_000, renewMs: 15_000, stalledIntervalMs: 30_000 } as const

export interface RedisRunSourceOptions {
  readonly url: string
  /** BullMQ key prefix; must match the broker's. @default 'bull' */
  readonly prefix?: string
  /** How long a run's lock lasts without renewal (the backstop for a dead worker's runs). @default LOCK.lockMs */
  readonly lockDurationMs?: number
  /** How often BullMQ looks for runs whose lock expired. @default LOCK.stalledIntervalMs */
  readonly stalledIntervalMs?: number
  /** A run whose worker died under it this many times is dead-lettered (WORKER_CRASHED). @default 2 */
  readonly maxCrashes?: number
  /** Beat, write leases and reap dead workers (heartbeat.ts, reaper.ts). @default true */
  readonly heartbeat?: boolean
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

/** The delay BullMQ would wait before the next attempt (its exponential and fixed backoffs). */
function nextRetryDelay(job: Job): number {
  const backoff = job.opts.backoff
  if (typeof backoff === 'number') return backoff
  if (!backoff) return 0
  const delay = backoff.delay ?? 0
  return backoff.type === 'exponential' ? Math.round(2 ** job.attemptsMade * delay) : delay
}

/** Turn a failed outcome into the exception that tells BullMQ what to do next. */
function failure(job: Job, error: RunError, stamp: RunStamp): Error {
  const message = encodeRunError(error, stamp)
  // Never retried past the deadline: nobody waits for that attempt, and its error would hide this one.
  const deadline = Date.parse(deadlineOf(job))
  const inTime = Date.now() + nextRetryDelay(job) < deadline
  return error.retryable && inTime ? new Error(message) : new UnrecoverableError(message)
}

/** Whether BullMQ will not run this job again after this failure (see failure()). */
function willNotRetry(job: Job, error: RunError): boolean {
  return (
    failure(job, error, { startedAt: 0, finishedAt: 0, attempts: 0 }) instanceof UnrecoverableError ||
    job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
  )
}

/** Record a run as finished until its signed deadline (the score); older entries are dropped on the way. */
async function markFinished(client: RedisClient, key: string, runId: string, job: Job): Promise<void> {
  const deadline = Date.parse(deadlineOf(job))
  if (!Number.isFinite(deadline)) return
  await commands(client).zremrangebyscore(key, '-inf', Date.now())
  await commands(client).zadd(key, deadline, runId)
}

/** The slice of ioredis a cancel listener needs (BullMQ's client proxies it). */
interface Subscriber {
  subscribe(channel: string): Promise<unknown>
  on(event: 'message', listener: (channel: string, message: string) => void): unknown
  on(event: 'ready', listener: () => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  disconnect(): void
}

const RECENT_CANCELS = 1000

/**
 * A RunSource on a BullMQ Worker for one pool.
 * @example
 * const source = redisRunSource('email', { url: process.env.SWITCHYARD_REDIS_URL })
 * source.start(handler, { concurrency: pool.concurrency })
 */
export function redisRunSource(pool: string, options: RedisRunSourceOptions): RunSource {
  const warn = options.warn ?? defaultWarn
  const prefix = options.prefix ?? 'bull'
  const queueNameOfPool = queueName(pool)
  const keys = poolKeys(prefix, queueNameOfPool)
  const hard = new AbortController()
  const workerId = newWorkerId()
  /** Runs this process is executing: run id → the controller of its signal. */
  const running = new Map<string, AbortController>()
  /** Cancels heard for runs not (yet) running here, in case one starts here next. */
  const recentCancels = new Set<string>()
  let worker: Worker | null = null
  let queue: Queue | null = null
  let heartbeat: Heartbeat | null = null
  let reaper: Reaper | null = null
  /**
   * The reaper's own connection, fail-fast as the gateway's: a command of a pass in flight
   * when Redis dies must fail, not be sent again once Redis is back. Sent again, it read
   * every worker's heartbeat as expired (none could beat while Redis was away) and handed
   * on the runs of live workers before they beat again: run twice.
   */
  let reapQueue: Queue | null = null
  let subscriber: Subscriber | null = null
  /** The suspect that holds this process (waiting for the others to end, or running alone), if any. */
  let solo: string | null = null
  /** Called whenever a run here ends (a waiting suspect checks whether it is alone now). */
  const ended = new Set<() => void>()
  /** Runs taken while a suspect holds this process, on their way back to the queue. */
  const handingBack = new Set<string>()
  /** Whether a run other than `runId` is in flight here: running, or being handed back. */
  const othersThan = (runId: string) => handingBack.size > 0 || [...running.keys()].some((id) => id !== runId)
  /** A run here ended or went back: each waiting suspect looks again. */
  const wake = () => {
    for (const check of [...ended]) check()
  }

  /** Count a take of `runId` as not run here (+1: crashes.ts), or take that back (−1). */
  const unrun = async (runId: string, by: 1 | -1) => {
    if (queue) await countUnrun(await queue.client, keys, runId, by)
  }

  /**
   * Give a run back to the queue unrun, at its head (BullMQ's moveToWait, as a reaper hands on
   * a dead worker's run), this take counted as not run (crashes.ts), and neither an attempt nor
   * a failure counted (WaitingError tells the Worker so). This process takes nothing while its
   * suspect holds it (paused), so the run goes to another worker at once, or to this one next.
   * At the head, not behind the queue (a delayed job comes back at its tail): a suspect handed
   * back waited behind the whole backlog, 22 s of a 30 s deadline in the chaos suite's kill.
   */
  const handBack = async (job: Job, token: string | undefined): Promise<never> => {
    const runId = job.id ?? ''
    // Until it is back in the queue the suspect does not start (alone()): a run held here
    // without a lease, were the suspect to take the process down, would wait for BullMQ's
    // stalled check (30-60 s) instead of a reaper.
    handingBack.add(runId)
    try {
      // Counted first: a process that dies before the move leaves the run active, and its
      // reaper must not count a crash for a run that did not run here.
      await unrun(runId, 1)
      try {
        // Back into the expiry pass's set first, as a retry (not due before the move: a due entry of a running run is dropped).
        if (queue) await requeued(await queue.client, keys, runId, deadlineOf(job))
        await job.moveToWait(token)
      } catch (error) {
        await unrun(runId, -1).catch(() => undefined)
        throw error
      }
    } finally {
      handingBack.delete(runId)
      wake()
    }
    throw new WaitingError(`run ${runId} handed back: this process runs suspect run ${solo ?? '?'} alone`)
  }

  /**
   * Resolves when `runId` is the only run in flight here, its signal aborts (cancel, hard
   * close), or `deadlineMs` passes (the handler then ends it WORKER_LOST, as a lost run).
   */
  const alone = (runId: string, signal: AbortSignal, deadlineMs: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (othersThan(runId) && !signal.aborted && Date.now() < deadlineMs) {
          // A timer may fire a millisecond early (or the clock step back): armed again, or the
          // suspect would wait past its deadline for the others to end.
          clearTimeout(timer)
          timer = setTimeout(check, Math.max(1, Math.min(deadlineMs - Date.now() + 1, 2 ** 31 - 1)))
          return
        }
        clearTimeout(timer)
        signal.removeEventListener('abort', check)
        ended.delete(check)
        resolve()
      }
      let timer = setTimeout(check, Math.max(0, Math.min(deadlineMs - Date.now(), 2 ** 31 - 1)))
      signal.addEventListener('abort', check, { once: true })
      ended.add(check)
      check()
    })

  const cancelHere = (runId: string) => {
    const controller = running.get(runId)
    if (controller) {
      controller.abort(cancelledError(runId, 'while running', true))
      return
    }
    recentCancels.add(runId)
    if (recentCancels.size > RECENT_CANCELS) recentCancels.delete(recentCancels.values().next().value as string)
  }

  /** Cancels requested while this process could not hear them. */
  const catchUpCancels = async (client: RedisClient) => {
    const ids = [...running.keys()]
    if (ids.length === 0) return
    const scores = await commands(client).zmscore(keys.cancels, ...ids)
    ids.forEach((runId, i) => {
      if (scores[i] !== null && scores[i] !== undefined) cancelHere(runId)
    })
  }

  const listenForCancels = async () => {
    if (!queue) return
    const client = await queue.client
    const sub = client.duplicate() as unknown as Subscriber
    subscriber = sub
    sub.on('error', () => undefined)
    sub.on('message', (_channel, runId) => cancelHere(runId))
    sub.on('ready', () => void catchUpCancels(client).catch(() => undefined))
    await sub.subscribe(keys.cancelChannel)
  }

  return {
    start(handler: RunHandler, { concurrency }: { concurrency: number }): void {
      if (worker) throw new Error(`redisRunSource('${pool}') is already started`)
      const beating = options.heartbeat ?? true
      const processor = async (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> => {
        const runId = job.id ?? ''
        const lostAttempts = queue ? await crashesOf(await queue.client, keys, job, 1) : 0
        // A suspect holds this process: whatever else comes (another suspect, or a run taken
        // just as the worker paused) would be counted a crash beside it. Another worker, or
        // this one later, takes it.
        if (solo !== null) return handBack(job, token)
        if (lostAttempts > 0) {
          // This suspect holds the process from now on: take no new runs (BullMQ's local
          // pause, without waiting for the active ones); the finally below takes runs again.
          solo = runId
          void worker?.pause(true).catch(() => undefined)
        }
        // One signal for the run: aborted by a hard close, by BullMQ, or by a cancel.
        // Linked by hand, and unlinked when the run ends: AbortSignal.any() on Node 20
        // keeps growing the long-lived source signal's listener list.
        const run = new AbortController()
        const abort = () => run.abort(hard.signal.reason ?? signal?.reason)
        hard.signal.addEventListener('abort', abort, { once: true })
        signal?.addEventListener('abort', abort, { once: true })
        running.set(runId, run)
        let leased = false
        try {
          // The lease is in Redis before the graph starts: a crash from here on is found by a reaper in seconds.
          // Its deadline entry goes at the same time (both written before either reply is
          // read): a run taken is not the expiry pass's (expiry.ts).
          if (beating && token && queue) {
            const client = await queue.client
            await Promise.all([client.hset(keys.leases(workerId), { [runId]: token }), commands(client).zrem(keys.deadlines, runId)])
            leased = true
          } else if (queue) {
            void queue.client.then((c) => commands(c).zrem(keys.deadlines, runId)).catch(() => undefined)
          }
          if (recentCancels.delete(runId)) run.abort(cancelledError(runId, 'while running', true))
          else if (lostAttempts > 0 && queue && (await (await queue.client).zscore(keys.cancels, runId)) !== null) {
            run.abort(cancelledError(runId, 'while running', true))
          }
          if (solo === runId) await waitAlone(runId, job, run.signal)
          const client = queue ? await queue.client : null
          const finished = client ? (await client.zscore(keys.finished, runId)) !== null : false
          const outcome = await handler({ raw: job.data, runId, finished, attempt: job.attemptsMade + 1, lostAttempts, signal: run.signal })
          const final = outcome.ok || willNotRetry(job, outcome.error)
          // A run that executed and will not be retried is finished: a replay before its deadline is refused.
          if (client && final && !(!outcome.ok && outcome.refused)) await markFinished(client, keys.finished, runId, job)
          // Its takes not run here were read (lostAttempts) only while it could run again: a run
          // that ends here for good, refused or not, forgets them, if it was ever taken before.
          if (client && final && (lostAttempts > 0 || (job.attemptsStarted ?? 0) - job.attemptsMade > 1))
            void forgetUnrun(client, keys, runId).catch(() => undefined)
          // attemptsStarted already counts this attempt (moveToActive raised it); a run
          // retaken from a dead worker counts the lost attempt too.
          const stamp = {
            startedAt: job.processedOn ?? Date.now(),
            finishedAt: Date.now(),
            attempts: Math.max(job.attemptsStarted, job.attemptsMade + 1),
          }
          if (outcome.ok) return stampResult(outcome.output, stamp)
          const error = failure(job, outcome.error, stamp)
          // A retry goes back to the queue: its deadline entry goes back first, so the expiry
          // pass ends it if no worker takes it in time. Not due before BullMQ has moved it
          // (failure() retries only a run whose retry starts before its deadline), so no pass
          // can find it still active here and drop it.
          if (client && !(error instanceof UnrecoverableError) && job.attemptsMade + 1 < (job.opts.attempts ?? 1))
            await requeued(client, keys, runId, deadlineOf(job))
          throw error
        } finally {
          running.delete(runId)
          wake()
          if (solo === runId) {
            solo = null
            if (worker && !worker.closing) worker.resume()
          }
          hard.signal.removeEventListener('abort', abort)
          signal?.removeEventListener('abort', abort)
          if (leased) void queue?.client.then((c) => c.hdel(keys.leases(workerId), runId)).catch(() => undefined)
        }
      }
      /**
       * Wait until the suspect `runId` is the only run in flight here (the worker took no new
       * runs since it came: processor() paused it). While it waits, its take is counted as
       * not run (crashes.ts): if one of the others takes the process down, that crash is not its.
       */
      const waitAlone = async (runId: string, job: Job, signal: AbortSignal) => {
        if (!othersThan(runId)) return
        const deadlineMs = Date.parse(deadlineOf(job))
        // Redis not answering only costs the run its shelter from the others' crash: it still waits.
        const unstarted = await unrun(runId, 1).then(
          () => true,
          () => false,
        )
        try {
          await alone(runId, signal, Number.isFinite(deadlineMs) ? deadlineMs : Date.now())
        } finally {
          if (unstarted)
            await unrun(runId, -1).catch((error: unknown) =>
              warn(`pool '${pool}': run ${runId}: could not count its start again: ${(error as Error).message}`),
            )
        }
      }
      worker = new Worker(queueNameOfPool, processor, {
        connection: connectionFor(options.url),
        prefix,
        concurrency,
        lockDuration: options.lockDurationMs ?? LOCK.lockMs,
        lockRenewTime: Math.min(LOCK.renewMs, (options.lockDurationMs ?? LOCK.lockMs) / 2),
        stalledInterval: options.stalledIntervalMs ?? LOCK.stalledIntervalMs,
        // The backstop's crash count: a run whose lock expired twice fails ("stalled more than allowable limit").
        maxStalledCount: Math.max(0, (options.maxCrashes ?? 2) - 1),
        // After a connection error taking or settling a run, try again within a second (BullMQ's default is 15 s).
        runRetryDelay: RECONNECT_MAX_MS,
        // Runs are taken only once this process's heartbeat is in Redis: a crash before it could not be noticed.
        autorun: !beating,
      })
      // Redis down: each of the worker's connections fails about once a second; said once until it is back.
      const errors = new RedisErrorLog(warn)
      const label = `${queueNameOfPool} (pool '${pool}', its worker)`
      worker.on('error', (error) =>
        errors.reportConnection(label, options.url, error, () => warn(`Redis worker for pool '${pool}': ${error.message}`)),
      )
      // Its blocking connection's ready is the worker's own event.
      worker.on('ready', errors.clearWhenReady(label, options.url, worker.client))
      // A run BullMQ itself failed when this worker took it (its lock expired more often than
      // maxStalledCount allows: the backstop's crash count), without the processor: it ended
      // for good, so its count of takes not run (crashes.ts) is no longer read. A rare path: it
      // costs a round trip only then.
      worker.on('failed', (job) => {
        if (job?.id !== undefined && job.deferredFailure !== undefined && queue)
          void queue.client.then((client) => forgetUnrun(client, keys, job.id ?? '')).catch(() => undefined)
      })
      queue = new Queue(queueNameOfPool, { connection: connectionFor(options.url), prefix })
      queue.on('error', () => undefined)
      if (beating) {
        heartbeat = startHeartbeat({ url: options.url, workersKey: keys.workers, workerId, name: `${prefix}:${queueNameOfPool}:heartbeat` })
        reapQueue = new Queue(queueNameOfPool, { connection: connectionFor(options.url, { failFast: true }), prefix })
        reapQueue.on('error', () => undefined)
        reaper = startReaper({ targets: [{ queue: reapQueue, keys, pool }], self: workerId, maxCrashes: options.maxCrashes ?? 2, warn })
        const consuming = worker
        void heartbeat.beating.then(() => {
          if (!hard.signal.aborted && !consuming.closing)
            void consuming.run().catch((error: unknown) => warn(`Redis worker for pool '${pool}': ${(error as Error).message}`))
        })
      }
      void listenForCancels().catch((error: unknown) => warn(`pool '${pool}': cannot listen for cancels: ${(error as Error).message}`))
      const current = worker
      void current.client
        .then((client) => checkEvictionPolicy(client, options.url, options.evictionCheck ?? 'warn', warn, { quietWhenDenied: true }))
        .catch((error: unknown) => warn(String((error as Error).message ?? error)))
    },

    visible(): Promise<void> {
      return heartbeat?.beating ?? Promise.resolve()
    },

    async drain(): Promise<void> {
      // Worker.close() without force stops fetching and waits for active jobs.
      await worker?.close()
      await stopExtras()
    },

    async close(): Promise<void> {
      hard.abort(new Error(`the run source for pool '${pool}' was closed`))
      if (!worker) return
      await closeBounded(worker, options.closeTimeoutMs ?? 10_000, { force: true })
      await stopExtras()
    },
  }

  async function stopExtras(): Promise<void> {
    reaper?.stop()
    subscriber?.disconnect()
    await heartbeat?.stop()
    // Leaving cleanly: no lease of ours is left for a reaper to find.
    if (heartbeat && queue)
      await within(
        queue.client.then((c) => c.del(keys.leases(workerId))),
        2000,
        'leases',
      ).catch(() => undefined)
    const closing = [queue, reapQueue].filter((q): q is Queue => q !== null)
    queue = null
    reapQueue = null
    await Promise.all(closing.map((q) => closeBounded(q, options.closeTimeoutMs ?? 10_000)))
  }
}
