// The one sampling rule of DESIGN §3, as an OpenTelemetry Sampler.
// The gateway decides once per run (its request span carries the pool's
// `switchyard.sample_rate`); every other span, in every process, follows its
// parent's sampled flag, so a kept run is whole and a dropped run leaves nothing.
//
// A forced run (an authorised `switchyard run --trace`) is also marked in the W3C
// `tracestate` (FORCED_TRACE_STATE), which travels in the envelope: each process
// then flushes its spans when its part of that run ends (flush-forced.ts), so the
// caller finds the trace whole at once instead of one batch delay later. The mark
// is the gateway's alone: a caller's own is dropped at the request span.
import {
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type Link,
  type SpanContext,
  type TraceState,
} from '@opentelemetry/api'
import { SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base'
import { ATTR } from '../../control/index.js'
import { W3CTraceState } from '../propagation/index.js'

const KEEP: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED }
const DROP: SamplingResult = { decision: SamplingDecision.NOT_RECORD }

/** The `tracestate` list-member that marks a forced run's trace. */
export const FORCED_TRACE_STATE = { key: 'switchyard', value: 'forced' } as const

/** Whether a span context's `tracestate` carries the forced mark. */
export function isForced(state: TraceState | undefined): boolean {
  return state?.get(FORCED_TRACE_STATE.key) === FORCED_TRACE_STATE.value
}

/**
 * Keep a span that carries `switchyard.trace.forced` (the gateway's request span of a
 * run an authorised caller asked to keep). Keep a span that carries `switchyard.sample_rate` iff its parent (if any) is
 * sampled and the trace id falls under the rate (deterministic, the same hash as
 * TraceIdRatioBasedSampler); any other span follows its parent; a root span
 * without the attribute is kept.
 *
 * @example new BasicTracerProvider({ sampler: new SwitchyardSampler() })
 */
export class SwitchyardSampler implements Sampler {
  // One ratio sampler per distinct rate: pools have few rates, and the hash is the SDK's own.
  private readonly ratios = new Map<number, TraceIdRatioBasedSampler>()

  shouldSample(context: Context, traceId: string, _name: string, kind: SpanKind, attributes: Attributes, _links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(context)
    const state = parent?.traceState
    // A caller the gateway let force tracing: kept whatever the rate or its own flag, and marked.
    if (attributes[ATTR.traceForced] === true) {
      return { ...KEEP, traceState: (state ?? new W3CTraceState([])).set(FORCED_TRACE_STATE.key, FORCED_TRACE_STATE.value) }
    }
    const result = this.decide(context, traceId, parent, attributes)
    // A request span's parent is the caller's: the mark there is not the gateway's.
    if (kind === SpanKind.SERVER && state !== undefined && state.get(FORCED_TRACE_STATE.key) !== undefined) {
      return { ...result, traceState: state.unset(FORCED_TRACE_STATE.key) }
    }
    return result
  }

  private decide(context: Context, traceId: string, parent: SpanContext | undefined, attributes: Attributes): SamplingResult {
    const parentSampled = parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED
    const rate = attributes[ATTR.sampleRate]
    if (typeof rate === 'number') {
      if (!parentSampled) return DROP
      return keepsTraceId(this.ratio(rate), context, traceId) ? KEEP : DROP
    }
    return parentSampled ? KEEP : DROP
  }

  toString(): string {
    return 'SwitchyardSampler{sample_rate attribute, else ParentBased(AlwaysOn)}'
  }

  private ratio(rate: number): TraceIdRatioBasedSampler {
    let sampler = this.ratios.get(rate)
    if (sampler === undefined) {
      sampler = new TraceIdRatioBasedSampler(rate)
      this.ratios.set(rate, sampler)
    }
    return sampler
  }
}

function keepsTraceId(sampler: TraceIdRatioBasedSampler, context: Context, traceId: string): boolean {
  return sampler.shouldSample(context, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED
}

/** Whether a trace id is kept at `rate` (the same decision the sampler makes for a root span). */
export function sampledAt(traceId: string, rate: number): boolean {
  return keepsTraceId(new TraceIdRatioBasedSampler(rate), ROOT_CONTEXT, traceId)
}
