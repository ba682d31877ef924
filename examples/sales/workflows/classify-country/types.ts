// Shapes shared by the classify.country graph's files (types only).

export interface Lead {
  readonly company?: string
  readonly name?: string
  readonly email?: string
  readonly website?: string
  readonly phone?: string
  readonly address?: string
}

export type SignalKind = 'address-country' | 'address-region' | 'address-city' | 'phone' | 'website-tld' | 'email-tld'

/** One piece of evidence for one country. */
export interface Signal {
  readonly kind: SignalKind
  /** ISO 3166-1 alpha-2. */
  readonly country: string
  /** How much this evidence alone should convince, 0..1. */
  readonly weight: number
  /** What was seen, e.g. `.de`, `+49`, `München`. */
  readonly value: string
}

export interface Candidate {
  readonly country: string
  /** Combined weight of its signals: 1 − Π(1 − weight). */
  readonly score: number
  readonly signals: readonly Signal[]
}

export interface Classification {
  readonly country: string | null
  readonly confidence: number
  readonly method: 'signals' | 'model' | 'none'
  readonly evidence: readonly string[]
  /** The model consulted, when one was (`offline` for the offline model). */
  readonly model?: string
}
