// The embedded broker: lives inside the `switchyard dev` process. Nothing to install.
// Workers consume it in-process (`source(pool)`) or from child processes through the
// IPC adapter (ipc-parent.ts), which is itself a consumer of `source(pool)`.
// Retries, dead letters, idempotency and backpressure live here, as they do in Redis. A
// queued run no worker takes before its deadline ends then (a timer per queued run), failed
// DEADLINE_EXCEEDED, as the Redis broker's expiry pass ends it (redis/expiry.ts).
// A suspect (a run whose worker process already died under it) runs alone: it goes only
// to a consumer (a worker process) with nothing in flight, which is given nothing else
// until it ends; so a run that shared a process with a poison run once is not counted a
// second crash beside it when the poison takes its next process down.
import { setMaxListeners } from 'node:events'
import { SwitchyardError } from '../../../control/index.js'
import {
  ownerOf,
  type Broker,
  type PoolStats,
  type RunError,
  type RunRecord,
  type RunStatus,
  type SubmitOptions,
  type SubmitResult,
  type WaitOptions,
} from '../broker.js'
import { envelopeTraceId, idempotencyFingerprint, type Envelope } from '../../envelope.js'
import { PoolSaturatedError } from '../pool-saturated.js'
import { PoolUnavailableError } from '../pool-unavailable.js'
import type { Outcome, RunHandler, RunSource } from '../run-source.js'
import { cancelledError, crashedError, expiredError, lostError } from '../run-errors.js'

export interface MemoryBrokerOptions {
  /**
   * Per-pool queue limits (from the registry's pools); unknown pools get `maxQueued`.
   * A pool with `served: false` (default: false for runtimes other than `node`) has no
   * worker here: it does not count for ready(), and a run for one is refused
   * (POOL_UNAVAILABLE) unless a consumer is connected.
   */
  readonly pools?: Iterable<{ readonly name: string; readonly maxQueued: number; readonly runtime?: string; readonly served?: boolean }>
  /** Limit for pools not listed. @default Infinity */
  readonly maxQueued?: number
  /** First retry delay; attempt n waits delayMs·2^(n-1), capped at maxDelayMs. @default 500 */
  readonly retryDelayMs?: number
  /** @default 30000 */
  readonly maxRetryDelayMs?: number
  /** Finished runs kept for `get`/`list` (oldest are dropped first). @default 10000 */
  readonly keepFinished?: number
  /**
   * Bytes of input and output (as JSON) the finished runs kept may hold together; beyond
   * it the oldest are dropped first, as beyond `keepFinished`. This broker lives in the
   * gateway's process: 10,000 runs of 5 MB outputs must not cost it its heap. The newest
   * finished run is always kept (its output is bounded by its pool's maxOutput).
   * @default 64 MiB
   */
  readonly keepFinishedBytes?: number
  /** A run whose worker process died under it this many times is dead-lettered (WORKER_CRASHED). @default 2 */
  readonly maxCrashes?: number
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface Entry {
  readonly envelope: Envelope
  readonly record: Mutable<RunRecord>
  readonly inputKey: string
  retryTimer?: NodeJS.Timeout
  /** Fires at the deadline while the run is queued (expire()); cleared when it is taken or ends. */
  expiryTimer?: NodeJS.Timeout
  /** Attempts that failed (the next one is failures + 1); a crash is not a failure of the run. */
  failures: number
  /** Attempts whose worker process died under them. */
  crashes: number
  /** Aborts the attempt in flight (cancel). */
  attempt?: AbortController
  cancelRequested: boolean
}

interface Consumer {
  readonly handler: RunHandler
  readonly concurrency: number
  readonly controller: AbortController
  active: number
  draining: boolean
  idle?: () => void
  /** The suspect this consumer is kept for (it takes nothing else): waiting for it to be idle, or running it. */
  solo?: string
}

interface PoolState {
  readonly name: string
  maxQueued: number
  /** False for pools no worker of this broker serves (python): ready() skips them. */
  served: boolean
  runtime: string
  /** Run ids ready to deliver, oldest first. */
  readonly ready: string[]
  /** Suspects (crashes > 0) ready to deliver, oldest first: each runs alone on a consumer. */
  readonly suspects: string[]
  /** Run ids waiting out a retry backoff. */
  readonly delayed: Set<string>
  readonly consumers: Set<Consumer>
  running: number
  failed: number
}

/** Retry-After of a run refused for an unserved pool: a worker connecting takes seconds, not milliseconds. */
const UNSERVED_RETRY_MS = 5000
/** Retry-After of a run refused while a served pool has no worker (the supervisor is starting or replacing one). */
const RESTARTING_RETRY_MS = 1000

/** Runs of the pool waiting for a worker: ready, suspects waiting to run alone, and retries waiting out their backoff. */
function queuedIn(pool: PoolState): number {
  return pool.ready.length + pool.suspects.length + pool.delayed.size
}

/** setTimeout's longest delay; a later deadline is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

const FINISHED: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled'])

/**
 * The in-memory Broker. One per `switchyard dev` process.
 *
 * @example
 * const broker = new MemoryBroker({ pools: registry.pools.values() })
 * const worker = createWorker({ pool: 'email', registry, source: broker.source('email'), verifyKeys })
 * await worker.start()
 * const { runId } = await broker.submit(signEnvelope(...))
 * const record = await broker.wait(runId, { until: Date.now() + 5000 })
 */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const
  private readonly runs = new Map<string, Entry>()
  private readonly byKey = new Map<string, string>()
  private readonly pools = new Map<string, PoolState>()
  private readonly waiters = new Map<string, Set<(record: RunRecord) => void>>()
  /** Finished run ids, oldest first, with the bytes each holds. */
  private readonly finishedOrder: { readonly runId: string; readonly bytes: number }[] = []
  private finishedBytes = 0
  private readonly defaultMaxQueued: number
  private readonly retryDelayMs: number
  private readonly maxRetryDelayMs: number
  private readonly keepFinished: number
  private readonly keepFinishedBytes: number
  private readonly maxCrashes: number
  /** Queued runs ended at their deadline, per pool (expiries()). */
  private readonly expired = new Map<string, number>()
  private closed = false

