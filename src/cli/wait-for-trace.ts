// Read a trace from the gateway's store once it is whole, for `switchyard trace` and
// `switchyard run --trace`. Each process exports its spans every batch delay (5 s by
// default), so right after a run the store may hold part of it, or nothing yet: poll
// until nothing is missing (traceGaps), at most `waitMs`. A trace whose last span
// ended longer ago than that gets nothing more, and is returned at once.
import { TraceApiError, fetchTraceApi, traceGaps, type RunTree, type TraceApiOptions } from '../observe/view/index.js'

/** How long `trace` and `run --trace` wait for a trace to be whole, by default: the batch delay and then some. */
export const DEFAULT_TRACE_WAIT_MS = 10_000
const POLL_MS = 200

export interface StoredTrace {
  /** The trace as stored when it was found whole, or when waiting stopped. */
  readonly tree: RunTree
  /** What it still lacked when waiting stopped (empty: whole). */
  readonly gaps: readonly string[]
}

/**
 * GET /v1/traces/{traceId} until the trace is whole or `waitMs` have passed. A 404 is
 * waited on too (no span of the run stored yet), and thrown if it is still one at the
 * end; any other error is thrown at once. `onWaiting` is called once, with the gaps,
 * when the first read finds the trace not whole.
 *
 * @example
 * const { tree, gaps } = await waitForTrace(traceApiOptions(undefined, undefined), traceId, DEFAULT_TRACE_WAIT_MS)
 */
export async function waitForTrace(
  options: TraceApiOptions,
  traceId: string,
  waitMs: number,
  onWaiting?: (gaps: readonly string[]) => void,
): Promise<StoredTrace> {
  const deadline = Date.now() + waitMs
  for (let first = true; ; first = false) {
    const last = Date.now() + POLL_MS > deadline
    let tree: RunTree
    try {
      tree = ((await fetchTraceApi(options, `/v1/traces/${encodeURIComponent(traceId)}`)) as { tree: RunTree }).tree
    } catch (error) {
      if (!(error instanceof TraceApiError && error.status === 404)) throw error
      if (last) throw waitMs > 0 ? new TraceApiError(`${error.message} (waited ${waitMs / 1000} s)`, 404) : error
      if (first) onWaiting?.(['no span of it is stored yet'])
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      continue
    }
    const gaps = traceGaps(tree)
    // Spans are exported within a batch delay of their end: long after the last one, nothing more will come.
    const settledLongAgo = tree.start + tree.durationMs < Date.now() - waitMs
    if (gaps.length === 0 || settledLongAgo || last) return { tree, gaps }
    if (first) onWaiting?.(gaps)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/** The lines to print when waiting stopped before the trace was whole. */
export function describeGaps(command: string, traceId: string, waitMs: number, gaps: readonly string[]): string {
  return [
    `${command}: trace ${traceId} is not whole after ${waitMs / 1000} s; drawn as stored. Missing:`,
    ...gaps.map((gap) => `  - ${gap}`),
    '  Each process sends its spans every OTEL_BSP_SCHEDULE_DELAY (5 s by default), after they end; a run still',
    `  queued or running has no run span yet ('switchyard runs' shows it). --wait SECONDS waits longer.`,
  ].join('\n')
}

/** `--wait SECONDS` (decimals allowed, 0 reads once), else the default. */
export function waitOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TRACE_WAIT_MS
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0)
    throw new Error(`--wait must be a number of seconds (0 or more), got '${text}'`)
  return Math.round(seconds * 1000)
}
