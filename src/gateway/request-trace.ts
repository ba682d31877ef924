// The gateway's spans for one request (DESIGN §3): a SERVER span, `route <workflow>`
// and `enqueue <pool>` (PRODUCER), whose context travels in the envelope.
//
// The SERVER span starts only once route() has named the pool, because the sampler
// (src/observe/sdk/sampler.ts) decides from the pool's rate given as a start attribute:
// that is the one sampling decision of the run. The span is back-dated to the
// request's arrival, and the route span to when routing ran, so the tree still
// shows true timings. Only the OpenTelemetry API is used: with no SDK registered
// the spans are no-ops, yet the caller's context is still passed downstream.
import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api'
import { CompositePropagator, W3CBaggagePropagator } from '@opentelemetry/core'
import { ATTR, TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, formatTraceparent } from '../control/index.js'
import type { TraceCarrier } from '../data/index.js'
import { W3CTraceContext, hasRandomTraceId } from '../observe/propagation/index.js'

// The W3C propagators themselves, not the global one: the gateway must read and
// write traceparent/baggage even in a host that registered no propagator. Trace
// context is Switchyard's strict Level 2 propagator (a malformed tracestate is
// dropped whole, the random flag is kept), not OpenTelemetry's lenient one.
const propagator = new CompositePropagator({
  propagators: [new W3CTraceContext(), new W3CBaggagePropagator()],
})

const tracer = trace.getTracer('switchyard-gateway')

// Every gateway span gets explicit times from this one clock: the wall clock at load,
// advanced monotonically. Mixing it with the SDK's own per-trace clock could order a
// back-dated child after a later sibling by the few milliseconds the two drift apart.
const anchor = Date.now() - performance.now()

/** Epoch milliseconds with sub-millisecond precision (span times). */
export function now(): number {
  return anchor + performance.now()
}

/** The caller's trace context (traceparent, tracestate, baggage) from request headers. */
export function extractContext(headers: IncomingHttpHeaders): Context {
  return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter)
}

export interface SpanTiming {
  readonly start: number
  readonly end: number
}

/** The spans of one traced request. */
export class RequestTrace {
  private span: Span | undefined
  private spanContext: Context | undefined
  private parent: Context
  private forced = false
  private shed = false

  constructor(
    headers: IncomingHttpHeaders,
    private readonly name: string,
    private readonly startTime: number,
    private readonly baseAttributes: Attributes,
  ) {
    this.parent = extractContext(headers)
  }

  /**
   * Keep this run's trace whatever its pool's sampleRate and the caller's sampled flag
   * (an authorised caller debugging a run). Only before the SERVER span starts: that is
   * where the one sampling decision is made.
   */
  force(): void {
    if (this.span === undefined) this.forced = true
  }

  /** The trace id the caller's `traceparent` names, if it names a valid one. */
  get callerTraceId(): string | undefined {
    const parent = trace.getSpanContext(this.parent)
    return parent !== undefined && isSpanContextValid(parent) ? parent.traceId : undefined
  }

  /**
   * Start a trace of its own rather than join the caller's (its baggage is kept): for a
   * caller naming a trace whose runs someone else started. Only before the SERVER span starts.
   */
  detach(): void {
    if (this.span === undefined) this.parent = trace.deleteSpan(this.parent)
  }

  /** True once the request was shed (skip()): it leaves no span. */
  get skipped(): boolean {
    return this.shed
  }

  /**
   * This request leaves no span: refused before any work (a run shed because its pool is
   * known full), its only record the request counters. Only before the SERVER span starts.
   */
  skip(): void {
    if (this.span === undefined) this.shed = true
  }

  /** Start the SERVER span (once); later calls return the same span and ignore `attributes`. */
  begin(attributes: Attributes = {}): Span {
    if (this.span !== undefined) return this.span
    const forced = this.forced ? { [ATTR.traceForced]: true } : {}
    let span = tracer.startSpan(
      this.name,
      { kind: SpanKind.SERVER, startTime: this.startTime, attributes: { ...this.baseAttributes, ...attributes, ...forced } },
      this.parent,
    )
    if (!isSpanContextValid(span.spanContext())) {
      // No SDK and no caller trace: mint ids, so the run still has a trace id to report and carry.
      span = trace.wrapSpanContext({ traceId: hex(16), spanId: hex(8), traceFlags: TraceFlags.NONE })
    }
    this.span = span
    this.spanContext = trace.setSpan(this.parent, span)
    return span
  }

  /** The trace id of this request (starting the SERVER span if it has not started). */
  get traceId(): string {
    return this.begin().spanContext().traceId
  }

  /** Whether this run's spans are kept (the one sampling decision). */
  get sampled(): boolean {
    return (this.begin().spanContext().traceFlags & TRACE_FLAG_SAMPLED) !== 0
  }

  /**
   * The `server-timing` metric of W3C Trace Context Level 2 (`trace;desc=<traceparent>`):
   * it tells the caller the trace id, the gateway's span and whether the run was kept.
   */
  serverTiming(): string {
    const span = this.begin()
    const { traceId, spanId, traceFlags } = span.spanContext()
    const random = hasRandomTraceId(trace.setSpan(this.parent, span))
    return `trace;desc=${formatTraceparent(traceId, spanId, (traceFlags & TRACE_FLAG_SAMPLED) | (random ? TRACE_FLAG_RANDOM : 0))}`
  }

  /** A finished INTERNAL child span, back-dated (`route <workflow>`). */
  recordChild(name: string, timing: SpanTiming, attributes: Attributes, error?: { code: string; message: string }): void {
    this.begin()
    const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: timing.start, attributes }, this.spanContext)
    if (error) fail(span, error)
    span.end(timing.end)
  }

  /** Start the PRODUCER span and the carrier for the envelope (its context, injected). */
  startProducer(name: string, attributes: Attributes): { span: Span; carrier: TraceCarrier } {
    this.begin()
    const span = tracer.startSpan(name, { kind: SpanKind.PRODUCER, startTime: now(), attributes }, this.spanContext)
    const headers: Record<string, string> = {}
    propagator.inject(trace.setSpan(this.spanContext ?? this.parent, span), headers, defaultTextMapSetter)
    const carrier = {
      traceparent: headers.traceparent ?? '',
      tracestate: headers.tracestate ?? '',
      baggage: headers.baggage ?? '',
    }
    return { span, carrier }
  }

  /** End the SERVER span with the response status (5xx marks it as an error, per HTTP semconv). */
  end(status: number, errorCode?: string): void {
    if (this.shed) return
    const span = this.begin()
    span.setAttribute('http.response.status_code', status)
    if (errorCode !== undefined) span.setAttribute(ATTR.errorCode, errorCode)
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode })
    span.end(now())
  }
}

/** Mark a span failed with a Switchyard error code. */
export function fail(span: Span, error: { code: string; message: string }): void {
  span.setAttribute(ATTR.errorCode, error.code)
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.code}: ${error.message}` })
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}
