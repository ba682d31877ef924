// The active OpenTelemetry context: OpenTelemetry's own AsyncLocalStorageContextManager,
// plus one lookup a worker installs for LangGraph. A node's spans come from a LangChain
// callback handler (observe/langgraph), which sees a node start and end but cannot run
// the node's code inside a context of its own; so while a node runs, the context its
// code sees is refined here: the node's span when the stored context is the one the
// node started under, the stored one when code inside the node opened a span of its own.
// Processes without LangGraph (the gateway) install nothing and get the stock manager.
import type { Context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'

/** Given the stored context, the one code running now should see. */
export type ContextRefiner = (stored: Context) => Context

let refiner: ContextRefiner | undefined

/** Install (or remove, with undefined) the refiner every context manager of this process consults. */
export function refineActiveContext(next: ContextRefiner | undefined): void {
  refiner = next
}

/**
 * The stock AsyncLocalStorage context manager, whose active() goes through the refiner
 * when one is installed.
 *
 * @example
 * provider.register({ contextManager: new RefinedContextManager() })
 */
export class RefinedContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    const stored = super.active()
    return refiner === undefined ? stored : refiner(stored)
  }
}
