// Span attribute and resource names, in one place for every plane.
// (Pure constants: src/client may import them.)

export const ATTR = {
  pool: 'switchyard.pool',
  project: 'switchyard.project',
  workflow: 'switchyard.workflow',
  runId: 'switchyard.run_id',
  attempt: 'switchyard.attempt',
  registry: 'switchyard.registry',
  queue: 'switchyard.queue',
  errorCode: 'switchyard.error.code',
  promptHash: 'switchyard.prompt.hash',
  graphNode: 'switchyard.graph.node',
  /** LangGraph's superstep number of a node's span (its `langgraph_step`). */
  graphStep: 'switchyard.graph.step',
  input: 'switchyard.input',
  output: 'switchyard.output',
  offline: 'switchyard.model.offline',
  costUsd: 'switchyard.model.cost_usd',
  /** The graph's own name for a model call (GenerateRequest.name); the span is named `chat <model>`. */
  modelCall: 'switchyard.model.call',
  /** The pool's sampleRate, set by the gateway on a run's request span: the one sampling decision (DESIGN §3). */
  sampleRate: 'switchyard.sample_rate',
  /** Set by the gateway when an authorised caller asked for the run to be kept whatever the sample rate (x-switchyard-force-trace). */
  traceForced: 'switchyard.trace.forced',
  /**
   * Set by the gateway on a request's span: a stable id of the credential that sent the
   * request (never the token). The trace store merges a caller's own spans into a run's
   * trace only when the gateway's span names that caller.
   */
  caller: 'switchyard.caller',
  /** Set by the gateway on the enqueue span when an Idempotency-Key named a run already admitted. */
  deduped: 'switchyard.deduped',
  /** On a model call's `gen_ai.output.invalid` event: why the answer failed its schema. */
  validation: 'switchyard.validation',
} as const

/** OpenTelemetry GenAI semantic-convention names used on model-call spans. */
export const GENAI = {
  system: 'gen_ai.system',
  operation: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  temperature: 'gen_ai.request.temperature',
  maxTokens: 'gen_ai.request.max_tokens',
  /**
   * The chat history sent to the model, and the model's answer: JSON strings in the
   * GenAI conventions' message shape (`[{ role, parts: [{ type: 'text', content }] }]`,
   * the output with a `finish_reason`), as the pool's capture allows (DESIGN §3).
   */
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
} as const

export const SERVICE = {
  gateway: 'switchyard-gateway',
  pool: (pool: string) => `switchyard-pool-${pool}`,
} as const
