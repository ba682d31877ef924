// RFC 9457 problem details: the one shape every gateway error takes on the wire.
// The status comes from the error's stable code, so a handler only throws.
import type { ServerResponse } from 'node:http'
import { ERROR_CODES, SwitchyardError, InvalidInputError, UnknownWorkflowError, type ErrorCode } from '../control/index.js'
import type { Problem } from '../control/index.js'
import { safeHeaders } from './headers.js'

export type { Problem }

/** What the gateway knows about the request when the error happened. */
export interface ProblemContext {
  readonly runId?: string
  readonly traceId?: string
  readonly workflow?: string
  readonly pool?: string
}

const TITLE: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** The HTTP status of an error code (ERROR_CODES is exhaustive by type). */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status
}

/**
 * The status of a run that finished without output: the run's own code decides
 * only between "the deadline passed" (504) and "the run failed" (502).
 */
export function runFailureStatus(code: ErrorCode): number {
  return code === 'DEADLINE_EXCEEDED' ? 504 : 502
}

/** `urn:switchyard:problem:unknown-workflow` — stable, and readable without a lookup. */
export function problemType(code: string): string {
  return `urn:switchyard:problem:${code.toLowerCase().replaceAll('_', '-')}`
}

/** Build the problem for anything thrown; `status` overrides the code's own (run failures). */
export function toProblem(error: unknown, context: ProblemContext = {}, status?: number): Problem {
  const err = SwitchyardError.from(error)
  const resolved = status ?? httpStatusOf(err.code)
  // A fault of ours must not leak internals (paths, stack) to callers.
  const detail = resolved === 500 && err.code === 'INTERNAL' ? 'internal error; see the gateway log' : err.message
  return {
    type: problemType(err.code),
    title: TITLE[resolved] ?? 'Error',
    status: resolved,
    detail,
    code: err.code,
    ...defined(context),
    ...(err instanceof InvalidInputError ? { workflow: err.workflow, errors: err.issues } : {}),
    ...(err instanceof UnknownWorkflowError ? { workflow: err.workflow, suggestions: err.suggestions } : {}),
  }
}

const sentCodes = new WeakMap<ServerResponse, string>()

/** The code of the problem this response carried, if it carried one (for the request span). */
export function problemCodeOf(res: ServerResponse): string | undefined {
  return sentCodes.get(res)
}

/** Write a problem response (headers are extra ones, e.g. Retry-After, Allow). */
export function sendProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  sentCodes.set(res, problem.code)
  const body = JSON.stringify(problem)
  res.writeHead(problem.status, {
    ...safeHeaders(headers),
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  })
  res.end(body)
}

function defined(context: ProblemContext): ProblemContext {
  return Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined && value !== null && value !== ''))
}
