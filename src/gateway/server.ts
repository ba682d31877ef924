// The gateway: node:http, a small router, and one error path that turns anything
// thrown into problem+json. Handlers live in ./handlers, one resource each.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Attributes } from '@opentelemetry/api'
import type { AddressInfo, Socket } from 'node:net'
import { ATTR, SwitchyardError, hostCheck, type HostCheck } from '../control/index.js'
import type { Logger } from '../graph/index.js'
import { WWW_AUTHENTICATE, createAuthenticator, type Authenticate } from './auth.js'
import { guardConnections } from './connection-guard.js'
import { FD_RESERVE_BASE, FD_RESERVE_EACH, fileDescriptorLimit, resolveConnectionLimits } from './connection-limits.js'
import { answerPreflight, applyCors } from './cors.js'
import { misdirectedDetail } from './host-check.js'
import { FairAdmission, resolveAdmissionLimits } from './fair-admission.js'
import { drainRequest } from './drain.js'
import { TRACE_ID_HEADER, RUN_ID_HEADER, type Exchange, type GatewayDeps, type Handler } from './exchange.js'
import { wantsForcedTrace } from './force-trace.js'
import { createGatewayMetrics } from './gateway-metrics.js'
import {
  cancelRun,
  getRun,
  listPools,
  listRuns,
  healthz,
  metrics,
  readyz,
  runWorkflow,
  getWorkflow,
  listWorkflows,
} from './handlers/index.js'
import { mountObserve } from './observe-routes.js'
import { resolveGatewayOptions, type Gateway, type GatewayOptions } from './options.js'
import { problemCodeOf, sendProblem, httpStatusOf, toProblem } from './problem.js'
import { RequestTrace, now } from './request-trace.js'
import { Router, type Params } from './router.js'
import { NOBODY, hasRole, mayForceTrace, requireScope, type Caller, type Role, type ScopeTarget } from './scopes.js'
import { SHED_PER_TURN, refusalPace, shedReads, shedReadsOptions } from './shed-reads.js'
import { runSpanAttributes } from './span-attributes.js'

/** How long close() lets in-flight requests finish before cutting their connections. */
const CLOSE_GRACE_MS = 5000
/** Refusals waiting for their turn to be written, at most; past it one is answered at once (shed-reads.ts). */
const REFUSALS_WAITING = 1024
/** At close, how long connections paused in line get to have a request they hold read (shed-reads.ts). */
const CLOSE_READ_MS = 50

/** Each response's exchange, for the flow a 429 was for: its caller and the pool (shed-reads.ts). */
const exchanges = new WeakMap<ServerResponse, Exchange>()
function flowOf(res: ServerResponse): string {
  const exchange = exchanges.get(res)
  return exchange === undefined ? '' : `${exchange.caller.id}\n${exchange.known.pool ?? ''}`
}

/**
 * Who may call a route: `open` (probes, the static console page), `caller` (any valid
 * token; the handler checks each target itself, as the OTLP receiver does per project),
 * or a role the caller must hold.
 */
type Access = 'open' | 'caller' | Role

interface RouteSpec {
  readonly handler: Handler
  readonly access: Access
  /** The target known from the path, checked against the caller's scope before any work. */
  readonly target?: (params: Params) => ScopeTarget
  /** Gets a SERVER span (runs only: health probes and OTLP ingestion would be noise, or loops). */
  readonly traced: boolean
  /** Span start attributes known from the path (a run's pool, project and sample rate). */
  readonly spanAttributes?: (params: Params) => Attributes
}

