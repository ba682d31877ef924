// The production broker: BullMQ on Redis, one queue per pool, optionally one Redis
// per pool (Pool.redis). The BullMQ job is the run record (redis-record.ts); our other
// keys (keys.ts: idempotency claims, admissions, heartbeats, cancels) live under the
// pool's own queue prefix so a pool's Redis ACL user (`~<prefix>:<queue>:*`) covers
// everything of its pool. That user writes them too, so what they hold speaks only for
// that pool's runs: a record is shown as the pool whose key held it, and a run is looked
// up where its job is (locate, cancelledRecord; the waits: waits.ts), and a list reads at
// most LIST_RUN_BYTES of a job or record of a run ended while queued it returns, and
// distrusts a createdAt in the future.
//
// A submit is one admission script (scripts.ts ADMIT: key claim, liveness, exact
// maxQueued) and then BullMQ's add(), on a connection that fails fast while Redis is
// unreachable: a run is answered "accepted" only once its job exists, and a claim
// whose job never came goes stale instead of pointing at nothing.
//
// BullMQ traps designed around:
// - no job timeout in BullMQ: the worker owns deadlines (envelope.deadline);
// - `waitUntilFinished` can hang and fails with "Missing key" once the job is
//   removed: wait() is redis-waits.ts, bounded by `until`, reading the job itself;
// - keys evicted under memory pressure: connect() checks maxmemory-policy.
import { hostname } from 'node:os'

import { Job, Queue, type JobJsonRaw, type QueueEvents } from 'bullmq'

import { SwitchyardError, queueName } from '../../../control/index.js'
import type { Pool, Registry } from '../../../control/index.js'
import {
  ANONYMOUS_OWNER,
  ownerOf,
  type Broker,
  type PoolStats,
  type RunRecord,
  type RunStatus,
  type SubmitOptions,
  type SubmitResult,
  type WaitOptions,
} from '../broker.js'
import { idempotencyFingerprint, parseEnvelope, type Envelope } from '../../envelope.js'
import type { VerifyKeys } from '../../envelope-keys.js'
import { PoolSaturatedError } from '../pool-saturated.js'
import { PoolUnavailableError } from '../pool-unavailable.js'
import { cancelledError } from '../run-errors.js'
import {
  checkEvictionPolicy,
  closeBounded,
  connectionFor,
  lostConnection,
  mayHaveRun,
  redactUrl,
  within,
  type EvictionCheck,
} from './connection.js'
import { RedisErrorLog } from './error-log.js'
import { commands } from './commands.js'
import { HEARTBEAT } from './heartbeat.js'
import { reapWorker, startReaper, type Reaper } from './reaper.js'
import { endQueued, finishEnding, storedFields } from './end-queued.js'
import { startExpiry, type Expiry } from './expiry.js'
import { poolKeys, type PoolKeys } from './keys.js'
import { admit, cancelledRows, cappedGet, cappedRead, lastStreamId, liveWorkers, release, type Admission } from './scripts.js'
import { decodeRunError, recordFromJob, runStatusOfJobState, type JobLike } from './record.js'
import { RunWaits, bounded } from './waits.js'

export interface RedisBrokerOptions {
  /** Pools (name, maxQueued, concurrency, processes, redis URL) come from here; workflows' timeouts bound retention. */
  readonly registry: Pick<Registry, 'pools'> & Partial<Pick<Registry, 'workflows'>>
  /** Redis URL for every pool whose `redis` is null. */
  readonly url: string
  /** BullMQ key prefix. @default 'bull' */
  readonly prefix?: string
  /** First retry delay; attempt n waits backoffMs·2^(n-2) (BullMQ exponential backoff). @default 1000 */
  readonly backoffMs?: number
  /** How long finished runs (and their idempotency keys) stay readable. Keep it above the longest wait. @default 24 h */
  readonly retainMs?: number
  /** How long dead-lettered runs stay readable. @default 7 days */
  readonly retainFailedMs?: number
  /**
   * At most this many succeeded runs per pool stay readable (BullMQ drops the oldest
   * first), whatever retainMs says: each holds its output, up to the pool's maxOutput,
   * in Redis's memory. @default 10000
   */
  readonly retainCount?: number
  /** Eviction policy other than noeviction: refuse to start, or only warn. @default 'refuse' */
  readonly evictionCheck?: EvictionCheck
  /** Where warnings go. @default process.emitWarning */
  readonly warn?: (message: string) => void
  /** A run whose worker died under it this many times is dead-lettered (WORKER_CRASHED); the workers' own setting. @default 2 */
  readonly maxCrashes?: number
  /** Bound on each Redis round trip the broker makes. @default 10000 */
  readonly commandTimeoutMs?: number
  /** How often a waiting wait() re-reads the run, in case an event was missed. @default 2000 */
  readonly pollMs?: number
  /**
   * Reap dead workers of every pool (reaper.ts): hand on, or end, the runs of a worker whose
   * heartbeat expired, as a live node worker of its pool does. `switchyard gateway` turns it
   * on, so a Python pool, or a pool whose only worker died, needs no supervisor on the
   * worker's host to be reaped. @default false
   */
  readonly reap?: boolean
  /**
   * End the queued runs of every pool that no worker took before their deadline
   * (expiry.ts: failed DEADLINE_EXCEEDED, dead-lettered), a pass every 500 ms. Any number
   * of gateways may: each run is ended once. @default the value of `reap`
   */
  readonly expire?: boolean
  /**
   * The public keys of the gateway's signing key(s). Where a restarted gateway finds a job
   * under one run id in more than one pool (locate), the run is the one whose envelope they
   * verify and which names that pool: a pool's user can add a job under any id in its own
   * queue, but cannot sign. Without them, the first such pool in registry order. @default null
   */
  readonly verifyKeys?: VerifyKeys | null
}

interface PoolQueue {
  readonly pool: Pool
  readonly url: string
  readonly queue: Queue
  readonly keys: PoolKeys
  events?: QueueEvents
  eventsReady?: Promise<QueueEvents>
  /** Set once the queue's client and events are ready: later submits and waits skip the bounded await (a timer each). */
  client?: Awaited<Queue['client']>
  eventsOpen?: QueueEvents
  /** True once QueueEvents reads from a fixed stream position: every later run's final event will arrive. */
  watching: boolean
  /** Admissions of this broker in flight now (knownFull). */
  admitting: number
}

const HOUR = 3_600_000
/**
 * How long a full pool is believed full without asking Redis (knownFull): a flood's
 * refusals cost no round trip, and a queue that drained is refused for at most this long.
 */
