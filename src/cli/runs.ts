// `switchyard runs`: recent runs from the gateway's broker (GET /v1/runs through the
// typed client), newest first — every run, traced or not, queued, running, finished
// or dead-lettered. `--traced` lists the embedded trace store instead (GET /v1/traces:
// sampled runs whose spans were exported), as before.
// Direct module imports, not the observe index: listing runs needs no OpenTelemetry SDK.
import { createClient, SwitchyardClientError, type RunFilter, type RunInfo, type RunStatus } from '../client/index.js'
import { formatDuration, DEFAULT_URL, fetchTraceApi, traceApiOptions } from '../observe/view/index.js'
import type { RunSummary } from '../observe/store/index.js'
import { parse, str, type ParsedArgs } from './args.js'

const HELP = `usage: switchyard runs [--pool NAME] [--workflow NAME] [--status STATUS] [--limit N]
                       [--traced] [--url URL] [--token TOKEN] [--json]

Lists recent runs, newest first: queued, running, finished and dead-lettered, traced
or not, with their run and trace ids ('switchyard trace' draws a sampled run's tree).
  --status  queued | running | succeeded | failed | cancelled
  --traced  list the gateway's trace store instead: only runs whose traces were kept
            (sampled), with --status succeeded | failed
  --url     the gateway (default: SWITCHYARD_URL, else ${DEFAULT_URL})
  --token   bearer token (default: SWITCHYARD_TOKEN)
  --limit   at most this many (default 20, at most 1000)`

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  pool: { type: 'string' },
  workflow: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  traced: { type: 'boolean' },
} as const

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, OPTIONS)
  if (parsed.values.help) {
    console.log(HELP)
    return 0
  }
  if (parsed.values.traced) return tracedRuns(parsed)
  const { url, token } = traceApiOptions(str(parsed, 'url'), str(parsed, 'token'))
  // A listing is read once: a 503 is reported, not waited out.
  const client = createClient({ url, ...(token ? { token } : {}), retries: 0 })
  const limitText = str(parsed, 'limit') ?? '20'
  const limit = Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new Error(`--limit must be a whole number from 1 to 1000, got '${limitText}'`)
  const [pool, workflow, status] = [str(parsed, 'pool'), str(parsed, 'workflow'), str(parsed, 'status')]
  // The gateway checks the names and the status, and says what it accepts.
  const filter: RunFilter = {
    limit,
    ...(pool !== undefined ? { pool } : {}),
    ...(workflow !== undefined ? { workflow } : {}),
    ...(status !== undefined ? { status: status as RunStatus } : {}),
  }
  let runs: RunInfo[]
  try {
    runs = await client.runs(filter)
  } catch (error) {
    if (!(error instanceof SwitchyardClientError)) throw error
    if (error.code === 'NETWORK_ERROR') {
      const reason = /\(([^)]*)\)$/.exec(error.message)?.[1] ?? error.message
      throw new Error(`cannot reach the gateway at ${url} (${reason}); start it with 'npx switchyard dev' or pass --url`)
    }
    throw new Error(`${error.status} ${error.message}`)
  }
  return printRuns(parsed, runs, 'no runs match (finished runs are kept for a while, not forever)', formatBrokerRuns)
}

/** `switchyard runs --traced`: the trace store's listing (GET /v1/traces). */
async function tracedRuns(parsed: ParsedArgs): Promise<number> {
  const query = new URLSearchParams({ limit: str(parsed, 'limit') ?? '20' })
  for (const key of ['pool', 'workflow', 'status']) {
    const value = str(parsed, key)
    if (value !== undefined) query.set(key, value)
  }
  const { runs } = (await fetchTraceApi(traceApiOptions(str(parsed, 'url'), str(parsed, 'token')), `/v1/traces?${query}`)) as {
    runs: RunSummary[]
  }
  return printRuns(
    parsed,
    runs,
    'no traced runs match (runs appear here once their spans are exported; unsampled runs never do)',
    formatRuns,
  )
}

/** Print `runs` as JSON with --json, else `empty` when there are none, else as `format`'s table; exit code 0. */
function printRuns<T>(parsed: ParsedArgs, runs: readonly T[], empty: string, format: (runs: readonly T[]) => string): number {
  if (parsed.values.json) console.log(JSON.stringify(runs, null, 2))
  else if (runs.length === 0) console.log(empty)
  else console.log(format(runs))
  return 0
}

/** A fixed-width table: created, workflow, pool, status (error code, dead-lettered), attempts, duration, run id, trace id. */
export function formatBrokerRuns(runs: readonly RunInfo[]): string {
  const rows = runs.map((r) => {
    const notes = [r.error?.code, r.deadLettered ? 'dead-lettered' : undefined].filter(Boolean)
    return [
      r.createdAt.replace('T', ' ').slice(0, 23),
      r.workflow,
      r.pool,
      r.status + (notes.length ? ` (${notes.join(', ')})` : ''),
      `${r.attempts}/${r.maxAttempts}`,
      r.durationMs === undefined ? '-' : formatDuration(r.durationMs),
      r.runId,
      r.traceId ?? '-',
    ]
  })
  return table(['CREATED', 'WORKFLOW', 'POOL', 'STATUS', 'ATTEMPTS', 'DURATION', 'RUN', 'TRACE'], rows)
}

/** A fixed-width table of traced runs: started, workflow, pool, status, duration, trace id. */
export function formatRuns(runs: readonly RunSummary[]): string {
  const rows = runs.map((r) => [
    new Date(r.start).toISOString().replace('T', ' ').slice(0, 23),
    r.workflow,
    r.pool ?? '-',
    r.status + (r.errorCode ? ` (${r.errorCode})` : ''),
    formatDuration(r.durationMs),
    r.traceId,
  ])
  return table(['STARTED', 'WORKFLOW', 'POOL', 'STATUS', 'DURATION', 'TRACE'], rows)
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)))
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
