// CORS for browser callers of switchyard-ai/client on another origin. Off unless
// origins are configured: a bearer-token API is not for every page on the web.
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Request headers the client sends (preflight answers with these). */
const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, prefer, traceparent, tracestate, baggage, x-switchyard-force-trace'
/** Response headers a browser script may read. */
const EXPOSE_HEADERS = 'x-switchyard-run-id, x-switchyard-trace-id, server-timing, retry-after, location'

/** Set the CORS response headers when the request's Origin is allowed; true when it is. */
export function applyCors(req: IncomingMessage, res: ServerResponse, origins: ReadonlySet<string>): boolean {
  const origin = req.headers.origin
  if (origins.size === 0 || origin === undefined) return false
  res.setHeader('vary', 'Origin')
  if (!origins.has('*') && !origins.has(origin)) return false
  res.setHeader('access-control-allow-origin', origin)
  res.setHeader('access-control-expose-headers', EXPOSE_HEADERS)
  return true
}

/** Answer a preflight (OPTIONS) for a path served under `allow` methods. */
export function answerPreflight(res: ServerResponse, allowed: boolean, allow: readonly string[]): void {
  const methods = [...allow, 'OPTIONS'].join(', ')
  res.setHeader('allow', methods)
  if (allowed) {
    res.setHeader('access-control-allow-methods', methods)
    res.setHeader('access-control-allow-headers', ALLOW_HEADERS)
    res.setHeader('access-control-max-age', '600')
  }
  res.writeHead(204)
  res.end()
}