  constructor(options: MemoryBrokerOptions = {}) {
    this.defaultMaxQueued = options.maxQueued ?? Infinity
    this.retryDelayMs = options.retryDelayMs ?? 500
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000
    this.keepFinished = options.keepFinished ?? 10_000
    this.keepFinishedBytes = options.keepFinishedBytes ?? 64 * 1024 ** 2
    this.maxCrashes = options.maxCrashes ?? 2
    for (const pool of options.pools ?? []) this.pool(pool.name, pool.maxQueued, pool.runtime ?? 'node', pool.served)
  }

  /**
   * Take a reloaded registry's pools (`switchyard dev --watch`): new pools appear, known
   * ones take their new limits; a pool no longer listed keeps its queued runs.
   */
  configure(pools: MemoryBrokerOptions['pools']): void {
    for (const next of pools ?? []) {
      const pool = this.pool(next.name, next.maxQueued, next.runtime ?? 'node', next.served)
      pool.maxQueued = next.maxQueued
      pool.runtime = next.runtime ?? 'node'
      pool.served = next.served ?? pool.runtime === 'node'
    }
  }

  async submit(envelope: Envelope, options: SubmitOptions = {}): Promise<SubmitResult> {
    if (this.closed) throw new SwitchyardError('BROKER_UNAVAILABLE', 'the memory broker is closed', { retryable: true })
    const owner = ownerOf(options)
    const inputKey = idempotencyFingerprint(envelope)
    // Keys are scoped to their owner and workflow: another caller's key, or the same key in
    // another workflow, names another run.
    const scopedKey = scopedIdempotencyKey(owner, envelope)
    if (scopedKey !== null) {
      const existing = this.runs.get(this.byKey.get(scopedKey) ?? '')
      if (existing) {
        if (existing.inputKey !== inputKey) {
          throw new SwitchyardError(
            'IDEMPOTENCY_CONFLICT',
            `idempotency key '${envelope.idempotencyKey}' was already used by this caller for workflow '${envelope.workflow}' with a different input (run ${existing.record.runId})`,
          )
        }
        return { runId: existing.record.runId, deduped: true }
      }
    }
    if (this.runs.has(envelope.runId)) {
      throw new SwitchyardError('BAD_REQUEST', `run ${envelope.runId} was already submitted`)
    }
    const pool = this.pool(envelope.pool)
    const live = [...pool.consumers].some((c) => !c.draining)
    if (!pool.served && !live) {
      // Nothing will start a worker for this pool here: waiting for the deadline would only turn a 503 into a 504.
      const hint = pool.runtime === 'python' ? ' (python3 with switchyard_worker is not available: see the output of switchyard dev)' : ''
      throw new PoolUnavailableError(pool.name, `no worker serves it in this process: runtime ${pool.runtime}${hint}`, UNSERVED_RETRY_MS)
    }
    if (!live && options.async !== true) {
      throw new PoolUnavailableError(
        pool.name,
        'no worker of the pool is alive (ask with Prefer: respond-async to queue the run anyway)',
        RESTARTING_RETRY_MS,
      )
    }
    const queued = queuedIn(pool)
    if (queued >= pool.maxQueued) throw new PoolSaturatedError(pool.name, pool.maxQueued, this.retryDelayMs)
    const record: Mutable<RunRecord> = {
      runId: envelope.runId,
      workflow: envelope.workflow,
      pool: envelope.pool,
      status: 'queued',
      input: envelope.input,
      registry: envelope.registry,
      attempts: 0,
      maxAttempts: envelope.maxAttempts,
      createdAt: Date.now(),
      deadline: envelope.deadline,
      traceId: envelopeTraceId(envelope),
      idempotencyKey: envelope.idempotencyKey,
      owner,
    }
    const entry: Entry = { envelope, record, inputKey, failures: 0, crashes: 0, cancelRequested: false }
    this.runs.set(envelope.runId, entry)
    if (scopedKey !== null) this.byKey.set(scopedKey, envelope.runId)
    pool.ready.push(envelope.runId)
    this.armExpiry(pool, entry)
    this.dispatch(pool)
    return { runId: envelope.runId, deduped: false }
  }

