// `switchyard run WORKFLOW --input JSON|@file`: one call through the typed client,
// the output printed as JSON. --trace then draws the run tree from the gateway's
// trace store, with this command's own client span at its root.
import { readFileSync } from 'node:fs'
import { createClient, SwitchyardClientError } from '../client/index.js'
import { TRACE_FLAG_SAMPLED, parseTraceparent } from '../control/index.js'
import { DEFAULT_URL } from '../observe/view/index.js'
import { parse, str } from './args.js'
import { describeGaps, waitForTrace, waitOption } from './wait-for-trace.js'

const USAGE = `usage: switchyard run WORKFLOW [--input JSON|@file|@-] [--url URL] [--token T]
                      [--idempotency-key K] [--timeout MS] [--async] [--trace [--wait SECONDS]]

Runs one workflow through the gateway and prints its output (JSON).
  --input            the input as JSON, @file to read it from a file, @- from stdin (default {})
  --url              the gateway (default SWITCHYARD_URL, else ${DEFAULT_URL})
  --token            bearer token (default SWITCHYARD_TOKEN)
  --idempotency-key  the same key and input (from the same token) return the same run
  --timeout MS       stop waiting after MS milliseconds (the run goes on)
  --async            print the queued run (id, trace id) instead of waiting for the output
  --trace            keep this run's trace whatever its pool's sampleRate (when the token may
                     force tracing), then draw the run tree (durations, status, tokens, cost)
                     once it is whole, waiting at most --wait seconds (default 10)
Errors print the gateway's code and detail and exit 1.`

const OPTIONS = {
  input: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  'idempotency-key': { type: 'string' },
  timeout: { type: 'string' },
  async: { type: 'boolean' },
  trace: { type: 'boolean' },
  wait: { type: 'string' },
} as const

/** JSON text, `@path` (a file) or `@-` (stdin); absent means `{}`. */
export function readInput(flag: string | undefined): unknown {
  if (flag === undefined) return {}
  const text = flag === '@-' ? readFileSync(0, 'utf8') : flag.startsWith('@') ? readFileSync(flag.slice(1), 'utf8') : flag
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    const where = flag.startsWith('@') ? (flag.slice(1) === '-' ? 'stdin' : flag.slice(1)) : '--input'
    throw new Error(`${where} is not valid JSON: ${(error as Error).message}`)
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, OPTIONS, true)
  if (parsed.values.help) {
    console.log(USAGE)
    return 0
  }
  const [workflow, ...extra] = parsed.positionals
  if (workflow === undefined || extra.length > 0) {
    console.error(USAGE)
    return 2
  }
  const url = (str(parsed, 'url') ?? process.env.SWITCHYARD_URL ?? DEFAULT_URL).replace(/\/+$/, '')
  const token = str(parsed, 'token') ?? process.env.SWITCHYARD_TOKEN
  const timeoutText = str(parsed, 'timeout')
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText)
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
    throw new Error(`--timeout must be a positive number of milliseconds, got '${timeoutText}'`)
  const input = readInput(str(parsed, 'input'))
  const wantTrace = parsed.values.trace === true
  const waitMs = waitOption(str(parsed, 'wait'))

  // With --trace, this process traces too: its `client run` span joins the stored tree.
  const tracing = wantTrace ? await startCliTracing(url, token) : undefined
  let traceId: string | null = null
  let kept: boolean | undefined
  const recordingFetch: typeof fetch = async (resource, init) => {
    const response = await fetch(resource, init)
    traceId = response.headers.get('x-switchyard-trace-id') ?? traceId
    kept = sampledFlag(response.headers.get('server-timing')) ?? kept
    return response
  }
  const client = createClient({ url, ...(token ? { token } : {}), fetch: recordingFetch })
  const idempotencyKey = str(parsed, 'idempotency-key')
  const options = {
    ...(idempotencyKey ? { idempotencyKey } : {}),
    ...(timeout ? { timeout } : {}),
    ...(wantTrace ? { forceTrace: true } : {}),
  }
  let code = 0
  try {
    const output = parsed.values.async
      ? await client.run(workflow, input, { ...options, async: true })
      : await client.run(workflow, input, options)
    console.log(JSON.stringify(output, null, 2))
  } catch (error) {
    if (!(error instanceof SwitchyardClientError)) throw error
    console.error(describeError(error))
    traceId = error.traceId ?? traceId
    code = 1
  } finally {
    await tracing?.shutdown()
  }
  if (wantTrace && traceId !== null) {
    // The gateway's answer says whether it kept the run: no point waiting for spans that will never come.
    if (kept === false) console.error(notKept(traceId))
    // The run's own outcome decides the exit code; a missing tree is said on stderr.
    else await printTrace({ url, token }, traceId, waitMs)
  }
  return code
}

