// The span as the embedded store keeps it: flat, JSON, times in epoch milliseconds.
// Every OTLP encoding (JSON, protobuf) is decoded into this one shape.

export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue }
export type Attributes = Readonly<Record<string, AttributeValue>>

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified'
export type SpanStatusName = 'unset' | 'ok' | 'error'

export interface StoredEvent {
  readonly name: string
  /** Epoch milliseconds. */
  readonly time: number
  readonly attributes: Attributes
}

export interface StoredSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string
  /** 16 lowercase hex digits. */
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly name: string
  readonly kind: SpanKindName
  /** `service.name` of the process that recorded the span. */
  readonly service: string
  /** The trace project the span is filed under. */
  readonly project: string
  /** Epoch milliseconds, with sub-millisecond fraction. */
  readonly start: number
  readonly end: number
  readonly status: SpanStatusName
  readonly statusMessage?: string
  readonly attributes: Attributes
  readonly resource: Attributes
  readonly events?: readonly StoredEvent[]
  /** Who posted the span, when that sender is not trusted with every trace (see SpanSender); absent otherwise. */
  readonly sender?: SpanSender
}

/**
 * Who posted a span to the receiver, when it is not trusted with every trace: a pool's
 * ingest credential (its pools) or a caller's token. Set by the receiver from the
 * credential, never from the export. Spans without one were recorded by the store's own
 * process (the gateway) or posted by a trusted sender (admin, an unrestricted ingest
 * token, the receiver of an open gateway): those make a trace's runs (trace-members.ts).
 */
export interface SpanSender {
  /** The credential's id: `ingest:<pool>`, `token:<hash>`, `anonymous`. */
  readonly id: string
  /** The pools an ingest credential writes for; absent for a caller's token. */
  readonly pools?: readonly string[]
}

export const TRACE_ID = /^[0-9a-f]{32}$/
