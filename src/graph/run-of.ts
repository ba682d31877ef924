// How a LangGraph node finds its run: the worker passes the RunContext as
// `configurable.run` in invoke's config, which LangGraph hands to every node.
import { context, type Context } from '@opentelemetry/api'
import { SwitchyardError } from '../control/errors.js'
import type { RunContext } from './types.js'

/**
 * A LangChain callback handler that traces graph nodes can say which OpenTelemetry
 * context a node's work belongs to (src/observe's node-span handler); model calls made
 * inside the node then become children of its `node <name>` span.
 */
export interface NodeContextSource {
  contextFor(runId: string): Context | undefined
}

/**
 * The RunContext of the run a LangGraph node is part of.
 *
 * @example
 * builder.addNode('draft', async (state, config) => {
 *   const run = runOf(config)
 *   const { object } = await run.model.generate({ messages, schema, signal: run.signal })
 * })
 */
export function runOf(config: unknown): RunContext {
  const run = (config as { configurable?: { run?: unknown } } | undefined)?.configurable?.run
  if (run === null || typeof run !== 'object' || typeof (run as RunContext).model?.generate !== 'function') {
    throw new SwitchyardError(
      'GRAPH_FAILED',
      "no run context in this node's config: invoke the graph with { configurable: { run } } (the worker does this)",
    )
  }
  const parent = nodeContext(config)
  if (parent === undefined) return run as RunContext
  const { model } = run as RunContext
  return {
    ...(run as RunContext),
    model: { id: model.id, offline: model.offline, generate: (request) => context.with(parent, () => model.generate(request)) },
  }
}

// Inside a node, config.callbacks is a CallbackManager whose parent run is the node's own run.
function nodeContext(config: unknown): Context | undefined {
  const callbacks = (config as { callbacks?: unknown }).callbacks
  if (callbacks === null || typeof callbacks !== 'object' || Array.isArray(callbacks)) return undefined
  const manager = callbacks as { getParentRunId?: () => string | undefined; handlers?: unknown[] }
  const runId = typeof manager.getParentRunId === 'function' ? manager.getParentRunId() : undefined
  if (runId === undefined) return undefined
  for (const handler of manager.handlers ?? []) {
    const source = handler as Partial<NodeContextSource> | null
    if (typeof source?.contextFor === 'function') {
      const found = source.contextFor(runId)
      if (found !== undefined) return found
    }
  }
  return undefined
}