/**
 * The sampled flag of the W3C `server-timing: trace;desc=<traceparent>` metric the gateway
 * answers with; undefined when there is none (an older gateway).
 */
export function sampledFlag(serverTiming: string | null): boolean | undefined {
  for (const metric of (serverTiming ?? '').split(',')) {
    const [name, ...params] = metric.split(';').map((part) => part.trim())
    if (name?.toLowerCase() !== 'trace') continue
    for (const param of params) {
      const eq = param.indexOf('=')
      if (param.slice(0, eq).trim().toLowerCase() !== 'desc') continue
      const parsed = parseTraceparent(
        param
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      )
      if (parsed !== null) return (parsed.flags & TRACE_FLAG_SAMPLED) !== 0
    }
  }
  return undefined
}

function notKept(traceId: string): string {
  return [
    `switchyard run: the gateway did not keep trace ${traceId}, so there is no run tree to draw.`,
    '  Its pool samples only part of its runs (tracing.sampleRate), and this token may not force tracing;',
    '  or tracing is off on the gateway (OTEL_SDK_DISABLED, no trace store).',
  ].join('\n')
}

/** `INVALID_INPUT (422): …` then one line per validation issue, then the ids to look up. */
export function describeError(error: SwitchyardClientError): string {
  const lines = [`switchyard run: ${error.message}${error.status ? ` (HTTP ${error.status})` : ''}`]
  for (const issue of error.issues) lines.push(`  ${issue.path || '/'}: ${issue.message}`)
  if (error.retryAfter !== undefined) lines.push(`  retry after ${error.retryAfter}s`)
  const ids = [error.runId ? `run ${error.runId}` : '', error.traceId ? `trace ${error.traceId}` : ''].filter(Boolean)
  if (ids.length) lines.push(`  ${ids.join(', ')}`)
  if (error.code === 'NETWORK_ERROR') lines.push("  start one with 'npx switchyard dev', or point --url (SWITCHYARD_URL) at yours")
  return lines.join('\n')
}

async function startCliTracing(url: string, token: string | undefined) {
  const { initTracing } = await import('../observe/sdk/index.js')
  const auth = token ? { OTEL_EXPORTER_OTLP_TRACES_HEADERS: `authorization=${encodeURIComponent(`Bearer ${token}`)}` } : {}
  return initTracing({ service: 'switchyard-cli', env: { SWITCHYARD_TRACES_URL: url, ...auth, ...process.env } })
}

/**
 * Draw the run's tree once it is whole. A forced run's processes send its spans when
 * their part ends (no batch delay), so this is quick unless a pool's workers do not
 * (a Python pool sends within its batch delay).
 */
async function printTrace(options: { url: string; token: string | undefined }, traceId: string, waitMs: number): Promise<void> {
  const { renderRunTree } = await import('../observe/view/index.js')
  const stored = await waitForTrace(options, traceId, waitMs).catch((error: unknown) => {
    console.error(`switchyard run: no trace for ${traceId}: ${error instanceof Error ? error.message : String(error)}`)
  })
  if (!stored) return
  if (stored.gaps.length > 0) console.error(describeGaps('switchyard run', traceId, waitMs, stored.gaps))
  console.log(renderRunTree(stored.tree, { color: process.stdout.isTTY === true && !process.env.NO_COLOR }))
}
