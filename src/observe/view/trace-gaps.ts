// What a stored trace still lacks before it is one run's whole tree. Each process
// exports its spans in batches (every OTEL_BSP_SCHEDULE_DELAY, 5 s by default), and a
// span is exported only once it ends, so a reader right after a run can find part of
// it: `switchyard trace` and `run --trace` wait until nothing is missing (bounded).
// Whole means: one root, which is the run's entry (a span without a parent, or the
// request or client span whose parent is the caller's, stored elsewhere); every
// other span's parent present; and every enqueue (a PRODUCER span that did not fail)
// consumed by a `run` span (CONSUMER), which is exported when the run ends; a
// deduplicated enqueue found a run of another trace, and is not waited for.
import { ATTR } from '../../control/index.js'
import type { RunNode, RunTree } from './run-tree.js'

/**
 * What is missing from `tree`, one readable line each; empty when the trace is whole.
 *
 * @example
 * traceGaps(tree) // => ["'enqueue email' has no run span yet (queued, running, or its worker's spans not exported yet)"]
 */
export function traceGaps(tree: RunTree): string[] {
  if (tree.spanCount === 0) return ['no span stored yet']
  const gaps: string[] = []
  const [root, ...orphans] = tree.roots
  if (root && root.parentSpanId !== null && root.kind !== 'server' && root.kind !== 'client') {
    gaps.push(`the parent of '${root.name}' (${root.parentSpanId}) is not stored yet`)
  }
  for (const orphan of orphans) gaps.push(`the parent of '${orphan.name}' (${orphan.parentSpanId ?? 'none'}) is not stored yet`)
  const stack = [...tree.roots]
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.kind === 'producer' && node.status !== 'error' && node.attributes[ATTR.deduped] !== true && !node.children.some(consumer)) {
      gaps.push(`'${node.name}' has no run span yet (the run is queued or running, or its worker has not exported it yet)`)
    }
    stack.push(...node.children)
  }
  return gaps
}

function consumer(node: RunNode): boolean {
  return node.kind === 'consumer'
}
