// The embedded-mode routes of DESIGN §2.3 (OTLP receiver, run list, run tree, web UI).
// Their handlers and the trace store are src/observe's; the gateway only mounts them,
// loading that code (and the trace store) only when a trace folder is configured.
import { SwitchyardError } from '../control/index.js'
import type { TraceStore } from '../observe/store/index.js'
import type { Handler } from './exchange.js'

export interface ObserveRoute {
  readonly method: string
  readonly pattern: string
  readonly handler: Handler
}

export interface MountedObserve {
  readonly routes: readonly ObserveRoute[]
  /** The open store (null without a trace folder). */
  readonly store: TraceStore | null
  close(): Promise<void>
}

const PATTERNS: ReadonlyArray<readonly [string, string]> = [
  ['POST', '/v1/traces'],
  ['GET', '/v1/traces'],
  ['GET', '/v1/traces/{traceId}'],
  ['GET', '/'],
]

const disabled: Handler = async ({ req }) => {
  throw new SwitchyardError(
    'NOT_FOUND',
    `${req.method ?? 'GET'} ${req.url ?? '/'}: this gateway has no embedded trace store (it exports traces elsewhere)`,
  )
}

/** Open the trace store in `traceDir` and mount its routes; without a folder, the routes answer 404. */
export async function mountObserve(traceDir: string | undefined): Promise<MountedObserve> {
  if (traceDir === undefined) {
    return { routes: PATTERNS.map(([method, pattern]) => ({ method, pattern, handler: disabled })), store: null, close: async () => {} }
  }
  const [{ FileTraceStore }, { observeRoutes }] = await Promise.all([
    import('../observe/store/index.js'),
    import('../observe/view/index.js'),
  ])
  const store = await FileTraceStore.open(traceDir)
  return {
    routes: observeRoutes(store).map((route) => ({ method: route.method, pattern: route.pattern, handler: route.handler })),
    store,
    close: () => store.close(),
  }
}
