// createClient: one typed call, one flat result, one trace. Needs only `fetch` and
// the OpenTelemetry API, so it runs in Node ≥20, browsers and edge runtimes.
// It follows no redirect: a gateway never sends one, and following a 307/308 would send
// the run's input, the caller's trace headers (and, same-origin, its token) wherever the
// answer points. A 3xx is an error naming where it pointed.
import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api'
import { ATTR } from '../control/contract/index.js'
import { RunFailedError, SwitchyardClientError, errorFromResponse } from './errors.js'
import { parseRetryAfter, retryDelay, sleep } from './retry.js'
import { traceHeaders } from './trace-headers.js'
import type {
  AnyWorkflows,
  CallOptions,
  ClientOptions,
  RunFilter,
  RunInfo,
  RunOptions,
  SwitchyardClient,
  WorkflowInfo,
  WorkflowMap,
} from './types.js'

interface Request {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly body?: unknown
  readonly headers?: Record<string, string>
  readonly options: CallOptions
  /** The span the request belongs to: its context goes out in the trace headers. */
  readonly span?: Span
}

/**
 * A client for one gateway, typed by the `Workflows` interface `switchyard codegen` writes.
 *
 * @example
 * import { createClient } from 'switchyard-ai/client'
 * import type { Workflows } from './switchyard.gen.js'
 * const client = createClient<Workflows>({ url: 'http://127.0.0.1:7070', token: process.env.SWITCHYARD_TOKEN })
 * const email = await client.run('email.compose', { lead: { name: 'Ada', email: 'ada@example.com' } })
 */
