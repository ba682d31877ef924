// How a run lives in Redis: the BullMQ job *is* the run record. Its data is the
// envelope as submitted; its return value the output, stamped by the worker with the
// attempt's timings; its failedReason the run's structured error, stamped the same
// way. Because the stamp travels in BullMQ's own completed/failed events, a producer
// can settle wait() from the event alone, without reading the job back. The run's owner
// is not the job's (its data is the signed envelope, exactly): a key of its own (keys.ts).
import type { RunError, RunRecord, RunStatus } from '../broker.js'

/** When and how often the run was attempted, as the worker saw it when it settled. */
export interface RunStamp {
  readonly startedAt: number
  readonly finishedAt: number
  readonly attempts: number
}

/** A job's return value as redisRunSource writes it. */
export interface StampedResult extends RunStamp {
  readonly 'switchyard.result': 1
  readonly output: unknown
}

/** Wrap a run's output with its stamp (the job's return value). */
export function stampResult(output: unknown, stamp: RunStamp): StampedResult {
  return { 'switchyard.result': 1, output, startedAt: stamp.startedAt, finishedAt: stamp.finishedAt, attempts: stamp.attempts }
}

function isStamp(value: unknown): value is RunStamp {
  const v = value as Partial<RunStamp> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.startedAt === 'number' &&
    typeof v.finishedAt === 'number' &&
    typeof v.attempts === 'number'
  )
}

/** The stamped result in a return value, or null for a bare one (a job some other worker finished). */
export function readResult(returnvalue: unknown): StampedResult | null {
  return isStamp(returnvalue) && (returnvalue as Partial<StampedResult>)['switchyard.result'] === 1 ? (returnvalue as StampedResult) : null
}

/** The fields of a BullMQ job the record is read from (Job and JobBase both have them). */
export interface JobLike {
  readonly id?: string | undefined
  readonly name: string
  readonly data: unknown
  readonly returnvalue: unknown
  readonly failedReason?: string | undefined
  readonly attemptsMade: number
  readonly attemptsStarted?: number | undefined
  readonly timestamp: number
  readonly processedOn?: number | undefined
  readonly finishedOn?: number | undefined
  readonly opts: { readonly attempts?: number | undefined }
}

const RUN_ERROR_TAG = 'switchyard.run-error:'

/**
 * The text a worker throws so BullMQ keeps the run's error as failedReason.
 * Prefixed JSON: readable in BullMQ dashboards, lossless for get().
 */
export function encodeRunError(error: RunError, stamp: RunStamp): string {
  const { startedAt, finishedAt, attempts } = stamp
  return (
    RUN_ERROR_TAG +
    JSON.stringify({ code: error.code, message: error.message, retryable: error.retryable, startedAt, finishedAt, attempts })
  )
}

/**
 * The RunError (and stamp) behind a failedReason; BullMQ's own reasons become
 * WORKER_CRASHED (a job stalled too often) or WORKER_LOST, without a stamp.
 */
export function decodeRunError(reason: string | undefined): { error: RunError; stamp: RunStamp | null } {
  if (reason?.startsWith(RUN_ERROR_TAG)) {
    try {
      const parsed = JSON.parse(reason.slice(RUN_ERROR_TAG.length)) as Partial<RunError>
      if (typeof parsed.code === 'string' && typeof parsed.message === 'string') {
        return {
          error: { code: parsed.code, message: parsed.message, retryable: parsed.retryable === true },
          stamp: isStamp(parsed) ? parsed : null,
        }
      }
    } catch {
      // Not ours after all: fall through to the plain reason.
    }
  }
  // BullMQ's own reason when a run's lock expired more often than maxStalledCount allows (the backstop of reaper.ts).
  if (reason === 'job stalled more than allowable limit') {
    return {
      error: {
        code: 'WORKER_CRASHED',
        message: `the run's worker died under it too many times (${reason}): dead-lettered`,
        retryable: false,
      },
      stamp: null,
    }
  }
  return { error: { code: 'WORKER_LOST', message: reason || 'the run failed without a reason', retryable: true }, stamp: null }
}

/** BullMQ job state → run status; null for a job BullMQ does not know. */
export function runStatusOfJobState(state: string): RunStatus | null {
  switch (state) {
    case 'completed':
      return 'succeeded'
    case 'failed':
      return 'failed'
    case 'active':
      return 'running'
    case 'waiting':
    case 'wait':
    case 'delayed':
    case 'prioritized':
    case 'paused':
    case 'waiting-children':
      return 'queued'
    default:
      return null
  }
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/

function field(data: unknown, key: string): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined
}

