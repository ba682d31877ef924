// The process's context manager: OpenTelemetry's AsyncLocalStorageContextManager, whose
// active context a worker refines inside LangGraph nodes (observe/langgraph).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { getContextVariable, setContextVariable } from '@langchain/core/context'
import { RunnableLambda } from '@langchain/core/runnables'
import { Annotation, END, START, StateGraph } from '@langchain/langgraph'
import { traceable } from 'langsmith/traceable'
import { RefinedContextManager, refineActiveContext } from '../../../src/observe/sdk/index.js'
import { initTracing } from '../../../src/observe/sdk/index.js'
import { withNodeSpans } from '../../../src/observe/langgraph/index.js'

const KEY = createContextKey('test key')
const tick = () => new Promise((resolve) => setImmediate(resolve))

void test('the context follows with(), across awaits, and is gone after it', async () => {
  const manager = new RefinedContextManager().enable()
  const ctx = ROOT_CONTEXT.setValue(KEY, 'outer')
  const seen = await manager.with(ctx, async () => {
    await tick()
    const inner = manager.with(ctx.setValue(KEY, 'inner'), () => manager.active().getValue(KEY))
    return [manager.active().getValue(KEY), inner]
  })
  assert.deepEqual(seen, ['outer', 'inner'])
  assert.equal(manager.active(), ROOT_CONTEXT)
  manager.disable()
})

void test('bind(): bound functions and emitters run in their context', async () => {
  const manager = new RefinedContextManager().enable()
  const ctx = ROOT_CONTEXT.setValue(KEY, 'bound')
  const read = manager.bind(ctx, () => manager.active().getValue(KEY))
  assert.equal(read(), 'bound')
  const emitter = manager.bind(ctx, new EventEmitter())
  const heard = new Promise((resolve) => emitter.once('ping', () => resolve(manager.active().getValue(KEY))))
  emitter.emit('ping')
  assert.equal(await heard, 'bound')
  manager.disable()
})

void test('an installed refiner sees the stored context and answers for it; removed, the stored context is the answer', () => {
  const manager = new RefinedContextManager().enable()
  const ctx = ROOT_CONTEXT.setValue(KEY, 'stored')
  const seen: unknown[] = []
  refineActiveContext((stored) => {
    seen.push(stored.getValue(KEY))
    return stored.setValue(KEY, 'refined')
  })
  try {
    assert.equal(
      manager.with(ctx, () => manager.active().getValue(KEY)),
      'refined',
    )
    assert.deepEqual(seen, ['stored'])
  } finally {
    refineActiveContext(undefined)
  }
  assert.equal(
    manager.with(ctx, () => manager.active().getValue(KEY)),
    'stored',
  )
  manager.disable()
})

void test("OpenTelemetry's context and LangChain's context variables live side by side in a runnable", async (t) => {
  const tracing = initTracing({ service: 'switchyard-pool-email', env: {}, exporter: new InMemorySpanExporter() })
  t.after(() => tracing.shutdown())
  const { context } = await import('@opentelemetry/api')
  const ctx = ROOT_CONTEXT.setValue(KEY, 'otel')
  const seen = await RunnableLambda.from(async () => {
    setContextVariable('tenant', 'acme')
    return context.with(ctx, () =>
      RunnableLambda.from(async () => {
        await tick()
        return { otel: context.active().getValue(KEY), tenant: getContextVariable('tenant') }
      }).invoke(null),
    )
  }).invoke(null)
  assert.deepEqual(seen, { otel: 'otel', tenant: 'acme' })
})

void test('spans nest through LangGraph nodes and the LangChain runnables a node calls; a LangSmith traceable is outside LangChain runs', async (t) => {
  const exporter = new InMemorySpanExporter()
  const tracing = initTracing({ service: 'switchyard-pool-email', env: {}, exporter })
  t.after(() => tracing.shutdown())
  const tracer = trace.getTracer('test')
  const lookup = RunnableLambda.from(async () => {
    await tick()
    tracer.startSpan('chat inside runnable').end()
  })
  // LangSmith's traceable opens a run tree of its own, without LangChain's run config:
  // what it starts is a child of the stored context (the run span), not of the node.
  const traced = traceable(async () => {
    await tick()
    tracer.startSpan('chat inside traceable').end()
  })
  const State = Annotation.Root({ text: Annotation<string>() })
  const graph = new StateGraph(State)
    .addNode('research', async (_state, config) => {
      await lookup.invoke(null, config)
      await traced()
      return { text: 'done' }
    })
    .addEdge(START, 'research')
    .addEdge('research', END)
    .compile()
  await tracer.startActiveSpan('run email.compose', async (span) => {
    await graph.invoke({ text: '' }, withNodeSpans({}))
    span.end()
  })
  await tracing.forceFlush()
  const spans = exporter.getFinishedSpans()
  const byName = (name: string) => spans.find((s) => s.name === name)
  assert.equal(byName('chat inside runnable')?.parentSpanContext?.spanId, byName('node research')?.spanContext().spanId)
  assert.equal(byName('node research')?.parentSpanContext?.spanId, byName('run email.compose')?.spanContext().spanId)
  assert.equal(byName('chat inside traceable')?.parentSpanContext?.spanId, byName('run email.compose')?.spanContext().spanId)
})
