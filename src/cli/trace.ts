// `switchyard trace TRACE_ID`: fetch a run's trace from the gateway's embedded
// store (GET /v1/traces/{traceId}) once it is whole, and draw its run tree in the
// terminal. `--project` reads one project's spans under that id instead (`?project=`):
// a pool's own spans that the run's trace leaves out (SECURITY.md row 12), for that
// pool's readers; those are read as stored, not waited for.
// Direct module imports, not the observe index: drawing a tree needs no OpenTelemetry SDK.
import { renderRunTree, fetchTraceApi, traceApiOptions } from '../observe/view/index.js'
import type { RunTree } from '../observe/view/index.js'
import { parse, str } from './args.js'
import { describeGaps, waitForTrace, waitOption } from './wait-for-trace.js'

const HELP = `usage: switchyard trace TRACE_ID [--project NAME] [--url URL] [--token TOKEN] [--json] [--wait SECONDS]

Draws the run tree of one trace: every span with its duration, status, tokens and cost.
Right after a run, waits until the trace is whole (its spans reach the store within
OTEL_BSP_SCHEDULE_DELAY, 5 s by default, of their end).
  --project  only the spans one project (a pool's tracing.project) holds under this id,
             whoever sent them: what a pool exported outside the run's trace (needs
             read on every pool of that project); read as stored
  --url      the gateway (default: SWITCHYARD_URL, else http://127.0.0.1:7070)
  --token    bearer token (default: SWITCHYARD_TOKEN)
  --json     print the tree as JSON instead
  --wait     wait at most this long for the whole trace (default 10; 0 reads it once as stored)`

export async function run(args: string[]): Promise<number> {
  const parsed = parse(
    args,
    {
      url: { type: 'string' },
      token: { type: 'string' },
      project: { type: 'string' },
      json: { type: 'boolean' },
      wait: { type: 'string' },
    },
    true,
  )
  if (parsed.values.help) {
    console.log(HELP)
    return 0
  }
  const [traceId, ...extra] = parsed.positionals
  if (traceId === undefined || extra.length > 0) {
    console.error(HELP)
    return 2
  }
  const waitMs = waitOption(str(parsed, 'wait'))
  const options = traceApiOptions(str(parsed, 'url'), str(parsed, 'token'))
  const project = str(parsed, 'project')
  let tree: RunTree
  if (project !== undefined) {
    const path = `/v1/traces/${encodeURIComponent(traceId)}?project=${encodeURIComponent(project)}`
    tree = ((await fetchTraceApi(options, path)) as { tree: RunTree }).tree
  } else {
    const stored = await waitForTrace(options, traceId, waitMs, () =>
      console.error(`switchyard trace: trace ${traceId} is not whole yet; waiting up to ${waitMs / 1000} s…`),
    )
    if (stored.gaps.length > 0) console.error(describeGaps('switchyard trace', traceId, waitMs, stored.gaps))
    tree = stored.tree
  }
  if (parsed.values.json) console.log(JSON.stringify(tree, null, 2))
  else console.log(renderRunTree(tree, { color: process.stdout.isTTY && !process.env.NO_COLOR }))
  return 0
}
