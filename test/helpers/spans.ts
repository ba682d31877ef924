// Spans as the trace store keeps them, made by hand for store and access tests: one trace,
// ids and times counting up, everything else a test does not name left plain.
import type { StoredSpan } from '../../src/observe/index.js'

/** A maker of spans of trace `traceId`: the nth span has span id n and runs from n to n + 1. */
export function spansOf(
  traceId: string,
): (project: string, extra?: Partial<StoredSpan>, attributes?: StoredSpan['attributes']) => StoredSpan {
  let n = 0
  return (project, extra = {}, attributes = {}) => {
    n += 1
    return {
      traceId,
      spanId: n.toString(16).padStart(16, '0'),
      parentSpanId: null,
      name: `span ${n}`,
      kind: 'internal',
      service: 's',
      project,
      start: n,
      end: n + 1,
      status: 'ok',
      attributes,
      resource: {},
      ...extra,
    }
  }
}
