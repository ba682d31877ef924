// Lazy graph loading: a workflow's module is imported, and its factory called, on the
// first run of that workflow in this process; what it returns is cached. A module that
// fails to import or build fails that workflow's runs only (GRAPH_LOAD_FAILED, not
// retryable: the same code fails the same way), and the pool keeps serving the others.
import { pathToFileURL } from 'node:url'
import { SwitchyardError } from '../../control/index.js'
import type { Workflow } from '../../control/index.js'
import { isRunnable, loadPrompt, runGraph } from '../../graph/index.js'
import type { GraphFactory, GraphRunConfig, Logger, ModelClient, Prompt, RunContext } from '../../graph/index.js'

export interface LoadedGraph {
  /** One run of the graph: the workflow's output. */
  run(input: unknown, run: RunContext): Promise<unknown>
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
      throw new Error('the factory returned neither a function, nor an object with invoke(), nor { graph, input?, output? }')
    }
    if (typeof runnable === 'function') return { run: (input, run) => Promise.resolve(runnable(input, run)), prompt }
    // A LangGraph graph: its nodes become spans `node <name>` in a traced run, through a
    // callback handler in the run's config (loaded here: it imports @langchain/core).
    const { withNodeSpans } = await import('../../observe/langgraph/index.js')
    const traced = (config: GraphRunConfig) => withNodeSpans(config)
    return { run: (input, run) => runGraph(runnable, input, run, traced), prompt }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new SwitchyardError('GRAPH_LOAD_FAILED', `${where} failed to load: ${message}`, { cause: error })
  }
}

/** One graph per workflow per process, built on first use. */
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
