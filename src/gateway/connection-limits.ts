// How many connections the gateway holds open and how long each may take, resolved once
// at start. Node's defaults (no connection cap, 60 s for the request headers, checked
// every 30 s) let one hostile caller hold ~17,000 slow connections open, past the
// process's file descriptors: then Redis, the trace store and every other caller failed.
// The cap stays below RLIMIT_NOFILE with a reserve for what the gateway itself opens.
import { readFileSync } from 'node:fs'
import { parseDuration } from '../control/index.js'

/** What an operator may set (GatewayOptions.connections, or SWITCHYARD_GATEWAY_* in the CLI). */
export interface ConnectionOptions {
  /** Open connections at most. @default RLIMIT_NOFILE − (64 + 4 × (pools + worker processes)); none when the limit is unknown */
  readonly maxConnections?: number
  /** How long a caller may take to send a request's headers. @default 10000 */
  readonly headersTimeoutMs?: number
  /** How long a caller may take to send a whole request, body included (not its answer). @default 30000 */
  readonly requestTimeoutMs?: number
  /** How long an idle keep-alive connection stays open between requests. @default 5000 */
  readonly keepAliveTimeoutMs?: number
}

export interface ConnectionLimits {
  /** 0: no cap (the fd limit is unknown and none was set). */
  readonly maxConnections: number
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  /** How often Node checks the two timeouts above (its default, 30 s, would quadruple a 10 s bound). */
  readonly checkIntervalMs: number
}

export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000
/** Descriptors kept for the gateway's own use whatever the registry: stdio, the event loop, the trace store's 32 segments, reads. */
export const FD_RESERVE_BASE = 64
/** And per pool and per worker process: Redis connections (queue, events), a dev worker's pipes. */
export const FD_RESERVE_EACH = 4

/** The env variables the CLI reads into ConnectionOptions (durations as in the registry: 10s, 500ms). */
export const CONNECTION_ENV = {
  maxConnections: 'SWITCHYARD_GATEWAY_MAX_CONNECTIONS',
  headersTimeoutMs: 'SWITCHYARD_GATEWAY_HEADERS_TIMEOUT',
  requestTimeoutMs: 'SWITCHYARD_GATEWAY_REQUEST_TIMEOUT',
  keepAliveTimeoutMs: 'SWITCHYARD_GATEWAY_KEEPALIVE_TIMEOUT',
} as const

/** ConnectionOptions from the environment; a malformed value throws naming its variable. */
export function connectionOptionsFromEnv(env: NodeJS.ProcessEnv): ConnectionOptions {
  const options: { -readonly [K in keyof ConnectionOptions]: number } = {}
  const max = env[CONNECTION_ENV.maxConnections]?.trim()
  if (max) {
    if (!/^\d+$/.test(max) || Number(max) < 1)
      throw new RangeError(`${CONNECTION_ENV.maxConnections} must be a positive integer, got '${max}'`)
    options.maxConnections = Number(max)
  }
  for (const key of ['headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs'] as const) {
    const text = env[CONNECTION_ENV[key]]?.trim()
    if (!text) continue
    const ms = parseDuration(text)
    if (ms === null) throw new RangeError(`${CONNECTION_ENV[key]} must be a duration such as 10s or 500ms, got '${text}'`)
    options[key] = ms
  }
  return options
}

/**
 * The limits a gateway listens with. `fdLimit` is the process's RLIMIT_NOFILE (null when
 * unknown); `reserved` how many descriptors to leave for everything but connections.
 */
export function resolveConnectionLimits(options: ConnectionOptions, fdLimit: number | null, reserved: number): ConnectionLimits {
  const headersTimeoutMs = positive(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, 'headersTimeoutMs')
  const requestTimeoutMs = positive(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs')
  const keepAliveTimeoutMs = positive(options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS, 'keepAliveTimeoutMs')
  // Node refuses a headers bound past the whole request's.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new RangeError(`headersTimeoutMs (${headersTimeoutMs}) must not exceed requestTimeoutMs (${requestTimeoutMs})`)
  }
  const room = fdLimit === null ? null : fdLimit - reserved
  if (room !== null && room < 1) {
    throw new RangeError(
      `the file descriptor limit (${fdLimit}) leaves no room for connections after the ${reserved} the gateway keeps for itself: raise it (ulimit -n)`,
    )
  }
  if (options.maxConnections !== undefined) positive(options.maxConnections, 'maxConnections')
  if (options.maxConnections !== undefined && room !== null && options.maxConnections > room) {
    throw new RangeError(
      `maxConnections ${options.maxConnections} does not fit the file descriptor limit (${fdLimit}) less the ${reserved} the gateway keeps for itself: at most ${room}, or raise the limit (ulimit -n)`,
    )
  }
  // 0 (no cap) only where the limit cannot be read and none was set.
  const maxConnections = options.maxConnections ?? room ?? 0
  return {
    maxConnections,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    checkIntervalMs: Math.min(1000, Math.max(100, Math.floor(headersTimeoutMs / 4))),
  }
}

/** The soft RLIMIT_NOFILE of this process from /proc (Linux), or null where it cannot be read. */
export function fileDescriptorLimit(limitsFile = '/proc/self/limits'): number | null {
  let text: string
  try {
    text = readFileSync(limitsFile, 'utf8')
  } catch {
    return null
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1]
  return soft === undefined || !/^\d+$/.test(soft) ? null : Number(soft)
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}
