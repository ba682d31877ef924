// LangGraph node spans through LangChain's callback API (observe/langgraph), and the
// context the node's code sees (observe/sdk's context manager, refined inside nodes).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { trace } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { CallbackManager } from '@langchain/core/callbacks/manager'
import { RunnableLambda, type RunnableConfig } from '@langchain/core/runnables'
import { tool } from '@langchain/core/tools'
import { Annotation, END, START, StateGraph } from '@langchain/langgraph'
import { ATTR } from '../../../src/control/index.js'
import { initTracing } from '../../../src/observe/sdk/index.js'
import { withNodeSpans } from '../../../src/observe/langgraph/index.js'

const tracer = () => trace.getTracer('test')

function recording(t: { after(fn: () => Promise<void>): void }) {
  const exporter = new InMemorySpanExporter()
  const tracing = initTracing({ service: 'switchyard-pool-email', env: {}, exporter })
  t.after(() => tracing.shutdown())
  return {
    async spans(): Promise<ReadableSpan[]> {
      await tracing.forceFlush()
      return exporter.getFinishedSpans()
    },
    reset: () => exporter.reset(),
  }
}

/** The run span around `fn`, as the worker opens it; `fn` gets the config the worker passes. */
function inRun<T>(fn: (config: RunnableConfig) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan('run email.compose', async (span) => {
    try {
      return await fn(withNodeSpans<RunnableConfig>({}))
    } finally {
      span.end()
    }
  })
}

const parentName = (spans: readonly ReadableSpan[], name: string) => {
  const child = spans.find((s) => s.name === name)
  assert.ok(child, `a span ${name}`)
  return spans.find((s) => s.spanContext().spanId === child.parentSpanContext?.spanId)?.name
}

const chat = (name: string) =>
  tracer().startActiveSpan(`chat ${name}`, async (span) => {
    await new Promise((resolve) => setImmediate(resolve))
    span.end()
  })

void test('each LangGraph node run becomes a span `node <name>` under the run span, closed on end and on error', async (t) => {
  const traces = recording(t)
  const State = Annotation.Root({ text: Annotation<string>(), fail: Annotation<boolean>() })
  const graph = new StateGraph(State)
    .addNode('draft', async (state) => ({ text: `${state.text} drafted` }))
    .addNode('review', async (state) => {
      if (state.fail) throw Object.assign(new Error('review refused the draft'), { code: 'GRAPH_FAILED' })
      return { text: `${state.text} reviewed` }
    })
    .addEdge(START, 'draft')
    .addEdge('draft', 'review')
    .addEdge('review', END)
    .compile()

  const output = await inRun((config) => graph.invoke({ text: 'hi', fail: false }, config))
  assert.equal(output.text, 'hi drafted reviewed')

  const spans = await traces.spans()
  const run = spans.find((s) => s.name === 'run email.compose')
  assert.ok(run)
  const nodes = spans.filter((s) => s.name.startsWith('node '))
  assert.deepEqual(nodes.map((s) => s.name).sort(), ['node draft', 'node review'])
  for (const node of nodes) {
    assert.equal(node.parentSpanContext?.spanId, run.spanContext().spanId, `${node.name} is a child of the run span`)
    assert.equal(node.spanContext().traceId, run.spanContext().traceId)
    assert.equal(node.attributes[ATTR.graphNode], node.name.slice('node '.length))
  }
  const draft = nodes.find((s) => s.name === 'node draft')
  assert.equal(
    draft?.attributes[ATTR.input],
    '{"text":"hi","fail":false}',
    'the node input is recorded (the exporter applies the capture mode)',
  )
  assert.equal(draft?.attributes[ATTR.output], '{"text":"hi drafted"}')
  assert.equal(draft?.attributes['switchyard.graph.step'], 1)

  traces.reset()
  await assert.rejects(
    inRun((config) => graph.invoke({ text: 'hi', fail: true }, config)),
    /review refused the draft/,
  )
  const failed = (await traces.spans()).find((s) => s.name === 'node review')
  assert.ok(failed, 'the failing node still has its span')
  assert.equal(failed.status.code, 2)
  assert.equal(failed.status.message, 'review refused the draft')
  assert.equal(failed.attributes[ATTR.errorCode], 'GRAPH_FAILED')
  assert.equal(failed.events[0]?.name, 'exception')
})