/**
 * Read a job as a RunRecord. Tolerant on purpose: a job put on the queue by hand
 * (no valid envelope) still shows up, so a refused side-door run is visible too.
 */
export function recordFromJob(job: JobLike, status: RunStatus, pool: string, owner: string | null): RunRecord {
  const data = job.data
  const workflow = field(data, 'workflow')
  const deadline = field(data, 'deadline')
  const key = field(data, 'idempotencyKey')
  const traceparent = field(field(data, 'trace'), 'traceparent')
  const record: Mutable = {
    runId: job.id ?? '',
    workflow: typeof workflow === 'string' ? workflow : job.name,
    pool,
    status,
    attempts: Math.max(job.attemptsStarted ?? 0, job.attemptsMade),
    maxAttempts: job.opts.attempts ?? 1,
    createdAt: job.timestamp,
    deadline: typeof deadline === 'string' ? deadline : '',
    traceId: typeof traceparent === 'string' ? (TRACEPARENT.exec(traceparent)?.[1] ?? null) : null,
    idempotencyKey: typeof key === 'string' ? key : null,
    owner,
  }
  const input = field(data, 'input')
  if (input !== undefined) record.input = input
  const registry = field(data, 'registry')
  if (typeof registry === 'string') record.registry = registry
  if (job.processedOn) record.startedAt = job.processedOn
  if (status === 'succeeded') {
    const result = readResult(job.returnvalue)
    return settled(record, 'succeeded', result ?? null, { returnvalue: job.returnvalue, finishedOn: job.finishedOn })
  }
  if (status === 'failed') {
    return settled(record, 'failed', job.failedReason, { finishedOn: job.finishedOn })
  }
  return record
}

type Mutable = { -readonly [K in keyof RunRecord]: RunRecord[K] }

/**
 * A queued/running record made final by its outcome: a stamped result (or, for a
 * failure, the failedReason). Stamped outcomes carry everything, so the record comes
 * out the same from an event as from the job read back later.
 */
function settled(
  base: RunRecord,
  status: 'succeeded' | 'failed',
  outcome: StampedResult | string | null | undefined,
  job: { returnvalue?: unknown; finishedOn?: number | undefined } = {},
): RunRecord {
  const record: Mutable = { ...base, status }
  let stamp: RunStamp | null
  if (status === 'succeeded') {
    const result = typeof outcome === 'object' ? outcome : null
    stamp = result
    if (result) record.output = result.output
    else if (job.returnvalue !== undefined) record.output = job.returnvalue
  } else {
    const decoded = decodeRunError(typeof outcome === 'string' ? outcome : undefined)
    stamp = decoded.stamp
    record.error = decoded.error
    // A run cancelled while running is a failed job too, with its CANCELLED error: cancelled, not dead.
    if (decoded.error.code === 'CANCELLED' && !decoded.error.retryable) record.status = 'cancelled'
    // Every other run that ends failed stays in BullMQ's failed set: that set is the dead-letter queue.
    else record.deadLettered = true
  }
  if (stamp) {
    record.startedAt = stamp.startedAt
    record.finishedAt = stamp.finishedAt
    record.attempts = stamp.attempts
  } else if (job.finishedOn) {
    record.finishedAt = job.finishedOn
  }
  return record
}

/**
 * The final record of a run from its completed/failed event and the record it had
 * when submitted; null when the outcome carries no stamp (then read the job).
 */
export function recordFromEvent(
  submitted: RunRecord,
  event: { readonly status: 'succeeded'; readonly returnvalue: unknown } | { readonly status: 'failed'; readonly failedReason: string },
): RunRecord | null {
  if (event.status === 'succeeded') {
    const result = readResult(event.returnvalue)
    return result ? settled(submitted, 'succeeded', result) : null
  }
  return decodeRunError(event.failedReason).stamp ? settled(submitted, 'failed', event.failedReason) : null
}

/** The signed deadline a job's envelope carries (ISO 8601), or '' when it has none. */
export function deadlineOf(job: { readonly data: unknown }): string {
  return String((job.data as { deadline?: unknown } | null)?.deadline ?? '')
}
