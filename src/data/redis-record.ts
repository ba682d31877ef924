// How a run lives in Redis: the BullMQ job *is* the run record. Its data is the
// envelope as submitted, its return value the output, its failedReason the run's
// structured error (encoded below). Nothing else is stored per run, so nothing can
// drift from what BullMQ itself shows.
import type { RunError, RunRecord, RunStatus } from './broker.js'

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
export function encodeRunError(error: RunError): string {
  return RUN_ERROR_TAG + JSON.stringify({ code: error.code, message: error.message, retryable: error.retryable })
}

/** The RunError behind a failedReason; BullMQ's own reasons (a stalled job, say) become WORKER_LOST. */
export function decodeRunError(reason: string | undefined): RunError {
  if (reason?.startsWith(RUN_ERROR_TAG)) {
    try {
      const parsed = JSON.parse(reason.slice(RUN_ERROR_TAG.length)) as Partial<RunError>
      if (typeof parsed.code === 'string' && typeof parsed.message === 'string') {
        return { code: parsed.code, message: parsed.message, retryable: parsed.retryable === true }
      }
    } catch {
      // Not ours after all: fall through to the plain reason.
    }
  }
  return { code: 'WORKER_LOST', message: reason || 'the run failed without a reason', retryable: true }
}

/** BullMQ job state → run status; null for a job BullMQ does not know. */
export function statusOf(state: string): RunStatus | null {
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
export function recordFromJob(job: JobLike, status: RunStatus, pool: string): RunRecord {
  const data = job.data
  const workflow = field(data, 'workflow')
  const deadline = field(data, 'deadline')
  const key = field(data, 'idempotencyKey')
  const traceparent = field(field(data, 'trace'), 'traceparent')
  const record: { -readonly [K in keyof RunRecord]: RunRecord[K] } = {
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
  }
  if (job.processedOn) record.startedAt = job.processedOn
  if (status === 'succeeded' || status === 'failed') {
    if (job.finishedOn) record.finishedAt = job.finishedOn
  }
  if (status === 'succeeded' && job.returnvalue !== undefined) record.output = job.returnvalue
  if (status === 'failed') {
    record.error = decodeRunError(job.failedReason)
    // Every run that ends failed stays in BullMQ's failed set: that set is the dead-letter queue.
    record.deadLettered = true
  }
  return record
}
