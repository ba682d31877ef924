// Liveness, readiness and Prometheus metrics.
import { SwitchyardError } from '../../control/index.js'
import { sendJson, type GatewayDeps, type Handler } from '../exchange.js'
import { METRICS_CONTENT_TYPE } from '../gateway-metrics.js'

/** GET /healthz: the process answers. */
export function healthz(): Handler {
  return async ({ res }) => sendJson(res, 200, { status: 'ok' })
}

/** GET /readyz: the broker is reachable and every pool has a worker. */
export function readyz(deps: GatewayDeps): Handler {
  return async ({ res }) => {
    let ready: boolean
    try {
      ready = await deps.broker.ready()
    } catch (error) {
      throw new SwitchyardError('BROKER_UNAVAILABLE', `the ${deps.broker.kind} broker is unreachable: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
      })
    }
    if (!ready) throw new SwitchyardError('POOL_UNAVAILABLE', `not ready: ${await whyNotReady(deps)}`, { retryable: true })
    sendJson(res, 200, { status: 'ready', broker: deps.broker.kind })
  }
}

/** GET /metrics: Prometheus text exposition. */
export function metrics(deps: GatewayDeps): Handler {
  return async ({ res }) => {
    const body = await deps.metrics.render(deps.broker)
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
}

/** Name the pools without a worker, so the operator knows where to look. */
async function whyNotReady(deps: GatewayDeps): Promise<string> {
  try {
    const idle = (await deps.broker.stats()).filter((pool) => pool.workers === 0).map((pool) => `'${pool.pool}'`)
    if (idle.length === 1) return `pool ${idle[0]} has no worker`
    if (idle.length > 1) return `pools ${idle.join(', ')} have no worker`
  } catch {
    // Fall through to the generic reason: stats are a courtesy here.
  }
  return 'the broker is unreachable or a pool has no worker yet'
}
