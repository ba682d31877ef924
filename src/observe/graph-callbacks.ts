// LangGraph node spans: a LangChain callback handler that opens `node <name>` for
// every graph node run and closes it when the node ends or throws. The worker
// passes `callbacks: graphCallbacks()` into `invoke`, inside its `run <workflow>` span.
import { context, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api'
import { BaseCallbackHandler } from '@langchain/core/callbacks/base'
import type { Serialized } from '@langchain/core/load/serializable'
import type { ChainValues } from '@langchain/core/utils/types'
import { ATTR } from '../control/attributes.js'
import { captureValue } from './capture.js'
import { attachContext } from './context-manager.js'

const TRACER = 'switchyard.graph'
// Recorded in full here; the process's exporter applies the pool's capture mode
// (RedactingExporter: masked when `redacted`, dropped when `none`).
const FULL = { capture: 'full', redact: [] } as const

/**
 * Turns each LangGraph node run into a span. LangGraph reports a node as a chain
 * run whose run name equals `metadata.langgraph_node`; the runnables inside a node
 * inherit that metadata under other names, so they are not nodes.
 */
class NodeSpanHandler extends BaseCallbackHandler {
  name = 'switchyard-node-spans'
  // Open the span before the node's code runs, so its duration covers the node.
  override awaitHandlers = true

  /** The span each chain run belongs to: its own (a node), or its nearest node ancestor's. */
  private readonly owners = new Map<string, Context>()
  private readonly spans = new Map<string, { readonly span: Span; readonly parent: Context }>()

  private readonly tracer = trace.getTracer(TRACER)

  constructor(private readonly root: Context) {
    super()
  }

  // The declared parameter order of handleChainStart differs from the order
  // @langchain/core 1.x calls it with (callbacks/manager.js):
  // (chain, inputs, runId, parentRunId, tags, metadata, runType, runName). We follow the call.
  override handleChainStart(
    _chain: Serialized,
    inputs: ChainValues,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): void {
    const parent = (parentRunId === undefined ? undefined : this.owners.get(parentRunId)) ?? this.root
    const node = metadata?.langgraph_node
    if (typeof node !== 'string' || node !== runName || node.startsWith('__')) {
      this.owners.set(runId, parent)
      return
    }
    const span = this.tracer.startSpan(`node ${node}`, { attributes: { [ATTR.graphNode]: node } }, parent)
    const input = captureValue(inputs, FULL)
    if (input !== undefined) span.setAttribute(ATTR.input, input)
    const step = metadata?.langgraph_step
    if (typeof step === 'number') span.setAttribute('switchyard.graph.step', step)
    const inside = trace.setSpan(parent, span)
    this.spans.set(runId, { span, parent })
    this.owners.set(runId, inside)
    // This runs just before the node's code, in the same async flow: attaching makes the
    // node span the parent of what the node does (model calls) until the node ends.
    attachContext(inside)
  }

  override handleChainEnd(outputs: ChainValues, runId: string): void {
    const node = this.spans.get(runId)
    const output = node === undefined ? undefined : captureValue(outputs, FULL)
    if (output !== undefined) node?.span.setAttribute(ATTR.output, output)
    this.finish(runId)
  }

  override handleChainError(error: Error, runId: string): void {
    this.finish(runId, error)
  }

  private finish(runId: string, error?: Error): void {
    this.owners.delete(runId)
    const node = this.spans.get(runId)
    if (node === undefined) return
    this.spans.delete(runId)
    attachContext(node.parent)
    const { span } = node
    if (error) {
      span.recordException(error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string') span.setAttribute(ATTR.errorCode, code)
    }
    span.end()
  }
}

/**
 * Callback handlers for one graph invocation: each LangGraph node becomes a span
 * `node <name>`, child of the span active when this is called (the run span).
 * Call it once per run, inside the run span; it returns [] when that span is not recording.
 *
 * @example
 * await tracer.startActiveSpan(`run ${workflow}`, (span) => graph.invoke(input, { callbacks: graphCallbacks() }))
 */
export function graphCallbacks(): unknown[] {
  const active = context.active()
  // An unsampled run records no node spans anyway (they follow its flag): skip the handler's work.
  if (!trace.getSpan(active)?.isRecording()) return []
  return [new NodeSpanHandler(active)]
}
