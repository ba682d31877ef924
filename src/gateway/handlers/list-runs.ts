// GET /v1/runs?pool=&workflow=&status=&limit=: recent runs from the broker, newest
// first — every run, traced or not, queued or dead-lettered (the trace store's
// GET /v1/traces lists only sampled runs whose spans were exported). Without inputs
// or outputs: a page of 1,000 runs with outputs of up to their pool's maxOutput each
// would be gigabytes in the gateway's memory; GET /v1/runs/{id} has both. A run whose job
// (or record, ended while queued) holds more than the Redis broker reads of a listed run
// (64 KiB), or a createdAt in the future, is listed with `omitted` naming what the list left
// out (redis-broker.ts list).
import { SwitchyardError, UnknownWorkflowError, suggest } from '../../control/index.js'
import type { RunFilter, RunList, RunStatus } from '../../control/index.js'
import type { RunRecord } from '../../data/broker/index.js'
import { brokerError } from '../broker-error.js'
import { sendJson, type GatewayDeps, type Handler } from '../exchange.js'
import { may, requireScope, unrestricted, type Caller } from '../scopes.js'
import { toRunView } from './run-view.js'

const STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled']
const MAX_LIMIT = 1000
const DEFAULT_LIMIT = 100

/** The filter of a query string; unknown names and bad values are the caller's mistake (400/404), said by name. */
export function runFilterFromQuery(deps: Pick<GatewayDeps, 'registry'>, query: URLSearchParams): RunFilter {
  const pool = query.get('pool') ?? undefined
  const workflow = query.get('workflow') ?? undefined
  const status = query.get('status') ?? undefined
  const limitText = query.get('limit') ?? undefined
  if (pool !== undefined && !deps.registry.pools.has(pool)) {
    const hint = suggest(pool, deps.registry.pools.keys())
    throw new SwitchyardError(
      'NOT_FOUND',
      `unknown pool '${pool}'.${hint.length ? ` Did you mean ${hint.map((s) => `'${s}'`).join(' or ')}?` : ''}`,
    )
  }
  if (workflow !== undefined && !deps.registry.workflows.has(workflow)) {
    throw new UnknownWorkflowError(workflow, suggest(workflow, deps.registry.workflows.keys()))
  }
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    throw new SwitchyardError('BAD_REQUEST', `unknown status '${status}': use ${STATUSES.join(', ')}`)
  }
  const limit = limitText === undefined ? undefined : Number(limitText)
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT)) {
    throw new SwitchyardError('BAD_REQUEST', `limit must be a whole number from 1 to ${MAX_LIMIT}, not '${limitText}'`)
  }
  return {
    ...(pool !== undefined ? { pool } : {}),
    ...(workflow !== undefined ? { workflow } : {}),
    ...(status !== undefined ? { status: status as RunStatus } : {}),
    ...(limit !== undefined ? { limit } : {}),
  }
}

export function listRuns(deps: GatewayDeps): Handler {
  return async ({ req, res, caller }) => {
    const filter = runFilterFromQuery(deps, new URL(req.url ?? '/', 'http://gateway').searchParams)
    const records = unrestricted(caller, 'read') ? await list(deps, filter) : await listScoped(deps, caller, filter)
    sendJson(res, 200, { runs: records.map((record) => toRunView(record, { output: false })) } satisfies RunList)
  }
}

function list(deps: GatewayDeps, filter: RunFilter): Promise<RunRecord[]> {
  return deps.broker.list(filter).catch((error: unknown) => {
    throw brokerError(deps.broker, error)
  })
}

/**
 * The runs a scoped caller may read, newest first: one broker query per pool it may read
 * whole, one per workflow where it may read only some, merged. Asking for a pool or
 * workflow outside its scope is a 403, not an empty list.
 */
async function listScoped(deps: GatewayDeps, caller: Caller, filter: RunFilter): Promise<RunRecord[]> {
  if (filter.workflow !== undefined) {
    requireScope(caller, 'read', { workflow: filter.workflow, pool: deps.registry.workflows.get(filter.workflow)?.pool })
    return list(deps, filter)
  }
  const queries: RunFilter[] = []
  for (const pool of deps.registry.pools.keys()) {
    if (filter.pool !== undefined && pool !== filter.pool) continue
    const all = [...deps.registry.workflows.values()].filter((w) => w.pool === pool)
    const readable = all.filter((w) => may(caller, 'read', { workflow: w.name, pool }))
    if (readable.length === all.length && readable.length > 0) queries.push({ ...filter, pool })
    else for (const w of readable) queries.push({ ...filter, pool, workflow: w.name })
  }
  if (filter.pool !== undefined && queries.length === 0) requireScope(caller, 'read', { pool: filter.pool })
  const limit = filter.limit ?? DEFAULT_LIMIT
  const lists = await Promise.all(queries.map((query) => list(deps, query)))
  return lists
    .flat()
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, limit)
}
