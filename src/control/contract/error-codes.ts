// Every error code Switchyard raises, in one closed map: the HTTP status a caller sees,
// whether retrying the same request may succeed, and when it is raised. ErrorCode is
// this map's key type, so a code that is not here does not compile, and the gateway's
// status table cannot miss one. spec/error-codes.json is this map for other languages
// (the Python worker); a test keeps the two equal (`npm run spec` rewrites the JSON).

export interface ErrorCodeInfo {
  /** The HTTP status of a response carrying this code; 0 when no response is involved (raised by the client). */
  readonly status: number
  /** Whether the same request may succeed when tried again (the default for an error of this code). */
  readonly retryable: boolean
  /** Thrown when … (one line). */
  readonly when: string
}

export const ERROR_CODES = {
  // The request
  BAD_REQUEST: { status: 400, retryable: false, when: 'the request is malformed: its path, query, headers or body' },
  UNAUTHORIZED: { status: 401, retryable: false, when: 'the request has no bearer token, or one the gateway does not know' },
  FORBIDDEN: { status: 403, retryable: false, when: "the token is valid but its scopes do not cover the request's role, workflow or pool" },
  NOT_FOUND: { status: 404, retryable: false, when: 'no route answers the method and path, or the trace is not in the store' },
  UNKNOWN_WORKFLOW: { status: 404, retryable: false, when: 'the workflow name is not in the registry (the error suggests near names)' },
  UNKNOWN_RUN: { status: 404, retryable: false, when: 'no run has that id (finished runs are kept for a while, not forever)' },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, when: 'the path exists under other methods (the response lists them in Allow)' },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    retryable: false,
    when: 'the caller already used the idempotency key for this workflow with a different input',
  },
  RUN_FINISHED: { status: 409, retryable: false, when: 'a cancel asked for a run that had already succeeded or failed' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, when: "the request body is larger than the gateway's limit" },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retryable: false,
    when: 'the request body is not declared as JSON (or NDJSON where a batch takes it)',
  },
  MISDIRECTED_REQUEST: {
    status: 421,
    retryable: false,
    when: "the Host header names none of the gateway's names (a guard against DNS rebinding; SWITCHYARD_GATEWAY_ALLOWED_HOSTS lists more)",
  },
  INVALID_INPUT: {
    status: 422,
    retryable: false,
    when: "the input breaks the workflow's input schema (every violation as a JSON pointer)",
  },
  // Capacity and availability
  POOL_SATURATED: {
    status: 429,
    retryable: true,
    when: "the pool's queue already holds maxQueued runs (Retry-After says when to try again)",
  },
  TOO_MANY_REQUESTS: {
    status: 429,
    retryable: true,
    when: "the caller's requests to the pool already fill their queue at the gateway (fair admission; Retry-After says when to try again)",
  },
  BROKER_UNAVAILABLE: { status: 503, retryable: true, when: 'the broker (Redis) cannot be reached, so the run was not accepted' },
  POOL_UNAVAILABLE: { status: 503, retryable: true, when: 'no worker of the pool is alive to take the run' },
  // The run
  DEADLINE_EXCEEDED: { status: 504, retryable: false, when: 'the run did not finish before its deadline' },
  GRAPH_LOAD_FAILED: { status: 502, retryable: false, when: "the workflow's graph module could not be imported, or its factory threw" },
  GRAPH_FAILED: {
    status: 502,
    retryable: false,
    when: 'the graph threw while running (the worker marks what a graph throws retryable: retried while attempts and the deadline allow)',
  },
  OUTPUT_INVALID: { status: 502, retryable: false, when: "the graph's output breaks the workflow's output schema, or is not JSON" },
  OUTPUT_TOO_LARGE: { status: 502, retryable: false, when: "the graph's output is larger than its pool's maxOutput" },
  MODEL_FAILED: {
    status: 502,
    retryable: false,
    when: 'the model provider failed (network errors, timeouts, 429 and 5xx are marked retryable; a missing key is not)',
  },
  MODEL_OUTPUT_INVALID: {
    status: 502,
    retryable: false,
    when: "the model's structured output broke its schema, also after the corrective retry",
  },
  MODEL_SPEC_INVALID: {
    status: 502,
    retryable: false,
    when: "the pool's SWITCHYARD_MODEL is not a model spec this version knows, or lacks its key",
  },
  PROMPT_NOT_FOUND: { status: 502, retryable: false, when: "the workflow's prompt file is missing" },
  PROMPT_INVALID: { status: 502, retryable: false, when: "the workflow's prompt file has malformed front matter" },
  PROMPT_VARIABLE_MISSING: { status: 502, retryable: false, when: 'a {{variable}} of the prompt was not given a value' },
  INVALID_ENVELOPE: {
    status: 502,
    retryable: false,
    when: 'a worker refused the envelope: malformed, unsigned or tampered, for another pool, past its deadline, or already finished',
  },
  WORKER_LOST: {
    status: 502,
    retryable: true,
    when: 'the worker running the run died or lost it, and no attempt was left before the deadline',
  },
  WORKER_CRASHED: { status: 502, retryable: false, when: 'the run crashed its worker too many times and was dead-lettered' },
  CANCELLED: { status: 502, retryable: false, when: 'the run was cancelled before it finished' },
  // Switchyard itself
  REGISTRY_INVALID: { status: 500, retryable: false, when: 'the registry file breaks a rule (every problem at its file:line:col)' },
  CONFIG_INVALID: {
    status: 500,
    retryable: false,
    when: 'a setting outside the registry is unusable: a signing or verify key, a key file, a pool user',
  },
  INTERNAL: { status: 500, retryable: false, when: "a fault of Switchyard's own; the details are in the gateway's log, not the response" },
  // Raised by the typed client when no response arrived
  NETWORK_ERROR: { status: 0, retryable: true, when: 'the client could not reach the gateway, or the connection broke' },
  CLIENT_TIMEOUT: { status: 0, retryable: false, when: "the client's own timeout passed before the gateway answered" },
} as const satisfies Readonly<Record<string, ErrorCodeInfo>>

export type ErrorCode = keyof typeof ERROR_CODES

/** True when `value` is one of Switchyard's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value)
}
