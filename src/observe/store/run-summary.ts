// Which spans describe a run, and what they say about it: the worker's
// `run <workflow>` span when it is there, else the gateway's request span.
import { ATTR, GENAI } from '../../control/index.js'
import type { RunSummary } from './trace-store.js'
import type { AttributeValue, StoredSpan } from './stored-span.js'
import { isAnchorSpan } from './trace-members.js'

/** True for the worker's `run <workflow>` span. */
export function isRunSpan(span: StoredSpan): boolean {
  return span.name.startsWith('run ') && typeof span.attributes[ATTR.workflow] === 'string' && span.kind !== 'client'
}

/** True for the gateway's request span of a run. */
export function isGatewayRunSpan(span: StoredSpan): boolean {
  return span.kind === 'server' && typeof span.attributes[ATTR.workflow] === 'string'
}

/** The attributes a run summary reads. */
const SUMMARY_KEYS = [
  ATTR.workflow,
  ATTR.pool,
  ATTR.caller,
  ATTR.runId,
  ATTR.errorCode,
  'http.response.status_code',
  GENAI.inputTokens,
  GENAI.outputTokens,
  ATTR.costUsd,
]

/**
 * What the run index keeps of a span: the run's own spans, its model calls (their
 * usage) and the gateway's spans that say whose the run is (traceMembers), each cut down
 * to what summarizeRun and traceMembers read — not the captured input, output or
 * messages, which would make the index as large as the store. Undefined for other spans.
 */
export function summarySpan(span: StoredSpan): StoredSpan | undefined {
  const relevant =
    isRunSpan(span) ||
    isAnchorSpan(span) ||
    isGatewayRunSpan(span) ||
    typeof span.attributes[ATTR.runId] === 'string' ||
    typeof span.attributes[GENAI.inputTokens] === 'number' ||
    typeof span.attributes[ATTR.costUsd] === 'number'
  if (!relevant) return undefined
  const attributes: Record<string, AttributeValue> = {}
  for (const key of SUMMARY_KEYS) {
    const value = span.attributes[key]
    if (value !== undefined) attributes[key] = value
  }
  const { events: _events, ...rest } = span
  return { ...rest, attributes }
}

/** The run a trace's spans describe, or undefined when they hold no run span (yet). */
export function summarizeRun(spans: readonly StoredSpan[]): RunSummary | undefined {
  const run = spans.find(isRunSpan)
  const gateway = spans.find(isGatewayRunSpan)
  const main = run ?? gateway
  if (main === undefined) return undefined
  const outer = gateway ?? run ?? main
  const runId =
    text(run?.attributes[ATTR.runId]) ?? text(spans.find((s) => typeof s.attributes[ATTR.runId] === 'string')?.attributes[ATTR.runId])
  const failedGateway =
    gateway !== undefined && (gateway.status === 'error' || Number(gateway.attributes['http.response.status_code']) >= 400)
  const failed = run ? run.status === 'error' : failedGateway
  return {
    traceId: main.traceId,
    runId: runId ?? null,
    workflow: text(main.attributes[ATTR.workflow]) ?? main.name.replace(/^run /, ''),
    pool: text(main.attributes[ATTR.pool]) ?? text(main.resource[ATTR.pool]) ?? text(gateway?.attributes[ATTR.pool]) ?? null,
    project: main.project,
    status: failed ? 'failed' : 'succeeded',
    errorCode: failed ? (text(run?.attributes[ATTR.errorCode]) ?? text(gateway?.attributes[ATTR.errorCode]) ?? null) : null,
    start: outer.start,
    durationMs: outer.end - outer.start,
    tokens: { input: sum(spans, GENAI.inputTokens), output: sum(spans, GENAI.outputTokens) },
    costUsd: sum(spans, ATTR.costUsd),
  }
}

function sum(spans: readonly StoredSpan[], key: string): number {
  let total = 0
  for (const span of spans) {
    const value = span.attributes[key]
    if (typeof value === 'number' && Number.isFinite(value)) total += value
  }
  return total
}

function text(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}
