// The embedded-mode HTTP routes of DESIGN §2.3, for the gateway to mount:
// POST /v1/traces (OTLP receiver), GET /v1/traces (recent runs), GET /v1/traces/{traceId}
// (the run tree). The console (GET /) is console-routes.ts. Handlers throw
// SwitchyardError; the gateway's error path turns them into problem+json.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SwitchyardError } from '../../control/index.js'
import { receiveOtlp } from '../otlp/index.js'
import { buildRunTree } from './run-tree.js'
import { traceGaps } from './trace-gaps.js'
import { spanClaim, type SpanSender, type StoredSpan, type TraceAccess, type TracedRunFilter, type TraceStore } from '../store/index.js'

/** What the caller of a request may see and write (the gateway's scopes); absent: everything. */
export interface ObserveAccess {
  /** Whether it may read runs of this workflow and pool; a trace of no run passes only with neither named. */
  canRead(target: { readonly workflow?: string | undefined; readonly pool?: string | undefined }): boolean
  /** Whether it may write spans filed under this project. */
  canWrite(project: string): boolean
  /** Whether it may write spans under any project at all: when not, an export is refused before its body is read. */
  canWriteSome(): boolean
  /** Whether it may write spans that say they belong to this workflow and pool (what run lists and read scopes go by). */
  canClaim(claim: { readonly workflow?: string; readonly pool?: string }): boolean
  /** Whether it may read every span filed under this project (GET /v1/traces/{id}?project=), whoever sent it. */
  canReadProject(project: string): boolean
  /** Who it is as a sender of spans, stamped on each; absent: trusted with every trace. */
  readonly sender?: SpanSender
}

export interface ObserveExchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly params: Readonly<Record<string, string>>
  readonly access?: ObserveAccess
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
      handler: async ({ req, res, access }) => {
        // A credential that may write nowhere (a reader's, say) costs no body read, gunzip or decode.
        if (access && !access.canWriteSome()) throw new SwitchyardError('FORBIDDEN', 'this credential may not write spans')
        await receiveOtlp(
          store,
          req,
          res,
          access
            ? {
                canWrite: (project) => access.canWrite(project),
                canClaim: (claim) => access.canClaim(claim),
                ...(access.sender ? { sender: access.sender } : {}),
              }
            : {},
        )
      },
    },
    {
      method: 'GET',
      pattern: '/v1/traces',
      handler: async ({ req, res, access }) => {
        const filter = tracedRunFilterFromQuery(new URL(req.url ?? '/', 'http://gateway').searchParams)
        const where = access ? { where: (run: { workflow: string; pool: string | null }) => access.canRead(runTarget(run)) } : {}
        const runs = await store.listRuns({ ...filter, ...where })
        sendJson(res, { runs })
      },
    },
    {
      method: 'GET',
      pattern: '/v1/traces/{traceId}',
      handler: async ({ req, res, params, access }) => {
        const traceId = params.traceId ?? ''
        const project = traceQueryFromUrl(req.url)
        // One project's spans are its readers' (a pool's own spans under another run's trace id); else the trace's runs.
        if (project !== undefined && access && !access.canReadProject(project)) {
          throw new SwitchyardError('FORBIDDEN', `this token may not read project '${project}'`)
        }
        // Whose runs are in it comes from the store's index: a reader the whole trace would be
        // refused to (readable()) is refused before a line of it is read, however many there are.
        if (project === undefined && access && !mayRead(await store.traceAccess(traceId), access)) throw forbiddenTrace(traceId)
        const spans = await store.getTrace(traceId, project === undefined ? {} : { project })
        if (spans.length === 0) {
          throw new SwitchyardError(
            'NOT_FOUND',
            `no spans stored for trace ${traceId}${project === undefined ? '' : ` in project '${project}'`}: it was not sampled, its spans are not exported yet, or it expired`,
          )
        }
        if (project === undefined && access && !readable(spans, access)) {
          throw forbiddenTrace(traceId)
        }
        // `gaps`: what the tree still lacks before it is whole (spans are exported in batches,
        // seconds apart); a reader that wants the whole trace asks again while it is not empty.
        const tree = buildRunTree(spans)
        sendJson(res, { traceId: traceId.toLowerCase(), tree, gaps: traceGaps(tree), spans })
      },
    },
  ]
}

function forbiddenTrace(traceId: string): SwitchyardError {
  return new SwitchyardError('FORBIDDEN', `this token may not read trace ${traceId.toLowerCase()}: its runs are outside its scope`)
}

/**
 * readable() from the store's index: false only where readable() would be false too. Runs
 * the gateway recorded are some of an anchored trace's (its pools' spans add others); a
 * trace with no anchor is all its spans, so its claimed runs are all it has.
 */
function mayRead(index: TraceAccess | null, access: ObserveAccess): boolean {
  if (index === null) return true
  if (index.anchored) return index.runs.every((run) => access.canRead(run))
  return index.runs.length === 0 ? access.canRead({}) : index.runs.every((run) => access.canRead(run))
}

/** A trace is readable when every run in it is (one with no run: only by an unrestricted reader). */
function readable(spans: readonly StoredSpan[], access: ObserveAccess): boolean {
  const targets = spans.map(spanClaim).filter((target) => target !== undefined)
  if (targets.length === 0) return access.canRead({})
  return targets.every((target) => access.canRead(target))
}

/** `?project=NAME` of GET /v1/traces/{id}; any other parameter is a 400 naming it. */
function traceQueryFromUrl(url: string | undefined): string | undefined {
  const query = new URL(url ?? '/', 'http://gateway').searchParams
  for (const key of query.keys()) {
    if (key !== 'project') throw new SwitchyardError('BAD_REQUEST', `unknown query parameter '${key}' (use project)`)
  }
  const project = query.get('project')
  if (project === null) return undefined
  if (project === '') throw new SwitchyardError('BAD_REQUEST', 'project must name a project')
  return project
}

function runTarget(run: { workflow: string; pool: string | null }): { workflow: string; pool: string | undefined } {
  return { workflow: run.workflow, pool: run.pool ?? undefined }
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
