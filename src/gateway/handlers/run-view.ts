// The public shape of a run (GET /v1/runs/{id}, the 202 body): the broker's record
// with timings as ISO strings and nothing internal.
import type { RunView } from '../../control/index.js'
import type { RunRecord } from '../../data/broker/index.js'

export type { RunView }

/** `output: false` leaves the output out (lists: one page must not carry every run's output). */
export function toRunView(record: RunRecord, include: { readonly output: boolean } = { output: true }): RunView {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())
  return {
    runId: record.runId,
    workflow: record.workflow,
    pool: record.pool,
    status: record.status,
    ...(record.status === 'succeeded' && include.output ? { output: record.output ?? null } : {}),
    ...(record.error ? { error: record.error } : {}),
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    createdAt: iso(record.createdAt) as string,
    ...(record.startedAt !== undefined ? { startedAt: iso(record.startedAt) } : {}),
    ...(record.finishedAt !== undefined ? { finishedAt: iso(record.finishedAt) } : {}),
    ...(record.startedAt !== undefined && record.finishedAt !== undefined ? { durationMs: record.finishedAt - record.startedAt } : {}),
    deadline: record.deadline,
    traceId: record.traceId,
    idempotencyKey: record.idempotencyKey,
    ...(record.registry !== undefined ? { registry: record.registry } : {}),
    ...(record.deadLettered ? { deadLettered: true } : {}),
    ...(record.omitted?.length ? { omitted: record.omitted } : {}),
  }
}