  async cancel(runId: string): Promise<RunRecord> {
    const entry = this.runs.get(runId)
    if (!entry) throw new SwitchyardError('UNKNOWN_RUN', `unknown run '${runId}'`)
    const record = entry.record
    if (record.status === 'cancelled') return { ...record }
    if (record.status === 'succeeded' || record.status === 'failed') {
      throw new SwitchyardError('RUN_FINISHED', `run ${runId} already ${record.status}: there is nothing to cancel`)
    }
    const pool = this.pool(record.pool)
    if (record.status === 'queued') {
      this.unqueue(pool, entry)
      this.end(entry, 'cancelled', cancelledError(runId, 'while queued'))
      this.dispatch(pool)
      return { ...record }
    }
    // Running: the worker aborts the graph's signal and settles the run CANCELLED.
    entry.cancelRequested = true
    entry.attempt?.abort(cancelledError(runId, 'while running', true))
    return { ...record }
  }

  async wait(runId: string, options: WaitOptions): Promise<RunRecord> {
    const entry = this.runs.get(runId)
    if (!entry) throw new SwitchyardError('UNKNOWN_RUN', `unknown run '${runId}'`)
    if (FINISHED.has(entry.record.status) || this.closed) return { ...entry.record }
    return new Promise<RunRecord>((resolve) => {
      const set = this.waiters.get(runId) ?? new Set()
      this.waiters.set(runId, set)
      const done = (record: RunRecord) => {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        set.delete(done)
        if (set.size === 0) this.waiters.delete(runId)
        resolve(record)
      }
      const onAbort = () => done({ ...entry.record })
      const timer = setTimeout(onAbort, Math.max(0, options.until - Date.now()))
      options.signal?.addEventListener('abort', onAbort, { once: true })
      if (options.signal?.aborted) onAbort()
      else set.add(done)
    })
  }

  async get(runId: string): Promise<RunRecord | null> {
    const entry = this.runs.get(runId)
    return entry ? { ...entry.record } : null
  }

