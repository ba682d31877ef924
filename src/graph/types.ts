// The contract between a graph module and the pool worker that runs it
// (DESIGN §2.5, §2.6). Types only: graph modules `import type` these freely.

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** A workflow's prompt file, loaded: Markdown with optional front matter and {{variables}}. */
export interface Prompt {
  /** Absolute path of the prompt file. */
  readonly path: string
  /** The Markdown body (front matter removed). */
  readonly text: string
  /** `sha256:<hex>` of the file's bytes; recorded on the run's span. */
  readonly hash: string
  /** Model parameters from the front matter (temperature, maxTokens, …). */
  readonly params: Readonly<Record<string, unknown>>
  /** Fill {{variables}}; a missing variable throws an error naming it. */
  render(vars: Readonly<Record<string, unknown>>): string
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant'
  readonly content: string
}

export interface GenerateRequest {
  readonly messages: readonly ChatMessage[]
  /** When set, the model answers with an object valid against this JSON Schema. */
  readonly schema?: { readonly [key: string]: unknown }
  readonly temperature?: number
  readonly maxTokens?: number
  readonly signal?: AbortSignal
  /** Names the call: the `switchyard.model.call` attribute of its span (the span itself is `chat <model>`). */
  readonly name?: string
}

export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
}

export interface GenerateResult {
  readonly text: string
  /** The parsed, schema-valid object when `schema` was given. */
  readonly object?: unknown
  readonly usage: Usage
  /** Estimated cost in US dollars from the price table (0 for offline). */
  readonly costUsd: number
  /** Resolved model id, e.g. `offline`, `openai:gpt-4o-mini`. */
  readonly model: string
  /** True when the offline model produced this. */
  readonly offline: boolean
}

/** The pool's model client (chosen by SWITCHYARD_MODEL in the pool's env). */
export interface ModelClient {
  readonly id: string
  readonly offline: boolean
  generate(request: GenerateRequest): Promise<GenerateResult>
}

/** What a graph receives on every run. */
export interface RunContext {
  readonly runId: string
  readonly workflow: string
  readonly pool: string
  readonly attempt: number
  /** Aborts at the deadline (or when the run is cancelled). */
  readonly signal: AbortSignal
  readonly deadline: Date
  readonly prompt: Prompt | null
  readonly model: ModelClient
  readonly log: Logger
}

/** What a graph factory receives, once per worker process. */
export interface GraphSetup {
  readonly workflow: string
  readonly pool: string
  /** Directory of the registry file. */
  readonly root: string
  readonly prompt: Prompt | null
  readonly model: ModelClient
  readonly log: Logger
}

/**
 * A compiled LangGraph graph with how the workflow's input and output meet its state
 * (see defineGraph). The worker invokes `graph` itself, so its nodes become spans.
 */
export interface GraphWithIO<State, Input = unknown, Output = State> {
  // `never` parameters: any compiled graph's invoke fits, whatever its input and config types.
  readonly graph: { invoke(input: never, config?: never): Promise<State> }
  /** The graph's input state from the workflow's input. @default the input as it is */
  readonly input?: (input: Input) => unknown
  /** The workflow's flat output from the graph's final state. @default the whole final state */
  readonly output?: (state: State) => Output
}

/**
 * What a graph factory returns: a GraphWithIO (a LangGraph graph: see defineGraph),
 * anything with invoke (its result is the output), or a plain function.
 */
export type Runnable =
  | GraphWithIO<any, any, unknown> // eslint-disable-line @typescript-eslint/no-explicit-any -- any graph's state and input
  | { invoke(input: unknown, config?: Record<string, unknown>): Promise<unknown> }
  | ((input: unknown, run: RunContext) => unknown)

export type GraphFactory = (setup: GraphSetup) => Runnable | Promise<Runnable>
