// The typed client's public types. `Workflows` (written by `switchyard codegen`) maps
// each workflow name to its input and output; the client is generic over it.
import type { Context, Tracer } from '@opentelemetry/api'
import type { InputIssue, Problem, RunFilter, RunStatus, RunView, WorkflowView } from '../control/contract/index.js'

/** One workflow's types, as codegen writes them. */
export interface WorkflowShape {
  readonly input: unknown
  readonly output: unknown
}

/**
 * What `createClient<W>` accepts: every key of W is a workflow shape. Written as a
 * mapped type over W so that a codegen'd `interface Workflows { … }` (which has no
 * index signature) satisfies it.
 */
export type WorkflowMap<W = AnyWorkflows> = { readonly [K in keyof W]: WorkflowShape }

/** The untyped default: any name, unknown input and output. */
export type AnyWorkflows = Record<string, { input: unknown; output: unknown }>

export type WorkflowName<W> = keyof W & string
export type InputOf<W, N extends keyof W> = W[N] extends { input: infer I } ? I : never
export type OutputOf<W, N extends keyof W> = W[N] extends { output: infer O } ? O : never

export interface ClientOptions {
  /** Gateway base URL, e.g. `http://127.0.0.1:7070`. */
  readonly url: string
  /** Bearer token (SWITCHYARD_TOKENS on the gateway). */
  readonly token?: string
  /** A fetch implementation. @default globalThis.fetch */
  readonly fetch?: typeof fetch
  /** Extra attempts after 429 (pool saturated) or 503 (unavailable). @default 3 */
  readonly retries?: number
  /**
   * Backoff when the gateway sends no Retry-After: a random wait of up to this × 2^attempt
   * (full jitter, `retryDelay`). @default 250
   */
  readonly retryDelayMs?: number
  /**
   * Longest Retry-After the client waits out (plus 0–50 % random jitter, so callers refused
   * together come back spread out), and the cap of the backoff; a longer Retry-After ends
   * the retries. @default 30000
   */
  readonly maxRetryDelayMs?: number
  /**
   * Tracer for the `client run <workflow>` span.
   * @default trace.getTracer('switchyard-client') — a no-op until the host registers an SDK
   */
  readonly tracer?: Tracer
}

export interface CallOptions {
  readonly signal?: AbortSignal
  /**
   * The trace context to continue. @default context.active() — which is always empty
   * when the host registered no context manager, so pass it explicitly there.
   */
  readonly context?: Context
  /** Give up after this many milliseconds (CLIENT_TIMEOUT); the run itself goes on. */
  readonly timeout?: number
}

export interface RunOptions extends CallOptions {
  /**
   * The same key with the same input returns the same run instead of starting another;
   * with another input, IDEMPOTENCY_CONFLICT. Keys are the caller's own (its token's): another
   * token's key of the same name is another run.
   */
  readonly idempotencyKey?: string
  /** Return at once with the queued run (`Prefer: respond-async`) instead of its output. */
  readonly async?: boolean
  /**
   * Ask the gateway to keep this run's trace whatever its pool's sampleRate
   * (`x-switchyard-force-trace: 1`); honoured only for tokens allowed to force tracing.
   * @default false
   */
  readonly forceTrace?: boolean
}

export type { RunFilter, RunStatus }

/** A run as the gateway shows it (`GET /v1/runs/{id}`, or `run(…, { async: true })`). */
export type RunInfo<O = unknown> = RunView<O>

/** A workflow as callers may see it (`GET /v1/workflows`). */
export type WorkflowInfo = WorkflowView

/** The problem+json body of a gateway error (RFC 9457), read defensively: any field may be missing. */
export type ProblemBody = Partial<Problem>

export type { InputIssue }

export interface SwitchyardClient<W extends WorkflowMap<W> = AnyWorkflows> {
  /**
   * Run a workflow and resolve with its output (flat: the graph's result object).
   * With `{ async: true }`, resolve at once with the queued run instead.
   * Rejects with SwitchyardClientError (RunFailedError when the run itself failed).
   *
   * @example const email = await client.run('email.compose', { lead }, { idempotencyKey: lead.id })
   */
  // `keyof W & string` is spelled out (not WorkflowName<W>) so compile errors list the names.
  run<N extends keyof W & string>(
    name: N,
    input: InputOf<W, N>,
    options: RunOptions & { readonly async: true },
  ): Promise<RunInfo<OutputOf<W, N>>>
  run<N extends keyof W & string>(name: N, input: InputOf<W, N>, options?: RunOptions & { readonly async?: false }): Promise<OutputOf<W, N>>
  /** A run's status, output or error, attempts, timings and trace id. */
  get(runId: string, options?: CallOptions): Promise<RunInfo>
  /**
   * Cancel a queued or running run (`POST /v1/runs/{id}/cancel`): resolves with the run,
   * `cancelled` once its worker stopped it (a running graph sees its abort signal), or
   * still `running` when that takes longer. Cancelling a cancelled run is fine; a run that
   * already succeeded or failed rejects with RUN_FINISHED (409), an unknown one UNKNOWN_RUN (404),
   * another token's run FORBIDDEN (403: only the token that started a run, or an admin, cancels it).
   *
   * @example const run = await client.cancel(runId) // run.status: 'cancelled'
   */
  cancel(runId: string, options?: CallOptions): Promise<RunInfo>
  /**
   * Poll a run (started with `{ async: true }`) until it finishes: its output, or
   * RunFailedError with the run's code. Bound it with `timeout` or `signal`.
   *
   * @example const { runId } = await client.run('email.compose', input, { async: true }); const email = await client.wait(runId, { timeout: 60_000 })
   */
  wait<O = unknown>(runId: string, options?: CallOptions & { readonly pollMs?: number }): Promise<O>
  /**
   * Recent runs, newest first (`GET /v1/runs`): every run the broker still holds — queued,
   * running, finished or dead-lettered, traced or not.
   *
   * @example const failed = await client.runs({ workflow: 'email.compose', status: 'failed', limit: 20 })
   */
  runs(filter?: RunFilter, options?: CallOptions): Promise<RunInfo[]>
  /** The workflows the gateway serves, with their schemas. */
  workflows(options?: CallOptions): Promise<WorkflowInfo[]>
}
