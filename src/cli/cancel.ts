// `switchyard cancel RUN_ID`: cancel a queued or running run (POST /v1/runs/{id}/cancel
// through the typed client) and say how it ended. A queued run ends cancelled at once;
// a running run's graph sees its abort signal. Exit 0 once the run is cancelled (also
// when it already was), 1 when it could not be (unknown, already finished, still running).
import { createClient, SwitchyardClientError } from '../client/index.js'
import { DEFAULT_URL, traceApiOptions } from '../observe/view/index.js'
import { parse, str } from './args.js'

const HELP = `usage: switchyard cancel RUN_ID [--url URL] [--token TOKEN] [--json]

Cancels a queued or running run. A queued run is cancelled at once; a running run's
graph sees its abort signal, and the run ends cancelled once its worker stopped it.
Only the token that started the run, or an admin token, may cancel it.
  --url     the gateway (default: SWITCHYARD_URL, else ${DEFAULT_URL})
  --token   bearer token (default: SWITCHYARD_TOKEN)
  --json    print the run as JSON`

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' } }, true)
  if (parsed.values.help) {
    console.log(HELP)
    return 0
  }
  const [runId, ...extra] = parsed.positionals
  if (runId === undefined || extra.length > 0) {
    console.error(HELP)
    return 2
  }
  const { url, token } = traceApiOptions(str(parsed, 'url'), str(parsed, 'token'))
  const client = createClient({ url, ...(token ? { token } : {}) })
  try {
    const info = await client.cancel(runId)
    if (parsed.values.json) console.log(JSON.stringify(info, null, 2))
    else if (info.status === 'cancelled') console.log(`run ${info.runId} (${info.workflow}) is cancelled`)
    else if (info.status === 'running' || info.status === 'queued')
      console.log(`run ${info.runId} (${info.workflow}): cancel requested; it is still ${info.status} (switchyard runs shows when it ends)`)
    else console.log(`run ${info.runId} (${info.workflow}) ${info.status} before the cancel reached it`)
    return info.status === 'cancelled' ? 0 : 1
  } catch (error) {
    if (!(error instanceof SwitchyardClientError)) throw error
    if (error.code === 'NETWORK_ERROR') {
      const reason = /\(([^)]*)\)$/.exec(error.message)?.[1] ?? error.message
      throw new Error(`cannot reach the gateway at ${url} (${reason}); start it with 'switchyard dev' or pass --url`)
    }
    console.error(`switchyard cancel: ${error.message}${error.status ? ` (HTTP ${error.status})` : ''}`)
    return 1
  }
}
