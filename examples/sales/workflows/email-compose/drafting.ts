// Draft rules for email.compose: the checks (pure functions of a draft and its brief),
// a deterministic first draft, and deterministic repairs of a draft that failed its checks.
// The model improves on the outline and the repairs; the offline model returns them as they
// are, which is why the demo reads sensibly without a model. (One file: graph folders import
// nothing at module level but switchyard-ai/graph, so siblings cannot import each other.)
import type { Brief, Check, Draft } from './types.js'

const PLACEHOLDER =
  /\{\{[^}]*\}\}|\[(?:[A-Z][\w ]*|\.\.\.)\]|<(?:first[_ ]?name|name|company|title|[a-z_]+_name)>|\b(?:TODO|TBD|XXX|INSERT)\b/g
// Words that make a claim about the product which the facts must back.
const SUPERLATIVE = /#\s?1\b|\bnumber one\b|\bbest\b|\bleading\b|\bguarantee[sd]?\b|\bonly\b|\bfastest\b|\bcheapest\b|\bworld-class\b/i
const SIGN_OFF = /^(?:all the )?(?:best|kind|warm)?\s*(?:regards|wishes)?[,.!]?$/i
const NUMBER = /\$?\d[\d,.]*\s?(?:%|x\b|k\b)?/g

/** Run every check; `passed` on all means the draft can go out. */
export function checkDraft(draft: Draft, brief: Brief): Check[] {
  return [length(draft, brief), placeholders(draft), claims(draft, brief), personalisation(draft, brief)]
}

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => /\w/.test(w)).length
}

function length(draft: Draft, brief: Brief): Check {
  const words = wordCount(draft.body)
  const min = Math.min(40, Math.floor(brief.maxWords / 2))
  const problems = [
    words > brief.maxWords ? `body has ${words} words, more than ${brief.maxWords}` : '',
    words < min ? `body has ${words} words, fewer than ${min}` : '',
    draft.subject.trim() === '' ? 'subject is empty' : '',
    draft.subject.length > 80 ? `subject has ${draft.subject.length} characters, more than 80` : '',
  ].filter(Boolean)
  return result('length', problems, `${words} words, subject ${draft.subject.length} characters`)
}

function placeholders(draft: Draft): Check {
  const found = [...`${draft.subject}\n${draft.body}`.matchAll(PLACEHOLDER)].map((m) => m[0])
  return result('placeholders', found.length ? [`unfilled: ${[...new Set(found)].join(', ')}`] : [], 'none left')
}

/** Sentences that make a claim (a number, a superlative) the product facts and lead facts do not back. */
export function unsupportedClaims(body: string, brief: Brief): string[] {
  const known = [...brief.product.facts, ...brief.hooks, brief.lead.company, brief.lead.city ?? ''].join(' ').toLowerCase()
  return sentences(body).filter((sentence) => {
    if (SIGN_OFF.test(sentence)) return false
    // Durations in the ask ("a 20-minute call") are not claims about the product.
    const claimText = sentence.replace(/\b\d+[- ]?(?:minutes?|min|hours?|days?|weeks?)\b/gi, '')
    const numbers = [...claimText.matchAll(NUMBER)].map((m) => m[0].trim().toLowerCase()).filter((n) => /\d/.test(n))
    if (numbers.some((n) => !known.includes(n.replace(/[.,]$/, '')))) return true
    const superlative = SUPERLATIVE.exec(sentence)?.[0]
    return superlative !== undefined && !known.includes(superlative.toLowerCase())
  })
}

function claims(draft: Draft, brief: Brief): Check {
  const unsupported = unsupportedClaims(draft.body, brief)
  return result(
    'claims',
    unsupported.map((s) => `not in the product facts: "${s}"`),
    'every claim is in the product facts',
  )
}

function personalisation(draft: Draft, brief: Brief): Check {
  const body = draft.body.toLowerCase()
  const named = body.includes(brief.firstName.toLowerCase())
  const specific = [brief.lead.company, ...brief.hooks].some((hook) => hook !== '' && body.includes(hook.toLowerCase()))
  const problems = [
    named ? '' : `does not greet ${brief.firstName} by name`,
    specific ? '' : `mentions nothing specific to ${brief.lead.company}`,
  ]
  return result('personalisation', problems.filter(Boolean), `greets ${brief.firstName}, mentions ${brief.lead.company}`)
}

function result(name: Check['name'], problems: string[], ok: string): Check {
  return { name, passed: problems.length === 0, detail: problems.length ? problems.join('; ') : ok }
}

