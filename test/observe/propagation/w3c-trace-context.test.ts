// The strict W3C propagator every Switchyard process registers: extraction to the
// letter of the spec, the random flag carried across the SDK's spans (which keep only
// the sampled bit), and a TraceState that mutates as the spec says.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ROOT_CONTEXT, context, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { parseTraceparent, parseTracestate } from '../../../src/control/index.js'
import { W3CTraceContext, W3CTraceState } from '../../../src/observe/propagation/index.js'

const propagator = new W3CTraceContext()
const TRACE = '0af7651916cd43dd8448eb211c80319c'
const tracer = new BasicTracerProvider().getTracer('test')

function extract(headers: Record<string, string | string[]>) {
  return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter)
}

function inject(ctx = context.active()) {
  const out: Record<string, string> = {}
  propagator.inject(ctx, out, defaultTextMapSetter)
  return out
}

void describe('W3CTraceContext', () => {
  void test('the spec example: a Rojo server carries Congo’s tracestate over and adds its entry on the left', () => {
    const incoming = extract({ traceparent: `00-${TRACE}-b7ad6b7169203331-01`, tracestate: 'congo=t61rcWkgMzE' })
    const remote = trace.getSpanContext(incoming)
    assert.equal(remote?.isRemote, true)
    const span = trace.wrapSpanContext({
      ...remote!,
      spanId: '00f067aa0ba902b7',
      isRemote: false,
      traceState: remote!.traceState!.set('rojo', '00f067aa0ba902b7'),
    })
    const out = inject(trace.setSpan(incoming, span))
    assert.equal(out.traceparent, `00-${TRACE}-00f067aa0ba902b7-01`)
    assert.equal(out.tracestate, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')
  })

  void test('the random flag survives a child span the SDK starts (which keeps only the sampled bit)', () => {
    const incoming = extract({ traceparent: `00-${TRACE}-b7ad6b7169203331-03` })
    const child = tracer.startSpan('child', {}, incoming)
    assert.equal(child.spanContext().traceFlags, 0x01, 'the SDK drops the random bit on its own spans')
    const grandchild = tracer.startSpan('grandchild', {}, trace.setSpan(incoming, child))
    const out = inject(trace.setSpan(trace.setSpan(incoming, child), grandchild))
    assert.equal(parseTraceparent(out.traceparent)?.flags, 0x03)
    assert.equal(parseTraceparent(out.traceparent)?.parentId, grandchild.spanContext().spanId)
  })

  void test('a caller without the random flag: outgoing headers never claim it', () => {
    const incoming = extract({ traceparent: `00-${TRACE}-b7ad6b7169203331-01` })
    const child = tracer.startSpan('child', {}, incoming)
    assert.equal(parseTraceparent(inject(trace.setSpan(incoming, child)).traceparent)?.flags, 0x01)
  })

  void test('a trace started here (random ids from the SDK) is marked random', () => {
    const root = tracer.startSpan('root')
    assert.equal(parseTraceparent(inject(trace.setSpan(ROOT_CONTEXT, root)).traceparent)?.flags, 0x03)
  })

  void test('an invalid traceparent is ignored, and its tracestate with it', () => {
    const ctx = extract({ traceparent: `00-${TRACE}-0000000000000000-01`, tracestate: 'foo=1' })
    assert.equal(trace.getSpanContext(ctx), undefined)
  })

  void test('an invalid tracestate is dropped whole; the traceparent still counts', () => {
    const ctx = extract({ traceparent: `00-${TRACE}-b7ad6b7169203331-01`, tracestate: 'foo=1,Bar=2' })
    assert.equal(trace.getSpanContext(ctx)?.traceId, TRACE)
    assert.equal(trace.getSpanContext(ctx)?.traceState, undefined)
    assert.equal(inject(ctx).tracestate, undefined, 'no empty tracestate is sent')
  })
})

void describe('W3CTraceState', () => {
  const state = new W3CTraceState(parseTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE') ?? [])

  void test('updating a key moves it to the left; the others keep their order', () => {
    assert.equal(state.set('congo', 'ucfJifl5GOE').serialize(), 'congo=ucfJifl5GOE,rojo=00f067aa0ba902b7')
  })

  void test('an invalid key or value changes nothing', () => {
    assert.equal(state.set('Congo', 'x'), state)
    assert.equal(state.set('ok', 'a,b'), state)
  })

  void test('adding a 33rd member removes the right-most', () => {
    const full = new W3CTraceState(Array.from({ length: 32 }, (_, i) => [`k${i}`, `${i}`] as const))
    const added = full.set('new', 'v')
    assert.equal(added.serialize().split(',').length, 32)
    assert.equal(added.get('new'), 'v')
    assert.equal(added.get('k31'), undefined)
    assert.equal(added.get('k0'), '0')
  })

  void test('unset and get', () => {
    assert.equal(state.unset('rojo').serialize(), 'congo=t61rcWkgMzE')
    assert.equal(state.unset('absent'), state)
    assert.equal(state.get('congo'), 't61rcWkgMzE')
  })
})