  async list(filter: { pool?: string; workflow?: string; status?: RunStatus; limit?: number } = {}): Promise<RunRecord[]> {
    const limit = filter.limit ?? 100
    const out: RunRecord[] = []
    const all = [...this.runs.values()]
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const record = all[i]!.record
      if (filter.pool !== undefined && record.pool !== filter.pool) continue
      if (filter.workflow !== undefined && record.workflow !== filter.workflow) continue
      if (filter.status !== undefined && record.status !== filter.status) continue
      out.push({ ...record })
    }
    return out
  }

  async stats(): Promise<PoolStats[]> {
    return [...this.pools.values()].map((pool) => ({
      pool: pool.name,
      queued: queuedIn(pool),
      running: pool.running,
      failed: pool.failed,
      workers: [...pool.consumers].filter((c) => !c.draining).length,
    }))
  }

  /** Queued runs ended at their deadline (no worker took them), per pool, since this broker started. */
  expiries(): ReadonlyMap<string, number> {
    return this.expired
  }

  /** Runs of `pool` waiting now (ready or in retry backoff); synchronous, for the IPC adapter. */
  depth(poolName: string): number {
    const pool = this.pools.get(poolName)
    return pool ? queuedIn(pool) : 0
  }

  /** Nothing to do: the child's IPC link (ipc-parent.ts) settles its runs as lost when it exits. */
  async workerExited(): Promise<number> {
    return 0
  }

  async ready(): Promise<boolean> {
    if (this.closed) return false
    return [...this.pools.values()].every((pool) => !pool.served || [...pool.consumers].some((c) => !c.draining))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const entry of this.runs.values()) {
      clearTimeout(entry.retryTimer)
      clearTimeout(entry.expiryTimer)
    }
    for (const pool of this.pools.values()) for (const consumer of pool.consumers) consumer.controller.abort()
    for (const [runId, set] of this.waiters) {
      const record = this.runs.get(runId)?.record
      if (record) for (const done of [...set]) done({ ...record })
    }
  }

  /**
   * The worker side for one pool, in this process. The IPC adapter uses it too,
   * one source per child process.
   */
  source(poolName: string): RunSource {
    const pool = this.pool(poolName)
    let consumer: Consumer | undefined
    return {
      start: (handler, { concurrency }) => {
        if (consumer) throw new Error(`source for pool '${poolName}' already started`)
        consumer = { handler, concurrency: Math.max(1, concurrency), controller: new AbortController(), active: 0, draining: false }
        // Every in-flight run listens on this one signal (and stops listening when it settles):
        // more than 10 at once is the pool's concurrency, not a leak.
        setMaxListeners(0, consumer.controller.signal)
        pool.consumers.add(consumer)
        this.dispatch(pool)
      },
      drain: async () => {
        const c = consumer
        if (!c) return
        c.draining = true
        if (c.active > 0) await new Promise<void>((resolve) => (c.idle = resolve))
        pool.consumers.delete(c)
      },
      close: async () => {
        if (!consumer) return
        consumer.draining = true
        consumer.controller.abort()
        pool.consumers.delete(consumer)
      },
    }
  }

  private pool(name: string, maxQueued?: number, runtime = 'node', served = runtime === 'node'): PoolState {
    let pool = this.pools.get(name)
    if (!pool) {
      pool = {
        name,
        maxQueued: maxQueued ?? this.defaultMaxQueued,
        served,
        runtime,
        ready: [],
        suspects: [],
        delayed: new Set(),
        consumers: new Set(),
        running: 0,
        failed: 0,
      }
      this.pools.set(name, pool)
    }
    return pool
  }

  private pickConsumer(pool: PoolState): Consumer | undefined {
    let best: Consumer | undefined
    for (const c of pool.consumers) {
      if (c.draining || c.solo !== undefined || c.active >= c.concurrency) continue
      if (!best || c.active < best.active) best = c
    }
    return best
  }

  /**
   * The consumer that runs suspect `runId` now: the one kept for it once it is idle, or
   * an idle one. With none idle, one is kept for it (the least busy not kept for another):
   * it takes nothing new, and gets the suspect when its runs have ended. Undefined: not yet.
   */
  private soloConsumer(pool: PoolState, runId: string): Consumer | undefined {
    let kept: Consumer | undefined
    let idle: Consumer | undefined
    let least: Consumer | undefined
    for (const c of pool.consumers) {
      if (c.draining) continue
      if (c.solo === runId) kept = c
      else if (c.solo !== undefined) continue
      else if (c.active === 0) idle ??= c
      else if (!least || c.active < least.active) least = c
    }
    if (kept) return kept.active === 0 ? kept : undefined
    if (idle) {
      idle.solo = runId
      return idle
    }
    if (least) least.solo = runId
    return undefined
  }

  private dispatch(pool: PoolState): void {
    if (this.closed) return
    for (let i = 0; i < pool.suspects.length;) {
      const runId = pool.suspects[i]!
      const entry = this.runs.get(runId)
      const consumer = entry ? this.soloConsumer(pool, runId) : undefined
      if (entry && !consumer) {
        i += 1
        continue
      }
      pool.suspects.splice(i, 1)
      if (entry && consumer) this.deliver(pool, consumer, entry)
    }
    for (;;) {
      const consumer = pool.ready.length ? this.pickConsumer(pool) : undefined
      if (!consumer) return
      const runId = pool.ready.shift()!
      const entry = this.runs.get(runId)
      if (entry) this.deliver(pool, consumer, entry)
    }
  }

  /**
   * Take a queued run out of its pool's queues (ready, suspects, delayed) and its timers; a
   * consumer kept for it (a suspect waiting to run alone) takes runs again.
   */
  private unqueue(pool: PoolState, entry: Entry): void {
    const runId = entry.record.runId
    clearTimeout(entry.retryTimer)
    clearTimeout(entry.expiryTimer)
    pool.delayed.delete(runId)
    for (const queue of [pool.ready, pool.suspects]) {
      const at = queue.indexOf(runId)
      if (at >= 0) queue.splice(at, 1)
    }
    for (const c of pool.consumers) if (c.solo === runId) delete c.solo
  }

  /** End the run at its deadline if it is still queued then (expire()). */
  private armExpiry(pool: PoolState, entry: Entry): void {
    clearTimeout(entry.expiryTimer)
    const left = Date.parse(entry.record.deadline) - Date.now()
    entry.expiryTimer = setTimeout(() => this.expire(pool, entry), Math.min(MAX_TIMER_MS, Math.max(0, left)))
    entry.expiryTimer.unref()
  }

  /**
   * A queued run no worker took before its deadline ends now: failed DEADLINE_EXCEEDED and
   * dead-lettered, or WORKER_LOST when a worker died under it before (as settle() says of such a run).
   */
  private expire(pool: PoolState, entry: Entry): void {
    const record = entry.record
    if (record.status !== 'queued' || this.closed) return
    if (Date.parse(record.deadline) > Date.now()) return this.armExpiry(pool, entry)
    this.unqueue(pool, entry)
    const error =
      entry.crashes > 0
        ? lostError(record.runId, record.deadline, `${entry.crashes} earlier attempt(s) died with their worker`)
        : expiredError()
    this.expired.set(pool.name, (this.expired.get(pool.name) ?? 0) + 1)
    this.deadLetter(pool, entry, error)
    this.dispatch(pool)
  }

  private deliver(pool: PoolState, consumer: Consumer, entry: Entry): void {
    const record = entry.record
    clearTimeout(entry.expiryTimer)
    record.attempts += 1
    record.status = 'running'
    record.startedAt ??= Date.now()
    consumer.active += 1
    pool.running += 1
    // One signal per attempt: the consumer's (a hard close) or this run's (cancel) aborts it.
    // Linked by hand: AbortSignal.any() keeps growing the long-lived consumer signal's listeners.
    const attempt = new AbortController()
    entry.attempt = attempt
    const closeAttempt = () => attempt.abort(consumer.controller.signal.reason)
    consumer.controller.signal.addEventListener('abort', closeAttempt, { once: true })
    let settled: Promise<Outcome>
    try {
      settled = consumer.handler({
        raw: entry.envelope,
        runId: entry.record.runId,
        attempt: entry.failures + 1,
        lostAttempts: entry.crashes,
        signal: attempt.signal,
      })
    } catch (error) {
      settled = Promise.reject(error)
    }
    settled
      .catch((error: unknown): Outcome => {
        // A handler that throws is a worker bug, not the graph's: retry it.
        const e = SwitchyardError.from(error)
        return { ok: false, error: { code: e.code, message: e.message, retryable: true } }
      })
      .then((outcome) => {
        consumer.controller.signal.removeEventListener('abort', closeAttempt)
        entry.attempt = undefined
        consumer.active -= 1
        pool.running -= 1
        if (consumer.solo === entry.record.runId) delete consumer.solo
        this.settle(pool, entry, outcome)
        if (consumer.draining && consumer.active === 0) consumer.idle?.()
        this.dispatch(pool)
      })
      .catch(() => undefined)
  }

  private settle(pool: PoolState, entry: Entry, outcome: Outcome): void {
    const record = entry.record
    if (record.status !== 'running') return // cancelled, or the broker closed, while the attempt ran
    if (outcome.ok) {
      record.output = outcome.output
      this.end(entry, 'succeeded')
      return
    }
    if (entry.cancelRequested) {
      this.end(entry, 'cancelled', outcome.error.code === 'CANCELLED' ? outcome.error : cancelledError(record.runId, 'while running'))
      return
    }
    const now = Date.now()
    const deadline = Date.parse(record.deadline)
    if (outcome.lost === true) {
      // The process died under the run: retried at once, within the deadline, unless it keeps taking its workers down.
      entry.crashes += 1
      if (entry.crashes >= this.maxCrashes) {
        this.deadLetter(pool, entry, crashedError(record.runId, entry.crashes, pool.name, outcome.error.message))
      } else if (now >= deadline) {
        this.deadLetter(pool, entry, lostError(record.runId, record.deadline, outcome.error.message))
      } else if (!this.closed) {
        record.status = 'queued'
        pool.suspects.push(record.runId)
        this.armExpiry(pool, entry)
      }
      return
    }
    const error = { code: outcome.error.code, message: outcome.error.message, retryable: outcome.error.retryable }
    entry.failures += 1
    const delay = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** (entry.failures - 1))
    // Never retried past the deadline: nobody waits for that attempt, and its error would hide this one.
    if (error.retryable && entry.failures < record.maxAttempts && now + delay < deadline && !this.closed) {
      record.error = error
      record.status = 'queued'
      pool.delayed.add(record.runId)
      this.armExpiry(pool, entry)
      entry.retryTimer = setTimeout(() => {
        pool.delayed.delete(record.runId)
        if (entry.crashes > 0) pool.suspects.push(record.runId)
        else pool.ready.push(record.runId)
        this.dispatch(pool)
      }, delay)
      return
    }
    this.deadLetter(pool, entry, error)
  }

  private deadLetter(pool: PoolState, entry: Entry, error: RunError): void {
    entry.record.deadLettered = true
    pool.failed += 1
    this.end(entry, 'failed', error)
  }

  /** Settle a run for good: its status, its error (or none), its waiters. */
  private end(entry: Entry, status: 'succeeded' | 'failed' | 'cancelled', error?: RunError): void {
    const record = entry.record
    record.status = status
    if (error) record.error = { code: error.code, message: error.message, retryable: error.retryable }
    else delete record.error
    this.finish(entry)
  }

  private finish(entry: Entry): void {
    entry.record.finishedAt = Date.now()
    const runId = entry.record.runId
    for (const done of [...(this.waiters.get(runId) ?? [])]) done({ ...entry.record })
    const bytes = jsonBytes(entry.record.input) + jsonBytes(entry.record.output)
    this.finishedOrder.push({ runId, bytes })
    this.finishedBytes += bytes
    while (
      this.finishedOrder.length > this.keepFinished ||
      (this.finishedBytes > this.keepFinishedBytes && this.finishedOrder.length > 1)
    ) {
      const { runId: old, bytes: freed } = this.finishedOrder.shift()!
      this.finishedBytes -= freed
      const gone = this.runs.get(old)
      this.runs.delete(old)
      const scoped = gone ? scopedIdempotencyKey(gone.record.owner ?? '', gone.envelope) : null
      if (scoped !== null && this.byKey.get(scoped) === old) this.byKey.delete(scoped)
    }
  }
}

/** An idempotency key in its scope: owner and workflow (neither holds a newline), or null without a key. */
function scopedIdempotencyKey(owner: string, envelope: Envelope): string | null {
  return envelope.idempotencyKey === null ? null : `${owner}\n${envelope.workflow}\n${envelope.idempotencyKey}`
}

/** Bytes of a value as JSON (UTF-8); 0 for none. Once per finished run: cheap next to the run itself. */
function jsonBytes(value: unknown): number {
  if (value === undefined) return 0
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '')
  } catch {
    return 0
  }
}
