// The W3C `traceparent`/`tracestate` propagator of every Switchyard process (gateway,
// node workers, the CLI), on the grammar of control/contract/trace-context.ts:
// a `tracestate` that breaks the grammar or has more than 32 members is discarded whole,
// and the random trace-flag (0x02) survives each hop.
//
// The SDK gives each span it starts only the sampled bit, so the random bit cannot ride
// on the span context across a process: extract() keeps the caller's bit in the context
// (beside the span context), and inject() writes it back for every span of that trace.
// A trace this process started (no caller) has ids from the SDK's random generator, or
// the gateway's randomBytes: its random bit is set, as Level 2 asks.
import {
  createContextKey,
  isSpanContextValid,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api'
import { isTracingSuppressed } from '@opentelemetry/core'
import { TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, formatTraceparent, parseTraceparent, parseTracestate } from '../../control/index.js'
import { W3CTraceState } from './w3c-trace-state.js'

const TRACEPARENT = 'traceparent'
const TRACESTATE = 'tracestate'
const RANDOM = createContextKey('switchyard.w3c.random-trace-id')

/** Whether the trace of `context` has a random trace id (the caller's flag, else true for a trace started here). */
export function hasRandomTraceId(context: Context): boolean {
  const carried = context.getValue(RANDOM)
  if (typeof carried === 'boolean') return carried
  const spanContext = trace.getSpanContext(context)
  // A remote span context extracted by another propagator: trust its flags alone.
  return spanContext === undefined || spanContext.isRemote !== true || (spanContext.traceFlags & TRACE_FLAG_RANDOM) !== 0
}

/**
 * @example
 * propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContext(), new W3CBaggagePropagator()] }))
 */
export class W3CTraceContext implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context)
    if (spanContext === undefined || !isSpanContextValid(spanContext) || isTracingSuppressed(context)) return
    const flags = (spanContext.traceFlags & TRACE_FLAG_SAMPLED) | (hasRandomTraceId(context) ? TRACE_FLAG_RANDOM : 0)
    setter.set(carrier, TRACEPARENT, formatTraceparent(spanContext.traceId, spanContext.spanId, flags))
    const state = spanContext.traceState?.serialize()
    // "Vendors MUST accept empty tracestate headers but SHOULD avoid sending them."
    if (state) setter.set(carrier, TRACESTATE, state)
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const parent = parseTraceparent(getter.get(carrier, TRACEPARENT))
    if (parent === null) return context
    // "If the vendor failed to parse traceparent, it MUST NOT attempt to parse tracestate" — hence after.
    const members = parseTracestate(getter.get(carrier, TRACESTATE))
    const spanContext: SpanContext = {
      traceId: parent.traceId,
      spanId: parent.parentId,
      traceFlags: parent.flags & (TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM),
      isRemote: true,
      ...(members !== null && members.length > 0 ? { traceState: new W3CTraceState(members) } : {}),
    }
    return trace.setSpanContext(context.setValue(RANDOM, (parent.flags & TRACE_FLAG_RANDOM) !== 0), spanContext)
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE]
  }
}
