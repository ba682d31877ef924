// The run envelope: what travels on the broker (DESIGN §2.4).
// Helper functions (create, canonicalise, sign, verify, parse) belong here too.

export interface TraceCarrier {
  readonly traceparent: string
  readonly tracestate: string
  readonly baggage: string
}

export interface Envelope {
  readonly v: 1
  readonly runId: string
  readonly workflow: string
  readonly pool: string
  readonly graph: string
  readonly input: unknown
  readonly registry: string
  /** ISO 8601. */
  readonly deadline: string
  readonly attempt: number
  readonly maxAttempts: number
  readonly trace: TraceCarrier
  readonly idempotencyKey: string | null
  /** HMAC-SHA256 (hex) over the canonical envelope without `sig`; '' when unsigned. */
  readonly sig: string
}
