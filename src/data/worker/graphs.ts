// Lazy graph loading: a workflow's module is imported, and its factory called, on the
// first run of that workflow in this process; the Runnable is cached. A module that
// fails to import or build fails that workflow's runs only (GRAPH_LOAD_FAILED, not
// retryable: the same code fails the same way), and the pool keeps serving the others.
import { pathToFileURL } from 'node:url'
import { SwitchyardError } from '../../control/index.js'
import type { Workflow } from '../../control/index.js'
import { loadPrompt } from '../../graph/index.js'
import { traceGraphNodes } from '../../observe/sdk/index.js'
import type { GraphFactory, Logger, ModelClient, Prompt, Runnable } from '../../graph/index.js'

export interface LoadedGraph {
  readonly runnable: Runnable
  readonly prompt: Prompt | null
}

export interface GraphCacheOptions {
  readonly pool: string
  /** Directory of the registry file (GraphSetup.root). */
  readonly root: string
  /** The pool's model client, created once per process. */
  readonly model: () => ModelClient
  readonly log: Logger
}

let typeScriptReady: Promise<void> | undefined

/** Graph modules are TypeScript: make sure this process can import .ts (tsx), once. */
function ensureTypeScript(): Promise<void> {
  const loaded = process.execArgv.some((arg) => arg.includes('tsx')) || (process.env.NODE_OPTIONS ?? '').includes('tsx')
  typeScriptReady ??= loaded
    ? Promise.resolve()
    : import('tsx/esm/api').then(({ register }) => {
        register()
      })
  return typeScriptReady
}

function isRunnable(value: unknown): value is Runnable {
  return (
    typeof value === 'function' ||
    (typeof value === 'object' && value !== null && typeof (value as { invoke?: unknown }).invoke === 'function')
  )
}

async function build(workflow: Workflow, options: GraphCacheOptions): Promise<LoadedGraph> {
  const where = `workflow '${workflow.name}': graph ${workflow.graph.ref}`
  try {
    const prompt = workflow.prompt === null ? null : loadPrompt(workflow.prompt)
    if (/\.[mc]?tsx?$/.test(workflow.graph.module)) await ensureTypeScript()
    const module = (await import(pathToFileURL(workflow.graph.module).href)) as Record<string, unknown>
    const factory = module[workflow.graph.export]
    if (typeof factory !== 'function') {
      throw new Error(`the module has no exported function '${workflow.graph.export}'`)
    }
    const runnable = await (factory as GraphFactory)({
      workflow: workflow.name,
      pool: options.pool,
      root: options.root,
      prompt,
      model: options.model(),
      log: options.log,
    })
    if (!isRunnable(runnable)) {
      throw new Error('the factory returned neither a function nor an object with invoke()')
    }
    // LangGraph nodes become spans `node <name>` (when the run is traced).
    return { runnable: traceGraphNodes(runnable), prompt }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new SwitchyardError('GRAPH_LOAD_FAILED', `${where} failed to load: ${message}`, { cause: error })
  }
}

/** One Runnable per workflow per process, built on first use. */
export class GraphCache {
  private readonly graphs = new Map<string, Promise<LoadedGraph>>()

  constructor(private readonly options: GraphCacheOptions) {}

  get(workflow: Workflow): Promise<LoadedGraph> {
    let loaded = this.graphs.get(workflow.name)
    if (!loaded) {
      loaded = build(workflow, this.options)
      loaded.catch((error: unknown) => this.options.log.error('graph failed to load', { workflow: workflow.name, error: String(error) }))
      this.graphs.set(workflow.name, loaded)
    }
    return loaded
  }
}
