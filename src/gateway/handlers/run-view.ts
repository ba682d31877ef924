// The public shape of a run (GET /v1/runs/{id}, the 202 body): the broker's record
// with timings as ISO strings and nothing internal.
import type { RunView } from '../../control/index.js'
import type { RunRecord } from '../../data/broker/index.js'

export type { RunView }

/** `output: false` leaves the output out (lists: one page must not carry every run's output). */
export function toRunView(record: RunRecord, include: { readonly output: boolean } = { output: true }): RunView {
  // A pool's user writes its own jobs: a time no Date can hold (past year 275760, NaN) made
  // toISOString throw, a 500 for the run and for every list holding it. Such a time is left
  // out (createdAt, which every view has, shows the epoch) and named in `omitted`.
  const unreadable = (['createdAt', 'startedAt', 'finishedAt'] as const).filter(
    (field) => record[field] !== undefined && Number.isNaN(new Date(record[field] as number).getTime()),
  )
  const iso = (ms: number | undefined) => {
    const date = ms === undefined ? undefined : new Date(ms)
    return date === undefined || Number.isNaN(date.getTime()) ? undefined : date.toISOString()
  }
  const started = iso(record.startedAt) === undefined ? undefined : record.startedAt
  const finished = iso(record.finishedAt) === undefined ? undefined : record.finishedAt
  const omitted = [...(record.omitted ?? []), ...unreadable.filter((field) => !record.omitted?.includes(field))]
  return {
    runId: record.runId,
    workflow: record.workflow,
    pool: record.pool,
    status: record.status,
    ...(record.status === 'succeeded' && include.output ? { output: record.output ?? null } : {}),
    ...(record.error ? { error: record.error } : {}),
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    createdAt: iso(record.createdAt) ?? new Date(0).toISOString(),
    ...(started !== undefined ? { startedAt: iso(started) } : {}),
    ...(finished !== undefined ? { finishedAt: iso(finished) } : {}),
    ...(started !== undefined && finished !== undefined ? { durationMs: finished - started } : {}),
    deadline: record.deadline,
    traceId: record.traceId,
    idempotencyKey: record.idempotencyKey,
    ...(record.registry !== undefined ? { registry: record.registry } : {}),
    ...(record.deadLettered ? { deadLettered: true } : {}),
    ...(omitted.length ? { omitted } : {}),
  }
}