/**
 * Start the HTTP gateway of DESIGN §2.3 on a registry and a broker.
 *
 * @example
 * const gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: null })
 * await fetch(`${gateway.url}/v1/workflows`)
 * await gateway.close()
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const resolved = resolveGatewayOptions(options)
  // Resolved before anything opens: a malformed name is refused at start.
  const allowHost = hostCheck(resolved.host, options.allowedHosts)
  // Handlers read deps.registry per request, so reload() swaps it for every request after.
  const deps: { -readonly [K in keyof GatewayDeps]: GatewayDeps[K] } = {
    registry: options.registry,
    broker: options.broker,
    signingKey: options.signingKey,
    bodyLimitBytes: resolved.bodyLimitBytes,
    metrics: createGatewayMetrics({ restarts: options.restarts ?? 0 }),
    admission: new FairAdmission(resolveAdmissionLimits(options.admission)),
    log: options.log ?? stderrLog,
    refusalTurn: refusalPace(SHED_PER_TURN, REFUSALS_WAITING),
    ...(options.unknownWorkflowHint ? { unknownWorkflowHint: options.unknownWorkflowHint } : {}),
  }
  const router = new Router<RouteSpec>()
  const spec = (access: Access, handler: Handler): RouteSpec => ({ handler, access, traced: false })
  const workflowTarget = (params: Params): ScopeTarget => ({
    workflow: params.name ?? '',
    pool: deps.registry.workflows.get(params.name ?? '')?.pool,
  })
  router
    .add('POST', '/v1/workflows/{name}/run', {
      handler: runWorkflow(deps),
      access: 'run',
      target: workflowTarget,
      traced: true,
      spanAttributes: (params) => runSpanAttributes(deps.registry, params.name ?? ''),
    })
    .add('GET', '/v1/runs', spec('read', listRuns(deps)))
    // Readers, and the caller that started the run: the handler checks which (mayReadRun).
    .add('GET', '/v1/runs/{runId}', spec('caller', getRun(deps)))
    // A cancel needs the `run` role; the handler checks it covers the run's workflow.
    .add('POST', '/v1/runs/{runId}/cancel', spec('run', cancelRun(deps)))
    .add('GET', '/v1/pools', spec('read', listPools(deps)))
    // Callers that may run a workflow may see its schema too: the handlers filter.
    .add('GET', '/v1/workflows', spec('caller', listWorkflows(deps)))
    .add('GET', '/v1/workflows/{name}', spec('caller', getWorkflow(deps)))
    .add('GET', '/healthz', spec('open', healthz()))
    .add('GET', '/readyz', spec('open', readyz(deps)))
    .add('GET', '/metrics', spec('metrics', metrics(deps)))
  const observe = await mountObserve(options.traceDir, () => deps.registry)
  const store = observe.store
  // A caller's traceparent joins a stored trace only if the caller started a run in it (or nobody did).
  const joinable =
    store === null
      ? null
      : async (traceId: string, caller: Caller) => {
          if (caller.roles.has('admin')) return true
          const callers = await store.traceCallers(traceId)
          return callers === null || callers.has(caller.id)
        }
  // The console's page and assets are open (they hold no data); the data routes carry their role.
  for (const route of observe.routes) router.add(route.method, route.pattern, spec(route.access, route.handler))

  const authenticate = createAuthenticator({ tokens: options.tokens, ingestSecret: options.ingestSecret ?? null })
  const corsOrigins = new Set(options.corsOrigins ?? [])
  const pools = [...options.registry.pools.values()]
  const reserved = FD_RESERVE_BASE + FD_RESERVE_EACH * (pools.length + pools.reduce((sum, pool) => sum + pool.processes, 0))
  const limits = resolveConnectionLimits(options.connections ?? {}, fileDescriptorLimit(), reserved)
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    (req, res) => {
      // dispatch answers every error itself; this catch is the last line, so that a fault in
      // the error path (or a bug of ours) ends one connection, never the process.
      dispatch(router, authenticate, deps, corsOrigins, allowHost, joinable, req, res, guard).catch((error: unknown) => {
        deps.log.error('request failed in the error path', { method: req.method, url: req.url, error: String(error) })
        res.destroy()
      })
    },
  )
  // Requests arrive only once listening, after this line: the handler above sees it set.
  const guard = guardConnections(server, {
    maxConnections: limits.maxConnections,
    onShed: (reason) => deps.metrics.connectionsShed.inc({ reason }),
  })
  deps.metrics.connections(guard.open)
  // Connections answered 429 are read in turns (shed-reads.ts): a caller over its share,
  // sending again on hundreds of them at once, is read a few at a time.
  const shed = shedReads(shedReadsOptions(limits))
  // So are new connections past a few per turn (a flood's first burst), while the cap is far:
  // near it, the guard's rule (a connection that has sent nothing gives way) comes first.
  server.on('connection', (socket: Socket) => shed.arrive(socket, guard.roomy()))
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const done = shed.begin(req.socket)
    res.once('close', () => done(res.writableFinished ? res.statusCode : 0, flowOf(res)))
  })
  deps.metrics.held(shed.held)
  deps.metrics.admissionWaiting(() => deps.admission.waiting())
  // Past listen, a server error (accept failing: EMFILE, ENFILE) would be an uncaught
  // exception: say it once in a while instead, and go on serving the connections it has.
  const acceptErrors = { count: 0, reported: 0 }
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (!server.listening) return
    acceptErrors.count++
    if (Date.now() - acceptErrors.reported < 10_000) return
    acceptErrors.reported = Date.now()
    deps.log.error('accepting a connection failed', { code: error.code, error: error.message, since: acceptErrors.count })
    acceptErrors.count = 0
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await observe.close()
    const code = (error as { code?: string }).code
    const where = `${resolved.host}:${resolved.port}`
    if (code === 'EADDRINUSE')
      throw new Error(`cannot listen on ${where}: the port is in use (pick another with --port, or 0 for any free port)`, { cause: error })
    if (code === 'EACCES')
      throw new Error(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, { cause: error })
    throw error
  }
  const { port } = server.address() as AddressInfo
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}`,
    port,
    traceStore: observe.store,
    reload(registry) {
      deps.registry = registry
      observe.reload(registry)
    },
    close() {
      closing ??= (async () => {
        // A paused connection may hold a request its caller sent: resumed and given a moment
        // to be read, it is being served, not idle, when close() closes the idle ones.
        const held = shed.held() > 0
        shed.close()
        if (held) await new Promise((resolve) => setTimeout(resolve, CLOSE_READ_MS))
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        // Callers still waiting for a run get a short grace to be answered; then their connections end.
        const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS)
        await closed
        clearTimeout(timer)
        await observe.close()
      })()
      return closing
    },
  }
}

async function dispatch(
  router: Router<RouteSpec>,
  authenticate: Authenticate,
  deps: GatewayDeps,
  corsOrigins: ReadonlySet<string>,
  allowHost: HostCheck,
  joinable: ((traceId: string, caller: Caller) => Promise<boolean>) | null,
  req: IncomingMessage,
  res: ServerResponse,
  guard?: { release(socket: IncomingMessage['socket']): void },
): Promise<void> {
  const started = now()
  const method = req.method ?? 'GET'
  let pattern = 'unmatched'
  let exchange: Exchange | undefined
  try {
    // Before anything else: a page under a rebound DNS name learns nothing, not even which routes exist.
    const host = req.headers.host
    if (allowHost !== null && !allowHost(host, req.socket)) throw new SwitchyardError('MISDIRECTED_REQUEST', misdirectedDetail(host ?? ''))
    const corsAllowed = applyCors(req, res, corsOrigins)
    const pathname = new URL(req.url ?? '/', 'http://gateway').pathname
    let match
    try {
      match = router.match(method, pathname)
    } catch {
      throw new SwitchyardError('BAD_REQUEST', `malformed percent-encoding in the path '${pathname}'`)
    }
    if (match.kind === 'not-found') throw new SwitchyardError('NOT_FOUND', `no route for ${method} ${pathname}`)
    if (match.kind === 'method-not-allowed' && method === 'OPTIONS') {
      answerPreflight(res, corsAllowed, match.allow)
      return
    }
    if (match.kind === 'method-not-allowed') {
      res.setHeader('allow', match.allow.join(', '))
      throw new SwitchyardError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}; use ${match.allow.join(' or ')}`)
    }
    const { route, params } = match
    pattern = route.pattern
    // Auth and scope come first: a refused request leaves no span and stores nothing.
    const caller = authorize(authenticate, route.handler, params, req, res)
    const trace = route.handler.traced
      ? new RequestTrace(req.headers, `${method} ${route.pattern}`, started, {
          'http.request.method': method,
          'http.route': route.pattern,
          'url.path': pathname,
          'url.scheme': 'http',
          // Whose run this is: the trace store merges that caller's own spans into the run's trace, no one else's.
          [ATTR.caller]: caller.id,
          ...(req.headers['user-agent'] ? { 'user_agent.original': req.headers['user-agent'] } : {}),
          ...route.handler.spanAttributes?.(params),
        })
      : undefined
    exchange = { req, res, params, trace, known: {}, caller }
    exchanges.set(res, exchange)
    // A trace id is no secret: naming another caller's trace in traceparent would put this
    // run, its pool's spans and this caller's own into that trace (trace-members.ts). It gets one of its own.
    const joined = trace?.callerTraceId
    if (joined !== undefined && joinable !== null && !(await joinable(joined, caller))) trace?.detach()
    // Asked by a caller who may not: the run goes on, sampled as usual (server-timing says so).
    if (trace !== undefined && wantsForcedTrace(req.headers) && mayForceTrace(caller)) trace.force()
    await route.handler.handler(exchange)
  } catch (error) {
    // Refused before the body arrived whole: read the rest first, so that the client, still sending, receives the answer.
    // Nothing is being served meanwhile: the connection may give way to a newcomer at the cap.
    if (!res.headersSent && !req.complete) guard?.release(req.socket)
    const drained = res.headersSent ? true : await drainRequest(req)
    if (!drained) res.setHeader('connection', 'close')
    // A batch of refusals (one reply of the admission script) is answered a few per turn.
    if (error instanceof SwitchyardError && httpStatusOf(error.code) === 429) await deps.refusalTurn(flowOf(res), () => res.destroyed)
    respondWithError(deps, exchange, res, error)
  } finally {
    exchange?.trace?.end(res.statusCode, problemCodeOf(res))
    deps.metrics.requests.inc({ method, route: pattern, status: res.statusCode })
    deps.metrics.duration.observe({ route: pattern }, (now() - started) / 1000)
  }
}

/** The request's caller, once its token is valid and its scope covers the route (401/403 otherwise). */
function authorize(authenticate: Authenticate, route: RouteSpec, params: Params, req: IncomingMessage, res: ServerResponse): Caller {
  if (route.access === 'open') return NOBODY
  let caller: Caller
  try {
    caller = authenticate(req.headers.authorization)
  } catch (error) {
    res.setHeader('www-authenticate', req.headers.authorization ? `${WWW_AUTHENTICATE}, error="invalid_token"` : WWW_AUTHENTICATE)
    throw error
  }
  if (route.access === 'caller') return caller
  if (route.target) requireScope(caller, route.access, route.target(params))
  else if (!hasRole(caller, route.access)) requireScope(caller, route.access)
  return caller
}