const FULL_HINT_MS = 250
/** How long a submit waits for another submit of the same idempotency key to finish queueing its run. */
const PENDING_WAIT_MS = 2000

/**
 * Finished runs must outlive the longest wait on them (a run's deadline), or a
 * waiting caller finds nothing: a shorter retention is raised to twice the longest
 * timeout, with a warning.
 */
function retention(registry: RedisBrokerOptions['registry'], retainMs: number, warn: (message: string) => void): number {
  const timeouts = [...registry.pools.values(), ...(registry.workflows?.values() ?? [])].map((x) => x.timeoutMs)
  const longest = Math.max(0, ...timeouts)
  if (retainMs >= longest * 2) return retainMs
  warn(`retainMs ${retainMs} is shorter than twice the longest run timeout (${longest} ms): finished runs are kept ${longest * 2} ms`)
  return longest * 2
}

function defaultWarn(message: string): void {
  process.emitWarning(message, { code: 'SWITCHYARD_REDIS' })
}

/**
 * What a list reads of a run it returns, at most (scripts.ts CAPPED_READ): its job's small
 * fields, then its error, its input (the envelope, with its deadline, trace and idempotency
 * key) and its output, each while it fits. A pool's Redis user writes its own jobs: a field
 * that does not fit is left out and named in the record's `omitted`, so what a list reads
 * is this per run returned, whatever a pool planted. get() reads a run whole.
 */
const LIST_RUN_BYTES = 64 * 1024
/** What a list reads of each job of a window, to filter and order it: timestamp, name (and failedReason, when a status asks). */
const LIST_ROW_BYTES = 2 * 1024
/**
 * What the window of runs ended while queued may have Redis decode, in all, of records that
 * have no row (scripts.ts CANCELLED_ROWS): the script holds Redis for every pool while it runs.
 */
const LIST_DECODE_BYTES = 1024 * 1024
/** An owner is at most 128 characters (broker.ts ownerOf): a longer owner key is none of ours. */
const OWNER_BYTES = 256
/**
 * How far past this machine's clock a run's createdAt is believed (gateways' clocks differ a
 * little). A later one is distrusted, not clamped: a list orders the run as created at 0,
 * after every other, and shows createdAt 0 with 'createdAt' in `omitted` (a pool's user
 * writes its jobs' timestamps: clamped, a planted run would still sit first). A startedAt
 * or finishedAt that late is left out (believedTimes).
 */
const CLOCK_SKEW_MS = 5 * 60_000

/** A createdAt a list believes (see CLOCK_SKEW_MS), else 0. */
function believed(createdAt: number, now: number): number {
  return Number.isFinite(createdAt) && createdAt >= 0 && createdAt <= now + CLOCK_SKEW_MS ? createdAt : 0
}

/**
 * A listed record with the times a list believes: a createdAt in the future is 0, a
 * startedAt or finishedAt in the future is left out (one past year 275760 is no date at
 * all: the gateway's view of it throws), each named in `omitted`.
 */
function believedTimes(record: RunRecord, now: number): RunRecord {
  const late = (['createdAt', 'startedAt', 'finishedAt'] as const).filter((key) => {
    const at = record[key]
    return at !== undefined && believed(at, now) !== at
  })
  if (late.length === 0) return record
  const { startedAt, finishedAt, ...rest } = record
  return {
    ...rest,
    createdAt: believed(record.createdAt, now),
    ...(startedAt !== undefined && !late.includes('startedAt') ? { startedAt } : {}),
    ...(finishedAt !== undefined && !late.includes('finishedAt') ? { finishedAt } : {}),
    omitted: [...new Set([...(record.omitted ?? []), ...late])],
  }
}

/** The job fields a list reads of a run it returns (the small ones first), and the record fields each one feeds. */
const LISTED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  timestamp: ['createdAt'],
  name: [],
  opts: ['maxAttempts'],
  processedOn: ['startedAt'],
  finishedOn: ['finishedAt'],
  attemptsMade: ['attempts'],
  atm: ['attempts'],
  ats: ['attempts'],
  failedReason: ['error'],
  data: ['input', 'deadline', 'traceId', 'idempotencyKey', 'registry'],
  returnvalue: ['output'],
}

/**
 * What a listed run ended while queued whose record is over LIST_RUN_BYTES leaves out: all
 * but its row's workflow, status and createdAt (listedCancelled).
 */
const FROM_ROW: readonly string[] = [
  'input',
  'output',
  'error',
  'deadline',
  'traceId',
  'idempotencyKey',
  'registry',
  'owner',
  'attempts',
  'maxAttempts',
  'startedAt',
  'finishedAt',
]

/** JSON text of an object, as BullMQ writes a job's data and opts ('null' parses, but Job.fromJSON's Object.entries throws on it). */
function jsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

/** A run a list may return: its record already (ended while queued), or how to read it once it is listed. */
interface ListRow {
  readonly createdAt: number
  readonly record?: RunRecord
  readonly read?: () => Promise<RunRecord | null>
}

function matches(record: Pick<RunRecord, 'workflow' | 'status'>, filter: { workflow?: string; status?: RunStatus }): boolean {
  return (!filter.workflow || record.workflow === filter.workflow) && (!filter.status || record.status === filter.status)
}

/** A row of the cancelled index (end-queued.ts cancelledRow), or null when there is none or it is not one. */
function parseRow(text: string | null | undefined): { workflow: string; status: RunStatus; createdAt: number } | null {
  const row = typeof text === 'string' ? storedFields(text) : null
  if (typeof row?.workflow !== 'string' || typeof row.status !== 'string' || typeof row.createdAt !== 'number') return null
  return { workflow: row.workflow, status: row.status as RunStatus, createdAt: row.createdAt }
}

/** What a failed job's failedReason makes its run: cancelled (a run cancelled while running), else failed (recordFromJob alike). */
function failedStatus(reason: string | undefined): RunStatus {
  const { error } = decodeRunError(reason)
  return error.code === 'CANCELLED' && !error.retryable ? 'cancelled' : 'failed'
}

