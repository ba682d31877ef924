// GET /v1/pools: every pool of the registry with its tracing settings, what its workers
// are doing now (the broker's live counts) and how its recent runs went — success and
// failure rates and p50/p95 durations over the last few minutes, read from the runs the
// broker keeps (at most RECENT_RUNS per pool, so the answer stays cheap on a busy pool).
import type { PoolList, PoolRecent, PoolView } from '../../control/index.js'
import type { RunRecord } from '../../data/broker/index.js'
import { brokerError } from '../broker-error.js'
import { sendJson, type GatewayDeps, type Handler } from '../exchange.js'
import { may, unrestricted, type Caller } from '../scopes.js'

/** How far back `recent` looks. */
export const POOL_WINDOW_MINUTES = 5
/** The most recent runs per pool the rates and percentiles are computed from. */
const RECENT_RUNS = 1000

export function listPools(deps: GatewayDeps): Handler {
  return async ({ res, caller }) => {
    const since = Date.now() - POOL_WINDOW_MINUTES * 60_000
    const pools = [...deps.registry.pools.values()].filter((pool) => mayReadPool(deps, caller, pool.name))
    const [stats, recent] = await Promise.all([
      deps.broker.stats(),
      Promise.all(pools.map((pool) => deps.broker.list({ pool: pool.name, limit: RECENT_RUNS }))),
    ]).catch((error: unknown) => {
      throw brokerError(deps.broker, error)
    })
    const live = new Map(stats.map((s) => [s.pool, s]))
    const views = pools.map((pool, i): PoolView => {
      const now = live.get(pool.name)
      return {
        name: pool.name,
        runtime: pool.runtime,
        project: pool.tracing.project,
        sampleRate: pool.tracing.sampleRate,
        capture: pool.tracing.capture,
        concurrency: pool.concurrency,
        maxQueued: pool.maxQueued,
        workers: now?.workers ?? 0,
        inFlight: now?.running ?? 0,
        queued: now?.queued ?? 0,
        recent: summarize(recent[i] ?? [], since),
      }
    })
    sendJson(res, 200, { registry: deps.registry.digest, windowMinutes: POOL_WINDOW_MINUTES, pools: views } satisfies PoolList)
  }
}

/** Rates and duration percentiles of the runs that finished at or after `since`. */
export function summarize(records: readonly RunRecord[], since: number): PoolRecent {
  const done = records.filter((r) => r.finishedAt !== undefined && r.finishedAt >= since)
  const count = (status: RunRecord['status']) => done.filter((r) => r.status === status).length
  const succeeded = count('succeeded')
  const failed = count('failed')
  const cancelled = count('cancelled')
  const durations = done
    .filter((r) => r.startedAt !== undefined)
    .map((r) => (r.finishedAt as number) - (r.startedAt as number))
    .sort((a, b) => a - b)
  const finished = done.length
  return {
    finished,
    succeeded,
    failed,
    cancelled,
    successRate: finished ? succeeded / finished : null,
    failureRate: finished ? failed / finished : null,
    p50Ms: percentile(durations, 0.5),
    p95Ms: percentile(durations, 0.95),
  }
}

/** The nearest-rank percentile of sorted values; null for none. */
function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null
}

/** A pool is listed to a caller who may read all of it, or some workflow of it (its figures are the pool's). */
function mayReadPool(deps: GatewayDeps, caller: Caller, pool: string): boolean {
  if (unrestricted(caller, 'read')) return true
  return [...deps.registry.workflows.values()].some((w) => w.pool === pool && may(caller, 'read', { workflow: w.name, pool }))
}