void test('what a node does (a model call) is a child of its node span, also with nodes running side by side', async (t) => {
  const traces = recording(t)
  const State = Annotation.Root({ text: Annotation<string>({ reducer: (a, b) => `${a ?? ''}${b}`, default: () => '' }) })
  const graph = new StateGraph(State)
    .addNode('research', async () => {
      await chat('research')
      return { text: 'r' }
    })
    .addNode('enrich', async () => {
      await chat('enrich')
      return { text: 'e' }
    })
    .addNode('draft', async () => {
      await chat('draft')
      // A span of the node's own: what runs inside it is its child, not the node's.
      await tracer().startActiveSpan('lookup', async (span) => {
        await chat('inside lookup')
        span.end()
      })
      await chat('draft-again')
      return { text: 'd' }
    })
    .addEdge(START, 'research')
    .addEdge(START, 'enrich')
    .addEdge(['research', 'enrich'], 'draft')
    .addEdge('draft', END)
    .compile()
  let after = ''
  await tracer().startActiveSpan('run email.compose', async (span) => {
    await graph.invoke({ text: '' }, withNodeSpans({}))
    // Once the graph is done, the run span is active again.
    after = trace.getActiveSpan() === span ? 'run span' : 'something else'
    span.end()
  })
  const spans = await traces.spans()
  assert.equal(parentName(spans, 'chat research'), 'node research')
  assert.equal(parentName(spans, 'chat enrich'), 'node enrich')
  assert.equal(parentName(spans, 'chat draft'), 'node draft')
  assert.equal(parentName(spans, 'lookup'), 'node draft')
  assert.equal(parentName(spans, 'chat inside lookup'), 'lookup')
  assert.equal(parentName(spans, 'chat draft-again'), 'node draft')
  for (const node of ['node research', 'node enrich', 'node draft']) assert.equal(parentName(spans, node), 'run email.compose')
  assert.equal(after, 'run span')
})

void test("a subgraph's nodes are spans under the node that runs the subgraph; runnables and tools in a node nest under it", async (t) => {
  const traces = recording(t)
  const State = Annotation.Root({ text: Annotation<string>() })
  const lookup = tool(
    async () => {
      await chat('in tool')
      return 'found'
    },
    { name: 'lookup', description: 'looks up' },
  )
  const inner = new StateGraph(State)
    .addNode('score', async (state, config) => {
      await chat('score')
      await RunnableLambda.from(async () => chat('in lambda')).invoke(null, config)
      await lookup.invoke({}, config)
      return { text: `${state.text} scored` }
    })
    .addEdge(START, 'score')
    .addEdge('score', END)
    .compile()
  const graph = new StateGraph(State).addNode('qualify', inner).addEdge(START, 'qualify').addEdge('qualify', END).compile()
  const output = await inRun((config) => graph.invoke({ text: 'lead' }, config))
  assert.equal(output.text, 'lead scored')
  const spans = await traces.spans()
  assert.equal(parentName(spans, 'node qualify'), 'run email.compose')
  assert.equal(parentName(spans, 'node score'), 'node qualify')
  assert.equal(parentName(spans, 'chat score'), 'node score')
  assert.equal(parentName(spans, 'chat in lambda'), 'node score')
  assert.equal(parentName(spans, 'chat in tool'), 'node score')
  assert.deepEqual(spans.filter((s) => s.name.startsWith('node ')).length, 2, 'the subgraph itself and the lambda are no nodes')
})

void test('an untraced run gets no handler and records nothing; the handler is added once, also to a callback manager of the caller', async (t) => {
  const traces = recording(t)
  const State = Annotation.Root({ text: Annotation<string>() })
  const graph = new StateGraph(State)
    .addNode('draft', async (state) => ({ text: `${state.text} drafted` }))
    .addEdge(START, 'draft')
    .addEdge('draft', END)
    .compile()
  const untraced = withNodeSpans({})
  assert.deepEqual(untraced, {}, 'no active span: the config is left as it is')
  assert.equal((await graph.invoke({ text: 'hi' }, untraced)).text, 'hi drafted')
  assert.deepEqual(await traces.spans(), [])

  await inRun((config) => graph.invoke({ text: 'hi' }, withNodeSpans(config)))
  assert.deepEqual(
    (await traces.spans()).map((s) => s.name),
    ['node draft', 'run email.compose'],
  )

  traces.reset()
  const callers = new CallbackManager()
  await inRun(() => graph.invoke({ text: 'hi' }, withNodeSpans({ callbacks: callers })))
  assert.equal(callers.handlers.length, 0, "the caller's manager is not changed")
  assert.deepEqual(
    (await traces.spans()).map((s) => s.name),
    ['node draft', 'run email.compose'],
  )
})
