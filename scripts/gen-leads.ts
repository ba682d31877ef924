// Writes examples/sales/workflows/classify-country/labelled.jsonl: leads with the
// country they are really in, built to be awkward (.com domains, 00 and national phone
// formats, non-English addresses, ambiguous cities, signals that disagree, nothing at all).
// Deterministic (seeded): `npx tsx scripts/gen-leads.ts` rewrites the same file.
import { writeFileSync } from 'node:fs'
import { getExampleNumber, type CountryCode } from 'libphonenumber-js'
import examples from 'libphonenumber-js/mobile/examples'
import { seededRandom, type Random } from './seeded-random.js'

interface Place {
  readonly cc: CountryCode
  readonly tld: string
  /** Country name in English and as locals write it. */
  readonly names: readonly [string, string]
  readonly cities: readonly string[]
  readonly street: (r: Random) => string
  readonly postcode: (r: Random) => string
  /** How the address line is assembled: street, postcode, city. */
  readonly layout: 'eu' | 'us' | 'gb' | 'jp'
  readonly suffix: string
}

const d = (r: Random, n: number) => Array.from({ length: n }, () => r.int(0, 9)).join('')
const PLACES: Place[] = [
  {
    cc: 'US',
    tld: 'us',
    names: ['United States', 'USA'],
    cities: ['Austin, TX', 'Denver, CO', 'Boston, MA', 'Seattle, WA', 'Chicago, IL'],
    street: (r) => `${r.int(10, 9999)} ${r.pick(['Main St', 'Oak Ave', 'Market St', 'Elm Street'])}`,
    postcode: (r) => d(r, 5),
    layout: 'us',
    suffix: 'Inc.',
  },
  {
    cc: 'CA',
    tld: 'ca',
    names: ['Canada', 'Canada'],
    cities: ['Toronto, ON', 'Vancouver, BC', 'Montréal, QC', 'Calgary, AB'],
    street: (r) => `${r.int(10, 999)} ${r.pick(['King St W', 'Rue Sainte-Catherine', 'Granville St'])}`,
    postcode: (r) => `${r.pick(['M5V', 'V6B', 'H3B', 'T2P'])} ${r.int(1, 9)}${r.pick(['A', 'K', 'Z'])}${r.int(1, 9)}`,
    layout: 'us',
    suffix: 'Ltd.',
  },
  {
    cc: 'GB',
    tld: 'uk',
    names: ['United Kingdom', 'UK'],
    cities: ['London', 'Manchester', 'Leeds', 'Bristol', 'Edinburgh'],
    street: (r) => `${r.int(1, 200)} ${r.pick(['High Street', 'Station Road', 'Church Lane'])}`,
    postcode: (r) => `${r.pick(['EC1A', 'M1', 'LS1', 'BS1', 'EH1'])} ${r.int(1, 9)}${r.pick(['AB', 'DX', 'JQ'])}`,
    layout: 'gb',
    suffix: 'Ltd',
  },
  {
    cc: 'DE',
    tld: 'de',
    names: ['Germany', 'Deutschland'],
    cities: ['Berlin', 'München', 'Hamburg', 'Köln', 'Stuttgart'],
    street: (r) => `${r.pick(['Hauptstraße', 'Bahnhofstraße', 'Friedrichstraße'])} ${r.int(1, 120)}`,
    postcode: (r) => d(r, 5),
    layout: 'eu',
    suffix: 'GmbH',
  },
  {
    cc: 'AT',
    tld: 'at',
    names: ['Austria', 'Österreich'],
    cities: ['Wien', 'Graz', 'Linz', 'Salzburg'],
    street: (r) => `${r.pick(['Mariahilfer Straße', 'Landstraße'])} ${r.int(1, 90)}`,
    postcode: (r) => `${r.int(1, 9)}${d(r, 3)}`,
    layout: 'eu',
    suffix: 'GmbH',
  },
  {
    cc: 'CH',
    tld: 'ch',
    names: ['Switzerland', 'Schweiz'],
    cities: ['Zürich', 'Genève', 'Basel', 'Bern', 'Lausanne'],
    street: (r) => `${r.pick(['Bahnhofstrasse', 'Rue du Rhône'])} ${r.int(1, 80)}`,
    postcode: (r) => `${r.int(1, 9)}${d(r, 3)}`,
    layout: 'eu',
    suffix: 'AG',
  },
  {
    cc: 'FR',
    tld: 'fr',
    names: ['France', 'France'],
    cities: ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Lille'],
    street: (r) => `${r.int(1, 150)} ${r.pick(['rue de Rivoli', 'avenue Jean Jaurès', 'boulevard Haussmann'])}`,
    postcode: (r) => d(r, 5),
    layout: 'eu',
    suffix: 'SAS',
  },
  {
    cc: 'ES',
    tld: 'es',
    names: ['Spain', 'España'],
    cities: ['Madrid', 'Barcelona', 'Sevilla', 'Bilbao'],
    street: (r) => `Calle ${r.pick(['de Alcalá', 'Mayor', 'de Serrano'])} ${r.int(1, 200)}`,
    postcode: (r) => d(r, 5),
    layout: 'eu',
    suffix: 'S.L.',
  },
  {
    cc: 'IT',
    tld: 'it',
    names: ['Italy', 'Italia'],
    cities: ['Milano', 'Roma', 'Torino', 'Bologna', 'Firenze'],
    street: (r) => `Via ${r.pick(['Roma', 'Garibaldi', 'Dante'])} ${r.int(1, 150)}`,
    postcode: (r) => d(r, 5),
    layout: 'eu',
    suffix: 'S.r.l.',
  },
  {
    cc: 'NL',
    tld: 'nl',
    names: ['Netherlands', 'Nederland'],
    cities: ['Amsterdam', 'Rotterdam', 'Utrecht', 'Eindhoven'],
    street: (r) => `${r.pick(['Keizersgracht', 'Coolsingel', 'Stationsplein'])} ${r.int(1, 400)}`,
    postcode: (r) => `${r.int(1000, 9999)} ${r.pick(['AB', 'KL', 'TX'])}`,
    layout: 'eu',
    suffix: 'B.V.',
  },
  {
    cc: 'BE',
    tld: 'be',
    names: ['Belgium', 'Belgique'],
    cities: ['Bruxelles', 'Antwerpen', 'Gent', 'Liège'],
    street: (r) => `${r.pick(['Rue de la Loi', 'Meir', 'Korenmarkt'])} ${r.int(1, 120)}`,
    postcode: (r) => `${r.int(1000, 9999)}`,
    layout: 'eu',
    suffix: 'NV',
  },
  {
    cc: 'SE',
    tld: 'se',
    names: ['Sweden', 'Sverige'],
    cities: ['Stockholm', 'Göteborg', 'Malmö', 'Uppsala'],
    street: (r) => `${r.pick(['Drottninggatan', 'Kungsgatan'])} ${r.int(1, 90)}`,
    postcode: (r) => `${d(r, 3)} ${d(r, 2)}`,
    layout: 'eu',
    suffix: 'AB',
  },
  {
    cc: 'NO',
    tld: 'no',
    names: ['Norway', 'Norge'],
    cities: ['Oslo', 'Bergen', 'Trondheim'],
    street: (r) => `${r.pick(['Karl Johans gate', 'Storgata'])} ${r.int(1, 60)}`,
    postcode: (r) => d(r, 4),
    layout: 'eu',
    suffix: 'AS',
  },
  {
    cc: 'DK',
    tld: 'dk',
    names: ['Denmark', 'Danmark'],
    cities: ['København', 'Aarhus', 'Odense'],
    street: (r) => `${r.pick(['Strøget', 'Vesterbrogade'])} ${r.int(1, 80)}`,
    postcode: (r) => d(r, 4),
    layout: 'eu',
    suffix: 'ApS',
  },
  {
    cc: 'FI',
    tld: 'fi',
    names: ['Finland', 'Suomi'],
    cities: ['Helsinki', 'Espoo', 'Tampere'],
    street: (r) => `${r.pick(['Mannerheimintie', 'Aleksanterinkatu'])} ${r.int(1, 60)}`,
    postcode: (r) => `00${d(r, 3)}`,
    layout: 'eu',
    suffix: 'Oy',
  },
  {
    cc: 'PL',
    tld: 'pl',
    names: ['Poland', 'Polska'],
    cities: ['Warszawa', 'Kraków', 'Wrocław', 'Gdańsk'],
    street: (r) => `ul. ${r.pick(['Marszałkowska', 'Floriańska', 'Długa'])} ${r.int(1, 120)}`,
    postcode: (r) => `${d(r, 2)}-${d(r, 3)}`,
    layout: 'eu',
    suffix: 'Sp. z o.o.',
  },
  {
    cc: 'CZ',
    tld: 'cz',
    names: ['Czechia', 'Česko'],
    cities: ['Praha', 'Brno'],
    street: (r) => `${r.pick(['Václavské náměstí', 'Národní'])} ${r.int(1, 80)}`,
    postcode: (r) => `${d(r, 3)} ${d(r, 2)}`,
    layout: 'eu',
    suffix: 's.r.o.',
  },
  {
    cc: 'PT',
    tld: 'pt',
    names: ['Portugal', 'Portugal'],
    cities: ['Lisboa', 'Porto', 'Braga'],
    street: (r) => `${r.pick(['Avenida da Liberdade', 'Rua Augusta', 'Avenida Brasil'])} ${r.int(1, 200)}`,
    postcode: (r) => `${d(r, 4)}-${d(r, 3)}`,
    layout: 'eu',
    suffix: 'Lda.',
  },
  {
    cc: 'IE',
    tld: 'ie',
    names: ['Ireland', 'Éire'],
    cities: ['Dublin', 'Cork', 'Galway'],
    street: (r) => `${r.int(1, 90)} ${r.pick(['Grafton Street', "St Stephen's Green"])}`,
    postcode: (r) => `D0${r.int(1, 8)} ${r.pick(['X', 'K', 'E'])}${d(r, 3)}`,
    layout: 'gb',
    suffix: 'Ltd',
  },
  {
    cc: 'AU',
    tld: 'au',
    names: ['Australia', 'Australia'],
    cities: ['Sydney NSW', 'Melbourne VIC', 'Brisbane QLD'],
    street: (r) => `${r.int(1, 400)} ${r.pick(['George St', 'Collins St'])}`,
    postcode: (r) => d(r, 4),
    layout: 'eu',
    suffix: 'Pty Ltd',
  },
  {
    cc: 'BR',
    tld: 'br',
    names: ['Brazil', 'Brasil'],
    cities: ['São Paulo', 'Rio de Janeiro', 'Curitiba'],
    street: (r) => `${r.pick(['Avenida Paulista', 'Rua Oscar Freire'])}, ${r.int(1, 2000)}`,
    postcode: (r) => `${d(r, 5)}-${d(r, 3)}`,
    layout: 'eu',
    suffix: 'Ltda.',
  },
  {
    cc: 'MX',
    tld: 'mx',
    names: ['Mexico', 'México'],
    cities: ['Ciudad de México', 'Guadalajara', 'Monterrey'],
    street: (r) => `${r.pick(['Paseo de la Reforma', 'Avenida Insurgentes Sur'])} ${r.int(1, 900)}`,
    postcode: (r) => d(r, 5),
    layout: 'eu',
    suffix: 'S.A. de C.V.',
  },
  {
    cc: 'JP',
    tld: 'jp',
    names: ['Japan', '日本'],
    cities: ['東京都千代田区', '大阪市北区', '横浜市西区'],
    street: (r) => `丸の内${r.int(1, 3)}-${r.int(1, 9)}-${r.int(1, 9)}`,
    postcode: (r) => `〒${d(r, 3)}-${d(r, 4)}`,
    layout: 'jp',
    suffix: 'K.K.',
  },
  {
    cc: 'IN',
    tld: 'in',
    names: ['India', 'India'],
    cities: ['Bengaluru', 'Mumbai', 'Pune', 'Hyderabad'],
    street: (r) => `${r.int(1, 300)}, ${r.pick(['MG Road', 'Linking Road', 'Outer Ring Road'])}`,
    postcode: (r) => d(r, 6),
    layout: 'eu',
    suffix: 'Pvt Ltd',
  },
  {
    cc: 'SG',
    tld: 'sg',
    names: ['Singapore', 'Singapore'],
    cities: ['Singapore'],
    street: (r) => `${r.int(1, 200)} ${r.pick(['Robinson Road', 'Orchard Road'])}`,
    postcode: (r) => d(r, 6),
    layout: 'eu',
    suffix: 'Pte. Ltd.',
  },
]
const ROOTS = [
  'Nordlicht',
  'Bluepeak',
  'Kestrel',
  'Vantage',
  'Helix',
  'Lumen',
  'Orbit',
  'Tidal',
  'Granite',
  'Saffron',
  'Quill',
  'Mosaic',
  'Arbor',
  'Cobalt',
  'Pioneer',
  'Juniper',
]
const KINDS = ['Logistics', 'Analytics', 'Robotics', 'Foods', 'Health', 'Software', 'Energy', 'Capital', 'Design', 'Systems']
const FIRST = ['Ana', 'Jonas', 'Priya', 'Chen', 'Lucía', 'Marco', 'Sofia', 'Liam', 'Yuki', 'Olga', 'Tom', 'Amara']
const LAST = ['Weber', 'García', 'Rossi', 'Nowak', 'Tanaka', 'Smith', 'Dubois', 'Silva', 'Jensen', 'Kumar']