function respondWithError(deps: GatewayDeps, exchange: Exchange | undefined, res: ServerResponse, error: unknown): void {
  const log = deps.log
  // An unexpected fault (not a SwitchyardError) is ours: 500, its message kept out of the response.
  const err = error instanceof SwitchyardError ? error : new SwitchyardError('INTERNAL', String(error), { cause: error })
  // Every 500 is logged with what caused it, also when a handler already wrapped the fault as INTERNAL.
  if (err.code === 'INTERNAL') {
    const cause: unknown = err === error ? (err.cause ?? err) : error
    log.error('request failed', {
      method: exchange?.req.method,
      url: exchange?.req.url,
      error: (cause as Error | null)?.stack ?? String(cause),
    })
  }
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const known = exchange?.known ?? {}
  const trace = exchange?.trace?.skipped ? undefined : exchange?.trace
  const headers: Record<string, string> = {}
  if (trace !== undefined) {
    known.traceId ??= trace.traceId
    headers[TRACE_ID_HEADER] = known.traceId
    headers['server-timing'] = trace.serverTiming()
  }
  // A run id may come from the URL: sendProblem drops it from the headers when it cannot be one.
  if (known.runId) headers[RUN_ID_HEADER] = known.runId
  const status = httpStatusOf(err.code)
  if (status === 429 || status === 503) headers['retry-after'] = String(retryAfterSeconds(error))
  const problem = toProblem(err, known)
  const hint = err.code === 'UNKNOWN_WORKFLOW' && known.workflow ? deps.unknownWorkflowHint?.(known.workflow) : undefined
  sendProblem(res, hint ? { ...problem, detail: `${problem.detail} ${hint}` } : problem, headers)
}

const stderrLog: Pick<Logger, 'error'> = {
  error(msg, fields) {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg, service: 'switchyard-gateway', ...fields })}\n`,
    )
  },
}

/** From the error's retryAfterMs (PoolSaturatedError of either broker, a shed at a full flow queue), at least one second. */
function retryAfterSeconds(error: unknown): number {
  const ms = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs
  return typeof ms === 'number' && ms > 0 ? Math.ceil(ms / 1000) : 1
}
