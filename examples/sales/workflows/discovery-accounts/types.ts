// Shapes shared by the discovery.accounts graph's files (types only).

export interface Icp {
  /** The ideal customer in plain words. */
  readonly description: string
  readonly industries?: readonly string[]
  /** ISO 3166-1 alpha-2 codes. */
  readonly countries?: readonly string[]
  readonly employees?: { readonly min?: number; readonly max?: number }
  readonly keywords?: readonly string[]
}

export interface DiscoveryInput {
  readonly icp: Icp
  /** How many accounts to return. @default 10 */
  readonly limit?: number
  /** Domains already in the CRM: never returned. */
  readonly exclude?: readonly string[]
}

export interface CompanyRecord {
  readonly id: string
  readonly name: string
  readonly domain: string
  readonly country: string
  readonly city: string
  readonly industry: string
  readonly employees: number
  readonly founded: number
  readonly description: string
  readonly signals: readonly string[]
}

/** The ICP made searchable: what the expand step produces. */
export interface SearchQuery {
  readonly industries: readonly string[]
  readonly countries: readonly string[]
  readonly keywords: readonly string[]
  readonly employees: { readonly min: number; readonly max: number }
  /** Most records the tool should return. */
  readonly limit: number
}

/**
 * Where candidate accounts come from. The default searches the shipped dataset;
 * a team plugs in its own (a CRM, a firmographics API) through graphWith().
 */
export interface SearchTool {
  readonly name: string
  search(query: SearchQuery, signal: AbortSignal): Promise<CompanyRecord[]>
}

export interface ScoredAccount {
  readonly record: CompanyRecord
  readonly score: number
  readonly reasons: readonly string[]
}

/** A ranked account as the workflow returns it: the company's public facts, its rank, score and reasons. */
export interface Account
  extends Pick<CompanyRecord, 'name' | 'domain' | 'country' | 'city' | 'industry' | 'employees'>, Omit<ScoredAccount, 'record'> {
  readonly rank: number
}

export interface DiscoveryOutput {
  readonly accounts: readonly Account[]
  readonly summary: string
  readonly query: Omit<SearchQuery, 'limit'>
  /** Records the search returned, before scoring and dedupe. */
  readonly searched: number
  readonly duplicatesRemoved: number
  readonly tool: string
  readonly model: string
}
