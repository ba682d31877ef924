// Gateway options in, resolved options out.
import type { Registry } from '../control/index.js'
import type { Broker } from '../data/broker/index.js'
import type { SigningKey } from '../data/index.js'
import type { Logger } from '../graph/index.js'
import type { TraceStore } from '../observe/store/index.js'
import type { ConnectionOptions } from './connection-limits.js'
import type { AdmissionOptions } from './fair-admission.js'
import type { TokenEntry } from './tokens-file.js'

export interface GatewayOptions {
  readonly registry: Registry
  readonly broker: Broker
  /** @default '127.0.0.1' */
  readonly host?: string
  /** 0 picks a free port. @default 7070 */
  readonly port?: number
  /**
   * Accepted bearer tokens: strings are full privilege (admin), entries carry their scopes
   * (parseTokensFile); `null` leaves the gateway open (no auth).
   */
  readonly tokens: readonly (string | TokenEntry)[] | null
  /**
   * The secret pools' trace-ingest credentials are minted with (ingestToken): each writes
   * only its pool's project. Absent: no ingest credential is accepted.
   */
  readonly ingestSecret?: string | null
  /** The Ed25519 key envelopes are signed with (workers hold its public key); `null` sends them unsigned. */
  readonly signingKey: SigningKey | null
  /** Folder of the embedded trace store; when absent the trace routes answer 404. */
  readonly traceDir?: string
  /** @default 1048576 (1 MiB) */
  readonly bodyLimitBytes?: number
  /** Browser origins allowed to call the gateway (CORS); `'*'` allows any. @default none */
  readonly corsOrigins?: readonly string[]
  /**
   * Host names (`name` or `name:port`) the gateway answers besides its own (host-check.ts:
   * localhost, 127.0.0.1, [::1], its bind address and IPs, on its port); `'*'` answers any.
   * A request naming another Host gets 421 (DNS rebinding). A gateway bound to 0.0.0.0 or ::
   * checks only when this is given. @default none
   */
  readonly allowedHosts?: readonly string[] | undefined
  /** Where unexpected faults (500s) are reported. @default JSON lines on stderr */
  readonly log?: Pick<Logger, 'error'>
  /**
   * More to say when a workflow is unknown (`switchyard dev`: it is in the registry file on
   * disk, added after the gateway loaded it — restart, or use --watch). Undefined: nothing.
   */
  readonly unknownWorkflowHint?: (workflow: string) => string | undefined
  /**
   * Connection cap and timeouts (connection-limits.ts): at most RLIMIT_NOFILE less a reserve
   * open, 10 s for a request's headers, 30 s for the whole request, 5 s idle keep-alive.
   */
  readonly connections?: ConnectionOptions
  /**
   * Fair admission of run submissions (fair-admission.ts): per flow (caller and pool) 8
   * being admitted at once and 64 waiting, 64 being admitted in all; the 65th waiting of a flow gets 429.
   */
  readonly admission?: AdmissionOptions
  /** How often `switchyard start` restarted the gateway before this one (switchyard_gateway_restarts_total). @default 0 */
  readonly restarts?: number
}

export interface Gateway {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string
  readonly port: number
  /**
   * The embedded trace store (open while the gateway is), or null without `traceDir`. The
   * process hosting the gateway writes its own spans here (StoreSpanExporter), not over OTLP to itself.
   */
  readonly traceStore: TraceStore | null
  /**
   * Serve `registry` from now on (`switchyard dev --watch`): routing, schemas, pools and
   * span attributes of every request that starts after this call. In-flight requests finish
   * with the registry they started with.
   */
  reload(registry: Registry): void
  /** Stop accepting requests, end open connections, release the trace store. */
  close(): Promise<void>
}

export interface ResolvedGatewayOptions {
  readonly host: string
  readonly port: number
  readonly bodyLimitBytes: number
}

export const DEFAULT_PORT = 7070
export const DEFAULT_BODY_LIMIT = 1024 * 1024

export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`)
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1) {
    throw new RangeError(`bodyLimitBytes must be a positive integer, got ${bodyLimitBytes}`)
  }
  if (options.tokens !== null && options.tokens.filter((t) => t !== '').length === 0) {
    throw new RangeError('tokens is an empty list: pass null to run an open gateway, or at least one token')
  }
  return { host: options.host ?? '127.0.0.1', port, bodyLimitBytes }
}
