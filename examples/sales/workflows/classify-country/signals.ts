// Deterministic country signals for a lead: ccTLDs, the phone number's country
// (libphonenumber-js), and country names, postcodes, regions and cities in the address
// (i18n-iso-countries in many languages, plus the shipped city list). Dependencies load
// in createSignals: graph folders import nothing heavy at module level.
import type { Candidate, Lead, Signal } from './types.js'

export interface SignalReader {
  read(lead: Lead): Signal[]
  rank(signals: readonly Signal[]): Candidate[]
}

// Two-letter TLDs sold worldwide as generic names: they say nothing about a country.
const GENERIC_TLDS = new Set([
  'io',
  'co',
  'ai',
  'me',
  'tv',
  'fm',
  'ly',
  'gg',
  'to',
  'cc',
  'ws',
  'sh',
  'so',
  'vc',
  'eu',
  'su',
  'am',
  'la',
  'xyz',
])
const FREE_MAIL = /^(gmail|googlemail|yahoo|hotmail|outlook|live|icloud|me|aol|proton|protonmail|gmx|web|mail|yandex|zoho|qq|163)\./
const LANGUAGES = [
  'en',
  'de',
  'fr',
  'es',
  'it',
  'pt',
  'nl',
  'sv',
  'da',
  'nb',
  'fi',
  'pl',
  'cs',
  'hu',
  'ro',
  'el',
  'tr',
  'ja',
  'zh',
  'ko',
  'ru',
]
const ALIASES: Record<string, string[]> = {
  US: ['USA', 'U.S.A.', 'U.S.', 'United States of America', 'Estados Unidos', 'Vereinigte Staaten'],
  GB: ['UK', 'U.K.', 'Great Britain', 'England', 'Scotland', 'Wales', 'Northern Ireland', 'Royaume-Uni', 'Großbritannien'],
  NL: ['Holland', 'The Netherlands'],
  CZ: ['Czech Republic', 'Česká republika', 'Česko'],
  IE: ['Éire', 'Republic of Ireland'],
  KR: ['South Korea', 'Korea'],
  AE: ['UAE', 'U.A.E.'],
}
// Country names that are also places elsewhere or everyday words.
const AMBIGUOUS_NAMES = /\bnew (?:jersey|mexico)\b|\bgeorgia\b(?=[\s,]+(?:usa|us|\d{5}))|\bjordan\b|\bchad\b|\bturkey\b|\bman\b/gi
const US_STATES =
  'AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC'.split(
    ' ',
  )
const CA_PROVINCES = 'AB BC MB NB NL NS NT NU ON PE QC SK YT'.split(' ')
// "D-10115 Berlin": the old European country-prefixed postcodes.
const PREFIXED_POSTCODE: Record<string, string> = {
  D: 'DE',
  A: 'AT',
  CH: 'CH',
  F: 'FR',
  I: 'IT',
  NL: 'NL',
  B: 'BE',
  L: 'LU',
  S: 'SE',
  DK: 'DK',
  N: 'NO',
  FIN: 'FI',
  PL: 'PL',
  CZ: 'CZ',
  E: 'ES',
  P: 'PT',
}

const WEIGHTS = {
  // Where the lead sits outweighs where its organisation registered its domain or phone:
  // a subsidiary abroad keeps the parent's website and switchboard.
  'address-country': 0.95,
  'address-region': 0.8,
  phone: 0.85,
  'phone-national': 0.45,
  'address-city': 0.6,
  'website-tld': 0.6,
  'email-tld': 0.5,
} as const

