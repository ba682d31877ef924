// The deterministic half of discovery: ICP expansion hints, the dataset search tool,
// scoring with reasons, and dedupe. Pure functions (the dataset is passed in), so tests pin them.
import type { CompanyRecord, Icp, ScoredAccount, SearchQuery, SearchTool } from './types.js'

const INDUSTRY_WORDS: Record<string, readonly string[]> = {
  fintech: ['fintech', 'payments', 'payment', 'lending', 'banking', 'bank', 'invoicing', 'finance'],
  logistics: ['logistics', 'freight', 'shipping', 'warehouse', 'warehousing', 'delivery', 'supply chain', 'last-mile'],
  healthtech: ['health', 'healthtech', 'clinic', 'clinics', 'telehealth', 'patients', 'medical', 'care'],
  ecommerce: ['ecommerce', 'e-commerce', 'retail', 'shop', 'marketplace', 'd2c', 'dtc', 'online store'],
  saas: ['saas', 'software', 'b2b software', 'workflow', 'platform', 'collaboration'],
  manufacturing: ['manufacturing', 'manufacturer', 'factory', 'industrial', 'machinery', 'components'],
  cybersecurity: ['security', 'cybersecurity', 'identity', 'compliance', 'threat'],
  edtech: ['edtech', 'education', 'learning', 'training', 'courses', 'students'],
  climate: ['climate', 'carbon', 'energy', 'solar', 'emissions', 'ev charging', 'cleantech'],
  martech: ['martech', 'marketing', 'campaigns', 'attribution', 'crm'],
  proptech: ['proptech', 'real estate', 'property', 'rentals', 'buildings'],
  insurtech: ['insurtech', 'insurance', 'claims', 'underwriting'],
}
const REGIONS: Record<string, readonly string[]> = {
  europe: ['GB', 'DE', 'FR', 'NL', 'SE', 'ES', 'IE', 'NO', 'DK', 'PL'],
  nordics: ['SE', 'NO', 'DK'],
  dach: ['DE'],
  benelux: ['NL'],
  'north america': ['US', 'CA'],
  uk: ['GB'],
  'united kingdom': ['GB'],
  germany: ['DE'],
  france: ['FR'],
  netherlands: ['NL'],
  sweden: ['SE'],
  spain: ['ES'],
  ireland: ['IE'],
  norway: ['NO'],
  denmark: ['DK'],
  poland: ['PL'],
  'united states': ['US'],
  usa: ['US'],
  canada: ['CA'],
  australia: ['AU'],
  singapore: ['SG'],
  apac: ['AU', 'SG'],
}
const SIGNAL_WORDS = [
  'hubspot',
  'salesforce',
  'hiring',
  'sdrs',
  'series a',
  'series b',
  'expanding',
  'new office',
  'partner',
  'inbound',
  'vp of sales',
]
const STOP = new Set(
  'a an and or the of for to in on with who that are is be by at from our we their they them companies company teams team like need needs want'.split(
    ' ',
  ),
)

/** What the description says, read deterministically: the hints the expand step starts from. */
export function expandIcp(icp: Icp): Omit<SearchQuery, 'limit'> {
  const text = ` ${icp.description.toLowerCase()} `
  const industries = new Set(icp.industries ?? [])
  for (const [industry, words] of Object.entries(INDUSTRY_WORDS)) if (words.some((w) => text.includes(` ${w}`))) industries.add(industry)
  const countries = new Set((icp.countries ?? []).map((c) => c.toUpperCase()))
  for (const [region, codes] of Object.entries(REGIONS)) if (text.includes(` ${region}`)) codes.forEach((c) => countries.add(c))
  const keywords = new Set((icp.keywords ?? []).map((k) => k.toLowerCase()))
  for (const signal of SIGNAL_WORDS) if (text.includes(signal)) keywords.add(signal)
  const sizes = /(\d+)\s*(?:-|–|to)\s*(\d+)\s*(?:employees|people|staff)/.exec(text)
  const min = icp.employees?.min ?? (sizes?.[1] ? Number(sizes[1]) : 1)
  const max = icp.employees?.max ?? (sizes?.[2] ? Number(sizes[2]) : 100_000)
  return {
    industries: [...industries],
    countries: [...countries],
    keywords: [...keywords].filter((k) => !STOP.has(k)),
    employees: { min, max },
  }
}

/** The default search tool: a loose filter over the shipped dataset (scoring ranks later). */
export function datasetSearchTool(records: readonly CompanyRecord[], name = 'dataset'): SearchTool {
  return {
    name,
    async search(query, signal) {
      const out: CompanyRecord[] = []
      for (const record of records) {
        if (signal.aborted) break
        const industry = query.industries.length === 0 || query.industries.includes(record.industry)
        const country = query.countries.length === 0 || query.countries.includes(record.country)
        const keyword = query.keywords.some((k) => haystack(record).includes(k))
        if ((industry && country) || (keyword && country)) out.push(record)
        if (out.length >= query.limit) break
      }
      return out
    },
  }
}

/** Score 0..1 with the reasons a rep would want to read. */
export function score(record: CompanyRecord, query: Omit<SearchQuery, 'limit'>): ScoredAccount {
  const reasons: string[] = []
  let total = 0
  if (query.industries.includes(record.industry)) {
    total += 0.35
    reasons.push(`industry: ${record.industry}`)
  }
  if (query.countries.length === 0 || query.countries.includes(record.country)) {
    total += 0.2
    if (query.countries.length) reasons.push(`based in ${record.city}, ${record.country}`)
  }
  const { min, max } = query.employees
  if (record.employees >= min && record.employees <= max) {
    total += 0.2
    reasons.push(`${record.employees} employees, within ${min}–${max}`)
  } else {
    const off = record.employees < min ? min / record.employees : record.employees / max
    if (off < 2) total += 0.08
  }
  const text = haystack(record)
  const hits = query.keywords.filter((k) => text.includes(k))
  if (query.keywords.length) total += 0.25 * (hits.length / query.keywords.length)
  for (const signal of record.signals) if (query.keywords.some((k) => signal.toLowerCase().includes(k))) reasons.push(`signal: ${signal}`)
  return { record, score: Math.round(total * 1000) / 1000, reasons }
}

/** One account per company (same domain, www. aside, or same name, legal suffix and case aside), best score first. */
export function dedupe(accounts: readonly ScoredAccount[]): { kept: ScoredAccount[]; removed: number } {
  const seen = new Set<string>()
  const kept: ScoredAccount[] = []
  const ranked = [...accounts].sort((a, b) => b.score - a.score || a.record.id.localeCompare(b.record.id))
  for (const account of ranked) {
    const keys = [`d:${account.record.domain.replace(/^www\./, '')}`, `n:${normaliseName(account.record.name)}`]
    if (keys.some((k) => seen.has(k))) continue
    keys.forEach((k) => seen.add(k))
    kept.push(account)
  }
  return { kept, removed: accounts.length - kept.length }
}

function normaliseName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\b(inc|ltd|gmbh|sas|b\.v|ab|s\.l|as|aps|sp\. z o\.o|pty|pte)\b\.?/g, '')
    .replace(/[^a-z0-9]+/g, '')
}

function haystack(record: CompanyRecord): string {
  return `${record.description} ${record.signals.join(' ')} ${record.industry}`.toLowerCase()
}
