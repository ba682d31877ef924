import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ATTR } from '../../../src/control/index.js'
import { SwitchyardSampler, sampledAt } from '../../../src/observe/index.js'

function setup() {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ sampler: new SwitchyardSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] })
  return { exporter, provider, tracer: provider.getTracer('test') }
}

const remote = (traceId: string, sampled: boolean) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: '1111111111111111',
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  })

void test('a root span without a sample rate is kept; children follow their parent', () => {
  const { tracer, exporter } = setup()
  const root = tracer.startSpan('GET /healthz')
  assert.equal(root.isRecording(), true)
  const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root))
  assert.equal(child.isRecording(), true)
  const unsampledChild = tracer.startSpan('worker run', {}, remote('0af7651916cd43dd8448eb211c80319c', false))
  assert.equal(unsampledChild.isRecording(), false)
  assert.equal(unsampledChild.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c', 'the trace id still flows')
  child.end()
  root.end()
  unsampledChild.end()
  assert.deepEqual(
    exporter
      .getFinishedSpans()
      .map((s) => s.name)
      .sort(),
    ['GET /healthz', 'child'],
  )
})

void test('the sample rate decides from the trace id, and only when the caller did not mark the trace unsampled', () => {
  const { tracer } = setup()
  const kept = '00000000000000000000000000000001'
  const dropped = 'ffffffff000000000000000000000000'
  assert.equal(sampledAt(kept, 0.1), true)
  assert.equal(sampledAt(dropped, 0.1), false)
  const at = (ctx: ReturnType<typeof remote>) =>
    tracer.startSpan('POST /v1/workflows/x/run', { attributes: { [ATTR.sampleRate]: 0.1 } }, ctx)
  assert.equal(at(remote(kept, true)).isRecording(), true, 'sampled caller, rate keeps the id')
  assert.equal(at(remote(dropped, true)).isRecording(), false, 'sampled caller, rate drops the id: the run leaves no spans')
  assert.equal(at(remote(kept, false)).isRecording(), false, 'caller marked it unsampled')
  const rootAtZero = tracer.startSpan('r', { attributes: { [ATTR.sampleRate]: 0 } })
  assert.equal(rootAtZero.isRecording(), false)
  const rootAtOne = tracer.startSpan('r', { attributes: { [ATTR.sampleRate]: 1 } })
  assert.equal(rootAtOne.isRecording(), true)
})

void test('a dropped decision travels in the sampled flag: downstream spans of the run are not recorded', () => {
  const { tracer, exporter } = setup()
  const gateway = tracer.startSpan('POST run', { attributes: { [ATTR.sampleRate]: 0.1 } }, remote('ffffffff000000000000000000000000', true))
  const flags = gateway.spanContext().traceFlags
  assert.equal(flags & TraceFlags.SAMPLED, 0)
  const worker = tracer.startSpan('run email.compose', {}, remote(gateway.spanContext().traceId, false))
  worker.end()
  gateway.end()
  assert.equal(exporter.getFinishedSpans().length, 0)
})

void test('a run the gateway was asked to keep (switchyard.trace.forced) is kept whatever the rate and the caller flag', () => {
  const { tracer } = setup()
  const dropped = 'ffffffff000000000000000000000000'
  const forced = { [ATTR.sampleRate]: 0.1, [ATTR.traceForced]: true }
  assert.equal(tracer.startSpan('POST run', { attributes: forced }, remote(dropped, true)).isRecording(), true, 'the rate would drop it')
  assert.equal(
    tracer.startSpan('POST run', { attributes: forced }, remote(dropped, false)).isRecording(),
    true,
    'the caller did not sample',
  )
  assert.equal(tracer.startSpan('POST run', { attributes: { ...forced, [ATTR.sampleRate]: 0 } }).isRecording(), true, 'rate 0')
  // Without the attribute, the same spans are dropped.
  assert.equal(tracer.startSpan('POST run', { attributes: { [ATTR.sampleRate]: 0.1 } }, remote(dropped, true)).isRecording(), false)
})
