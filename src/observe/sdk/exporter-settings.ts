// Where and how a process exports its spans, read from the env it is given (the
// standard OTEL_EXPORTER_OTLP_* variables, and SWITCHYARD_TRACES_URL for the
// embedded gateway, with SWITCHYARD_TRACES_TOKEN when the gateway wants a bearer
// token): a pool's own env, never another pool's.

export type Env = Readonly<Record<string, string | undefined>>

export interface ExporterSettings {
  readonly url: string
  /** True when the endpoint is the embedded gateway's receiver (SWITCHYARD_TRACES_URL, no OTEL_EXPORTER_OTLP_*ENDPOINT). */
  readonly embedded: boolean
  readonly protocol: 'http/protobuf' | 'http/json'
  readonly headers: Record<string, string>
  readonly timeoutMillis: number | undefined
  readonly compression: 'gzip' | 'none'
}

/** The OTLP trace exporter settings in `env`, or undefined when no endpoint is configured. */
export function exporterSettings(env: Env): ExporterSettings | undefined {
  const url = tracesUrl(env)
  if (url === undefined) return undefined
  // The token is for the embedded gateway only: never sent to an endpoint the pool chose itself.
  const embedded = embeddedOnly(env)
  const token = embedded ? env.SWITCHYARD_TRACES_TOKEN?.trim() : undefined
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim()
  const timeout = Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT)
  const compression = (env.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION ?? env.OTEL_EXPORTER_OTLP_COMPRESSION ?? 'none').trim()
  return {
    url,
    embedded,
    protocol: protocol === 'http/json' ? 'http/json' : 'http/protobuf',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    },
    timeoutMillis: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
    compression: compression === 'gzip' ? 'gzip' : 'none',
  }
}

function embeddedOnly(env: Env): boolean {
  return !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() && !env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
}

function tracesUrl(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  if (specific) return specific
  const generic = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  if (generic) return `${generic.replace(/\/+$/, '')}/v1/traces`
  const embedded = env.SWITCHYARD_TRACES_URL?.trim()
  if (!embedded) return undefined
  // Accept the gateway's base URL as well as the receiver's full URL.
  return /\/v1\/traces\/?$/.test(embedded) ? embedded : `${embedded.replace(/\/+$/, '')}/v1/traces`
}

/** `k1=v1,k2=v2` with percent-encoded values (the OTLP exporter spec's format). */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of (raw ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    const key = pair.slice(0, at).trim()
    try {
      headers[key] = decodeURIComponent(pair.slice(at + 1).trim())
    } catch {
      headers[key] = pair.slice(at + 1).trim()
    }
  }
  return headers
}
