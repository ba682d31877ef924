// The run tree as terminal text: one line per span, box-drawing branches,
// duration, status, and tokens and cost where a model was called.
import type { RunNode, RunTree } from './run-tree.js'

export interface RenderOptions {
  /** ANSI colours (red errors, dim details). @default false */
  readonly color?: boolean
}

/**
 * @example
 * renderRunTree(buildRunTree(spans))
 * // trace 4bf92f35… · 7 spans · 3 services · 41.2 ms · tokens 120 in / 45 out · $0.000310
 * // client run email.compose  [switchyard-client]  41.2 ms ✓
 * // └─ POST /v1/workflows/{name}/run  [switchyard-gateway]  39.8 ms ✓
 * //    …
 */
export function renderRunTree(tree: RunTree, options: RenderOptions = {}): string {
  const paint = painter(options.color ?? false)
  if (tree.spanCount === 0) return `trace ${tree.traceId || '(unknown)'}: no spans stored (not sampled, not exported yet, or expired)`
  const header = [
    `trace ${tree.traceId}`,
    `${tree.spanCount} span${tree.spanCount === 1 ? '' : 's'}`,
    `${tree.services.length} service${tree.services.length === 1 ? '' : 's'}`,
    formatDuration(tree.durationMs),
    ...(tree.totals.inputTokens || tree.totals.outputTokens
      ? [`tokens ${tree.totals.inputTokens} in / ${tree.totals.outputTokens} out`]
      : []),
    ...(tree.totals.costUsd ? [formatCost(tree.totals.costUsd)] : []),
    tree.status === 'error' ? paint.red('failed') : paint.green('ok'),
  ].join(' · ')
  const lines = [header]
  const walk = (node: RunNode, prefix: string, branch: string, parentService: string | undefined) => {
    lines.push(`${paint.dim(prefix + branch)}${describe(node, parentService, paint)}`)
    const childPrefix = prefix + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ')
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1 ? '└─ ' : '├─ ', node.service))
  }
  for (const root of tree.roots) walk(root, '', '', undefined)
  return lines.join('\n')
}

type Paint = ReturnType<typeof painter>

function describe(node: RunNode, parentService: string | undefined, paint: Paint): string {
  const parts = [node.name]
  // The service only where it changes: that is where the request crossed a process.
  if (node.service !== parentService) parts.push(paint.dim(`[${node.service}]`))
  parts.push(formatDuration(node.durationMs))
  if (node.status === 'error') parts.push(paint.red(`✗ ${node.errorCode ?? node.statusMessage ?? 'error'}`))
  else parts.push(paint.green('✓'))
  if (node.tokens) parts.push(`tokens ${node.tokens.input}→${node.tokens.output}`)
  if (node.costUsd !== undefined) parts.push(formatCost(node.costUsd))
  return parts.join('  ')
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`
  if (ms < 1000) return `${ms.toFixed(1)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}

export function formatCost(usd: number): string {
  return `$${usd.toFixed(usd >= 0.01 ? 4 : 6)}`
}

function painter(color: boolean) {
  const wrap = (code: string) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text)
  return { red: wrap('31'), green: wrap('32'), dim: wrap('2') }
}