/** Load the lookup tables (once per worker process) and return the signal reader. */
export async function createSignals(cities: Readonly<Record<string, readonly string[]>>): Promise<SignalReader> {
  const [{ parsePhoneNumberFromString }, countriesModule, { createRequire }] = await Promise.all([
    import('libphonenumber-js'),
    import('i18n-iso-countries'),
    import('node:module'),
  ])
  const countries = (countriesModule as unknown as { default?: typeof countriesModule }).default ?? countriesModule
  const require = createRequire(import.meta.url)
  for (const lang of LANGUAGES)
    countries.registerLocale(require(`i18n-iso-countries/langs/${lang}.json`) as Parameters<typeof countries.registerLocale>[0])
  const valid = new Set(Object.keys(countries.getAlpha2Codes()))

  const names: Array<{ text: string; country: string; latin: boolean }> = []
  const addName = (name: string, country: string) => {
    const latin = /^[\p{Script=Latin}\s.'’()-]+$/u.test(name)
    if (latin && name.length < 4 && !/^[A-Z.]+$/.test(name)) return
    names.push({ text: latin ? fold(name) : name, country, latin })
  }
  for (const lang of LANGUAGES) {
    for (const [code, list] of Object.entries(countries.getNames(lang, { select: 'all' }) as Record<string, string[]>))
      list.forEach((n) => addName(n, code))
  }
  for (const [code, list] of Object.entries(ALIASES)) list.forEach((n) => addName(n, code))
  const cityList = Object.entries(cities)
    .filter(([code]) => valid.has(code))
    .flatMap(([country, list]) =>
      list.map((city) => ({ text: fold(city), country, latin: /^[\p{Script=Latin}\s.,'’-]+$/u.test(city), value: city })),
    )

  function tldSignal(host: string | undefined, kind: 'website-tld' | 'email-tld'): Signal[] {
    if (!host || FREE_MAIL.test(host)) return []
    const tld = host.split('.').pop()?.toLowerCase() ?? ''
    const code = tld === 'uk' ? 'GB' : tld.toUpperCase()
    if (tld.length !== 2 || GENERIC_TLDS.has(tld) || !valid.has(code)) return []
    return [{ kind, country: code, weight: WEIGHTS[kind], value: `.${tld}` }]
  }

  function phoneSignals(phone: string | undefined, hints: readonly string[]): Signal[] {
    if (!phone) return []
    const text = phone
      .trim()
      .replace(/^00/, '+')
      .replace(/^\+\s*\(?0?\)?/, '+')
    if (text.startsWith('+')) {
      const parsed = parsePhoneNumberFromString(text)
      if (parsed?.country && parsed.isPossible()) {
        return [
          {
            kind: 'phone',
            country: parsed.country,
            weight: parsed.isValid() ? WEIGHTS.phone : WEIGHTS.phone - 0.2,
            value: `+${parsed.countryCallingCode}`,
          },
        ]
      }
      return []
    }
    // A national number says little alone; it supports a country other signals name when it is valid there.
    return hints.flatMap((country) => {
      const parsed = parsePhoneNumberFromString(text, country as Parameters<typeof parsePhoneNumberFromString>[1])
      return parsed?.isValid() && parsed.country === country
        ? [{ kind: 'phone' as const, country, weight: WEIGHTS['phone-national'], value: `national number valid in ${country}` }]
        : []
    })
  }

  function addressSignals(address: string | undefined): Signal[] {
    if (!address) return []
    const out: Signal[] = []
    const cleaned = address.replace(AMBIGUOUS_NAMES, ' ')
    const folded = ` ${fold(cleaned)} `
    // The match that ends last wins (the country usually closes an address); on a tie, the
    // longer name ("Papua New Guinea" over "Guinea").
    const lastMatch = (list: Array<{ text: string; country: string; latin: boolean }>, haystack: string, streets = false) => {
      let best: { end: number; length: number; country: string; text: string } | undefined
      for (const entry of list) {
        const at = entry.latin ? haystack.lastIndexOf(` ${entry.text} `) : cleaned.lastIndexOf(entry.text)
        if (at < 0) continue
        // "Avenida Brasil 163": a name followed by a house number is a street, not a country.
        if (streets && entry.latin && /^ \d/.test(haystack.slice(at + entry.text.length + 1))) continue
        const end = at + entry.text.length
        if (best === undefined || end > best.end || (end === best.end && entry.text.length > best.length)) {
          best = { end, length: entry.text.length, country: entry.country, text: entry.text }
        }
      }
      return best
    }
    const named = lastMatch(names, folded, true)
    if (named) out.push({ kind: 'address-country', country: named.country, weight: WEIGHTS['address-country'], value: named.text })
    const region = regionOf(address)
    if (region) out.push({ kind: 'address-region', country: region.country, weight: region.weight, value: region.value })
    const city = lastMatch(cityList, folded)
    if (city) out.push({ kind: 'address-city', country: city.country, weight: WEIGHTS['address-city'], value: city.text })
    return out
  }

  return {
    read(lead) {
      const website = lead.website ? hostOf(lead.website)?.replace(/^www\./, '') : undefined
      const emailHost = lead.email?.split('@')[1]?.toLowerCase()
      // The same domain on the website and in the e-mail address is one piece of evidence, not two.
      const base = [
        ...addressSignals(lead.address),
        ...tldSignal(website, 'website-tld'),
        ...(emailHost && emailHost !== website ? tldSignal(emailHost, 'email-tld') : []),
      ]
      return [...base, ...phoneSignals(lead.phone, [...new Set(base.map((s) => s.country))])]
    },
    rank,
  }
}

/** Combine signals per country: each kind counts once (its strongest), kinds combine as 1 − Π(1 − w). */
export function rank(signals: readonly Signal[]): Candidate[] {
  const byCountry = new Map<string, Signal[]>()
  for (const signal of signals) byCountry.set(signal.country, [...(byCountry.get(signal.country) ?? []), signal])
  return [...byCountry.entries()]
    .map(([country, list]) => {
      const strongest = new Map<string, number>()
      for (const s of list) strongest.set(s.kind, Math.max(strongest.get(s.kind) ?? 0, s.weight))
      const miss = [...strongest.values()].reduce((acc, w) => acc * (1 - w), 1)
      return { country, score: Math.round((1 - miss) * 1000) / 1000, signals: list }
    })
    .sort((a, b) => b.score - a.score || a.country.localeCompare(b.country))
}

const US_STATE_NAMES =
  /\b(Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming),?\s+(\d{5})(?:-\d{4})?\b/

function regionOf(address: string): { country: string; weight: number; value: string } | undefined {
  const state = US_STATE_NAMES.exec(address)
  if (state) return { country: 'US', weight: WEIGHTS['address-region'], value: `${state[1]} ${state[2]}` }
  const us = /\b([A-Z]{2})\s+(\d{5})(?:-\d{4})?\b/.exec(address)
  if (us?.[1] && US_STATES.includes(us[1])) return { country: 'US', weight: WEIGHTS['address-region'], value: `${us[1]} ${us[2]}` }
  const ca = /\b([A-Z]{2})\s+([A-Z]\d[A-Z]\s?\d[A-Z]\d)\b/.exec(address)
  if (ca?.[1] && CA_PROVINCES.includes(ca[1])) return { country: 'CA', weight: 0.85, value: `${ca[1]} ${ca[2]}` }
  const code = /,\s*([A-Z]{2})\s*(?:,|$)/.exec(address)
  if (code?.[1] && US_STATES.includes(code[1]) && !CA_PROVINCES.includes(code[1])) return { country: 'US', weight: 0.7, value: code[1] }
  if (code?.[1] && CA_PROVINCES.includes(code[1]) && !US_STATES.includes(code[1])) return { country: 'CA', weight: 0.7, value: code[1] }
  const prefixed = /\b(FIN|CH|DK|NL|PL|CZ|[DAFIBLSNEP])-(\d{4,5})\b/.exec(address)
  if (prefixed?.[1] && PREFIXED_POSTCODE[prefixed[1]])
    return { country: PREFIXED_POSTCODE[prefixed[1]] ?? '', weight: 0.7, value: prefixed[0] }
  const gb = /\b([A-Z]{1,2}\d[A-Z\d]?)\s+(\d[A-Z]{2})\b/.exec(address)
  if (gb) return { country: 'GB', weight: 0.75, value: gb[0] }
  const jp = /〒\s?\d{3}-\d{4}|\b\d{3}-\d{4}\b.*(?:都|道|府|県)/.exec(address)
  if (jp) return { country: 'JP', weight: 0.75, value: jp[0] }
  return undefined
}

function hostOf(website: string): string | undefined {
  try {
    return new URL(/^[a-z]+:\/\//i.test(website) ? website : `https://${website}`).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

/** Lowercase, accents removed, punctuation as spaces: "Zürich, Schweiz" → "zurich schweiz". */
function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
}
