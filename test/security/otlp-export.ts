// OTLP/JSON export bodies built by hand, as a hostile sender would: any trace id, any
// service, any project claim, posted straight to a gateway's POST /v1/traces.
import { randomBytes } from 'node:crypto'

export interface FakeSpan {
  readonly name: string
  /** The span's own `switchyard.project` claim. */
  readonly project?: string
  readonly traceId?: string
  /** A span id of the sender's choosing (another process's, say). */
  readonly spanId?: string
  readonly parentSpanId?: string
  readonly attributes?: Readonly<Record<string, string | number>>
}

export interface FakeResource {
  readonly service: string
  /** The resource's `switchyard.project`. */
  readonly project?: string
  readonly spans: readonly FakeSpan[]
}

const kv = (key: string, value: string | number) => ({
  key,
  value:
    typeof value === 'number' ? (Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }) : { stringValue: value },
})

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

/** An ExportTraceServiceRequest in OTLP/JSON. */
export function otlpJson(resources: readonly FakeResource[]): string {
  const now = BigInt(Date.now()) * 1_000_000n
  return JSON.stringify({
    resourceSpans: resources.map((resource) => ({
      resource: {
        attributes: [
          kv('service.name', resource.service),
          ...(resource.project !== undefined ? [kv('switchyard.project', resource.project)] : []),
        ],
      },
      scopeSpans: [
        {
          scope: { name: 'attacker' },
          spans: resource.spans.map((span) => ({
            traceId: span.traceId ?? hex(16),
            spanId: span.spanId ?? hex(8),
            ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
            name: span.name,
            kind: 1,
            startTimeUnixNano: String(now),
            endTimeUnixNano: String(now + 1_000_000n),
            attributes: [
              ...(span.project !== undefined ? [kv('switchyard.project', span.project)] : []),
              ...Object.entries(span.attributes ?? {}).map(([k, v]) => kv(k, v)),
            ],
            status: {},
          })),
        },
      ],
    })),
  })
}

/** POST an export to `url`/v1/traces with `token` (none: no Authorization header). */
export async function postSpans(url: string, body: string, token?: string): Promise<{ status: number; code?: string; detail?: string }> {
  const response = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  })
  const text = await response.text()
  const problem = /problem\+json/.test(response.headers.get('content-type') ?? '')
    ? (JSON.parse(text) as { code: string; detail: string })
    : undefined
  return { status: response.status, ...(problem ? { code: problem.code, detail: problem.detail } : {}) }
}
