// Hands a dead worker's runs on, at once. Each worker process (node or Python) records,
// per run it holds, BullMQ's lock token in its `sy-leases:<worker>` hash; when its
// heartbeat expires (heartbeat.ts), the first reaper to notice takes its leases and,
// through BullMQ's own job API with that token, puts each run back in the queue — or ends
// it: WORKER_CRASHED once it has taken its workers down maxCrashes times, WORKER_LOST when
// its deadline passed, CANCELLED when a caller asked for that. A run put back in the queue
// has its deadline entry written back (keys.ts `deadlines`): if no worker takes it before
// its deadline, the expiry pass (expiry.ts) ends it WORKER_LOST.
// Reapers: every live node worker of the pool, and the gateway (`switchyard gateway`:
// RedisBroker's `reap`) for every pool, so a Python pool, or a pool whose only worker
// died, is reaped too without a supervisor on its host. A supervisor that sees its child
// exit does not wait for the heartbeat to expire: it reaps that worker at once
// (RedisBroker.workerExited → reapWorker), so a run that kills its worker is retried,
// and counted, within a short deadline too. However many reapers see a dead worker, one
// claims it (scripts.ts CLAIM), and a run is handed on only with the dead worker's lock
// token (so at most once). A reaper that dies mid-way loses nothing: BullMQ's stalled check
// still finds the runs it did not hand on.
//
// BullMQ's lock (a minute, redis-run-source.ts) is only the backstop of this: for a run
// whose lease was never written, or a worker that does not write leases. A lock that
// short enough to find crashes fast would also expire during a Redis outage or a long
// garbage-collection pause, and hand a run that is still running to a second worker.
import { Job, UnrecoverableError, type Queue, type RedisClient } from 'bullmq'

import { crashedError, cancelledError, lostError } from '../run-errors.js'
import type { RunError } from '../broker.js'
import { commands } from './commands.js'
import { crashesOf, forgetUnrun } from './crashes.js'
import { HEARTBEAT } from './heartbeat.js'
import type { PoolKeys } from './keys.js'
import { deadlineOf, encodeRunError } from './record.js'
import { claimWorker, expiredWorkers } from './scripts.js'

/** One pool a reaper watches: its queue (whose connection reaps it) and keys. */
export interface ReapTarget {
  readonly queue: Queue
  readonly keys: PoolKeys
  readonly pool: string
}

export interface ReaperOptions {
  /** The pools to watch, all on one Redis server: one round trip a pass finds the dead workers of all. */
  readonly targets: readonly ReapTarget[]
  /** This process's worker id, if it is a worker: never reaped by itself. */
  readonly self?: string
  /** A run whose worker died under it this many times is dead-lettered (WORKER_CRASHED). */
  readonly maxCrashes: number
  readonly warn: (message: string) => void
}

export interface Reaper {
  /** One pass (tests call it; the timer calls it every HEARTBEAT.reapMs): the number of runs handed on or ended. */
  reap(): Promise<number>
  stop(): void
}

/** Dead workers looked up per pool and pass (the rest wait for the next pass). */
const PER_PASS = 20

/**
 * A worker holds at most its concurrency's runs. The gateway reaps every pool, and a pool's
 * ACL user may write its own pool's lease hashes: one planted with millions of fields must
 * not stall the gateway. A pass hands on at most this many runs of a pool; of a worker that
 * holds more, this many, and BullMQ's stalled check finds the rest (as it would had no
 * reaper seen the worker).
 */
const MAX_LEASES = 1000

/**
 * Start reaping every HEARTBEAT.reapMs, armed once this process has been connected for
 * HEARTBEAT.armMs. A node worker reaps its own pool; a gateway every pool of a server.
 */
