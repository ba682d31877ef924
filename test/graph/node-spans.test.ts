// Model calls made inside a LangGraph node nest under that node's span when the tracing
// callback handler says which context the node runs in (NodeContextSource).
import assert from 'node:assert/strict'
import { context, trace, type Context } from '@opentelemetry/api'
import { BaseCallbackHandler } from '@langchain/core/callbacks/base'
import { after, before, describe, it } from 'node:test'
import { createRunContext, runOf, type NodeContextSource } from '../../src/graph/index.js'
import { recordSpans } from './spans.js'

class NodeSpans extends BaseCallbackHandler implements NodeContextSource {
  name = 'test-node-spans'
  override awaitHandlers = true
  readonly contexts = new Map<string, Context>()

  override handleChainStart(
    _chain: unknown,
    _inputs: unknown,
    runId: string,
    _parent?: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    _type?: string,
    runName?: string,
  ): void {
    if (metadata?.langgraph_node !== runName || typeof runName !== 'string' || runName.startsWith('__')) return
    const span = trace.getTracer('test').startSpan(`node ${runName}`)
    this.contexts.set(runId, trace.setSpan(context.active(), span))
    this.spans.set(runId, span)
  }

  override handleChainEnd(_outputs: unknown, runId: string): void {
    this.spans.get(runId)?.end()
  }

  contextFor(runId: string): Context | undefined {
    return this.contexts.get(runId)
  }

  private readonly spans = new Map<string, ReturnType<ReturnType<typeof trace.getTracer>['startSpan']>>()
}

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
    await graph.invoke({ text: '' }, { configurable: { run }, callbacks: [new NodeSpans()] })
    const finished = spans.exporter.getFinishedSpans()
    const node = finished.find((s) => s.name === 'node draft')
    const chat = finished.find((s) => s.name === 'chat offline')
    assert.ok(node && chat)
    assert.equal(chat.parentSpanContext?.spanId, node.spanContext().spanId)
  })
})
