// LangGraph node spans: every node of a compiled graph opens `node <name>` around its
// run, as a child of the active span (the worker's `run <workflow>`), and is the active
// span while the node's code runs, so what the node does (model calls) nests under it.
//
// Each node's runnable is wrapped once, when the worker loads the graph. No LangChain
// callbacks are involved: giving `invoke` any callback handler, even an empty list,
// makes @langchain/core build and copy a callback manager for every runnable of every
// step, which costs more than the spans themselves (bench/tracing).
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import { ATTR } from '../../control/index.js'
import { captureValue } from '../capture/index.js'

const TRACER = 'switchyard.graph'
// Recorded in full here; the process's exporter applies the pool's capture mode
// (RedactingExporter: masked when `redacted`, dropped when `none`).
const FULL = { capture: 'full', redact: [] } as const
const TRACED = Symbol.for('switchyard.nodeSpans')

type Invoke = (this: unknown, input: unknown, config?: NodeConfig) => Promise<unknown>

interface NodeConfig {
  readonly metadata?: { readonly langgraph_node?: unknown; readonly langgraph_step?: unknown }
}

interface Traceable {
  invoke: Invoke
  [TRACED]?: true
}

/**
 * Make every node of a compiled LangGraph graph (and of the graphs used as its nodes)
 * a span `node <name>`, child of the span active when the node runs. A run whose span
 * is not recording (unsampled, or tracing off) pays one context lookup per node.
 * Anything that is not a compiled graph is left alone. Safe to call more than once.
 *
 * @example
 * const graph = traceGraphNodes(builder.compile())
 * await tracer.startActiveSpan('run email.compose', () => graph.invoke(input))
 */
export function traceGraphNodes<T>(graph: T): T {
  const nodes = (graph as { nodes?: unknown } | null)?.nodes
  if (nodes === null || typeof nodes !== 'object') return graph
  for (const [name, node] of Object.entries(nodes as Record<string, { bound?: unknown }>)) {
    // __start__, and LangGraph's own error-handler nodes, are plumbing.
    if (name.startsWith('__')) continue
    const bound = node?.bound as Traceable | undefined
    if (typeof bound?.invoke !== 'function' || bound[TRACED]) continue
    wrap(bound, name)
    traceGraphNodes(bound) // a subgraph used as a node: its nodes too
  }
  return graph
}

function wrap(bound: Traceable, name: string): void {
  const invoke = bound.invoke
  Object.defineProperty(bound, TRACED, { value: true })
  bound.invoke = function (input, config) {
    const parent = context.active()
    if (!trace.getSpan(parent)?.isRecording()) return invoke.call(this, input, config)
    // A runnable shared by two nodes runs under each node's name, as LangGraph reports it.
    const reported = config?.metadata?.langgraph_node
    const node = typeof reported === 'string' ? reported : name
    const span = trace.getTracer(TRACER).startSpan(`node ${node}`, { attributes: { [ATTR.graphNode]: node } }, parent)
    const recorded = captureValue(input, FULL)
    if (recorded !== undefined) span.setAttribute(ATTR.input, recorded)
    const step = config?.metadata?.langgraph_step
    if (typeof step === 'number') span.setAttribute('switchyard.graph.step', step)
    // Promise callbacks rather than an async function: every promise of a run costs its
    // share of the AsyncLocalStorage hooks, and a node runs often.
    return context.with(trace.setSpan(parent, span), () => {
      let running: Promise<unknown>
      try {
        running = Promise.resolve(invoke.call(this, input, config))
      } catch (error) {
        failed(span, error)
        throw error
      }
      return running.then(
        (output) => {
          const captured = captureValue(output, FULL)
          if (captured !== undefined) span.setAttribute(ATTR.output, captured)
          span.end()
          return output
        },
        (error: unknown) => {
          failed(span, error)
          throw error
        },
      )
    })
  }
}

/** Record a node's failure on its span and end it. */
function failed(span: Span, error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error))
  span.recordException(e)
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message })
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') span.setAttribute(ATTR.errorCode, code)
  span.end()
}
