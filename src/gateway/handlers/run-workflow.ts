// POST /v1/workflows/{name}/run — the request path of DESIGN §1:
// body → route() → signed envelope → broker → wait → the flat output.
import { randomUUID } from 'node:crypto'
import { ATTR, SwitchyardError, isErrorCode, route } from '../../control/index.js'
import type { RoutePlan } from '../../control/index.js'
import type { RunRecord } from '../../data/broker/index.js'
import { createEnvelope } from '../../data/index.js'
import { parseJsonBody, readJsonBytes } from '../body.js'
import type { Slot } from '../fair-admission.js'
import { brokerError } from '../broker-error.js'
import { RUN_ID_HEADER, TRACE_ID_HEADER, sendJson, type Exchange, type GatewayDeps, type Handler } from '../exchange.js'
import { runFailureStatus, sendProblem, toProblem } from '../problem.js'
import { fail, now } from '../request-trace.js'
import { runOwner } from '../scopes.js'
import { runSpanAttributes } from '../span-attributes.js'
import { toRunView } from './run-view.js'

/**
 * Grace after the deadline before answering 504: the worker aborts the run at the
 * deadline and reports DEADLINE_EXCEEDED itself, which says more than our timeout.
 */
const DEADLINE_GRACE_MS = 500

/** Nginx's "client closed request": the caller left before the run finished. */
const CLIENT_CLOSED = 499

export function runWorkflow(deps: GatewayDeps): Handler {
  return async (exchange) => {
    const { req, res, params, known } = exchange
    const trace = exchange.trace
    if (trace === undefined) throw new Error('runWorkflow is a traced route')
    const name = params.name ?? ''
    known.workflow = name
    const idempotencyKey = readIdempotencyKey(req.headers['idempotency-key'])
    const respondAsync = prefersAsync(req.headers.prefer)
    // A flood's refusals cost almost nothing: without a key there is no earlier run to find,
    // so a pool the broker just found full is refused here, before the body, route(), the
    // envelope's signature, any span or a broker round trip. Keyed submits always ask (a dedupe).
    const poolOf = idempotencyKey === null ? deps.registry.workflows.get(name)?.pool : undefined
    const shedIfFull = () => {
      const full = poolOf === undefined ? null : (deps.broker.knownFull?.(poolOf, { async: respondAsync }) ?? null)
      if (full === null || poolOf === undefined) return
      trace.skip()
      known.pool = poolOf
      deps.metrics.runs.inc({ workflow: name, pool: poolOf, outcome: full.code.toLowerCase() })
      throw full
    }
    shedIfFull()
    const flow = flowOf(deps, exchange, name)
    refuseIfQueueFull(deps, exchange, flow)
    // The body's bytes arrive before the request asks for a place: a caller that holds its
    // body back waits on its own connection (which gives way near the connection cap), never
    // in a place others need.
    const body = await readJsonBytes(req, deps.bodyLimitBytes)
    // Fair admission (fair-admission.ts): the CPU-bound part below — parsing, route(), the
    // envelope's signature, spans, the broker's admission — runs for a bounded number of
    // this caller's requests to this pool at once, the rest waiting their turn. Waiting
    // for the run's result holds no place: the place is released once the broker answered.
    const slot = await admit(deps, exchange, flow)
    let plan: RoutePlan
    let submitted
    let enqueue
    try {
      // While it waited, the requests ahead of it may have found the pool full: asked again, as on arrival.
      shedIfFull()
      const input = parseJsonBody(body)
      // The deadline counts from here (route()), not from the request's arrival: time spent waiting for a place is not the run's.
      plan = routeTraced(deps, exchange, name, input)
      known.pool = plan.pool
      const runId = randomUUID()
      const producer = trace.startProducer(`enqueue ${plan.pool}`, {
        'messaging.system': 'switchyard',
        'messaging.operation.type': 'send',
        'messaging.destination.name': plan.queue,
        [ATTR.queue]: plan.queue,
        [ATTR.pool]: plan.pool,
        [ATTR.project]: plan.tracing.project,
        [ATTR.workflow]: plan.workflow,
      })
      enqueue = producer.span
      try {
        // The caller owns the run: its key is looked up among its own runs only, so a 409 or a
        // dedupe can only ever name a run this caller started.
        submitted = await deps.broker.submit(createEnvelope(plan, { runId, trace: producer.carrier, idempotencyKey }, deps.signingKey), {
          async: respondAsync,
          owner: runOwner(exchange.caller),
        })
      } catch (error) {
        const err = brokerError(deps.broker, error)
        fail(enqueue, err)
        enqueue.end(now())
        deps.metrics.runs.inc({ workflow: plan.workflow, pool: plan.pool, outcome: err.code.toLowerCase() })
        throw err
      }
    } finally {
      slot.release()
    }
    enqueue.setAttribute(ATTR.runId, submitted.runId)
    enqueue.setAttribute('messaging.message.id', submitted.runId)
    if (submitted.deduped) enqueue.setAttribute(ATTR.deduped, true)
    enqueue.end(now())
    known.runId = submitted.runId

    if (respondAsync) {
      // The run is queued: a broker that cannot be read back now must not turn that into a 503 (a retry would run it twice).
      const record = await deps.broker.get(submitted.runId).catch(() => null)
      const traceId = record?.traceId ?? trace.traceId
      known.traceId = traceId
      deps.metrics.runs.inc({ workflow: plan.workflow, pool: plan.pool, outcome: 'accepted' })
      sendJson(res, 202, record ? toRunView(record) : { runId: submitted.runId, status: 'queued', traceId }, {
        location: `/v1/runs/${encodeURIComponent(submitted.runId)}`,
        'preference-applied': 'respond-async',
        [RUN_ID_HEADER]: submitted.runId,
        [TRACE_ID_HEADER]: traceId,
        'server-timing': trace.serverTiming(),
      })
      return
    }

    const disconnected = new AbortController()
    const onClose = () => {
      if (!res.writableFinished) disconnected.abort()
    }
    res.on('close', onClose)
    let record: RunRecord | undefined
    try {
      record = await deps.broker.wait(submitted.runId, {
        until: Date.parse(plan.deadline) + DEADLINE_GRACE_MS,
        signal: disconnected.signal,
      })
    } catch (error) {
      if (!disconnected.signal.aborted) throw brokerError(deps.broker, error)
    } finally {
      res.off('close', onClose)
    }
    if (disconnected.signal.aborted || record === undefined) {
      // The caller left; the run goes on, and GET /v1/runs/{id} will show it.
      res.statusCode = CLIENT_CLOSED
      return
    }
    const traceId = record.traceId ?? trace.traceId
    known.traceId = traceId
    respondWithRecord(exchange, deps, record, traceId)
  }
}

