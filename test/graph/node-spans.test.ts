// A model call made through runOf(config) inside a LangGraph node nests under that
// node's span (observe/langgraph's handler, given by the worker in the run config).
import assert from 'node:assert/strict'
import { trace } from '@opentelemetry/api'
import { after, before, describe, it } from 'node:test'
import { createRunContext, runOf } from '../../src/graph/index.js'
import { withNodeSpans } from '../../src/observe/langgraph/index.js'
import { recordSpans } from './spans.js'

void describe('runOf inside a LangGraph node', () => {
  let spans: ReturnType<typeof recordSpans>
  before(() => (spans = recordSpans()))
  after(() => spans.stop())

  void it('puts the model call under the node span', async () => {
    const { StateGraph, Annotation, START, END } = await import('@langchain/langgraph')
    const State = Annotation.Root({ text: Annotation<string> })
    const graph = new StateGraph(State)
      .addNode('draft', async (_state: typeof State.State, config) => {
        const result = await runOf(config).model.generate({ name: 'draft', messages: [{ role: 'user', content: 'hello' }] })
        return { text: result.text }
      })
      .addEdge(START, 'draft')
      .addEdge('draft', END)
      .compile()
    const run = createRunContext({ workflow: 'test.nodes' })
    await trace.getTracer('test').startActiveSpan('run test.nodes', async (span) => {
      await graph.invoke({ text: '' }, withNodeSpans({ configurable: { run } }))
      span.end()
    })
    const finished = spans.exporter.getFinishedSpans()
    const node = finished.find((s) => s.name === 'node draft')
    const chat = finished.find((s) => s.name === 'chat offline')
    assert.ok(node && chat)
    assert.equal(chat.parentSpanContext?.spanId, node.spanContext().spanId)
  })
})
