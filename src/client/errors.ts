// The client's errors: one class carrying the gateway's problem fields, and a
// subclass for the case callers branch on (the run started and failed).
import type { InputIssue, ProblemBody } from './types.js'

export interface ClientErrorFields {
  readonly code: string
  /** HTTP status; 0 when no response arrived (network error, timeout). */
  readonly status: number
  readonly runId?: string | undefined
  readonly traceId?: string | undefined
  readonly workflow?: string | undefined
  readonly pool?: string | undefined
  /** INVALID_INPUT: JSON pointers into the input and what is wrong there. */
  readonly issues?: readonly InputIssue[] | undefined
  /** Did-you-mean names for UNKNOWN_WORKFLOW. */
  readonly suggestions?: readonly string[] | undefined
  /** Seconds the gateway asked to wait (429, 503). */
  readonly retryAfter?: number | undefined
  readonly problem?: ProblemBody | undefined
  readonly cause?: unknown
}

/**
 * Anything the gateway refused or could not do, with its stable `code`
 * (UNKNOWN_WORKFLOW, INVALID_INPUT, POOL_SATURATED, …).
 *
 * @example
 * try { await client.run('email.compose', input) }
 * catch (e) { if (e instanceof SwitchyardClientError && e.code === 'INVALID_INPUT') console.log(e.issues) }
 */
export class SwitchyardClientError extends Error {
  readonly code: string
  readonly status: number
  readonly runId: string | undefined
  readonly traceId: string | undefined
  readonly workflow: string | undefined
  readonly pool: string | undefined
  readonly issues: readonly InputIssue[]
  readonly suggestions: readonly string[]
  readonly retryAfter: number | undefined
  readonly problem: ProblemBody | undefined

  constructor(message: string, fields: ClientErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = 'SwitchyardClientError'
    this.code = fields.code
    this.status = fields.status
    this.runId = fields.runId
    this.traceId = fields.traceId
    this.workflow = fields.workflow
    this.pool = fields.pool
    this.issues = fields.issues ?? []
    this.suggestions = fields.suggestions ?? []
    this.retryAfter = fields.retryAfter
    this.problem = fields.problem
  }
}

/** The run was accepted and then failed (502, `code` is the graph's) or missed its deadline (504). */
export class RunFailedError extends SwitchyardClientError {
  constructor(message: string, fields: ClientErrorFields) {
    super(message, fields)
    this.name = 'RunFailedError'
  }
}

/** Build the error for a non-2xx response from its problem+json body (or whatever came). */
export function errorFromResponse(response: Response, body: unknown, retryAfter: number | undefined): SwitchyardClientError {
  const problem = isProblem(body) ? body : undefined
  const code = problem?.code ?? `HTTP_${response.status}`
  const detail = problem?.detail ?? (typeof body === 'string' && body !== '' ? body.slice(0, 500) : response.statusText || 'no detail')
  const fields: ClientErrorFields = {
    code,
    status: response.status,
    runId: problem?.runId ?? response.headers.get('x-switchyard-run-id') ?? undefined,
    traceId: problem?.traceId ?? response.headers.get('x-switchyard-trace-id') ?? undefined,
    workflow: problem?.workflow,
    pool: problem?.pool,
    issues: problem?.errors,
    suggestions: problem?.suggestions,
    retryAfter,
    problem,
  }
  const message = `${code}: ${detail}`
  return response.status === 502 || response.status === 504
    ? new RunFailedError(message, fields)
    : new SwitchyardClientError(message, fields)
}

function isProblem(body: unknown): body is ProblemBody {
  return typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string'
}
