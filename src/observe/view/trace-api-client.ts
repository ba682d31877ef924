// Reading the gateway's trace API (GET /v1/traces…) for `switchyard trace` and
// `switchyard runs`: problem+json and connection failures become one readable error.
export const DEFAULT_URL = 'http://127.0.0.1:7070'

export interface TraceApiOptions {
  readonly url: string
  readonly token: string | undefined
}

/** What went wrong reading the trace API; `status` is the HTTP status, 0 when the gateway could not be reached. */
export class TraceApiError extends Error {
  override readonly name = 'TraceApiError'
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

/** --url, else SWITCHYARD_URL, else the default gateway; --token, else SWITCHYARD_TOKEN. */
export function traceApiOptions(url: string | undefined, token: string | undefined): TraceApiOptions {
  return { url: (url ?? process.env.SWITCHYARD_URL ?? DEFAULT_URL).replace(/\/+$/, ''), token: token ?? process.env.SWITCHYARD_TOKEN }
}

/** The JSON body of GET `path`; throws a TraceApiError whose message is what the user should read. */
export async function fetchTraceApi(options: TraceApiOptions, path: string): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(`${options.url}${path}`, {
      headers: { accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      signal: AbortSignal.timeout(30_000),
    })
  } catch (error) {
    // undici wraps the socket error; with several addresses tried it is an AggregateError.
    const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause
    const reason = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message
    throw new TraceApiError(`cannot reach the gateway at ${options.url} (${reason}); start it with 'npx switchyard dev' or pass --url`, 0)
  }
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new TraceApiError(`${options.url}${path} answered ${response.status} with a body that is not JSON`, response.status)
  }
  if (!response.ok) {
    const problem = body as { code?: string; detail?: string }
    throw new TraceApiError(`${response.status} ${problem.code ?? ''}: ${problem.detail ?? text}`.replace(' :', ':'), response.status)
  }
  return body
}
