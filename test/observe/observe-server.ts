// The observe routes on a bare node:http server at 127.0.0.1:0 (the gateway mounts
// the same routes; this keeps the store tests independent of it).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SwitchyardError } from '../../src/control/index.js'
import { observeRoutes, type TraceStore } from '../../src/observe/index.js'

const STATUS: Record<string, number> = { BAD_REQUEST: 400, NOT_FOUND: 404, PAYLOAD_TOO_LARGE: 413, UNSUPPORTED_MEDIA_TYPE: 415 }

export interface ObserveServer {
  readonly url: string
  close(): Promise<void>
}

export async function startObserveServer(store: TraceStore): Promise<ObserveServer> {
  const routes = observeRoutes(store)
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const handle = async () => {
      for (const route of routes) {
        const pattern = new RegExp(`^${route.pattern.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`)
        const match = pattern.exec(path)
        if (match && route.method === req.method) return route.handler({ req, res, params: { ...match.groups } })
      }
      throw new SwitchyardError('NOT_FOUND', `no route for ${req.method} ${path}`)
    }
    handle().catch((error: unknown) => {
      const err = SwitchyardError.from(error)
      res
        .writeHead(STATUS[err.code] ?? 500, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ code: err.code, detail: err.message }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