function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')
}

function phone(r: Random, place: Place, style: 'intl' | '00' | 'national' | 'e164'): string {
  const example = getExampleNumber(place.cc, examples)
  if (!example) return ''
  const national = example.formatNational()
  switch (style) {
    case 'intl':
      return example.formatInternational()
    case '00':
      return example.formatInternational().replace(/^\+/, '00')
    case 'e164':
      return example.number
    default:
      return national
  }
}

function address(r: Random, place: Place, countryName: 'en' | 'local' | 'none', city = r.pick(place.cities)): string {
  const country = countryName === 'none' ? '' : place.names[countryName === 'en' ? 0 : 1]
  const tail = country ? `, ${country}` : ''
  switch (place.layout) {
    case 'us':
      return `${place.street(r)}, ${city} ${place.postcode(r)}${tail}`
    case 'gb':
      return `${place.street(r)}, ${city} ${place.postcode(r)}${tail}`
    case 'jp':
      return `${place.postcode(r)} ${city}${place.street(r)}${country ? ` ${country}` : ''}`
    default:
      return `${place.street(r)}, ${place.postcode(r)} ${city}${tail}`
  }
}

interface Labelled {
  readonly id: string
  readonly lead: Record<string, string>
  readonly country: string | null
  readonly tags: readonly string[]
}