export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean)
}
export function outline(brief: Brief): Draft {
  const { lead, product, firstName } = brief
  const news = lead.recentNews
  // Short and about them; 60, not 80, leaves room for a label such as the offline model's "[offline] ".
  const subject = clip(news ? `Quick idea for ${lead.company} after the news` : `Quick idea for ${lead.company}`, 60)
  const opener = news
    ? `I saw that ${lead.company} ${news}, congratulations.`
    : `I have been following ${lead.company}${lead.industry ? ` in ${lead.industry}` : ''}.`
  const pain = lead.notes?.[0]
  const why = pain
    ? `You mentioned that ${pain}; that is exactly where ${product.name} helps.`
    : `Teams like yours at ${lead.company} often tell us follow-up is where deals slip.`
  const facts = product.facts.slice(0, 2).map((fact) => `${product.name} ${fact}.`)
  const greeting = brief.tone === 'formal' ? `Dear ${firstName},` : `Hi ${firstName},`
  const ask =
    brief.tone === 'brief' ? 'Worth a 15-minute call next week?' : 'Would a 20-minute call next week be useful? If not, no worries at all.'
  const sign = [brief.tone === 'formal' ? 'Kind regards,' : 'Best,', brief.sender.name, brief.sender.title].filter(Boolean).join('\n')
  return { subject, body: [greeting, `${opener} ${why}`, facts.join(' '), ask, sign].join('\n\n') }
}

/** Fix what the checks found, without a model: drop unbacked claims and placeholders, trim, personalise. */
export function repair(draft: Draft, brief: Brief): Draft {
  const failed = new Set(
    checkDraft(draft, brief)
      .filter((c) => !c.passed)
      .map((c) => c.name),
  )
  let body = draft.body
  let subject = draft.subject
  if (failed.has('claims')) {
    for (const claim of unsupportedClaims(body, brief)) body = body.replace(claim, '')
  }
  if (failed.has('placeholders')) {
    const fill = (text: string) =>
      text
        .replace(/\[(?:first ?name|name)\]|<first[_ ]?name>|<name>|\{\{\s*(?:first_?name|name)\s*\}\}/gi, brief.firstName)
        .replace(/\[company\]|<company>|\{\{\s*company\s*\}\}/gi, brief.lead.company)
        .replace(/\{\{[^}]*\}\}|\[(?:[A-Z][\w ]*|\.\.\.)\]|\b(?:TODO|TBD|XXX|INSERT)\b/g, '')
    body = fill(body)
    subject = fill(subject)
  }
  if (failed.has('personalisation')) {
    const lines = body.split('\n')
    const greeting = /^(hi|hello|dear)\b/i.test(lines[0] ?? '') ? lines.shift() : undefined
    const hook = brief.hooks[0] ? ` I noticed ${brief.lead.company} ${brief.hooks[0]}.` : ''
    body = [`${greeting ?? `Hi ${brief.firstName},`}`, '', `Writing to you at ${brief.lead.company}.${hook}`, ...lines].join('\n')
  }
  if (failed.has('length')) {
    if (subject.length > 80) subject = clip(subject, 70)
    body = trimTo(body, brief.maxWords)
  }
  return {
    subject: subject.trim(),
    body: body
      .replace(/[ \t]+\n/g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/ {2,}/g, ' ')
      .trim(),
  }
}

// Drop sentences from the middle paragraphs, longest first; keep the greeting, the ask
// (the paragraph with a question) and the sign-off, and the paragraph breaks between them.
function trimTo(body: string, maxWords: number): string {
  const paragraphs = body.split(/\n{2,}/)
  const protectedAt = (i: number) => i === 0 || i === paragraphs.length - 1 || (paragraphs[i] ?? '').includes('?')
  const text = () => paragraphs.join('\n\n')
  while (wordCount(text()) > maxWords) {
    let at = -1
    let most = 0
    paragraphs.forEach((p, i) => {
      const n = sentences(p).length
      if (!protectedAt(i) && n > most) [at, most] = [i, n]
    })
    if (at < 0) {
      // Last resort: the ask keeps only its question.
      const ask = paragraphs.findIndex((p) => p.includes('?'))
      const question = ask < 0 ? undefined : sentences(paragraphs[ask] ?? '').find((p) => p.endsWith('?'))
      if (question === undefined || question === paragraphs[ask]) break
      paragraphs[ask] = question
      continue
    }
    const parts = sentences(paragraphs[at] ?? '')
    parts.pop()
    if (parts.length) paragraphs[at] = parts.join(' ')
    else paragraphs.splice(at, 1)
  }
  return text()
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/\s+\S*$/, '')}…`
}
