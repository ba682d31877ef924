// Which of the spans stored under one trace id belong to that trace's runs. A trace id
// is no secret (a graph sees its run's, a caller gets it in a header), so any sender
// may post spans under one. The spans the gateway recorded itself (and a trusted
// sender's) make the trace: each run the gateway dispatched in it names its pool and
// the caller that started it. Another sender's spans join the trace only when the
// sender is one of those: the pool that ran a run (its workers, nodes and model calls)
// or the caller that started one (a typed client's own spans). Any other sender's
// spans under that id stay stored, in its own project, but change neither the run's
// tree nor its summary, tokens and cost.
import { ATTR } from '../../control/index.js'
import type { StoredSpan } from './stored-span.js'
import type { TracedRun } from './trace-store.js'

/**
 * The spans of `spans` (one trace's) that belong to its runs, in their order. A trace in
 * which the gateway recorded no request (no span of its names a pool or a caller) is
 * returned whole: there is no run to keep apart.
 *
 * @example const tree = buildRunTree(traceMembers(spans))
 */
export function traceMembers(spans: readonly StoredSpan[]): StoredSpan[] {
  const owners = traceOwners(spans)
  if (owners === null) return [...spans]
  const { pools, callers } = owners
  return spans.filter(
    ({ sender }) => sender === undefined || callers.has(sender.id) || (sender.pools ?? []).some((pool) => pools.has(pool)),
  )
}

/** True for a span that may say whose a trace's runs are: recorded by the gateway (or a trusted sender), naming a pool or a caller. */
export function isAnchorSpan(span: StoredSpan): boolean {
  return span.sender === undefined && (typeof span.attributes[ATTR.pool] === 'string' || typeof span.attributes[ATTR.caller] === 'string')
}

/**
 * The run a span describes, as a reader of its trace is checked against it: server and run
 * spans naming a workflow (with the pool of the span, else of its resource). Read by the
 * store's index (file-trace-store.ts) and by GET /v1/traces/{id} (routes.ts readable()).
 */
export function spanClaim(span: StoredSpan): TracedRun | undefined {
  const workflow = span.attributes[ATTR.workflow]
  if (typeof workflow !== 'string' || !(span.kind === 'server' || span.name.startsWith('run '))) return undefined
  return { workflow, pool: text(span.attributes[ATTR.pool]) ?? text(span.resource[ATTR.pool]) }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** Whose a trace's runs are, as the gateway's spans name them: their pools and callers; null when none names either. */
export function traceOwners(spans: Iterable<StoredSpan>): { pools: Set<string>; callers: Set<string> } | null {
  const pools = new Set<string>()
  const callers = new Set<string>()
  let anchored = false
  for (const span of spans) {
    if (!isAnchorSpan(span)) continue
    anchored = true
    const pool = span.attributes[ATTR.pool]
    if (typeof pool === 'string') pools.add(pool)
    const caller = span.attributes[ATTR.caller]
    if (typeof caller === 'string') callers.add(caller)
  }
  return anchored ? { pools, callers } : null
}
