// W3C trace headers for an outgoing request, through the OpenTelemetry API.
// With an SDK registered, its propagator writes them. Without one the API's
// propagator is a no-op, so the span context and baggage already in the caller's
// context are written by hand: a host that only uses the API still joins the trace.
import { isSpanContextValid, propagation, trace, type Context } from '@opentelemetry/api'
import { formatTraceparent } from '../control/contract/index.js'

export function traceHeaders(context: Context): Record<string, string> {
  const headers: Record<string, string> = {}
  propagation.inject(context, headers)
  const spanContext = trace.getSpanContext(context)
  if (headers.traceparent === undefined && spanContext !== undefined && isSpanContextValid(spanContext)) {
    // The caller's flags as they are (sampled, random), the undefined ones zeroed.
    headers.traceparent = formatTraceparent(spanContext.traceId, spanContext.spanId, spanContext.traceFlags)
    const state = spanContext.traceState?.serialize()
    if (state) headers.tracestate = state
  }
  const baggage = propagation.getBaggage(context)
  if (headers.baggage === undefined && baggage !== undefined && baggage.getAllEntries().length > 0) {
    headers.baggage = baggage
      .getAllEntries()
      .map(([key, entry]) => `${encodeURIComponent(key)}=${encodeURIComponent(entry.value)}`)
      .join(',')
  }
  return headers
}