/**
 * The Broker on BullMQ. Create it with `RedisBroker.connect()`, which checks the
 * server before any run is accepted.
 *
 * @example
 * const broker = await RedisBroker.connect({ registry, url: 'redis://127.0.0.1:6379' })
 * const { runId } = await broker.submit(createEnvelope(route(registry, req), { runId, trace, idempotencyKey }, key))
 * const record = await broker.wait(runId, { until: Date.parse(envelope.deadline) })
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const
  readonly prefix: string
  private readonly queues = new Map<string, PoolQueue>()
  private readonly location = new Map<string, string>()
  /**
   * Workflow → its pool, when the registry given lists workflows: a record a pool stored
   * names one of its own (cancelledRecord); list() reads only the pool of the workflow it is asked for.
   */
  private readonly workflows: ReadonlyMap<string, { readonly pool: string }> | undefined
  /** Pool + run id of records cancelledRecord skipped and warned about once. */
  private readonly skipped = new Map<string, true>()
  private readonly waits: RunWaits
  private readonly backoffMs: number
  private readonly retainMs: number
  private readonly retainFailedMs: number
  private readonly retainCount: number
  private readonly maxCrashes: number
  private readonly verifyKeys: VerifyKeys | null
  /** Pools the admission script found full, until when that is believed without asking (knownFull). */
  private readonly fullUntil = new Map<string, { until: number; error: PoolSaturatedError; live: boolean }>()
  private readonly timeoutMs: number
  private readonly warn: (message: string) => void
  private readonly errors: RedisErrorLog
  private readonly reapers: Reaper[] = []
  private readonly expiryPasses: Expiry[] = []
  /** Runs this process's expiry passes ended, per pool (expiries()). */
  private readonly expired = new Map<string, number>()
  private closed = false
  /** Run ids whose admission is being undone in the background (undoLater). */
  private readonly undoing = new Set<string>()

  private constructor(options: RedisBrokerOptions) {
    this.prefix = options.prefix ?? 'bull'
    this.workflows = options.registry.workflows
    this.warn = options.warn ?? defaultWarn
    this.backoffMs = options.backoffMs ?? 1000
    this.retainMs = retention(options.registry, options.retainMs ?? 24 * HOUR, this.warn)
    this.retainFailedMs = options.retainFailedMs ?? 7 * 24 * HOUR
    this.retainCount = options.retainCount ?? 10_000
    this.maxCrashes = options.maxCrashes ?? 2
    this.verifyKeys = options.verifyKeys ?? null
    this.timeoutMs = options.commandTimeoutMs ?? 10_000
    this.waits = new RunWaits(options.pollMs ?? 2000, this.warn)
    this.errors = new RedisErrorLog(this.warn)
    for (const pool of options.registry.pools.values()) {
      const url = pool.redis ?? options.url
      const queue = new Queue(queueName(pool.name), { connection: connectionFor(url, { failFast: true }), prefix: this.prefix })
      queue.on('error', (error) => this.errors.report(queue.name, url, error))
      this.errors.clearWhenReady(queue.name, url, queue.waitUntilReady())
      this.queues.set(pool.name, { pool, url, queue, keys: poolKeys(this.prefix, queue.name), watching: false, admitting: 0 })
    }
    if (options.reap === true) this.startReapers()
    if (options.expire ?? options.reap === true) this.startExpiries()
  }

  /** One expiry pass per Redis server, for all of its pools (one round trip a pass when no run is due). */
  private startExpiries(): void {
    const byUrl = new Map<string, PoolQueue[]>()
    for (const entry of this.queues.values()) byUrl.set(entry.url, [...(byUrl.get(entry.url) ?? []), entry])
    for (const entries of byUrl.values()) {
      this.expiryPasses.push(
        startExpiry({
          targets: entries.map(({ queue, keys, pool }) => ({ queue, keys, pool: pool.name })),
          retainMs: this.retainFailedMs,
          admissionMs: this.admissionMs,
          expired: (pool) => this.expired.set(pool, (this.expired.get(pool) ?? 0) + 1),
          warn: this.warn,
        }),
      )
    }
  }

  /** Queued runs this broker's expiry passes ended at their deadline, per pool (switchyard_gateway_runs_expired_total). */
  expiries(): ReadonlyMap<string, number> {
    return this.expired
  }

  /** One expiry pass now, over every server (tests): the runs it ended; 0 when this broker does not expire runs. */
  async expireNow(): Promise<number> {
    const ended = await Promise.all(this.expiryPasses.map((expiry) => expiry.pass()))
    return ended.reduce((a, b) => a + b, 0)
  }

  /** One reaper per Redis server, for all of its pools (one round trip a pass when no worker died). */
  private startReapers(): void {
    const byUrl = new Map<string, PoolQueue[]>()
    for (const entry of this.queues.values()) byUrl.set(entry.url, [...(byUrl.get(entry.url) ?? []), entry])
    for (const entries of byUrl.values()) {
      const targets = entries.map(({ queue, keys, pool }) => ({ queue, keys, pool: pool.name }))
      this.reapers.push(startReaper({ targets, maxCrashes: this.maxCrashes, warn: this.warn }))
    }
  }

  /** Open a queue per pool and check each distinct Redis server's eviction policy. */
  static async connect(options: RedisBrokerOptions): Promise<RedisBroker> {
    const broker = new RedisBroker(options)
    try {
      const checked = new Set<string>()
      for (const { url, queue } of broker.queues.values()) {
        if (checked.has(url)) continue
        checked.add(url)
        const client = await within(queue.client, broker.timeoutMs, `Redis at ${redactUrl(url)}`)
        await checkEvictionPolicy(client, url, options.evictionCheck ?? 'refuse', broker.warn)
      }
    } catch (error) {
      const held = broker.errors.summary()
      if (held !== null) broker.warn(held)
      await broker.close()
      throw SwitchyardError.from(error, 'BROKER_UNAVAILABLE')
    }
    return broker
  }

  private poolQueue(pool: string): PoolQueue {
    const entry = this.queues.get(pool)
    if (!entry) throw new SwitchyardError('POOL_UNAVAILABLE', `no pool named '${pool}' in this broker's registry`)
    return entry
  }

  /**
   * Run a Redis call with the broker's bound; Redis errors become BROKER_UNAVAILABLE
   * (retryable). An error Redis answered (WRONGTYPE, NOPERM, …) goes to the warnings, not
   * into the error's message, which callers see: it tells of keys and data that are the
   * pools' and the server's, not the caller's.
   */
  private async call<T>(promise: Promise<T>, what: string): Promise<T> {
    try {
      return await within(promise, this.timeoutMs, what)
    } catch (error) {
      if (error instanceof SwitchyardError) throw error
      const answered = error instanceof Error && error.name === 'ReplyError'
      if (answered) this.warn(`${what}: Redis answered ${error.message}`)
      const message = answered
        ? 'Redis refused a command (its answer is in the gateway log)'
        : lostConnection(error)
          ? 'the connection to Redis broke before it answered'
          : (error as Error).message
      throw new SwitchyardError('BROKER_UNAVAILABLE', `${what} failed: ${message}`, { cause: error, retryable: true })
    }
  }

  private remember(runId: string, pool: string): void {
    bounded(this.location, runId, pool)
  }

  async submit(envelope: Envelope, options: SubmitOptions = {}): Promise<SubmitResult> {
    this.assertOpen()
    const entry = this.poolQueue(envelope.pool)
    const { queue, pool, keys } = entry
    const client = entry.client ?? (entry.client = await this.call(queue.client, `Redis for pool '${pool.name}'`))
    // Listening before the first add lets wait() skip reading runs this broker submitted.
    if (!entry.eventsOpen) await this.call(this.events(entry), `queue events of ${queue.name}`)
    const owner = ownerOf(options)
    const idempotency =
      envelope.idempotencyKey === null
        ? null
        : {
            key: keys.idempotency(owner, envelope.workflow, envelope.idempotencyKey),
            fingerprint: idempotencyFingerprint(envelope),
            // Claims written before keys had owners came from every caller alike: only the
            // anonymous caller (a gateway without tokens: the only caller, then as now) may
            // find its runs by them; a token's caller never finds another's run that way.
            legacy: owner === ANONYMOUS_OWNER ? keys.legacyIdempotency(envelope.workflow, envelope.idempotencyKey) : null,
          }

    // An earlier submit of this very run id is still being undone (below): admitted again now,
    // the undo could drop this admission's owner, deadline and claim (RELEASE knows only the id).
    if (this.undoing.has(envelope.runId)) {
      const message = `an earlier submit of run ${envelope.runId} is still being undone; retry in a moment`
      throw new SwitchyardError('BROKER_UNAVAILABLE', message, { retryable: true })
    }
    entry.admitting += 1
    let admission: Admission
    try {
      admission = await this.admission(client, entry, envelope, owner, idempotency, options.async !== true)
    } catch (error) {
      // The admission may have run with its reply lost: undone once Redis answers again, or
      // its claim would hold the key for a run never queued, and a retry with the key be
      // told 'pending' until the claim is taken for abandoned (pendingMs).
      if (mayHaveRun(error)) this.undoLater(client, keys, envelope.runId, idempotency?.key ?? null)
      throw error
    } finally {
      entry.admitting -= 1
    }
    switch (admission.kind) {
      case 'dup':
        this.remember(admission.runId, pool.name)
        return { runId: admission.runId, deduped: true }
      case 'conflict':
        throw new SwitchyardError(
          'IDEMPOTENCY_CONFLICT',
          `idempotency key '${envelope.idempotencyKey}' was already used by this caller for workflow '${envelope.workflow}' with a different input (run ${admission.runId})`,
        )
      case 'pending':
        throw new SwitchyardError(
          'BROKER_UNAVAILABLE',
          `another submission with idempotency key '${envelope.idempotencyKey}' is still queueing run ${admission.runId}; retry in a moment`,
          { retryable: true },
        )
      case 'unavailable':
        throw new PoolUnavailableError(
          pool.name,
          `no worker of the pool is alive (none beat in the last ${HEARTBEAT.ttlMs} ms); ask with Prefer: respond-async to queue the run anyway`,
          1000,
        )
      case 'full': {
        const perSecond = Math.max(1, pool.concurrency * pool.processes)
        const seconds = Math.ceil(admission.queued / perSecond)
        const error = new PoolSaturatedError(pool.name, pool.maxQueued, Math.min(60_000, Math.max(1000, seconds * 1000)))
        // Found full by a caller who waits: liveness was checked first (ADMIT), so a worker was alive too.
        this.fullUntil.set(pool.name, { until: Date.now() + FULL_HINT_MS, error, live: options.async !== true })
        throw error
      }
      case 'ok':
        this.fullUntil.delete(pool.name)
        break
    }

    const options_ = {
      jobId: envelope.runId,
      timestamp: Date.now(),
      attempts: envelope.maxAttempts,
      backoff: { type: 'exponential', delay: this.backoffMs },
      removeOnComplete: { age: Math.ceil(this.retainMs / 1000), count: this.retainCount },
      removeOnFail: { age: Math.ceil(this.retainFailedMs / 1000) },
    }
    // Watch before adding: on a busy machine the run's completed event can be read
    // before add()'s own reply is, and must find the run watched already.
    if (entry.watching) {
      const job: JobLike = {
        id: envelope.runId,
        name: envelope.workflow,
        data: envelope,
        returnvalue: null,
        attemptsMade: 0,
        timestamp: options_.timestamp,
        opts: options_,
      }
      this.waits.watch(recordFromJob(job, 'queued', pool.name, owner))
    }
    try {
      await this.call(queue.add(envelope.workflow, envelope, options_), `enqueue on ${queue.name}`)
    } catch (error) {
      // The reply may be what was lost: ask whether the job exists, undoing the admission if
      // not. Asked after the add: on the same connection, or on the next one once the broken
      // one is gone (a killed Redis ran or dropped what it had read; an add still on its way
      // through a proxy or a cut network could land after the answer, queued with no owner,
      // deadline or claim). An add lost in flight is asked about until Redis answers, within
      // the bound: until then the run may be queued or not. One that never left (the
      // connection was down) is asked once, and undone later.
      const runId = envelope.runId
      const key = idempotency?.key ?? null
      const inFlight = mayHaveRun(error)
      const landed = await this.undoAdmission(client, keys, runId, key, inFlight ? Date.now() + this.timeoutMs : 0)
      if (landed === null && !inFlight) this.undoLater(client, keys, runId, key)
      if (landed !== true) {
        this.waits.unwatch(pool.name, envelope.runId)
        throw error
      }
    }
    void commands(client)
      .zrem(keys.admitting, envelope.runId)
      .catch(() => undefined)
    this.remember(envelope.runId, pool.name)
    return { runId: envelope.runId, deduped: false }
  }

  /**
   * Undo the admission of `runId` unless its job landed (scripts.ts release): true when it
   * landed, false when undone, null when it could not be asked (Redis did not answer, or
   * refused). Asked again every 250 ms while Redis cannot be reached, until `untilMs`, which
   * also bounds each ask (0: asked once, within the command bound).
   */
  private async undoAdmission(
    client: Awaited<Queue['client']>,
    keys: PoolKeys,
    runId: string,
    idempotencyKey: string | null,
    untilMs: number,
  ): Promise<boolean | null> {
    const once = untilMs === 0
    for (;;) {
      const boundMs = once ? this.timeoutMs : untilMs - Date.now()
      if (boundMs <= 0) return null
      try {
        return await within(release(client, keys, runId, idempotencyKey), boundMs, `undoing admission of ${runId}`)
      } catch (error) {
        if (once || (error as Error).name === 'ReplyError' || this.closed) return null
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(1, untilMs - Date.now()))))
    }
  }

  /** undoAdmission in the background, within the command bound; a submit of `runId` meanwhile is refused. */
  private undoLater(client: Awaited<Queue['client']>, keys: PoolKeys, runId: string, idempotencyKey: string | null): void {
    this.undoing.add(runId)
    void this.undoAdmission(client, keys, runId, idempotencyKey, Date.now() + this.timeoutMs).finally(() => this.undoing.delete(runId))
  }

  /** The admission script, waiting out (briefly) another submit of the same key that is still queueing its run. */
  private async admission(
    client: Awaited<Queue['client']>,
    entry: PoolQueue,
    envelope: Envelope,
    owner: string,
    idempotency: { key: string; fingerprint: string; legacy: string | null } | null,
    needWorker: boolean,
  ): Promise<Admission> {
    const request = {
      keys: entry.keys,
      runId: envelope.runId,
      maxQueued: entry.pool.maxQueued,
      needWorker,
      idempotency,
      owner,
      // As long as the run's job may be kept: until its deadline, then the longer retention.
      ownerTtlMs: Math.max(this.retainMs, this.retainFailedMs) + Math.max(0, Date.parse(envelope.deadline) - Date.now()),
      claimTtlMs: this.retainMs,
      // A claim whose add has not landed after the longest an add may take was abandoned (its gateway died).
      pendingMs: this.timeoutMs + 5000,
      admitTtlMs: this.admissionMs,
      deadlineMs: Date.parse(envelope.deadline),
    }
    const until = Date.now() + PENDING_WAIT_MS
    for (;;) {
      const admission = await this.call(admit(client, request), `admission on ${entry.queue.name}`)
      if (admission.kind !== 'pending' || Date.now() >= until) return admission
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async cancel(runId: string): Promise<RunRecord> {
    this.assertOpen()
    return this.call(this.cancelRun(runId), `cancelling run ${runId}`)
  }

  private async cancelRun(runId: string): Promise<RunRecord> {
    const entry = await this.locate(runId)
    const record = entry ? await this.read(runId) : null
    if (!entry || !record) throw new SwitchyardError('UNKNOWN_RUN', `unknown run '${runId}'`)
    if (record.status === 'cancelled') {
      // Cancelled while queued by an ender whose removal's reply was lost (or that died after
      // it): its job is gone, its record kept, but not in the index yet. Finished here (end-queued.ts).
      await finishEnding(entry.queue, entry.keys, runId, record)
      return record
    }
    if (record.status === 'succeeded' || record.status === 'failed') {
      throw new SwitchyardError('RUN_FINISHED', `run ${runId} already ${record.status}: there is nothing to cancel`)
    }
    const client = commands(await entry.queue.client)
    const { keys } = entry
    const now = Date.now()
    // On record first: whoever takes the run next (a worker, a reaper) ends it instead of running it.
    await client.zadd(keys.cancels, now, runId)
    void client.zremrangebyscore(keys.cancels, '-inf', now - this.retainFailedMs).catch(() => undefined)
    if (record.status === 'queued') {
      const cancelled: RunRecord = { ...record, status: 'cancelled', error: cancelledError(runId, 'while queued'), finishedAt: now }
      // As the expiry pass ends a queued run (end-queued.ts): whichever ender comes first wins,
      // and a record an earlier try left half-way is finished, not taken for the run's end.
      const ending = await endQueued(entry.queue, keys, runId, cancelled, this.retainFailedMs)
      if (ending.kind !== 'taken') {
        // The stored record may be one the pool's user planted: read as any other (cancelledRecord).
        const ended = this.cancelledRecord(entry, runId, ending.stored)
        if (ended?.status === 'cancelled') return ended
        throw new SwitchyardError('RUN_FINISHED', `run ${runId} already ${ended?.status ?? 'ended'}: there is nothing to cancel`)
      }
    }
    // Running: every worker of the pool hears it; the one running it aborts the graph's signal.
    await client.publish(keys.cancelChannel, runId)
    return (await this.read(runId)) ?? record
  }

  /**
   * Which pool holds a run: this process's recent submissions, else one probe per pool (in
   * parallel). A pool's Redis user writes its own keys only, so it can plant a record of a
   * run ended while queued (`sy-cancelled:<id>`) under any id, another pool's run's too, but
   * never a job in that pool: a pool where the run's job exists is preferred to one that
   * only has such a record. It can add a job of its own under any id, though: where more
   * than one pool holds a job under the id, the run is in the first of them whose job's
   * envelope the gateway signed for this run and pool (signedIn; the gateway's verify keys),
   * else (no keys, or none verifies: signed by a key this gateway no longer has) the first
   * in registry order. No job anywhere: the first pool in registry order with a record;
   * whatever it holds is shown as that pool's run (readCancelled). A key of the wrong type (WRONGTYPE: a pool's own junk under the id) is
   * no run there. A pool whose Redis fails to answer leaves the answer unsure: a job found
   * elsewhere is still returned, not remembered; a record alone is not trusted over it.
   */
  private async locate(runId: string): Promise<PoolQueue | null> {
    const known = this.location.get(runId)
    if (known !== undefined) return this.poolQueue(known)
    const entries = [...this.queues.values()]
    const probes = await Promise.allSettled(
      entries.map(async (entry) => {
        const client = await entry.queue.client
        // A job is a hash that always has `timestamp`; a run ended while queued left a record instead.
        const [job, record] = await Promise.all([
          client.hexists(entry.keys.job(runId), 'timestamp').catch(absentIfWrongType),
          commands(client).type(entry.keys.cancelled(runId)),
        ])
        return job === 1 ? 'job' : record === 'string' ? 'record' : null
      }),
    )
    const found = probes.map((probe) => (probe.status === 'fulfilled' ? probe.value : null))
    const failed = probes.find((probe): probe is PromiseRejectedResult => probe.status === 'rejected')
    const jobs = entries.filter((_, i) => found[i] === 'job')
    const job = jobs.length > 1 ? entries.indexOf(await this.signedIn(jobs, runId)) : found.indexOf('job')
    const index = job >= 0 ? job : found.indexOf('record')
    if (failed && job < 0) throw failed.reason
    const entry = index < 0 ? undefined : entries[index]
    if (!entry) return null
    if (!failed) this.remember(runId, entry.pool.name)
    return entry
  }

  /**
   * Of pools that each hold a job under one run id (locate's rare path), the first whose
   * job's envelope verifies with the gateway's keys and names this run and that pool; the
   * first pool when none does or the broker has no keys. A job a pool's user added holds
   * what it wrote: unsigned, or signed for another run or pool (a copy of a real envelope).
   */
  private async signedIn(jobs: readonly PoolQueue[], runId: string): Promise<PoolQueue> {
    const [first] = jobs as [PoolQueue]
    const keys = this.verifyKeys
    if (keys === null) return first
    const data = await Promise.all(
      jobs.map(async (entry) => (await entry.queue.client).hget(entry.keys.job(runId), 'data').catch(() => null)),
    )
    const signed = jobs.find((entry, i) => {
      const text = data[i]
      if (typeof text !== 'string') return false
      try {
        const envelope = parseEnvelope(text, keys)
        return envelope.runId === runId && envelope.pool === entry.pool.name
      } catch {
        return false
      }
    })
    return signed ?? first
  }

  async get(runId: string): Promise<RunRecord | null> {
    this.assertOpen()
    return this.call(this.read(runId), `reading run ${runId}`)
  }

  /**
   * Read a run's record. `final` is the status a QueueEvents event already settled
   * (completed → succeeded, failed → failed: neither changes again), which saves
   * asking BullMQ for the job's state.
   */
  private async read(runId: string, final: RunStatus | null = null): Promise<RunRecord | null> {
    const entry = await this.locate(runId)
    return entry ? this.readIn(entry, runId, final) : null
  }

  /** read() in one pool's keys. */
  private async readIn(entry: PoolQueue, runId: string, final: RunStatus | null): Promise<RunRecord | null> {
    const client = await entry.queue.client
    const [job, state, owner] = await Promise.all([
      Job.fromId(entry.queue, runId),
      final === null ? entry.queue.getJobState(runId) : Promise.resolve(null),
      client.get(entry.keys.owner(runId)),
    ])
    const status = final ?? runStatusOfJobState(state ?? 'unknown')
    if (!job || status === null) return this.readCancelled(entry, runId)
    return recordFromJob(job as JobLike, status, entry.pool.name, owner)
  }

  /** The record of a run ended while queued, cancelled or expired (its job was removed), or null. */
  private async readCancelled(entry: PoolQueue, runId: string): Promise<RunRecord | null> {
    const client = await entry.queue.client
    const stored = await client.get(entry.keys.cancelled(runId))
    return stored === null ? null : this.cancelledRecord(entry, runId, stored)
  }

  /**
   * The record of a run ended while queued, as cancel() or the expiry pass stored it (one
   * stored before owners were kept has none), or null when it cannot be this pool's. The
   * pool's Redis user writes these keys, so nothing in one speaks for another pool: its
   * pool and run id are the key's, and a record that is not JSON, not cancelled or failed,
   * or names a workflow that is not one of this pool's (when the registry lists workflows)
   * is skipped, with one warning per run.
   */
  private cancelledRecord(entry: PoolQueue, runId: string, stored: string): RunRecord | null {
    // Checked below, field by field: not a JSON object is null, skipped.
    return this.checkedRecord(entry, runId, storedFields(stored) as RunRecord | null)
  }

  /** cancelledRecord's checks, of a record already parsed (or made from its row: listedCancelled). */
  private checkedRecord(entry: PoolQueue, runId: string, record: Omit<RunRecord, 'runId' | 'pool' | 'owner'> | null): RunRecord | null {
    const pool = entry.pool.name
    const why =
      typeof record !== 'object' || record === null
        ? 'is not a run record'
        : record.status !== 'cancelled' && record.status !== 'failed'
          ? `has status '${String(record.status)}', not cancelled or failed`
          : this.workflows && this.workflows.get(record.workflow)?.pool !== pool
            ? `names workflow '${String(record.workflow)}', which is not a workflow of pool '${pool}'`
            : null
    if (why !== null || record === null) {
      if (!this.skipped.has(`${pool} ${runId}`)) {
        bounded(this.skipped, `${pool} ${runId}`, true)
        this.warn(`Redis: the record of run ${JSON.stringify(runId)} in pool '${pool}' ${why ?? ''}: not shown`)
      }
      return null
    }
    const owner = (record as { owner?: unknown }).owner
    return { ...record, runId, pool, owner: typeof owner === 'string' ? owner : null }
  }

  /** Whether a run has finished in one pool, by the one field BullMQ sets when it does (a single HGET). */
  private async hasFinishedIn(entry: PoolQueue, runId: string): Promise<boolean | null> {
    const client = await entry.queue.client
    const [finishedOn, timestamp] = await client.hmget(entry.keys.job(runId), 'finishedOn', 'timestamp')
    if (timestamp === null || timestamp === undefined)
      return (await commands(client).exists(entry.keys.cancelled(runId))) === 1 ? true : null
    return finishedOn !== null && finishedOn !== undefined
  }

  /**
   * Recent runs, newest first. Reads what it returns: first the ids of each set's window and,
   * per job, the few small fields a filter needs (name, timestamp; failedReason only to tell
   * failed from cancelled), then whole jobs (input, output) only for the `limit` rows it
   * returns, each at most LIST_RUN_BYTES (its `omitted` names what did not fit). A createdAt
   * in the future is distrusted (CLOCK_SKEW_MS). A workflow filter reads only the pool the
   * registry runs it in.
   */
  async list(filter: { pool?: string; workflow?: string; status?: RunStatus; limit?: number } = {}): Promise<RunRecord[]> {
    this.assertOpen()
    const limit = filter.limit ?? 100
    // A run cancelled while running is a failed job whose error is CANCELLED: the failed set holds both.
    const states: Record<RunStatus, string[]> = {
      queued: ['waiting', 'delayed', 'prioritized', 'paused'],
      running: ['active'],
      succeeded: ['completed'],
      failed: ['failed'],
      cancelled: ['failed'],
    }
    const wanted = filter.status ? [filter.status] : (Object.keys(states) as RunStatus[])
    const sets = [...new Set(wanted.flatMap((status) => states[status]))]
    // Each BullMQ set is ordered by its own score; read a window of each and merge.
    // A workflow filter reads a wider window of ids, since it drops rows after reading their names.
    const window = filter.workflow ? Math.max(limit * 10, 1000) : limit
    const reads = this.listedPools(filter).flatMap((entry) => [
      ...sets.map((state) => this.listRows(entry, state, window, filter)),
      // Runs ended while queued: cancelled, or failed (expired, expiry.ts).
      ...(wanted.includes('cancelled') || wanted.includes('failed') ? [this.listCancelled(entry, window, filter)] : []),
    ])
    const now = Date.now()
    const rows = (await this.call(Promise.all(reads), 'listing runs'))
      .flat()
      .filter((row) => row.record === undefined || matches(row.record, filter))
      .map((row) => ({ ...row, createdAt: believed(row.createdAt, now) }))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit)
    const records = await this.call(Promise.all(rows.map((row) => row.record ?? row.read?.())), 'reading listed runs')
    // A job read is checked again: it may have moved on (or been removed) since its name was read.
    return records
      .filter((record): record is RunRecord => record !== null && record !== undefined && matches(record, filter))
      .map((record) => believedTimes(record, now))
  }

  /** The pools a list reads: the one asked for; else the one its workflow runs in (when the registry says); else all. */
  private listedPools(filter: { pool?: string; workflow?: string }): PoolQueue[] {
    if (filter.pool !== undefined) return [this.poolQueue(filter.pool)]
    const pool = filter.workflow === undefined ? undefined : this.workflows?.get(filter.workflow)?.pool
    const entry = pool === undefined ? undefined : this.queues.get(pool)
    return entry ? [entry] : [...this.queues.values()]
  }

  /**
   * One BullMQ set's window of one pool, as rows to list: ids (getRanges), then each job's
   * timestamp and name (and failedReason, to tell a failed run from a cancelled one when a
   * status asks), within LIST_ROW_BYTES each (a field that does not fit is not read: a name
   * no workflow has, a reason that is no cancel). The job itself is read only when its row is listed.
   */
  private async listRows(
    entry: PoolQueue,
    state: string,
    window: number,
    filter: { workflow?: string; status?: RunStatus },
  ): Promise<ListRow[]> {
    const ids = await entry.queue.getRanges([state as 'waiting'], 0, window - 1, false)
    if (ids.length === 0) return []
    const client = await entry.queue.client
    const status = runStatusOfJobState(state === 'waiting' ? 'wait' : state) ?? 'queued'
    const needReason = status === 'failed' && (filter.status === 'failed' || filter.status === 'cancelled')
    const asked = needReason ? ['timestamp', 'name', 'failedReason'] : ['timestamp', 'name']
    const fields = await Promise.all(
      ids.map(async (id) => {
        const read = await cappedRead(client, { job: entry.keys.job(id), owner: entry.keys.owner(id) }, LIST_ROW_BYTES, 0, asked)
        return read.fields.map((value) => (typeof value === 'string' ? value : null))
      }),
    )
    const rows: ListRow[] = []
    ids.forEach((id, i) => {
      const [timestamp, name, reason] = fields[i] ?? []
      // Gone meanwhile (removed, or never a job): nothing to list.
      if (timestamp === null || timestamp === undefined) return
      if (filter.workflow !== undefined && name !== filter.workflow) return
      if (needReason && failedStatus(reason ?? undefined) !== filter.status) return
      rows.push({ createdAt: Number(timestamp), read: () => this.listedRecord(entry, id, status) })
    })
    return rows
  }

  /**
   * One listed run's record, with its owner, from what of its job fits LIST_RUN_BYTES (one
   * round trip): a field that does not fit is left out, and the record fields it feeds are
   * named in `omitted` (an error or output left out is none shown, rather than a wrong one).
   */
  private async listedRecord(entry: PoolQueue, runId: string, status: RunStatus): Promise<RunRecord | null> {
    const client = await entry.queue.client
    const fields = Object.keys(LISTED_FIELDS).filter(
      (field) => (field !== 'failedReason' || status === 'failed') && (field !== 'returnvalue' || status === 'succeeded'),
    )
    const keys = { job: entry.keys.job(runId), owner: entry.keys.owner(runId) }
    const read = await cappedRead(client, keys, LIST_RUN_BYTES, OWNER_BYTES, fields)
    const raw: Record<string, string> = {}
    const omitted = new Set<string>(typeof read.owner === 'number' ? ['owner'] : [])
    fields.forEach((field, i) => {
      const value = read.fields[i]
      if (typeof value === 'string') raw[field] = value
      else if (typeof value === 'number') for (const fed of LISTED_FIELDS[field] ?? []) omitted.add(fed)
    })
    // Gone meanwhile (removed, or never a job): nothing to list.
    if (raw.timestamp === undefined && !omitted.has('createdAt')) return null
    // What BullMQ writes as JSON and parses unguarded (Job.fromJSON): a pool's user may have
    // written something else there, listed as left out rather than failing the whole list.
    for (const field of ['data', 'opts']) {
      const text = raw[field]
      if (text === undefined || jsonObject(text)) continue
      delete raw[field]
      for (const fed of LISTED_FIELDS[field] ?? []) omitted.add(fed)
    }
    let parsed: RunRecord
    try {
      const job = Job.fromJSON(entry.queue, raw as unknown as JobJsonRaw, runId)
      parsed = recordFromJob(job as JobLike, status, entry.pool.name, typeof read.owner === 'string' ? read.owner : null)
    } catch (error) {
      // A shape no check above foresaw: this run is not listed, and the list does not fail for every caller.
      this.warn(`listing run ${runId} of pool '${entry.pool.name}': its job cannot be read (${(error as Error).message}); not listed`)
      return null
    }
    const { error, output, ...record } = parsed
    if (typeof record.workflow !== 'string') omitted.add('workflow')
    return {
      ...record,
      workflow: typeof record.workflow === 'string' ? record.workflow : '',
      ...(error && !omitted.has('error') ? { error } : {}),
      ...(output !== undefined && !omitted.has('output') ? { output } : {}),
      ...(omitted.size > 0 ? { omitted: [...omitted] } : {}),
    }
  }

  /**
   * Runs ended while queued (cancelled or expired), newest first, as rows to list: ids (the
   * index's window), then each one's row (workflow, status, createdAt: end-queued.ts), one
   * round trip of at most LIST_ROW_BYTES per id (scripts.ts CANCELLED_ROWS: a run without a
   * row of ours, ended before rows were kept (or finished by FINISH before it wrote them), has one made
   * from its record when that is at most LIST_RUN_BYTES). The record itself, which holds the
   * run's input, is read only when its row is listed (listedCancelled). The pool's user
   * writes these keys: a row or record over its cap is not read (no row: not listed).
   */
  private async listCancelled(entry: PoolQueue, window: number, filter: { workflow?: string; status?: RunStatus }): Promise<ListRow[]> {
    const client = await entry.queue.client
    const ids = await client.zrevrange(entry.keys.cancelledIndex, 0, window - 1)
    if (ids.length === 0) return []
    const summaries = await cancelledRows(client, entry.keys, ids, LIST_ROW_BYTES, LIST_RUN_BYTES, LIST_DECODE_BYTES)
    const rows: ListRow[] = []
    ids.forEach((id, i) => {
      const row = parseRow(summaries[i])
      if (row !== null && matches(row, filter)) rows.push({ createdAt: row.createdAt, read: () => this.listedCancelled(entry, id, row) })
    })
    return rows
  }

  /**
   * A listed run ended while queued: its record when it is at most LIST_RUN_BYTES (checked as
   * any such record: cancelledRecord), else what its row says, with the fields only the
   * record holds named in `omitted`; null when it is gone or cannot be this pool's.
   */
  private async listedCancelled(entry: PoolQueue, runId: string, row: NonNullable<ReturnType<typeof parseRow>>): Promise<RunRecord | null> {
    const stored = await cappedGet(await entry.queue.client, entry.keys.cancelled(runId), LIST_RUN_BYTES)
    if (typeof stored === 'string') return this.cancelledRecord(entry, runId, stored)
    if (stored === null) return null
    const record = this.checkedRecord(entry, runId, {
      ...row,
      attempts: 0,
      maxAttempts: 0,
      deadline: '',
      traceId: null,
      idempotencyKey: null,
    })
    return record && { ...record, omitted: FROM_ROW }
  }

  /** QueueEvents of one pool, opened on first submit or wait and shared by every wait on that pool. */
  private async events(entry: PoolQueue): Promise<QueueEvents> {
    if (entry.eventsReady) return entry.eventsReady
    const ready = (async () => {
      // Start from the stream's newest entry as it is now (not '$' at the first XREAD,
      // which comes a moment later): no event of a run added after this is missed.
      const client = await entry.queue.client
      const lastEventId = await lastStreamId(client, `${this.prefix}:${entry.queue.name}:events`)
      const events = this.waits.listen(entry.pool.name, entry.queue.name, {
        connection: connectionFor(entry.url),
        prefix: this.prefix,
        lastEventId,
      })
      entry.events = events
      entry.watching = true
      await events.waitUntilReady()
      if (entry.events === events) entry.eventsOpen = events
      return events
    })()
    entry.eventsReady = ready
    // A failed start is not kept: the next submit or wait tries again.
    ready.catch(() => {
      if (entry.eventsReady !== ready) return
      entry.eventsReady = undefined
      entry.watching = false
      void entry.events?.close().catch(() => undefined)
      entry.events = undefined
    })
    return ready
  }

  async wait(runId: string, options: WaitOptions): Promise<RunRecord> {
    this.assertOpen()
    const entry = await this.call(this.locate(runId), `locating run ${runId}`)
    if (!entry) throw new SwitchyardError('UNKNOWN_RUN', `unknown run '${runId}'`)
    if (!entry.eventsOpen && Date.now() < options.until && !options.signal?.aborted) {
      await this.call(this.events(entry), `queue events of ${entry.queue.name}`)
    }
    // The run as its own pool holds it: only that pool's events wake the wait, and it reads only that pool's keys.
    return this.waits.wait(entry.pool.name, runId, options, {
      read: (id, final) => this.call(this.readIn(entry, id, final), `reading run ${id}`),
      hasFinished: (id) => this.hasFinishedIn(entry, id),
    })
  }

  async stats(): Promise<PoolStats[]> {
    this.assertOpen()
    return this.call(
      Promise.all(
        [...this.queues.values()].map(async ({ pool, queue }) => {
          const client = await queue.client
          // A worker counts while its heartbeat is current (heartbeat.ts): as the admission script counts it.
          const [counts, workers] = await Promise.all([
            queue.getJobCounts('waiting', 'delayed', 'prioritized', 'paused', 'active', 'failed'),
            liveWorkers(client, poolKeys(this.prefix, queue.name)),
          ])
          const n = (key: string) => counts[key] ?? 0
          return {
            pool: pool.name,
            queued: n('waiting') + n('delayed') + n('prioritized') + n('paused'),
            running: n('active'),
            failed: n('failed'),
            workers,
          }
        }),
      ),
      'reading pool stats',
    )
  }

  knownFull(pool: string, options: SubmitOptions = {}): PoolSaturatedError | null {
    const entry = this.queues.get(pool)
    // maxQueued admissions of this gateway are being decided already: a burst's rest would be
    // refused (or take a place the queue's workers just freed), so it is refused without asking.
    if (entry && options.async === true && entry.admitting >= entry.pool.maxQueued) {
      return new PoolSaturatedError(pool, entry.pool.maxQueued, 1000)
    }
    const hint = this.fullUntil.get(pool)
    if (hint === undefined || (options.async !== true && !hint.live)) return null
    if (Date.now() < hint.until) return hint.error
    this.fullUntil.delete(pool)
    return null
  }

  async workerExited(pool: string, pid: number, how = 'exited'): Promise<number> {
    const entry = this.queues.get(pool)
    if (!entry || this.closed) return 0
    const { queue, keys } = entry
    const client = await this.call(queue.client, `Redis for pool '${pool}'`)
    // Worker ids are `<host>:<pid>:<random>` (heartbeat.ts, and the Python worker's): this machine's child is `<our host>:<pid>:`.
    const mine = `${hostname()}:${pid}:`
    const members = await this.call(commands(client).zrange(keys.workers, 0, -1), `workers of ${queue.name}`)
    let released = 0
    for (const worker of members.filter((member) => member.startsWith(mine))) {
      const options = { queue, keys, pool, maxCrashes: this.maxCrashes, warn: this.warn }
      released += await this.call(
        reapWorker(client, options, worker, `${how} (its supervisor saw process ${pid} go)`, 'exited'),
        `reaping ${worker}`,
      )
    }
    return released
  }

  async ready(): Promise<boolean> {
    if (this.closed) return false
    try {
      const stats = await this.stats()
      return stats.every((s) => s.workers > 0)
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const reaper of this.reapers) reaper.stop()
    for (const expiry of this.expiryPasses) expiry.stop()
    const closing = [...this.queues.values()].flatMap((entry) => [entry.queue, ...(entry.events ? [entry.events] : [])])
    await Promise.allSettled(closing.map((closable) => closeBounded(closable, this.timeoutMs)))
  }

  /** How long an admission may wait for its job's add (ADMIT's admission lifetime): one older was abandoned. */
  private get admissionMs(): number {
    return this.timeoutMs + 5000
  }

  private assertOpen(): void {
    if (this.closed) throw new SwitchyardError('BROKER_UNAVAILABLE', 'the Redis broker is closed')
  }
}

/** A key of another type than the command's (WRONGTYPE) holds no run: 0, as if absent; any other error stands. */
function absentIfWrongType(error: unknown): 0 {
  if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return 0
  throw error
}
