// Writes examples/sales/workflows/discovery-accounts/companies.json: the dataset the
// default search tool of discovery.accounts searches. Fictional companies, deterministic
// (seeded), with a few duplicates (same domain, different spelling) for the dedupe step.
// Usage: npx tsx scripts/gen-companies.ts
import { writeFileSync } from 'node:fs'

import type { CompanyRecord } from '../examples/sales/workflows/discovery-accounts/types.js'
import { seededRandom } from './seeded-random.js'

const COUNT = 520
const DUPLICATES = 24

const INDUSTRIES: Record<string, { words: string[]; products: string[] }> = {
  fintech: {
    words: ['payments', 'lending', 'banking', 'invoicing'],
    products: ['a payments API', 'SME lending', 'a card-issuing platform', 'automated invoicing'],
  },
  logistics: {
    words: ['freight', 'warehousing', 'last-mile', 'shipping'],
    products: ['freight brokerage', 'warehouse robotics', 'last-mile delivery', 'customs software'],
  },
  healthtech: {
    words: ['clinics', 'telehealth', 'patients', 'care'],
    products: ['telehealth visits', 'clinic scheduling', 'remote patient monitoring', 'care coordination'],
  },
  ecommerce: {
    words: ['retail', 'shop', 'marketplace', 'd2c'],
    products: ['a D2C skincare brand', 'a furniture marketplace', 'a grocery delivery app', 'a fashion resale platform'],
  },
  saas: {
    words: ['b2b', 'workflow', 'collaboration', 'platform'],
    products: ['project-management software', 'a document-workflow platform', 'an internal-tools builder', 'contract-management software'],
  },
  manufacturing: {
    words: ['factory', 'industrial', 'machinery', 'components'],
    products: ['precision components', 'industrial pumps', 'packaging machinery', 'electric-motor parts'],
  },
  cybersecurity: {
    words: ['security', 'identity', 'compliance', 'threat'],
    products: ['identity management', 'cloud security posture', 'phishing defence', 'SOC automation'],
  },
  edtech: {
    words: ['learning', 'students', 'courses', 'training'],
    products: ['online language courses', 'corporate training', 'a tutoring marketplace', 'exam preparation'],
  },
  climate: {
    words: ['carbon', 'energy', 'solar', 'emissions'],
    products: ['carbon accounting', 'rooftop solar', 'battery storage', 'EV charging'],
  },
  martech: {
    words: ['marketing', 'campaigns', 'analytics', 'crm'],
    products: ['email marketing', 'attribution analytics', 'a customer-data platform', 'influencer campaigns'],
  },
  proptech: {
    words: ['real estate', 'property', 'rentals', 'buildings'],
    products: ['property management', 'smart-building sensors', 'rental marketplaces', 'mortgage origination'],
  },
  insurtech: {
    words: ['insurance', 'claims', 'underwriting', 'policies'],
    products: ['embedded insurance', 'claims automation', 'pet insurance', 'SME cover'],
  },
}
const COUNTRIES: Record<string, string[]> = {
  US: ['Austin', 'Boston', 'Chicago', 'Denver', 'New York', 'San Francisco', 'Seattle'],
  GB: ['London', 'Manchester', 'Bristol', 'Edinburgh'],
  DE: ['Berlin', 'Munich', 'Hamburg', 'Cologne'],
  FR: ['Paris', 'Lyon', 'Nantes'],
  NL: ['Amsterdam', 'Rotterdam', 'Utrecht'],
  SE: ['Stockholm', 'Gothenburg'],
  ES: ['Madrid', 'Barcelona'],
  CA: ['Toronto', 'Vancouver', 'Montreal'],
  IE: ['Dublin', 'Cork'],
  NO: ['Oslo', 'Bergen'],
  DK: ['Copenhagen', 'Aarhus'],
  PL: ['Warsaw', 'Krakow'],
  AU: ['Sydney', 'Melbourne'],
  SG: ['Singapore'],
}
const SIGNALS = [
  'uses HubSpot',
  'uses Salesforce',
  'hiring SDRs',
  'hiring account executives',
  'opened a new office',
  'raised a Series A',
  'raised a Series B',
  'expanding into Europe',
  'expanding into North America',
  'inbound lead volume doubled',
  'launched a partner programme',
  'new VP of Sales',
]
const PREFIX = [
  'North',
  'Blue',
  'Bright',
  'Iron',
  'Silver',
  'Nova',
  'Clear',
  'True',
  'Swift',
  'Deep',
  'Open',
  'Kind',
  'Bold',
  'Prime',
  'Green',
  'Red',
]
const STEM = [
  'harbor',
  'stack',
  'field',
  'wave',
  'forge',
  'path',
  'leaf',
  'loop',
  'stone',
  'bridge',
  'light',
  'point',
  'craft',
  'line',
  'peak',
  'grid',
]
const SUFFIX: Record<string, string> = {
  US: 'Inc.',
  CA: 'Inc.',
  GB: 'Ltd',
  IE: 'Ltd',
  AU: 'Pty Ltd',
  SG: 'Pte. Ltd.',
  DE: 'GmbH',
  FR: 'SAS',
  NL: 'B.V.',
  SE: 'AB',
  ES: 'S.L.',
  NO: 'AS',
  DK: 'ApS',
  PL: 'Sp. z o.o.',
}

