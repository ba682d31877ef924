// The console (GET /): a small single-page app of plain ES modules and one stylesheet,
// served from the files beside this module (./console/, copied to dist by `npm run build`).
// Nothing comes from anywhere else: no CDN, no inline script or style, and a CSP that
// says so. The page and its assets are public (they hold no data); every call the page
// makes for data goes through the gateway's auth like any other caller's.
import { readFileSync, readdirSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { SwitchyardError } from '../../control/index.js'
import type { ObserveRoute } from './routes.js'

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}
/** What may be served: a flat name with a known extension, nothing that could walk out of the folder. */
const ASSET = /^[a-z0-9][a-z0-9-]*\.(?:html|js|css|svg)$/

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const

interface Asset {
  readonly body: Buffer
  readonly type: string
}

/** The console's assets, read once from `folder` (default: ./console beside this module). */
export function loadConsole(folder: URL = new URL('./console/', import.meta.url)): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const name of readdirSync(folder)) {
    if (!ASSET.test(name)) continue
    assets.set(name, { body: readFileSync(new URL(name, folder)), type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'text/plain' })
  }
  if (!assets.has('index.html')) throw new Error(`the console's index.html is missing from ${folder.pathname}: run npm run build`)
  return assets
}

/**
 * GET / (the page) and GET /console/{file} (its modules and stylesheet).
 *
 * @example for (const route of consoleRoutes()) router.add(route.method, route.pattern, route.handler)
 */
export function consoleRoutes(assets: ReadonlyMap<string, Asset> = loadConsole()): readonly ObserveRoute[] {
  const send = (res: ServerResponse, asset: Asset) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length })
    res.end(asset.body)
  }
  return [
    { method: 'GET', pattern: '/', handler: async ({ res }) => send(res, assets.get('index.html') as Asset) },
    {
      method: 'GET',
      pattern: '/console/{file}',
      handler: async ({ res, params }) => {
        const name = params.file ?? ''
        const asset = ASSET.test(name) ? assets.get(name) : undefined
        if (asset === undefined) throw new SwitchyardError('NOT_FOUND', `the console has no file '${name.slice(0, 80)}'`)
        send(res, asset)
      },
    },
  ]
}
