// What crosses HTTP between the gateway and its callers (DESIGN §2.3): one definition
// for the server that writes these bodies and the typed client that reads them.
import type { InputIssue } from './errors.js'
import type { Capture, JsonSchema, Runtime } from './types.js'

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export interface RunError {
  readonly code: string
  readonly message: string
  readonly retryable: boolean
}

/** A run as the gateway shows it: `GET /v1/runs/{id}`, and the 202 body of an async run. */
export interface RunView<O = unknown> {
  readonly runId: string
  readonly workflow: string
  readonly pool: string
  readonly status: RunStatus
  /**
   * The input as submitted, as the pool's `tracing.capture` allows: as it was (`full`), with
   * e-mail addresses, phone numbers and the pool's `redact` keys masked (`redacted`), or
   * absent (`none`). Only on `GET /v1/runs/{id}`, never in lists.
   */
  readonly input?: unknown
  /** The pool's capture mode, which `input` follows (so a caller can tell a masked input from a real one). */
  readonly capture?: Capture
  /** A succeeded run's output. Only on `GET /v1/runs/{id}` and a run's own response, never in lists. */
  readonly output?: O
  readonly error?: RunError
  readonly attempts: number
  readonly maxAttempts: number
  /** ISO 8601, like every timestamp here. */
  readonly createdAt: string
  readonly startedAt?: string
  readonly finishedAt?: string
  /** finishedAt − startedAt, when both are known. */
  readonly durationMs?: number
  readonly deadline: string
  readonly traceId: string | null
  readonly idempotencyKey: string | null
  /** The digest (`sha256:…`) of the registry that routed the run. */
  readonly registry?: string
  /** True when the run failed for good (attempts used up, or not retryable): it sits in the dead-letter set. */
  readonly deadLettered?: boolean
  /**
   * Only when not empty: the fields (by name) left out of this run, or shown as 0/null/empty.
   * In lists, because its job holds more than a list reads of one run (64 KiB: a large input
   * takes `deadline`, `traceId`, `idempotencyKey` and `registry` with it; an error that large,
   * `error`; a run ended while queued whose record holds more shows only its workflow, status
   * and `createdAt`) or a `createdAt` in the future (shown as 1970-01-01, listed last); `GET
   * /v1/runs/{id}` reads the run whole. In any view, a time no date can hold (written by a
   * pool's user into its own job): `createdAt` shown as 1970-01-01, `startedAt`/`finishedAt` left out.
   */
  readonly omitted?: readonly string[]
}

/** The query of `GET /v1/runs`: every field narrows the list; runs come newest first. */
export interface RunFilter {
  readonly pool?: string
  readonly workflow?: string
  readonly status?: RunStatus
  /** At most this many (1…1000). @default 100 */
  readonly limit?: number
}

/** The body of `GET /v1/runs`. */
export interface RunList {
  readonly runs: readonly RunView[]
}

/** A workflow as callers may see it: `GET /v1/workflows[/{name}]` (no paths, no pool internals). */
export interface WorkflowView {
  readonly name: string
  readonly pool: string
  readonly description: string
  readonly input: JsonSchema
  readonly output: JsonSchema | null
  readonly timeoutMs: number
}

/** How a pool's recent runs went: runs that finished within the window, newest first. */
export interface PoolRecent {
  /** Runs that finished in the window (succeeded + failed + cancelled). */
  readonly finished: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
  /** succeeded / finished, 0…1; null when nothing finished. */
  readonly successRate: number | null
  /** failed / finished, 0…1; null when nothing finished. */
  readonly failureRate: number | null
  /** Run duration (started → finished) percentiles, milliseconds; null when nothing finished. */
  readonly p50Ms: number | null
  readonly p95Ms: number | null
}

/** A pool as `GET /v1/pools` shows it: its settings, what its workers do now, and its recent runs. */
export interface PoolView {
  readonly name: string
  readonly runtime: Runtime
  readonly project: string
  readonly sampleRate: number
  readonly capture: Capture
  readonly concurrency: number
  readonly maxQueued: number
  /** Workers consuming the pool now. */
  readonly workers: number
  /** Runs executing now. */
  readonly inFlight: number
  /** Runs waiting (ready or in a retry backoff). */
  readonly queued: number
  readonly recent: PoolRecent
}

/** The body of `GET /v1/pools`. */
export interface PoolList {
  /** The registry digest the gateway serves. */
  readonly registry: string
  /** How far back `recent` looks, in minutes. */
  readonly windowMinutes: number
  readonly pools: readonly PoolView[]
}

/** The body of every gateway error: `application/problem+json` (RFC 9457). */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: string
  readonly runId?: string
  readonly traceId?: string
  readonly workflow?: string
  readonly pool?: string
  /** Validation problems of INVALID_INPUT: JSON pointers into the input. */
  readonly errors?: readonly InputIssue[]
  /** Did-you-mean names of UNKNOWN_WORKFLOW. */
  readonly suggestions?: readonly string[]
}
