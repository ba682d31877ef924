import { test } from 'node:test'
import assert from 'node:assert/strict'
import { context, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { Annotation, END, START, StateGraph } from '@langchain/langgraph'
import { ATTR } from '../../src/control/attributes.js'
import { graphCallbacks } from '../../src/observe/index.js'

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
  assert.equal(draft?.attributes[ATTR.input], '{"text":"hi","fail":false}', 'the node input is recorded (the exporter applies the capture mode)')
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
