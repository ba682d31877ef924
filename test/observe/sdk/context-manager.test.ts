import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons'
import { getContextVariable, setContextVariable } from '@langchain/core/context'
import { RunnableLambda } from '@langchain/core/runnables'
import { Annotation, END, START, StateGraph } from '@langchain/langgraph'
import { traceable } from 'langsmith/traceable'
import { SharedContextManager } from '../../../src/observe/sdk/context-manager.js'
import { initTracing, traceGraphNodes } from '../../../src/observe/index.js'

const KEY = createContextKey('test key')
const tick = () => new Promise((resolve) => setImmediate(resolve))

void test('the context follows with(), across awaits, and is gone after it; attach() holds it until disposed', async () => {
  const manager = new SharedContextManager()
  const ctx = ROOT_CONTEXT.setValue(KEY, 'outer')
  const seen = await manager.with(ctx, async () => {
    await tick()
    const inner = manager.with(ctx.setValue(KEY, 'inner'), () => manager.active().getValue(KEY))
    return [manager.active().getValue(KEY), inner]
  })
  assert.deepEqual(seen, ['outer', 'inner'])
  assert.equal(manager.active(), ROOT_CONTEXT)

  await manager.with(ROOT_CONTEXT, async () => {
    const token = manager.attach(ctx)
    assert.equal(manager.active().getValue(KEY), 'outer')
    token.dispose()
    token.dispose()
    assert.equal(manager.active(), ROOT_CONTEXT)
  })
})

void test('bind() and disable(): bound functions and emitters run in their context; disabled, everything is ROOT', async () => {
  const manager = new SharedContextManager()
  const ctx = ROOT_CONTEXT.setValue(KEY, 'bound')
  const read = manager.bind(ctx, () => manager.active().getValue(KEY))
  assert.equal(read(), 'bound')
  const emitter = manager.bind(ctx, new EventEmitter())
  const heard = new Promise((resolve) => emitter.once('ping', () => resolve(manager.active().getValue(KEY))))
  emitter.emit('ping')
  assert.equal(await heard, 'bound')

  manager.disable()
  assert.equal(
    manager.with(ctx, () => manager.active()),
    ROOT_CONTEXT,
  )
  manager.enable()
  assert.equal(
    manager.with(ctx, () => manager.active().getValue(KEY)),
    'bound',
  )
})

void test("the context rides on LangChain's storage, beside LangChain's own context variables, which stay intact", async () => {
  const manager = new SharedContextManager()
  const ctx = ROOT_CONTEXT.setValue(KEY, 'otel')
  const storage = AsyncLocalStorageProviderSingleton.getInstance()
  const seen = await RunnableLambda.from(async () => {
    setContextVariable('tenant', 'acme')
    return manager.with(ctx, () =>
      RunnableLambda.from(async () => {
        await tick()
        return {
          otel: manager.active().getValue(KEY),
          tenant: getContextVariable('tenant'),
          config: AsyncLocalStorageProviderSingleton.getRunnableConfig()?.configurable?.marker as unknown,
          ours: Object.getOwnPropertySymbols(storage.getStore()?.[Symbol.for('lc:context_variables')] ?? {}).map(String),
        }
      }).invoke(null, { configurable: { marker: 'inner' } }),
    )
  }).invoke(null)
  assert.deepEqual(seen, { otel: 'otel', tenant: 'acme', config: 'inner', ours: ['Symbol(switchyard:otel_context)'] })

  // A value in the storage that is not an object (nobody's we know) is replaced, not copied.
  const odd = (storage as unknown as { run<T>(store: unknown, fn: () => T): T }).run('not a store', () =>
    manager.with(ctx, () => manager.active().getValue(KEY)),
  )
  assert.equal(odd, 'otel')
})

void test('spans nest through LangGraph nodes and through LangSmith traceable functions they call', async (t) => {
  const exporter = new InMemorySpanExporter()
  const tracing = initTracing({ service: 'switchyard-pool-email', env: {}, exporter })
  t.after(() => tracing.shutdown())
  const tracer = trace.getTracer('test')
  const lookup = traceable(async () => {
    await tick()
    tracer.startSpan('chat inside traceable').end()
  })
  const State = Annotation.Root({ text: Annotation<string>() })
  const graph = traceGraphNodes(
    new StateGraph(State)
      .addNode('research', async () => {
        await lookup()
        return { text: 'done' }
      })
      .addEdge(START, 'research')
      .addEdge('research', END)
      .compile(),
  )
  await tracer.startActiveSpan('run email.compose', async (span) => {
    await graph.invoke({ text: '' })
    span.end()
  })
  await tracing.forceFlush()
  const spans = exporter.getFinishedSpans()
  const byName = (name: string) => spans.find((s) => s.name === name)
  assert.equal(byName('chat inside traceable')?.parentSpanContext?.spanId, byName('node research')?.spanContext().spanId)
  assert.equal(byName('node research')?.parentSpanContext?.spanId, byName('run email.compose')?.spanContext().spanId)
})
