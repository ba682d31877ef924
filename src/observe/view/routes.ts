// The embedded-mode HTTP routes of DESIGN §2.3, for the gateway to mount:
// POST /v1/traces (OTLP receiver), GET /v1/traces (recent runs), GET /v1/traces/{traceId}
// (the run tree). The console (GET /) is console-routes.ts. Handlers throw
// SwitchyardError; the gateway's error path turns them into problem+json.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SwitchyardError } from '../../control/index.js'
import { receiveOtlp } from '../otlp/index.js'
import { buildRunTree } from './run-tree.js'
import type { TracedRunFilter, TraceStore } from '../store/index.js'

export interface ObserveExchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly params: Readonly<Record<string, string>>
}

export interface ObserveRoute {
  readonly method: 'GET' | 'POST'
  /** `{param}` segments, as the gateway's router takes them. */
  readonly pattern: string
  readonly handler: (exchange: ObserveExchange) => Promise<void>
}

/**
 * The observability routes over one trace store.
 *
 * @example
 * for (const route of observeRoutes(store)) router.add(route.method, route.pattern, route.handler)
 */
export function observeRoutes(store: TraceStore): readonly ObserveRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/v1/traces',
      handler: async ({ req, res }) => {
        await receiveOtlp(store, req, res)
      },
    },
    {
      method: 'GET',
      pattern: '/v1/traces',
      handler: async ({ req, res }) => {
        const runs = await store.listRuns(tracedRunFilterFromQuery(new URL(req.url ?? '/', 'http://gateway').searchParams))
        sendJson(res, { runs })
      },
    },
    {
      method: 'GET',
      pattern: '/v1/traces/{traceId}',
      handler: async ({ res, params }) => {
        const traceId = params.traceId ?? ''
        const spans = await store.getTrace(traceId)
        if (spans.length === 0) {
          throw new SwitchyardError(
            'NOT_FOUND',
            `no spans stored for trace ${traceId}: it was not sampled, its spans are not exported yet, or it expired`,
          )
        }
        sendJson(res, { traceId: traceId.toLowerCase(), tree: buildRunTree(spans), spans })
      },
    },
  ]
}

/** `?pool=&workflow=&status=&project=&limit=` → TracedRunFilter; nonsense is a 400 naming the parameter. */
export function tracedRunFilterFromQuery(query: URLSearchParams): TracedRunFilter {
  const known = new Set(['pool', 'workflow', 'status', 'project', 'limit'])
  for (const key of query.keys()) {
    if (!known.has(key)) throw new SwitchyardError('BAD_REQUEST', `unknown query parameter '${key}' (use ${[...known].join(', ')})`)
  }
  const status = query.get('status')
  if (status !== null && status !== 'succeeded' && status !== 'failed') {
    throw new SwitchyardError('BAD_REQUEST', `status must be 'succeeded' or 'failed', got '${status}'`)
  }
  const limitText = query.get('limit')
  const limit = limitText === null ? undefined : Number(limitText)
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    throw new SwitchyardError('BAD_REQUEST', `limit must be an integer from 1 to 1000, got '${limitText}'`)
  }
  const text = (name: string) => query.get(name) ?? undefined
  return {
    ...(text('pool') ? { pool: text('pool') } : {}),
    ...(text('workflow') ? { workflow: text('workflow') } : {}),
    ...(text('project') ? { project: text('project') } : {}),
    ...(status ? { status } : {}),
    ...(limit ? { limit } : {}),
  }
}

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}
