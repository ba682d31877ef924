// The resolved registry and the route plan: the data every plane shares.
// Everything here is plain, JSON-serialisable data (Maps aside), so the compiled
// registry can be cached and loaded without parsing YAML.

export type Runtime = 'node' | 'python'
export type Capture = 'full' | 'redacted' | 'none'

/** A JSON Schema (2020-12) object, as written in the registry or its schema file. */
export type JsonSchema = { readonly [key: string]: unknown } | boolean

export interface TracingConfig {
  /** Trace project the pool's spans (and its runs' gateway spans) belong to. */
  readonly project: string
  /** Fraction of runs kept, 0..1, decided once at the gateway from the trace id. */
  readonly sampleRate: number
  readonly capture: Capture
  /** Extra keys (object property names) masked when capture is `redacted`. */
  readonly redact: readonly string[]
}

export interface Pool {
  readonly name: string
  readonly runtime: Runtime
  /** Runs at once per worker process. */
  readonly concurrency: number
  /** Worker processes on one machine (dev/start). */
  readonly processes: number
  /** Default run deadline, milliseconds. */
  readonly timeoutMs: number
  /** Extra attempts for retryable failures. */
  readonly retries: number
  /** Queued runs beyond which new runs are refused (POOL_SATURATED). */
  readonly maxQueued: number
  /** Heap cap per worker process, bytes; null = Node's default. */
  readonly memoryBytes: number | null
  /**
   * CPU cap for all of the pool's processes together, in cores (1.5: one and a half), or
   * null for none: `switchyard start` applies it as a cgroup CPU quota where it can.
   */
  readonly cpuCores: number | null
  /** Largest output a run may return, bytes of its JSON (UTF-8): larger is OUTPUT_TOO_LARGE. */
  readonly maxOutputBytes: number
  /**
   * Env variables whose values are secrets besides those named *_KEY, *_TOKEN, *_SECRET
   * and *_PASSWORD: scrubbed from the pool's spans, logs and run errors in every capture mode.
   */
  readonly secrets: readonly string[]
  /** Env file loaded into this pool's workers only: absolute path, or null. */
  readonly env: string | null
  /** Redis URL for this pool's queue, or null to use the broker default. */
  readonly redis: string | null
  /**
   * OS user `switchyard start` runs this pool's processes as (a name, or a numeric uid,
   * as written), or null: the supervisor's own. `dev` ignores it.
   */
  readonly user: string | null
  readonly tracing: TracingConfig
}

export interface GraphRef {
  /** As written in the registry: `workflows/email-compose/graph.ts#graph`. */
  readonly ref: string
  /** Absolute path of the module. */
  readonly module: string
  /** Export name (default `graph`). */
  readonly export: string
}

export interface Workflow {
  readonly name: string
  readonly pool: string
  readonly graph: GraphRef
  /** Absolute path of the prompt file, or null. */
  readonly prompt: string | null
  readonly input: JsonSchema
  readonly output: JsonSchema | null
  readonly description: string
  /** Run deadline, milliseconds (workflow override or the pool's). */
  readonly timeoutMs: number
  /** Extra attempts (workflow override or the pool's). */
  readonly retries: number
}

export interface Registry {
  readonly version: 1
  /** Absolute path of the registry file this was loaded from. */
  readonly source: string
  /** Directory every relative path in the registry resolves against. */
  readonly root: string
  /** `sha256:<hex>` of the canonical form; stamped on every envelope and trace. */
  readonly digest: string
  readonly pools: ReadonlyMap<string, Pool>
  readonly workflows: ReadonlyMap<string, Workflow>
}

export interface RouteRequest {
  readonly workflow: string
  readonly input: unknown
  /** Clock for the deadline; defaults to Date.now(). */
  readonly now?: number
}

export interface RetryPolicy {
  /** 1 + retries. */
  readonly maxAttempts: number
  readonly backoff: { readonly type: 'exponential'; readonly delayMs: number }
}

export interface RoutePlan {
  readonly workflow: string
  readonly pool: string
  /** Broker queue name for the pool. */
  readonly queue: string
  readonly runtime: Runtime
  /** Graph reference as written in the registry (relative to the registry root). */
  readonly graph: string
  /** Prompt path relative to the registry root, or null. */
  readonly prompt: string | null
  /** The validated input, with schema defaults applied (a copy; the caller's object is untouched). */
  readonly input: unknown
  readonly timeoutMs: number
  /** Absolute deadline, ISO 8601. */
  readonly deadline: string
  readonly retry: RetryPolicy
  readonly tracing: TracingConfig
  /** Registry digest, `sha256:…`. */
  readonly registry: string
}
