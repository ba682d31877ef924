// The two IPC messages between `switchyard start` and the gateway it forks
// (`switchyard gateway --supervised`). Secrets travel this way, never in argv (any user
// reads /proc/<pid>/cmdline) or in env: the session's signing key and ingest secret stay
// the same across gateway restarts, so runs queued before a crash still verify.

/** Parent → gateway, once, before it starts. */
export interface GatewayStartMessage {
  readonly type: 'switchyard.gateway.start'
  /** The Ed25519 private key, PEM. */
  readonly signingKey: string
  /** Mints and checks the pools' trace-ingest credentials; null: none. */
  readonly ingestSecret: string | null
  /** How often the supervisor restarted the gateway before this one (it serves the count as a metric). */
  readonly restarts: number
}

/** Gateway → parent, once it listens. */
export interface GatewayListeningMessage {
  readonly type: 'switchyard.gateway.listening'
  readonly url: string
  readonly port: number
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

export function isGatewayStartMessage(value: unknown): value is GatewayStartMessage {
  return (
    isRecord(value) &&
    value.type === 'switchyard.gateway.start' &&
    typeof value.signingKey === 'string' &&
    (value.ingestSecret === null || typeof value.ingestSecret === 'string') &&
    typeof value.restarts === 'number' &&
    Number.isSafeInteger(value.restarts) &&
    value.restarts >= 0
  )
}

export function isGatewayListeningMessage(value: unknown): value is GatewayListeningMessage {
  return (
    isRecord(value) &&
    value.type === 'switchyard.gateway.listening' &&
    typeof value.url === 'string' &&
    typeof value.port === 'number' &&
    Number.isInteger(value.port)
  )
}
