// What a handler gets for one request, and the small response helpers they share.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from '../control/index.js'
import type { Broker } from '../data/broker/index.js'
import type { SigningKey } from '../data/index.js'
import type { Logger } from '../graph/index.js'
import type { FairAdmission } from './fair-admission.js'
import type { GatewayMetrics } from './gateway-metrics.js'
import type { ProblemContext } from './problem.js'
import type { RequestTrace } from './request-trace.js'
import type { Params } from './router.js'
import type { Caller } from './scopes.js'
import { safeHeaders } from './headers.js'

/** Resolved gateway settings every handler reads. */
export interface GatewayDeps {
  readonly registry: Registry
  readonly broker: Broker
  readonly signingKey: SigningKey | null
  readonly bodyLimitBytes: number
  readonly metrics: GatewayMetrics
  /** Who may run a submission's admission part now (fair-admission.ts). */
  readonly admission: FairAdmission
  readonly log: Pick<Logger, 'error'>
  /** Resolves when a 429 of `flow` may be written: a few per turn of the event loop, flows in turn (shed-reads.ts). */
  readonly refusalTurn: (flow: string, gone: () => boolean) => Promise<void>
  readonly unknownWorkflowHint?: (workflow: string) => string | undefined
}

export interface Exchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly params: Params
  /** Present on traced routes (runs); absent on health, metrics and the OTLP receiver. */
  readonly trace: RequestTrace | undefined
  /** Filled in as the request learns them; every problem response carries them. */
  readonly known: { -readonly [K in keyof ProblemContext]: ProblemContext[K] }
  /** Who is asking, authenticated and checked against the route's role (scopes.ts). */
  readonly caller: Caller
}

export type Handler = (exchange: Exchange) => Promise<void>

/** Response headers naming the run and its trace (DESIGN §2.3). */
export const RUN_ID_HEADER = 'x-switchyard-run-id'
export const TRACE_ID_HEADER = 'x-switchyard-trace-id'

/** Write a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body === undefined ? null : body)
  res.writeHead(status, {
    ...safeHeaders(headers),
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}