function lead(r: Random, id: number): Labelled {
  const place = r.pick(PLACES)
  const company = `${r.pick(ROOTS)} ${r.pick(KINDS)} ${place.suffix}`
  const person = `${r.pick(FIRST)} ${r.pick(LAST)}`
  const base = slug(company.split(' ').slice(0, 2).join(''))
  const tags: string[] = []
  const out: Record<string, string> = { company, name: person }
  const scenario = r.int(0, 9)
  // Domain: ccTLD, .com, a generic two-letter TLD, or a free mail address.
  const domainStyle = r.pick(['cc', 'com', 'com', 'generic', 'free'] as const)
  const domain =
    domainStyle === 'cc'
      ? `${base}.${place.tld === 'uk' ? 'co.uk' : place.tld}`
      : domainStyle === 'generic'
        ? `${base}.${r.pick(['io', 'ai', 'co'])}`
        : `${base}.com`
  tags.push(`domain:${domainStyle}`)
  out.email =
    domainStyle === 'free'
      ? `${slug(person)}@${r.pick(['gmail.com', 'outlook.com', 'yahoo.com'])}`
      : `${slug(person.split(' ')[0] ?? '')}@${domain}`
  if (domainStyle !== 'free' && r.chance(0.6)) out.website = `https://www.${domain}`
  const phoneStyle = r.pick(['intl', '00', 'national', 'e164', 'none'] as const)
  tags.push(`phone:${phoneStyle}`)
  if (phoneStyle !== 'none') out.phone = phone(r, place, phoneStyle)
  const nameStyle = r.pick(['en', 'local', 'local', 'none'] as const)
  tags.push(`address:${nameStyle === 'none' ? 'city-only' : nameStyle === 'local' ? 'local-language' : 'english'}`)
  out.address = address(r, place, nameStyle)
  let country: string | null = place.cc
  if (scenario === 0) {
    // HQ abroad: the website and phone belong to a parent in another country; the lead sits at the address.
    const parent = r.pick(PLACES.filter((p) => p.cc !== place.cc))
    out.website = `https://www.${base}.${parent.tld === 'uk' ? 'co.uk' : parent.tld}`
    out.email = `${slug(person.split(' ')[0] ?? '')}@${base}.${parent.tld === 'uk' ? 'co.uk' : parent.tld}`
    out.phone = phone(r, parent, 'intl')
    out.address = address(r, place, r.pick(['en', 'local'] as const))
    tags.splice(0, tags.length, 'conflict:parent-abroad')
  } else if (scenario === 1) {
    // Nothing to go on: free mail, no phone, no address.
    delete out.address
    delete out.phone
    delete out.website
    out.email = `${slug(person)}@${r.pick(['gmail.com', 'outlook.com', 'proton.me'])}`
    country = null
    tags.splice(0, tags.length, 'nothing')
  } else if (scenario === 2 && (place.cc === 'CA' || place.cc === 'US')) {
    // Famous city names in the wrong country.
    out.address =
      place.cc === 'CA'
        ? `${r.int(10, 900)} Richmond St, London, ON N6A ${r.int(1, 9)}K${r.int(1, 9)}`
        : `${r.int(10, 900)} Lamar Ave, Paris, TX 75460`
    delete out.website
    out.email = `${slug(person.split(' ')[0] ?? '')}@${base}.com`
    tags.splice(0, tags.length, 'ambiguous-city')
  } else if (scenario === 3) {
    // Only a phone number in international form.
    delete out.address
    delete out.website
    out.email = `${slug(person.split(' ')[0] ?? '')}@${base}.com`
    out.phone = phone(r, place, r.pick(['intl', '00', 'e164'] as const))
    tags.splice(0, tags.length, 'phone-only')
  } else if (
    scenario === 4 &&
    ['DE', 'AT', 'CH', 'FR', 'IT', 'BE', 'NL', 'SE', 'DK', 'NO', 'FI', 'PL', 'CZ', 'ES', 'PT'].includes(place.cc)
  ) {
    // Old country-prefixed postcode, city only.
    const prefix = {
      DE: 'D',
      AT: 'A',
      CH: 'CH',
      FR: 'F',
      IT: 'I',
      BE: 'B',
      NL: 'NL',
      SE: 'S',
      DK: 'DK',
      NO: 'N',
      FI: 'FIN',
      PL: 'PL',
      CZ: 'CZ',
      ES: 'E',
      PT: 'P',
    }[place.cc as string]
    out.address = `${place.street(r)}, ${prefix}-${d(r, place.cc === 'DE' || place.cc === 'FR' || place.cc === 'IT' || place.cc === 'ES' || place.cc === 'FI' ? 5 : 4)} ${r.pick(place.cities)}`
    tags.splice(0, tags.length, ...tags.filter((t) => !t.startsWith('address:')), 'prefixed-postcode')
  }
  return { id: `lead-${String(id).padStart(3, '0')}`, lead: out, country, tags }
}

