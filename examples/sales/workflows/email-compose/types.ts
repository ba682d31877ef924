// Shapes shared by the email.compose graph's files (types only).

export interface Lead {
  readonly name: string
  readonly title?: string
  readonly company: string
  readonly email?: string
  readonly industry?: string
  readonly city?: string
  readonly recentNews?: string
  readonly notes?: readonly string[]
}

export interface Product {
  readonly name: string
  readonly facts: readonly string[]
}

export interface EmailInput {
  readonly lead: Lead
  readonly sender?: { readonly name: string; readonly title?: string }
  readonly product?: Product
  readonly tone?: 'friendly' | 'formal' | 'brief'
  readonly maxWords?: number
}

/** Everything the draft may draw on, resolved once by the gather step. */
export interface Brief {
  readonly lead: Lead
  readonly firstName: string
  readonly sender: { readonly name: string; readonly title?: string }
  readonly product: Product
  readonly tone: 'friendly' | 'formal' | 'brief'
  readonly maxWords: number
  /** Specific things about the lead a personal email can mention. */
  readonly hooks: readonly string[]
}

export interface Draft {
  readonly subject: string
  readonly body: string
}

export interface Check {
  readonly name: 'length' | 'placeholders' | 'claims' | 'personalisation'
  readonly passed: boolean
  readonly detail: string
}
