// The worker's small HTTP server: GET /healthz (liveness, 503 while draining) and
// GET /metrics (Prometheus text). Nothing else: runs never arrive over HTTP.
// Against DNS rebinding it answers only a Host naming it, as the gateway does
// (control's hostCheck): a web page re-pointed to 127.0.0.1 would otherwise read the
// pool's metrics (its workflows' names, run counts and durations, queue depth). Names the
// operator lists (SWITCHYARD_WORKER_ALLOWED_HOSTS: a DNS name, an SSH tunnel's or a proxy's
// Host) are answered too, on any port unless the entry names one.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { allowedHostsFrom, hostCheck } from '../../control/index.js'
import { METRICS_CONTENT_TYPE } from '../../observe/metrics/index.js'

export interface WorkerHttp {
  readonly url: string
  close(): Promise<void>
}

export interface WorkerHttpOptions {
  readonly host: string
  /** 0 = an ephemeral port. */
  readonly port: number
  /** The text of /metrics (WorkerMetrics.render). */
  readonly metrics: () => Promise<string>
  /** Called before rendering /metrics, to refresh values read on scrape (queue depth). */
  readonly beforeScrape: () => Promise<void>
  readonly health: () => { status: 'ok' | 'draining'; [key: string]: unknown }
  /** Host names answered besides its own (workerAllowedHosts); `*`: any. */
  readonly allowedHosts?: readonly string[] | undefined
}

/** The env variable `switchyard worker` reads into WorkerHttpOptions.allowedHosts (comma-separated). */
export const WORKER_ALLOWED_HOSTS_ENV = 'SWITCHYARD_WORKER_ALLOWED_HOSTS'

/** allowedHosts from the environment (undefined when unset); a malformed entry throws naming the variable. */
export function workerAllowedHosts(env: NodeJS.ProcessEnv): readonly string[] | undefined {
  return allowedHostsFrom(env[WORKER_ALLOWED_HOSTS_ENV], WORKER_ALLOWED_HOSTS_ENV)
}

export async function startWorkerHttp(options: WorkerHttpOptions): Promise<WorkerHttp> {
  const allowHost = hostCheck(options.host, options.allowedHosts)
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (allowHost && !allowHost(req.headers.host, req.socket)) {
      res
        .writeHead(421, { 'content-type': 'text/plain' })
        .end(
          `this worker does not answer for Host '${(req.headers.host ?? '').slice(0, 200)}' (a guard against DNS rebinding): ` +
            `ask for localhost or an IP address, on its port, or list the name in ${WORKER_ALLOWED_HOSTS_ENV} (comma-separated; '*' for any)\n`,
        )
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
    } else if (path === '/healthz') {
      const health = options.health()
      res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health))
    } else if (path === '/metrics') {
      options
        .beforeScrape()
        .catch(() => undefined)
        .then(() => options.metrics())
        .then((text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text))
        .catch(() => res.destroy())
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
