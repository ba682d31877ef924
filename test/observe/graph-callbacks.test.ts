import { test } from 'node:test'
import assert from 'node:assert/strict'
import { context, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { Annotation, END, START, StateGraph } from '@langchain/langgraph'
import { ATTR } from '../../src/control/attributes.js'
import { graphCallbacks, initTracing } from '../../src/observe/index.js'

void test('each LangGraph node run becomes a span `node <name>` under the run span, closed on end and on error', async (t) => {
  const exporter = new InMemorySpanExporter()
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  provider.register()
  t.after(() => {
    trace.disable()
    context.disable()
  })

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

  const tracer = trace.getTracer('test')
  const output = await tracer.startActiveSpan('run email.compose', async (span) => {
    try {
      return await graph.invoke({ text: 'hi', fail: false }, { callbacks: graphCallbacks() as never })
    } finally {
      span.end()
    }
  })
  assert.equal(output.text, 'hi drafted reviewed')

  const spans = exporter.getFinishedSpans()
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

  exporter.reset()
  await assert.rejects(
    tracer.startActiveSpan('run email.compose', async (span) => {
      try {
        return await graph.invoke({ text: 'hi', fail: true }, { callbacks: graphCallbacks() as never })
      } finally {
        span.end()
      }
    }),
    /review refused the draft/,
  )
  const failed = exporter.getFinishedSpans().find((s) => s.name === 'node review')
  assert.ok(failed, 'the failing node still has its span')
  assert.equal(failed.status.code, 2)
  assert.equal(failed.status.message, 'review refused the draft')
  assert.equal(failed.attributes[ATTR.errorCode], 'GRAPH_FAILED')
})

void test('with initTracing, what a node does (a model call) is a child of its node span', async (t) => {
  const exporter = new InMemorySpanExporter()
  const tracing = initTracing({ service: 'switchyard-pool-email', env: {}, exporter })
  t.after(() => tracing.shutdown())
  const tracer = trace.getTracer('test')
  const State = Annotation.Root({ text: Annotation<string>() })
  const chat = (name: string) =>
    tracer.startActiveSpan(`chat ${name}`, async (span) => {
      await new Promise((resolve) => setImmediate(resolve))
      span.end()
    })
  const graph = new StateGraph(State)
    .addNode('research', async (state) => {
      await chat('research')
      return { text: `${state.text} researched` }
    })
    .addNode('draft', async (state) => {
      await chat('draft')
      await chat('draft-again')
      return { text: `${state.text} drafted` }
    })
    .addEdge(START, 'research')
    .addEdge('research', 'draft')
    .addEdge('draft', END)
    .compile()
  let after = ''
  await tracer.startActiveSpan('run email.compose', async (span) => {
    await graph.invoke({ text: 'hi' }, { callbacks: graphCallbacks() as never })
    // Once the graph is done, the run span is active again.
    after = trace.getActiveSpan() === span ? 'run span' : 'something else'
    span.end()
  })
  await tracing.forceFlush()
  const spans = exporter.getFinishedSpans()
  const parentOf = (name: string) =>
    spans.find((s) => s.spanContext().spanId === spans.find((x) => x.name === name)?.parentSpanContext?.spanId)?.name
  assert.equal(parentOf('chat research'), 'node research')
  assert.equal(parentOf('chat draft'), 'node draft')
  assert.equal(parentOf('chat draft-again'), 'node draft')
  assert.equal(parentOf('node research'), 'run email.compose')
  assert.equal(parentOf('node draft'), 'run email.compose')
  assert.equal(after, 'run span')
})
