// The embedded-mode routes of DESIGN §2.3 (OTLP receiver, run tree, web UI), whose
// handlers come from src/observe. Until a trace store is configured they answer 404.
import { SwitchyardError } from '../control/errors.js'
import type { Handler } from './exchange.js'

export interface ObserveRoute {
  readonly method: string
  readonly pattern: string
  readonly handler: Handler
}

export interface MountedObserve {
  readonly routes: readonly ObserveRoute[]
  close(): Promise<void>
}

const disabled: Handler = async ({ req }) => {
  throw new SwitchyardError(
    'NOT_FOUND',
    `${req.method ?? 'GET'} ${req.url ?? '/'}: the embedded trace store is not enabled on this gateway (start it with a trace folder)`,
  )
}

/** Mount the trace store in `traceDir` (embedded mode), or 404 routes when absent. */
export async function mountObserve(traceDir: string | undefined): Promise<MountedObserve> {
  void traceDir
  return {
    routes: [
      { method: 'POST', pattern: '/v1/traces', handler: disabled },
      { method: 'GET', pattern: '/v1/traces/{traceId}', handler: disabled },
      { method: 'GET', pattern: '/', handler: disabled },
    ],
    close: async () => {},
  }
}