/** A request's flow: its caller and the workflow's pool, both known before the body. */
interface Flow {
  readonly key: string
  readonly pool: string | undefined
}

function flowOf(deps: GatewayDeps, exchange: Exchange, name: string): Flow {
  // A name the registry does not know shares one flow per caller: made-up names cannot open flows without end.
  const pool = deps.registry.workflows.get(name)?.pool
  return { key: `${exchange.caller.id}\n${pool ?? ''}`, pool }
}

/** 429 when the flow's queue is full: nothing read, nothing sent to the broker, so no key claimed. */
function refuseIfQueueFull(deps: GatewayDeps, exchange: Exchange, flow: Flow): void {
  const waiting = deps.admission.queueFull(flow.key)
  if (waiting !== undefined) throw queueFull(deps, exchange, flow, waiting)
}

function queueFull(deps: GatewayDeps, exchange: Exchange, flow: Flow, waiting: number): SwitchyardError {
  exchange.trace?.skip()
  if (flow.pool !== undefined) exchange.known.pool = flow.pool
  deps.metrics.admissionShed.inc({ pool: flow.pool ?? '' })
  const error = new SwitchyardError(
    'TOO_MANY_REQUESTS',
    `this caller already has ${waiting} requests to pool '${flow.pool ?? exchange.known.workflow}' waiting at the gateway; retry later`,
  )
  // When the broker has just found the pool itself full, the pool's own Retry-After: a
  // keyed flood (keyed runs pass the full-pool hint, to find a run of theirs) was told
  // `Retry-After: 1` and came back every second, each time refused again (RELIABILITY.md).
  const full = flow.pool === undefined ? null : (deps.broker.knownFull?.(flow.pool, { async: true }) ?? null)
  const retryAfterMs = (full as { retryAfterMs?: unknown } | null)?.retryAfterMs
  return typeof retryAfterMs === 'number' ? Object.assign(error, { retryAfterMs }) : error
}

