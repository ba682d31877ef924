// The seam between the gateway (producer) and the pool workers (consumers).
// Implementations: MemoryBroker (embedded, `switchyard dev`), RedisBroker (BullMQ).
import { SwitchyardError } from '../../control/index.js'
import type { RunError, RunStatus } from '../../control/index.js'
import type { Envelope } from '../envelope.js'

export type { RunError, RunStatus }

/** What `GET /v1/runs/{id}` shows; kept by the broker. */
export interface RunRecord {
  readonly runId: string
  readonly workflow: string
  readonly pool: string
  readonly status: RunStatus
  /** The input as submitted (the envelope's). GET /v1/runs/{id} shows it as the pool's capture allows. */
  readonly input?: unknown
  /** The digest of the registry that routed the run (the envelope's). */
  readonly registry?: string
  readonly output?: unknown
  readonly error?: RunError
  /** Attempts started so far. */
  readonly attempts: number
  readonly maxAttempts: number
  /** Epoch milliseconds. */
  readonly createdAt: number
  readonly startedAt?: number
  readonly finishedAt?: number
  readonly deadline: string
  readonly traceId: string | null
  readonly idempotencyKey: string | null
  /**
   * Who submitted the run (SubmitOptions.owner), or null when not known (a run queued
   * before owners were kept, or its owner record expired): the gateway lets the owner
   * cancel it and read it back.
   */
  readonly owner: string | null
  /** True once the run failed its last attempt (dead-lettered). */
  readonly deadLettered?: boolean
  /**
   * Only in lists: the fields of this record a list left out or could not believe. A
   * pool's Redis user writes its own jobs, so a list reads at most 64 KiB of a run (its
   * small fields, then its error, input and output, each while it fits: the deadline,
   * trace id and idempotency key come with the input; a run ended while queued whose record
   * holds more is listed from its row: workflow, status, createdAt) and distrusts a createdAt
   * in the future (shown as 0, listed last). get() reads the run whole.
   */
  readonly omitted?: readonly string[]
}

export interface SubmitResult {
  readonly runId: string
  /** True when an earlier submission with the same idempotency key and input was reused. */
  readonly deduped: boolean
}

export interface SubmitOptions {
  /**
   * The caller will not wait for the run (`Prefer: respond-async`): queue it even when
   * no worker of its pool is alive now. A caller that waits is refused at once instead
   * (POOL_UNAVAILABLE), rather than left to time out. @default false
   */
  readonly async?: boolean
  /**
   * Who submits: a stable, non-secret id of the caller (letters, digits, `_`, `.`, `-`;
   * the gateway derives it from the token, never the token itself). Idempotency keys are
   * scoped to it, and the run's record carries it. @default ANONYMOUS_OWNER
   */
  readonly owner?: string
}

/** The owner of runs submitted without one: the one caller of a gateway without tokens. */
export const ANONYMOUS_OWNER = 'anonymous'

const OWNER = /^[A-Za-z0-9_.-]{1,128}$/

/** The submit's owner, checked: an id with no `:` or newline, so a scoped key cannot be forged from another. */
export function ownerOf(options: SubmitOptions): string {
  const owner = options.owner ?? ANONYMOUS_OWNER
  if (!OWNER.test(owner)) throw new SwitchyardError('BAD_REQUEST', `owner must be 1-128 letters, digits, '_', '.' or '-'`)
  return owner
}

export interface PoolStats {
  readonly pool: string
  readonly queued: number
  readonly running: number
  readonly failed: number
  readonly workers: number
}

export interface WaitOptions {
  readonly signal?: AbortSignal
  /** Give up (resolving with the current record) at this epoch-ms time. */
  readonly until: number
}

export interface Broker {
  readonly kind: 'memory' | 'redis'
  /**
   * Enqueue a signed envelope. An idempotency key is scoped to its owner (the caller,
   * `options.owner`) and the envelope's workflow: the same owner's same key and input in
   * the same workflow return the first run (also once it has finished, while it is
   * kept), with another input IDEMPOTENCY_CONFLICT naming that run (the owner's own);
   * the same key from another owner, or in another workflow, is another run, and never
   * learns of the first. The check and the enqueue are one step: no two runs for one
   * scoped key, and no key held by a run that was never queued.
   *
   * Admission is exact: a run is accepted only while fewer than the pool's `maxQueued`
   * runs are queued (waiting, or waiting out a retry backoff; running runs do not count).
   * Runs already accepted are never refused, so a retry can lift the count past the bound
   * for a moment. Throws SwitchyardError POOL_SATURATED, POOL_UNAVAILABLE (no live worker
   * and not `async`), IDEMPOTENCY_CONFLICT, BROKER_UNAVAILABLE (nothing was queued).
   */
  submit(envelope: Envelope, options?: SubmitOptions): Promise<SubmitResult>
  /**
   * Cancel a run: a queued run ends `cancelled` at once; a running run's graph sees its
   * abort signal, and the run ends `cancelled` when its worker has stopped it (the record
   * returned may still say `running`). Cancelling a cancelled run returns it again.
   * Throws UNKNOWN_RUN, RUN_FINISHED (it already succeeded or failed), BROKER_UNAVAILABLE.
   */
  cancel(runId: string): Promise<RunRecord>
  /** Resolve when the run has finished, or at `until` with its record as it stands. */
  wait(runId: string, options: WaitOptions): Promise<RunRecord>
  get(runId: string): Promise<RunRecord | null>
  /** Recent runs, newest first. */
  list(filter?: { pool?: string; workflow?: string; status?: RunStatus; limit?: number }): Promise<RunRecord[]>
  stats(): Promise<PoolStats[]>
  /**
   * A worker process of `pool` on this machine exited unexpectedly (its supervisor saw
   * it): hand on the runs it held now, each counted as a crash (retried, or ended
   * WORKER_CRASHED / WORKER_LOST), rather than once its heartbeat expires. Resolves with
   * how many runs were handed on. The memory broker hears of it from the IPC link itself.
   * `how` ("exited with code 7", "was killed by SIGKILL") goes into the message of a run it
   * ends, so its caller reads what happened to the process.
   */
  workerExited(pool: string, pid: number, how?: string): Promise<number>
  /**
   * POOL_SATURATED without asking, or null: `pool` was found full moments ago (a
   * short-lived hint), or (an async run) maxQueued admissions of this broker are being
   * decided right now (a burst's rest). The gateway answers a caller without an idempotency key 429 from it, without a
   * round trip or any other work: a flood's refusals must not take the event loop every
   * other pool's callers share. Only submit() accepts, so the hint can never admit a run
   * past maxQueued; it may refuse one for at most its lifetime after the queue drained.
   * A caller who waits is given the hint only when it was found with a live worker
   * (else submit() would say POOL_UNAVAILABLE). Absent: every submit asks.
   */
  knownFull?(pool: string, options?: SubmitOptions): SwitchyardError | null
  /**
   * Queued runs this broker ended at their deadline because no worker took them (failed
   * DEADLINE_EXCEEDED, or WORKER_LOST for a run its worker died under), per pool, since it
   * started: the gateway's switchyard_gateway_runs_expired_total. On Redis, the runs this
   * process's expiry passes ended (each run is counted by the one gateway that ended it).
   */
  expiries?(): ReadonlyMap<string, number>
  /** Broker reachable and every pool has at least one worker. */
  ready(): Promise<boolean>
  close(): Promise<void>
}
