// The embedded-mode routes of DESIGN §2.3 (OTLP receiver, run list, run tree) and the
// console (GET /, always: it reads runs, pools and workflows, and traces when there is a
// store). Their handlers and the trace store are src/observe's; the gateway only mounts
// them, opening the trace store only when a trace folder is configured.
import { SwitchyardError } from '../control/index.js'
import type { TraceStore } from '../observe/store/index.js'
import type { Handler } from './exchange.js'

export interface MountedRoute {
  readonly method: string
  readonly pattern: string
  readonly handler: Handler
  /** Served without a token: the console's page and assets (they hold no data). */
  readonly public?: boolean
}

export interface MountedObserve {
  readonly routes: readonly MountedRoute[]
  /** The open store (null without a trace folder). */
  readonly store: TraceStore | null
  close(): Promise<void>
}

const PATTERNS: ReadonlyArray<readonly [string, string]> = [
  ['POST', '/v1/traces'],
  ['GET', '/v1/traces'],
  ['GET', '/v1/traces/{traceId}'],
]

const disabled: Handler = async ({ req }) => {
  throw new SwitchyardError(
    'NOT_FOUND',
    `${req.method ?? 'GET'} ${req.url ?? '/'}: this gateway has no embedded trace store (it exports traces elsewhere)`,
  )
}

/** The console, and the trace store in `traceDir` with its routes; without a folder, the trace routes answer 404. */
export async function mountObserve(traceDir: string | undefined): Promise<MountedObserve> {
  const view = await import('../observe/view/index.js')
  const pages = view
    .consoleRoutes()
    .map((route) => ({ method: route.method, pattern: route.pattern, handler: route.handler, public: true }))
  if (traceDir === undefined) {
    const routes = PATTERNS.map(([method, pattern]) => ({ method, pattern, handler: disabled }))
    return { routes: [...routes, ...pages], store: null, close: async () => {} }
  }
  const { FileTraceStore } = await import('../observe/store/index.js')
  const store = await FileTraceStore.open(traceDir)
  return {
    routes: [
      ...view.observeRoutes(store).map((route) => ({ method: route.method, pattern: route.pattern, handler: route.handler })),
      ...pages,
    ],
    store,
    close: () => store.close(),
  }
}
