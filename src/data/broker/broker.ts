// The seam between the gateway (producer) and the pool workers (consumers).
// Implementations: MemoryBroker (embedded, `switchyard dev`), RedisBroker (BullMQ).
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
  /** True once the run failed its last attempt (dead-lettered). */
  readonly deadLettered?: boolean
}

export interface SubmitResult {
  readonly runId: string
  /** True when an earlier submission with the same idempotency key and input was reused. */
  readonly deduped: boolean
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
   * Enqueue a signed envelope. Throws SwitchyardError POOL_SATURATED (maxQueued reached),
   * IDEMPOTENCY_CONFLICT (same key, different input), BROKER_UNAVAILABLE.
   */
  submit(envelope: Envelope): Promise<SubmitResult>
  /** Resolve when the run has finished, or at `until` with its record as it stands. */
  wait(runId: string, options: WaitOptions): Promise<RunRecord>
  get(runId: string): Promise<RunRecord | null>
  /** Recent runs, newest first. */
  list(filter?: { pool?: string; workflow?: string; status?: RunStatus; limit?: number }): Promise<RunRecord[]>
  stats(): Promise<PoolStats[]>
  /** Broker reachable and every pool has at least one worker. */
  ready(): Promise<boolean>
  close(): Promise<void>
}