export function startReaper(options: ReaperOptions): Reaper {
  const [first] = options.targets
  if (first === undefined) throw new Error('startReaper: no pool to watch')
  let readySince: number | null = null
  let stopped = false
  let running: Promise<number> | null = null
  void first.queue.client
    .then((client) => {
      if (client.status === 'ready') readySince = Date.now()
      client.on('ready', () => (readySince = Date.now()))
      client.on('close', () => (readySince = null))
      client.on('end', () => (readySince = null))
    })
    .catch(() => undefined)

  const reap = async (): Promise<number> => {
    const client = await first.queue.client
    const expired = await expiredWorkers(
      client,
      options.targets.map((target) => target.keys.workers),
      PER_PASS,
    )
    let released = 0
    for (const [i, target] of options.targets.entries()) {
      const dead = (expired[i] ?? []).filter((worker) => worker !== options.self)
      if (dead.length === 0) continue
      const own = await target.queue.client
      const reapOptions = { ...target, maxCrashes: options.maxCrashes, warn: options.warn }
      const budget = { leases: MAX_LEASES }
      for (const worker of dead) {
        try {
          released += await reapWorker(own, reapOptions, worker, 'stopped beating', 'expired', budget)
        } catch (error) {
          options.warn(`pool '${target.pool}': reaping dead worker ${worker} failed: ${(error as Error).message}`)
        }
      }
    }
    return released
  }

  const timer = setInterval(() => {
    if (stopped || running || readySince === null || Date.now() - readySince < HEARTBEAT.armMs) return
    running = reap()
      .catch((error: unknown) => {
        if (stopped) return 0
        const pools = options.targets.map((target) => `'${target.pool}'`).join(', ')
        options.warn(`pool${options.targets.length > 1 ? 's' : ''} ${pools}: reaping dead workers failed: ${(error as Error).message}`)
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
export type ReapOptions = ReapTarget & Pick<ReaperOptions, 'maxCrashes' | 'warn'>

/**
 * Hand on every run `worker` held (its leases) and drop it from the pool's workers;
 * the number of runs handed on. Exactly one caller reaps a worker: the claim (scripts.ts
 * CLAIM) is atomic. `how` says how it was found dead ("stopped beating", or its supervisor
 * saw it exit); `claim` whether its heartbeat must still have expired ('expired') or the
 * process is known gone ('exited').
 */
export async function reapWorker(
  client: RedisClient,
  options: ReapOptions,
  worker: string,
  how: string,
  claim: 'expired' | 'exited',
  budget?: { leases: number },
): Promise<number> {
  // A pass hands on at most MAX_LEASES runs of a pool: a worker that would overrun what is left waits for the next pass.
  const held = await commands(client).hlen(options.keys.leases(worker))
  if (budget && held > budget.leases && budget.leases < MAX_LEASES) return 0
  if (!(await claimWorker(client, options.keys, worker, claim === 'expired'))) return 0
  const leases = await leasesOf(client, options, worker)
  if (budget) budget.leases -= leases.length
  let released = 0
  for (const [runId, token] of leases) {
    try {
      if (await releaseRun(client, options, runId, token, `worker ${worker} ${how}`)) released += 1
    } catch (error) {
      options.warn(`pool '${options.pool}': could not hand on run ${runId} of dead worker ${worker}: ${(error as Error).message}`)
    }
  }
  await client.del(options.keys.leases(worker))
  return released
}

/** The leases of a dead worker, at most about MAX_LEASES (run id → lock token). */
async function leasesOf(client: RedisClient, options: ReapOptions, worker: string): Promise<Array<[string, string]>> {
  const key = options.keys.leases(worker)
  const redis = commands(client)
  const count = await redis.hlen(key)
  if (count <= MAX_LEASES) return Object.entries(await client.hgetall(key))
  options.warn(
    `pool '${options.pool}': dead worker ${worker} holds ${count} leases, more than any worker runs at once: ` +
      `handing on about ${MAX_LEASES} now, the rest at BullMQ's stalled check`,
  )
  const [, flat] = await redis.hscan(key, '0', 'COUNT', MAX_LEASES)
  const pairs: Array<[string, string]> = []
  for (let i = 0; i + 1 < flat.length && pairs.length < MAX_LEASES; i += 2) pairs.push([flat[i] ?? '', flat[i + 1] ?? ''])
  return pairs
}

/** A run went back to its queue: its deadline entry is written back for the expiry pass (expiry.ts). */
export async function requeued(client: RedisClient, keys: PoolKeys, runId: string, deadline: string): Promise<void> {
  const ms = Date.parse(deadline)
  if (Number.isFinite(ms)) await commands(client).zadd(keys.deadlines, ms, runId)
}

/** Put one run of a dead worker back in the queue, or end it; false when it was no longer that worker's. */
async function releaseRun(client: RedisClient, options: ReapOptions, runId: string, token: string, how: string): Promise<boolean> {
  const job = await Job.fromId(options.queue, runId)
  if (!job || !(await job.isActive())) return false
  // The dead worker's take counts (crashes.ts: takes without an outcome, less those not run).
  const lost = Math.max(1, await crashesOf(client, options.keys, job, 0))
  const deadline = deadlineOf(job)
  let end: RunError | null = null
  if ((await client.zscore(options.keys.cancels, runId)) !== null) end = cancelledError(runId, 'while running')
  else if (lost >= options.maxCrashes) end = crashedError(runId, lost, options.pool, how)
  else if (!(Date.parse(deadline) > Date.now())) end = lostError(runId, deadline, how)
  if (end === null) {
    // The lock is checked against the dead worker's token: a worker that is alive after all keeps its run.
    if ((await job.moveToWait(token)) < 0) return false
    // Queued again: the expiry pass (expiry.ts) ends it at its deadline if no worker takes it.
    await requeued(client, options.keys, runId, deadline)
    return true
  }
  const now = Date.now()
  const stamp = { startedAt: job.processedOn ?? now, finishedAt: now, attempts: Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1) }
  await job.moveToFailed(new UnrecoverableError(encodeRunError(end, stamp)), token)
  await forgetUnrun(client, options.keys, runId).catch(() => undefined)
  return true
}