const r = seededRandom(520_2026)
const used = new Set<string>()
const companies: CompanyRecord[] = []
while (companies.length < COUNT) {
  const base = `${r.pick(PREFIX)}${r.pick(STEM)}`
  const industry = r.pick(Object.keys(INDUSTRIES))
  const spec = INDUSTRIES[industry]
  const country = r.pick(Object.keys(COUNTRIES))
  const word = spec ? r.pick(spec.words) : industry
  const key = `${base}-${word}`
  if (used.has(key) || !spec) continue
  used.add(key)
  const display = `${base} ${word.replace(/(^|\s)\S/g, (c) => c.toUpperCase())}`
  const tld = r.chance(0.6) ? 'com' : r.pick(['io', 'co', country === 'GB' ? 'co.uk' : country.toLowerCase()])
  const employees = Math.round(10 ** (1 + r.next() * 3.3))
  const signals = Array.from(new Set(Array.from({ length: r.int(0, 3) }, () => r.pick(SIGNALS))))
  const product = r.pick(spec.products)
  companies.push({
    id: `co-${String(companies.length + 1).padStart(4, '0')}`,
    name: `${display} ${SUFFIX[country] ?? ''}`.trim(),
    domain: `${base.toLowerCase()}${word.replace(/\W+/g, '').toLowerCase()}.${tld}`,
    country,
    city: r.pick(COUNTRIES[country] ?? ['']),
    industry,
    employees,
    founded: r.int(1995, 2024),
    description: `${display} builds ${product} for ${r.pick(['mid-market', 'enterprise', 'small-business', 'consumer'])} customers${signals.length ? `; ${signals.join(', ')}` : ''}.`,
    signals,
  })
}
// The same company as a second source spells it: other legal suffix or casing, www. in the domain.
for (let i = 0; i < DUPLICATES; i++) {
  const original = r.pick(companies.slice(0, COUNT))
  companies.push({
    ...original,
    id: `co-${String(companies.length + 1).padStart(4, '0')}`,
    name: r.chance(0.5) ? original.name.toUpperCase() : original.name.replace(/\s+\S+\.?$/, ''),
    domain: r.chance(0.5) ? `www.${original.domain}` : original.domain,
    employees: Math.round(original.employees * (0.9 + r.next() * 0.2)),
  })
}

const target = new URL('../examples/sales/workflows/discovery-accounts/companies.json', import.meta.url)
writeFileSync(target, `${JSON.stringify(companies, null, 1)}\n`)
process.stdout.write(`wrote ${companies.length} company records (${DUPLICATES} duplicates) to ${decodeURIComponent(target.pathname)}\n`)
