// How a LangGraph node finds its run: the worker passes the RunContext as
// `configurable.run` in invoke's config, which LangGraph hands to every node.
import { SwitchyardError } from '../control/contract/index.js'
import type { RunContext } from './types.js'

/**
 * The RunContext of the run a LangGraph node is part of. Its model calls are
 * children of the active span: inside a traced run, the node's own `node <name>`.
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
  return run as RunContext
}
