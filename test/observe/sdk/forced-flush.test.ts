// A forced run (`switchyard run --trace`) is marked in `tracestate` by the gateway's
// sampler and flushed by each process when its part of the run ends, whatever the
// batch delay; other runs wait for the batch. The mark is the gateway's alone.
// The batch delay here is ten minutes: only a flush can export anything during a test.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { ATTR } from '../../../src/control/index.js'
import { initTracing } from '../../../src/observe/index.js'
import { W3CTraceState } from '../../../src/observe/propagation/index.js'

/** An exporter that records each export call's span names, and resolves `next()` on the next call. */
function recorder() {
  const calls: string[][] = []
  let wake: (() => void) | undefined
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], done) {
      calls.push(spans.map((s) => s.name))
      wake?.()
      done({ code: 0 })
    },
    shutdown: async () => {},
  }
  /** The next export call, or a clear failure if none comes within `ms` (a bound, not a wait). */
  const next = (ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no export within ${ms} ms: the forced run was not flushed`)), ms)
      wake = () => {
        clearTimeout(timer)
        wake = undefined
        resolve()
      }
    })
  return { exporter, calls, next }
}

const remoteParent = (traceState?: W3CTraceState) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    ...(traceState ? { traceState } : {}),
  })

void test("the gateway's forced request span is marked, its children inherit it, and its end flushes the batch with what waited before it", async () => {
  const { exporter, calls, next } = recorder()
  const tracing = initTracing({ service: 'switchyard-gateway', env: { OTEL_BSP_SCHEDULE_DELAY: '600000' }, exporter, register: false })
  try {
    const tracer = tracing.tracerProvider.getTracer('test')
    const plain = tracer.startSpan('POST plain', { kind: SpanKind.SERVER })
    assert.equal(plain.spanContext().traceState?.get('switchyard'), undefined)
    plain.end()
    const forced = tracer.startSpan('POST forced', { kind: SpanKind.SERVER, attributes: { [ATTR.traceForced]: true } })
    assert.equal(forced.spanContext().traceState?.serialize(), 'switchyard=forced')
    const child = tracer.startSpan('enqueue email', { kind: SpanKind.PRODUCER }, trace.setSpan(ROOT_CONTEXT, forced))
    assert.equal(child.spanContext().traceState?.get('switchyard'), 'forced')
    child.end()
    const exported = next()
    forced.end()
    await exported
    // One export, at the forced root's end: the unforced root's end flushed nothing.
    assert.deepEqual(calls, [['POST plain', 'enqueue email', 'POST forced']])
  } finally {
    await tracing.shutdown()
  }
})

void test("a caller's own mark is dropped at the request span, its other tracestate members kept, and nothing is flushed", async () => {
  const { exporter, calls } = recorder()
  const tracing = initTracing({ service: 'switchyard-gateway', env: { OTEL_BSP_SCHEDULE_DELAY: '600000' }, exporter, register: false })
  try {
    const tracer = tracing.tracerProvider.getTracer('test')
    const state = new W3CTraceState([]).set('congo', 't61rcWkgMzE').set('switchyard', 'forced')
    const span = tracer.startSpan('POST /v1/workflows/{name}/run', { kind: SpanKind.SERVER }, remoteParent(state))
    assert.equal(span.spanContext().traceState?.serialize(), 'congo=t61rcWkgMzE')
    span.end()
    await tracing.tracerProvider.forceFlush()
    assert.deepEqual(calls, [['POST /v1/workflows/{name}/run']])
  } finally {
    await tracing.shutdown()
  }
})

void test("a worker's run span under a marked envelope keeps the mark and flushes when it ends; unmarked, it waits", async () => {
  const { exporter, calls, next } = recorder()
  const tracing = initTracing({ service: 'switchyard-pool-email', env: { OTEL_BSP_SCHEDULE_DELAY: '600000' }, exporter, register: false })
  try {
    const tracer = tracing.tracerProvider.getTracer('test')
    tracer.startSpan('run plain', { kind: SpanKind.CONSUMER }, remoteParent()).end()
    const run = tracer.startSpan(
      'run email.compose',
      { kind: SpanKind.CONSUMER },
      remoteParent(new W3CTraceState([]).set('switchyard', 'forced')),
    )
    assert.equal(run.spanContext().traceState?.get('switchyard'), 'forced')
    const node = tracer.startSpan('node draft', {}, trace.setSpan(ROOT_CONTEXT, run))
    const exported = next()
    node.end() // not the process's root of the run: no flush yet
    run.end()
    await exported
    assert.deepEqual(calls, [['run plain', 'node draft', 'run email.compose']])
  } finally {
    await tracing.shutdown()
  }
})
