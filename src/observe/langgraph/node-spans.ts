// LangGraph node spans through LangChain's public callback API: a handler in the run's
// config (`callbacks`) opens `node <name>` when LangGraph starts a node and ends it when
// the node ends or fails. The worker adds the handler only to runs whose span records,
// so an unsampled run pays nothing: LangChain builds callback managers only for runs
// that have handlers.
//
// While a node runs, what it calls (a model call, a span of the graph's own) should be
// a child of the node's span. The handler cannot wrap the node's code, so it keeps, per
// LangChain run, the node it belongs to, and the process's context manager asks it
// (refineActiveContext) which node the code running now is in: LangChain keeps the
// current run's config in its AsyncLocalStorage (getRunnableConfig, what LangGraph's
// own getConfig() reads), whose callback manager names the run as its parent.
import { context, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api'
import { BaseCallbackHandler } from '@langchain/core/callbacks/base'
import type { Serialized } from '@langchain/core/load/serializable'
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons'
import { ATTR } from '../../control/index.js'
import { captureValue } from '../capture/index.js'
import { refineActiveContext } from '../sdk/index.js'

const TRACER = 'switchyard.graph'
// Recorded in full here; the process's exporter applies the pool's capture mode
// (RedactingExporter: masked when `redacted`, dropped when `none`).
const FULL = { capture: 'full', redact: [] } as const

/** A node run: its span, its context, and the stored span its code runs under (unless it opens one). */
interface NodeEntry {
  readonly span: Span
  readonly context: Context
  readonly startedUnder: Span | undefined
}

/** Every LangChain run inside a traced node, by run id → the innermost node it runs in. */
const runs = new Map<string, NodeEntry>()
/** Runs that are nodes (their spans end with them). */
const nodes = new Set<string>()

/** The config of the LangChain run executing now, if any (what LangGraph's getConfig() returns). */
function currentParentRun(): string | undefined {
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as { callbacks?: unknown } | undefined
  const callbacks = config?.callbacks as { getParentRunId?: () => string | undefined } | undefined
  return typeof callbacks?.getParentRunId === 'function' ? callbacks.getParentRunId() : undefined
}

/** The refiner: inside a traced node, the node's context, unless the node's code opened a span of its own. */
function nodeContextOf(stored: Context): Context {
  if (runs.size === 0) return stored
  const run = currentParentRun()
  const entry = run === undefined ? undefined : runs.get(run)
  if (entry === undefined) return stored
  return trace.getSpan(stored) === entry.startedUnder ? entry.context : stored
}

/** Is this chain run a LangGraph node (not the graph itself, not a runnable inside a node)? */
function nodeName(tags: readonly string[] | undefined, metadata: Readonly<Record<string, unknown>> | undefined, name: string | undefined) {
  const node = metadata?.langgraph_node
  if (typeof node !== 'string' || node !== name || node.startsWith('__')) return undefined
  return tags?.includes(`graph:step:${String(metadata?.langgraph_step)}`) ? node : undefined
}

/**
 * Opens `node <name>` spans for the LangGraph nodes of the runs it is given to.
 * One per process (see nodeSpanHandler).
 */
class NodeSpanHandler extends BaseCallbackHandler {
  readonly name = 'switchyard_node_spans'
  // Started and ended in step with the node, not on LangChain's background queue.
  override awaitHandlers = true

  constructor() {
    // Tools are "agent" callbacks to LangChain: kept, since code inside a tool runs in its node.
    super({ ignoreLLM: true, ignoreRetriever: true, ignoreCustomEvent: true })
  }

  // LangChain's callback manager passes (…, runId, parentRunId, tags, metadata, runType, runName),
  // as its BaseTracer reads them; the handler interface names the 4th and 7th–8th differently.
  override handleChainStart(
    _chain: Serialized,
    inputs: unknown,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): void {
    const node = nodeName(tags, metadata, runName)
    if (node === undefined) {
      const parent = parentRunId === undefined ? undefined : runs.get(parentRunId)
      if (parent !== undefined) runs.set(runId, parent)
      return
    }
    // The parent: the node this one runs in (a subgraph's node), unless a span was opened
    // inside that node; else the span active now (the run span).
    const active = context.active()
    const within = parentRunId === undefined ? undefined : runs.get(parentRunId)
    const nested = within !== undefined && trace.getSpan(active) === within.startedUnder
    const parent = nested ? within.context : active
    const span = trace.getTracer(TRACER).startSpan(`node ${node}`, { attributes: { [ATTR.graphNode]: node } }, parent)
    const recorded = captureValue(inputs, FULL)
    if (recorded !== undefined) span.setAttribute(ATTR.input, recorded)
    const step = metadata?.langgraph_step
    if (typeof step === 'number') span.setAttribute(ATTR.graphStep, step)
    // The stored span this node's code will see (no one stores a node's span): the refiner compares against it.
    runs.set(runId, { span, context: trace.setSpan(parent, span), startedUnder: nested ? within.startedUnder : trace.getSpan(active) })
    nodes.add(runId)
  }

  override handleChainEnd(outputs: unknown, runId: string): void {
    const entry = this.forget(runId)
    if (entry === undefined) return
    const captured = captureValue(outputs, FULL)
    if (captured !== undefined) entry.span.setAttribute(ATTR.output, captured)
    entry.span.end()
  }

  override handleChainError(error: unknown, runId: string): void {
    const entry = this.forget(runId)
    if (entry === undefined) return
    const e = error instanceof Error ? error : new Error(String(error))
    entry.span.recordException(e)
    entry.span.setStatus({ code: SpanStatusCode.ERROR, message: e.message })
    const code = (error as { code?: unknown } | null)?.code
    if (typeof code === 'string') entry.span.setAttribute(ATTR.errorCode, code)
    entry.span.end()
  }

  // A tool runs code of its own inside a node: its run belongs to the node too.
  override handleToolStart(_tool: Serialized, _input: string, runId: string, parentRunId?: string): void {
    const parent = parentRunId === undefined ? undefined : runs.get(parentRunId)
    if (parent !== undefined) runs.set(runId, parent)
  }

  override handleToolEnd(_output: unknown, runId: string): void {
    runs.delete(runId)
  }

  override handleToolError(_error: unknown, runId: string): void {
    runs.delete(runId)
  }

  /** The node entry of `runId` if it is a node's run; every run is forgotten when it ends. */
  private forget(runId: string): NodeEntry | undefined {
    const entry = runs.get(runId)
    runs.delete(runId)
    return nodes.delete(runId) ? entry : undefined
  }
}

let handler: NodeSpanHandler | undefined

/** This process's node span handler; the first call installs the node lookup in the context manager. */
function nodeSpanHandler(): NodeSpanHandler {
  if (handler === undefined) {
    handler = new NodeSpanHandler()
    refineActiveContext(nodeContextOf)
  }
  return handler
}

type Callbacks = readonly unknown[] | { addHandler(handler: BaseCallbackHandler, inherit?: boolean): void } | undefined

/**
 * The run config `config` with the node span handler among its callbacks, when the
 * active span records (a kept run); else `config` itself, untouched.
 *
 * @example
 * await tracer.startActiveSpan('run email.compose', (span) => graph.invoke(input, withNodeSpans({ configurable: { run } })))
 */
export function withNodeSpans<C extends object>(config: C): C {
  if (!trace.getSpan(context.active())?.isRecording()) return config
  const spans = nodeSpanHandler()
  const callbacks = (config as { callbacks?: unknown }).callbacks as Callbacks
  if (callbacks === undefined) return { ...config, callbacks: [spans] }
  if (Array.isArray(callbacks)) return callbacks.includes(spans) ? config : { ...config, callbacks: [...callbacks, spans] }
  const manager = callbacks as { copy?: () => { addHandler(handler: BaseCallbackHandler, inherit?: boolean): void } }
  // A callback manager of the caller's own: a copy with ours added, the caller's left as it was.
  if (typeof manager.copy !== 'function') return config
  const copy = manager.copy()
  copy.addHandler(spans, true)
  return { ...config, callbacks: copy }
}
