// A trace's spans as the tree of one run: parent links resolved, children in start
// order, and the numbers a reader wants on each node (duration, status, tokens, cost).
import { ATTR, GENAI } from '../../control/index.js'
import type { AttributeValue, Attributes, SpanKindName, SpanStatusName, StoredSpan } from '../store/index.js'

export interface RunNode {
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly name: string
  readonly service: string
  readonly project: string
  readonly kind: SpanKindName
  /** Epoch milliseconds. */
  readonly start: number
  readonly durationMs: number
  readonly status: SpanStatusName
  readonly statusMessage?: string
  readonly errorCode?: string
  /** Present on model-call spans (GenAI attributes). */
  readonly tokens?: { readonly input: number; readonly output: number }
  readonly costUsd?: number
  readonly model?: string
  readonly attributes: Attributes
  readonly children: RunNode[]
}

export interface RunTree {
  readonly traceId: string
  /** Spans whose parent is absent (the caller's root, or a span whose parent was not kept). */
  readonly roots: RunNode[]
  readonly spanCount: number
  readonly services: readonly string[]
  readonly projects: readonly string[]
  /** Epoch milliseconds of the earliest span; 0 for an empty trace. */
  readonly start: number
  readonly durationMs: number
  readonly status: SpanStatusName
  readonly totals: { readonly inputTokens: number; readonly outputTokens: number; readonly costUsd: number }
}

/**
 * Build the run tree of one trace's spans.
 *
 * @example
 * const tree = buildRunTree(await store.getTrace(traceId))
 * console.log(renderRunTree(tree))
 */
export function buildRunTree(spans: readonly StoredSpan[]): RunTree {
  const nodes = new Map<string, RunNode>()
  for (const span of spans) nodes.set(span.spanId, toNode(span))
  const roots: RunNode[] = []
  for (const node of nodes.values()) {
    const parent = node.parentSpanId === null ? undefined : nodes.get(node.parentSpanId)
    if (parent && parent !== node) parent.children.push(node)
    else roots.push(node)
  }
  const byStart = (a: RunNode, b: RunNode) => a.start - b.start
  for (const node of nodes.values()) node.children.sort(byStart)
  roots.sort(byStart)

  const all = [...nodes.values()]
  const start = all.length ? Math.min(...all.map((n) => n.start)) : 0
  const end = all.length ? Math.max(...all.map((n) => n.start + n.durationMs)) : 0
  return {
    traceId: spans[0]?.traceId ?? '',
    roots,
    spanCount: all.length,
    services: unique(all.map((n) => n.service)),
    projects: unique(all.map((n) => n.project)),
    start,
    durationMs: end - start,
    status: all.some((n) => n.status === 'error') ? 'error' : all.some((n) => n.status === 'ok') ? 'ok' : 'unset',
    totals: {
      inputTokens: sum(all.map((n) => n.tokens?.input ?? 0)),
      outputTokens: sum(all.map((n) => n.tokens?.output ?? 0)),
      costUsd: sum(all.map((n) => n.costUsd ?? 0)),
    },
  }
}

function toNode(span: StoredSpan): RunNode {
  const a = span.attributes
  const input = num(a[GENAI.inputTokens])
  const output = num(a[GENAI.outputTokens])
  const cost = num(a[ATTR.costUsd])
  const model = str(a[GENAI.responseModel]) ?? str(a[GENAI.requestModel])
  const errorCode = str(a[ATTR.errorCode])
  return {
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    service: span.service,
    project: span.project,
    kind: span.kind,
    start: span.start,
    durationMs: Math.max(0, span.end - span.start),
    status: span.status,
    ...(span.statusMessage ? { statusMessage: span.statusMessage } : {}),
    ...(errorCode ? { errorCode } : {}),
    ...(input !== undefined || output !== undefined ? { tokens: { input: input ?? 0, output: output ?? 0 } } : {}),
    ...(cost !== undefined ? { costUsd: cost } : {}),
    ...(model ? { model } : {}),
    attributes: a,
    children: [],
  }
}

function num(value: AttributeValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function str(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function unique(values: string[]): string[] {
  return [...new Set(values)]
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0)
}
