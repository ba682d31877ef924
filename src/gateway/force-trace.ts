// Forced tracing (DESIGN §3): a caller debugging a run asks the gateway to keep its
// trace whatever the pool's sampleRate, with `x-switchyard-force-trace: 1` (what
// `switchyard run --trace` sends). A request header rather than a baggage entry: baggage
// travels on to every downstream service, and this is a question to the gateway alone.
// It is honoured only for callers allowed to (see mayForceTrace); the answer's
// `server-timing: trace;desc=…` says, in its sampled flag, whether the run was kept.
import type { IncomingHttpHeaders } from 'node:http'
import { SwitchyardError } from '../control/index.js'

export const FORCE_TRACE_HEADER = 'x-switchyard-force-trace'

/** Whether the request asks for its run to be kept: `1` yes, `0` or absent no, anything else a 400. */
export function wantsForcedTrace(headers: IncomingHttpHeaders): boolean {
  const value = headers[FORCE_TRACE_HEADER]
  if (value === undefined) return false
  const text = (Array.isArray(value) ? value.join(',') : value).trim()
  if (text === '1') return true
  if (text === '0') return false
  throw new SwitchyardError('BAD_REQUEST', `${FORCE_TRACE_HEADER} must be 1 (keep this run's trace) or 0, got '${text.slice(0, 40)}'`)
}
