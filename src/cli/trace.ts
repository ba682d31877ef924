// `switchyard trace TRACE_ID`: fetch a run's trace from the gateway's embedded
// store (GET /v1/traces/{traceId}) and draw its run tree in the terminal. `--project`
// reads one project's spans under that id instead (`?project=`): a pool's own spans that
// the run's trace leaves out (SECURITY.md row 12), for that pool's readers.
// Direct module imports, not the observe index: drawing a tree needs no OpenTelemetry SDK.
import { renderRunTree, fetchTraceApi, traceApiOptions } from '../observe/view/index.js'
import type { RunTree } from '../observe/view/index.js'
import { parse, str } from './args.js'

const HELP = `usage: switchyard trace TRACE_ID [--project NAME] [--url URL] [--token TOKEN] [--json]

Draws the run tree of one trace: every span with its duration, status, tokens and cost.
  --project  only the spans one project (a pool's tracing.project) holds under this id,
             whoever sent them: what a pool exported outside the run's trace (needs
             read on every pool of that project)
  --url      the gateway (default: SWITCHYARD_URL, else http://127.0.0.1:7070)
  --token    bearer token (default: SWITCHYARD_TOKEN)
  --json     print the tree as JSON instead`

export async function run(args: string[]): Promise<number> {
  const parsed = parse(
    args,
    { url: { type: 'string' }, token: { type: 'string' }, project: { type: 'string' }, json: { type: 'boolean' } },
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
  const options = traceApiOptions(str(parsed, 'url'), str(parsed, 'token'))
  const project = str(parsed, 'project')
  const query = project === undefined ? '' : `?project=${encodeURIComponent(project)}`
  const body = (await fetchTraceApi(options, `/v1/traces/${encodeURIComponent(traceId)}${query}`)) as { tree: RunTree }
  if (parsed.values.json) console.log(JSON.stringify(body.tree, null, 2))
  else console.log(renderRunTree(body.tree, { color: process.stdout.isTTY && !process.env.NO_COLOR }))
  return 0
}
