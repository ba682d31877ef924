// `switchyard runs`: recent traced runs from the gateway's embedded trace store
// (GET /v1/traces?pool=&workflow=&status=&limit=), newest first.
// Direct module imports, not the observe index: listing runs needs no OpenTelemetry SDK.
import { formatDuration } from '../observe/render-run-tree.js'
import { fetchTraceApi, traceApiOptions } from '../observe/trace-api-client.js'
import type { RunSummary } from '../observe/trace-store.js'
import { parse, str } from './args.js'

const HELP = `usage: switchyard runs [--pool NAME] [--workflow NAME] [--status succeeded|failed] [--limit N] [--url URL] [--token TOKEN] [--json]

Lists recent runs whose traces were kept (sampled), newest first, with their trace ids
for 'switchyard trace'.
  --url     the gateway (default: SWITCHYARD_URL, else http://127.0.0.1:7070)
  --token   bearer token (default: SWITCHYARD_TOKEN)
  --limit   at most this many (default 20, at most 1000)`

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {
    url: { type: 'string' },
    token: { type: 'string' },
    pool: { type: 'string' },
    workflow: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  })
  if (parsed.values.help) {
    console.log(HELP)
    return 0
  }
  const query = new URLSearchParams({ limit: str(parsed, 'limit') ?? '20' })
  for (const key of ['pool', 'workflow', 'status']) {
    const value = str(parsed, key)
    if (value !== undefined) query.set(key, value)
  }
  const { runs } = (await fetchTraceApi(traceApiOptions(str(parsed, 'url'), str(parsed, 'token')), `/v1/traces?${query}`)) as { runs: RunSummary[] }
  if (parsed.values.json) {
    console.log(JSON.stringify(runs, null, 2))
    return 0
  }
  if (runs.length === 0) {
    console.log('no traced runs match (runs appear here once their spans are exported; unsampled runs never do)')
    return 0
  }
  console.log(formatRuns(runs))
  return 0
}

/** A fixed-width table: started, workflow, pool, status, duration, trace id. */
export function formatRuns(runs: readonly RunSummary[]): string {
  const rows = runs.map((r) => [
    new Date(r.start).toISOString().replace('T', ' ').slice(0, 23),
    r.workflow,
    r.pool ?? '-',
    r.status + (r.errorCode ? ` (${r.errorCode})` : ''),
    formatDuration(r.durationMs),
    r.traceId,
  ])
  const header = ['STARTED', 'WORKFLOW', 'POOL', 'STATUS', 'DURATION', 'TRACE']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)))
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}
