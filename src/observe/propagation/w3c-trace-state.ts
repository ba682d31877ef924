// An OpenTelemetry TraceState held to W3C Trace Context Level 2: the API's own
// implementation checks keys against Level 1's grammar (one `tenant@vendor` form) and
// would silently drop members the spec lets through.
import type { TraceState } from '@opentelemetry/api'
import { TRACESTATE_MAX_MEMBERS, formatTracestate, isTracestateMember, type TracestateMember } from '../../control/index.js'

/**
 * An immutable `tracestate` list, left-most member first.
 *
 * @example
 * new W3CTraceState(parseTracestate('congo=t61rcWkgMzE') ?? []).set('rojo', '00f067aa0ba902b7').serialize()
 * // => 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'
 */
export class W3CTraceState implements TraceState {
  constructor(private readonly members: readonly TracestateMember[]) {}

  /** Add or update `key`, moved to the left; an invalid pair leaves the list as it is. */
  set(key: string, value: string): W3CTraceState {
    if (!isTracestateMember(key, value)) return this
    const next: TracestateMember[] = [[key, value], ...this.members.filter(([k]) => k !== key)]
    // "If adding an entry would cause the list to contain more than 32 list-members the right-most should be removed."
    return new W3CTraceState(next.slice(0, TRACESTATE_MAX_MEMBERS))
  }

  unset(key: string): W3CTraceState {
    return this.members.some(([k]) => k === key) ? new W3CTraceState(this.members.filter(([k]) => k !== key)) : this
  }

  get(key: string): string | undefined {
    return this.members.find(([k]) => k === key)?.[1]
  }

  serialize(): string {
    return formatTracestate(this.members)
  }
}
