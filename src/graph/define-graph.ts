// The shape a graph factory returns for a LangGraph graph (DESIGN §2.5): the compiled
// graph itself, so the worker runs it with the run's config (node spans, the run
// context, the abort signal), and how the workflow's input becomes the graph's input
// state and its final state becomes the workflow's flat output. A factory may also
// return a plain function (input, run) => output, or anything with invoke() whose result
// is the output.
import type { GraphWithIO, RunContext, Runnable } from './types.js'

/**
 * A LangGraph graph and its two edges to the workflow: `input` maps the workflow's input
 * to the graph's input state (default: the input as it is), `output` picks the workflow's
 * output from the final state (default: the whole state). Returns its argument; it is
 * there for the types (the state type flows from `graph` into `output`).
 *
 * @example
 * return defineGraph({
 *   graph: builder.compile(),
 *   input: (input: EmailInput) => ({ input }),
 *   output: (state) => ({ subject: state.draft.subject, body: state.draft.body }),
 * })
 */
export function defineGraph<State, Input = unknown, Output = State>(
  graph: GraphWithIO<State, Input, Output>,
): GraphWithIO<State, Input, Output> {
  return graph
}

/** True for what a factory may return: a function, something with invoke(), or a GraphWithIO. */
export function isRunnable(value: unknown): value is Runnable {
  if (typeof value === 'function') return true
  if (typeof value !== 'object' || value === null) return false
  if (typeof (value as { invoke?: unknown }).invoke === 'function') return true
  const shaped = value as Partial<GraphWithIO<unknown>>
  return (
    typeof shaped.graph?.invoke === 'function' &&
    (shaped.input === undefined || typeof shaped.input === 'function') &&
    (shaped.output === undefined || typeof shaped.output === 'function')
  )
}

/** The LangChain run config a graph is invoked with. */
export interface GraphRunConfig {
  readonly signal: AbortSignal
  readonly configurable: { readonly run: RunContext }
  readonly callbacks?: unknown
}

/**
 * Run what a factory returned on one input: the workflow's output. `config` lets the
 * worker add to the run config (its node span handler).
 *
 * @example
 * const output = await runGraph(await graph(setupOf(run)), input, run)
 */
export async function runGraph<R extends Runnable>(
  runnable: R,
  input: unknown,
  run: RunContext,
  config: (base: GraphRunConfig) => GraphRunConfig = (base) => base,
): Promise<OutputOf<R>> {
  return (await run_(runnable, input, run, config)) as OutputOf<R>
}

/** What running a factory's result gives: the output's type, as far as the types say. */
export type OutputOf<R> =
  R extends GraphWithIO<infer State, never, infer Output>
    ? unknown extends Output
      ? State
      : Output
    : R extends (...args: never[]) => infer O
      ? Awaited<O>
      : R extends { invoke(...args: never[]): Promise<infer O> }
        ? O
        : unknown

async function run_(
  runnable: Runnable,
  input: unknown,
  run: RunContext,
  config: (base: GraphRunConfig) => GraphRunConfig,
): Promise<unknown> {
  if (typeof runnable === 'function') return runnable(input, run)
  const base: GraphRunConfig = { signal: run.signal, configurable: { run } }
  if ('invoke' in runnable) return runnable.invoke(input, config(base) as unknown as Record<string, unknown>)
  const graph = runnable.graph as { invoke(input: unknown, config: unknown): Promise<unknown> }
  const state = await graph.invoke(runnable.input ? runnable.input(input) : input, config(base))
  return runnable.output ? runnable.output(state) : state
}