/**
 * A place in the admission part for this request's flow, waiting its turn when the flow
 * or the gateway is at its bound; 429 when the flow's queue filled up while its body came
 * (nothing sent to the broker, so no key claimed).
 */
async function admit(deps: GatewayDeps, exchange: Exchange, flow: Flow): Promise<Slot> {
  const admission = deps.admission.admit(flow.key)
  if (admission.kind === 'admitted') return admission.slot
  if (admission.kind === 'refused') throw queueFull(deps, exchange, flow, admission.waiting)
  // A caller that leaves while its request waits gives its turn to the next: nothing of it reaches the broker.
  const left = () => admission.cancel(new SwitchyardError('BAD_REQUEST', 'the caller closed the connection while its request waited'))
  exchange.res.once('close', left)
  try {
    return await admission.slot
  } finally {
    exchange.res.off('close', left)
  }
}

function routeTraced(deps: GatewayDeps, exchange: Exchange, name: string, input: unknown): RoutePlan {
  const trace = exchange.trace
  if (trace === undefined) throw new Error('routeTraced needs a traced exchange')
  // The SERVER span starts here at the latest, with the pool's rate among its start attributes.
  const attributes = runSpanAttributes(deps.registry, name)
  trace.begin(attributes)
  const { [ATTR.sampleRate]: _rate, [ATTR.registry]: _digest, ...routeAttributes } = attributes
  const start = now()
  try {
    const plan = route(deps.registry, { workflow: name, input })
    trace.recordChild(`route ${name}`, { start, end: now() }, routeAttributes)
    return plan
  } catch (error) {
    const err = SwitchyardError.from(error)
    trace.recordChild(`route ${name}`, { start, end: now() }, routeAttributes, err)
    const pool = attributes[ATTR.pool]
    if (typeof pool === 'string') exchange.known.pool = pool
    throw err
  }
}

function respondWithRecord(exchange: Exchange, deps: GatewayDeps, record: RunRecord, traceId: string): void {
  const { res, known } = exchange
  const headers = {
    [RUN_ID_HEADER]: record.runId,
    [TRACE_ID_HEADER]: traceId,
    ...(exchange.trace ? { 'server-timing': exchange.trace.serverTiming() } : {}),
  }
  if (record.status === 'succeeded') {
    deps.metrics.runs.inc({ workflow: record.workflow, pool: record.pool, outcome: 'succeeded' })
    sendJson(res, 200, record.output, headers)
    return
  }
  if (record.status === 'failed' || record.status === 'cancelled') {
    const error = record.error ?? {
      code: record.status === 'cancelled' ? 'CANCELLED' : 'GRAPH_FAILED',
      message: `run ${record.status}`,
      retryable: false,
    }
    // The code comes from the pool (its failedReason): only the closed set of ours names a
    // metric series, any other is `other`, so a pool cannot open series without bound.
    const ours = isErrorCode(error.code)
    deps.metrics.runs.inc({ workflow: record.workflow, pool: record.pool, outcome: ours ? error.code.toLowerCase() : 'other' })
    // A code from another version (or a graph's own) is still the run's failure: GRAPH_FAILED, its message kept.
    const err = new SwitchyardError(ours ? error.code : 'GRAPH_FAILED', error.message, { retryable: error.retryable })
    exchange.trace?.begin().setAttribute(ATTR.errorCode, err.code)
    sendProblem(res, toProblem(err, known, runFailureStatus(err.code)), headers)
    return
  }
  deps.metrics.runs.inc({ workflow: record.workflow, pool: record.pool, outcome: 'deadline_exceeded' })
  const err = new SwitchyardError(
    'DEADLINE_EXCEEDED',
    `run ${record.runId} did not finish before its deadline (${record.deadline}); it is ${record.status}. ` +
      `GET /v1/runs/${record.runId} shows its outcome`,
  )
  sendProblem(res, toProblem(err, known), headers)
}

function readIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null
  const key = Array.isArray(header) ? header.join(',') : header
  if (key.length < 1 || key.length > 256) {
    throw new SwitchyardError('BAD_REQUEST', `Idempotency-Key must be 1 to 256 characters, got ${key.length}`)
  }
  return key
}

/** `Prefer: respond-async` (RFC 7240), among other preferences. */
function prefersAsync(header: string | string[] | undefined): boolean {
  return [header ?? '']
    .flat()
    .join(',')
    .split(',')
    .some((pref) => pref.split(';')[0]?.trim().toLowerCase() === 'respond-async')
}