// Hand-picked traps: places whose names mean something else elsewhere.
const CURATED: Array<Omit<Labelled, 'id'>> = [
  {
    lead: { company: 'Forest City Dental', address: '200 Queens Ave, London, ON N6A 1J1', phone: '+1 519 555 0142' },
    country: 'CA',
    tags: ['ambiguous-city'],
  },
  {
    lead: { company: 'Lamar Feed & Seed', address: '12 Lamar Ave, Paris, TX 75460', email: 'office@lamarfeed.com' },
    country: 'US',
    tags: ['ambiguous-city'],
  },
  {
    lead: { company: 'Kendall Bio Inc.', address: '1 Kendall Sq, Cambridge, MA 02139', website: 'kendallbio.com' },
    country: 'US',
    tags: ['ambiguous-city'],
  },
  { lead: { company: 'Magic City Steel', address: '2100 1st Ave N, Birmingham, AL 35203' }, country: 'US', tags: ['ambiguous-city'] },
  {
    lead: { company: 'Peach State Logistics', address: '55 Peachtree St, Atlanta, Georgia 30303, USA' },
    country: 'US',
    tags: ['ambiguous-name'],
  },
  {
    lead: { company: 'Rustaveli Tech', address: 'Rustaveli Ave 12, Tbilisi 0108, Georgia', phone: '+995 32 212 3456' },
    country: 'GE',
    tags: ['ambiguous-name'],
  },
  {
    lead: { company: 'Santa Fe Solar', address: '401 Old Santa Fe Trail, Santa Fe, New Mexico 87501', phone: '(505) 555-0190' },
    country: 'US',
    tags: ['ambiguous-name'],
  },
  {
    lead: { company: 'Garden State Pharma', address: '100 College Rd W, Princeton, New Jersey 08540' },
    country: 'US',
    tags: ['ambiguous-name'],
  },
  {
    lead: { company: 'Channel Trust Ltd', address: '3 Bath Street, St Helier JE2 4ST, Jersey', phone: '+44 1534 712345' },
    country: 'JE',
    tags: ['ambiguous-name'],
  },
  {
    lead: { company: 'Harbour Freight Pty Ltd', address: '88 Charlotte St, Sydney NSW 2000', email: 'ops@harbourfreight.com.au' },
    country: 'AU',
    tags: ['ambiguous-city'],
  },
  { lead: { company: 'Vienna Bakery LLC', address: '140 Maple Ave E, Vienna, VA 22180' }, country: 'US', tags: ['ambiguous-city'] },
  {
    lead: { company: 'Moscow Mills Co', email: 'hello@moscowmills.com', address: '9 Main St, Moscow, ID 83843' },
    country: 'US',
    tags: ['ambiguous-city'],
  },
  {
    lead: {
      company: 'Hanse Digital GmbH',
      email: 'info@hanse-digital.de',
      phone: '+49 40 30 12 34 56',
      address: 'Jungfernstieg 7, 20354 Hamburg',
    },
    country: 'DE',
    tags: ['clean'],
  },
  {
    lead: { company: 'Café Lumière', address: '8 rue des Martyrs, 75009 Paris', phone: '01 42 81 22 33' },
    country: 'FR',
    tags: ['phone:national'],
  },
  { lead: { company: 'Nippon Widgets', address: '〒530-0001 大阪府大阪市北区梅田1-1' }, country: 'JP', tags: ['address:local-language'] },
  {
    lead: { company: 'Sino Parts', address: '上海市浦东新区世纪大道100号', phone: '+86 21 6888 8888' },
    country: 'CN',
    tags: ['address:local-language'],
  },
  {
    lead: { company: 'Acme Holdings', website: 'https://acme.io', email: 'sales@acme.io' },
    country: null,
    tags: ['nothing', 'domain:generic'],
  },
  {
    lead: { company: 'Berlin Burgers Ltd', address: '14 Camden High St, London NW1 0JH', email: 'hi@berlinburgers.co.uk' },
    country: 'GB',
    tags: ['ambiguous-name'],
  },
]

const random = seededRandom(20261124)
const rows = [
  ...Array.from({ length: 240 }, (_, i) => lead(random, i + 1)),
  ...CURATED.map((row, i) => ({ id: `trap-${String(i + 1).padStart(2, '0')}`, ...row })),
]
const target = new URL('../examples/sales/workflows/classify-country/labelled.jsonl', import.meta.url)
writeFileSync(target, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`)
process.stdout.write(`wrote ${rows.length} labelled leads to ${decodeURIComponent(target.pathname)}\n`)