export function createClient<W extends WorkflowMap<W> = AnyWorkflows>(options: ClientOptions): SwitchyardClient<W> {
  const base = options.url.replace(/\/+$/, '')
  const server = serverAttributes(base)
  if (options.fetch === undefined && typeof globalThis.fetch !== 'function') {
    throw new TypeError('switchyard-ai/client needs fetch: use Node ≥ 18, a browser or an edge runtime, or pass options.fetch')
  }
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis)
  const retries = options.retries ?? 3
  const retryDelayMs = options.retryDelayMs ?? 250
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000
  const tracer = options.tracer ?? trace.getTracer('switchyard-client')

  async function send(request: Request): Promise<{ response: Response; body: unknown }> {
    const { signal, cleanup, timedOut } = deadlineSignal(request.options)
    try {
      for (let attempt = 0; ; attempt++) {
        const response = await fetchOnce(request, signal, attempt, timedOut)
        const body = await readBody(response, signal, timedOut, request)
        if (response.ok) return { response, body }
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
        const error = errorFromResponse(response, body, retryAfter)
        // A 503 that names a run came after the run was accepted: sending again would start a second one.
        const retryable = (response.status === 429 || response.status === 503) && error.runId === undefined
        // A Retry-After longer than the caller would wait ends the retries (the error carries it).
        if (!retryable || attempt >= retries || (retryAfter ?? 0) * 1000 > maxRetryDelayMs) throw error
        // Retry-After plus up to half of it again, at random: callers shed together do not come back together.
        const delay = retryDelay(attempt, response.headers.get('retry-after'), { baseMs: retryDelayMs, maxMs: maxRetryDelayMs })
        request.span?.addEvent('retry', {
          'http.response.status_code': response.status,
          [ATTR.errorCode]: error.code,
          'retry.delay_ms': delay,
        })
        await sleep(delay, signal).catch((reason: unknown) => {
          throw timedOut() ? timeoutError(request) : reason
        })
      }
    } finally {
      cleanup()
    }
  }

  async function fetchOnce(request: Request, signal: AbortSignal | undefined, attempt: number, timedOut: () => boolean) {
    const parent = request.options.context ?? context.active()
    const ctx = request.span ? trace.setSpan(parent, request.span) : parent
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...traceHeaders(ctx),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...request.headers,
    }
    if (attempt > 0) request.span?.setAttribute('http.request.resend_count', attempt)
    let response: Response
    try {
      response = await fetchImpl(`${base}${request.path}`, {
        method: request.method,
        headers,
        // 'manual': the redirect comes back as an answer (opaque in a browser), never followed.
        redirect: 'manual',
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        ...(signal ? { signal } : {}),
      })
    } catch (error) {
      if (timedOut()) throw timeoutError(request)
      if (signal?.aborted) throw signal.reason
      throw new SwitchyardClientError(`NETWORK_ERROR: cannot reach the gateway at ${base} (${networkReason(error)})`, {
        code: 'NETWORK_ERROR',
        status: 0,
        cause: error,
      })
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => undefined)
      throw redirectError(request, response)
    }
    return response
  }

  function redirectError(request: Request, response: Response): SwitchyardClientError {
    // A browser hides where an opaque redirect points; Node and others show it.
    const location = response.headers.get('location')
    const where = location === null ? 'elsewhere' : `to ${absolute(location, `${base}${request.path}`)}`
    const code = response.status ? `HTTP_${response.status}` : 'HTTP_REDIRECT'
    return new SwitchyardClientError(
      `${code}: the gateway at ${base} redirected ${request.method} ${request.path} ${where}; the client follows no redirect ` +
        '(it would take the input, trace headers and token along): set url to where the gateway is',
      { code, status: response.status },
    )
  }

  async function readBody(
    response: Response,
    signal: AbortSignal | undefined,
    timedOut: () => boolean,
    request: Request,
  ): Promise<unknown> {
    let text: string
    try {
      text = await response.text()
    } catch (error) {
      if (timedOut()) throw timeoutError(request)
      if (signal?.aborted) throw signal.reason
      throw error
    }
    if (text === '') return undefined
    const type = response.headers.get('content-type') ?? ''
    if (!/json/i.test(type)) return text
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text
    }
  }

  function timeoutError(request: Request): SwitchyardClientError {
    return new SwitchyardClientError(
      `CLIENT_TIMEOUT: no answer to ${request.method} ${request.path} within ${request.options.timeout} ms (a run goes on; GET /v1/runs/{id} shows it)`,
      { code: 'CLIENT_TIMEOUT', status: 0 },
    )
  }

  async function runWorkflow(name: string, input: unknown, runOptions: RunOptions = {}): Promise<unknown> {
    const path = `/v1/workflows/${encodeURIComponent(name)}/run`
    const span = tracer.startSpan(
      `client run ${name}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { [ATTR.workflow]: name, 'http.request.method': 'POST', 'url.full': `${base}${path}`, ...server },
      },
      runOptions.context ?? context.active(),
    )
    try {
      const { response, body } = await send({
        method: 'POST',
        path,
        body: input,
        options: runOptions,
        span,
        headers: {
          ...(runOptions.idempotencyKey !== undefined ? { 'idempotency-key': runOptions.idempotencyKey } : {}),
          ...(runOptions.async ? { prefer: 'respond-async' } : {}),
          ...(runOptions.forceTrace ? { 'x-switchyard-force-trace': '1' } : {}),
        },
      })
      span.setAttribute('http.response.status_code', response.status)
      const runId = response.headers.get('x-switchyard-run-id')
      if (runId) span.setAttribute(ATTR.runId, runId)
      return body === undefined ? null : body
    } catch (error) {
      if (error instanceof SwitchyardClientError) {
        if (error.status) span.setAttribute('http.response.status_code', error.status)
        if (error.runId) span.setAttribute(ATTR.runId, error.runId)
        span.setAttribute(ATTR.errorCode, error.code)
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
      throw error
    } finally {
      span.end()
    }
  }

  return {
    run: runWorkflow as SwitchyardClient<W>['run'],
    async get(runId, callOptions = {}) {
      const { body } = await send({ method: 'GET', path: `/v1/runs/${encodeURIComponent(runId)}`, options: callOptions })
      return body as RunInfo
    },
    async cancel(runId, callOptions = {}) {
      const { body } = await send({ method: 'POST', path: `/v1/runs/${encodeURIComponent(runId)}/cancel`, options: callOptions })
      return body as RunInfo
    },
    async wait(runId, waitOptions = {}) {
      const { signal, cleanup, timedOut } = deadlineSignal(waitOptions)
      const path = `/v1/runs/${encodeURIComponent(runId)}`
      try {
        for (let poll = 0; ; poll++) {
          const { body } = await send({ method: 'GET', path, options: { ...(signal ? { signal } : {}) } })
          const info = body as RunInfo
          if (info.status === 'succeeded') return info.output as never
          if (info.status === 'failed' || info.status === 'cancelled') throw runFailure(info)
          // Start brisk (most runs are short), then back off to one poll per pollMs (default 2 s).
          const delay = Math.min(waitOptions.pollMs ?? 2000, 100 * 2 ** poll)
          await sleep(delay, signal).catch((reason: unknown) => {
            throw timedOut() ? timeoutError({ method: 'GET', path, options: waitOptions }) : reason
          })
        }
      } catch (error) {
        throw timedOut() && !(error instanceof RunFailedError) ? timeoutError({ method: 'GET', path, options: waitOptions }) : error
      } finally {
        cleanup()
      }
    },
    async runs(filter: RunFilter = {}, callOptions = {}) {
      const query = new URLSearchParams()
      for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value))
      const search = query.toString()
      const { body } = await send({ method: 'GET', path: search ? `/v1/runs?${search}` : '/v1/runs', options: callOptions })
      return [...(body as { runs: RunInfo[] }).runs]
    },
    async workflows(callOptions = {}) {
      const { body } = await send({ method: 'GET', path: '/v1/workflows', options: callOptions })
      return (body as { workflows: WorkflowInfo[] }).workflows
    },
  }
}

/** The most specific reason a fetch failed: undici hides the socket error (ECONNREFUSED, …) in `cause`. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } } | null)?.cause
  const code = cause?.code ?? cause?.errors?.[0]?.code
  if (typeof code === 'string') return code
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message
  return error instanceof Error ? error.message : String(error)
}

/** The error of a run that finished without output, as `run()` would have thrown it. */
function runFailure(info: RunInfo): RunFailedError {
  const code = info.error?.code ?? (info.status === 'cancelled' ? 'CANCELLED' : 'GRAPH_FAILED')
  return new RunFailedError(`${code}: ${info.error?.message ?? `run ${info.status}`}`, {
    code,
    status: code === 'DEADLINE_EXCEEDED' ? 504 : 502,
    runId: info.runId,
    traceId: info.traceId ?? undefined,
    workflow: info.workflow,
    pool: info.pool,
  })
}

/** `server.address` and `server.port` of the gateway URL (HTTP client semconv); none when it does not parse. */
function serverAttributes(base: string): Record<string, string | number> {
  try {
    const url = new URL(base)
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
    return { 'server.address': url.hostname, 'server.port': port }
  } catch {
    return {}
  }
}

/** The caller's signal combined with the timeout (AbortSignal.any is too new for some runtimes). */
function deadlineSignal(options: CallOptions): { signal: AbortSignal | undefined; cleanup(): void; timedOut(): boolean } {
  if (options.timeout === undefined) return { signal: options.signal, cleanup: () => {}, timedOut: () => false }
  const controller = new AbortController()
  let expired = false
  const timer = setTimeout(() => {
    expired = true
    controller.abort(new Error('timeout'))
  }, options.timeout)
  const onAbort = () => controller.abort(options.signal?.reason)
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: controller.signal,
    cleanup: () => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    },
    timedOut: () => expired,
  }
}

/** `location` resolved against the request's URL, or as sent when it is no URL. */
function absolute(location: string, from: string): string {
  try {
    return new URL(location, from).href
  } catch {
    return JSON.stringify(location)
  }
}
