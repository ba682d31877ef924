// The benchmark workflow: two LangGraph nodes and one (offline) model call, the
// shape of a typical sales workflow with the model's latency taken out, or put back:
// BENCH_MODEL_DELAY_MS (the pool's env) makes the model call wait that long first.
import type { GraphSetup } from '../../src/graph/index.js'

export async function graph(setup: GraphSetup) {
  const delayMs = Number(process.env.BENCH_MODEL_DELAY_MS ?? 0)
  const { Annotation, END, START, StateGraph } = await import('@langchain/langgraph')
  const State = Annotation.Root({
    lead: Annotation<{ name: string; email: string }>(),
    notes: Annotation<string>(),
    subject: Annotation<string>(),
  })
  return new StateGraph(State)
    .addNode('research', async (state) => ({ notes: `notes on ${state.lead.name}` }))
    .addNode('draft', async (state) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
      const reply = await setup.model.generate({
        name: 'draft',
        messages: [{ role: 'user', content: `${state.lead.name}: ${state.notes}` }],
      })
      return { subject: reply.text.slice(0, 60) }
    })
    .addEdge(START, 'research')
    .addEdge('research', 'draft')
    .addEdge('draft', END)
    .compile()
}
